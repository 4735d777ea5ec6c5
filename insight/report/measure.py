"""Measures: weekly volume, trend, negativity, spikes and segment lift, per theme and per root cause.

Pure functions of the tagged item frame. Weeks are numbered from the first week in the data (week 1 is the
Monday-to-Sunday week holding the earliest item) so "weeks 9-10" reads the same in every chart and sentence.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .. import schema as S

_ESCALATION = re.compile(
    r"\b(?:chargeback|charge back|dispute|cancel(?:l?ing|led)? my (?:order|account)|lawyer|legal|trading standards|"
    r"consumer (?:court|protection)|never (?:again|ordering|buying|shop)|report you|bbb|social media|"
    r"review everywhere|last time)\b",
    re.IGNORECASE,
)


def add_weeks(items: pd.DataFrame) -> pd.DataFrame:
    """Week start (Monday, UTC) and a 1-based week number from the first week in the data."""
    out = items.copy()
    ts = pd.to_datetime(out[S.TIMESTAMP], utc=True)
    start = ts.dt.tz_convert("UTC").dt.normalize() - pd.to_timedelta(ts.dt.day_of_week, unit="D")
    out["week_start"] = start
    first = start.min()
    out[S.WEEK] = ((start - first).dt.days // 7 + 1).astype("Int64") if len(out) else pd.Series(dtype="Int64")
    return out


def escalation(texts: pd.Series) -> np.ndarray:
    """Cues that the customer is about to leave, dispute or go public: they raise an action's severity."""
    return texts.fillna("").str.contains(_ESCALATION).to_numpy()


def weekly_volume(items: pd.DataFrame, by: str = S.ROOT_CAUSE) -> pd.DataFrame:
    """Counts per week and group, zero-filled so charts and baselines see quiet weeks."""
    if items.empty:
        return pd.DataFrame(columns=[S.WEEK, "week_start", by, "count"])
    weeks = items[[S.WEEK, "week_start"]].drop_duplicates().sort_values(S.WEEK)
    all_weeks = pd.DataFrame({S.WEEK: range(1, int(weeks[S.WEEK].max()) + 1)})
    first = weeks["week_start"].min()
    all_weeks["week_start"] = first + pd.to_timedelta((all_weeks[S.WEEK] - 1) * 7, unit="D")
    counts = items.groupby([S.WEEK, by]).size().rename("count").reset_index()
    grid = all_weeks.merge(pd.DataFrame({by: sorted(items[by].dropna().unique())}), how="cross")
    out = grid.merge(counts, on=[S.WEEK, by], how="left").fillna({"count": 0})
    out["count"] = out["count"].astype(int)
    return out


def detect_spikes(counts: np.ndarray, recent_weeks: int, alpha: float = 1e-3, min_count: int = 5) -> list[int]:
    """1-based weeks in the recent window whose count is improbable under a Poisson with the robust baseline.

    The baseline is the median of the weeks before the recent window (floored at 1 so a quiet theme does not
    alert on its second message).
    """
    from scipy.stats import poisson

    n = len(counts)
    if n <= recent_weeks:
        return []
    base = max(float(np.median(counts[: n - recent_weeks])), 1.0)
    out = []
    for w in range(n - recent_weeks, n):
        c = counts[w]
        if c >= min_count and c >= 2 * base and poisson.sf(c - 1, base) < alpha:
            out.append(w + 1)
    return out


def history(items: pd.DataFrame, recent_weeks: int, min_baseline_weeks: int) -> dict:
    """Can this run say anything about trends? ``trends`` is False without timestamps, or with fewer weeks than
    the recent window plus the baseline it is compared with; ``reason`` then says why, in words."""
    timestamps = not (S.TIME_ASSUMED in items.columns and len(items) and items[S.TIME_ASSUMED].fillna(False).all())
    weeks = int(items[S.WEEK].max()) if len(items) and items[S.WEEK].notna().any() else 0
    needed = recent_weeks + min_baseline_weeks
    reason = None
    if not timestamps:
        reason = ("no timestamps in the export: every item belongs to the moment of the run, so no growth, spike "
                  "or trend is claimed")
    elif weeks < needed:
        reason = (f"{weeks} weeks of history; growth and spikes need {needed} ({recent_weeks} recent + "
                  f"{min_baseline_weeks} baseline), so none is claimed")
    return {"trends": reason is None, "timestamps": bool(timestamps), "weeks": weeks, "reason": reason}


