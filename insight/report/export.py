"""Exports of a stored run: CSV (safe to open in a spreadsheet) and JSON.

Functions return text; the caller decides where it goes. CSV cells that a spreadsheet would run as a formula
(starting with = + - @, a tab or a carriage return) are prefixed with an apostrophe.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from typing import Any

import pandas as pd

from ..errors import ExportError

FORMATS = ("csv", "json", "jira", "markdown")
_PRIORITY = [(0.9, "Highest"), (0.7, "High"), (0.4, "Medium"), (0.0, "Low")]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _flatten(value: Any) -> Any:
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def to_csv(frame: pd.DataFrame) -> str:
    safe = frame.map(lambda v: neutralise(_flatten(v)))
    buf = io.StringIO()
    safe.to_csv(buf, index=False)
    return buf.getvalue()


def to_json(frame: pd.DataFrame, meta: dict[str, Any] | None = None) -> str:
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    return json.dumps({**(meta or {}), "rows": records}, indent=2, ensure_ascii=False)


def to_jira(actions: pd.DataFrame) -> str:
    """Jira's CSV import: Summary, Description, Priority (by impact rank), Labels, Component (the owner team)."""
    if actions.empty:
        return to_csv(pd.DataFrame(columns=["Summary", "Description", "Priority", "Labels", "Component"]))
    top = float(actions["impact"].max()) or 1.0
    rows = []
    for a in actions.to_dict("records"):
        share = float(a["impact"]) / top
        priority = next(p for cut, p in _PRIORITY if share >= cut)
        quotes = "\n".join(f"> {q}" for q in (a.get("evidence") or []))
        steps = "\n".join(f"- {x}" for x in (a.get("steps") or []))
        counted = f"{a.get('complaints')} complaints of {a.get('volume')} items" if _given(a.get("complaints")) \
            else f"items {a.get('volume')}"
        why = a.get("explanation")
        spread = why.get("theme_complaints") if isinstance(why, dict) else None
        if spread:  # a theme spread over causes: its action counts its own cause's complaints alone
            counted = (f"{a.get('complaints')} {str(a.get('root_cause') or '').replace('_', ' ')} complaints of the "
                       f"theme's {spread} ({a.get('volume')} items)")
        trend = (f"{counted}, recent items {a.get('recent_volume')}, growth {a.get('growth')}x, spike weeks "
                 f"{a.get('spike_weeks') or '-'}" if _given(a.get("growth")) else counted)
        description = (f"{a.get('segment_sentence') or ''}\n\nImpact {float(a['impact']):.0f} ({trend})."
                       f"\n\nEvidence:\n{quotes}\n\nPlaybook:\n{steps}").strip()
        labels = " ".join(x for x in ["insight", a.get("root_cause") or "", a.get("theme_id") or ""] if x)
        rows.append({"Summary": a["title"], "Description": description, "Priority": priority, "Labels": labels,
                     "Component": a.get("owner") or ""})
    return to_csv(pd.DataFrame(rows))


