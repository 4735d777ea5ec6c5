"""The weekly batch reclassification (composition layer, beside ``flow``): items live across weeks.

``weekly`` absorbs new exports into a workspace's items, stored once under stable ids, and publishes in one
transaction what moved and why:

    read + clean new rows (rows already stored are recognised, not added twice)
    -> choose the tagger (retrain from reviewers' corrections when there are enough, keep it only if it does as
       well on held-out corrections; a taxonomy edit or a config change makes a new one; or roll back)
    -> embed, assign to registered themes and tag the new items (``classify_partition``, per partition, by the
       executor: in process or on Dask)
    -> reclassify the items whose tags can change (all of them after a new tagger; none otherwise)
    -> follow reviewers' theme edits, discover themes among the unthemed (every few weeks: among all, matched by id)
    -> measure and rank over every item -> publish atomically, with a ledger entry per changed tag or theme

A run can be killed at any point: nothing is visible until its one publishing transaction commits, and the next
run redoes the work (vectors come back from the cache). ``INSIGHT_FAULT_AT`` names a checkpoint at which the
process kills itself: the crash drills of the test suite.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import assembly, clean, ingest, report, tag, themes
from . import schema as S
from .config import Config, Taxonomy, load_config, load_taxonomy
from .errors import InputError, ReviewError
from .flow import read_and_clean, timed_stage
from .provenance import new_run_id
from .roles import Reporter, Silent

FAULT_ENV = "INSIGHT_FAULT_AT"
CHECKPOINTS = ("ingested", "embedded", "tagged", "publishing")
VECTOR = "_vector"  # a partition's result column holding each new item's vector (driver-side work needs them)
# what a run reads of the items it holds: not the per-cause probabilities, raw text or source positions (a
# million items' JSON would cost more to parse than the run's work); the rows it changes are read whole
_HELD_COLUMNS = [
    "status", "reason", "language", "timestamp", "channel", "rating", "customer_id", "order_id", "order_value",
    "carrier", "warehouse", "payment_provider", "product_category", "contact_reason", "text", "duplicate_count",
    "theme_id", "theme_similarity", "root_cause", "confidence", "needs_review", "review_reason", "polarity",
    "true_root_cause", "tagger_version", S.MAP_X, S.MAP_Y, S.SUBTHEME]
# what a run may change on an item it already holds
TRACKED = [S.THEME, S.THEME_SIM, *tag.TAG_COLUMNS, "tagger_version", S.STATUS, S.REASON, S.DUP_OF, S.DUP_COUNT,
           S.MAP_X, S.MAP_Y, S.SUBTHEME]

Partition = Callable[[pd.DataFrame, dict[str, Any]], pd.DataFrame]
Executor = Callable[[Partition, list[pd.DataFrame], dict[str, Any]], list[pd.DataFrame]]


def local_executor(work: Partition, parts: list[pd.DataFrame], job: dict[str, Any]) -> list[pd.DataFrame]:
    """Every partition in this process, in order (Dask's executor lives in ``pipelines``: the library never
    imports it)."""
    return [work(p, job) for p in parts]


@dataclass
class WeeklyResult:
    """A published weekly run: its accounting and frames, what it changed, and what a scheduler acts on."""

    result: S.RunResult
    ledger: pd.DataFrame
    published: dict[str, int]
    tagger: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0: published, nothing to look at; 3: published, but something needs a person (see ``warnings``)."""
        return 3 if self.warnings else 0

    def summary(self, top: int = 5) -> dict[str, Any]:
        causes = self.ledger.groupby(["field", "cause"]).size() if len(self.ledger) else pd.Series(dtype=int)
        return {**self.result.summary(top), "kind": "weekly",
                "workspace": self.result.manifest["weekly"]["workspace"],
                "items": self.result.manifest["weekly"]["items"], "published": self.published,
                "changes": {f"{f}:{c}": int(n) for (f, c), n in causes.items()}, "tagger": self.tagger,
                "themes": self.result.manifest["weekly"]["themes"], "warnings": self.warnings,
                "timings_s": self.result.manifest["timings_s"], "exit_code": self.exit_code}


