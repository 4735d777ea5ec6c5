"""Items across weeks: a workspace's items stored once, the taggers that tagged them, and the ledger of changes.

``insight weekly`` keeps each workspace's items in ``workspace_items`` (one row per item, keyed by its stable id)
instead of a copy per run. A store that already holds runs adopts, per workspace, the items of its latest published
pipeline run, so the first weekly run continues from there rather than from nothing.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# the item columns as they stood at this revision (a later column is added by a later revision)
ITEM_COLUMNS = (
    "source", "source_row", "source_line", "status", "reason", "detail", "language", "timestamp", "week",
    "channel", "rating", "customer_id", "order_id", "order_value", "carrier", "warehouse", "payment_provider",
    "product_category", "text", "raw_text", "duplicate_of", "duplicate_count", "theme_id", "subtheme_id",
    "theme_similarity", "root_cause", "confidence", "second_cause", "needs_review", "review_reason",
    "review_rank", "labels", "probabilities", "negative", "polarity", "true_root_cause",
)


def upgrade() -> None:
    op.create_table('ledger',
    sa.Column('entry_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace', sa.String(length=60), nullable=True),
    sa.Column('run_id', sa.String(length=40), nullable=True),
    sa.Column('item_id', sa.String(length=200), nullable=True),
    sa.Column('field', sa.String(length=20), nullable=True),
    sa.Column('old', sa.String(length=60), nullable=True),
    sa.Column('new', sa.String(length=60), nullable=True),
    sa.Column('cause', sa.String(length=20), nullable=True),
    sa.Column('tagger_before', sa.Integer(), nullable=True),
    sa.Column('tagger_after', sa.Integer(), nullable=True),
    sa.Column('taxonomy_version', sa.String(length=40), nullable=True),
    sa.Column('confidence_before', sa.Float(), nullable=True),
    sa.Column('confidence_after', sa.Float(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('entry_id')
    )
    op.create_index(op.f('ix_ledger_cause'), 'ledger', ['cause'], unique=False)
    op.create_index(op.f('ix_ledger_item_id'), 'ledger', ['item_id'], unique=False)
    op.create_index(op.f('ix_ledger_run_id'), 'ledger', ['run_id'], unique=False)
    op.create_index(op.f('ix_ledger_workspace'), 'ledger', ['workspace'], unique=False)
    op.create_table('taggers',
    sa.Column('workspace', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=30), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('taxonomy_version', sa.String(length=40), nullable=True),
    sa.Column('corrections_through', sa.Integer(), nullable=True),
    sa.Column('created_run', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('workspace', 'version')
    )
    op.create_table('workspace_items',
    sa.Column('workspace', sa.String(length=60), nullable=False),
    sa.Column('item_id', sa.String(length=200), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('source_line', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=True),
    sa.Column('week', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=60), nullable=True),
    sa.Column('rating', sa.Float(), nullable=True),
    sa.Column('customer_id', sa.String(length=120), nullable=True),
    sa.Column('order_id', sa.String(length=120), nullable=True),
    sa.Column('order_value', sa.Float(), nullable=True),
    sa.Column('carrier', sa.String(length=120), nullable=True),
    sa.Column('warehouse', sa.String(length=120), nullable=True),
    sa.Column('payment_provider', sa.String(length=120), nullable=True),
    sa.Column('product_category', sa.String(length=120), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('raw_text', sa.Text(), nullable=True),
    sa.Column('duplicate_of', sa.String(length=200), nullable=True),
    sa.Column('duplicate_count', sa.Integer(), nullable=True),
    sa.Column('theme_id', sa.String(length=40), nullable=True),
    sa.Column('subtheme_id', sa.String(length=48), nullable=True),
    sa.Column('theme_similarity', sa.Float(), nullable=True),
    sa.Column('root_cause', sa.String(length=60), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('second_cause', sa.String(length=60), nullable=True),
    sa.Column('needs_review', sa.Boolean(), nullable=True),
    sa.Column('review_reason', sa.String(length=40), nullable=True),
    sa.Column('review_rank', sa.Integer(), nullable=True),
    sa.Column('labels', sa.JSON(), nullable=True),
    sa.Column('probabilities', sa.JSON(), nullable=True),
    sa.Column('negative', sa.Boolean(), nullable=True),
    sa.Column('polarity', sa.String(length=10), nullable=True),
    sa.Column('true_root_cause', sa.String(length=60), nullable=True),
    sa.Column('first_run', sa.String(length=40), nullable=True),
    sa.Column('changed_run', sa.String(length=40), nullable=True),
    sa.Column('tagger_version', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('workspace', 'item_id')
    )
    op.create_index(op.f('ix_workspace_items_root_cause'), 'workspace_items', ['root_cause'], unique=False)
    op.create_index(op.f('ix_workspace_items_status'), 'workspace_items', ['status'], unique=False)
    op.create_index(op.f('ix_workspace_items_theme_id'), 'workspace_items', ['theme_id'], unique=False)
    _adopt_latest_runs()


def _adopt_latest_runs() -> None:
    """Each workspace's latest published pipeline run becomes its items (quarantined rows stay with their run)."""
    conn = op.get_bind()
    latest = conn.execute(sa.text(
        "SELECT run_id, COALESCE(workspace, 'default') AS ws, created_at FROM runs "
        "WHERE status = 'published' AND kind = 'pipeline' ORDER BY created_at DESC")).all()
    seen = set()
    columns = ", ".join(f'"{c}"' for c in ITEM_COLUMNS)
    for run_id, workspace, _ in latest:
        if workspace in seen:
            continue
        seen.add(workspace)
        conn.execute(sa.text(
            f"INSERT INTO workspace_items (workspace, item_id, {columns}, first_run, changed_run, version) "
            f"SELECT :ws, item_id, {columns}, run_id, run_id, 1 FROM items "
            f"WHERE run_id = :run AND status != 'quarantined'"), {"ws": workspace, "run": run_id})


def downgrade() -> None:
    op.drop_table("workspace_items")
    op.drop_table("taggers")
    op.drop_table("ledger")
