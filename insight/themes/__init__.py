"""Themes stage: reduce + HDBSCAN on a bounded sample, assign everything, describe, keep ids stable.

``discovery`` is the clusterer, ``describe`` names themes (keywords, key phrases, examples, sub-themes),
``registry`` gives themes stable ids across runs and applies reviewers' edits, ``stage`` composes them.
"""

from .describe import ctfidf_keywords, describe_themes, key_phrases, rare_words, representatives, subthemes, theme_key
from .discovery import HDBSCANClusterer
from .forget import forget_words, renamed
from .layout import anchors, layout, place
from .registry import (
    Registry,
    absorb,
    assign_to_registry,
    incremental_assign,
    match,
    merge,
    move,
    rename,
    show_pinned_names,
    split,
    sticky,
)
from .stage import Discovery, Themes, discover, find_themes, merge_same_cause, name_by_cause

__all__ = [
    "Discovery", "HDBSCANClusterer", "Registry", "Themes", "absorb", "anchors", "assign_to_registry", "ctfidf_keywords",
    "describe_themes", "discover", "find_themes", "forget_words", "incremental_assign", "key_phrases", "layout",
    "match", "merge", "merge_same_cause", "move", "name_by_cause", "place", "rare_words", "rename", "renamed",
    "representatives", "show_pinned_names", "split", "sticky", "subthemes", "theme_key",
]