GROUP_STAT_COLUMNS = ["volume", "recent_volume", "baseline_weekly", "recent_weekly", "growth", "wow_change",
                      "negative_share", "complaints", "recent_complaints", "escalation_share", "spike_weeks",
                      "weekly_counts"]


def group_stats(items: pd.DataFrame, by: str, recent_weeks: int, spikes: dict[str, list[int]] | None = None,
                trends: bool = True) -> pd.DataFrame:
    """Per group (theme or root cause): volume, recent volume, growth, week-over-week, negativity, spikes.

    ``spikes`` (from ``spike_tests``) replaces the single-series test when given. Without ``trends`` (see
    ``history``) there is no recent window to speak of: recent volume is the whole volume and growth,
    week-over-week change and spikes are None / empty.
    """
    weekly = weekly_volume(items, by)
    if weekly.empty:  # nothing stored: the same columns, no rows, so every later step reads an empty table
        return pd.DataFrame(columns=[by, *GROUP_STAT_COLUMNS])
    n_weeks = int(weekly[S.WEEK].max())
    recent = recent_window(n_weeks, recent_weeks)
    rows = []
    for key, g in items.groupby(by):
        counts = weekly.loc[weekly[by] == key].sort_values(S.WEEK)["count"].to_numpy()
        recent_n = int(counts[-recent:].sum())
        base_rate = counts[:-recent].mean() if n_weeks > recent else 0.0
        recent_rate = recent_n / recent
        last, prev = (counts[-1], counts[-2]) if len(counts) > 1 else (counts[-1], 0)
        rows.append({
            by: key,
            "volume": int(len(g)),
            "recent_volume": recent_n,
            "baseline_weekly": round(float(base_rate), 2),
            "recent_weekly": round(float(recent_rate), 2),
            "growth": round(float((recent_rate + 1) / (base_rate + 1)), 3),
            "wow_change": round(float((last - prev) / prev), 3) if prev else None,
            "negative_share": round(float(g[S.NEGATIVE].mean()), 3),
            "complaints": int(g[S.NEGATIVE].sum()),  # items whose polarity is negative
            "recent_complaints": int(g.loc[g[S.WEEK] > n_weeks - recent, S.NEGATIVE].sum()),
            "escalation_share": round(float(g["escalation"].mean()), 3),
            "spike_weeks": spikes.get(key, []) if spikes is not None else detect_spikes(counts, recent),
            "weekly_counts": counts.tolist(),
        })
        if not trends:
            rows[-1].update(recent_volume=int(len(g)), recent_complaints=int(g[S.NEGATIVE].sum()),
                            baseline_weekly=None, recent_weekly=None, growth=None,
                            wow_change=None, spike_weeks=[])
    return pd.DataFrame(rows)


def recent_window(n_weeks: int, recent_weeks: int) -> int:
    """How many of the last of ``n_weeks`` weeks count as recent: never all of them, so a baseline is left."""
    return min(recent_weeks, max(n_weeks - 1, 1))


def own_cause_complaints(items: pd.DataFrame, by: str, causes: dict, recent_weeks: int, trends: bool = True
                         ) -> pd.DataFrame:
    """Per group, its complaints tagged with the group's own root cause (``causes``: group -> cause), all of them
    and those of the recent window (``group_stats``' window; all of them without ``trends``).

    A theme's action goes to the owner of its cause, and where its complaints are spread over causes that owner
    holds only part of them: ranking counts that part (``rank.own_cause``)."""
    columns = [by, "cause_complaints", "recent_cause_complaints"]
    if items.empty or S.NEGATIVE not in items:
        return pd.DataFrame(columns=columns)
    own = items.loc[items[S.NEGATIVE].fillna(False).astype(bool).to_numpy()
                    & (items[S.ROOT_CAUSE].astype(object) == items[by].map(causes)).to_numpy(),
                    [by, S.WEEK] if trends else [by]]
    if trends:
        n_weeks = int(items[S.WEEK].max())
        recent = own[own[S.WEEK] > n_weeks - recent_window(n_weeks, recent_weeks)]
    else:
        recent = own
    out = pd.DataFrame({by: list(causes)})
    out["cause_complaints"] = out[by].map(own.groupby(by).size()).fillna(0).astype(int)
    out["recent_cause_complaints"] = out[by].map(recent.groupby(by).size()).fillna(0).astype(int)
    return out


