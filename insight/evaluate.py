"""Evaluation of taggers on labelled data (composition layer: uses the clean, embed and tag stages).

Datasets are read from the data directory (``config.data_dir``, default ``../shared/data``, or
``$INSIGHT_DATA_DIR``); nothing is copied into the project. Every figure comes with the exact protocol in the
returned dict, so a closing note can quote it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import clean as clean_stage
from . import embed as embed_stage
from .calibration import AbstainPolicy, apply_temperature, class_thresholds, coverage_report, fit_temperature
from .config import Config, Taxonomy, load_config, load_taxonomy
from .errors import InputError
from .flow import build_embedder
from .pii import Redactor
from .tag import combined_proba, fit_zero_shot, taxonomy_training_set
from .tagmodels import CalibratedTagger, LexicalLogisticTagger, LogisticTagger, NeighbourTagger

DATASETS = ("banking77", "clinc150")


def load_dataset(name: str, data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) frames with ``text`` and ``label``; CLINC150 uses its in-scope intents."""
    if name in DATASETS and not (data_dir / name).is_dir():
        raise InputError(f"dataset {name!r} not found in data directory {data_dir.resolve()}; point "
                         f"$INSIGHT_DATA_DIR (or data_dir in the config) at the folder that holds {name}/",
                         code="E209")
    if name == "banking77":
        folder = data_dir / "banking77"
        frames = [pd.read_csv(folder / f"{part}.csv").rename(columns={"category": "label"}) for part in
                  ("train", "test")]
    elif name == "clinc150":
        data = json.loads((data_dir / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
        frames = [pd.DataFrame(data[part], columns=["text", "label"]) for part in ("train", "test")]
    else:
        raise InputError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}", code="E209")
    return frames[0], frames[1]


def load_labelled(path: Path, text_column: str, label_column: str) -> pd.DataFrame:
    """``text`` and ``label`` from any export the ingest readers understand."""
    from .config import IngestConfig
    from .ingest import read_feedback

    raw = read_feedback(path, IngestConfig(columns={"text": text_column} if text_column != "text" else {}))
    label = "text" if label_column == text_column else label_column
    if label not in raw.columns:
        raise InputError(f"{path}: label column {label_column!r} not found", code="E205")
    frame = pd.DataFrame({"text": raw["text"], "label": raw[label]}).dropna()
    return frame.assign(text=frame["text"].astype(str), label=frame["label"].astype(str))


def label_key(label: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in label.lower()).strip("_") or "x"


def taxonomy_from_labels(labels: list[str]) -> Taxonomy:
    """A taxonomy whose root causes are a dataset's labels, described by their own names (zero-shot)."""
    causes = {}
    for key, lab in sorted((label_key(lab), lab) for lab in set(labels)):
        words = lab.replace("_", " ")
        causes[key] = {"description": words, "owner": "-", "seeds": [words], "playbook": {"title": words}}
    return Taxonomy.model_validate({"name": "from-labels", "root_causes": causes})


def _prepare(texts: list[str], cfg: Config) -> list[str]:
    """The same text the pipeline would embed: normalised and PII-redacted."""
    redactor = Redactor.from_config(cfg.clean.pii)
    return [redactor.redact(clean_stage.normalise(t))[0] for t in texts]


def eval_tagging(train: pd.DataFrame | None, test: pd.DataFrame, *, mode: str = "supervised",
                 shots: int | None = None, seeds: int = 1, taxonomy: Taxonomy | None = None,
                 config: Config | None = None, finetune: bool = False, finetune_steps: int | None = None,
                 finetune_epochs: float = 10.0, finetune_lr: float = 1e-4, finetune_classes: int = 32,
                 pseudo_per_class: int = 0, pseudo_spread: float = 2.5, head_pseudo_per_class: int = 80,
                 neighbours: int | None = None, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Accuracy, macro-F1, ECE, coverage and precision at coverage for one protocol (mean over seeds).

    With ``finetune`` the encoder is fine-tuned per seed on the sampled labels; ``pseudo_per_class`` > 0 adds that
    many pseudo-labelled texts per class from the unlabelled rest of the training file (its labels hidden), the
    way a user's own untagged feedback would be used (``self_train``), and the head then also reads the pool's
    labels through its ``neighbours`` nearest rows (``NeighbourTagger``; default ``tag.neighbours``, 0 turns it
    off). The test file is never used for training.
    """
    from sklearn.metrics import f1_score

    cfg = config or load_config()
    neighbours = cfg.tag.neighbours if neighbours is None else neighbours
    say = progress or (lambda _m: None)
    emb = build_embedder(cfg)
    cache = embed_stage.EmbeddingCache(cfg.home_path / "cache", emb.name) if cfg.embed.cache else None

    def encode(texts: list[str]) -> np.ndarray:
        """Texts already cleaned the way the pipeline cleans them (``_prepare``)."""
        return embed_stage.embed_texts(texts, emb, cache)

    test_texts = _prepare(test["text"].tolist(), cfg)  # cleaned once, used for vectors and n-grams alike
    say(f"embedding {len(test_texts)} test texts")
    X_test = encode(test_texts)
    runs: list[dict[str, float]] = []
    if mode == "zero-shot":
        tax = taxonomy or load_taxonomy(cfg.tag.taxonomy)
        unknown = sorted(set(test["label"]) - set(tax.keys))
        if unknown:
            raise InputError(f"labels not in the taxonomy: {unknown[:10]}", code="E210")
        tagger = fit_zero_shot(tax, lambda t: encode(_prepare(t, cfg)), cfg.tag.temperature)
        proba = combined_proba(test_texts, X_test, tagger, tax, cfg.tag.keyword_weight)
        y = np.array([tax.keys.index(v) for v in test["label"]])
        runs.append(_metrics(proba, y, AbstainPolicy(min_confidence=cfg.tag.abstain_below, min_margin=0.05),
                             f1_score))
        classes = tax.keys
    else:
        if train is None:
            raise InputError("few-shot and supervised evaluation need training data", code="E211")
        classes = sorted(set(train["label"]))
        tax_texts: list[str] = []
        tax_labels: list[str] = []
        if taxonomy is not None:  # what a user gives besides labels: each cause's description and seeds
            unknown = sorted(set(classes) - set(taxonomy.keys))
            if unknown:
                raise InputError(f"training labels not in the taxonomy: {unknown[:10]}", code="E210")
            raw_texts, tax_labels = taxonomy_training_set(taxonomy)
            tax_texts = _prepare(raw_texts, cfg)
        for seed in range(seeds):
            part = _sample(train, shots, seed) if mode == "few-shot" else train
            part_texts = _prepare(part["text"].tolist(), cfg) + tax_texts
            part_labels = np.array(part["label"].tolist() + tax_labels)
            say(f"seed {seed}: {len(part)} labelled texts" + (f" + {len(tax_texts)} from the taxonomy"
                                                               if tax_texts else ""))
            extra = pool = None
            if finetune:
                pool_texts = _pool_texts(train, part, cfg) if pseudo_per_class else []
                X_frozen, X_pool_frozen = encode(part_texts), encode(pool_texts) if pool_texts else np.zeros((0, 0))
                with tempfile.TemporaryDirectory() as tmp:
                    folder, n_pseudo = self_train(
                        part_texts, part_labels, pool_texts, X_frozen, X_pool_frozen, Path(tmp) / "encoder",
                        per_class=pseudo_per_class, spread=pseudo_spread, seed=seed, max_steps=finetune_steps,
                        epochs=finetune_epochs, learning_rate=finetune_lr, classes_per_batch=finetune_classes,
                        progress=lambda s, n, loss: say(f"fine-tune step {s}/{n} loss {loss:.3f}")
                        if s % 20 == 0 or s == n else None)
                    if n_pseudo:
                        say(f"seed {seed}: fine-tuned with {n_pseudo} pseudo-labelled texts from the unlabelled pool")
                    tuned = embed_stage.SentenceTransformerEmbedder(model_path=str(folder))
                    X_part = np.hstack([X_frozen, embed_stage.embed_texts(part_texts, tuned)])
                    X_eval = np.hstack([X_test, embed_stage.embed_texts(test_texts, tuned)])
                    if pool_texts and head_pseudo_per_class:
                        X_pool = np.hstack([X_pool_frozen, embed_stage.embed_texts(pool_texts, tuned)])
                        extra = head_pseudo_rows(X_part, part_labels, X_pool, pool_texts, head_pseudo_per_class)
                        pool = (X_pool, pool_texts)
            else:
                X_part, X_eval = encode(part_texts), X_test
            tagger = fit_calibrated(X_part, part_labels, seed=seed, texts=part_texts, extra=extra, pool=pool,
                                    neighbours=neighbours, neighbour_weight=cfg.tag.neighbour_weight,
                                    max_memory=cfg.tag.neighbour_memory)
            proba = tagger.predict_proba(X_eval, test_texts)
            y = np.array([list(tagger.classes_).index(v) if v in tagger.classes_ else -1 for v in test["label"]])
            runs.append(_metrics(proba, y, tagger.policy, f1_score))
    out = {k: round(float(np.mean([r[k] for r in runs])), 4) for k in runs[0]}
    out.update({"n": int(len(test)), "n_classes": len(classes), "mode": mode, "shots": shots, "seeds": len(runs),
                "finetune": finetune, "pseudo_per_class": pseudo_per_class if finetune else 0,
                "pseudo_spread": pseudo_spread if finetune and pseudo_per_class else None,
                "head_pseudo_per_class": head_pseudo_per_class if finetune and pseudo_per_class else 0,
                "neighbours": neighbours if finetune and pseudo_per_class else 0,
                "taxonomy_examples": len(tax_texts) if mode != "zero-shot" else 0,
                "per_seed_accuracy": [round(r["accuracy"], 4) for r in runs]})
    if finetune:  # a GPU fine-tune gives slightly different figures from a CPU one
        out["device"] = embed_stage.torch_device()
    if len(runs) > 1:
        out["accuracy_std"] = round(float(np.std([r["accuracy"] for r in runs])), 4)
    return out


def _sample(train: pd.DataFrame, shots: int | None, seed: int) -> pd.DataFrame:
    if not shots:
        raise InputError("--shots K is needed in few-shot mode", code="E212")
    rng = np.random.default_rng(seed)
    picked: list = []
    for _, group in train.groupby("label", sort=True):
        picked += rng.choice(group.index.to_numpy(), min(shots, len(group)), replace=False).tolist()
    return train.loc[sorted(picked)].reset_index(drop=True)


def _pool_texts(train: pd.DataFrame, part: pd.DataFrame, cfg: Config) -> list[str]:
    """The training texts that were not sampled, cleaned: the stand-in for a user's untagged feedback."""
    pool = train.drop(index=train.index[train["text"].isin(set(part["text"]))])
    return _prepare(pool["text"].tolist(), cfg)


def self_train(texts: Sequence[str], labels: Sequence[str], pool: Sequence[str], X: np.ndarray,
               X_pool: np.ndarray, out_dir: str | Path, *, per_class: int = 60, spread: float = 2.5, seed: int = 0,
               **finetune_kw) -> tuple[Path, int]:
    """Fine-tune on the labels plus pseudo-labelled ``pool`` texts; (encoder folder, number of pseudo-labels).

    The pseudo-labels come from a logistic head on the frozen vectors (``X`` for ``texts``, ``X_pool`` for
    ``pool``), ``per_class`` per cause drawn from its ``per_class * spread`` surest (``pseudo_labels``). An
    empty pool or ``per_class`` = 0 fine-tunes on the labels alone. Evaluation and ``train tagger`` both go
    through here, so what is measured is what is shipped.
    """
    from .finetune import finetune_encoder, pseudo_labels

    fit_texts, fit_labels = list(texts), [str(v) for v in labels]
    n_pseudo = 0
    if len(pool) and per_class:
        labeller = LogisticTagger(C=10.0).fit(X, np.asarray(fit_labels))
        rows, cols = pseudo_labels(labeller.predict_proba(X_pool), per_class, spread=spread, seed=seed)
        fit_texts += [pool[i] for i in rows]
        fit_labels += [str(labeller.classes_[c]) for c in cols]
        n_pseudo = len(rows)
    return finetune_encoder(fit_texts, fit_labels, out_dir, seed=seed, **finetune_kw), n_pseudo


def head_pseudo_rows(X: np.ndarray, y: np.ndarray, X_pool: np.ndarray, pool_texts: list[str], per_class: int
                     ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The ``per_class`` pool rows per class that a head trained on ``X, y`` is surest about, as ``extra`` rows
    for ``fit_calibrated``.

    After fine-tuning, the tuned model labels untagged feedback better than the frozen one did, and a head that
    also learns from its surest guesses sees many more phrasings than the few labels hold (self-training).
    """
    from .finetune import pseudo_labels

    model = LogisticTagger(C=10.0).fit(X, y)
    rows, cols = pseudo_labels(model.predict_proba(X_pool), per_class)
    return X_pool[rows], model.classes_[cols], [pool_texts[i] for i in rows]


def fit_calibrated(X: np.ndarray, y: np.ndarray, *, seed: int = 0, C: float = 10.0,
                   target_precision: float | None = None, texts: list[str] | None = None,
                   extra: tuple[np.ndarray, np.ndarray, list[str]] | None = None,
                   pool: tuple[np.ndarray, list[str]] | None = None, neighbours: int = 10,
                   neighbour_weight: float = 0.5, max_memory: int = 20000) -> CalibratedTagger:
    """Logistic regression with a temperature fitted on held-out predictions.

    With many labels a stratified 10 % is held out; it also decides between the embedding-only model and the
    one that adds n-gram features (``LexicalLogisticTagger``), keeping whichever is more accurate there. With few
    labels (few-shot), out-of-fold predictions from cross-validation calibrate the embedding-only model, so no
    example is wasted. The final model is fitted on everything.

    ``extra`` (vectors, labels, texts) are pseudo-labelled rows: they join every fit but are never held out,
    because a model's own guesses would make it look surer and more accurate than it is.

    ``pool`` (vectors, texts) is untagged feedback: with ``neighbours`` > 0 every model, the held-out ones
    included, becomes a ``NeighbourTagger`` that remembers its labelled rows and the pool, so the temperature
    and thresholds are fitted on the blended probabilities the saved model will give.
    """
    from sklearn.model_selection import StratifiedKFold, train_test_split

    y = np.asarray(y)
    X_extra, y_extra, t_extra = extra if extra is not None else (np.zeros((0, X.shape[1])), np.array([], y.dtype), [])

    def fit(model, rows: np.ndarray):
        """``model`` fitted on the labelled ``rows`` plus every pseudo-labelled row."""
        Xf, yf = np.vstack([X[rows], X_extra]), np.concatenate([y[rows], np.asarray(y_extra, dtype=y.dtype)])
        if isinstance(model, LexicalLogisticTagger):
            model.fit(Xf, yf, texts=[texts[i] for i in rows] + list(t_extra))
        else:
            model.fit(Xf, yf)
        if pool is None or not len(pool[0]) or not neighbours:
            return model
        return NeighbourTagger(model, k=neighbours, weight=neighbour_weight, max_memory=max_memory, seed=seed
                               ).remember(X[rows], y[rows], pool[0], pool[1])

    every = np.arange(len(y))
    classes = np.array(sorted(set(y.tolist())))
    if not set(np.asarray(y_extra).tolist()) <= set(classes.tolist()):
        raise ValueError("pseudo-labels must name classes that have real labels")
    counts = pd.Series(y).value_counts()
    if counts.min() >= 10 and len(y) >= 20 * len(classes):
        tr, ho = train_test_split(every, test_size=0.1, stratify=y, random_state=seed)
        held = fit(LogisticTagger(C=C), tr).predict_proba(X[ho])
        held_y = np.searchsorted(classes, y[ho])
        if texts is not None:
            lexical = fit(LexicalLogisticTagger(C=C), tr).predict_proba(X[ho], texts=[texts[i] for i in ho])
            if (lexical.argmax(1) == held_y).mean() > (held.argmax(1) == held_y).mean():
                temperature = fit_temperature(lexical, held_y)
                return CalibratedTagger(fit(LexicalLogisticTagger(C=C), every), temperature,
                                        _policy(lexical, held_y, temperature, target_precision))
    else:
        folds = int(min(5, counts.min())) if counts.min() >= 2 else 0
        if folds < 2:
            return CalibratedTagger(fit(LogisticTagger(C=C), every))
        held = np.zeros((len(y), len(classes)))
        for tr, ho in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
            model = fit(LogisticTagger(C=C), tr)
            cols = np.searchsorted(classes, model.classes_)
            held[np.ix_(ho, cols)] = model.predict_proba(X[ho])
        held_y = np.searchsorted(classes, y)
    temperature = fit_temperature(held, held_y)
    return CalibratedTagger(fit(LogisticTagger(C=C), every), temperature,
                            _policy(held, held_y, temperature, target_precision))


def _policy(held: np.ndarray, held_y: np.ndarray, temperature: float, target_precision: float | None
            ) -> AbstainPolicy:
    policy = AbstainPolicy()
    if target_precision:
        policy.class_thresholds = class_thresholds(apply_temperature(held, temperature), held_y,
                                                   target_precision).tolist()
    return policy


def _metrics(proba: np.ndarray, y: np.ndarray, policy: AbstainPolicy, f1_score) -> dict[str, float]:
    known = y >= 0
    rep = coverage_report(proba[known], y[known], policy)
    rep["macro_f1"] = float(f1_score(y[known], proba[known].argmax(axis=1), average="macro"))
    return rep


def _discover(X: np.ndarray, keys: list[str], cfg: Config, registry=None, previous=None):
    """Themes as the pipeline finds them: cluster, match to a registry, hysteresis. Per-item stable ids."""
    from .flow import _clusterer
    from .registry import Registry, match, sticky

    clusterer = _clusterer(cfg)
    labels = clusterer.fit_predict(X)
    sizes = np.bincount(labels[labels >= 0], minlength=len(clusterer.centroids_)).tolist()
    ids, events, reg = match(registry or Registry(), clusterer.centroids_, labels, keys, previous or {}, sizes,
                             [""] * len(sizes))
    labels = sticky(labels, X, clusterer.centroids_, ids, keys, previous or {})
    return [ids[c] if c >= 0 else "unthemed" for c in labels], labels, reg, events


def eval_themes(test: pd.DataFrame, config: Config | None = None) -> dict[str, Any]:
    """NMI and ARI of the discovered themes against gold labels, the unthemed share and the theme count."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    cfg = config or load_config()
    emb = build_embedder(cfg)
    cache = embed_stage.EmbeddingCache(cfg.home_path / "cache", emb.name) if cfg.embed.cache else None
    X = embed_stage.embed_texts(_prepare(test["text"].tolist(), cfg), emb, cache)
    _, labels, _, _ = _discover(X, [str(i) for i in range(len(X))], cfg)
    y = test["label"].to_numpy()
    return {"n": int(len(X)), "nmi": round(float(normalized_mutual_info_score(y, labels)), 4),
            "ari": round(float(adjusted_rand_score(y, labels)), 4),
            "noise_share": round(float((labels < 0).mean()), 4), "n_themes": int(len(set(labels[labels >= 0]))),
            "n_gold_labels": int(len(set(y)))}


def eval_stability(test: pd.DataFrame, config: Config | None = None, new_share: float = 0.1, seed: int = 0
                   ) -> dict[str, Any]:
    """Do theme ids survive? (1) the same items shuffled; (2) 10 % new items added, with full rediscovery
    matched to the registry, and with incremental assignment (no reclustering)."""
    from sklearn.metrics import normalized_mutual_info_score

    from .registry import incremental_assign

    cfg = config or load_config()
    emb = build_embedder(cfg)
    cache = embed_stage.EmbeddingCache(cfg.home_path / "cache", emb.name) if cfg.embed.cache else None
    X = embed_stage.embed_texts(_prepare(test["text"].tolist(), cfg), emb, cache)
    keys = [f"item{i}" for i in range(len(X))]
    rng = np.random.default_rng(seed)
    ids, _, reg, _ = _discover(X, keys, cfg)
    perm = rng.permutation(len(X))
    ids_shuffled, _, _, _ = _discover(X[perm], [keys[i] for i in perm], cfg, reg, dict(zip(keys, ids)))
    back = dict(zip([keys[i] for i in perm], ids_shuffled))
    shuffled_same = float(np.mean([back[k] == i for k, i in zip(keys, ids)]))

    new = rng.random(len(X)) < new_share
    old_idx = np.flatnonzero(~new)
    old_keys = [keys[i] for i in old_idx]
    ids_old, _, reg_old, _ = _discover(X[old_idx], old_keys, cfg)
    previous = dict(zip(old_keys, ids_old))
    ids_all, labels_all, _, events = _discover(X, keys, cfg, reg_old, previous)
    after = dict(zip(keys, ids_all))
    kept = float(np.mean([after[k] == previous[k] for k in old_keys]))
    # incremental mode (themes.mode: assign): the weekly job's own function, no reclustering
    assigned_all, _ = incremental_assign(X, keys, reg_old, previous, cfg.themes.assign_threshold)
    by_key = dict(zip(keys, assigned_all))
    kept_incremental = float(np.mean([by_key[k] == previous[k] for k in old_keys]))
    assigned = [by_key[keys[i]] for i in np.flatnonzero(new)]
    return {"n": int(len(X)), "shuffled_same_id_share": round(shuffled_same, 4),
            "new_items": int(new.sum()), "old_items_keeping_id_rediscovery": round(kept, 4),
            "old_items_keeping_id_incremental": round(kept_incremental, 4),
            "new_items_assigned_incremental": round(float(np.mean([a != "unthemed" for a in assigned])), 4),
            "rediscovery_events": {k: int(v) for k, v in
                                   pd.Series([e["event"] for e in events]).value_counts().items()},
            **({"nmi_after_rediscovery": round(float(normalized_mutual_info_score(test["label"], labels_all)), 4)}
               if "label" in test.columns else {})}
