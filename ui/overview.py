"""Overview: the run's accounting, volume by root cause over time, and what stands out."""

import pandas as pd
import streamlit as st

from ui import auth, data, filters
from ui.safe import plain


def small_multiples(weekly: pd.DataFrame):
    """One small line chart per root cause, on one scale: ten lines in one chart are hard to tell apart."""
    import altair as alt

    line = alt.Chart().mark_line(point=True).encode(
        x=alt.X("week of:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=-45, tickCount=4)),
        y=alt.Y("items:Q", title="items"), tooltip=["root_cause", "week of:T", "items"])
    return line.properties(width=130, height=90).facet(
        data=weekly, facet=alt.Facet("root_cause:N", title=None), columns=5)

st.title("Overview")
auth.sign_in()
run_id = data.pick_run()
if run_id:
    info = data.run_info(run_id)
    counts, manifest = info["counts"], info["manifest"] or {}
    items = data.frame(run_id, "items")
    spec = filters.sidebar(items, data.theme_labels(run_id))
    view = filters.apply(items, spec)
    stored = view[view["status"] == "stored"]

    # what a CX lead came for first (on a phone, the first screen): the top actions and what stands out
    st.subheader("What stands out")
    actions = data.frame(run_id, "actions").head(3)
    for a in actions.to_dict("records"):
        st.markdown(f"**#{a['rank']} {plain(a['title'])}**  \n"
                    f"owner: {plain(a['owner'])} · impact {a['impact']:.0f}")
    segments = data.frame(run_id, "segments")
    causes = data.settings().measure.cause_columns
    notes = segments[(segments["level"] == "root_cause") & segments["column"].isin(causes)]
    for sentence in notes.sort_values("ci_low", ascending=False).head(5)["sentence"]:
        st.markdown(f"- {plain(sentence)}")

    cols = st.columns(6)
    cols[0].metric("Feedback read", f"{counts['read']:,}")
    cols[1].metric("Analysed", f"{counts['stored']:,}")
    cols[2].metric("Duplicates", f"{counts['duplicates']:,}")
    cols[3].metric("Non-actionable", f"{counts['non_actionable']:,}")
    cols[4].metric("Quarantined", f"{counts['quarantined']:,}")
    cols[5].metric("Themes", manifest.get("n_themes", "-"),
                   help=f"{manifest.get('unthemed_share', 0):.0%} of analysed items fit no theme yet")
    pii = manifest.get("pii_redactions") or {}
    if pii:
        st.caption("PII redacted before anything was embedded or stored: "
                   + ", ".join(f"{k} {v}" for k, v in pii.items()))
    names = manifest.get("names_left_out") or []
    if names:
        st.caption(f"Left out of what the models read, as the shop's own name: {plain(', '.join(names))}. Remarks "
                   "group by what went wrong, not by whom they address; quotes keep the name.")
    for note in (manifest.get("health") or {}).get("notes", []):  # what limits this run's conclusions
        st.warning(plain(note), icon=":material/info:")
    check = manifest.get("self_check")
    if check:
        st.caption(f"Self-check against the input's ground-truth labels: root-cause accuracy {check['accuracy']:.1%} "
                   f"on {check['n']:,} items.")

    with st.expander("Data quality: why rows were set aside"):
        reasons = []
        for outcome, key in [("non_actionable", "non_actionable_reasons"), ("quarantined", "quarantine_reasons"),
                             ("duplicate", "duplicate_reasons")]:
            reasons += [{"outcome": outcome, "reason": r, "rows": n} for r, n in (manifest.get(key) or {}).items()]
        if reasons:
            st.dataframe(reasons, hide_index=True)
        quarantined = data.frame(run_id, "quarantine")
        if not quarantined.empty:
            st.caption("Quarantined rows, with the file and line they came from:")
            st.dataframe(quarantined[["source", "source_line", "reason", "detail", "text"]], hide_index=True)

    if info["kind"] == "weekly":
        lines, changes = data.this_week(run_id)
        st.subheader("What changed this week")
        for line in lines:
            if line.startswith("attention: "):
                st.warning(plain(line.removeprefix("attention: ")), icon=":material/priority_high:")
            else:
                st.markdown(f"- {plain(line)}")
        if not changes.empty:
            by_cause = changes.groupby(["cause", "field"]).size().unstack(fill_value=0)
            st.bar_chart(by_cause, horizontal=True, x_label="items", y_label="cause")
            texts = items.set_index("item_id")["text"]
            shown = changes.assign(text=changes["item_id"].map(texts))[
                ["item_id", "field", "old", "new", "cause", "confidence_before", "confidence_after", "text"]]
            with st.expander(f"The ledger: {len(changes):,} changes, with their cause"):
                st.dataframe(shown, hide_index=True)

    filters.caption(view, items, spec)
    st.subheader("Volume by root cause, per week")
    dated = stored.assign(when=pd.to_datetime(stored["timestamp"], utc=True, errors="coerce")).dropna(subset=["when"])
    if dated["when"].dt.date.nunique() > 1:  # one line per cause, weeks by their dates
        dated["week of"] = dated["when"].dt.tz_localize(None).dt.to_period("W").dt.start_time.dt.date
        weekly = dated.groupby(["week of", "root_cause"]).size().rename("items").reset_index()
        weekly["week of"] = pd.to_datetime(weekly["week of"])
        st.altair_chart(small_multiples(weekly), width="stretch")
    else:
        st.caption("The items carry no dates (or one day only): no weekly volume to draw.")

    st.subheader("Root causes")
    st.bar_chart(stored["root_cause"].value_counts(), horizontal=True, x_label="items", y_label="root cause")
