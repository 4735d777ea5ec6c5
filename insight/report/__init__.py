"""Report stage: measures (volume, trend, spikes, segment lift), ranked actions, exports and the weekly brief.

``measure`` holds the statistics, ``summary`` applies them to one run and writes its manifest, ``rank`` turns
themes into actions with evidence, ``export`` writes CSV/JSON/Jira/Markdown, ``brief`` gathers the weekly brief.
"""

from .brief import brief
from .export import FORMATS, export, neutralise, to_csv, to_jira, to_json, to_markdown, with_decisions
from .filters import filter_items, is_filtered
from .measure import (
    add_weeks,
    benjamini_hochberg,
    detect_spikes,
    escalation,
    group_stats,
    rating_effects,
    segment_lift,
    spike_tests,
    spike_weeks,
    weekly_volume,
)
from .polarity import NEGATIVE, POLARITIES, complaint_lean, polarity, rating_polarity, text_polarity
from .rank import (
    ACTION_COLUMNS,
    chosen_pockets,
    explain_impact,
    impact_score,
    pick_evidence,
    pocket_of,
    praised_themes,
    rank_actions,
)
from .review import agreement, cohen_kappa, compare_runs
from .summary import Measured, annotate, build_manifest, health, measure_run, pocket_stats, reason_table, self_check

__all__ = [
    "agreement", "chosen_pockets", "cohen_kappa", "compare_runs", "ACTION_COLUMNS", "FORMATS", "NEGATIVE",
    "POLARITIES", "Measured", "add_weeks", "annotate", "benjamini_hochberg", "brief", "build_manifest",
    "complaint_lean", "detect_spikes", "escalation", "explain_impact", "export", "filter_items", "group_stats",
    "health", "is_filtered", "impact_score", "measure_run", "neutralise", "pick_evidence", "pocket_of",
    "pocket_stats", "polarity", "praised_themes", "rank_actions", "rating_effects", "rating_polarity",
    "reason_table", "segment_lift", "self_check", "spike_tests", "spike_weeks", "text_polarity", "to_csv",
    "to_jira", "to_json", "to_markdown", "weekly_volume", "with_decisions",
]
