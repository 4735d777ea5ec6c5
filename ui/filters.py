"""The sidebar's global filters, kept in the URL (``?carrier=Parcelo&since=2026-07-27``): every page shows, and
every download holds, the items that pass them. The filtering itself is ``insight.report.filter_items``."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from insight.report import filter_items, is_filtered
from ui import data

LISTS = ("channel", "root_cause", "language")
KEPT = "filters-kept"  # the filters as text, kept across pages


def _param(key: str, default: str = "") -> str:
    """A filter's value: from the URL (a link), else as the reviewer left it on another page (switching pages
    clears the URL's query), else ``default``."""
    if key in st.query_params:
        return st.query_params[key]
    return st.session_state.setdefault(KEPT, {}).get(key, default)


def _listed(key: str) -> list[str]:
    raw = _param(key)
    return [v for v in raw.split(",") if v] if raw else []


def sidebar(items: pd.DataFrame, labels: dict[str, str] | None = None) -> dict:
    """Render the filters for the stored items of a run (``labels``: theme names for the theme filter); return
    the filter (also written to the URL)."""
    stored = items[items["status"] == "stored"]
    spec: dict = {}
    st.sidebar.markdown("**Filters**")
    when = pd.to_datetime(stored["timestamp"], utc=True, errors="coerce").dropna()
    if len(when) and when.dt.date.nunique() > 1:
        first, last = when.min().date(), when.max().date()
        since = dt.date.fromisoformat(_param("since") or first.isoformat())
        until = dt.date.fromisoformat(_param("until") or last.isoformat())
        picked = st.sidebar.date_input("Dates", (max(since, first), min(until, last)), min_value=first,
                                       max_value=last, key="f-dates")
        if isinstance(picked, (tuple, list)) and len(picked) == 2:
            spec["since"] = picked[0].isoformat() if picked[0] > first else None
            spec["until"] = picked[1].isoformat() if picked[1] < last else None
    columns = [*LISTS[:1], *data.settings().measure.segment_columns, *LISTS[1:2], "theme_id", *LISTS[2:]]
    for column in dict.fromkeys(columns):
        if column not in stored or stored[column].dropna().astype(str).str.strip().eq("").all():
            continue
        options = sorted(v for v in stored[column].dropna().astype(str).unique() if v.strip())
        chosen = [v for v in _listed(column) if v in options]
        names = labels if column == "theme_id" and labels else {}
        title = "Theme" if column == "theme_id" else column.replace("_", " ").capitalize()
        spec[column] = st.sidebar.multiselect(title, options, default=chosen, key=f"f-{column}",
                                              format_func=lambda v, n=names: f"{v}: {n[v]}" if v in n else v)
    if "confidence" in stored and stored["confidence"].notna().any():  # e.g. only what the tagger was unsure of
        low = float(_param("min_confidence") or 0)
        high = float(_param("max_confidence") or 1)
        picked = st.sidebar.slider("Confidence", 0.0, 1.0, (low, high), step=0.05, key="f-confidence")
        spec["min_confidence"] = picked[0] if picked[0] > 0 else None
        spec["max_confidence"] = picked[1] if picked[1] < 1 else None
    kept = st.session_state.setdefault(KEPT, {})
    for key, value in spec.items():  # the URL holds the filter: a link shows the same items
        text = ",".join(value) if isinstance(value, list) else ("" if value is None else str(value))
        kept[key] = text
        if text:
            st.query_params[key] = text
        elif key in st.query_params:
            del st.query_params[key]
    if is_filtered(spec) and st.sidebar.button("Clear filters", key="f-clear"):
        for key in spec:
            st.query_params.pop(key, None)
            st.session_state.pop(f"f-{key}", None)
        st.session_state.pop(KEPT, None)
        st.session_state.pop("f-dates", None)
        st.session_state.pop("f-confidence", None)
        st.rerun()
    return spec


def apply(items: pd.DataFrame, spec: dict) -> pd.DataFrame:
    return filter_items(items, spec)


def caption(view: pd.DataFrame, items: pd.DataFrame, spec: dict) -> None:
    if is_filtered(spec):
        stored = (items["status"] == "stored").sum()
        st.info(f"Filtered: {int((view['status'] == 'stored').sum()):,} of {int(stored):,} analysed items "
                f"({', '.join(f'{k} {v}' for k, v in spec.items() if v)}).", icon=":material/filter_alt:")
