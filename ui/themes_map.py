"""The theme map: the items' 2-D layout (computed and stored by the pipeline, ``insight.themes.layout``) drawn
with Altair; a click on a theme's disc or on one of its items opens that theme.

Only a sample of the items is drawn (a browser handles a few thousand points well, not 100k); each theme's disc
is drawn from all of its items, so sizes are right whatever the sample.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

MAX_POINTS = 4000
COLOURED = 10  # the largest themes get a colour each; the rest share one
WIDTH, HEIGHT = 720, 440


def draw(view: pd.DataFrame, labels: dict[str, str]) -> str | None:
    """Draw the map of the items in ``view``; return the theme a reviewer clicked (None: no click)."""
    stored = view[view["status"] == "stored"]
    if "map_x" not in stored or stored["map_x"].isna().all():
        st.caption("This run has no theme map (it was made before maps, or by a weekly run).")
        return None
    placed = stored.dropna(subset=["map_x", "map_y"])
    placed = placed[placed["theme_id"].isin(labels) | (placed["theme_id"] == "unthemed")]
    if placed.empty:
        return None
    with st.expander("Theme map", expanded=True):
        by = st.radio("Colour by", ["theme", "root cause"], horizontal=True, key="map-colour")
        themed = placed[placed["theme_id"] != "unthemed"]
        hubs = themed.groupby("theme_id").agg(map_x=("map_x", "mean"), map_y=("map_y", "mean"),
                                              items=("item_id", "size"),
                                              root_cause=("root_cause", lambda c: c.mode().iat[0]))
        hubs = hubs.reset_index().sort_values("items", ascending=False)
        hubs["label"] = hubs["theme_id"].map(labels)
        top = set(hubs["theme_id"].head(COLOURED))
        sample = placed.sample(MAX_POINTS, random_state=0) if len(placed) > MAX_POINTS else placed
        sample = sample[["item_id", "theme_id", "root_cause", "map_x", "map_y", "text"]].assign(
            text=sample["text"].fillna("").str.slice(0, 90), label=sample["theme_id"].map(labels).fillna("unthemed"))
        for frame in (sample, hubs):
            frame["colour"] = frame["root_cause"] if by == "root cause" else [
                f"{t}: {labels.get(t, t)}"[:40] if t in top else ("no theme" if t == "unthemed" else "other themes")
                for t in frame["theme_id"]]
        x = alt.X("map_x:Q", axis=None, scale=alt.Scale(domain=_domain(placed["map_x"]), nice=False, zero=False))
        y = alt.Y("map_y:Q", axis=None, scale=alt.Scale(domain=_domain(placed["map_y"]), nice=False, zero=False))
        # by theme, the largest themes' names are written on the map; by root cause, a legend says which colour
        colour = alt.Color("colour:N", title=by, legend=None if by == "theme" else alt.Legend(orient="right"))
        on_disc = alt.selection_point(fields=["theme_id"], name="disc", on="click")
        on_item = alt.selection_point(fields=["theme_id"], name="item", on="click")
        points = alt.Chart(sample).mark_circle(size=14, opacity=0.55).encode(
            x=x, y=y, color=colour, tooltip=["theme_id", "label", "root_cause", "text"]).add_params(on_item)
        discs = alt.Chart(hubs).mark_circle(opacity=0.18, stroke="#333", strokeWidth=0.5).encode(
            x=x, y=y, color=colour, size=alt.Size("items:Q", legend=None, scale=alt.Scale(range=[150, 2500])),
            tooltip=["theme_id", "label", "items", "root_cause"]).add_params(on_disc)
        names = alt.Chart(hubs.head(COLOURED)).mark_text(fontSize=11, dy=-12).encode(x=x, y=y, text="label:N")
        chart = alt.layer(discs, points, names).properties(width=WIDTH, height=HEIGHT)
        state = st.altair_chart(chart, on_select="rerun", key="theme-map", width="content")
        st.caption(f"{len(sample):,} of {len(placed):,} items drawn; discs are themes (area = items). Near themes "
                   "are alike.")
    chosen = None
    for name in ("disc", "item"):
        picked = (state.selection.get(name) if state is not None else None) or []
        chosen = chosen or next((p.get("theme_id") for p in picked if p.get("theme_id") in labels), None)
    return chosen


def _domain(values: pd.Series) -> list[float]:
    low, high = float(values.min()), float(values.max())
    margin = (high - low) * 0.06 or 1.0
    return [low - margin, high + margin]
