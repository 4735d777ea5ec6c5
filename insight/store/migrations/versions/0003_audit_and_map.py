"""An audit log of reviewers' writes, and each item's place on the theme map.

``audit_log`` keeps who changed what (an action's status, an item's root cause, a theme), when, with which role,
and the values before and after; each write adds its row in its own transaction. ``map_x``/``map_y`` on items
(per run and across weeks) hold the 2-D layout the pipeline computes for the theme map; older runs have none.
``assignee`` on the action log: who carries an action out, set with a decision.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MAP = ("map_x", "map_y")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("entry_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=60), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=True),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("run_id", sa.String(length=40), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.create_index(op.f("ix_audit_log_workspace"), "audit_log", ["workspace"], unique=False)
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)
    found = sa.inspect(op.get_bind())
    if "assignee" not in {c["name"] for c in found.get_columns("action_log")}:
        op.add_column("action_log", sa.Column("assignee", sa.Text(), nullable=True))
    for table in ("items", "workspace_items"):
        have = {c["name"] for c in found.get_columns(table)}  # a store made before migrations has them already
        for column in MAP:
            if column not in have:
                op.add_column(table, sa.Column(column, sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("action_log", "assignee")
    for table in ("items", "workspace_items"):
        for column in MAP:
            op.drop_column(table, column)
    op.drop_index(op.f("ix_audit_log_action"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_workspace"), table_name="audit_log")
    op.drop_table("audit_log")
