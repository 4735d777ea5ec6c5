"""Versioned schema migrations (Alembic) for the store, on SQLite and PostgreSQL alike.

``upgrade(engine)`` brings any store to the newest schema: a new store is created by the migrations, a store made
before migrations existed (tables created straight from the models) gets the columns added since and is stamped
at the baseline, and every later revision then runs in order. The store calls it once per URL per process.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

HERE = Path(__file__).parent
BASELINE = "0001"


def _config(connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision this version of insight knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(None)).get_current_head()


def current(engine: Engine) -> str | None:
    """The revision a store is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, before_stamp=None, to: str = "head") -> None:
    """Migrate ``engine``'s store to the newest revision, in one transaction (with the PostgreSQL lock that keeps
    two processes opening a new store from migrating it twice). ``before_stamp(conn)`` brings a store made
    before migrations up to the baseline before it is stamped there; ``to`` stops at an older revision (tests of
    a migration start from the one before it)."""
    from alembic import command

    from ..tables import metadata

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4711001)")
        tables = set(inspect(conn).get_table_names())
        cfg = _config(conn)
        if "alembic_version" not in tables and tables & set(metadata.tables):  # made before migrations existed
            if before_stamp is not None:
                before_stamp(conn)
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, to)
