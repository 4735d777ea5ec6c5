"""Themes: every discovered theme with its size, trend and root cause; drill down into one."""

import pandas as pd
import streamlit as st

from insight.errors import InsightError
from insight.report import is_filtered
from ui import auth, data, filters, themes_map
from ui.safe import plain


def _correction_form(run_id: str, queue: pd.DataFrame, members: pd.DataFrame) -> None:
    """Correct one item's root cause: queued items first, then this theme's; corrections train the next tagger."""
    candidates = pd.concat([queue, members]).drop_duplicates("item_id")
    if candidates.empty:
        return
    texts = dict(zip(candidates["item_id"], candidates["text"].fillna("").str.slice(0, 80)))
    causes = data.root_causes()
    st.markdown("**Correct a root cause** (the next weekly run, or `insight train tagger --from-corrections`, "
                "learns from it)")
    # outside the form: picking another item reruns the page, so the cause shown is that item's (inside the form
    # the first item's cause stayed while another item was picked)
    item = st.selectbox("Item", list(texts), format_func=lambda i: f"{i}: {texts[i]}", key="fix-item")
    current = candidates.set_index("item_id").at[item, "root_cause"]
    with st.form("correct-tag"):
        cols = st.columns([3, 1])
        cause = cols[0].selectbox(f"Root cause (now: {current})", causes,
                                  index=causes.index(current) if current in causes else 0, key=f"fix-cause-{item}")
        if cols[1].form_submit_button("Save"):
            try:
                entry = data.correct_tag(run_id, item, cause, auth.actor(),
                                         expected_cause=data.shown(f"cause-{item}", current))
                st.success(f"{item}: {entry['old_cause']} -> {entry['new_cause']}")
                current = cause
            except InsightError as exc:  # a missing name, an unknown cause, a role or a stale page, explained
                st.error(str(exc))
    data.remember(f"cause-{item}", current)


def _editor(theme_id: str, label: str, others: dict[str, str], members: pd.DataFrame) -> None:
    """Rename, merge into, split the open theme or move items out of it: each edit is a registry event (with who
    made it, in the audit log) and shows at once."""
    with st.expander("Edit this theme"):
        with st.form(f"rename-{theme_id}"):
            name = st.text_input("New name", value=label, key=f"name-{theme_id}")
            if st.form_submit_button("Rename"):
                _apply("rename", f"{theme_id} is now called {name!r}", theme_id=theme_id, label=name)
        with st.form(f"merge-{theme_id}"):
            merged = st.multiselect("Merge these themes into this one", list(others),
                                    format_func=lambda t: f"{t}: {others[t]}", key=f"merge-{theme_id}")
            if st.form_submit_button("Merge") and merged:
                _apply("merge", f"{', '.join(merged)} merged into {theme_id}", theme_ids=merged, into=theme_id)
        k = st.number_input("Split into parts", min_value=2, max_value=6, value=2, key=f"k-{theme_id}")
        if st.button("Preview the split", key=f"preview-{theme_id}"):
            event = data.edit_theme("split", preview=True, theme_id=theme_id, k=int(k))
            st.session_state[f"split-sizes-{theme_id}"] = event["sizes"]
        sizes = st.session_state.get(f"split-sizes-{theme_id}")
        if sizes:
            st.caption("The split would make parts of " + ", ".join(f"{n} items" for n in sizes.values())
                       + " (the largest keeps the id).")
            if st.button("Split", key=f"split-{theme_id}"):
                event = _apply("split", f"{theme_id} split", theme_id=theme_id, k=int(k))
                st.session_state.pop(f"split-sizes-{theme_id}", None)
                if event:
                    st.caption("New themes: " + ", ".join(event["into"]))
        with st.form(f"move-{theme_id}"):
            texts = dict(zip(members["item_id"], members["text"].fillna("").str.slice(0, 70)))
            moved = st.multiselect("Move these items...", list(texts), format_func=lambda i: f"{i}: {texts[i]}",
                                   key=f"move-items-{theme_id}")
            to = st.selectbox("...to the theme", list(others), format_func=lambda t: f"{t}: {others[t]}",
                              key=f"move-to-{theme_id}")
            if st.form_submit_button("Move") and moved and to:
                _apply("move", f"{len(moved)} item(s) moved to {to}", item_ids=moved, theme_id=to)


def _apply(op: str, said: str, **kw) -> dict | None:
    try:
        event = data.edit_theme(op, by=auth.actor(), **kw)
    except InsightError as exc:
        st.error(str(exc))
        return None
    st.success(f"{said}. The next run keeps it.")
    return event


