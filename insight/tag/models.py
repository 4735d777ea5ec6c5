"""Trainable taggers and the calibration wrapper (saved and loaded by ``persist``).

Every tagger has the sklearn shape: ``fit(X, y)`` on embeddings, ``predict_proba(X)``, ``classes_``; one that also
reads the texts says so with ``needs_texts`` and takes ``texts=`` in both. Constructors only store parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ModelError
from .calibration import AbstainPolicy, apply_temperature, softmax
from .zero_shot import PrototypeTagger


class LogisticTagger:
    """Multinomial logistic regression on frozen (or fine-tuned) sentence embeddings."""

    def __init__(self, C: float = 10.0, max_iter: int = 3000, class_weight: str | None = None) -> None:
        self.C = C
        self.max_iter = max_iter
        self.class_weight = class_weight

    def fit(self, X: np.ndarray, y: Sequence[str]) -> LogisticTagger:
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(list(y))
        self.classes_ = np.array(sorted(set(y.tolist())))
        if len(self.classes_) < 2:
            raise ModelError("a supervised tagger needs labels of at least two classes", code="E601")
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter, class_weight=self.class_weight)
        lr.fit(np.asarray(X, dtype=np.float32), y)
        self.coef_ = lr.coef_.astype(np.float32)
        self.intercept_ = lr.intercept_.astype(np.float32)
        self.classes_ = np.asarray(lr.classes_)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float32) @ self.coef_.T + self.intercept_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        z = self.decision_function(X)
        if z.shape[1] == 1:  # binary: sklearn keeps one column of logits
            z = np.hstack([-z, z]) / 2
        return softmax(z)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"C": self.C, "max_iter": self.max_iter, "class_weight": self.class_weight}, {
            "coef": self.coef_, "intercept": self.intercept_}

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray], classes: np.ndarray) -> LogisticTagger:
        t = cls(**params)
        t.coef_, t.intercept_, t.classes_ = arrays["coef"], arrays["intercept"], classes
        return t


class LexicalLogisticTagger:
    """Logistic regression on the sentence embedding joined with word and character n-gram TF-IDF.

    Embeddings carry meaning; n-grams carry the exact product and feature words ("top-up", "PIN", "virtual
    card") that a small encoder blurs. With enough labels the two together beat either one; with a handful per
    class the n-grams mostly add noise, which is why ``fit_calibrated`` keeps this model only when it wins on
    held-out labels. Needs the texts as well as the vectors: ``fit(X, y, texts=...)``.
    """

    needs_texts = True  # callers pass ``texts=`` to fit and predict_proba

    def __init__(self, C: float = 10.0, max_iter: int = 3000, word_weight: float = 0.7, char_weight: float = 0.7
                 ) -> None:
        self.C = C
        self.max_iter = max_iter
        self.word_weight = word_weight
        self.char_weight = char_weight

    def _vectorizers(self):
        from sklearn.feature_extraction.text import TfidfVectorizer

        return (TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2))

    def _features(self, X: np.ndarray, texts: Sequence[str]):
        from scipy import sparse

        if texts is None:
            raise ModelError("this tagger reads the texts too: pass texts=...", code="E609")
        return sparse.hstack([sparse.csr_matrix(np.asarray(X, dtype=np.float32)),
                              self.word_.transform(texts) * self.word_weight,
                              self.char_.transform(texts) * self.char_weight]).tocsr()

    def fit(self, X: np.ndarray, y: Sequence[str], texts: Sequence[str] | None = None) -> LexicalLogisticTagger:
        from sklearn.linear_model import LogisticRegression

        if texts is None:
            raise ModelError("this tagger reads the texts too: pass texts=...", code="E609")
        self.word_, self.char_ = self._vectorizers()
        try:
            self.word_.fit(texts)
            self.char_.fit(texts)
        except ValueError:  # too few texts for min_df: fall back to every n-gram
            self.char_.set_params(min_df=1).fit(texts)
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(self._features(X, texts), np.asarray(y))
        self.coef_, self.intercept_, self.classes_ = lr.coef_.astype(np.float32), lr.intercept_, lr.classes_
        return self

    def predict_proba(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        z = self._features(X, texts) @ self.coef_.T + self.intercept_
        z = np.asarray(z)
        if z.shape[1] == 1:
            z = np.hstack([-z, z]) / 2
        return softmax(z)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        params = {"C": self.C, "max_iter": self.max_iter, "word_weight": self.word_weight,
                  "char_weight": self.char_weight}
        arrays = {"coef": self.coef_, "intercept": np.asarray(self.intercept_, dtype=np.float32)}
        for name, vec in (("word", self.word_), ("char", self.char_)):
            terms = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
            arrays[f"{name}_terms"] = np.array(terms, dtype=str)
            arrays[f"{name}_idf"] = vec.idf_.astype(np.float64)
        return params, arrays

    @classmethod
    def from_state(cls, params, arrays, classes) -> LexicalLogisticTagger:
        t = cls(**params)
        t.word_, t.char_ = t._vectorizers()
        for name, vec in (("word", t.word_), ("char", t.char_)):
            vec.vocabulary_ = {term: i for i, term in enumerate(arrays[f"{name}_terms"].tolist())}
            vec.idf_ = arrays[f"{name}_idf"]
        t.coef_, t.intercept_, t.classes_ = arrays["coef"], arrays["intercept"], classes
        return t


class HybridTagger:
    """Supervised where labels exist, zero-shot prototypes everywhere: a class nobody has labelled yet (a new
    root cause, a rare one) still gets probability from its description and seeds."""

    def __init__(self, prior: PrototypeTagger, supervised: LogisticTagger | None = None, weight: float = 0.7) -> None:
        self.prior = prior
        self.supervised = supervised
        self.weight = weight

    def fit(self, X: np.ndarray, y: Sequence[str]) -> HybridTagger:
        self.classes_ = np.asarray(self.prior.classes_)
        y = np.asarray(list(y))
        self.supervised = (self.supervised or LogisticTagger()).fit(X, y) if len(set(y.tolist())) > 1 else None
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.prior.predict_proba(X)
        if self.supervised is None:
            return p
        q = np.zeros_like(p)
        cols = [list(self.classes_).index(c) for c in self.supervised.classes_]
        q[:, cols] = self.supervised.predict_proba(X)
        known = np.zeros(p.shape[1], dtype=bool)
        known[cols] = True
        # the supervised model speaks for its classes; unseen classes keep the prior's share
        mixed = self.weight * q + (1 - self.weight) * p
        mixed[:, ~known] = p[:, ~known]
        return mixed / mixed.sum(axis=1, keepdims=True)


class NeighbourTagger:
    """A fitted head whose probabilities are blended with those of the nearest feedback it has seen.

    With a few labels per cause, the head's boundaries are drawn from a handful of phrasings. The untagged
    feedback a shop already holds says more: an item whose nearest neighbours the head places under one cause
    most likely belongs there too, even when the item alone sits near a boundary. Each memory row carries a
    distribution over the causes: a labelled text its label, an untagged one the head's own probabilities. A
    prediction is ``(1 - weight) * head + weight * mean over the k most similar memory rows`` (cosine): one step
    of label propagation over the untagged data (Zhou et al., 2004), with no graph to rebuild at tagging time.
    On Banking77 with 8 labels per intent it adds about a point of accuracy; labelled rows alone add nothing,
    so it is only built where untagged feedback was given. Memory vectors are kept as float16 (half the
    disk, the same neighbours), capped at ``max_memory`` rows drawn at random.
    """

    def __init__(self, base: Any, k: int = 10, weight: float = 0.5, max_memory: int = 20000, seed: int = 0) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        if not 0 <= weight <= 1:
            raise ValueError(f"weight must be between 0 and 1, not {weight}")
        self.base = base
        self.k = k
        self.weight = weight
        self.max_memory = max_memory
        self.seed = seed

    @property
    def classes_(self) -> np.ndarray:
        return self.base.classes_

    @property
    def needs_texts(self) -> bool:
        return getattr(self.base, "needs_texts", False)

    def _base_proba(self, X: np.ndarray, texts: Sequence[str] | None) -> np.ndarray:
        return self.base.predict_proba(X, texts=texts) if self.needs_texts else self.base.predict_proba(X)

    def remember(self, X: np.ndarray, y: Sequence[str], pool: np.ndarray,
                 pool_texts: Sequence[str] | None = None) -> NeighbourTagger:
        """Build the memory around the already fitted head: labelled rows ``X, y`` and untagged ``pool`` rows."""
        y = np.asarray(list(y))
        pool = np.asarray(pool, dtype=np.float32).reshape(len(pool), -1) if len(pool) else np.zeros((0, X.shape[1]))
        if len(pool) > self.max_memory:
            keep = np.sort(np.random.default_rng(self.seed).choice(len(pool), self.max_memory, replace=False))
            pool = pool[keep]
            pool_texts = [pool_texts[i] for i in keep] if pool_texts is not None else None
        classes = list(self.classes_)
        unknown = sorted(set(y.tolist()) - set(classes))
        if unknown:
            raise ModelError(f"labels the head does not know: {unknown[:5]}", code="E611")
        labelled = np.zeros((len(y), len(classes)), dtype=np.float32)
        labelled[np.arange(len(y)), [classes.index(v) for v in y]] = 1
        guessed = self._base_proba(pool, pool_texts) if len(pool) else np.zeros((0, len(classes)))
        self.memory_ = _unit(np.vstack([np.asarray(X, dtype=np.float32), pool])).astype(np.float16)
        self.memory_proba_ = np.vstack([labelled, guessed]).astype(np.float16)
        return self

    def fit(self, X: np.ndarray, y: Sequence[str], texts: Sequence[str] | None = None, *,
            pool: np.ndarray | None = None, pool_texts: Sequence[str] | None = None) -> NeighbourTagger:
        self.base.fit(X, y, texts=texts) if self.needs_texts else self.base.fit(X, y)
        return self.remember(X, y, np.zeros((0, np.shape(X)[1])) if pool is None else pool, pool_texts)

    def neighbour_proba(self, X: np.ndarray, batch: int = 1024) -> np.ndarray:
        """Mean distribution of each row's ``k`` most similar memory rows."""
        memory = self.memory_.astype(np.float32)
        proba = self.memory_proba_.astype(np.float32)
        k = min(self.k, len(memory))
        Q = _unit(np.asarray(X, dtype=np.float32))
        out = np.empty((len(Q), proba.shape[1]), dtype=np.float32)
        for start in range(0, len(Q), batch):
            sims = Q[start:start + batch] @ memory.T
            idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            out[start:start + batch] = proba[idx].mean(axis=1)
        return out

    def predict_proba(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        p = self._base_proba(X, texts)
        if not self.weight or not len(self.memory_):
            return p
        mixed = (1 - self.weight) * p + self.weight * self.neighbour_proba(X)
        return mixed / mixed.sum(axis=1, keepdims=True)


def _unit(X: np.ndarray) -> np.ndarray:
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)


class CalibratedTagger:
    """A fitted tagger plus a temperature and an abstain policy learned on held-out labels."""

    def __init__(self, base: Any, temperature: float = 1.0, policy: AbstainPolicy | None = None) -> None:
        self.base = base
        self.temperature = temperature
        self.policy = policy or AbstainPolicy()

    @property
    def classes_(self) -> np.ndarray:
        return self.base.classes_

    @property
    def needs_texts(self) -> bool:
        return getattr(self.base, "needs_texts", False)

    def fit(self, X: np.ndarray, y: Sequence[str], texts: Sequence[str] | None = None) -> CalibratedTagger:
        self.base.fit(X, y, texts=texts) if self.needs_texts else self.base.fit(X, y)
        return self

    def predict_proba(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        p = self.base.predict_proba(X, texts=texts) if self.needs_texts else self.base.predict_proba(X)
        return apply_temperature(p, self.temperature)

    def predict(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        return self.classes_[self.predict_proba(X, texts).argmax(axis=1)]
