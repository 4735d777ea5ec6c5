"""Shared fixtures: tiny readable frames and a fast config (hashing embedder, PCA, no spaCy, no lingua) for unit
tests; the real packaged model, UMAP, spaCy and lingua only in tests marked ``integration``. Nothing here touches
the network."""

from __future__ import annotations

import os
import sys

import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# the caller's own installation never leaks in: a test that wants a home, store or workspace sets it itself
# (the data folder stays: it is where the shared datasets are)
for _name in ("INSIGHT_HOME", "INSIGHT_STORE_URL", "INSIGHT_WORKSPACE", "INSIGHT_CONFIG", "INSIGHT_CONTACT_KEY",
              "INSIGHT_ERASURE_SALT", "INSIGHT_FAULT_AT"):
    os.environ.pop(_name, None)

# CI replays the same examples every time (a failure there is reproducible); a developer's run draws new ones
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")

# what a unit test must never load: each costs seconds (or a model) and has a fake or a cheap stand-in
HEAVY = ("torch", "sentence_transformers", "umap", "lingua", "spacy", "streamlit")


def pytest_collection_modifyitems(items):
    """Unit tests first, then integration and UI tests: the heavy-module guard below then sees a clean process."""
    items.sort(key=lambda item: bool(item.get_closest_marker("integration") or item.get_closest_marker("ui")))


@pytest.fixture(autouse=True)
def _unit_tests_stay_light(request):
    """Fails a unit test (no ``integration``/``ui`` mark) that loads a heavy package: mark it, or use the fakes."""
    if request.node.get_closest_marker("integration") or request.node.get_closest_marker("ui"):
        yield
        return
    before = {m for m in HEAVY if m in sys.modules}
    yield
    loaded = sorted({m for m in HEAVY if m in sys.modules} - before)
    assert not loaded, f"a unit test loaded {loaded}: mark it integration, or use fast_config's stand-ins"


@pytest.fixture(scope="session")
def _postgres():
    """With ``INSIGHT_TEST_STORE=postgresql``: a PostgreSQL server URL (without a database) for the whole session,
    from ``$INSIGHT_TEST_PG_URL`` or a throwaway cluster started here (Debian's ``initdb``); else None."""
    if os.environ.get("INSIGHT_TEST_STORE") != "postgresql":
        yield None
        return
    if os.environ.get("INSIGHT_TEST_PG_URL"):
        yield os.environ["INSIGHT_TEST_PG_URL"].rstrip("/")
        return
    from pg_server import throwaway_cluster

    with throwaway_cluster() as url:
        yield url


@pytest.fixture
def home(tmp_path, monkeypatch, _postgres):
    """An empty insight home (store + cache) per test; on PostgreSQL runs, an empty database of its own."""
    monkeypatch.setenv("INSIGHT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("INSIGHT_STORE_URL", raising=False)
    if _postgres is None:
        yield tmp_path / "home"
        return
    from pg_server import fresh_database

    with fresh_database(_postgres) as url:
        monkeypatch.setenv("INSIGHT_STORE_URL", url)
        yield tmp_path / "home"


@pytest.fixture
def fast_config(home):
    from insight.config import load_config

    return load_config(embed={"backend": "hashing", "cache": False},
                       themes={"key_phrases": False, "reducer": "pca"},  # no spaCy, no UMAP
                       clean={"detect_languages": ["en"]},  # no lingua: one language needs no detector
                       tag={"keyword_weight": 0.0})  # no spaCy lemmatizer: prototypes alone


FAST_YAML = """\
embed: {backend: hashing, cache: false}
themes: {key_phrases: false, reducer: pca, min_cluster_size: 3}
clean: {detect_languages: [en]}
tag: {keyword_weight: 0.0}
rank: {min_theme_size: 3}
ingest: {columns: {item_id: id}}
"""


@pytest.fixture
def fast_yaml(tmp_path, home):
    """``fast_config`` sized for ``tiny_frame``, as a YAML file for the command line (``--config``)."""
    p = tmp_path / "fast.yaml"
    p.write_text(FAST_YAML)
    return p


@pytest.fixture
def tiny_config(fast_config):
    """``fast_config`` sized for ``tiny_frame``: its ``id`` column as item id, themes and actions of 3+ items."""
    return fast_config.model_copy(update={
        "ingest": fast_config.ingest.model_copy(update={"columns": {"item_id": "id"}}),
        "rank": fast_config.rank.model_copy(update={"min_theme_size": 3}),
        "themes": fast_config.themes.model_copy(update={"min_cluster_size": 3, "n_components": 5}),
    })


@pytest.fixture
def weekly_config(tiny_config):
    """``tiny_config`` for weekly runs over a few dozen items a week (``test_weekly.week_rows``)."""
    return tiny_config.model_copy(update={
        "themes": tiny_config.themes.model_copy(update={"min_cluster_size": 4}),
        "weekly": tiny_config.weekly.model_copy(update={"discover_min": 10, "retrain_min_corrections": 3,
                                                        "rediscover_every": 0}),
    })


def _week(i: int, day: int = 0) -> str:
    return (pd.Timestamp("2026-01-05", tz="UTC") + pd.Timedelta(days=7 * i + day)).isoformat()


@pytest.fixture
def tiny_frame() -> pd.DataFrame:
    """Twenty-odd readable rows: two clear problems, noise, a duplicate and two broken rows."""
    rows = []
    late = ["my parcel is late again", "parcel still not delivered, very late", "late delivery, parcel missing",
            "the courier is late with my parcel", "parcel late by a week", "where is my parcel, it is late"]
    refund = ["no refund yet for my return", "refund not received after return", "still waiting on my refund",
              "return sent, refund missing", "I want my refund for the return", "refund for return is late"]
    for i, t in enumerate(late):
        rows.append({"id": f"L{i}", "text": t, "timestamp": _week(i % 3, i), "customer_id": f"c{i}",
                     "carrier": "Parcelo", "rating": 1})
    for i, t in enumerate(refund):
        rows.append({"id": f"R{i}", "text": t, "timestamp": _week(i % 3, i), "customer_id": f"d{i}",
                     "carrier": "SwiftShip", "rating": 2})
    rows += [
        {"id": "N1", "text": "n/a", "timestamp": _week(1), "customer_id": "x1", "carrier": "", "rating": None},
        {"id": "N2", "text": "Great service!", "timestamp": _week(1), "customer_id": "x2", "carrier": "", "rating": 5},
        {"id": "D1", "text": "my parcel is late again", "timestamp": _week(2, 3), "customer_id": "c0",
         "carrier": "Parcelo", "rating": 1},
        {"id": "Q1", "text": "broken date", "timestamp": "yesterday-ish", "customer_id": "q", "carrier": "",
         "rating": 3},
        {"id": "Q2", "text": "bad rating here", "timestamp": _week(1), "customer_id": "q2", "carrier": "",
         "rating": 11},
        {"id": "P1", "text": "refund please, email me at jo.smith@example.com or call +44 7700 900123",
         "timestamp": _week(2), "customer_id": "p1", "carrier": "SwiftShip", "rating": 2},
    ]
    return pd.DataFrame(rows)
