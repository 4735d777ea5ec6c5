"""Store: runs, items, themes, actions and review state in SQLAlchemy tables (SQLite by default, PostgreSQL)."""

from .sql import SQLStore
from .tables import ACTION_STATUSES, FRAMES, TRANSITIONS, metadata

__all__ = ["ACTION_STATUSES", "FRAMES", "TRANSITIONS", "SQLStore", "metadata"]
