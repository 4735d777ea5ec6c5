"""Each item's contact reason: why the customer got in touch, as the help desk filed it (ticket category, queue,
topic). Exports had put it in ``product_category``, so actions read "(product category Returns)".

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    found = sa.inspect(op.get_bind())
    for table in ("items", "workspace_items"):
        if "contact_reason" not in {c["name"] for c in found.get_columns(table)}:  # a store made before migrations
            op.add_column(table, sa.Column("contact_reason", sa.String(length=120), nullable=True))


def downgrade() -> None:
    for table in ("items", "workspace_items"):
        op.drop_column(table, "contact_reason")
