"""Rank improvement actions: an impact score per theme with its explanation, the playbook action and evidence.

impact = recent volume x severity x sqrt(growth) x spike factor, where
  severity = 1 + negative share + escalation share  (1 .. 3)
  growth   = (recent weekly rate + 1) / (baseline weekly rate + 1)
  spike    = 1 + 0.5 per spike week in the recent window.
Every factor is stored beside the score so a reviewer can see why an action ranks where it does, with a 90 %
bootstrap interval of the same quantity (for an action that merges themes, of their sum). Themes
smaller than ``min_theme_size`` are never ranked: a 3-item theme cannot top the list.

Themes of one root cause that point at the same segment (say three payment-failure themes all concentrated on
one provider) are one problem with one owner: they become one action whose impact is their sum, listing the
themes it covers, instead of crowding the top of the list with the same incident.
"""

from __future__ import annotations

import math
import re
import zlib

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import RankConfig, Taxonomy

ACTION_COLUMNS = [
    "rank", "theme_id", "theme_label", "root_cause", "owner", "title", "steps", "impact", "explanation",
    "segment", "segment_sentence", "volume", "recent_volume", "growth", "spike_weeks", "evidence", "status",
    "related_themes",
]


def impact_score(row: dict) -> tuple[float, dict]:
    """The impact of one theme and its explanation. A theme without a growth figure (no trends: no timestamps or
    too little history) ranks on volume and severity alone, and its explanation claims no growth."""
    severity = 1.0 + float(row["negative_share"]) + float(row["escalation_share"])
    spike = 1.0 + 0.5 * len(row.get("spike_weeks") or [])
    if _num(row.get("growth")) is None:
        impact = float(row["volume"]) * severity
        explanation = {"volume": int(row["volume"]), "severity": round(severity, 3), "spike_factor": 1.0,
                       "repeat_contact_rate": _num(row.get("repeat_contact_rate")),
                       "value_at_risk": _num(row.get("value_at_risk")), "formula": "volume x severity"}
        explanation["impact_interval_90"] = interval(impact_draws(row, severity, 1.0), impact)
        return round(impact, 3), explanation
    growth = max(float(row["growth"]), 0.0)
    impact = float(row["recent_volume"]) * severity * math.sqrt(growth) * spike
    explanation = {
        "recent_volume": int(row["recent_volume"]),
        "severity": round(severity, 3),
        "growth": round(growth, 3),
        "spike_factor": spike,
        "repeat_contact_rate": _num(row.get("repeat_contact_rate")),
        "value_at_risk": _num(row.get("value_at_risk")),
        "formula": "recent_volume x severity x sqrt(growth) x spike_factor",
    }
    explanation["impact_interval_90"] = interval(impact_draws(row, severity, spike), impact)
    return round(impact, 3), explanation


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 3)


def impact_draws(row: dict, severity: float, spike: float, n: int = 400) -> np.ndarray:
    """Bootstrap draws of a theme's impact: recent and baseline volumes redrawn as Poisson counts, negativity as
    binomial. Each theme draws from its own seeded stream (its id), so the draws of several themes are independent
    and add up to the draws of an action that merges them."""
    rng = np.random.default_rng(zlib.crc32(str(row.get(S.THEME, "")).encode()))
    if _num(row.get("growth")) is None:  # no trends: volume x severity
        volume = rng.poisson(max(float(row["volume"]), 0.0), n).astype(float)
        neg = rng.binomial(np.maximum(volume.astype(int), 1), float(row["negative_share"])) / np.maximum(volume, 1)
        return volume * (severity - float(row["negative_share"]) + neg) * spike
    recent = rng.poisson(max(float(row["recent_volume"]), 0.0), n).astype(float)
    weeks_recent = max(float(row["recent_volume"]) / max(float(row.get("recent_weekly") or 0) or 1.0, 1e-9), 1.0)
    base_rate = float(row.get("baseline_weekly") or 0.0)
    base = rng.poisson(base_rate * 8, n) / 8  # about eight baseline weeks
    neg = rng.binomial(np.maximum(recent.astype(int), 1), float(row["negative_share"])) / np.maximum(recent, 1)
    sev = severity - float(row["negative_share"]) + neg
    growth = (recent / weeks_recent + 1) / (base + 1)
    return recent * sev * np.sqrt(growth) * spike


def interval(draws: np.ndarray, estimate: float) -> list[float]:
    """The 90 % percentile interval of ``draws``, stretched to hold the ``estimate`` itself: with few items the
    bootstrap can be lopsided, and an impact outside its own interval would read as a contradiction."""
    lo, hi = float(np.percentile(draws, 5)), float(np.percentile(draws, 95))
    return [round(min(lo, estimate), 2), round(max(hi, estimate), 2)]


