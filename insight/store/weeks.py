"""Items across weeks: a workspace's items stored once, the taggers that tagged them, the ledger of what moved.

``insight weekly`` reads the workspace's items, works without holding any lock, and publishes in one transaction:
new items, changed items, ledger entries, taggers, registry and the run's own frames. Reviewers' edits may land
while it works: each item carries a version, a run's change to an item a reviewer changed meanwhile yields (the
reviewer's edit stays, and the run's ledger leaves that item out), and a reviewer's edit from a stale read is
refused with E409. Mixed into ``SQLStore``; nothing here knows about stages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, func, select, update

from .. import schema as S
from ..access import name_of
from ..errors import StoreError
from .rows import jsonable, records, select_frame
from .tables import ledger, runs, tag_corrections, taggers, workspace_items

CHUNK = 500  # ids per IN (...) list: SQLite allows 32k parameters, PostgreSQL more; small keeps plans simple
ITEM_FIELDS = [c.name for c in workspace_items.columns if c.name not in ("workspace", "item_id", "version")]


def checked_correction(root_cause: str, by: Any, valid: Sequence[str]) -> str:
    """A correction's cause must be a taxonomy key and its reviewer named (a name or an ``Actor``); returns the
    reviewer's name."""
    if root_cause not in valid:
        raise StoreError(f"unknown root cause {root_cause!r}; valid: {', '.join(valid)}", code="E407")
    by = name_of(by)
    if not by:
        raise StoreError("say who made the correction (by=...)", code="E405")
    return by


def refuse_stale_cause(item_id: str, now: str | None, expected: str | None) -> None:
    """E409 when the item's root cause is no longer the one the reviewer saw (``expected``; None: not checked)."""
    if expected is not None and now != expected:
        raise StoreError(f"item {item_id} changed since you loaded it: its root cause is now {now!r}, not "
                         f"{expected!r}; reload and correct again", code="E409")