def weekly(sources: Sequence[ingest.Source], config: Config | None = None, *, since: str | None = None,
           executor: Executor | None = None, reporter: Reporter | None = None, rediscover: bool | None = None,
           rollback: bool = False) -> WeeklyResult:
    """Absorb ``sources`` (zero or more exports) into the workspace's items, reclassify, publish; see the module
    docstring for the order. ``since`` (a date) skips rows written before it; ``rediscover`` forces (or, False,
    skips) the periodic rediscovery of themes; ``rollback`` brings back the tagger before the active one."""
    cfg, rep, timings = config or load_config(), reporter or Silent(), {}
    tax = load_taxonomy(cfg.tag.taxonomy)
    store = assembly.store(cfg)
    run_executor = executor or local_executor
    run_id = new_run_id()
    emb = assembly.embedder(cfg, progress=rep.advance)
    encode = assembly.encoder(cfg, emb)
    with timed_stage("read+clean", rep, timings):
        # in an order their texts set: every seeded sample here (naming themes, discovery, a pocket's Ward
        # sample) takes rows by position, and ids of rows that came without one are keyed by the home's own key
        known = S.by_content(store.workspace_items(_HELD_COLUMNS)).reset_index(drop=True)
        if not len(known) and not sources:
            raise InputError(f"workspace {cfg.workspace!r} holds no items yet: give this week's export (--input)",
                             code="E216")
        held_ids = set(known[S.ID])
        known_status = known[S.STATUS].copy()
        # `insight run` analyses one export on its own: a weekly run beside it starts with none of its items
        single_runs = 0 if len(known) else len(store.list_runs("pipeline"))
        read, pii, inputs = _read_new(sources, cfg, since, held_ids, rep)
    _checkpoint("ingested")
    registry = themes.Registry.from_records(store.registry_records(), store.theme_counter())
    corrections = _workspace_corrections(store.tag_corrections(), held_ids)
    del held_ids
    fresh = read[read[S.STATUS] == S.STORED]
    # the shop's own names, found once over every stored text, so every partition and step reads the same words
    held_texts = known.loc[known[S.STATUS] == S.STORED, S.TEXT].fillna("").astype(str)
    names = clean.addressee_names([*held_texts, *fresh[S.TEXT].fillna("").astype(str)])
    plan = _plan_tagger(store.taggers(), corrections, cfg, tax, emb.cache_name, encode, rollback, run_id,
                        names)
    job = _job(cfg, tax, plan.labels, registry, names)
    with timed_stage("embed", rep, timings, len(fresh)):
        classified = _classify(run_executor, fresh, job, cfg.weekly.partition_size, assign=True)
        new = _merge_new(read, classified, plan.version)
        new, grown = _near_duplicates(new, known, classified, cfg, encode, names)
    _checkpoint("embedded")
    ledger: list[dict[str, Any]] = []
    updates = Changes({S.DUP_COUNT: grown} if grown else {})
    with timed_stage("tag", rep, timings):
        if plan.cause is not None:
            _reclassify(run_executor, known, job, cfg, plan, updates, ledger)
        ledger += _human_corrections(corrections, known, store.last_weekly_corrections())
    _PARTS.clear()  # the local executor's models: themes, measures and publishing need none of them
    gc.collect()
    _checkpoint("tagged")
    with timed_stage("themes", rep, timings):
        now = _current(known, new, updates)
        known = known[[S.ID, "version"]]  # all a run needs of its first read from here on (memory at a million)
        rediscovered = _rediscover_due(store, cfg, rediscover)
        found = _themes(now, registry, store.theme_events(), store.last_weekly_time(), cfg, encode,
                        rediscovered, updates, ledger, new, names)
        _follow_themes(now, len(known), updates, new)
        _place_on_map(now, len(known), new, classified, found, updates)
    with timed_stage("measure", rep, timings):
        stored_rows, others = _split(now)
        del now  # one copy of a million items at a time
        analysed = report.annotate(stored_rows, cfg.ingest.rating_range)  # the others are only counted
        del stored_rows
        # sub-themes are named here from a sample: only the themes that can hide a pocket are split in full
        measured = report.measure_run(analysed, found["table"], cfg.measure, cfg.themes.n_examples, pockets=False)
        pockets = _pockets(analysed, measured, cfg, tax, encode, names, updates, new)
    with timed_stage("rank", rep, timings):
        actions = report.rank_actions(measured.theme_stats, measured.theme_segments, analysed, tax,
                                      cfg.rank, measured.sentences, measured.cause_sentences, cfg.clean.languages,
                                      measured.cause_segments, pockets=measured.pockets)
    quarantined = read[read[S.STATUS] == S.QUARANTINED]
    items = pd.concat([analysed[[c for c in _MANIFEST if c in analysed.columns]], others,
                       quarantined[[c for c in _MANIFEST if c in quarantined.columns]]], ignore_index=True)
    del analysed, others
    counts = S.Counts.of(pd.concat([read[read[S.REASON].fillna("") == "already_seen"], new]))  # near-duplicates
    # of held items were found after reading
    manifest = report.build_manifest(cfg, tax, emb.cache_name, "; ".join(i["input"] for i in inputs),
                                     _digest(inputs), timings, pii, items, measured.themes, plan.record,
                                     found["events"], measured.history)
    del items
    manifest["names_left_out"] = list(names)
    manifest["weekly"] = {
        "workspace": cfg.workspace, "inputs": inputs, "since": since, "executor": getattr(run_executor, "name",
                                                                                         "local"),
        "embedder": {"name": emb.cache_name, "weights_sha256": emb.weights_sha256()
                     if hasattr(emb, "weights_sha256") else None},
        "partition_size": cfg.weekly.partition_size, "corrections_seen": int(corrections["entry_id"].max())
        if len(corrections) else store.last_weekly_corrections(), "tagger": plan.record,
        "items": {"before": int(len(known)), "new": int((new[S.STATUS] != S.QUARANTINED).sum()),
                  "already_seen": int((read[S.REASON] == "already_seen").sum())},
        "themes": {"rediscovered": rediscovered, "new": found["new"], "edited": found["edited"]},
        "pockets": pockets,
        "warnings": _warnings(plan, ledger, int((known_status == S.STORED).sum()), read, cfg, single_runs),
    }
    warnings = list(manifest["weekly"]["warnings"])
    result = S.RunResult(run_id=run_id, counts=counts, items=read, themes=measured.themes, actions=actions,
                         weekly=measured.weekly, segments=measured.segments, manifest=manifest,
                         registry=found["registry"], theme_events=found["events"])
    changed = _changed_rows(store, known, updates)
    with timed_stage("publish", rep, timings):
        published = store.publish_weekly(result, new[new[S.STATUS] != S.QUARANTINED], changed, ledger,
                                         plan.rows, source=manifest["input"], loaded_registry=registry.loaded,
                                         checkpoint=_checkpoint)
    if published["yielded_to_reviewers"]:
        warnings.append(f"{published['yielded_to_reviewers']} items were edited by reviewers while the run worked: "
                        f"their edits were kept and the run's changes to them dropped")
    return WeeklyResult(result=result, ledger=store.ledger(run_id), published=published, tagger=plan.record,
                        warnings=warnings)


def _warnings(plan: TaggerPlan, ledger: list[dict[str, Any]], stored_before: int, read: pd.DataFrame,
              cfg: Config, single_runs: int = 0) -> list[str]:
    """What a person should look at before acting on this run (the run still publishes; it exits with 3)."""
    warnings = list(plan.warnings)
    if single_runs:
        warnings.append(f"workspace {cfg.workspace!r} has {single_runs} `insight run` run(s) but held no weekly items: "
                        f"a weekly run keeps its own items across weeks, so it started from this run's exports alone. "
                        f"Give `insight weekly` the earlier exports too (rows already held are stored once)")
    retagged = sum(1 for e in ledger if e["cause"] in ("model_update", "taxonomy_edit"))
    if plan.cause and stored_before and retagged > cfg.weekly.max_retag_share * stored_before:
        warnings.append(f"the new tagger moved {retagged:,} of {stored_before:,} root causes "
                        f"({retagged / stored_before:.0%}): read `insight ledger` before acting on this week's "
                        f"actions; `insight weekly --rollback-model` undoes it")
    ambiguous = read.attrs.get("ambiguous", 0)
    if ambiguous:
        warnings.append(f"{ambiguous:,} rows had neither an id nor a timestamp and repeat rows already held, word "
                        f"for word: they were counted as already held. If each export holds only new rows, map an "
                        f"id or a timestamp column (ingest.columns), or set weekly.rows_without_ids: per_file")
    return warnings


# ---------------------------------------------------------------- the per-partition work (in process or on Dask)

_PARTS: dict[str, Any] = {}  # per process: the job's models, loaded once (a Dask worker keeps them across tasks)


