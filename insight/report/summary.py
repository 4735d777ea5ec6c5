"""Report stage, per run: annotate items (polarity, weeks), measure themes and causes, write the manifest.

``measure_run`` turns the tagged, themed items into what ranking and the review app read: per-theme statistics,
the theme table with its measures, segment lift with sentences, and weekly volume. Pure functions of frames.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import Config, MeasureConfig, Taxonomy
from ..provenance import now_iso, versions
from .measure import (
    GROUP_STAT_COLUMNS,
    add_weeks,
    dominant,
    escalation,
    group_stats,
    history,
    lift_sentence,
    own_cause_complaints,
    rating_effects,
    repeat_contact_rate,
    segment_lift,
    spike_tests,
    spike_weeks,
    value_at_risk,
    weekly_volume,
)
from .polarity import NEGATIVE, polarity
from .rank import language_themes as by_language

_THEME_MEASURES = [S.THEME, "recent_volume", "growth", "negative_share", "escalation_share", "spike_weeks",
                   "weekly_counts", "volume", "baseline_weekly", "recent_weekly", "wow_change"]


@dataclass
class Measured:
    """Everything ranking and the app need from the measures of one run."""

    theme_stats: pd.DataFrame  # one row per theme: volume, growth, severity inputs, label, root cause
    themes: pd.DataFrame  # the theme table with root-cause mix and measures (and an ``unthemed`` row)
    segments: pd.DataFrame  # significant lift per theme and per root cause, with its sentence
    theme_segments: pd.DataFrame  # the theme rows whose column may name who is behind an action
    cause_segments: pd.DataFrame  # the same for each root cause as a whole (``root_cause`` column)
    sentences: dict[str, str]  # theme id -> its strongest segment sentence
    cause_sentences: dict[tuple[str, str], str]  # (root cause, "column=value") -> sentence
    weekly: pd.DataFrame  # volume by week x root cause
    history: dict[str, Any]  # whether trends can be claimed, and if not, why (``measure.history``)
    # one row per sub-theme: its theme, the measures a theme has, its cause and names (``pocket_stats``)
    pockets: pd.DataFrame = field(default_factory=pd.DataFrame)


def annotate(items: pd.DataFrame, rating_range: Sequence[float] = (1, 5)) -> pd.DataFrame:
    """Polarity and escalation cues per item, and its week (1-based from the first week in the data). Polarity
    already given (the pipeline reads it with the encoder's lean before themes are named) is kept; the rest is
    read from the rating, else the text (``polarity``)."""
    out = items.copy()
    given = out[S.POLARITY].notna().to_numpy() if S.POLARITY in out else np.zeros(len(out), dtype=bool)
    if S.POLARITY not in out:
        out[S.POLARITY] = None
    out[S.POLARITY] = out[S.POLARITY].astype(object)
    if (~given).any():
        missing = out.loc[~given]
        out.loc[~given, S.POLARITY] = polarity(missing[S.CLEAN_TEXT], missing[S.RATING], rating_range)
    out[S.NEGATIVE] = out[S.POLARITY] == NEGATIVE
    out["escalation"] = escalation(out[S.CLEAN_TEXT])
    return add_weeks(out)


def measure_run(stored: pd.DataFrame, theme_table: pd.DataFrame, cfg: MeasureConfig, n_examples: int = 5,
                pockets: bool = True) -> Measured:
    """Theme and root-cause measures of the stored items, with segment lift rendered as sentences.

    Trends (growth, spikes, "since week N") are measured only where the history allows it (``history``).
    ``pockets``: measure each sub-theme too (``pocket_stats``); False where the items' sub-themes are not the
    theme table's (a weekly run names sub-themes from a sample, and measures its pockets itself).
    """
    known = history(stored, cfg.recent_weeks, cfg.min_baseline_weeks)
    trends = known["trends"]

    def spikes(by: str) -> dict[str, list[int]]:
        return spike_weeks(spike_tests(stored, by, cfg.segment_columns, cfg.recent_weeks, cfg.fdr), by) \
            if trends else {}

    theme_stats = group_stats(stored, S.THEME, cfg.recent_weeks, spikes(S.THEME), trends)
    theme_stats["repeat_contact_rate"] = theme_stats[S.THEME].map(repeat_contact_rate(stored, S.THEME))
    theme_stats["value_at_risk"] = theme_stats[S.THEME].map(value_at_risk(stored, S.THEME, cfg.recent_weeks))
    theme_table = _keyed(_with_unthemed(theme_table, stored, n_examples))
    theme_table = theme_table.merge(_keyed(_cause_mix(stored)), on=S.THEME, how="left").merge(
        _keyed(theme_stats[_THEME_MEASURES]), on=S.THEME, how="left").merge(
        _keyed(rating_effects(stored)[[S.THEME, "mean_rating", "rating_effect"]]), on=S.THEME, how="left")
    named = [c for c in [S.THEME, "label", "problem_label", S.ROOT_CAUSE] if c in theme_table]
    stats = theme_stats.merge(theme_table[named], on=S.THEME, how="left")
    if S.ROOT_CAUSE in stats:  # what the owner of each theme's cause holds of its complaints
        causes = dict(zip(stats[S.THEME], stats[S.ROOT_CAUSE]))
        stats = stats.merge(_keyed(own_cause_complaints(stored, S.THEME, causes, cfg.recent_weeks, trends)),
                            on=S.THEME, how="left")
    windows = dict(zip(stats[S.THEME], stats["spike_weeks"]))
    # the sentences say "complaints ... (n = 212)": where their complaints sit, not where a theme's praise does
    complaints = stored[stored[S.NEGATIVE].fillna(False).astype(bool)] if S.NEGATIVE in stored else stored
    by_theme = segment_lift(complaints, S.THEME, cfg.segment_columns, cfg.min_segment_n, windows=windows, fdr=cfg.fdr,
                            trends=trends)
    cause_stats = group_stats(stored, S.ROOT_CAUSE, cfg.recent_weeks, spikes(S.ROOT_CAUSE), trends)
    cause_windows = dict(zip(cause_stats[S.ROOT_CAUSE], cause_stats["spike_weeks"])) if len(cause_stats) else {}
    by_cause = segment_lift(complaints, S.ROOT_CAUSE, cfg.segment_columns, cfg.min_segment_n, windows=cause_windows,
                            fdr=cfg.fdr, trends=trends)
    segments = _sentences(by_theme, by_cause, theme_table)
    theme_segments = segments[(segments["level"] == "theme") & segments["column"].isin(cfg.cause_columns)]
    cause_level = segments[segments["level"] == "root_cause"]
    cause_sentences = {(g, f"{c}={v}"): t for g, c, v, t in
                       zip(cause_level["group_id"], cause_level["column"], cause_level["value"],
                           cause_level["sentence"])}
    return Measured(theme_stats=stats, themes=theme_table, segments=segments,
                    theme_segments=theme_segments.rename(columns={"group_id": S.THEME}),
                    cause_segments=cause_level[cause_level["column"].isin(cfg.cause_columns)].rename(
                        columns={"group_id": S.ROOT_CAUSE}),
                    sentences=theme_segments.groupby("group_id")["sentence"].first().to_dict(),
                    cause_sentences=cause_sentences, weekly=weekly_volume(stored, S.ROOT_CAUSE), history=known,
                    pockets=pocket_stats(stored, theme_table, cfg.recent_weeks, trends) if pockets else pd.DataFrame())


def pocket_stats(stored: pd.DataFrame, theme_table: pd.DataFrame, recent_weeks: int, trends: bool) -> pd.DataFrame:
    """Each sub-theme measured as a theme is (``group_stats``; no spike test of its own), with its theme, its
    cause read from its complaints (``_painful_cause``) and its names from the theme table. Ranking looks here for a
    pocket of complaints inside a theme too full of praise to rank: the itchy sweaters among sweater praise."""
    columns = [S.SUBTHEME, S.THEME, "label", "problem_label", S.ROOT_CAUSE, *GROUP_STAT_COLUMNS]
    if S.SUBTHEME not in stored or "subthemes" not in theme_table:
        return pd.DataFrame(columns=columns)
    parted = stored[stored[S.SUBTHEME].notna() & (stored[S.THEME] != S.UNTHEMED)]
    if not len(parted):
        return pd.DataFrame(columns=columns)
    stats = group_stats(parted, S.SUBTHEME, recent_weeks, {}, trends)
    stats[S.THEME] = stats[S.SUBTHEME].map(parted.groupby(S.SUBTHEME)[S.THEME].first())
    cause = _painful_cause(parted, S.SUBTHEME).set_index(S.SUBTHEME)
    stats[S.ROOT_CAUSE] = stats[S.SUBTHEME].map(cause[S.ROOT_CAUSE])
    names = {part["id"]: part for parts in theme_table["subthemes"] for part in _parts(parts)}
    stats["label"] = stats[S.SUBTHEME].map(lambda sub: names.get(sub, {}).get("label") or "")
    stats["problem_label"] = stats[S.SUBTHEME].map(lambda sub: names.get(sub, {}).get("problem_label"))
    return stats[columns]


def _parts(value: object) -> list[dict]:
    """A theme's sub-theme entries, however the table came (a list, or nothing for the unthemed row)."""
    return [p for p in value if isinstance(p, dict)] if isinstance(value, (list, tuple)) else []


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """Theme ids as text even in an empty table (pandas gives an empty column float64, and merging float64 with
    text ids fails: a run with nothing stored crashed here)."""
    return frame.astype({S.THEME: object}) if S.THEME in frame else frame


def _with_unthemed(theme_table: pd.DataFrame, stored: pd.DataFrame, n_examples: int) -> pd.DataFrame:
    """Items that fit no theme are a row of their own: shown, never hidden."""
    unthemed = stored[stored[S.THEME] == S.UNTHEMED]
    if not len(unthemed):
        return theme_table
    return pd.concat([theme_table, pd.DataFrame([{
        "theme_id": S.UNTHEMED, "label": "Unthemed (fits no theme yet)", "keywords": [], "key_phrases": [],
        "examples": S.by_content(unthemed, S.CLEAN_TEXT)[S.CLEAN_TEXT].head(n_examples).tolist(),
        "size": len(unthemed)}])], ignore_index=True)


def _cause_mix(stored: pd.DataFrame) -> pd.DataFrame:
    """Each theme's dominant root cause, its share, and the whole mix of causes.

    The dominant cause is taken from the theme's complaints where it has any: an action is about them, and the
    praise beside them ("agent was polite") names nothing to fix. Themes without complaints take it from all items.
    """
    mix = _painful_cause(stored, S.THEME)
    shares = stored.groupby(S.THEME)[S.ROOT_CAUSE].value_counts(normalize=True).round(3)
    present = set(shares.index.get_level_values(0))
    return mix.assign(root_cause_mix=mix[S.THEME].map(
        lambda t: {k: float(v) for k, v in shares.loc[t].items()} if t in present else {}))


def _painful_cause(stored: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group (a theme or a sub-theme), its dominant root cause and share, read from its complaints where it
    has any, else from all its items (``_cause_mix``)."""
    complaints = stored[stored[S.NEGATIVE].fillna(False).astype(bool)] if S.NEGATIVE in stored else stored.iloc[:0]
    mix = dominant(stored, by, S.ROOT_CAUSE)
    if len(complaints):
        painful = dominant(complaints, by, S.ROOT_CAUSE).set_index(by)
        hit = mix[by].isin(painful.index)
        for col in (S.ROOT_CAUSE, f"{S.ROOT_CAUSE}_share"):
            mix.loc[hit, col] = mix.loc[hit, by].map(painful[col]).to_numpy()
    return mix


def _sentences(by_theme: pd.DataFrame, by_cause: pd.DataFrame, theme_table: pd.DataFrame) -> pd.DataFrame:
    """Both lift tables in one frame (``level`` theme or root_cause), each row with its plain-English sentence."""
    # a theme's lift is of its complaints, so it goes by what they are about (the name its action carries)
    problems = theme_table.get("problem_label", theme_table["label"])
    labels = {t: p if isinstance(p, str) and p else label
              for t, p, label in zip(theme_table[S.THEME], problems, theme_table["label"])}
    causes = dict(zip(theme_table[S.THEME], theme_table[S.ROOT_CAUSE]))

    def subject(level: str, group: str) -> str:
        if level == "theme":
            return f"{str(causes.get(group, '')).replace('_', ' ')} complaints about \"{labels.get(group, group)}\""
        return f"{group.replace('_', ' ')} complaints"

    frames = []
    for level, frame, key in [("theme", by_theme, S.THEME), ("root_cause", by_cause, S.ROOT_CAUSE)]:
        f = frame.rename(columns={key: "group_id"})
        f.insert(0, "level", level)
        f["sentence"] = [lift_sentence(subject(level, g), r) for g, r in zip(f["group_id"], f.to_dict("records"))]
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def build_manifest(cfg: Config, taxonomy: Taxonomy, embedder: str, source: str, input_hash: str,
                   timings: dict[str, float], pii: dict[str, int], items: pd.DataFrame, theme_table: pd.DataFrame,
                   tagger: dict[str, Any], events: list[dict[str, Any]], history: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """What a run records about itself: inputs, config, versions, timings, accounting reasons, self-check."""
    stored = items[items[S.STATUS] == S.STORED]

    def reasons(status: str) -> dict[str, int]:
        return items.loc[items[S.STATUS] == status, S.REASON].value_counts().to_dict()

    return {
        "created_at": now_iso(), "input": source, "input_sha256": input_hash,
        "config": cfg.model_dump(mode="json"), "config_fingerprint": cfg.fingerprint(),
        "taxonomy": {"name": taxonomy.name, "version": taxonomy.version, "fingerprint": taxonomy.fingerprint()},
        "components": {"embedder": embedder, "clusterer": cfg.themes.backend, "tagger": cfg.tag.backend,
                       "store": cfg.store.backend},
        "seed": cfg.seed, "versions": versions(), "timings_s": timings, "pii_redactions": pii,
        "n_themes": int((theme_table[S.THEME] != S.UNTHEMED).sum()) if len(theme_table) else 0,
        "unthemed_share": round(float((stored[S.THEME] == S.UNTHEMED).mean()), 3) if len(stored) else 0.0,
        "needs_review_share": round(float(stored["needs_review"].astype(bool).mean()), 3) if len(stored) else 0.0,
        "non_actionable_reasons": reasons(S.NON_ACTIONABLE), "quarantine_reasons": reasons(S.QUARANTINED),
        "duplicate_reasons": reasons(S.DUPLICATE),
        "languages": stored[S.LANGUAGE].value_counts().to_dict() if S.LANGUAGE in items.columns else {},
        "self_check": self_check(stored), "tagger": tagger, "history": history,
        "health": health(items, theme_table, history or {}, cfg.clean.languages,
                         out_of_taxonomy=taxonomy.out_of_taxonomy, min_complaints=cfg.rank.min_complaints),
        "theme_event_counts": dict(Counter(e["event"] for e in events)),
    }


def self_check(stored: pd.DataFrame) -> dict[str, Any] | None:
    """Tagging accuracy against a ground-truth column when the input carries one (the demo does)."""
    if S.TRUTH not in stored.columns:
        return None
    known = stored[stored[S.TRUTH].notna() & (stored[S.TRUTH].astype(str) != "")]
    if known.empty:
        return None
    hit = known[S.ROOT_CAUSE].astype(str) == known[S.TRUTH].astype(str)
    per = hit.groupby(known[S.TRUTH]).mean().round(3).to_dict()
    return {"n": int(len(known)), "accuracy": round(float(hit.mean()), 4), "per_root_cause": per}


def reason_table(items: pd.DataFrame) -> pd.DataFrame:
    """Outcome x reason counts: the accounting behind ``read = stored + duplicates + ...``."""
    table = items.groupby([S.STATUS, items[S.REASON].fillna("-")]).size().rename("rows").reset_index()
    table.columns = ["outcome", "reason", "rows"]
    order = {s: i for i, s in enumerate(S.STATUSES)}
    return table.sort_values(["outcome", "rows"], key=lambda c: c.map(order) if c.name == "outcome" else -c
                             ).reset_index(drop=True)


_HANDLE = re.compile(S.HANDLE_PATTERN)


def health(items: pd.DataFrame, theme_table: pd.DataFrame, history: dict[str, Any], readable: Sequence[str] = ("en",),
           dominant: float = 0.6, out_of_taxonomy: str | None = None, min_complaints: int = 5) -> dict[str, Any]:
    """What limits this run's conclusions, in figures and in a few plain sentences (``notes``).

    Flags: no trends (and why); the share of rows that were praise only; the share of analysed items the tagger
    was unsure of; themes where one language the encoder does not read well makes up ``dominant`` of the items
    (they group by language, not by problem); themes where one @handle is named in ``dominant`` of the items (they
    group by brand); complaints in themes whose cause is the taxonomy's ``out_of_taxonomy`` cause (general anger,
    off-topic: themes, never actions); complaints in themes that no cause holds half of, which their actions (of
    the leading cause) leave out. An empty ``notes`` list means nothing to warn about.
    """
    stored = items[items[S.STATUS] == S.STORED]
    praise = float((items[S.REASON] == "praise_only").mean()) if len(items) else 0.0
    displeased = int((items[S.REASON] == "general_dissatisfaction").sum()) if len(items) else 0
    review = float(stored["needs_review"].fillna(False).astype(bool).mean()) if len(stored) else 0.0
    labels = dict(zip(theme_table[S.THEME], theme_table["label"])) if len(theme_table) else {}
    themed = stored[stored[S.THEME].notna() & (stored[S.THEME] != S.UNTHEMED)]
    language_themes = [{"theme_id": theme, "label": labels.get(theme, ""), "language": lang,
                        "share": round(share, 3)}
                       for theme, (lang, share) in by_language(stored, readable, dominant).items()]
    brand_themes = []
    # only texts with an @ can name a handle: a set per item for a million items cost 0.6 GB for nothing
    named = themed[themed[S.CLEAN_TEXT].fillna("").str.contains("@", regex=False).to_numpy()]
    sizes = themed[S.THEME].value_counts()
    for theme, g in named.groupby(S.THEME, sort=True):
        handles = g[S.CLEAN_TEXT].fillna("").map(lambda t: {h.lower().lstrip(".") for h in _HANDLE.findall(t)})
        counts = pd.Series([h for hs in handles for h in hs], dtype=object).value_counts()
        size = int(sizes[theme])
        if len(counts) and counts.iloc[0] / size >= dominant:
            brand_themes.append({"theme_id": theme, "label": labels.get(theme, ""), "handle": counts.index[0],
                                 "share": round(float(counts.iloc[0] / size), 3)})
    notes = []
    if history.get("reason"):
        notes.append(f"No trend claims: {history['reason']}.")
    if praise >= 0.2:
        notes.append(f"{_pct(praise)} of the rows were praise only: counted, never analysed as problems.")
    if displeased:
        notes.append(f"{displeased:,} items express dissatisfaction without naming a subject (\"very bad\", "
                     f"\"worst service\"): counted as general dissatisfaction, not grown into themes.")
    if review >= 0.25:
        notes.append(f"{_pct(review)} of the analysed items need review: the tagger was unsure of them.")
    for t in language_themes:
        notes.append(f"{t['theme_id']} \"{t['label']}\" is {_pct(t['share'])} in language '{t['language']}', which "
                     f"the model reads poorly: it groups by language rather than by problem, so it is not ranked as "
                     f"an action (read its items in their language).")
    details = items[S.DETAIL].value_counts() if S.DETAIL in items else pd.Series(dtype=int)
    undecodable, repaired = int(details.get("undecodable_bytes", 0)), int(details.get("encoding_repaired", 0))
    if undecodable:
        notes.append(f"{undecodable:,} rows held bytes that could not be decoded (shown as \ufffd): check the "
                     f"export's encoding; they are marked 'undecodable_bytes'.")
    if repaired:
        notes.append(f"{repaired:,} rows were mis-encoded (UTF-8 read as Windows-1252, \"didnâ€™t\") and were "
                     f"repaired; they are marked 'encoding_repaired'.")
    unfixable, mixed, split = [], [], []
    if len(theme_table) and S.ROOT_CAUSE in theme_table:
        negative = stored[S.NEGATIVE].fillna(False).astype(bool) if S.NEGATIVE in stored else pd.Series(False,
                                                                                                      stored.index)
        per_theme = stored[negative].groupby(S.THEME).size()
        shares = theme_table.get(f"{S.ROOT_CAUSE}_share", pd.Series(np.nan, theme_table.index))
        own = None  # each theme's complaints of its own cause, counted as ranking counts them (``rank.own_cause``)
        if S.ROOT_CAUSE in stored and S.NEGATIVE in stored:
            causes = dict(zip(theme_table[S.THEME], theme_table[S.ROOT_CAUSE]))
            own = own_cause_complaints(stored, S.THEME, causes, 1, trends=False).set_index(S.THEME)["cause_complaints"]
        for theme, cause, share in zip(theme_table[S.THEME], theme_table[S.ROOT_CAUSE], shares):
            if theme == S.UNTHEMED or per_theme.get(theme, 0) < min_complaints:
                continue
            if own is not None:
                share = own.get(theme, 0) / per_theme[theme]
            row = {"theme_id": theme, "label": labels.get(theme, ""), "complaints": int(per_theme[theme])}
            spread = pd.notna(share) and share < S.MIXED_BELOW
            if out_of_taxonomy is not None and cause == out_of_taxonomy and not spread:
                unfixable.append(row)
            elif out_of_taxonomy is not None and cause == out_of_taxonomy:
                # 'other' only leading a spread of causes ("Fraud sellers": 24 %) is not general anger
                mixed.append({**row, "share": round(float(share), 3)})
            elif spread:  # its action counts its own cause's complaints alone (``rank.own_cause``)
                split.append({**row, S.ROOT_CAUSE: str(cause), "share": round(float(share), 3),
                              "own": round(float(share) * row["complaints"])})
    if unfixable:
        n = sum(t["complaints"] for t in unfixable)
        named = ", ".join(f"{t['theme_id']} \"{t['label']}\"" for t in unfixable[:3])
        notes.append(f"{n:,} complaints sit in themes whose root cause is '{out_of_taxonomy}' ({named}"
                     f"{', ...' if len(unfixable) > 3 else ''}): they name nothing operational to fix (general "
                     f"anger, off-topic), so they are themes, not actions.")
    if mixed:
        mixed.sort(key=lambda t: -t["complaints"])
        named = ", ".join(f"{t['theme_id']} \"{t['label']}\" ({_pct(t['share'])})" for t in mixed[:3])
        notes.append(f"{sum(t['complaints'] for t in mixed):,} complaints sit in themes where no root cause holds "
                     f"half of them and '{out_of_taxonomy}' leads ({named}{', ...' if len(mixed) > 3 else ''}): "
                     f"they are not ranked; read them before deciding who owns them.")
    if split:
        split.sort(key=lambda t: -t["complaints"])
        named = ", ".join(f"{t['theme_id']} \"{t['label']}\" ({str(t[S.ROOT_CAUSE]).replace('_', ' ')} "
                          f"{_pct(t['share'])} of {t['complaints']:,})" for t in split[:3])
        others = sum(t["complaints"] - t["own"] for t in split)
        notes.append(f"In {len(split)} theme{'s' if len(split) > 1 else ''} no root cause holds half of the "
                     f"complaints ({named}{', ...' if len(split) > 3 else ''}): an action counts only the "
                     f"complaints of a theme's leading cause, so {others:,} others count in no action of their "
                     f"theme; read them before deciding who owns them.")
    for t in brand_themes:
        notes.append(f"{t['theme_id']} \"{t['label']}\": {_pct(t['share'])} of its items name {t['handle']}; it may "
                     f"group by brand rather than by problem.")
    return {"trends": bool(history.get("trends", True)), "praise_share": round(praise, 3),
            "general_dissatisfaction": displeased,
            "needs_review_share": round(review, 3), "language_themes": language_themes,
            "brand_themes": brand_themes, "out_of_taxonomy_themes": unfixable, "mixed_cause_themes": mixed,
            "split_cause_themes": split,
            "undecodable_rows": undecodable,
            "repaired_rows": repaired, "notes": notes}


def _pct(share: float) -> str:
    return f"{share * 100:.0f} %"