def to_markdown(brief: dict[str, Any]) -> str:
    """The weekly brief: top actions, run health, spikes, new themes and what changed since the last run."""
    actions: pd.DataFrame = brief.get("actions", pd.DataFrame())
    lines = [f"# Weekly brief: run {brief.get('run_id', '')}", ""]
    counts = brief.get("counts") or {}
    if counts:
        lines += [f"{counts.get('read', 0):,} feedback items read, {counts.get('stored', 0):,} analysed "
                  f"({counts.get('duplicates', 0):,} duplicates, {counts.get('non_actionable', 0):,} "
                  f"non-actionable, {counts.get('quarantined', 0):,} quarantined).", ""]
    lines += ["## Top actions", ""]
    for a in actions.head(brief.get("top", 5)).to_dict("records"):
        lines.append(f"{a['rank']}. **{_md(a['title'])}** (owner: {_md(a['owner'])}, impact {float(a['impact']):.0f}"
                     f", status: {a.get('status', 'proposed')})")
        covered = (brief.get("covers") or {}).get(a.get("theme_id"))
        if covered:
            said = Counter(covered)  # themes whose complaints go by one name: the name once, with how many
            lines.append(f"   - {len(covered)} themes: " + ", ".join(
                f'"{_md(name)}"' + (f" ({n})" if n > 1 else "") for name, n in said.items()))
        if a.get("segment_sentence"):
            lines.append(f"   - {_md(a['segment_sentence'])}")
        for q in (a.get("evidence") or [])[:2]:
            lines.append(f"   - > {_md(q)}")
    health = brief.get("health") or []
    if health:  # what limits the conclusions above, said once
        lines += ["", "## Run health", ""] + [f"- {_md(n)}" for n in health]
    spikes = brief.get("spikes") or []
    no_trends = (brief.get("history") or {}).get("trends") is False
    lines += ["", "## Spikes", ""] + ([f"- {_md(s)}" for s in spikes] or
                                      ["- none claimed (see Run health)" if no_trends else "- none this week"])
    drivers = brief.get("drivers") or []
    if drivers:
        lines += ["", "## What pulls the rating down", ""] + [f"- {_md(d)}" for d in drivers]
    segments = brief.get("segments") or []
    lines += ["", "## Segments that stand out", ""] + ([f"- {_md(s)}" for s in segments] or ["- none"])
    new = brief.get("new_themes") or []
    lines += ["", "## New themes (seen in two runs in a row)", ""] + ([f"- {_md(t)}" for t in new] or ["- none"])
    week = brief.get("this_week") or []
    if week:  # a weekly run: what it changed on the items held before, from the ledger
        lines += ["", "## What changed this week", ""] + [f"- {_md(w)}" for w in week]
    changed = brief.get("changes") or {}
    lines += ["", "## What changed", ""] + ([f"- {k}: {v}" for k, v in changed.items()] or
                                            ["- first run" if brief.get("first_run", True) else "- no theme events"])
    return "\n".join(lines) + "\n"


def _given(value: Any) -> bool:
    """A figure that exists: not None, not NaN (a run without trends has no growth)."""
    return value is not None and not (isinstance(value, float) and value != value)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]!#|])")


def _md(text: Any) -> str:
    """Customer words shown as typed wherever the brief is rendered: no raw HTML, no links or images (a remote
    image in a quote is a tracking pixel), no emphasis, code, headings or table breaks."""
    escaped = _MD_SPECIAL.sub(r"\\\1", str(text).replace("\n", " "))
    return escaped.replace("<", "&lt;").replace(">", "&gt;")


def export(frame: pd.DataFrame, fmt: str, meta: dict[str, Any] | None = None) -> str:
    if fmt == "csv":
        return to_csv(frame)
    if fmt == "json":
        return to_json(frame, meta)
    if fmt == "jira":
        return to_jira(frame)
    if fmt == "markdown":
        return to_markdown({**(meta or {}), "actions": frame})
    raise ExportError(f"unknown export format {fmt!r}; valid: {', '.join(FORMATS)}", code="E501")


def with_decisions(actions: pd.DataFrame, log: pd.DataFrame) -> pd.DataFrame:
    """Actions as a product team takes them away: each with its latest decision (status, who, when, note, who
    carries it out) from the action ``log`` and the reason for its rank in words (``why``) instead of the
    explanation's raw figures."""
    from .rank import explain_impact

    out = actions.drop(columns=[c for c in ("run_id",) if c in actions.columns]).copy()
    latest = log.sort_values("entry_id").drop_duplicates("action_key", keep="last").set_index("action_key") \
        if len(log) else pd.DataFrame(columns=["status", "by", "at", "note", "assignee"])
    keys = out["theme_id"]
    out["status"] = [latest.at[k, "status"] if k in latest.index else (s or "proposed")
                     for k, s in zip(keys, out.get("status", [None] * len(out)))]
    out["decided_by"] = [latest.at[k, "by"] if k in latest.index else "" for k in keys]
    out["decided_at"] = [str(latest.at[k, "at"])[:16] if k in latest.index else "" for k in keys]
    out["note"] = [latest.at[k, "note"] or "" if k in latest.index else "" for k in keys]
    has = "assignee" in latest.columns
    out["assigned_to"] = [latest.at[k, "assignee"] if has and k in latest.index
                          and isinstance(latest.at[k, "assignee"], str) else "" for k in keys]
    out["why"] = [explain_impact(float(i), e) for i, e in zip(out["impact"], out["explanation"])]
    return out.drop(columns=["explanation"])
