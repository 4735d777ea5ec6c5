"""Review: find items (by words or by meaning), label the review queue one by one with the keyboard or in bulk,
and see how far reviewers agree. Every label is a correction (or a confirmation) that trains the next tagger.
"""

import numpy as np
import pandas as pd
import streamlit as st

from insight.errors import InsightError
from insight.report import agreement
from ui import auth, data, filters
from ui.safe import plain

KEYS = "1234567890"  # keyboard shortcuts for the first ten root causes


@st.cache_resource(show_spinner="Reading the items' vectors...", max_entries=2)
def _by_meaning(run_id: str):
    """Semantic search over the run's stored items, made once per run: (their ids, query -> cosines)."""
    from insight.operations import semantic_search

    items = data.frame(run_id, "items")
    stored = items[items["status"] == "stored"]
    return stored["item_id"].tolist(), semantic_search(stored["text"].tolist(), data.settings())


def _search(run_id: str, view: pd.DataFrame) -> None:
    cols = st.columns([4, 1])
    query = cols[0].text_input("Search the feedback", key="q", placeholder="e.g. parcel never arrived")
    how = cols[1].radio("Match", ["words", "meaning"], key="q-how", horizontal=True)
    if not query.strip():
        return
    stored = view[view["status"] == "stored"]
    if how == "words":
        hits = stored[stored["text"].fillna("").str.contains(query.strip(), case=False, regex=False)]
        hits = hits.assign(score=np.nan)
    else:
        ids, score = _by_meaning(run_id)  # the whole run's, once: a filter only picks among them
        scores = pd.Series(score(query), index=ids)
        hits = stored.assign(score=stored["item_id"].map(scores).round(3)).sort_values("score", ascending=False)
        hits = hits[hits["score"] >= 0.3]
    st.caption(f"{len(hits):,} items match" + (" (meaning: cosine 0.3 or more, best first)" if how == "meaning"
                                               else ""))
    st.dataframe(hits[data.item_columns(hits, "item_id", "score", "text")].head(200), hide_index=True,
                 width="stretch")


def _label(run_id: str, item_id: str, cause: str, seen: str) -> None:
    try:
        entry = data.correct_tag(run_id, item_id, cause, auth.actor(), expected_cause=seen)
        st.toast(f"{item_id}: {entry['old_cause']} -> {entry['new_cause']}")
    except InsightError as exc:  # a missing name, a role, or an item someone labelled meanwhile
        st.session_state["label-error"] = str(exc)


def _card(run_id: str, queue: pd.DataFrame, causes: list[str], themes: dict[str, str]) -> None:
    """The next item to label: its text, its tags and the evidence for them, one key per answer."""
    skipped = st.session_state.setdefault("skipped", [])
    waiting = queue[~queue["item_id"].isin(skipped)]
    if error := st.session_state.pop("label-error", None):
        st.error(error)
    if waiting.empty:
        st.success("Nothing left to label in this view." + (f" ({len(skipped)} skipped.)" if skipped else ""))
        if skipped and st.button("Bring back the skipped items", key="unskip"):
            skipped.clear()
            st.rerun()
        return
    item = waiting.iloc[0]
    seen = data.shown(f"cause-{item['item_id']}", item["root_cause"])
    with st.container(border=True, key="label-card"):
        st.caption(f"{item['item_id']} · theme {item['theme_id']}: {plain(themes.get(item['theme_id'], ''))} · "
                   f"{len(waiting):,} waiting")
        st.markdown(f"> {plain(item['text'])}")
        probabilities = item.get("probabilities") if isinstance(item.get("probabilities"), dict) else {}
        top = sorted(probabilities.items(), key=lambda kv: -kv[1])[:3]
        evidence = ", ".join(f"{k} {v:.0%}" for k, v in top) if top else f"confidence {item['confidence']:.2f}"
        st.caption(f"Tagged **{item['root_cause']}** ({evidence}); second cause {item.get('second_cause') or '-'}; "
                   f"in the queue because: {item.get('review_reason') or 'unsure'}")
        left, right = st.columns([1, 1])
        left.button(f"Accept {item['root_cause']}", key="label-accept", shortcut="a", type="primary",
                    on_click=_label, args=(run_id, item["item_id"], item["root_cause"], seen))
        right.button("Skip", key="label-skip", shortcut="s", on_click=skipped.append, args=(item["item_id"],))
        st.caption("Or relabel (keys 1-0):")
        cols = st.columns(5)
        for n, cause in enumerate(causes):
            cols[n % 5].button(cause, key=f"label-{cause}",  # Streamlit shows the shortcut key on the button
                               shortcut=KEYS[n] if n < len(KEYS) else None,
                               on_click=_label, args=(run_id, item["item_id"], cause, seen))
    data.remember(f"cause-{item['item_id']}", item["root_cause"])


