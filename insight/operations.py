"""Entry operations beside the pipeline run (composition layer, like ``flow``), each built from stages' public API.

``ingest_only`` checks an export without analysing it; ``erase_customer`` honours a deletion request everywhere
insight keeps data; ``train_tagger`` trains and saves a root-cause tagger; ``corrections_as_labels`` turns
reviewers' corrections into training labels; ``weekly_brief`` gathers what the Markdown brief says;
``edit_theme`` applies a reviewer's edit to the theme registry.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import assembly, clean, ingest, report, tag, themes
from . import schema as S
from .config import Config, load_config, load_taxonomy
from .embed import EmbeddingCache, text_key
from .errors import ReviewError
from .flow import contact_key, read_and_clean
from .provenance import local_key, new_run_id, now_iso, versions
from .roles import Reporter, Silent, Store

log = logging.getLogger("insight.erase")
SALT_ENV = "INSIGHT_ERASURE_SALT"
THEME_EDITS = ("rename", "merge", "split", "move")


def ingest_only(source: ingest.Source, config: Config | None = None, *, store: bool = True,
                reporter: Reporter | None = None) -> S.RunResult:
    """Read, validate and clean one export; store the accounting (a run of kind ``ingest``) unless told not to."""
    cfg = config or load_config()
    items, pii = read_and_clean(source, cfg, reporter)
    manifest = {
        "created_at": now_iso(), "input_sha256": ingest.source_digest(source), "input": ingest.source_name(source),
        "config": cfg.model_dump(mode="json"), "versions": versions(), "pii_redactions": pii,
        "reasons": report.reason_table(items).to_dict("records"),
        "languages": S.stored_items(items)[S.LANGUAGE].value_counts().to_dict(),
    }
    result = S.RunResult(run_id=new_run_id(), counts=S.Counts.of(items), items=items, themes=None, actions=None,
                         weekly=None, segments=None, manifest=manifest)
    if store:
        assembly.store(cfg).publish(result, source=manifest["input"], kind="ingest")
    return result


def subject_hash(customer_id: str, cfg: Config) -> str:
    """A salted hash of the customer id: the erasure log proves an erasure without naming the customer."""
    return hashlib.sha256(_salt(cfg) + customer_id.strip().encode()).hexdigest()


def _salt(cfg: Config) -> bytes:
    return local_key(cfg.home_path, "erasure.salt", env=SALT_ENV)


def erased_model_texts(texts: Sequence[str], store: Store) -> set[str]:
    """Every text a model may have read for stored ``texts``: as stored, as ``clean.model_text`` reads it, and
    without the shop's names that runs left out (the names every run of the workspace recorded, and each word of
    the text on its own: a run of another workspace shares the cache and may have left out any one of them)."""
    recorded = sorted({n for manifest in store.list_runs()["manifest"] if isinstance(manifest, dict)
                       for n in manifest.get("names_left_out") or []})
    out = set(texts) | set(clean.model_texts(texts))
    for text in texts:
        words = {w.lower() for w in re.findall(r"[^\W\d_]+", clean.model_text(text))}
        out |= {clean.model_text(text, names) for names in [recorded, *[(w,) for w in sorted(words)]] if names}
    return out


def erase_customer(customer_id: str, config: Config | None = None) -> dict[str, Any]:
    """Remove a customer's items from every stored run, the embedding cache and insight's own exports.

    Idempotent; logs only a salted hash of the customer id.
    """
    cfg = config or load_config()
    store = assembly.store(cfg)
    given = customer_id.strip()
    # the id as given, its keyed hash, and the unkeyed hash older versions stored
    ids = sorted({given, str(ingest.pseudonymise_contact(given, contact_key(cfg))),
                  str(ingest.pseudonymise_contact(given))})
    hashed = subject_hash(customer_id, cfg)
    done = store.erase_customer(ids, hashed)
    # vectors are cached under the text the model read; entries cached before that existed, under the stored text
    keys = sorted({text_key(t) for t in erased_model_texts(done["texts"], store)})
    forgotten = sum(cache.remove(keys) for cache in EmbeddingCache.every(cfg.home_path / "cache"))
    rebuilt = rebuild_names(store, cfg.themes.min_voices)
    rewritten = rewrite_exports(store)
    log.info("erased subject %s: %d items in %d runs", hashed[:16], done["items_removed"],
             len(done["runs_affected"]))
    return {"subject_hash": hashed, "items_removed": done["items_removed"], "runs_affected": done["runs_affected"],
            "cache_vectors_removed": forgotten, "names_rebuilt": rebuilt, "exports_rewritten": rewritten}


def rebuild_names(store: Store, min_voices: int) -> list[str]:
    """Rebuild the names of every run an erasure marked (this one's, or an earlier one that died before finishing):
    a word fewer than ``min_voices`` of the remaining customers use leaves theme names, action titles and
    sentences, and the registry's unpinned labels. Each run is rewritten and unmarked in one transaction."""
    done = []
    for run_id in store.stale_name_runs():
        items = S.stored_items(store.load(run_id, "items"))  # the rows names were built from
        rare = themes.rare_words(items["text"].fillna("").astype(str).tolist(),
                                 items[S.CUSTOMER_ID].tolist(), min_voices)
        changed, names = themes.forget_words(store.load(run_id, "themes"), rare)
        actions = [{"rank": a["rank"], **{f: themes.renamed(a[f], names)
                                          for f in ("theme_label", "title", "segment_sentence")}}
                   for a in store.load(run_id, "actions").to_dict("records")]
        segments = [{**{k: s[k] for k in ("level", "group_id", "column", "value")},
                     "sentence": themes.renamed(s["sentence"], names)}
                    for s in store.load(run_id, "segments").to_dict("records")]
        store.replace_names(run_id, changed, actions if names else [], segments if names else [], names)
        done.append(run_id)
    return done


def rewrite_exports(store: Store) -> list[str]:
    """Rewrite every managed export an erasure marked (this one's, or an earlier one that died before finishing),
    each file replaced whole (written beside it, then renamed) and unmarked only once written."""
    done = []
    for e in store.pending_exports().to_dict("records"):
        path = Path(e["path"])
        if path.exists():
            if e["format"] == "markdown":  # the weekly brief, as `insight export --format markdown` writes it
                text = report.to_markdown(weekly_brief(store, e["run_id"]))
            else:
                frame = store.load(e["run_id"], e["what"]).drop(columns=["run_id"])
                text = report.export(frame, e["format"], meta={"run_id": e["run_id"], "what": e["what"]})
            fresh = path.with_name(f".{path.name}.insight-tmp")
            fresh.write_text(text, encoding="utf-8")
            os.replace(fresh, path)
            done.append(str(path))
        store.export_rewritten(int(e["export_id"]))
    return done


def train_tagger(labelled: pd.DataFrame, out_dir: str | Path | None = None, config: Config | None = None,
                 taxonomy_source: str | None = None, include_seeds: bool = True, *, finetune: bool = False,
                 unlabelled: list[str] | None = None, pseudo_per_class: int = 0, pseudo_spread: float = 2.5,
                 head_pseudo_per_class: int = 80, finetune_epochs: float = 10.0, finetune_lr: float = 1e-4,
                 progress: Reporter | None = None) -> dict[str, Any]:
    """Train a calibrated tagger from labelled feedback (``text``, ``label`` = taxonomy keys) and save it.

    The taxonomy's seed examples join the training data, so causes with few labels still have examples. Texts
    are prepared exactly as the pipeline prepares what it tags (``clean.model_inputs``); the recipe itself is
    ``tag.train_and_save``. The default folder is ``models/tagger/<taxonomy>-vN``, a new version each time.
    """
    cfg = config or load_config()
    reporter = progress or Silent()
    tax = load_taxonomy(taxonomy_source or cfg.tag.taxonomy)
    tag.check_labels(labelled["label"], tax)
    texts, labels = labelled["text"].astype(str).tolist(), labelled["label"].tolist()
    if include_seeds:
        seed_texts, seed_labels = tag.taxonomy_training_set(tax)
        texts, labels = texts + seed_texts, labels + seed_labels
    emb = assembly.embedder(cfg)
    pool = clean.model_inputs(unlabelled, cfg.clean) if finetune and unlabelled and pseudo_per_class else []

    def step(done: int, total: int) -> None:
        if done == 1:
            reporter.stage("fine-tune", total)
        reporter.advance(1)

    return tag.train_and_save(
        clean.model_inputs(texts, cfg.clean), labels, out_dir or tag.next_model_dir(Path("models") / "tagger",
                                                                                        tax.name),
        encode=assembly.encoder(cfg, emb), encoder_at=assembly.encoder_at, embedder=emb.name, taxonomy=tax,
        cfg=cfg.tag, seed=cfg.seed, finetune=finetune, pool=pool, pseudo_per_class=pseudo_per_class,
        pseudo_spread=pseudo_spread, head_pseudo_per_class=head_pseudo_per_class, finetune_epochs=finetune_epochs,
        finetune_lr=finetune_lr, on_step=step)


def corrections_as_labels(store: Store) -> pd.DataFrame:
    """Reviewers' corrections as training labels (``text``, ``label``): the latest correction of a text wins."""
    return assembly.reviewer_labels(store)


def weekly_brief(store: Store, run_id: str) -> dict[str, Any]:
    """What the Markdown brief says: top actions, spikes, themes new for two runs in a row, what changed."""
    run = store.get_run(run_id)
    runs = store.list_runs(run["kind"])
    older = runs[runs["created_at"] < run["created_at"]]
    return report.brief(run, store.load(run_id, "actions"), store.load(run_id, "segments"),
                        store.load(run_id, "themes"), store.theme_events(),
                        str(older.iloc[0]["run_id"]) if len(older) else None,
                        ledger=store.ledger(run_id) if run["kind"] == "weekly" else None)


def edit_theme(op: str, config: Config | None = None, *, by: Any = None, preview: bool = False,
               **kw: Any) -> dict[str, Any]:
    """A reviewer's edit of the theme registry (rename, merge, split, move), stored with its event.

    Edits are training data for the next run: a pinned name survives rediscovery, merged themes stay merged,
    a split theme's parts are registered with their own centroids, and moved items are recorded as labelled
    examples. Merge and split read the latest run's items and embed them (from the cache). ``preview`` computes
    the edit's event (a split's part sizes) without storing it. ``by`` (a name, or an ``insight.access.Actor``)
    is who edits: the store checks their role and keeps them in the audit log.
    """
    if op not in THEME_EDITS:
        raise ReviewError(f"unknown theme edit {op!r}; valid: {', '.join(THEME_EDITS)}", code="E702")
    cfg = config or load_config()
    store = assembly.store(cfg)
    reg = themes.Registry.from_records(store.registry_records(), store.theme_counter())
    if op == "rename":
        event = themes.rename(reg, kw["theme_id"], kw["label"])
    elif op == "move":
        event = themes.move(reg, kw["item_ids"], kw["theme_id"])
    else:
        run_id = store.latest_analysed_run_id()  # a weekly run's items are the workspace's
        if run_id is None:
            raise ReviewError("no stored run to take the themes' items from", code="E701")
        items = store.load(run_id, "items")
        wanted = kw["theme_ids"] + [kw["into"]] if op == "merge" else [kw["theme_id"]]
        members = items[items["theme_id"].isin(wanted)]
        encode = assembly.encoder(cfg, assembly.embedder(cfg))
        names = (store.get_run(run_id).get("manifest") or {}).get("names_left_out") or ()
        X = encode(clean.model_texts(members["text"].fillna("").tolist(), names))  # the run's vectors (cached)
        if op == "merge":
            event = themes.merge(reg, kw["theme_ids"], kw["into"], X, members["theme_id"].to_numpy())
        else:
            seeds = encode(clean.model_inputs(kw["seeds"], cfg.clean)) if kw.get("seeds") else None
            event, part, ids = themes.split(reg, kw["theme_id"], X, k=kw.get("k", 2), seeds=seeds)
            event["sizes"] = {i: int((part == n).sum()) for n, i in enumerate(ids)}
    if not preview:  # a preview (the app shows a split's part sizes before it is made) changes nothing
        store.save_registry(reg.to_records(), [event], by, loaded=reg.loaded)
    return event


def semantic_search(texts: Sequence[str], config: Config | None = None) -> Callable[[str], np.ndarray]:
    """A search by meaning over stored ``texts`` (so "never arrived" finds "parcel still not here"): returns a
    function from a query, as a reviewer types it, to each text's cosine with it. The texts' vectors are the ones
    the run made (from the cache, kept as float16) and the model loads once, not once per query."""
    cfg = config or load_config()
    encode = assembly.encoder(cfg, assembly.embedder(cfg))
    texts = [t or "" for t in texts]
    vectors = encode(clean.model_texts(texts, clean.addressee_names(texts))).astype(np.float16)

    def scores(query: str) -> np.ndarray:
        return vectors.astype(np.float32) @ encode(clean.model_inputs([query], cfg.clean))[0]

    return scores
