"""Baseline: the store's tables as they stood when migrations were introduced (issue 18).

A store created before then (tables made straight from the models) is brought up to this schema by adding the
columns it lacks, then stamped at this revision; see ``insight.store.migrations.upgrade``.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('action_log',
    sa.Column('entry_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('action_key', sa.String(length=60), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('by', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('entry_id')
    )
    op.create_index('action_log_one_decision_per_version', 'action_log', ['action_key', 'version'], unique=True)
    op.create_index(op.f('ix_action_log_action_key'), 'action_log', ['action_key'], unique=False)
    op.create_table('actions',
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('theme_id', sa.String(length=40), nullable=True),
    sa.Column('theme_label', sa.Text(), nullable=True),
    sa.Column('root_cause', sa.String(length=60), nullable=True),
    sa.Column('owner', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('steps', sa.JSON(), nullable=True),
    sa.Column('impact', sa.Float(), nullable=True),
    sa.Column('explanation', sa.JSON(), nullable=True),
    sa.Column('segment', sa.Text(), nullable=True),
    sa.Column('segment_sentence', sa.Text(), nullable=True),
    sa.Column('volume', sa.Integer(), nullable=True),
    sa.Column('complaints', sa.Integer(), nullable=True),
    sa.Column('recent_volume', sa.Integer(), nullable=True),
    sa.Column('growth', sa.Float(), nullable=True),
    sa.Column('spike_weeks', sa.JSON(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('related_themes', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('run_id', 'rank')
    )
    op.create_table('erasures',
    sa.Column('erasure_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('subject_hash', sa.String(length=64), nullable=True),
    sa.Column('items_removed', sa.Integer(), nullable=True),
    sa.Column('runs_affected', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('erasure_id')
    )
    op.create_table('exports',
    sa.Column('export_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=True),
    sa.Column('what', sa.String(length=20), nullable=True),
    sa.Column('format', sa.String(length=20), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pending_rewrite', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('export_id')
    )
    op.create_table('items',
    sa.Column('run_id', sa.String(length=40), nullable=False),
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
    sa.PrimaryKeyConstraint('run_id', 'item_id')
    )
    op.create_index(op.f('ix_items_root_cause'), 'items', ['root_cause'], unique=False)
    op.create_index(op.f('ix_items_status'), 'items', ['status'], unique=False)
    op.create_index(op.f('ix_items_theme_id'), 'items', ['theme_id'], unique=False)
    op.create_table('quarantine',
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('item_id', sa.String(length=200), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('source_line', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('run_id', 'item_id')
    )
    op.create_index(op.f('ix_quarantine_reason'), 'quarantine', ['reason'], unique=False)
    op.create_table('registry_themes',
    sa.Column('theme_id', sa.String(length=40), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('centroid', sa.JSON(), nullable=True),
    sa.Column('pinned_label', sa.Text(), nullable=True),
    sa.Column('updated_run', sa.String(length=40), nullable=True),
    sa.Column('workspace', sa.String(length=60), nullable=True),
    sa.PrimaryKeyConstraint('theme_id')
    )
    op.create_index(op.f('ix_registry_themes_workspace'), 'registry_themes', ['workspace'], unique=False)
    op.create_table('runs',
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('manifest', sa.JSON(), nullable=True),
    sa.Column('workspace', sa.String(length=60), nullable=True),
    sa.Column('names_stale', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('run_id')
    )
    op.create_index(op.f('ix_runs_workspace'), 'runs', ['workspace'], unique=False)
    op.create_table('segments',
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('group_id', sa.String(length=60), nullable=False),
    sa.Column('column', sa.String(length=60), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('n', sa.Integer(), nullable=True),
    sa.Column('lift', sa.Float(), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=True),
    sa.Column('ci_high', sa.Float(), nullable=True),
    sa.Column('since_week', sa.Integer(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('q_value', sa.Float(), nullable=True),
    sa.Column('sentence', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('run_id', 'level', 'group_id', 'column', 'value')
    )
    op.create_table('tag_corrections',
    sa.Column('entry_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=True),
    sa.Column('item_id', sa.String(length=200), nullable=True),
    sa.Column('customer_id', sa.String(length=120), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('old_cause', sa.String(length=60), nullable=True),
    sa.Column('new_cause', sa.String(length=60), nullable=True),
    sa.Column('by', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('entry_id')
    )
    op.create_index(op.f('ix_tag_corrections_customer_id'), 'tag_corrections', ['customer_id'], unique=False)
    op.create_index(op.f('ix_tag_corrections_run_id'), 'tag_corrections', ['run_id'], unique=False)
    op.create_table('theme_events',
    sa.Column('event_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('event', sa.String(length=20), nullable=True),
    sa.Column('theme_id', sa.String(length=40), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_index(op.f('ix_theme_events_run_id'), 'theme_events', ['run_id'], unique=False)
    op.create_table('themes',
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('theme_id', sa.String(length=40), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('root_cause', sa.String(length=60), nullable=True),
    sa.Column('root_cause_share', sa.Float(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('recent_volume', sa.Integer(), nullable=True),
    sa.Column('growth', sa.Float(), nullable=True),
    sa.Column('negative_share', sa.Float(), nullable=True),
    sa.Column('keywords', sa.JSON(), nullable=True),
    sa.Column('key_phrases', sa.JSON(), nullable=True),
    sa.Column('examples', sa.JSON(), nullable=True),
    sa.Column('spike_weeks', sa.JSON(), nullable=True),
    sa.Column('weekly_counts', sa.JSON(), nullable=True),
    sa.Column('root_cause_mix', sa.JSON(), nullable=True),
    sa.Column('subthemes', sa.JSON(), nullable=True),
    sa.Column('mean_rating', sa.Float(), nullable=True),
    sa.Column('rating_effect', sa.Float(), nullable=True),
    sa.Column('problem_label', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('run_id', 'theme_id')
    )
    op.create_table('weekly',
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('week', sa.Integer(), nullable=False),
    sa.Column('root_cause', sa.String(length=60), nullable=False),
    sa.Column('week_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('count', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('run_id', 'week', 'root_cause')
    )


def downgrade() -> None:
    op.drop_table('weekly')
    op.drop_table('themes')
    op.drop_index(op.f('ix_theme_events_run_id'), table_name='theme_events')
    op.drop_table('theme_events')
    op.drop_index(op.f('ix_tag_corrections_run_id'), table_name='tag_corrections')
    op.drop_index(op.f('ix_tag_corrections_customer_id'), table_name='tag_corrections')
    op.drop_table('tag_corrections')
    op.drop_table('segments')
    op.drop_index(op.f('ix_runs_workspace'), table_name='runs')
    op.drop_table('runs')
    op.drop_index(op.f('ix_registry_themes_workspace'), table_name='registry_themes')
    op.drop_table('registry_themes')
    op.drop_index(op.f('ix_quarantine_reason'), table_name='quarantine')
    op.drop_table('quarantine')
    op.drop_index(op.f('ix_items_theme_id'), table_name='items')
    op.drop_index(op.f('ix_items_status'), table_name='items')
    op.drop_index(op.f('ix_items_root_cause'), table_name='items')
    op.drop_table('items')
    op.drop_table('exports')
    op.drop_table('erasures')
    op.drop_table('actions')
    op.drop_index(op.f('ix_action_log_action_key'), table_name='action_log')
    op.drop_index('action_log_one_decision_per_version', table_name='action_log')
    op.drop_table('action_log')