def classify_partition(frame: pd.DataFrame, job: dict[str, Any]) -> pd.DataFrame:
    """pandas in, pandas out: embed the items' text, read their polarity, assign them to registered themes (new
    items) and tag them. Every item's result depends on that item alone, so any partitioning, in any process,
    gives the same tags. Returns ``item_id``, the tag columns and (new items) the theme columns, polarity and the
    vector."""
    cfg, tax, encode, tagger = _parts(job)
    texts = frame[S.TEXT].fillna("").astype(str).tolist()
    inputs = clean.model_texts(texts, job["names"])
    X = encode(inputs)
    languages = frame[S.LANGUAGE].tolist() if S.LANGUAGE in frame else None
    tags = tag.tag_texts(tagger, X, inputs, tax, cfg.tag.multi_label_min, languages, cfg.clean.languages)
    out = pd.DataFrame({S.ID: frame[S.ID].to_numpy()})
    for c in tag.TAG_COLUMNS:
        out[c] = tags[c].to_numpy()
    if job["assign"]:
        registry = themes.Registry(ids=job["theme_ids"], labels=list(job["theme_ids"]),
                                   centroids=np.asarray(job["centroids"], dtype=np.float32),
                                   status=["active"] * len(job["theme_ids"]))
        ids, sims = themes.assign_to_registry(X, registry, cfg.themes.assign_threshold)
        ratings = frame[S.RATING] if S.RATING in frame else pd.Series([np.nan] * len(frame))
        out[S.THEME], out[S.THEME_SIM] = ids, np.round(sims, 4)
        out[S.POLARITY] = report.polarity(pd.Series(texts), ratings.reset_index(drop=True), cfg.ingest.rating_range,
                                          report.complaint_lean(X, encode), languages, cfg.clean.languages)
        out[VECTOR] = list(X)
    return out


def _parts(job: dict[str, Any]):
    key = job["key"]
    if key not in _PARTS:
        cfg = Config.model_validate(job["config"])
        tax = Taxonomy.model_validate(job["taxonomy"])
        emb = assembly.embedder(cfg)
        encode = assembly.encoder(cfg, emb)
        labels = pd.DataFrame(job["labels"], columns=["text", "label"])
        _PARTS.clear()  # one job's models at a time
        _PARTS[key] = (cfg, tax, encode, assembly.tagger(cfg, tax, emb, encode, labels))
    return _PARTS[key]


def _job(cfg: Config, tax: Taxonomy, labels: pd.DataFrame, registry: themes.Registry,
         names: Sequence[str] = ()) -> dict[str, Any]:
    """What every partition needs, as plain data (it travels to Dask workers): the config with the home resolved
    (a worker's environment may differ), the taxonomy, the reviewers' labels the tagger learns, the themes, and
    the shop's names the models do not read."""
    conf = cfg.model_copy(update={"home": str(cfg.home_path.resolve())}).model_dump(mode="json")
    act = np.flatnonzero(registry.active())
    pairs = labels[["text", "label"]].astype(str).values.tolist()
    key = hashlib.sha256(json.dumps([conf, tax.fingerprint(), pairs], sort_keys=True).encode()).hexdigest()
    return {"key": key, "config": conf, "taxonomy": tax.model_dump(mode="json"), "labels": pairs,
            "theme_ids": [registry.ids[j] for j in act], "centroids": registry.centroids[act].tolist()
            if len(act) else [], "names": list(names)}


def _classify(run: Executor, frame: pd.DataFrame, job: dict[str, Any], size: int, *, assign: bool) -> pd.DataFrame:
    """The executor runs ``classify_partition`` over ``frame`` cut into partitions of ``size`` rows."""
    columns = [c for c in (S.ID, S.TEXT, S.LANGUAGE, S.RATING) if c in frame.columns]
    if not len(frame):
        return pd.DataFrame(columns=[S.ID, *tag.TAG_COLUMNS, S.THEME, S.THEME_SIM, S.POLARITY, VECTOR])
    parts = [frame[columns].iloc[s:s + size].reset_index(drop=True) for s in range(0, len(frame), size)]
    return pd.concat(run(classify_partition, parts, {**job, "assign": assign}), ignore_index=True)


# ---------------------------------------------------------------- reading what is new

def _read_new(sources: Sequence[ingest.Source], cfg: Config, since: str | None, known: set[str],
              reporter: Reporter) -> tuple[pd.DataFrame, dict[str, int], list[dict[str, str]]]:
    """Every source read and cleaned; rows the workspace already holds become duplicates (``already_seen``),
    rows older than ``since`` non-actionable (``before_since``): counted, never added."""
    frames, pii, inputs = [], {}, []
    for source in sources:
        items, found = read_and_clean(source, cfg, reporter)
        digest = ingest.source_digest(source)
        if cfg.weekly.rows_without_ids == "per_file":
            items = _per_file_ids(items, digest)
        frames.append(items)
        inputs.append({"input": ingest.source_name(source), "sha256": digest})
        for k, v in found.items():
            pii[k] = pii.get(k, 0) + v
    if not frames:
        return pd.DataFrame(columns=[S.ID, S.STATUS, S.REASON, S.TEXT]), pii, inputs
    items = pd.concat(frames, ignore_index=True)
    again = items[S.ID].duplicated(keep="first")  # the same export given twice in one run
    seen = (items[S.ID].isin(known) | again) & (items[S.STATUS] != S.QUARANTINED)
    items.loc[seen, S.STATUS], items.loc[seen, S.REASON] = S.DUPLICATE, "already_seen"
    items.attrs["ambiguous"] = int((seen & _loose(items)).sum())
    if since is not None and S.TIMESTAMP in items:
        old = (pd.to_datetime(items[S.TIMESTAMP], utc=True) < _utc(since)) & (items[S.STATUS] == S.STORED)
        items.loc[old, S.STATUS], items.loc[old, S.REASON] = S.NON_ACTIONABLE, "before_since"
    return items, pii, inputs


def _loose(items: pd.DataFrame) -> pd.Series:
    """Rows that came with neither an id nor a timestamp: their id is a hash of their words alone, so a remark
    repeated in a later export ("Good", "Refund not received") cannot be told from the same row exported again."""
    assumed = items[S.TIME_ASSUMED].fillna(False).astype(bool) if S.TIME_ASSUMED in items else False
    return items[S.ID].astype(str).str.startswith("c:") & assumed


def _per_file_ids(items: pd.DataFrame, digest: str) -> pd.DataFrame:
    """``weekly.rows_without_ids: per_file``: such rows are new in every new file (the same file twice is still
    recognised: its checksum is part of the id)."""
    loose = _loose(items)
    if not loose.any():
        return items
    out = items.copy()
    renamed = {i: f"c:{digest[:12]}:{i[2:]}" for i in out.loc[loose, S.ID]}
    out[S.ID] = out[S.ID].map(lambda i: renamed.get(i, i))
    if S.DUP_OF in out:
        out[S.DUP_OF] = out[S.DUP_OF].map(lambda i: renamed.get(i, i) if isinstance(i, str) else i)
    return out