def segment_lift(items: pd.DataFrame, by: str, columns: list[str], min_n: int = 8, z: float = 1.96,
                 windows: dict[str, list[int]] | None = None, fdr: float = 0.05, trends: bool = True
                 ) -> pd.DataFrame:
    """For each group and segment value: how over-represented the value is versus the rest of the feedback.

    lift = share of the value inside the group / share of the value in the baseline, with a Katz log interval;
    only cells with n >= min_n and a lower bound above 1 are kept. For a group with a spike (``windows`` gives
    its weeks) the baseline is the same group outside those weeks: that asks what changed, so a carrier whose
    share of delivery complaints jumps stands out while the channel mix, which did not change, does not. A
    group without a spike, or with too little history, is compared with all other feedback instead.
    """
    from scipy.stats import norm

    rows = []
    for col in [c for c in columns if c in items.columns]:
        valid = items[items[col].notna() & (items[col].astype(str) != "")]
        for key, g in valid.groupby(by):
            weeks = (windows or {}).get(key) or []
            inside = g[g[S.WEEK].isin(weeks)] if weeks else g
            before = g[~g[S.WEEK].isin(weeks)] if weeks else g.iloc[:0]
            rest = before if len(before) >= 2 * min_n else valid[valid[by] != key]
            if len(inside) < min_n or len(rest) == 0:
                continue
            for value, a in inside[col].value_counts().items():
                if a < min_n:
                    continue
                n1, b, n2 = len(inside), int((rest[col] == value).sum()), len(rest)
                lift = (a / n1) / ((b + 0.5) / n2)
                se = np.sqrt(max(1 / a - 1 / n1 + 1 / (b + 0.5) - 1 / n2, 1e-12))
                lo, hi = lift * np.exp(-z * se), lift * np.exp(z * se)
                since = (min(weeks) if weeks else int(inside[S.WEEK].min())) if trends else None
                rows.append({by: key, "column": col, "value": str(value), "n": int(a), "lift": round(float(lift), 2),
                             "ci_low": round(float(lo), 2), "ci_high": round(float(hi), 2), "since_week": since,
                             "p_value": float(norm.sf(np.log(lift) / se))})
    cols = [by, "column", "value", "n", "lift", "ci_low", "ci_high", "since_week", "p_value", "q_value"]
    out = pd.DataFrame(rows, columns=cols[:-1])
    # every cell tested is one hypothesis: Benjamini-Hochberg keeps the false discoveries at ``fdr``
    out["q_value"] = benjamini_hochberg(out["p_value"].to_numpy())
    out = out[(out["q_value"] <= fdr) & (out["ci_low"] > 1)]
    # strongest evidence first: the lower bound, so a big clear lift beats a small lucky one
    return out.sort_values([by, "ci_low"], ascending=[True, False], kind="stable").reset_index(drop=True)[cols]


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH-adjusted q-values (monotone, capped at 1)."""
    n = len(p)
    if n == 0:
        return p.astype(float)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def lift_sentence(subject: str, row: dict) -> str:
    """"delivery complaints are 3.1x baseline for carrier Parcelo since week 9 (n = 212)"; without a week (no
    trends) the sentence makes no claim about when."""
    since = row.get("since_week")
    when = f" since week {int(since)}" if since is not None and not pd.isna(since) else ""
    return (f"{subject} are {row['lift']:.1f}x baseline for {row['column'].replace('_', ' ')} "
            f"{row['value']}{when} (n = {row['n']})")


def dominant(items: pd.DataFrame, by: str, col: str) -> pd.DataFrame:
    """The most common ``col`` value per group and its share (e.g. a theme's root cause)."""
    if items.empty:
        return pd.DataFrame(columns=[by, col, f"{col}_share"])
    counts = items.groupby([by, col]).size().rename("n").reset_index()
    counts = counts.sort_values([by, "n", col], ascending=[True, False, True], kind="stable")
    top = counts.groupby(by).head(1).copy()
    top[f"{col}_share"] = (top["n"] / top[by].map(items.groupby(by).size())).round(3)
    return top.drop(columns="n").reset_index(drop=True)


def spike_tests(items: pd.DataFrame, by: str, segment_columns: list[str], recent_weeks: int, fdr: float = 0.05,
                min_count: int = 5, min_cell: int = 10) -> pd.DataFrame:
    """Every group x segment cell (and each group overall) tested for each recent week; BH across all of them.

    Baseline: the median weekly count before the recent window (floored at 1), or, with more than a year of
    history, the larger of that and the same weeks a year earlier (seasonality). A week is tested only when it
    has at least ``min_count`` items and twice the baseline; its Poisson tail probability is the p-value.
    Hundreds of cells are tested at once, so alerts are the cells whose Benjamini-Hochberg q-value is within
    ``fdr``.
    """
    from scipy.stats import poisson

    if items.empty:
        return pd.DataFrame(columns=[by, "column", "value", "week", "count", "baseline", "p_value", "q_value"])
    n_weeks = int(items[S.WEEK].max())
    recent = min(recent_weeks, max(n_weeks - 1, 1))
    cells = [(key, None, None, g) for key, g in items.groupby(by)]
    for col in [c for c in segment_columns if c in items.columns]:
        for (key, value), g in items[items[col].notna()].groupby([by, col]):
            if len(g) >= min_cell:
                cells.append((key, col, str(value), g))
    rows = []
    for key, col, value, g in cells:
        counts = np.bincount(g[S.WEEK].astype(int), minlength=n_weeks + 1)[1:]
        if n_weeks <= recent:
            continue
        base = max(float(np.median(counts[: n_weeks - recent])), 1.0)
        for w in range(n_weeks - recent, n_weeks):
            seasonal = base
            if w >= 53:  # a year of history: the same weeks last year set the bar too
                seasonal = max(base, float(np.median(counts[w - 53:w - 50])))
            c = int(counts[w])
            p = float(poisson.sf(c - 1, seasonal)) if c >= min_count and c >= 2 * seasonal else 1.0
            rows.append({by: key, "column": col, "value": value, "week": w + 1, "count": c,
                         "baseline": round(seasonal, 2), "p_value": p})
    out = pd.DataFrame(rows, columns=[by, "column", "value", "week", "count", "baseline", "p_value"])
    out["q_value"] = benjamini_hochberg(out["p_value"].to_numpy()) if len(out) else []
    out["alert"] = out["q_value"] <= fdr
    return out


def spike_weeks(tests: pd.DataFrame, by: str) -> dict[str, list[int]]:
    """Alerted weeks per group, from its overall cell (segments explain a spike; they do not make one)."""
    hits = tests[tests["alert"] & tests["column"].isna()]
    return {k: sorted(g["week"].astype(int).tolist()) for k, g in hits.groupby(by)}


def repeat_contact_rate(items: pd.DataFrame, by: str) -> dict[str, float]:
    """Share of a group's items whose customer (or order) wrote about it more than once: unresolved problems."""
    keys = [c for c in (S.CUSTOMER_ID, S.ORDER_ID) if c in items.columns]
    if not keys:
        return {}
    out = {}
    for key, g in items.groupby(by):
        repeated = np.zeros(len(g), dtype=bool)
        for c in keys:
            v = g[c]
            repeated |= (v.notna() & v.duplicated(keep=False)).to_numpy()
        out[key] = round(float(repeated.mean()), 3)
    return out


def value_at_risk(items: pd.DataFrame, by: str, recent_weeks: int) -> dict[str, float]:
    """Order value behind a group's recent complaints (distinct orders), where order values are known."""
    if "order_value" not in items.columns:
        return {}
    n_weeks = int(items[S.WEEK].max()) if len(items) else 0
    recent = items[items[S.WEEK] > n_weeks - recent_weeks]
    dedup = recent.drop_duplicates([by, S.ORDER_ID]) if S.ORDER_ID in recent.columns else recent
    return dedup.groupby(by)["order_value"].sum().round(2).to_dict()


def rating_effects(items: pd.DataFrame, by: str = S.THEME, min_n: int = 5) -> pd.DataFrame:
    """Per group with at least ``min_n`` rated items: its mean rating, and how much the overall average would rise
    if its items were rated like the rest (``rating_effect``, in rating points; negative: the group lifts the
    average). The driver view: the effect is the group's share times its gap to the rest, so a small theme of
    very unhappy customers and a large theme of mildly unhappy ones can be compared directly."""
    cols = [by, "rated", "mean_rating", "rating_effect"]
    if S.RATING not in items.columns:
        return pd.DataFrame(columns=cols)
    rated = items[items[S.RATING].notna() & items[by].notna()]
    if rated.empty:
        return pd.DataFrame(columns=cols)
    total, n_all = float(rated[S.RATING].sum()), len(rated)
    rows = []
    for key, g in rated.groupby(by):
        if len(g) < min_n or len(g) == n_all:
            continue
        rest = (total - float(g[S.RATING].sum())) / (n_all - len(g))
        rows.append({by: key, "rated": int(len(g)), "mean_rating": round(float(g[S.RATING].mean()), 3),
                     "rating_effect": round(rest - total / n_all, 4)})
    return pd.DataFrame(rows, columns=cols)
