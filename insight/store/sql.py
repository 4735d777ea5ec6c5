"""The operational store: runs, items, themes, actions, weekly volume and segment lift (SQLAlchemy 2).

The same tables run on SQLite (default, WAL + busy timeout) and PostgreSQL (``postgresql+psycopg://``).
A run is written in one transaction and flips to ``published`` inside it, so readers (the app, exports) only
ever see complete runs. Readers return pandas frames; nothing here knows about the UI or the CLI.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Table, create_engine, event, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .. import schema as S
from ..access import Actor, Policy, name_of
from ..config import DEFAULT_WORKSPACE, Config
from ..errors import StoreError
from .rows import jsonable, records, select_frame
from .tables import (
    ACTION_STATUSES,
    FRAMES,
    TRANSITIONS,
    action_log,
    actions,
    audit_log,
    erasures,
    exports,
    items,
    metadata,
    quarantine,
    registry_themes,
    runs,
    segments,
    tag_corrections,
    theme_events,
    themes,
    workspace_items,
)
from .weeks import AcrossWeeks, checked_correction, refuse_stale_cause


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages (erasure)
    cur.close()


class SQLStore(AcrossWeeks):
    """SQLAlchemy-backed store; the URL chooses SQLite or PostgreSQL."""

    def __init__(self, url: str, workspace: str = DEFAULT_WORKSPACE, policy: Policy | None = None) -> None:
        self.url = url
        self.workspace = workspace
        self.policy = policy or Policy()  # who may write: every reviewer's write checks it here, not in a page
        self._engine: Engine | None = None

    @classmethod
    def from_config(cls, cfg: Config) -> SQLStore:
        return cls(cfg.store_url, cfg.workspace, Policy.from_config(cfg.access))

    def _audit(self, conn, who: tuple[str, str], action: str, target: str, before: Any, after: Any,
               run_id: str | None = None, workspace: str | None = None) -> None:
        """One audit row, in the caller's transaction: the write and its record commit or fail together."""
        conn.execute(audit_log.insert().values(
            workspace=workspace or self.workspace, at=datetime.now(timezone.utc), actor=who[0], role=who[1],
            action=action, target=target, run_id=run_id, before=jsonable(before), after=jsonable(after)))

    def audit(self, action: str | None = None) -> pd.DataFrame:
        """Every reviewer's write in this workspace, oldest first: who (and with which role), when, before, after."""
        query = select(audit_log).where(self._mine(audit_log)).order_by(audit_log.c.entry_id)
        if action:
            query = query.where(audit_log.c.action == action)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in audit_log.columns])

    def _mine(self, table: Table):
        """Rows of this store's workspace (rows written before workspaces existed belong to the default one)."""
        column = table.c.workspace
        if self.workspace == DEFAULT_WORKSPACE:
            return or_(column == self.workspace, column.is_(None))
        return column == self.workspace

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = _engine_for(self.url)
        return self._engine

    # ------------------------------------------------------------ writing

    def publish(self, result: S.RunResult, source: str = "", kind: str = "pipeline") -> str:
        """Write every frame of a run and mark it published, all in one transaction."""
        q = result.items[result.items[S.STATUS] == S.QUARANTINED]
        frames = {"items": result.items, "themes": result.themes, "actions": result.actions,
                  "weekly": result.weekly, "segments": result.segments, "quarantine": q}
        with self.engine.begin() as conn:
            conn.execute(runs.insert().values(
                run_id=result.run_id, created_at=datetime.now(timezone.utc), status="pending", source=source,
                kind=kind, counts=result.counts.as_dict(), manifest=jsonable(result.manifest),
                workspace=self.workspace,
            ))
            if result.actions is not None and len(result.actions):
                status = self._action_status(conn)
                result.actions["status"] = [status.get(k, {}).get("status", "proposed")
                                            for k in result.actions["theme_id"]]
            self._write_frames(conn, result.run_id, frames)
            if result.registry is not None and kind == "pipeline":
                self._write_registry(conn, result.registry.to_records(), result.run_id,
                                     loaded=getattr(result.registry, "loaded", None))
                self._write_events(conn, result.theme_events, result.run_id)
            conn.execute(update(runs).where(runs.c.run_id == result.run_id).values(status="published"))
        return result.run_id

    @staticmethod
    def _write_frames(conn, run_id: str, frames: dict[str, pd.DataFrame | None]) -> None:
        for name, frame in frames.items():
            if frame is None:
                continue
            table = FRAMES[name]
            rows = records(frame, [c.name for c in table.columns if c.name != "run_id"])
            for rec in rows:
                rec["run_id"] = run_id
            if rows:
                conn.execute(table.insert(), rows)

    # ------------------------------------------------------------ action lifecycle

    def _action_status(self, conn) -> dict[str, dict[str, Any]]:
        rows = conn.execute(select(action_log).order_by(action_log.c.entry_id)).mappings().all()
        return {r["action_key"]: dict(r) for r in rows}

    def set_action_status(self, action_key: str, status: str, by: str | Actor, note: str = "", *,
                          expected_version: int | None = None, assignee: str | None = None) -> dict[str, Any]:
        """Move an action along proposed -> approved -> in_progress -> done (or rejected); who and when are kept.

        The status belongs to the action's theme, so it carries over to later runs while the theme persists.
        With ``expected_version`` (the decision count the reviewer saw), a decision made meanwhile refuses this
        one (E409) instead of being overtaken by it. ``assignee`` (None: keep the last one) is who carries it out.
        """
        if status not in ACTION_STATUSES:
            raise StoreError(f"unknown status {status!r}; valid: {', '.join(ACTION_STATUSES)}", code="E404")
        if not name_of(by):
            raise StoreError("say who changed the status (by=...)", code="E405")
        who = self.policy.require(by, "reviewer", "deciding on actions")
        by = who[0]
        try:
            with self.engine.begin() as conn:
                latest = self._action_status(conn).get(action_key, {})
                current = latest.get("status", "proposed")
                # from the same read as the status (SQLite reads outside the write transaction: a second query
                # could see a decision committed after the first one, and let a forbidden move through)
                # an action never decided on is version 0 from that same read; only a log written before
                # versions existed needs its decisions counted (a second query raced: "rejected" then "approved")
                seen = latest["version"] if latest.get("version") is not None \
                    else self._decisions(conn, action_key) if latest else 0
                if expected_version is not None and seen != expected_version:
                    raise StoreError(f"the action {action_key} changed since you loaded it: it is now {current!r} "
                                     f"(by {latest.get('by')}); reload and decide again", code="E409")
                if status != current and status not in TRANSITIONS[current]:
                    raise StoreError(f"an action that is {current!r} cannot become {status!r}; allowed: "
                                     f"{', '.join(sorted(TRANSITIONS[current]))}", code="E406")
                version = seen + 1
                assignee = latest.get("assignee") if assignee is None else (assignee.strip() or None)
                entry = {"action_key": action_key, "status": status, "by": by, "at": datetime.now(timezone.utc),
                         "note": note, "version": version, "assignee": assignee}
                conn.execute(action_log.insert().values(**entry))
                conn.execute(update(actions).where(actions.c.theme_id == action_key).values(status=status))
                self._audit(conn, who, "action_status", action_key,
                            {"status": current, "version": seen, "assignee": latest.get("assignee")},
                            {"status": status, "version": version, "assignee": assignee, "note": note})
        except IntegrityError as exc:  # someone decided on this action between our read and our write
            now = self._action_status_now(action_key)
            raise StoreError(f"the action {action_key} changed while you decided: it is now {now.get('status')!r} "
                             f"(by {now.get('by')}); reload and decide again", code="E409") from exc
        return entry

    def _decisions(self, conn, action_key: str) -> int:
        """How many decisions the log holds for this action: the version of a log written before versions."""
        return int(conn.execute(select(func.count()).select_from(action_log)
                                .where(action_log.c.action_key == action_key)).scalar() or 0)

    def _action_status_now(self, action_key: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return self._action_status(conn).get(action_key, {})

    def action_history(self, action_key: str | None = None) -> pd.DataFrame:
        query = select(action_log).order_by(action_log.c.entry_id)
        if action_key:
            query = query.where(action_log.c.action_key == action_key)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in action_log.columns])

    # ------------------------------------------------------------ reviewers' tag corrections

    def correct_tag(self, run_id: str, item_id: str, root_cause: str, by: str | Actor, *, valid: Sequence[str],
                    note: str = "", expected_cause: str | None = None) -> dict[str, Any]:
        """Record a reviewer's root cause for one stored item and show it in that run at once.

        The item leaves the review queue; the correction is kept (with who and when) as a training label for
        ``insight train tagger --from-corrections``. ``valid`` is the taxonomy's keys: the store knows no
        taxonomy of its own. With ``expected_cause`` (the cause the reviewer saw), an item someone else corrected
        meanwhile is refused (E409) rather than overwritten.
        """
        checked_correction(root_cause, by, valid)
        run = self.get_run(run_id)
        if run["kind"] == "weekly":  # its items live across weeks, in the run's workspace
            return SQLStore(self.url, run["workspace"] or DEFAULT_WORKSPACE, self.policy).correct_item(
                item_id, root_cause, by, valid=valid, note=note, run_id=run_id, expected_cause=expected_cause)
        who = self.policy.require(by, "reviewer", "correcting root causes")
        by = who[0]
        with self.engine.begin() as conn:
            # write first, so SQLite holds the write lock before it reads (see ``correct_item``)
            conn.execute(update(items).where(items.c.run_id == run_id, items.c.item_id == item_id)
                         .values(root_cause=items.c.root_cause))
            row = conn.execute(select(items.c.text, items.c.root_cause, items.c.customer_id, items.c.status)
                               .where(items.c.run_id == run_id, items.c.item_id == item_id)).mappings().first()
            if row is None or row["status"] != "stored":
                raise StoreError(f"run {run_id} has no stored item {item_id!r} (duplicates, quarantined and "
                                 f"non-actionable rows carry no root cause)", code="E408")
            refuse_stale_cause(item_id, row["root_cause"], expected_cause)
            entry = {"run_id": run_id, "item_id": item_id, "customer_id": row["customer_id"], "text": row["text"],
                     "old_cause": row["root_cause"], "new_cause": root_cause, "by": by,
                     "at": datetime.now(timezone.utc), "note": note}
            conn.execute(tag_corrections.insert().values(**entry))
            conn.execute(update(items).where(items.c.run_id == run_id, items.c.item_id == item_id).values(
                root_cause=root_cause, needs_review=False, review_reason="corrected", confidence=1.0))
            self._audit(conn, who, "tag_correction", item_id, {"root_cause": row["root_cause"]},
                        {"root_cause": root_cause, "note": note}, run_id, run["workspace"] or DEFAULT_WORKSPACE)
        return entry

    def tag_corrections(self) -> pd.DataFrame:
        """Every correction, oldest first (the latest one for a text wins when training)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(tag_corrections).order_by(tag_corrections.c.entry_id)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in tag_corrections.columns])

    # ------------------------------------------------------------ theme registry

    def _write_registry(self, conn, records: list[dict[str, Any]], run_id: str,
                        loaded: dict[str, dict[str, Any]] | None = None, refuse_conflicts: bool = False) -> None:
        """Replace this workspace's registry with ``records``. With ``loaded`` (what a run read when it started),
        reviewers' edits made while the run worked are kept: a row whose pinned label or status changed since then
        keeps the edit, and a theme created meanwhile (a split, or a run's new theme) stays. A reviewer's save
        (``refuse_conflicts``) that changed a row someone else changed meanwhile is refused (E409); a run yields."""
        self._serialise(conn, "registry")
        if loaded is not None:
            now = {r["theme_id"]: dict(r) for r in conn.execute(
                select(registry_themes).where(self._mine(registry_themes))).mappings().all()}
            ours = {r["theme_id"] for r in records}
            kept = []
            for r in records:
                edited = now.get(r["theme_id"])
                if edited is not None and r["theme_id"] in loaded and \
                        S.reviewer_fields(edited) != loaded[r["theme_id"]]:
                    if refuse_conflicts and S.reviewer_fields(r) != loaded[r["theme_id"]]:  # both edited it
                        raise StoreError(f"theme {r['theme_id']} was edited by someone else meanwhile (now "
                                         f"{edited['pinned_label'] or edited['label']!r}, {edited['status']}); "
                                         f"reload and edit again", code="E409")
                    r = {**r, "pinned_label": edited["pinned_label"], "status": edited["status"],
                         "label": edited["pinned_label"] or r["label"]}
                kept.append(r)
            kept += [{k: v for k, v in row.items() if k not in ("updated_run", "workspace")}
                     for tid, row in now.items() if tid not in ours and tid not in loaded]
            records = kept
        conn.execute(registry_themes.delete().where(self._mine(registry_themes)))
        if records:
            conn.execute(registry_themes.insert(), [{**r, "updated_run": run_id, "workspace": self.workspace}
                                                    for r in records])

    def _serialise(self, conn, what: str) -> None:
        """Writers of this workspace's ``what`` take turns until their transaction ends. SQLite lets one writer in
        at a time anyway; PostgreSQL (read committed) let a run and a reviewer both read the registry, both delete
        it and both insert it again: the second insert failed on the first one's rows."""
        if conn.dialect.name == "postgresql":
            key = zlib.crc32(f"{what}:{self.workspace}".encode())
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")

    def _write_events(self, conn, events: list[dict[str, Any]], run_id: str) -> None:
        now = datetime.now(timezone.utc)
        rows = [{"run_id": run_id, "at": now, "event": e["event"], "theme_id": e.get("theme_id"),
                 "detail": jsonable(e)} for e in events]
        if rows:
            conn.execute(theme_events.insert(), rows)

    def registry_records(self) -> list[dict[str, Any]]:
        """This workspace's registered themes as plain records (``Registry.from_records`` rebuilds the registry)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(registry_themes).where(self._mine(registry_themes))).mappings().all()
        return [{**dict(r), "workspace": r["workspace"] or DEFAULT_WORKSPACE} for r in rows]

    def theme_counter(self) -> int:
        """The highest theme number registered in any workspace: new ids continue above it, so none repeats."""
        with self.engine.connect() as conn:
            ids = conn.execute(select(registry_themes.c.theme_id)).scalars().all()
        return max([0, *(int(i[2:]) for i in ids if i[2:].isdigit())])

    def workspaces(self) -> list[str]:
        """Every workspace with a published run, the one with the newest run first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(runs.c.workspace, func.max(runs.c.created_at).label("newest"))
                                .where(runs.c.status == "published").group_by(runs.c.workspace)).all()
        order = sorted(rows, key=lambda r: r[1], reverse=True)
        return list(dict.fromkeys(w or DEFAULT_WORKSPACE for w, _ in order))

    def save_registry(self, records: list[dict[str, Any]], events: list[dict[str, Any]], by: str | Actor,
                      run_id: str = "review", loaded: dict[str, dict[str, Any]] | None = None) -> None:
        """Reviewers' edits: the new registry state and its events, in one transaction. With ``loaded`` (what the
        edit read), themes a run registered meanwhile stay, and an edit of a theme someone else edited meanwhile
        is refused (E409) instead of overwriting theirs."""
        if not name_of(by):
            raise StoreError("say who edited the themes (by=...)", code="E405")
        who = self.policy.require(by, "reviewer", "editing themes")
        with self.engine.begin() as conn:
            self._write_registry(conn, records, run_id, loaded=loaded, refuse_conflicts=True)
            self._write_events(conn, events, run_id)
            for e in events:
                target = e.get("theme_id") or e.get("into") or ""
                before = (loaded or {}).get(target)
                self._audit(conn, who, "theme_edit", str(target), before, jsonable(e))

    def theme_events(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            rows = conn.execute(select(theme_events).order_by(theme_events.c.event_id)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in theme_events.columns])

    def previous_themes(self) -> dict[str, str]:
        """Each item's stable theme id in the latest pipeline run (for matching and hysteresis)."""
        run_id = self.latest_run_id()
        if run_id is None:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(items.c.item_id, items.c.theme_id).where(
                items.c.run_id == run_id, items.c.theme_id.is_not(None))).all()
        return {i: t for i, t in rows if t and t != S.UNTHEMED}

    # ------------------------------------------------------------ reading

    def list_runs(self, kind: str | None = None) -> pd.DataFrame:
        """This workspace's published runs, newest first (``kind``: pipeline or ingest)."""
        query = select(runs).where(runs.c.status == "published", self._mine(runs))
        if kind:
            query = query.where(runs.c.kind == kind)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(runs.c.created_at.desc())).mappings().all()
        frame = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in runs.columns])
        return frame.assign(workspace=frame["workspace"].fillna(DEFAULT_WORKSPACE))

    def latest_run_id(self, kind: str | None = "pipeline") -> str | None:
        listed = self.list_runs(kind)
        return None if listed.empty else str(listed.iloc[0]["run_id"])

    def latest_analysed_run_id(self) -> str | None:
        """The newest run with themes and actions: a pipeline run or a weekly run (never an ingest-only check)."""
        listed = self.list_runs()
        listed = listed[listed["kind"].isin(["pipeline", "weekly"])]
        return None if listed.empty else str(listed.iloc[0]["run_id"])

    # ------------------------------------------------------------ managed exports and erasure

    def record_export(self, run_id: str, what: str, fmt: str, path: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(exports.insert().values(run_id=run_id, what=what, format=fmt, path=path,
                                                 created_at=datetime.now(timezone.utc)))

    def managed_exports(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            rows = conn.execute(select(exports)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in exports.columns])

    def pending_exports(self) -> pd.DataFrame:
        """Managed exports an erasure marked for rewriting and that were not rewritten yet."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(exports).where(exports.c.pending_rewrite.is_(True))
                                .order_by(exports.c.export_id)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in exports.columns])

    def export_rewritten(self, export_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(exports.update().where(exports.c.export_id == export_id).values(pending_rewrite=False))

    def erase_customer(self, customer_ids: list[str], subject_hash: str) -> dict[str, Any]:
        """Delete a customer's items everywhere, and their words from evidence and examples; one transaction.

        Returns the removed texts (so caches can forget them) and counts. Idempotent: a second call finds
        nothing and records an erasure of zero items.
        """
        with self.engine.begin() as conn:
            hits = conn.execute(select(items.c.run_id, items.c.item_id, items.c.text)
                                .where(items.c.customer_id.in_(customer_ids))).all()
            weekly = conn.execute(select(workspace_items.c.text).where(
                workspace_items.c.customer_id.in_(customer_ids))).scalars().all()
            conn.execute(workspace_items.delete().where(workspace_items.c.customer_id.in_(customer_ids)))
            texts = {t for _, _, t in hits if t} | {t for t in weekly if t}
            affected = sorted({r for r, _, _ in hits})
            for run_id in affected:
                ids = [i for r, i, _ in hits if r == run_id]
                for start in range(0, len(ids), 500):
                    chunk = ids[start:start + 500]
                    conn.execute(items.delete().where(items.c.run_id == run_id, items.c.item_id.in_(chunk)))
                    conn.execute(quarantine.delete().where(quarantine.c.run_id == run_id,
                                                           quarantine.c.item_id.in_(chunk)))
                _scrub(conn, actions, "evidence", run_id, texts, [actions.c.rank])
                _scrub(conn, themes, "examples", run_id, texts, [themes.c.theme_id])
            conn.execute(tag_corrections.delete().where(tag_corrections.c.customer_id.in_(customer_ids)))
            if affected:  # names and files derived from these runs must be rebuilt, even if this process dies now
                conn.execute(runs.update().where(runs.c.run_id.in_(affected)).values(names_stale=True))
                conn.execute(exports.update().where(exports.c.run_id.in_(affected)).values(pending_rewrite=True))
            conn.execute(erasures.insert().values(at=datetime.now(timezone.utc), subject_hash=subject_hash,
                                                  items_removed=len(hits) + len(weekly),
                                                  runs_affected=len(affected)))
        if self.engine.dialect.name == "sqlite":  # the write-ahead log still holds the old pages: fold it in
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return {"items_removed": len(hits) + len(weekly), "runs_affected": affected, "texts": sorted(texts)}

    def stale_name_runs(self) -> list[str]:
        """Runs an erasure marked: their theme names must be rebuilt from the items left (any workspace)."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(runs.c.run_id).where(runs.c.names_stale.is_(True))
                                     .order_by(runs.c.created_at)).scalars())

    def replace_names(self, run_id: str, themes_rows: list[dict[str, Any]], action_rows: list[dict[str, Any]],
                      segment_rows: list[dict[str, Any]], names: dict[str, str]) -> None:
        """Write a run's rebuilt names (see ``themes.forget``) and unmark it, in one transaction. ``names`` maps
        each old label to its new one: the registry's label of a rebuilt theme follows it, in any workspace."""
        with self.engine.begin() as conn:
            for r in themes_rows:
                conn.execute(themes.update().where(themes.c.run_id == run_id, themes.c.theme_id == r["theme_id"])
                             .values({k: v for k, v in r.items() if k != "theme_id"}))
            for r in action_rows:
                conn.execute(actions.update().where(actions.c.run_id == run_id, actions.c.rank == r["rank"])
                             .values({k: v for k, v in r.items() if k != "rank"}))
            for r in segment_rows:
                keys = ("level", "group_id", "column", "value")
                conn.execute(segments.update().where(segments.c.run_id == run_id,
                                                     *[segments.c[k] == r[k] for k in keys])
                             .values(sentence=r["sentence"]))
            for r in themes_rows:  # a reviewer's pinned label is theirs: kept
                for old, label in names.items():
                    conn.execute(registry_themes.update().where(
                        registry_themes.c.theme_id == r["theme_id"], registry_themes.c.label == old,
                        registry_themes.c.pinned_label.is_(None)).values(label=label))
            conn.execute(runs.update().where(runs.c.run_id == run_id).values(names_stale=False))

    def get_run(self, run_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.run_id == run_id)).mappings().first()
        if row is None or row["status"] != "published":
            known = ", ".join(self.list_runs()["run_id"].head(5)) or "none"
            raise StoreError(f"no published run {run_id!r} in {self.url} (latest: {known})", code="E402")
        return dict(row)

    def load(self, run_id: str, frame: str) -> pd.DataFrame:
        """One frame of a published run: items, themes, actions, weekly or segments."""
        if self.get_run(run_id)["kind"] == "weekly" and frame == "items":  # the workspace's items, as they are now
            return self.workspace_items().drop(columns=["workspace", "first_run", "changed_run", "tagger_version",
                                                        "version"]).assign(run_id=run_id)
        table = FRAMES[frame]
        if frame == "items":  # the big one: read column by column (100,000 items in about a second)
            with self.engine.connect() as conn:
                return select_frame(conn, list(table.columns), "items", "run_id = {}", (run_id,))
        query = select(table).where(table.c.run_id == run_id)
        if frame == "actions":
            query = query.order_by(table.c.rank)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in table.columns])


