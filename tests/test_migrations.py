"""The store's schema is versioned (Alembic): new stores are created by the migrations, on SQLite and PostgreSQL."""

from sqlalchemy import create_engine, inspect, text


def test_a_new_store_is_created_by_the_migrations_at_their_head(tiny_frame, tiny_config):
    from insight.flow import run_and_store
    from insight.store import SQLStore, migrations
    from insight.store.tables import metadata

    store = SQLStore(tiny_config.store_url)
    assert migrations.current(store.engine) == migrations.head() == "0004"
    assert set(metadata.tables) <= set(inspect(store.engine).get_table_names())
    result = run_and_store(tiny_frame, tiny_config)
    migrations.upgrade(store.engine)  # a second upgrade changes nothing
    assert store.latest_run_id() == result.run_id and migrations.current(store.engine) == "0004"


def test_the_baseline_migration_builds_exactly_the_models_tables(tmp_path):
    """The migration files, not the models, create a store: they must agree, column for column (a model changed
    without a migration fails here)."""
    from insight.store import migrations
    from insight.store.tables import metadata

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrations.upgrade(engine)
    found = inspect(engine)
    for table in metadata.sorted_tables:
        assert {c["name"] for c in found.get_columns(table.name)} == {c.name for c in table.columns}, table.name
        assert {i["name"] for i in found.get_indexes(table.name)} >= {i.name for i in table.indexes}, table.name
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == migrations.head()
    engine.dispose()


def test_revision_0002_gives_each_workspace_the_items_of_its_latest_run(tmp_path):
    """Old per-run copies migrate: a store at the baseline with runs in two workspaces keeps them, and each
    workspace's items across weeks start as its latest published pipeline run's (quarantined rows stay behind)."""
    from datetime import datetime, timedelta, timezone

    from insight.store import migrations
    from insight.store.tables import items, runs

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrations.upgrade(engine, to="0001")
    t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
    with engine.begin() as conn:
        for n, (run_id, ws) in enumerate([("r-old", None), ("r-new", None), ("r-shop", "shop")]):
            conn.execute(runs.insert().values(run_id=run_id, created_at=t0 + timedelta(days=n), status="published",
                                              kind="pipeline", workspace=ws))
        rows = [("r-old", "a", "stored", "delivery"), ("r-new", "a", "stored", "payments"),
                ("r-new", "b", "duplicate", None), ("r-new", "q", "quarantined", None),
                ("r-shop", "s", "stored", "inventory")]
        conn.execute(items.insert(), [{"run_id": r, "item_id": i, "status": st, "root_cause": rc, "text": i}
                                      for r, i, st, rc in rows])
    migrations.upgrade(engine)
    with engine.connect() as conn:
        got = conn.execute(text("SELECT workspace, item_id, root_cause, first_run, version FROM workspace_items "
                                "ORDER BY workspace, item_id")).all()
    assert [tuple(r) for r in got] == [("default", "a", "payments", "r-new", 1), ("default", "b", None, "r-new", 1),
                                       ("shop", "s", "inventory", "r-shop", 1)]
    engine.dispose()


def _in_use_at(tmp_path, revision: str, *rows: str) -> str:
    """The URL of a SQLite store migrated up to ``revision`` holding one published run, r1, and the ``rows`` those
    statements insert: a store in use before a migration."""
    from datetime import datetime, timezone

    from insight.store import migrations

    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = create_engine(url)
    migrations.upgrade(engine, to=revision)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO runs (run_id, created_at, status, kind, workspace) VALUES "
                          "('r1', :t, 'published', 'pipeline', NULL)"),
                     {"t": datetime(2026, 1, 5, tzinfo=timezone.utc)})
        for row in rows:
            conn.execute(text(row))
    engine.dispose()
    return url


def test_revision_0003_adds_the_audit_log_map_places_and_assignees_to_a_store_in_use(tmp_path):
    """A store at 0002 with runs and decisions keeps them; its items get (empty) map places and its decisions an
    assignee column, and reviewers' writes are audited from then on."""
    from insight.store import SQLStore, migrations
    from insight.store.sql import dispose

    url = _in_use_at(tmp_path, "0002", "INSERT INTO items (run_id, item_id, status, root_cause, text) VALUES "
                                       "('r1', 'a', 'stored', 'delivery', 'late')",
                     "INSERT INTO action_log (action_key, status, \"by\", version) VALUES "
                     "('TH0001', 'approved', 'ana', 1)")
    store = SQLStore(url)  # opening the store migrates it
    assert migrations.current(store.engine) == migrations.head()
    loaded = store.load("r1", "items")
    assert loaded["map_x"].isna().all() and loaded.iloc[0]["root_cause"] == "delivery"
    store.set_action_status("TH0001", "in_progress", "ben", assignee="Carrier desk")
    assert store.action_history("TH0001")["assignee"].tolist()[-1] == "Carrier desk"
    assert store.audit()[["actor", "action", "target"]].values.tolist() == [["ben", "action_status", "TH0001"]]
    dispose(url)


def test_revision_0004_adds_an_empty_contact_reason_to_a_store_in_use(tmp_path):
    """A store at 0003 keeps its items; they get a contact_reason column (the help desk's ticket category, which
    exports had put in product_category), empty for what was stored before."""
    from insight.store import SQLStore, migrations
    from insight.store.sql import dispose

    url = _in_use_at(tmp_path, "0003", "INSERT INTO items (run_id, item_id, status, root_cause, product_category, "
                                       "text) VALUES ('r1', 'a', 'stored', 'delivery', 'Returns', 'late')")
    store = SQLStore(url)
    assert migrations.current(store.engine) == "0004"
    loaded = store.load("r1", "items")
    assert loaded.iloc[0]["product_category"] == "Returns" and loaded["contact_reason"].isna().all()
    dispose(url)
