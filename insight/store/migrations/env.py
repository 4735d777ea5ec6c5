"""Alembic's entry point: runs on the connection ``migrations.upgrade`` hands it (no alembic.ini, no URL here)."""

from alembic import context

from insight.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