class AcrossWeeks:
    """The weekly run's tables; ``self`` is an ``SQLStore`` (engine, workspace, ``_serialise``, frame writers)."""

    # ------------------------------------------------------------ reading

    def workspace_items(self, columns: Sequence[str] | None = None, *, ids: Sequence[str] | None = None
                        ) -> pd.DataFrame:
        """This workspace's items (all columns, or ``columns`` plus ``item_id`` and ``version``), by id."""
        t = workspace_items
        wanted = [t.c.item_id, t.c.version, *(t.c[c] for c in columns if c not in ("item_id", "version"))] \
            if columns is not None else list(t.columns)
        with self.engine.connect() as conn:
            if ids is None:
                return select_frame(conn, wanted, "workspace_items", "workspace = {}", (self.workspace,), "item_id")
            ids, parts = list(ids), []
            for s in range(0, len(ids), CHUNK):
                part = ids[s:s + CHUNK]
                marks = ", ".join(["{}"] * len(part))
                parts.append(select_frame(conn, wanted, "workspace_items", f"workspace = {{}} AND item_id IN ({marks})",
                                          (self.workspace, *part)))
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    def n_workspace_items(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(workspace_items)
                                    .where(workspace_items.c.workspace == self.workspace)).scalar() or 0)

    def taggers(self) -> pd.DataFrame:
        """Every tagger this workspace's weekly runs used or tried, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(taggers).where(taggers.c.workspace == self.workspace)
                                .order_by(taggers.c.version)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in taggers.columns])

    def ledger(self, run_id: str | None = None) -> pd.DataFrame:
        """What weekly runs changed, oldest first (one run's entries with ``run_id``)."""
        query = select(ledger).where(ledger.c.workspace == self.workspace)
        if run_id is not None:
            query = query.where(ledger.c.run_id == run_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(ledger.c.entry_id)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in ledger.columns])

    def latest_correction_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(tag_corrections.c.entry_id))).scalar() or 0)

    def last_weekly_corrections(self) -> int:
        """The last correction the latest weekly run had seen (its ledger holds those before)."""
        latest = self.list_runs("weekly")
        if latest.empty:
            return 0
        return int(((latest.iloc[0]["manifest"] or {}).get("weekly") or {}).get("corrections_seen") or 0)

    def last_weekly_time(self) -> Any:
        """When the latest weekly run was published (None: never)."""
        latest = self.list_runs("weekly")
        return None if latest.empty else latest.iloc[0]["created_at"]

    # ------------------------------------------------------------ reviewers

    def correct_item(self, item_id: str, root_cause: str, by: Any, *, valid: Sequence[str],
                     expected_version: int | None = None, note: str = "", run_id: str = "review",
                     expected_cause: str | None = None) -> dict[str, Any]:
        """A reviewer's root cause for one of the workspace's items, at once; kept as a training label and, by the
        next weekly run, in the ledger (``human_correction``). With ``expected_version`` (the version the reviewer
        saw) or ``expected_cause`` (the cause they saw), an item that changed since is refused (E409) rather than
        overwritten."""
        checked_correction(root_cause, by, valid)
        who = self.policy.require(by, "reviewer", "correcting root causes")
        by = who[0]
        t = workspace_items
        mine = (t.c.workspace == self.workspace, t.c.item_id == item_id)
        with self.engine.begin() as conn:
            # write first: SQLite then holds the write lock before it reads (a read first would pin a snapshot that
            # a weekly run's commit makes stale, and the write would fail at once instead of waiting its turn);
            # PostgreSQL locks the row
            conn.execute(update(t).where(*mine).values(version=t.c.version))
            row = conn.execute(select(t.c.text, t.c.root_cause, t.c.customer_id, t.c.status, t.c.version)
                               .where(*mine)).mappings().first()
            if row is None or row["status"] != S.STORED:
                raise StoreError(f"workspace {self.workspace!r} has no stored item {item_id!r} (duplicates and "
                                 f"non-actionable rows carry no root cause)", code="E408")
            if expected_version is not None and row["version"] != expected_version:
                raise StoreError(f"item {item_id} changed since you loaded it (version {expected_version}, now "
                                 f"{row['version']}, root cause {row['root_cause']!r}); reload and correct again",
                                 code="E409")
            refuse_stale_cause(item_id, row["root_cause"], expected_cause)
            entry = {"run_id": run_id, "item_id": item_id, "customer_id": row["customer_id"], "text": row["text"],
                     "old_cause": row["root_cause"], "new_cause": root_cause, "by": by,
                     "at": datetime.now(timezone.utc), "note": note}
            conn.execute(tag_corrections.insert().values(**entry))
            done = conn.execute(update(t).where(*mine, t.c.version == row["version"])
                                .values(root_cause=root_cause, needs_review=False, review_reason="corrected",
                                        confidence=1.0, version=t.c.version + 1))
            if done.rowcount != 1:  # cannot happen under the row lock; refuse rather than lose it if it does
                raise StoreError(f"item {item_id} changed while you corrected it; reload and correct again",
                                 code="E409")
            self._audit(conn, who, "tag_correction", item_id, {"root_cause": row["root_cause"],
                                                              "version": row["version"]},
                        {"root_cause": root_cause, "version": row["version"] + 1, "note": note}, run_id)
        return {**entry, "version": row["version"] + 1}

    # ------------------------------------------------------------ the weekly run

    def publish_weekly(self, result: S.RunResult, new_items: pd.DataFrame, changed: pd.DataFrame,
                       ledger_rows: list[dict[str, Any]], tagger_rows: list[dict[str, Any]], *, source: str = "",
                       loaded_registry: dict[str, dict[str, Any]] | None = None,
                       checkpoint: Callable[[str], None] | None = None) -> dict[str, int]:
        """Everything a weekly run changes, in one transaction that ends by flipping the run to published.

        ``changed`` holds the new values of existing items and the ``version`` the run read them at: an item whose
        version moved since (a reviewer's edit) keeps the reviewer's values, and its ledger entries are dropped.
        New items already present (an identical export published meanwhile) are not added twice.
        """
        t, now = workspace_items, datetime.now(timezone.utc)
        with self.engine.begin() as conn:
            conn.execute(runs.insert().values(
                run_id=result.run_id, created_at=now, status="pending", source=source, kind="weekly",
                counts=result.counts.as_dict(), manifest=jsonable(result.manifest), workspace=self.workspace))
            self._serialise(conn, "weekly")
            present = self._present(conn, new_items[S.ID].tolist() if len(new_items) else [])
            fresh = new_items[~new_items[S.ID].isin(present)] if len(new_items) else new_items
            rows = records(fresh, [S.ID, *ITEM_FIELDS])
            for r in rows:
                r.update(workspace=self.workspace, first_run=result.run_id, changed_run=result.run_id, version=1)
            for s in range(0, len(rows), 5000):
                conn.execute(t.insert(), rows[s:s + 5000])
            if checkpoint is not None:
                checkpoint("publishing")
            yielded = self._update_changed(conn, changed, result.run_id)
            kept = [{**e, "workspace": self.workspace, "run_id": result.run_id, "at": now}
                    for e in ledger_rows if e["item_id"] not in yielded]
            for s in range(0, len(kept), 5000):
                conn.execute(ledger.insert(), kept[s:s + 5000])
            for r in tagger_rows:
                conn.execute(taggers.delete().where(taggers.c.workspace == self.workspace,
                                                    taggers.c.version == r["version"]))
                conn.execute(taggers.insert().values(**{**jsonable(r), "workspace": self.workspace,
                                                        "created_at": r.get("created_at") or now}))
            q = result.items[result.items[S.STATUS] == S.QUARANTINED] if result.items is not None else None
            self._write_frames(conn, result.run_id, {"themes": result.themes, "actions": result.actions,
                                                     "weekly": result.weekly, "segments": result.segments,
                                                     "quarantine": q})
            if result.registry is not None:
                self._write_registry(conn, result.registry.to_records(), result.run_id, loaded=loaded_registry)
                self._write_events(conn, result.theme_events, result.run_id)
            conn.execute(update(runs).where(runs.c.run_id == result.run_id).values(status="published"))
        return {"added": len(rows), "already_present": len(present), "changed": len(changed) - len(yielded),
                "yielded_to_reviewers": len(yielded), "ledger": len(kept)}

    def _present(self, conn, ids: list[str]) -> set[str]:
        t = workspace_items
        return {i for s in range(0, len(ids), CHUNK) for i in conn.execute(
            select(t.c.item_id).where(t.c.workspace == self.workspace, t.c.item_id.in_(ids[s:s + CHUNK]))).scalars()}

    def _update_changed(self, conn, changed: pd.DataFrame, run_id: str) -> set[str]:
        """Write the run's changes to items still at the version it read; return the ids that moved meanwhile."""
        if not len(changed):
            return set()
        t = workspace_items
        ids = changed[S.ID].tolist()
        now = {}
        for s in range(0, len(ids), CHUNK):  # locked until the end: a reviewer's edit waits, then sees ours
            now.update(conn.execute(select(t.c.item_id, t.c.version).where(
                t.c.workspace == self.workspace, t.c.item_id.in_(ids[s:s + CHUNK])).with_for_update()).all())
        stale = {i for i, v in zip(ids, changed["version"]) if now.get(i) != int(v)}
        fields = [c for c in ITEM_FIELDS if c in changed.columns and c not in ("first_run",)]
        rows = records(changed[~changed[S.ID].isin(stale)], [S.ID, *fields])
        if not rows:
            return stale
        stmt = (update(t).where(t.c.workspace == self.workspace, t.c.item_id == bindparam("b_id"))
                .values({**{f: bindparam(f"b_{f}") for f in fields}, "changed_run": run_id,
                         "version": t.c.version + 1}))
        params = [{"b_id": r[S.ID], **{f"b_{f}": r.get(f) for f in fields}} for r in rows]
        for s in range(0, len(params), 5000):
            conn.execute(stmt, params[s:s + 5000])
        return stale
