"""Runs: every run with its health, this run against the one before it, quarantine by reason, and the audit log."""

import pandas as pd
import streamlit as st

from insight.report import compare_runs
from ui import auth, data
from ui.safe import plain

st.title("Runs")
auth.sign_in()
run_id = data.pick_run()
if run_id:
    listed = data.runs()
    history = pd.DataFrame([{
        "run": r["run_id"], "kind": r["kind"], "when": str(r["created_at"])[:16], "source": str(r["source"])[-40:],
        "read": (r["counts"] or {}).get("read"), "analysed": (r["counts"] or {}).get("stored"),
        "quarantined": (r["counts"] or {}).get("quarantined"),
        "themes": (r["manifest"] or {}).get("n_themes"),
        "health": "; ".join(((r["manifest"] or {}).get("health") or {}).get("notes", [])) or "ok",
    } for r in listed.to_dict("records")])
    st.subheader("History")
    st.dataframe(history, hide_index=True, width="stretch",
                 column_config={"health": st.column_config.TextColumn("health warnings", width="large")})

    ids = listed["run_id"].tolist()
    at = ids.index(run_id)
    st.subheader("This run against the one before")
    if at + 1 >= len(ids):
        st.caption("This is the workspace's first analysed run: nothing to compare with yet.")
    else:
        before = ids[at + 1]
        changes = compare_runs({"themes": data.frame(before, "themes"), "actions": data.frame(before, "actions")},
                               {"themes": data.frame(run_id, "themes"), "actions": data.frame(run_id, "actions")})
        themes = changes["themes"]
        counts = themes["what"].value_counts()
        cols = st.columns(4)
        for col, what in zip(cols, ["born", "grew", "shrank", "gone"]):
            col.metric(f"Themes {what}", int(counts.get(what, 0)))
        st.caption(f"{run_id} against {before}. A theme grew or shrank when it changed by more than 20 % and by 5 "
                   "items or more.")
        notable = themes[themes["what"] != "steady"]
        if len(notable):
            st.bar_chart(notable.head(20).set_index("label")["change"], horizontal=True, x_label="items (now - before)",
                         y_label="theme")
            st.dataframe(notable, hide_index=True, width="stretch")
        moved = changes["actions"]
        st.markdown("**Actions**")
        st.dataframe(moved[moved["moved"] != "same"], hide_index=True, width="stretch")

    st.subheader("Quarantine by reason")
    quarantined = data.frame(run_id, "quarantine")
    if quarantined.empty:
        st.caption("Nothing was quarantined in this run.")
    else:
        st.bar_chart(quarantined["reason"].value_counts(), horizontal=True, x_label="rows", y_label="reason")
        reason = st.selectbox("Rows quarantined because", sorted(quarantined["reason"].unique()), key="q-reason")
        st.dataframe(quarantined[quarantined["reason"] == reason][["source", "source_line", "detail", "text"]],
                     hide_index=True, width="stretch")

    st.subheader("Audit log")
    if auth.may("admin"):
        log = data.audit()
        if log.empty:
            st.caption("No reviewer has changed anything yet.")
        else:
            shown = log.sort_values("entry_id", ascending=False).head(500)
            st.dataframe(shown[["at", "actor", "role", "action", "target", "run_id", "before", "after"]],
                         hide_index=True, width="stretch")
            st.caption(f"{len(log):,} changes; role 'local' means no roles are configured and the name is a claim. "
                       f"Latest: {plain(shown.iloc[0]['actor'])} ({shown.iloc[0]['action']}).")
    else:
        st.caption("The audit log is for admins.")
