"""Operations beside the main run (composition layer, like ``flow``): ingest-only runs and erasure.

``ingest_only`` runs the read and clean stages and stores the accounting, so a data engineer can check an
export before analysing it. ``erase_customer`` honours a deletion request across the store, the embedding
cache and the exports insight wrote; it is idempotent and logs only a salted hash of the customer id.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import embed as embed_stage
from . import export as export_stage
from . import schema as S
from .config import Config, load_config, resolve
from .flow import Reporter, Silent, build_embedder, counts_of, read_and_clean, versions

log = logging.getLogger("insight.erase")
SALT_ENV = "INSIGHT_ERASURE_SALT"


def ingest_only(source: str | Path | pd.DataFrame, config: Config | None = None, *, store: bool = True,
                reporter: Reporter | None = None) -> S.RunResult:
    """Read, validate and clean one export; store the accounting (a run of kind ``ingest``) unless told not to."""
    cfg = config or load_config()
    items, pii, digest = read_and_clean(source, cfg, reporter or Silent())
    counts = counts_of(items)
    manifest = {
        "created_at": datetime.now(timezone.utc).isoformat(), "input_sha256": digest,
        "input": str(source) if not isinstance(source, pd.DataFrame) else "<frame>",
        "config": cfg.model_dump(mode="json"), "versions": versions(), "pii_redactions": pii,
        "reasons": reason_table(items).to_dict("records"),
        "languages": items.loc[items[S.STATUS] == S.STORED, S.LANGUAGE].value_counts().to_dict(),
    }
    result = S.RunResult(run_id=f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}",
                         counts=counts, items=items, themes=None, actions=None, weekly=None, segments=None,
                         manifest=manifest)
    if store:
        resolve("store", cfg.store.backend)(cfg.store_url).publish(result, source=manifest["input"], kind="ingest")
    return result


def reason_table(items: pd.DataFrame) -> pd.DataFrame:
    """Outcome x reason counts: the accounting behind ``read = stored + duplicates + ...``."""
    table = items.groupby([S.STATUS, items[S.REASON].fillna("-")]).size().rename("rows").reset_index()
    table.columns = ["outcome", "reason", "rows"]
    order = {s: i for i, s in enumerate(S.STATUSES)}
    return table.sort_values(["outcome", "rows"], key=lambda c: c.map(order) if c.name == "outcome" else -c
                             ).reset_index(drop=True)


def _salt(cfg: Config) -> bytes:
    if os.environ.get(SALT_ENV):
        return os.environ[SALT_ENV].encode()
    path = cfg.home_path / "erasure.salt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(16))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def subject_hash(customer_id: str, cfg: Config) -> str:
    return hashlib.sha256(_salt(cfg) + customer_id.strip().encode()).hexdigest()


def erase_customer(customer_id: str, config: Config | None = None) -> dict[str, Any]:
    """Remove a customer's items from every stored run, the embedding cache and insight's own exports."""
    from .ingest import _pseudonymise_contact

    cfg = config or load_config()
    store = resolve("store", cfg.store.backend)(cfg.store_url)
    ids = sorted({customer_id.strip(), str(_pseudonymise_contact(customer_id.strip()))})
    hashed = subject_hash(customer_id, cfg)
    done = store.erase_customer(ids, hashed)
    keys = [embed_stage.text_key(t) for t in done["texts"]]
    forgotten = 0
    for npz in sorted((cfg.home_path / "cache").glob("embeddings-*.npz")):
        model = npz.name.removeprefix("embeddings-").removesuffix(".npz")
        forgotten += embed_stage.EmbeddingCache(npz.parent, model).remove(keys)
    rewritten = []
    for e in store.managed_exports().to_dict("records"):
        path = Path(e["path"])
        if path.exists() and e["run_id"] in done["runs_affected"]:
            frame = store.load(e["run_id"], e["what"]).drop(columns=["run_id"])
            path.write_text(export_stage.export(frame, e["format"], meta={"run_id": e["run_id"], "what": e["what"]}),
                            encoding="utf-8")
            rewritten.append(str(path))
    log.info("erased subject %s: %d items in %d runs", hashed[:16], done["items_removed"],
             len(done["runs_affected"]))
    return {"subject_hash": hashed, "items_removed": done["items_removed"], "runs_affected": done["runs_affected"],
            "cache_vectors_removed": forgotten, "exports_rewritten": rewritten}


def train_tagger(labelled: pd.DataFrame, out_dir: str | Path | None = None, config: Config | None = None,
                 taxonomy_source: str | None = None, include_seeds: bool = True, *, finetune: bool = False,
                 unlabelled: list[str] | None = None, pseudo_per_class: int = 0, pseudo_spread: float = 2.5,
                 head_pseudo_per_class: int = 80, finetune_epochs: float = 10.0,
                 finetune_lr: float = 1e-4, progress: Reporter | None = None) -> dict[str, Any]:
    """Train a calibrated tagger from labelled feedback (``text``, ``label`` = taxonomy keys) and save it.

    The taxonomy's seed examples join the training data, so causes with few labels still have examples. A
    stratified 20 % is held out for the metrics written into the model's metadata; the saved head is then
    trained on everything.

    With ``finetune`` the encoder is contrastively fine-tuned on the other 80 % (plus ``pseudo_per_class``
    pseudo-labelled texts per class from ``unlabelled`` feedback, drawn from the ``pseudo_per_class *
    pseudo_spread`` surest, see ``evaluate.self_train``) and kept only if the held-out accuracy beats the frozen
    encoder's; the tuned encoder is saved as safetensors inside the model folder, with its checksum.
    A tuned model's head reads the frozen and the tuned vectors side by side and also learns from the
    ``head_pseudo_per_class`` unlabelled texts per cause it is surest about (``head_pseudo_rows``).
    """
    import shutil
    import tempfile

    from sklearn.model_selection import train_test_split

    from .calibration import apply_temperature, coverage_report, fit_temperature
    from .config import load_taxonomy
    from .errors import InputError
    from .evaluate import _prepare, fit_calibrated, head_pseudo_rows, self_train
    from .tag import taxonomy_training_set
    from .tagmodels import ModelError, data_hash, save_model

    cfg = config or load_config()
    report = progress or Silent()
    tax = load_taxonomy(taxonomy_source or cfg.tag.taxonomy)
    unknown = sorted(set(labelled["label"]) - set(tax.keys))
    if unknown:
        raise InputError(f"labels that are not root causes of taxonomy {tax.name!r}: {unknown[:10]}; "
                         f"valid: {', '.join(tax.keys)}", code="E214")
    texts, labels = labelled["text"].astype(str).tolist(), labelled["label"].tolist()
    if include_seeds:
        seed_texts, seed_labels = taxonomy_training_set(tax)
        texts, labels = texts + seed_texts, labels + seed_labels
    emb = build_embedder(cfg)
    cache = embed_stage.EmbeddingCache(cfg.home_path / "cache", emb.name) if cfg.embed.cache else None
    prepared = _prepare(texts, cfg)
    X = embed_stage.embed_texts(prepared, emb, cache)
    y = np.asarray(labels)
    metrics: dict[str, Any] = {"n_train": len(y)}
    counts = pd.Series(y).value_counts()
    held_out = bool(counts.min() >= 2 and len(y) >= 5 * len(counts))
    if finetune and not held_out:
        raise InputError("fine-tuning needs at least 2 labelled texts per root cause (and 5 per cause overall) "
                         "to check on held-out labels that it beats the frozen encoder", code="E215")

    def calibrated(features: np.ndarray, rows: np.ndarray, pool_features: np.ndarray | None, self_training: bool):
        """The head on ``rows``; with untagged feedback it remembers the pool (``NeighbourTagger``), and after a
        fine-tune it also learns from the pool's surest guesses."""
        extra = head_pseudo_rows(features[rows], y[rows], pool_features, pool, head_pseudo_per_class) \
            if self_training and pool_features is not None and head_pseudo_per_class else None
        return fit_calibrated(features[rows], y[rows], seed=cfg.seed, texts=[prepared[i] for i in rows], extra=extra,
                              pool=(pool_features, pool) if pool_features is not None else None,
                              neighbours=cfg.tag.neighbours, neighbour_weight=cfg.tag.neighbour_weight,
                              max_memory=cfg.tag.neighbour_memory)

    def held_metrics(features: np.ndarray, tr: np.ndarray, ho: np.ndarray, pool_features: np.ndarray | None = None,
                     self_training: bool = False) -> tuple[dict[str, float], float]:
        """Held-out report, and the temperature that calibrates the raw held-out probabilities."""
        probe = calibrated(features, tr, pool_features, self_training)
        held_texts = [prepared[i] for i in ho]
        raw = probe.base.predict_proba(features[ho], texts=held_texts) if probe.needs_texts else \
            probe.base.predict_proba(features[ho])
        held_y = np.searchsorted(probe.classes_, y[ho])
        return coverage_report(apply_temperature(raw, probe.temperature), held_y, probe.policy), \
            fit_temperature(raw, held_y)

    pool = _prepare(list(unlabelled), cfg) if finetune and unlabelled and pseudo_per_class else []
    pool_both: np.ndarray | None = None  # the pool's frozen and tuned vectors, for the head's self-training
    tmp = tempfile.TemporaryDirectory()
    tuned_dir: Path | None = None
    try:
        if held_out:
            tr, ho = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=cfg.seed)
            X_pool = embed_stage.embed_texts(pool, emb, cache) if pool else None
            frozen, _ = held_metrics(X, tr, ho, X_pool)
            metrics.update({k: round(v, 4) for k, v in frozen.items()})
            metrics["n_held_out"] = int(len(ho))
            if finetune:

                def step(done: int, total: int, _loss: float) -> None:
                    if done == 1:
                        report.stage("fine-tune", total)
                    report.advance(1)

                candidate, n_pseudo = self_train([prepared[i] for i in tr], y[tr].tolist(), pool, X[tr],
                                                 np.zeros((0, 0)) if X_pool is None else X_pool,
                                                 Path(tmp.name) / "encoder", per_class=pseudo_per_class,
                                                 spread=pseudo_spread, seed=cfg.seed, epochs=finetune_epochs,
                                                 learning_rate=finetune_lr, progress=step,
                                                 step_cap=1000)  # about 10 minutes on a laptop CPU
                metrics["finetune_device"] = embed_stage.torch_device()
                if pool:
                    metrics["n_pseudo_labelled"] = n_pseudo
                    metrics["unlabelled_data_sha256"] = data_hash(pool, [""] * len(pool))
                tuned_emb = embed_stage.SentenceTransformerEmbedder(model_path=str(candidate))
                X_tuned = np.hstack([X, embed_stage.embed_texts(prepared, tuned_emb)])
                if X_pool is not None:
                    pool_both = np.hstack([X_pool, embed_stage.embed_texts(pool, tuned_emb)])
                tuned, tuned_temperature = held_metrics(X_tuned, tr, ho, pool_both, self_training=True)
                metrics["finetuned_accuracy"] = round(tuned["accuracy"], 4)
                metrics["frozen_accuracy"] = metrics["accuracy"]
                if tuned["accuracy"] > frozen["accuracy"]:  # a tie keeps the cheaper, frozen encoder
                    tuned_dir, X, X_pool = candidate, X_tuned, pool_both
                    if pool_both is not None:
                        metrics["head_pseudo_per_class"] = head_pseudo_per_class
                    metrics.update({k: round(v, 4) for k, v in tuned.items()})
                metrics["encoder"] = "fine-tuned" if tuned_dir else "frozen (the fine-tuned one did not win)"
        model = calibrated(X, np.arange(len(y)), X_pool if held_out else None, self_training=tuned_dir is not None)
        if hasattr(model.base, "memory_"):
            metrics.update(neighbours=model.base.k, memory_rows=len(model.base.memory_))
        if tuned_dir is not None:
            # The encoder has seen every training text but the held-out ones, so only they calibrate honestly.
            model.temperature = tuned_temperature
            metrics["temperature_from"] = "held-out texts the fine-tuned encoder never saw"
        if out_dir is None:
            base = Path("models") / "tagger"
            version = 1 + max([int(p.name.rsplit("-v", 1)[-1]) for p in base.glob(f"{tax.name}-v*")
                               if p.name.rsplit("-v", 1)[-1].isdigit()] or [0])
            out_dir = base / f"{tax.name}-v{version}"
        if tuned_dir is not None:
            if (Path(out_dir) / "metadata.json").exists():
                raise ModelError(f"{out_dir} already holds a model; save a new version in a new folder", code="E603")
            shutil.copytree(tuned_dir, Path(out_dir) / "encoder")
        folder = save_model(model, out_dir, taxonomy_fingerprint=tax.fingerprint(), embedder=emb.name,
                            training_hash=data_hash(texts, labels), metrics=metrics,
                            encoder_dir="encoder" if tuned_dir else None,
                            head_features=["frozen", "tuned"] if tuned_dir else ["frozen"])
    finally:
        tmp.cleanup()
    return {"path": str(folder), "kind": type(model.base).__name__, "metrics": metrics,
            "temperature": round(model.temperature, 4), "finetuned": tuned_dir is not None}