def _digest(inputs: list[dict[str, str]]) -> str:
    return hashlib.sha256("".join(i["sha256"] for i in inputs).encode()).hexdigest()


def _merge_new(read: pd.DataFrame, classified: pd.DataFrame, tagger_version: int) -> pd.DataFrame:
    """The rows to add: every row read except those already held, with the partitions' results on stored ones."""
    new = read[read[S.REASON].fillna("") != "already_seen"].copy()
    if not len(classified):
        return new
    by_id = classified.set_index(S.ID)
    stored = new[S.STATUS] == S.STORED
    for c in [S.THEME, S.THEME_SIM, S.POLARITY, *tag.TAG_COLUMNS]:
        new[c] = None if c not in (S.THEME_SIM, "confidence") else np.nan
        new.loc[stored, c] = by_id.loc[new.loc[stored, S.ID], c].to_numpy()
    new["tagger_version"] = np.where(stored, tagger_version, None)
    return new


def _near_duplicates(new: pd.DataFrame, known: pd.DataFrame, classified: pd.DataFrame, cfg: Config,
                     encode: Callable, names: Sequence[str] = ()) -> tuple[pd.DataFrame, dict[str, int]]:
    """New items that repeat (cosine >= ``clean.near_duplicate_threshold``, same dedupe scope) an item held from an
    earlier week, or one before them this week, become its duplicates, as in one run over every week's rows.
    Returns the new rows and the grown ``duplicate_count`` of items held before."""
    threshold, scope = cfg.clean.near_duplicate_threshold, cfg.clean.dedupe_on
    fresh = new[new[S.STATUS] == S.STORED]
    if not threshold or not len(fresh):
        return new, {}
    present = [k for k in scope if k in fresh.columns]
    held = known[known[S.STATUS] == S.STORED]
    if present:
        keys = _scope_key(fresh, present)
        held = held[_scope_key(held, present).isin(set(keys))] if len(held) else held
    X_held = encode(clean.model_texts(held[S.TEXT].fillna("").astype(str).tolist(), names)) if len(held) else \
        np.zeros((0, 1), dtype=np.float32)
    X_new = np.stack(classified.set_index(S.ID).loc[fresh[S.ID], VECTOR].to_numpy())
    both = pd.concat([held[[S.ID, *present]], fresh[[S.ID, *present]]], ignore_index=True)
    X = np.vstack([X_held, X_new]) if len(held) else X_new
    near = clean.near_duplicates(both, X, threshold, scope)
    hits = near.iloc[len(held):]
    hits.index = fresh.index
    hit = hits.notna()
    if not hit.any():
        return new, {}
    out = new.copy()
    out.loc[hits.index[hit], S.STATUS], out.loc[hits.index[hit], S.REASON] = S.DUPLICATE, "near_duplicate"
    out.loc[hits.index[hit], S.DUP_OF] = hits[hit]
    for c in [S.THEME, S.THEME_SIM, S.POLARITY, *tag.TAG_COLUMNS, "tagger_version"]:
        if c in out:
            out.loc[hits.index[hit], c] = None
    out = clean.finalise_duplicates(out)
    counts = hits[hit].value_counts()
    had = held.set_index(S.ID)[S.DUP_COUNT]  # the held items in the new items' scopes only
    grown = {i: int(had[i] if had[i] == had[i] and had[i] > 0 else 1) + int(n) for i, n in counts.items()
             if i in had.index}
    return out, grown


