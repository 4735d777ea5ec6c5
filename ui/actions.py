"""Actions: ranked improvement actions with their evidence, and the export product teams take away."""

import pandas as pd
import streamlit as st

from insight.errors import InsightError
from insight.report import explain_impact, export, is_filtered, pocket_of, with_decisions
from ui import auth, data, filters
from ui.safe import plain

FORMATS = {"CSV": ("csv", "text/csv"), "JSON": ("json", "application/json"), "Jira": ("jira", "text/csv"),
           "Markdown": ("markdown", "text/markdown")}

def sparkline(counts: list[int]) -> str:
    """Counts as a row of block characters, scaled to the largest."""
    bars = "▁▂▃▄▅▆▇█"
    top = max(counts) or 1
    return "".join(bars[min(len(bars) - 1, int(c / top * (len(bars) - 1) + 0.5))] for c in counts)


def _decide(a: dict, seen: int, assignee: str) -> bool:
    """The decision form; ``seen`` (decisions shown) makes a decision someone else made meanwhile refuse this one.
    True when a decision was stored."""
    key, stored = a["theme_id"], False
    with st.form(f"status-{key}"):
        cols = st.columns([2, 2, 3, 1])
        options = ["proposed", "approved", "rejected", "in_progress", "done"]
        new = cols[0].selectbox("Status", options, index=options.index(a["status"] or "proposed"), key=f"st-{key}")
        to = cols[1].text_input("Assigned to", value=assignee, key=f"to-{key}")
        note = cols[2].text_input("Note", key=f"note-{key}")
        if cols[3].form_submit_button("Save"):
            try:
                data.set_action_status(key, new, auth.actor(), note, assignee=to,
                                       expected_version=data.shown(f"decisions-{key}", seen))
                st.success(f"{key} is now {new}")
                seen, stored = seen + 1, True
            except InsightError as exc:  # transitions, missing names, roles and stale pages, explained
                st.error(str(exc))
    data.remember(f"decisions-{key}", seen)
    return stored


st.title("Actions")
auth.sign_in()
run_id = data.pick_run()
if run_id:
    actions = data.frame(run_id, "actions")
    items = data.frame(run_id, "items")
    spec = filters.sidebar(items, data.theme_labels(run_id))
    view = filters.apply(items, spec)
    filters.caption(view, items, spec)
    if is_filtered(spec) and not actions.empty:  # actions whose themes hold complaints that pass the filters
        unhappy = view[view["polarity"] == "negative"]
        counts = unhappy["theme_id"].value_counts()
        counts = {**counts, **unhappy["subtheme_id"].value_counts()} if "subtheme_id" in unhappy else counts
        actions = actions.assign(in_view=[int(sum(counts.get(t, 0) for t in [pocket_of(e) or k, *(r or [])]))
                                          for k, r, e in zip(actions["theme_id"], actions["related_themes"],
                                                             actions["explanation"])])
        actions = actions[actions["in_view"] > 0].sort_values(["in_view", "rank"], ascending=[False, True])
    if actions.empty:
        st.info("No theme in this run is large enough to rank an action.")
    owners = sorted(actions["owner"].dropna().unique())
    picked = st.multiselect("Owner team", owners, default=owners)
    shown = actions[actions["owner"].isin(picked)]
    downloads = st.container()  # drawn here, filled last: a decision made below is in the files at once
    history_all = data.action_history(None)
    trends = dict(zip(*data.frame(run_id, "themes")[["theme_id", "weekly_counts"]].to_dict("list").values()))
    assigned = dict(zip(shown["theme_id"], with_decisions(shown, history_all)["assigned_to"]))
    writer = auth.may("reviewer")
    if not writer:
        st.caption("You can read and export actions; deciding on them needs the reviewer role.")
    for a in shown.to_dict("records"):
        in_view = f"  ·  {a['in_view']} complaints in view" if "in_view" in a else ""
        who = f" → {assigned[a['theme_id']]}" if assigned.get(a["theme_id"]) else ""
        with st.expander(f"#{a['rank']}  {plain(a['title'])}  ·  impact {a['impact']:.0f}{in_view}  ·  "
                         f"{plain(a['owner'])}{plain(who)}  ·  {a['status'] or 'proposed'}", expanded=a["rank"] <= 3):
            c = st.columns(3)
            c[0].metric("Impact", f"{a['impact']:.0f}")
            if pd.notna(a["growth"]):
                c[1].metric("Items in recent weeks", a["recent_volume"])
                c[2].metric("Growth vs baseline", f"{a['growth']:.1f}x")
            else:  # no timestamps, or too little history: the run claims no trend (the overview says why)
                spread = a["explanation"].get("theme_complaints") if isinstance(a["explanation"], dict) else None
                c[1].metric("Complaints", a.get("complaints") if pd.notna(a.get("complaints")) else "n/a",
                            help=f"negative items of its root cause: the theme's {spread} complaints are spread over "
                                 f"causes" if spread else
                            f"negative items among the {'sub-' if pocket_of(a['explanation']) else ''}theme's "
                            f"{a['volume']} items")
                c[2].metric("Growth vs baseline", "n/a", help="not enough dated history to measure growth")
            trend = trends.get(a["theme_id"])
            # the impact in a picture, weeks as bars (text: 25 charts would slow the page); only where the run has
            # dated history (an export without dates is one "week": no trend to draw)
            if trend and len(trend) > 1 and pd.notna(a["growth"]):
                st.markdown(f"**Weekly items** `{sparkline(trend)}` (weeks 1-{len(trend)}, last {trend[-1]}, "
                            f"peak {max(trend)})")
            st.markdown(f"**Owner:** {plain(a['owner'])}")
            if a["segment_sentence"]:
                st.warning(plain(a["segment_sentence"]))
            if a["spike_weeks"]:
                st.markdown(f"Spike in week(s) {', '.join(map(str, a['spike_weeks']))}.")
            st.markdown("**Evidence**")
            for quote in a["evidence"] or []:
                st.markdown(f"> {plain(quote)}")
            st.markdown("**Playbook**")
            for step in a["steps"] or []:
                st.markdown(f"- {plain(step)}")
            history = history_all[history_all["action_key"] == a["theme_id"]] if len(history_all) else history_all
            if writer and _decide(a, len(history), assigned.get(a["theme_id"]) or ""):
                history = data.action_history(a["theme_id"])
            if len(history):
                st.caption("History: " + "; ".join(
                    f"{r['status']} by {plain(r['by'])} ({str(r['at'])[:16]})" + (f": {plain(r['note'])}"
                                                                                  if r.get("note") else "")
                    for r in history.to_dict("records")))
            themes = [a["theme_id"], *(a["related_themes"] or [])]
            where = f" (sub-theme {pocket_of(a['explanation'])} of {plain(a['theme_label'])})" \
                if pocket_of(a["explanation"]) else ""
            st.caption(f"Themes: {', '.join(themes)}{where} · root cause: {a['root_cause']} · status: {a['status']} · "
                       f"why this rank: {plain(explain_impact(a['impact'], a['explanation']))}")
    decided = with_decisions(shown, data.action_history(None))
    cols = downloads.columns(len(FORMATS))
    for col, (name, (fmt, mime)) in zip(cols, FORMATS.items()):  # what is shown, with every decision
        col.download_button(f"Download {name}", export(decided, fmt), file_name=f"actions-{run_id}.{fmt[:4]}",
                            mime=mime, key=f"dl-{fmt}")