def corrections_as_labels(store) -> pd.DataFrame:
    """Reviewers' corrections as training labels (``text``, ``label``): the latest correction of a text wins."""
    found = store.tag_corrections()
    if found.empty:
        return pd.DataFrame({"text": pd.Series(dtype=str), "label": pd.Series(dtype=str)})
    latest = found.dropna(subset=["text"]).drop_duplicates("text", keep="last")
    return pd.DataFrame({"text": latest["text"].astype(str).to_numpy(), "label": latest["new_cause"].to_numpy()})


def weekly_brief(store, run_id: str) -> dict[str, Any]:
    """What the Markdown brief says: top actions, spikes, themes new for two runs in a row, what changed."""
    run = store.get_run(run_id)
    actions = store.load(run_id, "actions")
    segments = store.load(run_id, "segments")
    spikes = []
    for a in actions.to_dict("records"):
        if a.get("spike_weeks"):
            spikes.append(f"{a['theme_label']} ({a['root_cause']}): spike in week(s) "
                          f"{', '.join(map(str, a['spike_weeks']))}" + (f"; {a['segment_sentence']}"
                                                                       if a.get("segment_sentence") else ""))
    spikes += segments.loc[(segments["level"] == "root_cause") & segments["column"].isin(
        ["carrier", "payment_provider", "warehouse", "product_category"]), "sentence"].head(5).tolist()
    events = store.theme_events()
    this = events[events["run_id"] == run_id]
    runs = store.list_runs("pipeline")
    older = runs[runs["created_at"] < run["created_at"]]
    new_themes = []
    if len(older):
        prev = events[events["run_id"] == older.iloc[0]["run_id"]]
        born_before = set(prev.loc[prev["event"] == "born", "theme_id"])
        persisted = set(this.loc[this["event"].isin(["persisted", "drifted"]), "theme_id"])
        themes = store.load(run_id, "themes").set_index("theme_id")
        new_themes = [f"{t}: {themes.at[t, 'label']} ({int(themes.at[t, 'size'])} items)"
                      for t in sorted(born_before & persisted) if t in themes.index]
    changes = this["event"].value_counts().to_dict() if len(older) else {}
    return {"run_id": run_id, "counts": run["counts"], "actions": actions, "spikes": spikes,
            "new_themes": new_themes, "changes": changes}


