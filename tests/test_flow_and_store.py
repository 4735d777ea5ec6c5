import pytest

from insight import schema as S
from insight.errors import StoreError
from insight.flow import run, run_and_store
from insight.store import SQLStore


def test_run_accounts_for_every_row(tiny_frame, tiny_config):
    result = run(tiny_frame, tiny_config)
    c = result.counts
    assert c.read == len(tiny_frame) == c.stored + c.duplicates + c.quarantined + c.non_actionable
    assert (c.duplicates, c.quarantined, c.non_actionable) == (1, 2, 2)
    stored = result.items[result.items[S.STATUS] == S.STORED]
    assert stored[S.ROOT_CAUSE].notna().all() and stored[S.THEME].notna().all()
    assert result.manifest["pii_redactions"] == {"EMAIL": 1, "PHONE": 1}
    assert result.manifest["versions"]["pandas"]
    summary = result.summary()
    assert set(summary) >= {"run_id", "counts", "top_actions"}


def test_run_does_not_mutate_input(tiny_frame, tiny_config):
    before = tiny_frame.copy()
    run(tiny_frame, tiny_config)
    assert tiny_frame.equals(before)


def test_publish_and_read_back(tiny_frame, tiny_config):
    result = run_and_store(tiny_frame, tiny_config)
    store = SQLStore(tiny_config.store_url)
    assert store.latest_run_id() == result.run_id
    items = store.load(result.run_id, "items")
    assert len(items) == len(tiny_frame)
    assert set(items["status"]) == {S.STORED, S.DUPLICATE, S.QUARANTINED, S.NON_ACTIONABLE}
    assert store.get_run(result.run_id)["counts"]["read"] == len(tiny_frame)
    assert len(store.load(result.run_id, "actions")) == len(result.actions)
    with pytest.raises(StoreError, match="no published run"):
        store.load("nope", "items")


def test_failed_publish_leaves_nothing_visible(tiny_frame, tiny_config, monkeypatch):
    result = run(tiny_frame, tiny_config)
    store = SQLStore(tiny_config.store_url)
    import insight.store.sql as st
    from insight.store.tables import items

    calls = {"n": 0}
    real = st.records

    def boom(frame, columns):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(frame, columns)

    monkeypatch.setattr(st, "records", boom)
    with pytest.raises(RuntimeError):
        store.publish(result)
    assert store.list_runs().empty
    with store.engine.connect() as conn:
        assert conn.execute(items.select()).first() is None


def test_stores_of_one_url_share_one_connection_pool(tiny_config):
    """Regression (PostgreSQL, issue 18): every ``SQLStore`` made its own engine, and each left pooled connections
    open when it was dropped (the app and the CLI make one per call). One engine per URL per process now;
    ``dispose`` closes it before a database is dropped."""
    from insight.store import SQLStore
    from insight.store.sql import dispose

    a, b = SQLStore(tiny_config.store_url), SQLStore(tiny_config.store_url, workspace="other")
    assert a.engine is b.engine
    dispose(tiny_config.store_url)
    c = SQLStore(tiny_config.store_url)
    assert c.engine is not a.engine and c.list_runs() is not None  # reopened, tables in place