def _bulk(run_id: str, queue: pd.DataFrame, causes: list[str]) -> None:
    shown = queue[["item_id", "theme_id", "root_cause", "second_cause", "confidence", "review_reason", "text"]]
    picked = st.dataframe(shown.head(500), hide_index=True, width="stretch", on_select="rerun",
                          selection_mode="multi-row", key="bulk-table")
    rows = picked.selection.rows if picked is not None and hasattr(picked, "selection") else []
    chosen = shown.head(500).iloc[rows] if rows else shown.iloc[0:0]
    cols = st.columns([2, 2, 2])
    cause = cols[1].selectbox("Relabel as", causes, key="bulk-cause", label_visibility="collapsed")
    accept = cols[0].button(f"Accept the tagger's cause for {len(chosen)} selected", key="bulk-accept",
                            disabled=chosen.empty)
    relabel = cols[2].button(f"Relabel {len(chosen)} selected", key="bulk-relabel", disabled=chosen.empty)
    if accept or relabel:
        done, failed = 0, []
        for r in chosen.to_dict("records"):
            try:
                data.correct_tag(run_id, r["item_id"], r["root_cause"] if accept else cause, auth.actor(),
                                 expected_cause=r["root_cause"])
                done += 1
            except InsightError as exc:
                failed.append(f"{r['item_id']}: {exc}")
        if done:
            st.success(f"{done} item(s) labelled.")
        for message in failed[:5]:
            st.error(message)


def _agreement(items: pd.DataFrame) -> None:
    stats = agreement(data.corrections(), items["item_id"])
    if not stats["labels"]:
        st.caption("No reviewer has labelled an item of this run yet.")
        return
    cols = st.columns(4)
    cols[0].metric("Labels", f"{stats['labels']:,}", help=", ".join(f"{k} {v}" for k, v in stats["reviewers"].items()))
    cols[1].metric("Items labelled by 2+ reviewers", stats["shared_items"])
    cols[2].metric("Reviewers agree", "n/a" if stats["agreement"] is None else f"{stats['agreement']:.0%}")
    cols[3].metric("Cohen's kappa", "n/a" if stats["kappa"] is None else f"{stats['kappa']:.2f}",
                   help="the two most active reviewers, on the items both labelled (5 or more)")
    if stats["confirmed_share"] is not None:
        st.caption(f"Reviewers kept the tagger's cause on {stats['confirmed_share']:.0%} of their labels.")
    if len(stats["disagreements"]):
        st.markdown("**Where reviewers disagree**")
        st.dataframe(stats["disagreements"].reset_index(), hide_index=True)


st.title("Review")
auth.sign_in()
run_id = data.pick_run()
if run_id:
    items = data.frame(run_id, "items")
    spec = filters.sidebar(items, data.theme_labels(run_id))
    view = filters.apply(items, spec)
    filters.caption(view, items, spec)
    themes = data.frame(run_id, "themes")
    labels = dict(zip(themes["theme_id"], themes["label"]))
    wanted = st.query_params.get("theme")
    options = ["all themes", *labels]
    theme = st.selectbox("Theme", options, index=options.index(wanted) if wanted in labels else 0, key="r-theme",
                         format_func=lambda t: t if t == "all themes" else f"{t}: {labels[t]}")
    if theme in labels:
        st.query_params["theme"] = theme
        view = view[view["theme_id"] == theme]
    elif "theme" in st.query_params:
        del st.query_params["theme"]
    _search(run_id, view)
    queue = view[(view["status"] == "stored") & view["needs_review"].fillna(False).astype(bool)]
    if "review_rank" in queue:  # the label worth most first: uncertain, and unlike those above it
        queue = queue.sort_values("review_rank", na_position="last")
    st.subheader(f"Review queue: {len(queue):,} items, the most useful label first")
    if auth.may("reviewer"):
        causes = data.root_causes()
        one, many = st.tabs(["One by one", "In bulk"])
        with one:
            _card(run_id, queue, causes, labels)
        with many:
            _bulk(run_id, queue, causes)
    else:
        st.dataframe(queue[["item_id", "theme_id", "root_cause", "confidence", "review_reason", "text"]].head(500),
                     hide_index=True, width="stretch")
    st.subheader("Reviewers' agreement")
    _agreement(items)
