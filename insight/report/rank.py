"""Rank improvement actions: an impact score per theme with its explanation, the playbook action and evidence.

Only pain makes an action. A theme is ranked when it has at least ``min_theme_size`` items, ``min_complaints``
negative ones, and a negative share of at least ``min_negative_share``: a theme of praise ("love / great / cute")
is counted and shown but never becomes an action, whatever its size. Its score counts its complaints:

impact = recent complaints x severity x sqrt(growth) x spike factor, where
  complaints = the theme's items whose polarity is negative (``report.polarity``); in a theme that no root cause
               holds half of, only those of its leading cause, the one its action's owner fixes (``own_cause``)
  severity   = 1 + escalation share  (1 .. 2)
  growth     = (recent weekly rate + 1) / (baseline weekly rate + 1)
  spike      = 1 + 0.5 per spike week in the recent window.
Without trends (no timestamps, or too little history) it is complaints x severity. Every factor is stored beside
the score so a reviewer can see why an action ranks where it does, with a 90 % bootstrap interval of the same
quantity (for an action that merges themes, of their sum). Evidence quotes come from the complaints only.

A segment (a carrier, a payment provider) is named only when it is over-represented in the theme *and* accounts
for most of its complaints (in its spike weeks when it has some): a segment that is merely more common than
elsewhere, at 26 of 154 items, does not title an action. Where trends can be measured, themes of one root cause
that point at the same segment are one incident with one owner: they become one action whose impact is their sum,
listing the themes it covers. A theme too small for a lift test of its own points at a segment when its root cause
as a whole is lifted there since some week and, since then, that segment holds most of the theme's complaints
(``incident``): an incident is written in many wordings, and each wording alone is a small theme. Without dated
history they stay separate actions. Themes whose actions would carry the same title for the same owner ("Solve my
problem: fix support responsiveness") are always one action, and so are titles that differ only in word order,
endings, words without content and a support queue's synonyms ("Issue not resolved", "Resolve the issue", "Solve my
problem").
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable, Hashable, Sequence

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import Playbook, PlaybookVariant, RankConfig, RootCause, Taxonomy
from ..lexicon import NAMING_WORDS, NEGATIONS
from .measure import lift_sentence
from .polarity import warm

DOMINANT = 0.6  # a language or a handle this common in a theme is what holds it together
MIN_KNOWN = 0.5  # the share of a theme's items whose language must be known for the others to be left out

ACTION_COLUMNS = [
    "rank", "theme_id", "theme_label", "root_cause", "owner", "title", "steps", "impact", "explanation",
    "segment", "segment_sentence", "volume", "complaints", "recent_volume", "growth", "spike_weeks", "evidence",
    "status", "related_themes",
]


def impact_score(row: dict) -> tuple[float, dict]:
    """The impact of one theme and its explanation. A theme without a growth figure (no trends: no timestamps or
    too little history) ranks on its complaints and severity alone, and its explanation claims no growth."""
    severity = 1.0 + float(row["escalation_share"])
    spike = 1.0 + 0.5 * len(row.get("spike_weeks") or [])
    common = {"volume": int(row["volume"]), "complaints": int(row["complaints"]),
              "negative_share": round(float(row["negative_share"]), 3), "severity": round(severity, 3),
              "repeat_contact_rate": _num(row.get("repeat_contact_rate")),
              "value_at_risk": _num(row.get("value_at_risk"))}
    if row.get("theme_complaints"):  # a theme spread over causes: only its own cause's complaints count
        common.update(theme_complaints=int(row["theme_complaints"]), counted_cause=str(row.get(S.ROOT_CAUSE, "")))
    if _num(row.get("growth")) is None:
        impact = float(row["complaints"]) * severity
        explanation = {**common, "spike_factor": 1.0, "formula": "complaints x severity"}
    else:
        growth = max(float(row["growth"]), 0.0)
        impact = float(row["recent_complaints"]) * severity * math.sqrt(growth) * spike
        explanation = {**common, "recent_complaints": int(row["recent_complaints"]), "growth": round(growth, 3),
                       "spike_factor": spike,
                       "formula": "recent_complaints x severity x sqrt(growth) x spike_factor"}
    explanation["impact_interval_90"] = interval(impact_draws(row, severity, spike), impact)
    return round(impact, 3), explanation


def own_cause(row: dict) -> dict:
    """A theme's row as its action counts it: where its own cause holds less than ``MIXED_BELOW`` of its complaints
    (``cause_complaints``, from ``measure.own_cause_complaints``), only those, with the theme's count kept beside.

    Real CSAT remarks: "Cancelled by seller: fix stock availability" ranked #11 on 181 complaints, of which 49 were
    stock (the rest sellers' delivery failures, refunds and payments), and "Shopping app: repair the checkout flow"
    on 95, of which 25 were checkout. The action goes to one owner, whose title, label and quotes already come from
    that cause's complaints; its impact now does too. The others stay in the theme and in their causes' figures.
    A pocket (a sub-theme's row, ``pocket_stats``) carries no such count and is ranked on all its complaints: it is
    read as one problem inside a theme of praise."""
    own = _num(row.get("cause_complaints"))
    theme = int(row["complaints"])
    if own is None or not theme or own >= S.MIXED_BELOW * theme:
        return row
    recent = _num(row.get("recent_cause_complaints"))
    return {**row, "complaints": int(own), "theme_complaints": theme,
            "recent_complaints": int(recent) if recent is not None else min(int(own), int(row["recent_complaints"]))}


def explain_impact(impact: float, e: dict) -> str:
    """An action's impact in words, from ``impact_score``'s explanation: what was multiplied, and how sure it is."""
    if not isinstance(e, dict) or not e:
        return f"impact {impact:.0f}"
    severity = e.get("severity", 1.0)
    parts = [f"{e['recent_complaints']:,} complaints in the recent weeks" if "recent_complaints" in e
             else f"{e.get('complaints', 0):,} complaints"]
    parts.append(f"severity {severity:.2f} ({(severity - 1):.0%} threaten to leave, dispute or go public)")
    if "growth" in e:
        parts.append(f"the square root of growth {e['growth']:.1f}x")
        if e.get("spike_factor", 1.0) > 1:
            parts.append(f"spike factor {e['spike_factor']:.1f}")
    text = f"impact {impact:.0f} = " + " x ".join(parts)
    if "growth" not in e:
        text += " (no growth figure: not enough dated history)"
    low_high = e.get("impact_interval_90")
    if isinstance(low_high, (list, tuple)) and len(low_high) == 2:
        text += f"; 90 % interval {low_high[0]:.0f}-{low_high[1]:.0f}"
    if e.get("theme_complaints"):
        cause = str(e.get("counted_cause") or "leading cause's").replace("_", " ")
        text += (f"; only the theme's {cause} complaints count, {e.get('complaints', 0):,} of its "
                 f"{e['theme_complaints']:,}: the others are spread over other root causes")
    if e.get("repeat_contact_rate"):
        text += f"; {e['repeat_contact_rate']:.0%} of these customers wrote more than once"
    if e.get("subtheme"):
        text += (f"; the complaints of sub-theme {e['subtheme']}, inside a theme that is mostly praise "
                 f"({e.get('theme_negative_share', 0):.0%} complaints)")
    return text


def pocket_of(explanation: object) -> str | None:
    """The sub-theme an action is about when it is a pocket of complaints inside a theme of praise, else None."""
    return (explanation.get("subtheme") or None) if isinstance(explanation, dict) else None


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 3)


def impact_draws(row: dict, severity: float, spike: float, n: int = 400) -> np.ndarray:
    """Bootstrap draws of a theme's impact: complaints and baseline volume redrawn as Poisson counts, the
    escalation share as binomial. Each theme draws from its own seeded stream (its id), so the draws of several
    themes are independent and add up to the draws of an action that merges them."""
    rng = np.random.default_rng(zlib.crc32(str(row.get(S.THEME, "")).encode()))
    esc = float(row["escalation_share"])
    trends = _num(row.get("growth")) is not None
    complaints = rng.poisson(max(float(row["recent_complaints" if trends else "complaints"]), 0.0), n).astype(float)
    sev = 1.0 + rng.binomial(np.maximum(complaints.astype(int), 1), esc) / np.maximum(complaints, 1)
    if not trends:  # complaints x severity
        return complaints * sev
    recent = rng.poisson(max(float(row["recent_volume"]), 0.0), n).astype(float)
    weeks_recent = max(float(row["recent_volume"]) / max(float(row.get("recent_weekly") or 0) or 1.0, 1e-9), 1.0)
    base = rng.poisson(float(row.get("baseline_weekly") or 0.0) * 8, n) / 8  # about eight baseline weeks
    growth = (recent / weeks_recent + 1) / (base + 1)
    return complaints * sev * np.sqrt(growth) * spike


def interval(draws: np.ndarray, estimate: float) -> list[float]:
    """The 90 % percentile interval of ``draws``, stretched to hold the ``estimate`` itself: with few items the
    bootstrap can be lopsided, and an impact outside its own interval would read as a contradiction."""
    lo, hi = float(np.percentile(draws, 5)), float(np.percentile(draws, 95))
    return [round(min(lo, estimate), 2), round(max(hi, estimate), 2)]


def language_themes(items: pd.DataFrame, readable: Sequence[str], dominant: float = DOMINANT
                    ) -> dict[str, tuple[str, float]]:
    """Themes where one language the encoder does not read well (not in ``readable``) makes up ``dominant`` of
    the items whose language is known: theme -> (language, share). Such a theme groups by language, not by problem.

    Remarks too short for any language to be told ("und": "mast h", "Acha lga") say nothing either way, so they are
    left out of the share, as long as the known ones are at least ``MIN_KNOWN`` of the theme; otherwise every item
    counts (a theme of one-word remarks is not judged by its few long ones)."""
    if S.LANGUAGE not in items.columns or S.THEME not in items.columns:
        return {}
    themed = items[items[S.THEME].notna() & (items[S.THEME] != S.UNTHEMED)]
    out = {}
    for theme, langs in themed.groupby(S.THEME, sort=True)[S.LANGUAGE]:
        known = langs[langs != "und"]
        top = (known if len(known) >= MIN_KNOWN * len(langs) else langs).value_counts(normalize=True)
        if len(top) and top.index[0] not in (*readable, "und") and top.iloc[0] >= dominant:
            out[str(theme)] = (str(top.index[0]), float(top.iloc[0]))
    return out


def rank_actions(theme_stats: pd.DataFrame, segments: pd.DataFrame, items: pd.DataFrame, taxonomy: Taxonomy,
                 cfg: RankConfig, segment_sentences: dict[str, str] | None = None,
                 cause_sentences: dict[tuple[str, str], str] | None = None,
                 readable: Sequence[str] | None = None, cause_segments: pd.DataFrame | None = None,
                 pockets: pd.DataFrame | None = None) -> pd.DataFrame:
    """One proposed action per ranked theme, highest impact first.

    ``readable``: the languages the encoder reads well (``clean.languages``); a theme dominated by another
    language is left out (its cause and label are guesses; the run health names it). None: no such check.
    ``cause_segments``: each root cause's significant segment lift since a week (``root_cause``, ``column``,
    ``value``, ``since_week``): an incident that spread over themes too small to test one by one still names
    its segment in each theme it dominates (``incident``).
    ``pockets``: each sub-theme's measures (``report.pocket_stats``). A theme too full of praise to rank (below
    ``min_negative_share``) can hold a sub-theme that is mostly complaints, the itchy sweaters among sweater
    praise: its largest such pocket (a share of at least ``min_pocket_share``) is an action of its own, titled by
    what its complaints say and quoting them alone. Without it, whether such a problem became an action hung on
    whether the clustering happened to split it off as a theme.
    """
    if theme_stats.empty:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    by_language = set(language_themes(items, readable)) if readable is not None else set()
    eligible = theme_stats[(theme_stats[S.THEME] != S.UNTHEMED) & (theme_stats["volume"] >= cfg.min_theme_size)
                           & (theme_stats["complaints"] >= cfg.min_complaints)
                           & (theme_stats["negative_share"] >= cfg.min_negative_share)
                           # nothing operational to fix (general anger, praise, off-topic): a theme, not an action
                           & (theme_stats[S.ROOT_CAUSE].astype(object) != taxonomy.out_of_taxonomy)
                           & ~theme_stats[S.THEME].astype(str).isin(by_language)]
    complaints = items[items[S.NEGATIVE].fillna(False).astype(bool)]
    rows = []
    in_praise = _pockets(theme_stats, pockets, by_language, taxonomy, cfg)
    for row in [*eligible.to_dict("records"), *in_praise]:
        row = own_cause(row)
        if row["complaints"] < cfg.min_complaints:
            continue
        impact, why = impact_score(row)
        cause = row[S.ROOT_CAUSE]
        rc = _root_cause(taxonomy, cause)
        pocket = row.get(S.SUBTHEME)
        mine = complaints[complaints[S.SUBTHEME] == pocket] if pocket else \
            complaints[complaints[S.THEME] == row[S.THEME]]
        if row.get("theme_complaints"):  # a spread theme: who is behind its own cause's complaints
            mine = _of_cause(mine, cause)
        lifted = segments[segments[S.THEME] == row[S.THEME]]
        seg_row = behind(mine, lifted, list(row.get("spike_weeks") or []))
        if seg_row is None and not pocket and cause_segments is not None and len(cause_segments):
            seg_row = incident(complaints, row[S.THEME], cause_segments[cause_segments[S.ROOT_CAUSE] == cause],
                               cfg.min_complaints)
        segment = f"{seg_row['column']}={seg_row['value']}" if seg_row else ""
        problem = row.get("problem_label")  # what its complaints are about, where the theme names more than that
        problem = problem if isinstance(problem, str) and problem else row["label"]
        if pocket:  # a pocket in a theme of praise: what it says, and where it sits in the theme table
            why.update(subtheme=pocket, theme_negative_share=row["theme_negative_share"])
        title = titled(rc.playbook.title, problem, segment)
        rows.append({
            "theme_id": row[S.THEME], "theme_label": row.get("theme_label", row["label"]), "root_cause": cause,
            "owner": rc.owner,
            "title": title, "steps": list(rc.playbook.steps), "impact": impact, "explanation": why,
            # the lift of the segment the title names, else the theme's strongest one (still worth a line)
            "segment": segment, "segment_sentence": _pocket_sentence(row["theme_label"], seg_row, lifted) if pocket
            else (seg_row.get("sentence") or "") if seg_row else (segment_sentences or {}).get(row[S.THEME], ""),
            "volume": int(row["volume"]), "complaints": int(row["complaints"]),
            "recent_volume": int(row["recent_volume"]), "growth": _num(row["growth"]),
            "spike_weeks": list(row.get("spike_weeks") or []), "status": "proposed", "_segment": seg_row,
            "_quoted": {(S.SUBTHEME, pocket) if pocket else (S.THEME, row[S.THEME])}, "_problem": problem,
            "_draws": impact_draws(row, why["severity"], why["spike_factor"]),
        })
    if not rows:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    ordered = sorted(rows, key=lambda r: (-r["impact"], r["theme_id"]))
    # without dated history there is no incident to fold themes into: a segment shared by themes (a product
    # category in reviews) is structure, and its fabric, sizing and zip problems stay separate actions
    merged = [{**r, "related_themes": []} for r in ordered]
    if theme_stats["growth"].notna().any():  # one incident: the same root cause in the same segment
        merged = _merge_by(merged, lambda r: (r["root_cause"], r["segment"]) if r["segment"] else None)
    # one ticket for one team: themes a CX lead would call by one name ("Solve my problem: fix support
    # responsiveness", once from "Not solve my issue", once from "Please solve my problem"), trends or not
    merged = _merge_by(merged, lambda r: (title_words(r["title"]), r["owner"]))
    for r in merged:
        # an action spanning several themes is about the root cause in that segment: say so, with its full n
        wider = (cause_sentences or {}).get((r["root_cause"], r["segment"]))
        if r["related_themes"] and wider:
            r["segment_sentence"] = wider
        quoted, problem = _quoted(complaints, r.pop("_quoted")), r.pop("_problem")
        rc = _root_cause(taxonomy, r["root_cause"])
        variant, share = choose_playbook(rc.playbook, _of_cause(quoted, r["root_cause"])[S.CLEAN_TEXT])
        if variant is not None:  # what these complaints need done, where its cause's playbook is too general
            r.update(title=titled(variant.title, problem, r["segment"]), steps=list(variant.steps or rc.playbook.steps))
            r["explanation"]["playbook_share"] = round(share, 3)
        r["evidence"] = pick_evidence(quoted, [r["theme_id"], *r["related_themes"]], r.pop("_segment"),
                                      r["spike_weeks"], cfg.n_evidence, r["root_cause"], says=title_says(problem),
                                      fits=variant.matcher() if variant is not None else None)
        draws = r.pop("_draws")
        if r["related_themes"]:  # the interval of the sum the action reports, not of its first theme
            r["explanation"]["impact_interval_90"] = interval(draws, r["impact"])
    out = pd.DataFrame(merged).sort_values(["impact", "theme_id"], ascending=[False, True], kind="stable")
    out = out.head(cfg.max_actions).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[ACTION_COLUMNS]


def titled(template: str, problem: str, segment: str) -> str:
    """An action's title from a playbook's: what and where first ("Parcel is stuck (carrier Parcelo): escalate with
    the carrier or warehouse"), unless the playbook's title places the segment itself."""
    column, _, value = segment.partition("=")
    where = f"{problem} ({column.replace('_', ' ')} {value})" if segment and "{segment}" not in template else problem
    return template.format(theme=where, segment=segment or "all segments")


def choose_playbook(playbook: Playbook, texts: pd.Series) -> tuple[PlaybookVariant | None, float]:
    """The variant of ``playbook`` that an action's complaints (``texts``, of its cause) call for, with the share
    of them that match it: the one most of them match among those at least its ``min_share`` match; else None
    (the cause's own playbook). Real CSAT remarks: 11 of 25 actions were Customer Service Operations', all with
    one playbook ("add staffing or overflow") for dropped calls, unreachable support, requests for support in
    Telugu and unsolved cases alike."""
    if not len(texts) or not playbook.variants:
        return None, 0.0
    texts = texts.fillna("").astype(str)
    best, best_share = None, 0.0
    for variant in playbook.variants:
        share = float(texts.map(variant.matcher().search).notna().mean())
        if share >= variant.min_share and share > best_share:
            best, best_share = variant, share
    return best, best_share


def _root_cause(taxonomy: Taxonomy, cause: str) -> RootCause:
    """The taxonomy's entry for ``cause``; a cause it no longer holds gets its last cause's (owner, playbook)."""
    return taxonomy.root_causes.get(cause) or taxonomy.root_causes[taxonomy.keys[-1]]


def _of_cause(complaints: pd.DataFrame, cause: str) -> pd.DataFrame:
    """The complaints tagged ``cause`` (all of them where the frame carries no causes): another cause's words
    never choose this cause's playbook."""
    return complaints[complaints[S.ROOT_CAUSE] == cause] if S.ROOT_CAUSE in complaints else complaints


def _pocket_sentence(theme_label: str, seg_row: dict | None, lifted: pd.DataFrame) -> str:
    """A pocket's segment sentence: the lift is its theme's (the segment its title names, else the theme's
    strongest), so it says so under the theme's name; the sentence measured for the theme names the theme's own
    complaints, a third name beside the pocket's title and the theme's label."""
    lift = seg_row or (lifted.iloc[0].to_dict() if len(lifted) and "lift" in lifted else None)
    return lift_sentence(f'complaints in the theme "{theme_label}"', lift) if lift else ""


def _pockets(theme_stats: pd.DataFrame, pockets: pd.DataFrame | None, by_language: set, taxonomy: Taxonomy,
             cfg: RankConfig) -> list[dict]:
    """The pocket actions (see ``rank_actions``): per theme that only its praise kept off the list, its sub-theme
    with the most complaints among those that are big, painful and operational enough, as a row ranked like a
    theme's (its own measures, cause and problem label; the theme's id and label)."""
    praised = praised_themes(theme_stats, cfg)
    praised = praised[~praised[S.THEME].astype(str).isin(by_language)]
    by_id = praised.set_index(S.THEME)
    rows = []
    for row in chosen_pockets(praised, pockets, taxonomy, cfg).to_dict("records"):
        theme = by_id.loc[row[S.THEME]]
        rows.append({**row, "theme_label": theme["label"], "theme_negative_share": float(theme["negative_share"]),
                     "label": row["problem_label"] if isinstance(row["problem_label"], str) and row["problem_label"]
                     else theme["label"]})
    return rows


def praised_themes(theme_stats: pd.DataFrame, cfg: RankConfig) -> pd.DataFrame:
    """The themes only their praise keeps off the list, with complaints enough for a pocket: where
    ``rank_actions`` looks for one (and a weekly run splits every item into sub-themes to find it)."""
    if cfg.min_pocket_share is None or not len(theme_stats):
        return theme_stats.iloc[:0]
    return theme_stats[(theme_stats[S.THEME] != S.UNTHEMED) & (theme_stats["volume"] >= cfg.min_theme_size)
                       & (theme_stats["complaints"] >= cfg.min_complaints)
                       & (theme_stats["negative_share"] < cfg.min_negative_share)]


def chosen_pockets(praised: pd.DataFrame, pockets: pd.DataFrame | None, taxonomy: Taxonomy, cfg: RankConfig
                   ) -> pd.DataFrame:
    """Per theme of ``praised`` (``praised_themes``), its sub-theme with the most complaints among those big,
    painful and operational enough to be an action (rows of ``pockets``, from ``report.pocket_stats``)."""
    if pockets is None or not len(pockets) or cfg.min_pocket_share is None:
        return pd.DataFrame(columns=[S.SUBTHEME, S.THEME])
    found = pockets[pockets[S.THEME].isin(praised[S.THEME]) & (pockets["volume"] >= cfg.min_theme_size)
                    & (pockets["complaints"] >= cfg.min_complaints)
                    & (pockets["negative_share"] >= cfg.min_pocket_share)
                    & pockets[S.ROOT_CAUSE].notna()
                    & (pockets[S.ROOT_CAUSE].astype(object) != taxonomy.out_of_taxonomy)]
    found = found.sort_values(["complaints", S.SUBTHEME], ascending=[False, True], kind="stable")
    return found.drop_duplicates(S.THEME)


def _quoted(complaints: pd.DataFrame, keys: set[tuple[str, str]]) -> pd.DataFrame:
    """The complaints an action may quote: its themes', or its pockets' alone (never a praise theme's others)."""
    hit = np.zeros(len(complaints), dtype=bool)
    for column, value in keys:
        if column in complaints:
            hit |= (complaints[column] == value).to_numpy()
    return complaints[hit]


def _merge_by(rows: list[dict], key: Callable[[dict], Hashable | None]) -> list[dict]:
    """Fold each action into the first (highest-impact) one with the same ``key``; None: never folded."""
    kept: dict[Hashable, dict] = {}
    out = []
    for r in rows:  # highest impact first
        k = key(r)
        if k is not None and k in kept:
            _fold(kept[k], r)
            continue
        if k is not None:
            kept[k] = r
        out.append(r)
    return out


def _fold(head: dict, r: dict) -> None:
    """``r`` (and the themes it already covers) becomes part of ``head``: impacts, draws and counts add up."""
    head["related_themes"] += [r["theme_id"], *r["related_themes"]]
    head["impact"] = round(head["impact"] + r["impact"], 3)
    head["_draws"] = head["_draws"] + r["_draws"]
    head["_quoted"] |= r["_quoted"]
    head["volume"] += r["volume"]
    head["complaints"] += r["complaints"]
    head["recent_volume"] += r["recent_volume"]
    head["spike_weeks"] = sorted(set(head["spike_weeks"]) | set(r["spike_weeks"]))
    head["explanation"].setdefault("merged", []).append({"theme_id": r["theme_id"], "impact": r["impact"]})
    head["explanation"]["merged"] += r["explanation"].get("merged", [])


def behind(complaints: pd.DataFrame, lifted: pd.DataFrame, weeks: list[int], dominant: float = 0.5,
           min_lift: float = 1.5) -> dict | None:
    """The segment behind a theme: the first clearly over-represented one (``lifted``, strongest first, at least
    ``min_lift`` times its share elsewhere: the largest carrier is somewhat over-represented in most themes just
    by chance) that also accounts for at least ``dominant`` of the theme's complaints (in its spike weeks, if any;
    a complaint without that column counts against it). None when no segment both stands out and dominates: the
    action then names none."""
    pool = complaints[complaints[S.WEEK].isin(weeks)] if weeks else complaints
    for seg in lifted.to_dict("records"):
        if len(pool) and seg["column"] in pool.columns and float(seg.get("lift", 0)) >= min_lift and \
                (pool[seg["column"]].astype(str) == seg["value"]).mean() >= dominant:
            return seg
    return None


def incident(complaints: pd.DataFrame, theme: str, lifted: pd.DataFrame, min_n: int, dominant: float = 0.5,
             min_lift: float = 1.5) -> dict | None:
    """The segment of its root cause's lift (``lifted``: the cause's significant segments since a week, strongest
    first) that a theme is part of. An incident spreads over themes by wording ("parcel is stuck", "went to the
    depot", "anniversary gift late"), each too small for a lift test of its own; the cause-wide test says the
    incident is real, and a theme belongs to it when, since the lift began, at least ``min_n`` and ``dominant``
    of its complaints are in the segment, ``min_lift`` times its share of the other themes' complaints that name
    a value there (the largest carrier dominates many themes by its size alone). None when no segment qualifies,
    or without weeks."""
    mine = (complaints[S.THEME] == theme).to_numpy()
    for seg in lifted.to_dict("records"):
        since, column = seg.get("since_week"), seg["column"]
        if since is None or pd.isna(since) or column not in complaints.columns:
            continue
        hit = (complaints[column].astype(str) == str(seg["value"])).to_numpy()
        known = (complaints[column].notna() & (complaints[column].astype(str) != "")).to_numpy()
        window = mine & (complaints[S.WEEK] >= since).to_numpy()  # a complaint without the column counts against
        n, elsewhere = int(window.sum()), (hit[~mine].sum() + 0.5) / ((~mine & known).sum() + 1)
        if n and hit[window].sum() >= min_n and hit[window].mean() >= max(dominant, min_lift * elsewhere):
            return seg
    return None


EVIDENCE_WORDS = 4  # a quote this long says what went wrong; "Refund" only names the theme again
EVIDENCE_OVERLAP = 0.75  # share of a quote's content words that, held by a quote already picked, leaves it nothing new
EVIDENCE_WINDOW = 50  # the most typical complaints a preferred quote is drawn from


def pick_evidence(items: pd.DataFrame, theme_ids: list[str], segment: dict | None, weeks: list[int],
                  n: int, cause: str | None = None, says: frozenset[str] = frozenset(),
                  fits: re.Pattern | None = None) -> list[str]:
    """Typical, distinct quotes of the themes, taken from their segment and spike weeks when they have them, and
    first from the complaints tagged ``cause`` (the action's root cause), the others filling what those leave: a
    theme can hold two causes' complaints (sizes that run small, sizes sold out), and the team that owns the
    action is asked about its own. ``rank_actions`` hands it the complaints only, so praise is never quoted as
    evidence of a problem.

    The most typical remarks are often the shortest ("Refund") or one sentence in several wordings ("My issue not
    resolved", "My issue is not resolved yet"), which tell a CX lead nothing the theme's name does not. So among
    the ``EVIDENCE_WINDOW`` most typical, quotes of ``EVIDENCE_WORDS`` words or more come first, and a quote is
    passed over when one already picked holds ``EVIDENCE_OVERLAP`` of its content words (read as titles read them:
    "problem not solved" says what "issue not resolved" said, ``SAME_STEM``). Among those, remarks that read as
    complaints on their face come before warm ones that name no problem outright (``polarity.warm``: "instant
    problem resolving" is praise the polarity rule calls a complaint by its weak cue). Where too few such
    quotes exist, the most typical distinct ones fill the list, short or not. ``says``: the words the action's
    title names its problem by (``title_says``); at each step, quotes that say them together
    (``says_together``) come first, so a title and its quotes agree ("Runs small" quoted "Runs large" from a
    theme of sizes that run both ways). ``fits``: the pattern of the playbook variant the action took
    (``PlaybookVariant.matcher``); among quotes alike in that, those it matches come next, so the quotes show why the
    playbook was chosen (CSAT "Delivery agent: hold delivery partners to account" quoted "It was very nice to talk
    to the customer care agent but my delivery problem was not solved" first, which is about no rider)."""
    pool = items[items[S.THEME].isin(theme_ids)]
    narrowed = pool
    if segment is not None:
        narrowed = narrowed[narrowed[segment["column"]].astype(str) == segment["value"]]
    if weeks:
        narrowed = narrowed[narrowed[S.WEEK].isin(weeks)]
    if len(narrowed) >= n:
        pool = narrowed
    # ties (similarities are rounded) go by the text: ids of rows without one are keyed by the home's own key
    pool = pool.sort_values([S.THEME_SIM, S.CLEAN_TEXT, S.ID], ascending=[False, True, True], kind="stable")
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    candidates, seen, saying, fitting = [], set(), set(), set()
    for text in pool[S.CLEAN_TEXT]:
        words = re.findall(r"[a-z0-9]+", text.lower())
        key = " ".join(words[:10])  # the same message with a different ending
        if key not in seen:
            seen.add(key)  # what a quote says is in its content words ("my issue is not resolved": issue, resolved)
            read = [same_word(w) for w in words]
            content = {r for w, r in zip(words, read) if w not in ENGLISH_STOP_WORDS} or set(read)
            candidates.append((text, content, len(words)))
            if says and says_together(["not" if w in NEGATIONS else r for w, r in zip(words, read)], says):
                saying.add(text)
            if fits is not None and fits.search(text):
                fitting.add(text)
    picked: list[tuple[str, set[str], int]] = []

    def new(words: set[str]) -> bool:  # a quote whose words were mostly said already adds nothing
        return all(len(words & w) < EVIDENCE_OVERLAP * max(len(words), 1) for _, w, _ in picked)

    # a complaint the customer rated (its rating was no praise) is one whatever its words; warmth is doubtful only
    # where the text alone decided
    rated = set(pool.loc[pool[S.RATING].notna(), S.CLEAN_TEXT]) if S.RATING in pool.columns else set()
    owned = set(pool.loc[pool[S.ROOT_CAUSE].astype(object) == cause, S.CLEAN_TEXT]) \
        if cause is not None and S.ROOT_CAUSE in pool.columns else None
    scopes = [[c for c in candidates if c[0] in owned], candidates] if owned else [candidates]
    windows = [scope[:EVIDENCE_WINDOW] for scope in scopes]
    doubtful = list({c[0] for window in windows for c in window if c[0] not in rated})
    plain = {c[0] for window in windows for c in window} - {t for t, w in zip(doubtful, warm(doubtful)) if w}

    for scope, window in zip(scopes, windows):  # the action's own cause's complaints first, while they say new things
        passes = [(window, lambda c: c[0] in plain and c[2] >= EVIDENCE_WORDS and new(c[1])),
                  (window, lambda c: c[2] >= EVIDENCE_WORDS and new(c[1])), (scope, lambda c: new(c[1]))]
        if scope is candidates:
            passes.append((candidates, lambda c: True))
        for group, keep in passes:
            # stable: typical first among those alike
            for c in sorted(group, key=lambda c: (c[0] not in saying, c[0] not in fitting)):
                if len(picked) == n:
                    break
                if c not in picked and keep(c):
                    picked.append(c)
    return [text if len(text) <= 280 else text[:277].rstrip() + "..." for text, _, _ in picked]


def title_says(problem: str) -> frozenset[str]:
    """What a quote must say to say what an action's title names: the title's words (``title_words``) and, where
    the title is negated ("Not delivered", "No resolution"), a negation ("not"): "delivered the wrong product"
    does not say "Not delivered"."""
    negated = any(w in NEGATIONS for w in re.findall(r"[a-z0-9]+", problem.lower()))
    return title_words(problem) | ({"not"} if negated else set())


def says_together(words: list[str], says: frozenset[str]) -> bool:
    """Whether ``words`` (as ``same_word`` reads them, negations as "not", in order) hold all of ``says`` within a
    few words of each other: "runs very small" says "Runs small"; a long review that "ran large" and was "small"
    in the bust does not."""
    span = 2 * len(says) + 2
    last: dict[str, int] = {}
    for i, w in enumerate(words):
        if w in says:
            last[w] = i
            if len(last) == len(says) and i - min(last.values()) < span:
                return True
    return False


# words a support queue uses for one thing, by their stems: "Solve my problem" and "Issue not resolved" name one
# complaint. Only the vocabulary of support itself: a product's words keep their own meaning.
SAME_STEM = {"problem": "issu", "query": "issu", "queri": "issu", "concern": "issu",
             "solv": "resolv", "resolution": "resolv", "solution": "resolv",
             "care": "support", "servic": "support", "costumer": "customer"}  # customer care, service, support


def title_words(title: str) -> frozenset[str]:
    """What an action's title names, as a set: its content words up to their endings and ``SAME_STEM``, in any
    order. Two titles with the same set ("Issue not resolved", "Resolve the issue") are one action's."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    stop = ENGLISH_STOP_WORDS - NAMING_WORDS  # a title says "Call back" as the theme's name does
    words = {same_word(w) for w in re.findall(r"[a-z0-9]+", title.lower()) if w not in stop}
    # every remark is a customer's: "Customer support" names the queue "Support" names
    return frozenset(words - {"customer"} or words)


def same_word(word: str) -> str:
    """A word as titles and quotes compare it: up to its ending, a support queue's synonyms as one (``SAME_STEM``).
    The table is read for the whole word first: "care" would lose its ending as "car" ("cares" and "caring" still
    do; titles and quotes say "customer care"), and a car is not support."""
    return SAME_STEM.get(word) or SAME_STEM.get(_stem(word), _stem(word))


def _stem(word: str) -> str:
    """A word without its commonest English ending, so "solve", "solved" and "solves" count as one word."""
    for ending in ("ing", "ed", "es", "e", "s", "d"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[:-len(ending)]
    return word
