"""The app's one caching module: the store is a cached resource, frames are cached data keyed by run id.

No connection is opened at import time; the store URL comes from the same config the CLI uses
(``$INSIGHT_CONFIG`` names a YAML file, ``$INSIGHT_HOME`` / ``$INSIGHT_STORE_URL`` work as everywhere).
"""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from insight import load_config, open_store


@st.cache_resource(show_spinner=False)
def store(url_key: str):
    return open_store(load_config(os.environ.get("INSIGHT_CONFIG") or None))


def _store():
    cfg = load_config(os.environ.get("INSIGHT_CONFIG") or None)
    return store(cfg.store_url)


@st.cache_data(show_spinner=False, ttl=60)
def runs() -> pd.DataFrame:
    return _store().list_runs()


@st.cache_data(show_spinner="Loading run...")
def frame(run_id: str, name: str) -> pd.DataFrame:
    return _store().load(run_id, name)


@st.cache_data(show_spinner=False)
def run_info(run_id: str) -> dict:
    return _store().get_run(run_id)


def pick_run() -> str | None:
    """Sidebar run picker shared by every page; None (with a hint) when nothing is stored yet."""
    listed = runs()
    if listed.empty:
        st.info("No runs stored yet. Run `insight demo` (or `insight run --input FILE`) and reload this page.")
        return None
    labels = {r["run_id"]: f"{r['run_id']}  ({str(r['source'])[-30:]})" for r in listed.to_dict("records")}
    ids = list(labels)
    current = st.session_state.get("run_id")
    index = ids.index(current) if current in ids else 0
    chosen = st.sidebar.selectbox("Run", ids, index=index, format_func=labels.get)
    st.session_state["run_id"] = chosen
    return chosen