st.title("Themes")
auth.sign_in()
run_id = data.pick_run()
if run_id:
    themes = data.frame(run_id, "themes")
    items = data.frame(run_id, "items")
    spec = filters.sidebar(items, data.theme_labels(run_id))
    view = filters.apply(items, spec)
    filters.caption(view, items, spec)
    shown = ["theme_id", "label", "root_cause", "root_cause_share", "size", "recent_volume", "growth",
             "negative_share", "spike_weeks"]
    if "problem_label" in themes:  # what the theme's complaints are about (runs before issue 14 lack it)
        shown.insert(2, "problem_label")
    if themes.get("rating_effect") is not None and themes["rating_effect"].notna().any():  # the driver view
        shown += ["mean_rating", "rating_effect"]
    table = themes[shown].copy()
    table["trend"] = themes["weekly_counts"]
    if is_filtered(spec):  # how many of each theme's items pass the filters; themes with none drop out
        table.insert(1, "in view", table["theme_id"].map(view["theme_id"].value_counts()).fillna(0).astype(int))
        table = table[table["in view"] > 0].sort_values("in view", ascending=False)
        themes = themes[themes["theme_id"].isin(table["theme_id"])]
    if themes.empty:
        st.info("No theme has items that pass the filters.")
        st.stop()
    labels = dict(zip(themes["theme_id"], themes["label"]))
    picked = themes_map.draw(view, labels)  # a click on the map opens that theme
    st.caption("Click a row (or a point on the map) to open its theme.")
    rows = st.dataframe(
        table.reset_index(drop=True), hide_index=True, width="stretch", on_select="rerun",
        selection_mode="single-row", key="theme-table",
        column_config={
            "root_cause_share": st.column_config.ProgressColumn("root-cause share", min_value=0, max_value=1),
            "negative_share": st.column_config.ProgressColumn("negative", min_value=0, max_value=1),
            "problem_label": st.column_config.TextColumn("complaints are about"),
            "trend": st.column_config.LineChartColumn("weekly volume"),
            "mean_rating": st.column_config.NumberColumn("mean rating", format="%.2f"),
            "rating_effect": st.column_config.NumberColumn(
                "effect on average rating", format="%.3f",
                help="How much the overall average rating would rise if this theme's items were rated like the rest"),
        },
    )
    selected = rows.selection.rows if rows is not None and hasattr(rows, "selection") else []
    if selected:
        picked = picked or table.reset_index(drop=True).iloc[selected[0]]["theme_id"]
    ids = list(labels)
    if picked in labels and picked != st.session_state.get("theme-opened"):  # a new click wins over the picker
        st.session_state["theme-pick"] = picked
        st.session_state["theme-opened"] = picked
    if st.session_state.get("theme-pick") not in labels:  # a link's ?theme=, else the first
        wanted = st.query_params.get("theme")
        st.session_state["theme-pick"] = wanted if wanted in labels else ids[0]
    chosen = st.selectbox("Theme", ids, format_func=lambda t: f"{t}: {labels[t]}", key="theme-pick")
    st.query_params["theme"] = chosen
    theme = themes[themes["theme_id"] == chosen].iloc[0]
    st.subheader(f"{chosen}: {plain(theme['label'])}")
    members = view[view["theme_id"] == chosen]
    members = members[data.item_columns(members, "item_id")]
    if auth.may("reviewer"):
        _editor(chosen, theme["label"], {t: lab for t, lab in labels.items() if t != chosen and t != "unthemed"},
                members)
    c1, c2 = st.columns(2)
    c1.markdown("**Keywords** " + ", ".join(theme["keywords"] or []))
    c2.markdown("**Key phrases** " + ", ".join(theme["key_phrases"] or []))
    if theme["weekly_counts"]:
        st.bar_chart(pd.Series(theme["weekly_counts"], index=range(1, len(theme["weekly_counts"]) + 1)),
                     x_label="week", y_label="items")
    if theme.get("subthemes"):
        st.markdown("**Sub-themes** " + "; ".join(
            f"{p['id']} {plain(p['label'])} ({p['size']}"
            + (f"; complaints: {plain(p['problem_label'])}" if p.get("problem_label") else "") + ")"
            for p in theme["subthemes"]))
    if theme.get("root_cause_mix"):
        st.markdown("**Root-cause mix** " + ", ".join(f"{k} {v:.0%}" for k, v in theme["root_cause_mix"].items()))
    st.markdown("**Representative examples**")
    for example in theme["examples"] or []:
        st.markdown(f"> {plain(example)}")
    segments = data.frame(run_id, "segments")
    lifts = segments[(segments["level"] == "theme") & (segments["group_id"] == chosen)]
    if not lifts.empty:
        st.markdown("**Segments over-represented in this theme**")
        for sentence in lifts["sentence"].head(5):
            st.markdown(f"- {plain(sentence)}")
    with st.expander(f"All {len(members)} items"):
        st.dataframe(members, hide_index=True, width="stretch")
    queue = view[(view["status"] == "stored") & view["needs_review"].fillna(False).astype(bool)
                 & (view["theme_id"] == chosen)]
    if "review_rank" in queue:  # the label worth most first: uncertain, and unlike those above it
        queue = queue.sort_values("review_rank", na_position="last")
    st.caption(f"{len(queue)} of this theme's items wait for a reviewer; the Review page labels them one by one "
               "or in bulk.")
    if auth.may("reviewer"):
        _correction_form(run_id, queue, members)