def edit_theme(op: str, config: Config | None = None, **kw: Any) -> dict[str, Any]:
    """A reviewer's edit of the theme registry (rename, merge, split, move), stored with its event.

    Edits are training data for the next run: a pinned name survives rediscovery, merged themes stay merged,
    a split theme's parts are registered with their own centroids, and moved items are recorded as labelled
    examples. Merge and split read the latest run's items and embed them (from the cache).
    """
    from . import registry as reg_mod
    from .errors import InsightError

    cfg = config or load_config()
    store = resolve("store", cfg.store.backend)(cfg.store_url)
    reg = reg_mod.Registry.from_records(store.registry_records())
    if op == "rename":
        event = reg_mod.rename(reg, kw["theme_id"], kw["label"])
    elif op == "move":
        event = reg_mod.move(reg, kw["item_ids"], kw["theme_id"])
    elif op in ("merge", "split"):
        run_id = store.latest_run_id()
        if run_id is None:
            raise InsightError("no stored run to take the themes' items from", code="E701")
        items = store.load(run_id, "items")
        wanted = kw["theme_ids"] if op == "merge" else [kw["theme_id"]]
        members = items[items["theme_id"].isin(wanted + ([kw["into"]] if op == "merge" else []))]
        emb = build_embedder(cfg)
        cache = embed_stage.EmbeddingCache(cfg.home_path / "cache", emb.name) if cfg.embed.cache else None
        X = embed_stage.embed_texts(members["text"].fillna("").tolist(), emb, cache)
        if op == "merge":
            event = reg_mod.merge(reg, kw["theme_ids"], kw["into"], X, members["theme_id"].to_numpy())
        else:
            seeds = embed_stage.embed_texts(kw["seeds"], emb, cache) if kw.get("seeds") else None
            event, part, ids = reg_mod.split(reg, kw["theme_id"], X, k=kw.get("k", 2), seeds=seeds)
            event["sizes"] = {i: int((part == n).sum()) for n, i in enumerate(ids)}
    else:
        raise InsightError(f"unknown theme edit {op!r}; valid: rename, merge, split, move", code="E702")
    store.save_registry(reg.to_records(), [event])
    return event
