"""The app's one caching module: the store is a cached resource, frames are cached data.

Every cache is keyed by the store URL as well as the run id, so two stores never share an entry. No connection
is opened at import time; the URL comes from the same config the CLI uses (``$INSIGHT_CONFIG`` names a YAML file;
``$INSIGHT_HOME`` and ``$INSIGHT_STORE_URL`` work as everywhere).
"""

from __future__ import annotations

import os
import threading

import pandas as pd
import streamlit as st

from insight import load_config, open_store


def settings():
    """The same validated config the CLI uses (packaged defaults plus $INSIGHT_CONFIG)."""
    return load_config(os.environ.get("INSIGHT_CONFIG") or None)


def _url() -> str:
    return settings().store_url


@st.cache_resource(show_spinner=False)
def _store(url: str, workspace: str | None = None):
    extra = {"workspace": workspace} if workspace else {}
    return open_store(load_config(os.environ.get("INSIGHT_CONFIG") or None, store={"url": url}, **extra))


@st.cache_data(show_spinner=False, ttl=30)
def _runs(url: str, workspace: str) -> pd.DataFrame:
    listed = _store(url, workspace).list_runs()  # ingest-only checks have no themes or actions to review
    return listed[listed["kind"].isin(["pipeline", "weekly"])].reset_index(drop=True)


@st.cache_data(show_spinner=False, ttl=30)
def _workspaces(url: str) -> list[str]:
    return _store(url).workspaces()


@st.cache_resource(show_spinner="Loading the run's items...", max_entries=4)
def _items(url: str, run_id: str) -> pd.DataFrame:
    """A run's items, shared by every session, not copied per call (a copy of 100,000 items cost 0.6 s a page):
    pages select from it and never change it (pandas' copy-on-write keeps a derived frame's edits off it). A
    reviewer's correction is written into it (``correct_tag``) rather than dropping it: reading 100,000 items
    again takes seconds, once per label."""
    return _store(url).load(run_id, "items")


_PATCH = threading.Lock()


@st.cache_resource(show_spinner="Loading run...", max_entries=32)
def _frame(url: str, run_id: str, name: str) -> pd.DataFrame:
    """A run's other frames (themes, actions, weekly, segments, quarantine): small, dropped on every decision."""
    frame = _store(url).load(run_id, name)
    if name in ("themes", "actions"):  # reviewers' names show at once, in every run
        from insight.themes import show_pinned_names

        workspace = _store(url).get_run(run_id)["workspace"] or "default"
        pinned = {r["theme_id"]: r["pinned_label"] for r in _store(url, workspace).registry_records()
                  if r.get("pinned_label")}
        empty = pd.DataFrame(columns=["theme_id", "label"])
        if name == "themes":
            frame, _ = show_pinned_names(frame, pd.DataFrame(), pinned)
        else:
            _, frame = show_pinned_names(_store(url).load(run_id, "themes") if pinned else empty, frame, pinned)
    return frame


@st.cache_data(show_spinner=False)
def _run_info(url: str, run_id: str) -> dict:
    return _store(url).get_run(run_id)


def workspace() -> str:
    """The workspace to review: the configured one when it has runs, else the one with the newest run; a sidebar
    picker when there are several (runs, theme ids and decisions never cross workspaces)."""
    spaces = _workspaces(_url())
    configured = settings().workspace
    if not spaces:
        return configured
    default = configured if configured in spaces else spaces[0]
    if len(spaces) == 1:
        return default
    return st.sidebar.selectbox("Workspace", spaces, index=spaces.index(default))


def runs() -> pd.DataFrame:
    return _runs(_url(), workspace())


def frame(run_id: str, name: str) -> pd.DataFrame:
    """One stored frame of a run: items, themes, actions, weekly or segments."""
    return _items(_url(), run_id) if name == "items" else _frame(_url(), run_id, name)


def item_columns(items: pd.DataFrame, *first: str) -> list[str]:
    """The columns an items table shows: ``first``, then when and where (the configured segment columns, such as
    carrier and payment provider, where the run has values), then the tags and the text."""
    segments = [c for c in settings().measure.segment_columns if c in items and items[c].notna().any()]
    rest = ["timestamp", "channel", *segments, "rating", "theme_id", "root_cause", "confidence", "needs_review",
            "review_reason", "text"]
    return list(dict.fromkeys(c for c in [*first, *rest] if c in items))


def theme_labels(run_id: str) -> dict[str, str]:
    """Each theme's name in a run (reviewers' names win), for pickers."""
    themes = frame(run_id, "themes")
    return dict(zip(themes["theme_id"], themes["label"]))


def run_info(run_id: str) -> dict:
    return _run_info(_url(), run_id)