def rank_actions(theme_stats: pd.DataFrame, segments: pd.DataFrame, items: pd.DataFrame, taxonomy: Taxonomy,
                 cfg: RankConfig, segment_sentences: dict[str, str] | None = None,
                 cause_sentences: dict[tuple[str, str], str] | None = None) -> pd.DataFrame:
    """One proposed action per ranked theme, highest impact first."""
    if theme_stats.empty:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    eligible = theme_stats[(theme_stats[S.THEME] != S.UNTHEMED) & (theme_stats["volume"] >= cfg.min_theme_size)]
    rows = []
    for row in eligible.to_dict("records"):
        impact, why = impact_score(row)
        cause = row[S.ROOT_CAUSE]
        rc = taxonomy.root_causes.get(cause) or taxonomy.root_causes[taxonomy.keys[-1]]
        seg = segments[segments[S.THEME] == row[S.THEME]].head(1)
        seg_row = seg.iloc[0].to_dict() if len(seg) else None
        segment = f"{seg_row['column']}={seg_row['value']}" if seg_row else ""
        title = rc.playbook.title.format(theme=row["label"], segment=segment or "all segments")
        if segment and "{segment}" not in rc.playbook.title:
            title += f" ({segment.replace('=', ' ')})"
        rows.append({
            "theme_id": row[S.THEME], "theme_label": row["label"], "root_cause": cause, "owner": rc.owner,
            "title": title, "steps": list(rc.playbook.steps), "impact": impact, "explanation": why,
            "segment": segment, "segment_sentence": (segment_sentences or {}).get(row[S.THEME], ""),
            "volume": int(row["volume"]), "recent_volume": int(row["recent_volume"]), "growth": _num(row["growth"]),
            "spike_weeks": list(row.get("spike_weeks") or []), "status": "proposed", "_segment": seg_row,
            "_draws": impact_draws(row, why["severity"], why["spike_factor"]),
        })
    if not rows:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    merged = _merge_same_problem(sorted(rows, key=lambda r: (-r["impact"], r["theme_id"])))
    for r in merged:
        # an action spanning several themes is about the root cause in that segment: say so, with its full n
        wider = (cause_sentences or {}).get((r["root_cause"], r["segment"]))
        if r["related_themes"] and wider:
            r["segment_sentence"] = wider
        r["evidence"] = pick_evidence(items, [r["theme_id"], *r["related_themes"]], r.pop("_segment"),
                                      r["spike_weeks"], cfg.n_evidence)
        draws = r.pop("_draws")
        if r["related_themes"]:  # the interval of the sum the action reports, not of its first theme
            r["explanation"]["impact_interval_90"] = interval(draws, r["impact"])
    out = pd.DataFrame(merged).sort_values(["impact", "theme_id"], ascending=[False, True], kind="stable")
    out = out.head(cfg.max_actions).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[ACTION_COLUMNS]


def _merge_same_problem(rows: list[dict]) -> list[dict]:
    """Fold themes with the same root cause and the same segment into the highest-impact one."""
    kept: dict[tuple[str, str], dict] = {}
    out = []
    for r in rows:
        r = {**r, "related_themes": []}
        key = (r["root_cause"], r["segment"])
        if r["segment"] and key in kept:
            head = kept[key]
            head["related_themes"].append(r["theme_id"])
            head["impact"] = round(head["impact"] + r["impact"], 3)
            head["_draws"] = head["_draws"] + r["_draws"]
            head["volume"] += r["volume"]
            head["recent_volume"] += r["recent_volume"]
            head["spike_weeks"] = sorted(set(head["spike_weeks"]) | set(r["spike_weeks"]))
            head["explanation"].setdefault("merged", []).append({"theme_id": r["theme_id"], "impact": r["impact"]})
            continue
        kept[key] = r
        out.append(r)
    return out


def pick_evidence(items: pd.DataFrame, theme_ids: list[str], segment: dict | None, weeks: list[int],
                  n: int) -> list[str]:
    """The most typical distinct quotes of the themes, taken from their segment and spike weeks when they have them."""
    pool = items[items[S.THEME].isin(theme_ids)]
    narrowed = pool
    if segment is not None:
        narrowed = narrowed[narrowed[segment["column"]].astype(str) == segment["value"]]
    if weeks:
        narrowed = narrowed[narrowed[S.WEEK].isin(weeks)]
    if len(narrowed) >= n:
        pool = narrowed
    pool = pool.sort_values([S.THEME_SIM, S.ID], ascending=[False, True], kind="stable")
    quotes: list[str] = []
    seen: set[str] = set()
    for text in pool[S.CLEAN_TEXT]:
        key = " ".join(re.findall(r"[a-z0-9]+", text.lower())[:10])  # the same message with a different ending
        if key in seen:
            continue
        seen.add(key)
        quotes.append(text if len(text) <= 280 else text[:277].rstrip() + "...")
        if len(quotes) == n:
            break
    return quotes
