"""The store's tables (SQLAlchemy 2 Core): per-run frames under a ``run_id``, and the state kept across runs.

The same definitions run on SQLite and PostgreSQL. Per run: ``runs`` (status, counts, manifest), ``items``,
``themes``, ``actions``, ``weekly``, ``segments``, ``quarantine``. Across runs: the theme registry and its events,
the action log, reviewers' corrections, managed exports and erasures. Across weeks (``insight weekly``): a
workspace's items, stored once (``workspace_items``), the taggers that tagged them (``taggers``) and every tag or
theme that moved, with its cause (``ledger``). Every reviewer's write, with who, before and after (``audit_log``).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("run_id", String(40), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("kind", String(16), nullable=False, default="pipeline"),  # pipeline | ingest
    Column("source", Text),
    Column("counts", JSON),
    Column("manifest", JSON),
    Column("workspace", String(60), index=True),  # None: written before workspaces existed, i.e. "default"
    Column("names_stale", Boolean),  # an erasure removed items: names derived from them must be rebuilt
)

items = Table(
    "items", metadata,
    Column("run_id", String(40), primary_key=True),
    Column("item_id", String(200), primary_key=True),
    Column("source", Text), Column("source_row", Integer), Column("source_line", Integer),
    Column("status", String(16), index=True), Column("reason", String(40)), Column("detail", Text),
    Column("language", String(8)),
    Column("timestamp", DateTime(timezone=True)), Column("week", Integer),
    Column("channel", String(60)), Column("rating", Float), Column("customer_id", String(120)),
    Column("order_id", String(120)), Column("order_value", Float), Column("carrier", String(120)),
    Column("warehouse", String(120)), Column("payment_provider", String(120)),
    Column("product_category", String(120)), Column("contact_reason", String(120)),
    Column("text", Text), Column("raw_text", Text), Column("duplicate_of", String(200)),
    Column("duplicate_count", Integer),
    Column("theme_id", String(40), index=True), Column("subtheme_id", String(48)), Column("theme_similarity", Float),
    Column("root_cause", String(60), index=True), Column("confidence", Float), Column("second_cause", String(60)),
    Column("needs_review", Boolean), Column("review_reason", String(40)), Column("review_rank", Integer),
    Column("labels", JSON),
    Column("probabilities", JSON), Column("negative", Boolean), Column("polarity", String(10)),
    Column("true_root_cause", String(60)),
    # where the item sits on the theme map: a 2-D layout the pipeline computes once, so a page only draws it
    Column("map_x", Float), Column("map_y", Float),
)

themes = Table(
    "themes", metadata,
    Column("run_id", String(40), primary_key=True),
    Column("theme_id", String(40), primary_key=True),
    Column("label", Text), Column("root_cause", String(60)), Column("root_cause_share", Float),
    Column("size", Integer), Column("recent_volume", Integer), Column("growth", Float),
    Column("negative_share", Float), Column("keywords", JSON), Column("key_phrases", JSON),
    Column("examples", JSON), Column("spike_weeks", JSON), Column("weekly_counts", JSON),
    Column("root_cause_mix", JSON), Column("subthemes", JSON),
    Column("mean_rating", Float), Column("rating_effect", Float),  # the driver view, where items are rated
    Column("problem_label", Text),  # what the theme's complaints are about (action titles use it)
)

actions = Table(
    "actions", metadata,
    Column("run_id", String(40), primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("theme_id", String(40)), Column("theme_label", Text), Column("root_cause", String(60)),
    Column("owner", Text), Column("title", Text), Column("steps", JSON), Column("impact", Float),
    Column("explanation", JSON), Column("segment", Text), Column("segment_sentence", Text),
    Column("volume", Integer), Column("complaints", Integer), Column("recent_volume", Integer),
    Column("growth", Float), Column("spike_weeks", JSON), Column("evidence", JSON), Column("status", String(20)),
    Column("related_themes", JSON), Column("version", Integer, nullable=False, default=1),
)

weekly = Table(
    "weekly", metadata,
    Column("run_id", String(40), primary_key=True),
    Column("week", Integer, primary_key=True),
    Column("root_cause", String(60), primary_key=True),
    Column("week_start", DateTime(timezone=True)), Column("count", Integer),
)

segments = Table(
    "segments", metadata,
    Column("run_id", String(40), primary_key=True),
    Column("level", String(20), primary_key=True),  # "theme" or "root_cause"
    Column("group_id", String(60), primary_key=True),
    Column("column", String(60), primary_key=True),
    Column("value", String(200), primary_key=True),
    Column("n", Integer), Column("lift", Float), Column("ci_low", Float), Column("ci_high", Float),
    Column("since_week", Integer), Column("p_value", Float), Column("q_value", Float), Column("sentence", Text),
)

quarantine = Table(
    "quarantine", metadata,
    Column("run_id", String(40), primary_key=True),
    Column("item_id", String(200), primary_key=True),
    Column("source", Text), Column("source_row", Integer), Column("source_line", Integer),
    Column("reason", String(40), index=True), Column("detail", Text),
    Column("text", Text),  # redacted, as every stored text
)

exports = Table(
    "exports", metadata,
    Column("export_id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40)), Column("what", String(20)), Column("format", String(20)),
    Column("path", Text), Column("created_at", DateTime(timezone=True)),
    # set by an erasure in the same transaction, cleared once the file is rewritten: a retry finishes the job
    Column("pending_rewrite", Boolean),
)

erasures = Table(
    "erasures", metadata,
    Column("erasure_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True)),
    Column("subject_hash", String(64)),  # salted hash: the log never holds the customer id itself
    Column("items_removed", Integer), Column("runs_affected", Integer),
)

registry_themes = Table(
    "registry_themes", metadata,
    Column("theme_id", String(40), primary_key=True),
    Column("label", Text), Column("status", String(16)), Column("centroid", JSON), Column("pinned_label", Text),
    Column("updated_run", String(40)),
    Column("workspace", String(60), index=True),  # theme ids are unique across workspaces; the rows are not shared
)

theme_events = Table(
    "theme_events", metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), index=True), Column("at", DateTime(timezone=True)),
    Column("event", String(20)), Column("theme_id", String(40)), Column("detail", JSON),
)

action_log = Table(
    "action_log", metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("action_key", String(60), index=True),  # the stable theme id the action is about
    Column("status", String(20)), Column("by", Text), Column("at", DateTime(timezone=True)), Column("note", Text),
    # the n-th decision on this action: two reviewers deciding from the same state both write version n, and the
    # unique index lets only one of them in (the other is told, E409), so the log never holds a forbidden move
    Column("version", Integer),
    Column("assignee", Text),  # who carries the action out (a person or team), set with a decision
    Index("action_log_one_decision_per_version", "action_key", "version", unique=True),
)

tag_corrections = Table(  # reviewers' root-cause corrections: training labels for the next tagger
    "tag_corrections", metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), index=True), Column("item_id", String(200)),
    Column("customer_id", String(120), index=True),  # so an erasure request removes the text here too
    Column("text", Text),  # the redacted clean text, as stored with the item
    Column("old_cause", String(60)), Column("new_cause", String(60)),
    Column("by", Text), Column("at", DateTime(timezone=True)), Column("note", Text),
)

workspace_items = Table(  # a workspace's items across weekly runs: one row per item, its current tags and theme
    "workspace_items", metadata,
    Column("workspace", String(60), primary_key=True),
    Column("item_id", String(200), primary_key=True),
    *[c._copy() for c in items.columns if c.name not in ("run_id", "item_id")],
    Column("first_run", String(40)),  # the weekly run that added it
    Column("changed_run", String(40)),  # the last run that changed its tags or theme
    Column("tagger_version", Integer),  # the tagger (``taggers.version``) its root cause came from
    # a reviewer's edit or a run's change each add one; a write from an older read is refused (reviewers) or
    # yields (runs), so neither overwrites the other
    Column("version", Integer, nullable=False, default=1),
)

taggers = Table(  # every tagger a workspace's weekly runs used or tried, and why it was kept or not
    "taggers", metadata,
    Column("workspace", String(60), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("status", String(16)),  # active | retired | rejected | rolled_back
    Column("reason", String(30)),  # first | corrections | taxonomy_edit | config | rollback
    Column("fingerprint", String(64)),  # what it is: backend, model sha256, taxonomy, reviewers' labels taught
    Column("taxonomy_version", String(40)),
    Column("corrections_through", Integer),  # the last ``tag_corrections.entry_id`` it learnt from
    Column("created_run", String(40)), Column("created_at", DateTime(timezone=True)),
    Column("metrics", JSON),  # held-out comparison with the tagger it would replace
)

ledger = Table(  # every tag or theme a weekly run changed, with its cause
    "ledger", metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("workspace", String(60), index=True),
    Column("run_id", String(40), index=True),
    Column("item_id", String(200), index=True),
    Column("field", String(20)),  # root_cause | theme_id
    Column("old", String(60)), Column("new", String(60)),
    # model_update | taxonomy_edit | human_correction | theme_edit | rediscovery
    Column("cause", String(20), index=True),
    Column("tagger_before", Integer), Column("tagger_after", Integer), Column("taxonomy_version", String(40)),
    Column("confidence_before", Float), Column("confidence_after", Float),
    Column("at", DateTime(timezone=True)),
)

audit_log = Table(  # every reviewer's write, who and when, before and after: written in the write's transaction
    "audit_log", metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("workspace", String(60), index=True),
    Column("at", DateTime(timezone=True)),
    Column("actor", Text), Column("role", String(16)),  # role "local": no roles configured, the name is a claim
    Column("action", String(30), index=True),  # action_status | tag_correction | theme_edit
    Column("target", String(200)),  # the action's theme, the item, the theme edited
    Column("run_id", String(40)),
    Column("before", JSON), Column("after", JSON),
)

LEDGER_CAUSES = ("model_update", "taxonomy_edit", "human_correction", "theme_edit", "rediscovery")

ACTION_STATUSES = ("proposed", "approved", "rejected", "in_progress", "done")
TRANSITIONS = {"proposed": {"approved", "rejected"}, "approved": {"in_progress", "rejected", "done"},
                "in_progress": {"done", "rejected"}, "rejected": {"proposed"}, "done": {"proposed"}}

FRAMES = {"items": items, "themes": themes, "actions": actions, "weekly": weekly, "segments": segments,
          "quarantine": quarantine}
