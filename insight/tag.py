"""Root-cause tagging: embedding prototypes from the taxonomy plus keyword evidence, with a confidence.

The tagger follows the sklearn shape (``fit(X, y)``, ``predict_proba(X)``) so a supervised tagger can replace it
by name in config. Zero-shot use builds the training set from the taxonomy itself: each root cause's
description and seed examples are its prototypes. Keyword hits are separate evidence, blended in by
``tag_items`` because they need the text, not the vector.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .config import Taxonomy


class PrototypeTagger:
    """Scores each class by the mean of its ``k`` most similar prototypes; softmax with a temperature."""

    def __init__(self, temperature: float = 0.05, top_k: int = 3) -> None:
        self.temperature = temperature
        self.top_k = top_k

    def fit(self, X: np.ndarray, y: Sequence[str]) -> PrototypeTagger:
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(list(y))
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
        self.classes_ = np.array(list(dict.fromkeys(y.tolist())))
        self.prototypes_ = X
        self.prototype_labels_ = np.searchsorted(self.classes_, y, sorter=np.argsort(self.classes_))
        # searchsorted with a sorter returns positions in the sorted order: map back to classes_ order
        sorted_idx = np.argsort(self.classes_)
        self.prototype_labels_ = sorted_idx[self.prototype_labels_]
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        sims = np.asarray(X, dtype=np.float32) @ self.prototypes_.T
        scores = np.empty((len(sims), len(self.classes_)), dtype=np.float32)
        for c in range(len(self.classes_)):
            s = sims[:, self.prototype_labels_ == c]
            k = min(self.top_k, s.shape[1])
            scores[:, c] = np.sort(s, axis=1)[:, -k:].mean(axis=1)
        return scores

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return softmax(self.decision_function(X) / self.temperature)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def taxonomy_training_set(taxonomy: Taxonomy) -> tuple[list[str], list[str]]:
    """Texts and labels that teach a tagger the taxonomy: every description and seed example."""
    texts, labels = [], []
    for key, rc in taxonomy.root_causes.items():
        for t in [rc.description, *rc.seeds]:
            texts.append(t)
            labels.append(key)
    return texts, labels


def keyword_evidence(texts: Sequence[str], taxonomy: Taxonomy) -> np.ndarray:
    """Per text and root cause: how many of its keywords occur (word-bounded, case-folded), squashed to 0..1."""
    keys = taxonomy.keys
    patterns = []
    for key in keys:
        words = sorted(taxonomy.root_causes[key].keywords, key=len, reverse=True)
        patterns.append(re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
                        if words else None)
    hits = np.zeros((len(texts), len(keys)), dtype=np.float32)
    for i, t in enumerate(texts):
        for j, p in enumerate(patterns):
            if p is not None:
                hits[i, j] = len(p.findall(t))
    return 1.0 - np.exp(-hits)  # 0 hits -> 0, 1 -> 0.63, 2 -> 0.86


def tag_items(texts: Sequence[str], X: np.ndarray, tagger, taxonomy: Taxonomy, keyword_weight: float = 0.35,
              abstain_below: float = 0.35) -> pd.DataFrame:
    """Root cause, confidence, the runner-up and a review flag for every item."""
    keys = taxonomy.keys
    if len(texts) == 0:
        return pd.DataFrame(columns=["root_cause", "confidence", "second_cause", "needs_review", *_prob_cols(keys)])
    proba = tagger.predict_proba(X)
    order = [list(tagger.classes_).index(k) for k in keys]
    proba = proba[:, order]
    ev = keyword_evidence(texts, taxonomy)
    kw = ev / np.maximum(ev.sum(axis=1, keepdims=True), 1e-9)
    has_kw = ev.sum(axis=1, keepdims=True) > 0
    mixed = np.where(has_kw, (1 - keyword_weight) * proba + keyword_weight * kw, proba)
    top2 = np.argsort(-mixed, axis=1, kind="stable")[:, :2]
    rows = np.arange(len(mixed))
    conf = mixed[rows, top2[:, 0]]
    margin = conf - mixed[rows, top2[:, 1]]
    out = pd.DataFrame({
        "root_cause": np.array(keys)[top2[:, 0]],
        "confidence": conf.round(4),
        "second_cause": np.array(keys)[top2[:, 1]],
        "needs_review": (conf < abstain_below) | (margin < 0.05),
    })
    for j, k in enumerate(keys):
        out[f"p_{k}"] = mixed[:, j].round(4)
    return out


def _prob_cols(keys: list[str]) -> list[str]:
    return [f"p_{k}" for k in keys]


def fit_zero_shot(taxonomy: Taxonomy, encode: Callable[[list[str]], np.ndarray], temperature: float = 0.05
                  ) -> PrototypeTagger:
    texts, labels = taxonomy_training_set(taxonomy)
    return PrototypeTagger(temperature=temperature).fit(encode(texts), labels)
