"""The store's schema is versioned (Alembic): new stores are created by the migrations, on SQLite and PostgreSQL."""

from sqlalchemy import create_engine, inspect, text


def test_a_new_store_is_created_by_the_migrations_at_their_head(tiny_frame, tiny_config):
    from insight.flow import run_and_store
    from insight.store import SQLStore, migrations
    from insight.store.tables import metadata

    store = SQLStore(tiny_config.store_url)
    assert migrations.current(store.engine) == migrations.head() == "0001"
    assert set(metadata.tables) <= set(inspect(store.engine).get_table_names())
    result = run_and_store(tiny_frame, tiny_config)
    migrations.upgrade(store.engine)  # a second upgrade changes nothing
    assert store.latest_run_id() == result.run_id and migrations.current(store.engine) == "0001"


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