_ENGINES: dict[str, Engine] = {}
AFTER_BASELINE = frozenset({"workspace_items", "taggers", "ledger", "audit_log"})  # tables later revisions create
_ENGINES_LOCK = threading.Lock()


def _engine_for(url: str) -> Engine:
    """One engine (one connection pool) per store URL per process, its tables checked once: a store object is
    cheap and made often (each app page, each CLI call), and a pool per object leaked PostgreSQL connections."""
    with _ENGINES_LOCK:
        if url in _ENGINES:
            return _ENGINES[url]
        if url.startswith("sqlite:///"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = create_engine(url, future=True)
        except Exception as exc:
            raise StoreError(f"cannot open store {url!r}: {exc}", code="E401") from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        from .migrations import upgrade

        upgrade(engine, before_stamp=_add_missing_columns)
        _ENGINES[url] = engine
        return engine


def dispose(url: str | None = None) -> None:
    """Close the pooled connections of ``url``'s engine (every engine's when None): before a database is dropped
    or a SQLite file deleted, and at the end of a process that must leave no connection behind."""
    with _ENGINES_LOCK:
        for key in [url] if url is not None else list(_ENGINES):
            engine = _ENGINES.pop(key, None)
            if engine is not None:
                engine.dispose()


def _add_missing_columns(conn) -> None:
    """Bring a store created before migrations existed (tables made straight from the models, by a version that
    only ever added nullable columns) up to the baseline: ``ALTER TABLE ... ADD COLUMN`` and the newer indexes."""
    from sqlalchemy import inspect

    found = inspect(conn)
    for table in metadata.sorted_tables:
        if table.name in AFTER_BASELINE:  # created by their own revision, after the stamp
            continue
        if not found.has_table(table.name):
            table.create(conn)
            continue
        have = {c["name"] for c in found.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have and column.nullable and not column.primary_key:
                kind = column.type.compile(dialect=conn.dialect)
                conn.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
        indexed = {i["name"] for i in found.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexed:  # older rows hold NULL versions, which a unique index allows
                index.create(conn, checkfirst=True)


def _scrub(conn, table: Table, column: str, run_id: str, texts: set[str], keys: list) -> None:
    """Remove quotes taken from ``texts`` (whole, or shortened with "...") from a JSON list column."""
    if not texts:
        return

    def taken(quote: str) -> bool:
        return quote in texts or (quote.endswith("...") and any(t.startswith(quote[:-3].rstrip()) for t in texts))

    col = table.c[column]
    for *key, values in conn.execute(select(*keys, col).where(table.c.run_id == run_id)).all():
        if values and any(taken(v) for v in values):
            cond = [table.c.run_id == run_id] + [k == v for k, v in zip(keys, key)]
            conn.execute(update(table).where(*cond).values({column: [v for v in values if not taken(v)]}))
