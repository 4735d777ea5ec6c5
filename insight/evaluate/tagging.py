"""Tagging quality on labelled data: accuracy, macro-F1, ECE, coverage and precision at coverage.

Composition layer: texts are prepared as the pipeline prepares them (``clean.prepare_texts``), embedded with the
configured embedder and cache, and tagged with the same tagger code the pipeline and ``train tagger`` use. Every
figure comes with the exact protocol in the returned dict, so a closing note can quote it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import assembly, clean, tag
from ..config import Config, Taxonomy, load_config, load_taxonomy
from ..errors import InputError
from ..nlp import torch_device
from .datasets import match_labels

MODES = ("zero-shot", "few-shot", "supervised")


def prepare(texts: list[str], cfg: Config) -> list[str]:
    """The text the pipeline would embed and tag for each of ``texts`` (``clean.model_inputs``)."""
    return clean.model_inputs(texts, cfg.clean)


def eval_tagging(train: pd.DataFrame | None, test: pd.DataFrame, *, mode: str = "supervised",
                 shots: int | None = None, seeds: int = 1, taxonomy: Taxonomy | None = None,
                 config: Config | None = None, finetune: bool = False, finetune_steps: int | None = None,
                 finetune_epochs: float = 10.0, finetune_lr: float = 1e-4, finetune_classes: int = 32,
                 pseudo_per_class: int = 0, pseudo_spread: float = 2.5, head_pseudo_per_class: int = 80,
                 neighbours: int | None = None, progress: Callable[[str], None] | None = None,
                 label_map: dict[str, str] | None = None) -> dict[str, Any]:
    """Accuracy, macro-F1, ECE, coverage and precision at coverage for one protocol (mean over seeds).

    With ``finetune`` the encoder is fine-tuned per seed on the sampled labels; ``pseudo_per_class`` > 0 adds that
    many pseudo-labelled texts per class from the unlabelled rest of the training file (its labels hidden), the
    way a user's own untagged feedback would be used (``self_train``). The pool's ``neighbours`` nearest rows
    (``NeighbourTagger``; default ``tag.neighbours``, 0 turns it off) smooth the guesses those pseudo-labels come
    from, and the final head reads the pool's labels through them too. The test file is never used for training.
    Where a taxonomy is involved, gold labels are matched to its keys (``match_labels``: ``label_map``, then
    exactly, then ignoring case and punctuation) before any text is embedded.
    """
    from sklearn.metrics import f1_score

    if mode not in MODES:
        raise InputError(f"--mode must be {', '.join(MODES)}, not {mode!r}", code="E213")
    cfg = config or load_config()
    neighbours = cfg.tag.neighbours if neighbours is None else neighbours
    say = progress or (lambda _m: None)
    tax_for_labels = (taxonomy or load_taxonomy(cfg.tag.taxonomy)) if mode == "zero-shot" else taxonomy
    if tax_for_labels is not None:  # before anything is embedded: a label mismatch must cost seconds
        test = test.assign(label=match_labels(test["label"].tolist(), tax_for_labels.keys, label_map))
        if train is not None:
            train = train.assign(label=match_labels(train["label"].tolist(), tax_for_labels.keys, label_map,
                                                    what="training labels"))
    encode = assembly.encoder(cfg, assembly.embedder(cfg))  # for texts already prepared (``prepare``)

    test_texts = prepare(test["text"].tolist(), cfg)  # cleaned once, used for vectors and n-grams alike
    say(f"embedding {len(test_texts)} test texts")
    X_test = encode(test_texts)
    runs: list[dict[str, float]] = []
    if mode == "zero-shot":
        tax = tax_for_labels
        tagger = tag.ZeroShotTagger.from_config(cfg.tag, tax).prepare(assembly.prepared_encoder(cfg, encode))
        proba = tagger.predict_proba(X_test, test_texts)  # the pipeline's zero-shot tagger, as shipped
        y = np.array([tax.keys.index(v) for v in test["label"]])
        runs.append(metrics(proba, y, tagger.policy, f1_score))
        classes = tax.keys
    else:
        if train is None:
            raise InputError("few-shot and supervised evaluation need training data", code="E211")
        classes = sorted(set(train["label"]))
        tax_texts: list[str] = []
        tax_labels: list[str] = []
        if taxonomy is not None:  # what a user gives besides labels: each cause's description and seeds
            raw_texts, tax_labels = tag.taxonomy_training_set(taxonomy)
            tax_texts = prepare(raw_texts, cfg)
        for seed in range(seeds):
            part = sample_shots(train, shots, seed) if mode == "few-shot" else train
            part_texts = prepare(part["text"].tolist(), cfg) + tax_texts
            part_labels = np.array(part["label"].tolist() + tax_labels)
            say(f"seed {seed}: {len(part)} labelled texts" + (f" + {len(tax_texts)} from the taxonomy"
                                                               if tax_texts else ""))
            extra = pool = None
            if finetune:
                pool_texts = unlabelled_pool(train, part, cfg) if pseudo_per_class else []
                X_frozen, X_pool_frozen = encode(part_texts), encode(pool_texts) if pool_texts else np.zeros((0, 0))
                with tempfile.TemporaryDirectory() as tmp:
                    folder, n_pseudo = tag.self_train(
                        part_texts, part_labels, pool_texts, X_frozen, X_pool_frozen, Path(tmp) / "encoder",
                        per_class=pseudo_per_class, spread=pseudo_spread, seed=seed, neighbours=neighbours,
                        neighbour_weight=cfg.tag.neighbour_weight, max_steps=finetune_steps,
                        epochs=finetune_epochs, learning_rate=finetune_lr, classes_per_batch=finetune_classes,
                        progress=lambda s, n, loss: say(f"fine-tune step {s}/{n} loss {loss:.3f}")
                        if s % 20 == 0 or s == n else None)
                    if n_pseudo:
                        say(f"seed {seed}: fine-tuned with {n_pseudo} pseudo-labelled texts from the unlabelled pool")
                    tuned = assembly.encoder_at(folder)
                    X_part = np.hstack([X_frozen, tuned(part_texts)])
                    X_eval = np.hstack([X_test, tuned(test_texts)])
                    if pool_texts and head_pseudo_per_class:
                        X_pool = np.hstack([X_pool_frozen, tuned(pool_texts)])
                        extra = tag.head_pseudo_rows(X_part, part_labels, X_pool, pool_texts, head_pseudo_per_class)
                        pool = (X_pool, pool_texts)
            else:
                X_part, X_eval = encode(part_texts), X_test
            tagger = tag.fit_calibrated(X_part, part_labels, seed=seed, texts=part_texts, extra=extra, pool=pool,
                                    neighbours=neighbours, neighbour_weight=cfg.tag.neighbour_weight,
                                    max_memory=cfg.tag.neighbour_memory)
            proba = tagger.predict_proba(X_eval, test_texts)
            y = np.array([list(tagger.classes_).index(v) if v in tagger.classes_ else -1 for v in test["label"]])
            runs.append(metrics(proba, y, tagger.policy, f1_score))
    out = {k: round(float(np.mean([r[k] for r in runs])), 4) for k in runs[0]}
    out.update({"n": int(len(test)), "n_classes": len(classes), "mode": mode, "shots": shots, "seeds": len(runs),
                "finetune": finetune, "pseudo_per_class": pseudo_per_class if finetune else 0,
                "pseudo_spread": pseudo_spread if finetune and pseudo_per_class else None,
                "head_pseudo_per_class": head_pseudo_per_class if finetune and pseudo_per_class else 0,
                "neighbours": neighbours if finetune and pseudo_per_class else 0,
                "taxonomy_examples": len(tax_texts) if mode != "zero-shot" else 0,
                "per_seed_accuracy": [round(r["accuracy"], 4) for r in runs]})
    if finetune:  # a GPU fine-tune gives slightly different figures from a CPU one
        out["device"] = torch_device()
    if len(runs) > 1:
        out["accuracy_std"] = round(float(np.std([r["accuracy"] for r in runs])), 4)
    return out


STRATEGIES = ("queue", "random")


def eval_active(test: pd.DataFrame, budgets: list[int], *, strategy: str = "queue", seeds: int = 5,
                taxonomy: Taxonomy | None = None, config: Config | None = None,
                label_map: dict[str, str] | None = None, progress: Callable[[str], None] | None = None
                ) -> dict[str, Any]:
    """A reviewer in the loop, simulated: for each budget N, the first N items of the review queue (``strategy``
    queue: ``tag.review_order``; random: N drawn at random, mean over ``seeds``) have their gold labels revealed
    and taught to the zero-shot tagger as the product teaches it reviewers' corrections (``ZeroShotTagger.teach``);
    accuracy, macro-F1, ECE and precision at coverage are measured on the remaining items, next to the zero-shot
    tagger's accuracy on those same items.
    """
    from sklearn.metrics import f1_score

    if strategy not in STRATEGIES:
        raise InputError(f"--strategy must be {' or '.join(STRATEGIES)}, not {strategy!r}", code="E213")
    bad = [b for b in budgets if b < 1 or b >= len(test)]
    if bad:
        raise InputError(f"every budget must be between 1 and {len(test) - 1} (the items to label, leaving some to "
                         f"measure on); got {bad}", code="E213")
    cfg = config or load_config()
    say = progress or (lambda _m: None)
    tax = taxonomy or load_taxonomy(cfg.tag.taxonomy)
    test = test.assign(label=match_labels(test["label"].tolist(), tax.keys, label_map))
    encode = assembly.encoder(cfg, assembly.embedder(cfg))
    texts = prepare(test["text"].tolist(), cfg)
    say(f"embedding {len(texts)} texts")
    X = encode(texts)
    y = np.array([tax.keys.index(v) for v in test["label"]])
    zero_shot = tag.ZeroShotTagger.from_config(cfg.tag, tax).prepare(assembly.prepared_encoder(cfg, encode))
    P0 = zero_shot.predict_proba(X, texts)
    queue = tag.review_order(P0, X)
    curve = []
    for budget in budgets:
        runs, base = [], []
        for seed in range(seeds if strategy == "random" else 1):
            picked = queue[:budget] if strategy == "queue" else \
                np.random.default_rng(seed).choice(len(y), budget, replace=False)
            rest = np.setdiff1d(np.arange(len(y)), picked)
            taught = zero_shot.taught(X[picked], [tax.keys[i] for i in y[picked]])
            proba = taught.predict_proba(X[rest], [texts[i] for i in rest])
            runs.append(metrics(proba, y[rest], taught.policy, f1_score))
            base.append(float((P0[rest].argmax(axis=1) == y[rest]).mean()))
        row = {k: round(float(np.mean([r[k] for r in runs])), 4) for k in runs[0]}
        row.update({"budget": budget, "measured_on": int(len(y) - budget),
                    "zero_shot_accuracy_same_items": round(float(np.mean(base)), 4)})
        say(f"{budget} labels: accuracy {row['accuracy']} on the other {row['measured_on']}")
        curve.append(row)
    overall = metrics(P0, y, zero_shot.policy, f1_score)
    return {"mode": "active", "strategy": strategy, "n": int(len(test)), "n_classes": len(tax.keys),
            "seeds": seeds if strategy == "random" else 1,
            "zero_shot": {k: round(float(v), 4) for k, v in overall.items()}, "curve": curve}


def sample_shots(train: pd.DataFrame, shots: int | None, seed: int) -> pd.DataFrame:
    """``shots`` labelled texts per class, drawn with ``seed``."""
    if not shots:
        raise InputError("--shots K is needed in few-shot mode", code="E212")
    rng = np.random.default_rng(seed)
    picked: list = []
    for _, group in train.groupby("label", sort=True):
        picked += rng.choice(group.index.to_numpy(), min(shots, len(group)), replace=False).tolist()
    return train.loc[sorted(picked)].reset_index(drop=True)


def unlabelled_pool(train: pd.DataFrame, part: pd.DataFrame, cfg: Config) -> list[str]:
    """The training texts that were not sampled, prepared: the stand-in for a user's untagged feedback."""
    pool = train.drop(index=train.index[train["text"].isin(set(part["text"]))])
    return prepare(pool["text"].tolist(), cfg)


def metrics(proba: np.ndarray, y: np.ndarray, policy: tag.AbstainPolicy, f1_score) -> dict[str, float]:
    """The coverage report and macro-F1 on the test rows whose label the tagger knows."""
    known = y >= 0
    rep = tag.coverage_report(proba[known], y[known], policy)
    rep["macro_f1"] = float(f1_score(y[known], proba[known].argmax(axis=1), average="macro"))
    return rep