def _scope_key(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One string per row naming its dedupe scope (vectorised: a row-wise join took 75 s on a million items)."""
    key = frame[columns[0]].astype(str)
    for c in columns[1:]:
        key = key + "|" + frame[c].astype(str)
    return key


# ---------------------------------------------------------------- the tagger: keep, retrain, or roll back

@dataclass
class TaggerPlan:
    version: int
    labels: pd.DataFrame  # reviewers' labels the tagger learns (``text``, ``label``)
    cause: str | None  # why every item is reclassified (model_update | taxonomy_edit), None: nothing changed
    rows: list[dict[str, Any]]  # the ``taggers`` rows this run writes
    record: dict[str, Any]  # what the manifest and the summary say about it
    before: int | None = None
    warnings: list[str] = field(default_factory=list)


def _workspace_corrections(found: pd.DataFrame, ids: set[str]) -> pd.DataFrame:
    """Reviewers' corrections of this workspace's items, oldest first."""
    return found[found[S.ID].isin(ids)].sort_values("entry_id").reset_index(drop=True)


def _labels(corrections: pd.DataFrame, through: int, leave_out: set[int] = frozenset()) -> pd.DataFrame:
    """Training labels from corrections up to ``through`` (the latest per text wins), without ``leave_out``."""
    use = corrections[(corrections["entry_id"] <= through) & ~corrections["entry_id"].isin(leave_out)]
    use = use.dropna(subset=["text"]).drop_duplicates("text", keep="last")
    return pd.DataFrame({"text": use["text"].astype(str).to_numpy(), "label": use["new_cause"].to_numpy()})


def _plan_tagger(history: pd.DataFrame, corrections: pd.DataFrame, cfg: Config, tax: Taxonomy, embedder: str,
                 encode: Callable, rollback: bool, run_id: str, names: Sequence[str] = ()) -> TaggerPlan:
    """Which tagger tags this week, and whether every item must be reclassified with it."""
    latest = int(corrections["entry_id"].max()) if len(corrections) else 0
    # the taxonomy counts by its tagging content (below), not by where its file lies
    setup = hashlib.sha256(json.dumps([cfg.tag.model_dump(mode="json", exclude={"taxonomy"}), embedder,
                                       _model_sha(cfg)], sort_keys=True).encode()).hexdigest()[:16]
    # how taggers were recorded before (the whole tag config; the whole taxonomy): an upgrade alone retags nothing
    before = {hashlib.sha256(json.dumps([cfg.tag.model_dump(mode="json"), embedder, _model_sha(cfg)],
                                        sort_keys=True).encode()).hexdigest()[:16], tax.fingerprint()}
    active = history[history["status"] == "active"].tail(1)
    version = int(history["version"].max()) + 1 if len(history) else 1

    def row(reason: str, through: int, status: str = "active", metrics: dict | None = None) -> dict[str, Any]:
        return {"version": version, "status": status, "reason": reason, "fingerprint": setup,
                "taxonomy_version": tax.tagging_fingerprint(), "corrections_through": through, "created_run": run_id,
                "metrics": metrics or {}}

    def plan(reason: str, through: int, cause: str | None, retire: list[dict[str, Any]], **kw: Any) -> TaggerPlan:
        new = row(reason, through, metrics=kw.pop("metrics", None))
        before = int(active.iloc[0]["version"]) if len(active) else None
        return TaggerPlan(version=version, labels=_labels(corrections, through), cause=cause,
                          rows=[*retire, new], record={**new, "replaces": before}, before=before, **kw)

    if not len(active):
        if rollback:
            raise ReviewError("no earlier tagger to roll back to: no weekly run has tagged this workspace yet",
                              code="E710")
        return plan("first", latest, None, [])
    now = active.iloc[0].to_dict()
    keep = TaggerPlan(version=int(now["version"]), labels=_labels(corrections, int(now["corrections_through"] or 0)),
                      cause=None, rows=[], record={**now, "decision": "kept"}, before=int(now["version"]))
    retired = {**now, "status": "retired"}
    if rollback:
        earlier = history[(history["version"] < now["version"]) & (history["status"] == "retired")].tail(1)
        if not len(earlier):
            raise ReviewError("no earlier tagger to roll back to: this workspace has used one tagger so far",
                              code="E710")
        back = earlier.iloc[0]
        return plan("rollback", int(back["corrections_through"] or 0), "model_update",
                    [{**now, "status": "rolled_back"}], metrics={"restores": int(back["version"])})
    if now["taxonomy_version"] not in {tax.tagging_fingerprint(), *before}:
        return plan("taxonomy_edit", latest, "taxonomy_edit", [retired])
    if now["fingerprint"] not in {setup, *before}:
        return plan("config", latest, "model_update", [retired])
    fresh = corrections[corrections["entry_id"] > int(now["corrections_through"] or 0)]
    if len(fresh) < cfg.weekly.retrain_min_corrections:
        return keep
    if cfg.tag.backend != "prototype":  # a trained model learns corrections when it is trained again
        keep.warnings.append(f"{len(fresh)} new corrections: retrain the model with `insight train tagger "
                             f"--from-corrections` (tag.backend {cfg.tag.backend!r} does not learn them by itself)")
        return keep
    held = set(fresh["entry_id"].iloc[cfg.weekly.holdout_every - 1::cfg.weekly.holdout_every]) or \
        {int(fresh["entry_id"].iloc[-1])}
    test = corrections[corrections["entry_id"].isin(held)]
    old_acc = _accuracy(cfg, tax, encode, _labels(corrections, int(now["corrections_through"] or 0)), test, names)
    new_acc = _accuracy(cfg, tax, encode, _labels(corrections, latest, held), test, names)
    metrics = {"held_out": len(test), "accuracy_before": old_acc, "accuracy_after": new_acc,
               "new_corrections": len(fresh)}
    if new_acc >= old_acc:
        return plan("corrections", latest, "model_update", [retired], metrics=metrics)
    rejected = row("corrections", latest, status="rejected", metrics=metrics)
    keep.rows, keep.record = [rejected], {**now, "decision": "kept", "rejected": rejected}
    keep.warnings.append(f"a tagger retrained on {len(fresh)} new corrections did worse on the held-out ones "
                         f"({new_acc:.2f} vs {old_acc:.2f}): the current tagger stays; look at the corrections")
    return keep


def _model_sha(cfg: Config) -> str | None:
    """A trained model's checksum (its metadata file), so a model replaced under the same path is a new model."""
    if cfg.tag.backend != "model" or not cfg.tag.model_path:
        return None
    meta = Path(cfg.tag.model_path) / "metadata.json"
    return hashlib.sha256(meta.read_bytes()).hexdigest() if meta.exists() else None


def _accuracy(cfg: Config, tax: Taxonomy, encode: Callable, labels: pd.DataFrame, test: pd.DataFrame,
              names: Sequence[str] = ()) -> float:
    emb = assembly.embedder(cfg)
    tagger = assembly.tagger(cfg, tax, emb, encode, labels)
    inputs = clean.model_texts(test["text"].fillna("").astype(str).tolist(), names)
    tags = tag.tag_texts(tagger, encode(inputs), inputs, tax, cfg.tag.multi_label_min)
    return round(float((tags[S.ROOT_CAUSE].to_numpy() == test["new_cause"].to_numpy()).mean()), 4)


def _reclassify(run: Executor, known: pd.DataFrame, job: dict[str, Any], cfg: Config, plan: TaggerPlan,
                updates: Changes, ledger: list[dict[str, Any]]) -> None:
    """Tag every held item again with the new tagger, except those a reviewer corrected (theirs stands)."""
    held = known[(known[S.STATUS] == S.STORED) & (known["review_reason"].fillna("") != "corrected")]
    if not len(held):
        return
    tags = _classify(run, held, job, cfg.weekly.partition_size, assign=False)
    ids = tags[S.ID].tolist()
    for c in tag.TAG_COLUMNS:
        updates.setdefault(c, {}).update(zip(ids, tags[c].tolist()))
    updates.setdefault("tagger_version", {}).update(dict.fromkeys(ids, plan.version))
    before = held.set_index(S.ID).loc[ids]
    moved = before[S.ROOT_CAUSE].to_numpy() != tags[S.ROOT_CAUSE].to_numpy()
    for item_id, old, new, version, c0, c1 in zip(
            np.array(ids)[moved], before[S.ROOT_CAUSE][moved], tags[S.ROOT_CAUSE][moved],
            before["tagger_version"][moved], before[S.CONFIDENCE][moved], tags[S.CONFIDENCE][moved]):
        ledger.append(_entry(item_id, S.ROOT_CAUSE, old, new, plan.cause, version, plan.version, c0, c1))


def _human_corrections(corrections: pd.DataFrame, known: pd.DataFrame, seen: int) -> list[dict[str, Any]]:
    """Reviewers' corrections made since the last weekly run, as ledger entries (the items changed when the
    reviewer saved; the run records it)."""
    fresh = corrections[corrections["entry_id"] > seen]
    version = dict(zip(known[S.ID], known["tagger_version"]))
    return [_entry(r[S.ID], S.ROOT_CAUSE, r["old_cause"], r["new_cause"], "human_correction", version.get(r[S.ID]),
                   version.get(r[S.ID]), None, 1.0) for r in fresh.to_dict("records")]


def _entry(item_id: str, what: str, old: Any, new: Any, cause: str, before: Any, after: Any,
           conf_before: Any = None, conf_after: Any = None) -> dict[str, Any]:
    def num(v: Any) -> float | None:
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else round(float(v), 4)

    def version(v: Any) -> int | None:
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else int(v)

    return {"item_id": item_id, "field": what, "old": old, "new": new, "cause": cause,
            "tagger_before": version(before), "tagger_after": version(after), "confidence_before": num(conf_before),
            "confidence_after": num(conf_after)}


# ---------------------------------------------------------------- themes

class Changes(dict):
    """What a run changes on items it already holds: column -> {item id: new value}."""

    def set(self, item_id: str, **values: Any) -> None:
        for c, v in values.items():
            self.setdefault(c, {})[item_id] = v

    def ids(self) -> set[str]:
        return set().union(*(set(m) for m in self.values())) if self else set()

    def apply(self, frame: pd.DataFrame, inplace: bool = False) -> pd.DataFrame:
        """``frame`` (with an ``item_id`` column) carrying the changes: a copy, or ``frame`` itself."""
        out = frame if inplace else frame.copy()
        pos = pd.Series(np.arange(len(out)), index=out[S.ID].to_numpy())
        for c, m in self.items():
            if not m:
                continue
            column = out[c].astype(object).to_numpy(copy=True) if c in out.columns else \
                np.full(len(out), None, dtype=object)
            rows = pos.reindex(list(m)).dropna().astype(int)
            for r, item_id in zip(rows.to_numpy(), rows.index):  # one by one: values may be lists (labels)
                column[r] = m[item_id]
            out[c] = column
        return out


def _follow_themes(now: pd.DataFrame, n_held: int, updates: Changes, new: pd.DataFrame) -> None:
    """Carry the theme stage's moves into ``now`` (held rows first, then the new rows), in place."""
    for c in (S.THEME, S.THEME_SIM):
        moved = updates.get(c) or {}
        if moved:
            at = now[S.ID].iloc[:n_held].isin(list(moved))
            rows = np.flatnonzero(at.to_numpy())
            values = now[c].astype(object).to_numpy(copy=True)
            values[rows] = [moved[i] for i in now[S.ID].iloc[rows]]
            now[c] = values
    kept = new[new[S.STATUS] != S.QUARANTINED]
    for c in (S.THEME, S.THEME_SIM):
        if not len(kept) or c not in kept:
            continue
        values = now[c].astype(object).to_numpy(copy=True)
        values[n_held:] = kept[c].to_numpy()
        now[c] = values


# what measuring, ranking and the manifest read: fewer columns, fewer bytes in each copy of a million items
_MEASURED = [S.ID, S.STATUS, S.REASON, S.LANGUAGE, S.TIMESTAMP, S.CHANNEL, S.RATING, S.CUSTOMER_ID, S.ORDER_ID,
             "order_value", "carrier", "warehouse", "payment_provider", "product_category", "contact_reason", S.TEXT,
             S.CLEAN_TEXT,
             S.DUP_COUNT, S.THEME, S.THEME_SIM, S.ROOT_CAUSE, S.CONFIDENCE, "needs_review", S.POLARITY, S.TRUTH,
             S.TIME_ASSUMED, S.SUBTHEME]
_MANIFEST = [S.ID, S.STATUS, S.REASON, S.LANGUAGE, S.CLEAN_TEXT, S.THEME, S.ROOT_CAUSE, "needs_review",
             S.POLARITY, S.NEGATIVE, S.TRUTH, S.DETAIL]


def _split(now: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stored items with what measuring reads, and the other rows with what the manifest counts."""
    stored = (now[S.STATUS] == S.STORED).to_numpy()
    return (now.loc[stored, [c for c in _MEASURED if c in now.columns]],
            now.loc[~stored, [c for c in _MANIFEST if c in now.columns]])


def _current(known: pd.DataFrame, new: pd.DataFrame, updates: Changes) -> pd.DataFrame:
    """Every item as it stands now: held items with this run's updates (written into ``known``: the caller keeps
    only its ids and versions afterwards), then the new rows."""
    held = updates.apply(known, inplace=True)
    held[S.CLEAN_TEXT] = held[S.TEXT]  # stored text is the clean (redacted) text
    keep = new[new[S.STATUS] != S.QUARANTINED]
    return pd.concat([held, keep], ignore_index=True) if len(held) else keep.reset_index(drop=True)


def _utc(moment: Any) -> pd.Timestamp:
    """SQLite hands back naive times (written as UTC), PostgreSQL aware ones."""
    t = pd.Timestamp(moment)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _rediscover_due(store: Any, cfg: Config, forced: bool | None) -> bool:
    if forced is not None:
        return forced
    every = cfg.weekly.rediscover_every
    done = len(store.list_runs("weekly"))
    return bool(every) and done > 0 and (done + 1) % every == 0


def _themes(items: pd.DataFrame, registry: themes.Registry, events: pd.DataFrame, last: Any, cfg: Config,
            encode: Callable, rediscover: bool, updates: Changes, ledger: list[dict[str, Any]],
            new: pd.DataFrame, names: Sequence[str] = ()) -> dict[str, Any]:
    """Follow reviewers' theme edits, find themes among the unthemed (or among everything, matched by id), and
    describe every theme from a bounded sample of its items."""
    wanted = [S.ID, S.STATUS, S.THEME, S.TEXT, S.POLARITY, S.ROOT_CAUSE, S.CUSTOMER_ID, S.TIMESTAMP]
    stored = items.loc[(items[S.STATUS] == S.STORED).to_numpy(), [c for c in wanted if c in items.columns]
                       ].reset_index(drop=True)
    fresh = set(new[S.ID])
    first: dict[str, tuple[str, float]] = {}  # new items' themes found here
    happened: list[dict[str, Any]] = []
    before = dict(zip(stored[S.ID], stored[S.THEME]))

    def move(ids: Sequence[str], to: Sequence[str], sims: Sequence[float], cause: str) -> None:
        for item_id, tid, sim in zip(ids, to, sims):
            if before.get(item_id) == tid:
                continue
            if item_id in fresh:  # a new item's first theme is not a change
                first[item_id] = (tid, round(float(sim), 4))
            else:
                updates.set(item_id, **{S.THEME: tid, S.THEME_SIM: round(float(sim), 4)})
                ledger.append(_entry(item_id, S.THEME, before.get(item_id), tid, cause, None, None))
            before[item_id] = tid

    def vectors(rows: pd.DataFrame) -> np.ndarray:
        return encode(clean.model_texts(rows[S.TEXT].fillna("").astype(str).tolist(), names))

    edited = 0
    # reviewers' merges retire themes; their splits since the last run divide a theme: its items choose again
    active = {t for t, st in zip(registry.ids, registry.status) if st == "active"}
    split = set()
    if len(events) and last is not None:
        recent = events[(events["event"] == "split") & (events["run_id"] == "review")  # a reviewer's, not a run's
                        & (pd.to_datetime(events["at"], utc=True) > _utc(last))]
        split = set(recent["theme_id"])
    orphans = stored[(~stored[S.THEME].isin(active) & (stored[S.THEME] != S.UNTHEMED) & stored[S.THEME].notna())
                     | stored[S.THEME].isin(split)]
    if len(orphans):
        ids, sims = themes.assign_to_registry(vectors(orphans), registry, cfg.themes.assign_threshold)
        move(orphans[S.ID].tolist(), ids, sims, "theme_edit")
        edited = len(orphans)
    stored[S.THEME] = stored[S.ID].map(before)
    new_ids: list[str] = []
    layout = None
    if rediscover and len(stored) >= cfg.weekly.discover_min:
        # every stored text as a Python string: only a rediscovery reads them all (a million cost ~200 MB)
        texts = stored[S.TEXT].fillna("").astype(str).tolist()
        complaints = (stored[S.POLARITY] == report.NEGATIVE).tolist()
        X = vectors(stored)
        found = themes.find_themes(clean.model_texts(texts, names), X, stored[S.ID].tolist(), assembly.clusterer(cfg),
                                   cfg.themes.model_copy(update={"mode": "discover"}), registry=registry,
                                   previous=before, seed=cfg.seed, display_texts=texts, complaints=complaints,
                                   voices=S.voices(stored))
        move(stored[S.ID].tolist(), found.ids, found.similarity, "rediscovery")
        layout = (stored[S.ID].tolist(), themes.layout(X, found.ids, cfg.seed).round(4))  # the map, drawn again
        new_ids = [e["theme_id"] for e in found.events if e.get("event") == "born"]
        registry, happened = found.registry, found.events
    else:
        pool = _recent_unthemed(stored, before, fresh, cfg.measure.recent_weeks)
        if len(pool) >= cfg.weekly.discover_min and pool[S.ID].isin(fresh).any():
            pool_texts = pool[S.TEXT].fillna("").astype(str).tolist()
            found = themes.find_themes(clean.model_texts(pool_texts, names), vectors(pool), pool[S.ID].tolist(),
                                       assembly.clusterer(cfg), cfg.themes.model_copy(update={"mode": "discover"}),
                                       registry=themes.Registry(counter=registry.counter), seed=cfg.seed,
                                       display_texts=pool_texts,
                                       complaints=(pool[S.POLARITY] == report.NEGATIVE).tolist(),
                                       voices=S.voices(pool))
            new_ids = themes.absorb(registry, found.registry)
            move(pool[S.ID].tolist(), found.ids, found.similarity, "rediscovery")
            happened = [e for e in found.events if e.get("event") == "born"]
    stored[S.THEME] = stored[S.ID].map(before)
    if first:
        at = new[S.ID].isin(list(first))
        new.loc[at, S.THEME] = [first[i][0] for i in new.loc[at, S.ID]]
        new.loc[at, S.THEME_SIM] = [first[i][1] for i in new.loc[at, S.ID]]
    table = _describe(stored, registry, cfg, encode, names)
    return {"table": table, "registry": registry, "events": happened, "new": new_ids, "edited": edited,
            "layout": layout}


def _place_on_map(now: pd.DataFrame, n_held: int, new: pd.DataFrame, classified: pd.DataFrame,
                  found: dict[str, Any], updates: Changes) -> None:
    """The theme map across weeks: a rediscovery draws it again; otherwise new items join their theme's disc (by
    their own vectors) and held items that changed theme join their new disc, while every other item stays where
    it was, so a reviewer's map does not reshuffle each week. ``new`` gets its items' places in place."""
    stored = (new[S.STATUS] == S.STORED).to_numpy()
    fresh = new.loc[stored, S.ID].tolist()
    if found.get("layout") is not None:
        ids, xy = found["layout"]
        at = dict(zip(ids, range(len(ids))))
        held = now[S.ID].iloc[:n_held]
        for item_id in held[held.isin(at)]:
            x, y = xy[at[item_id]]
            updates.set(item_id, **{S.MAP_X: float(x), S.MAP_Y: float(y)})
        new.loc[stored, S.MAP_X] = [float(xy[at[i]][0]) if i in at else np.nan for i in fresh]
        new.loc[stored, S.MAP_Y] = [float(xy[at[i]][1]) if i in at else np.nan for i in fresh]
        return
    # only the columns the map reads: a copy of every column of a million rows cost ~250 MB at the run's peak
    held = now.iloc[:n_held][[c for c in (S.ID, S.STATUS, S.THEME, S.MAP_X, S.MAP_Y) if c in now.columns]]
    held = held[(held[S.STATUS] == S.STORED).to_numpy()]
    moved = set(updates.get(S.THEME) or {})
    still = held[~held[S.ID].isin(moved)]
    discs = themes.anchors(still[S.THEME], still[[S.MAP_X, S.MAP_Y]].to_numpy(dtype=float)) \
        if S.MAP_X in still and len(still) else {}
    X = np.stack(classified.set_index(S.ID).loc[fresh, VECTOR].to_numpy()) if fresh else None
    themes_new = new.loc[stored, S.THEME].tolist() if fresh else []
    if not discs:  # nothing on the map yet (a new workspace, or items held from before maps): draw the new ones
        xy = themes.layout(X, themes_new) if X is not None else np.zeros((0, 2))
    else:
        registry = found["registry"]
        centroids = dict(zip(registry.ids, registry.centroids))
        xy = themes.place(X, themes_new, fresh, discs, centroids)
        gone = held[held[S.ID].isin(moved)]
        if len(gone):
            now_theme = updates.get(S.THEME)
            spots = themes.place(None, [now_theme[i] for i in gone[S.ID]], gone[S.ID].tolist(), discs, centroids)
            for item_id, (x, y) in zip(gone[S.ID], spots):
                updates.set(item_id, **{S.MAP_X: float(x), S.MAP_Y: float(y)})
    if fresh:
        new.loc[stored, S.MAP_X] = np.round(xy[:, 0].astype(float), 4)
        new.loc[stored, S.MAP_Y] = np.round(xy[:, 1].astype(float), 4)


def _recent_unthemed(stored: pd.DataFrame, themes_now: dict[str, str], fresh: set[str], weeks: int) -> pd.DataFrame:
    """Unthemed items worth clustering again: this week's, and those of the last ``weeks`` weeks (older leftovers
    did not form a theme when they were new; the periodic rediscovery looks at them again)."""
    unthemed = stored[stored[S.ID].map(themes_now).fillna(S.UNTHEMED) == S.UNTHEMED]
    if S.TIMESTAMP not in unthemed or not len(unthemed):
        return unthemed
    when = pd.to_datetime(unthemed[S.TIMESTAMP], utc=True, errors="coerce")
    recent = when >= when.max() - pd.Timedelta(weeks=weeks)
    return unthemed[recent.fillna(False).to_numpy() | unthemed[S.ID].isin(fresh).to_numpy()]


def _describe(stored: pd.DataFrame, registry: themes.Registry, cfg: Config, encode: Callable,
              names: Sequence[str] = ()) -> pd.DataFrame:
    """Each theme named and described from a seeded sample of its items (``weekly.describe_per_theme``, fewer when
    there are many themes: ``weekly.describe_sample`` in all): reading a million items to name a few hundred
    themes would cost more than the rest of the run."""
    theme = stored[S.THEME].to_numpy()
    at = np.flatnonzero(pd.notna(theme) & (theme != S.UNTHEMED))  # positions: a million-row copy costs seconds
    if not len(at):
        return pd.DataFrame(columns=[S.THEME, "label", "problem_label", "keywords", "key_phrases", "examples",
                                     "size", "subthemes"])
    codes, names_of = pd.factorize(theme[at])
    per_theme = max(30, min(cfg.weekly.describe_per_theme, cfg.weekly.describe_sample // len(names_of)))
    shuffled = np.random.RandomState(cfg.seed).choice(len(at), size=len(at), replace=False)  # DataFrame.sample's
    first = pd.Series(codes[shuffled]).groupby(codes[shuffled]).cumcount().to_numpy() < per_theme
    sample = stored.iloc[at[shuffled[first]]]
    texts = sample[S.TEXT].fillna("").astype(str).tolist()
    inputs = clean.model_texts(texts, names)
    complaints = (sample[S.POLARITY] == report.NEGATIVE).tolist()
    found = themes.find_themes(inputs, encode(inputs), sample[S.ID].tolist(),
                               assembly.clusterer(cfg), cfg.themes.model_copy(update={"mode": "assign"}),
                               registry=registry, previous=dict(zip(sample[S.ID], sample[S.THEME])), seed=cfg.seed,
                               display_texts=texts, complaints=complaints, voices=S.voices(sample))
    if S.ROOT_CAUSE not in sample:
        return found.table
    # the sample's items carry this run's causes: a mixed theme is named by the complaints of its own, as at a run
    return themes.name_by_cause(found, inputs, complaints, sample[S.ROOT_CAUSE].astype(str).tolist(), cfg.themes,
                                S.voices(sample)).table


def _pockets(analysed: pd.DataFrame, measured: report.Measured, cfg: Config, tax: Taxonomy, encode: Callable,
             names: Sequence[str], updates: Changes, new: pd.DataFrame) -> dict[str, Any]:
    """The pockets of complaints in themes of praise (``report.rank_actions``), found as the first run finds them:
    each such theme's items split into sub-themes (``themes.subthemes``, one theme at a time so memory stays that
    of the largest), measured into ``measured.pockets`` and named in the theme table. The describe step names
    sub-themes from a sample and held items keep the sub-themes of the run that stored them, so without this a
    pocket the first run ranked (the itchy sweaters among sweater praise) left the actions at the next weekly run.

    Items learn their sub-theme only where a pocket is concerned (in one now, or in one before): the app counts a
    pocket action's complaints by it, and rewriting every split item each week cost a store of a million items
    400,000 changed rows. Returns what the manifest says about it: above ``weekly.pocket_max_items`` items in
    such themes the search is skipped (and the manifest says so)."""
    praised = report.praised_themes(measured.theme_stats, cfg.rank)
    inside = np.flatnonzero(analysed[S.THEME].isin(praised[S.THEME]).to_numpy())
    record = {"themes": int(len(praised)), "items": int(len(inside)), "searched": False}
    if not len(inside) or len(inside) > cfg.weekly.pocket_max_items:
        return record
    table = measured.themes
    known = dict(zip(table[S.THEME], table["subthemes"])) if "subthemes" in table else {}
    subs = np.full(len(analysed), None, dtype=object)
    text, unhappy = analysed[S.TEXT].fillna("").astype(str).to_numpy(), (analysed[S.POLARITY] == report.NEGATIVE)
    for theme, where in analysed[S.THEME].iloc[inside].groupby(analysed[S.THEME].iloc[inside]).indices.items():
        rows = inside[where]
        # each distinct text cleaned and looked up once (50 us a text): a large shop's short remarks repeat
        at, distinct = pd.factorize(text[rows])
        read = clean.model_texts(distinct.tolist(), names)
        ids, parts = themes.subthemes([read[i] for i in at], encode(read)[at], [theme] * len(rows), seed=cfg.seed,
                                      complaints=unhappy.iloc[rows].tolist())
        subs[rows] = ids
        known[theme] = parts[theme]
    table["subthemes"] = table[S.THEME].map(lambda t: known.get(t, []))
    split = analysed.iloc[inside].assign(**{S.SUBTHEME: subs[inside]})
    measured.pockets = report.pocket_stats(split, table, cfg.measure.recent_weeks, bool(measured.history["trends"]))
    ranked = set(report.chosen_pockets(praised, measured.pockets, tax, cfg.rank)[S.SUBTHEME])
    before = analysed[S.SUBTHEME] if S.SUBTHEME in analysed else pd.Series(None, index=analysed.index, dtype=object)
    fresh = set(new[S.ID])
    first = {}
    kept = before.to_numpy(dtype=object, copy=True)  # what ranking reads: the items as they will be stored
    for k, (item_id, had, sub) in enumerate(zip(analysed[S.ID], before, subs)):
        now = sub if sub in ranked else None  # only a pocket's id is kept on its items
        if item_id in fresh:
            kept[k] = now
            if now:
                first[item_id] = now
        elif (now or had in ranked) and had != now:
            kept[k] = now
            updates.set(item_id, **{S.SUBTHEME: now})
    analysed[S.SUBTHEME] = kept
    if first:
        at = new[S.ID].isin(list(first))
        new.loc[at, S.SUBTHEME] = new.loc[at, S.ID].map(first)
    return {**record, "searched": True, "ranked": sorted(ranked)}


# ---------------------------------------------------------------- publishing

def _changed_rows(store: Any, known: pd.DataFrame, updates: Changes) -> pd.DataFrame:
    """The held items this run changed, each with every tracked field, and the version the run first read it at
    (a reviewer's edit since then must make the run yield, so the version is not read again)."""
    ids = updates.ids()
    if not ids:
        return pd.DataFrame(columns=[S.ID, "version", *TRACKED])
    rows = store.workspace_items(TRACKED, ids=sorted(ids)).drop(columns=["version"])
    rows = rows.merge(known[[S.ID, "version"]], on=S.ID, how="inner")
    return updates.apply(rows[[S.ID, "version", *(c for c in TRACKED if c in rows.columns)]])


def _checkpoint(name: str) -> None:
    """The crash drill: ``INSIGHT_FAULT_AT=<checkpoint>`` kills this process there, as a power cut would."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