def _writer():
    """A store for one write, with the access rules as the config says now (a demotion counts at once)."""
    return open_store(settings().model_copy(update={"workspace": workspace()}))


def _changed() -> None:
    _frame.clear()
    _runs.clear()
    _audit.clear()


def set_action_status(theme_id: str, status: str, by, note: str = "", expected_version: int | None = None,
                      assignee: str | None = None) -> dict:
    """A reviewer's decision on an action; cached frames are dropped so every page shows it. ``expected_version``
    is the number of decisions the reviewer saw: one made meanwhile refuses this one (E409)."""
    entry = _writer().set_action_status(theme_id, status, by, note, expected_version=expected_version,
                                        assignee=assignee)
    _changed()
    return entry


def root_causes() -> list[str]:
    """The configured taxonomy's keys: the choices a reviewer may correct a tag to."""
    from insight.config import load_taxonomy

    return load_taxonomy(settings().tag.taxonomy).keys


def correct_tag(run_id: str, item_id: str, root_cause: str, by, note: str = "",
                expected_cause: str | None = None) -> dict:
    """A reviewer's root cause for one item (or a confirmation of the tagger's, when it is the same); it trains
    the next tagger. ``expected_cause`` is the cause the reviewer saw: a change meanwhile refuses this (E409)."""
    entry = _writer().correct_tag(run_id, item_id, root_cause, by, valid=root_causes(), note=note,
                                  expected_cause=expected_cause)
    items = _items(_url(), run_id)  # the store's new values, written into the shared frame
    with _PATCH:
        at = items.index[(items["item_id"] == item_id).to_numpy()]
        items.loc[at, "root_cause"] = root_cause
        items.loc[at, "needs_review"] = False
        items.loc[at, "review_reason"] = "corrected"
        items.loc[at, "confidence"] = 1.0
    _audit.clear()
    return entry


def corrections() -> pd.DataFrame:
    """Every reviewer's label so far (a confirmation keeps the tagger's cause), oldest first."""
    return _store(_url()).tag_corrections()


@st.cache_data(show_spinner=False, ttl=30)
def _audit(url: str, workspace: str) -> pd.DataFrame:
    return _store(url, workspace).audit()


def audit() -> pd.DataFrame:
    """The workspace's audit log: every reviewer's write with who, role, when, before and after."""
    return _audit(_url(), workspace())


@st.cache_data(show_spinner=False)
def _this_week(url: str, run_id: str) -> tuple[list[str], pd.DataFrame]:
    from insight.operations import weekly_brief

    store = _store(url)
    run = store.get_run(run_id)
    changes = _store(url, run["workspace"]).ledger(run_id)
    return weekly_brief(store, run_id)["this_week"], changes


def this_week(run_id: str) -> tuple[list[str], pd.DataFrame]:
    """A weekly run's "what changed this week": its sentences and its ledger entries."""
    return _this_week(_url(), run_id)


def edit_theme(op: str, by=None, preview: bool = False, **kw) -> dict:
    """A reviewer's theme edit (rename, merge, split, move) in the workspace being reviewed; caches are dropped so
    every page shows it at once. ``preview`` computes it without storing it."""
    from insight.operations import edit_theme as edit

    event = edit(op, settings().model_copy(update={"workspace": workspace()}), by=by, preview=preview, **kw)
    if not preview:
        _changed()
    return event


def action_history(theme_id: str | None) -> pd.DataFrame:
    """One action's decisions (every action's with None), oldest first."""
    return _store(_url()).action_history(theme_id)


def pick_run() -> str | None:
    """Sidebar run picker shared by every page; None (with a hint) when nothing is stored yet."""
    listed = runs()
    if listed.empty:
        st.info("No runs stored yet. Run `insight demo` (or `insight run --input FILE`, or `insight weekly --input "
                "FILE`) and reload this page.")
        return None
    labels = {r["run_id"]: f"{r['run_id']}  ({'weekly: ' if r['kind'] == 'weekly' else ''}{str(r['source'])[-30:]})"
              for r in listed.to_dict("records")}
    ids = list(labels)
    current = st.session_state.get("run_id") or st.query_params.get("run")  # a reload keeps the run of the URL
    index = ids.index(current) if current in ids else 0
    chosen = st.sidebar.selectbox("Run", ids, index=index, format_func=labels.get)
    st.session_state["run_id"] = chosen
    st.query_params["run"] = chosen
    return chosen


def shown(key: str, now):
    """What the reviewer saw of ``key`` when the page last rendered (``now`` the first time). A form's submit
    reruns the page, which reads the store afresh: the check against a stale edit needs the earlier value."""
    return st.session_state.get(f"shown-{key}", now)


def remember(key: str, now) -> None:
    """Record what this render shows of ``key``, for the next submit."""
    st.session_state[f"shown-{key}"] = now
