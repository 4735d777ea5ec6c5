"""Trainable taggers, calibration wrapper and safe persistence (part of the tag stage).

Every tagger has the sklearn shape: ``fit(X, y)`` on embeddings, ``predict_proba(X)``, ``classes_``. They save as a
versioned folder: ``metadata.json`` (format, kind, classes, parameters, taxonomy fingerprint, embedder, training
data hash, library versions, metrics) and ``weights.npz`` (plain arrays, loaded with ``allow_pickle=False``).
A fine-tuned encoder, when one is used, is saved beside them by sentence-transformers as safetensors. Loading
checks the metadata against what the caller runs with and refuses a mismatch: a model trained for another
taxonomy or embedder would tag confidently and wrongly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata as im
from pathlib import Path
from typing import Any

import numpy as np

from .calibration import AbstainPolicy, apply_temperature
from .errors import InsightError
from .tag import PrototypeTagger

FORMAT = "insight-tagger/1"


class ModelError(InsightError):
    code = "E600"


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
        from .calibration import softmax

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
        from .calibration import softmax

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


def _prototype_state(t: PrototypeTagger) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    return {"temperature": t.temperature, "top_k": t.top_k}, {
        "prototypes": t.prototypes_, "prototype_labels": t.prototype_labels_}


def _prototype_from_state(params, arrays, classes) -> PrototypeTagger:
    t = PrototypeTagger(**params)
    t.prototypes_, t.prototype_labels_, t.classes_ = arrays["prototypes"], arrays["prototype_labels"], classes
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


# ---------------------------------------------------------------- persistence

_KINDS = {"lexical": LexicalLogisticTagger, "logistic": LogisticTagger, "prototype": PrototypeTagger,
          "hybrid": HybridTagger, "neighbour": NeighbourTagger}


def _kind(t: Any) -> str:
    for name, cls in _KINDS.items():
        if isinstance(t, cls):
            return name
    raise ModelError(f"cannot save a {type(t).__name__}", code="E602")


def _state(t: Any) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    kind = _kind(t)
    if kind in ("logistic", "lexical"):
        params, arrays = t.state()
    elif kind == "prototype":
        params, arrays = _prototype_state(t)
    elif kind == "neighbour":
        base_kind, base_params, base_arrays = _state(t.base)
        params = {"k": t.k, "weight": t.weight, "max_memory": t.max_memory, "seed": t.seed, "base_kind": base_kind,
                  "base": base_params}
        arrays = {"memory": t.memory_, "memory_proba": t.memory_proba_,
                  **{f"base.{k}": v for k, v in base_arrays.items()}}
    else:
        pp, pa = _prototype_state(t.prior)
        params = {"weight": t.weight, "prior": pp, "supervised_classes": None}
        arrays = {f"prior.{k}": v for k, v in pa.items()}
        if t.supervised is not None:
            sp, sa = t.supervised.state()
            params.update(supervised=sp, supervised_classes=t.supervised.classes_.tolist(),
                          prior_classes=t.prior.classes_.tolist())
            arrays.update({f"supervised.{k}": v for k, v in sa.items()})
        params["prior_classes"] = t.prior.classes_.tolist()
    return kind, params, arrays


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t, y in zip(texts, labels):
        h.update(t.encode())
        h.update(b"\x1f")
        h.update(str(y).encode())
        h.update(b"\x1e")
    return h.hexdigest()


def save_model(tagger: CalibratedTagger, folder: str | Path, *, taxonomy_fingerprint: str | None,
               embedder: str, training_hash: str, metrics: dict[str, Any] | None = None,
               encoder_dir: str | None = None, head_features: list[str] | None = None) -> Path:
    """Write ``metadata.json`` + ``weights.npz`` into ``folder`` (created; refuses to overwrite another model).

    ``head_features`` names the vectors the head reads, side by side in that order: ``frozen`` (the packaged
    encoder) and/or ``tuned`` (the fine-tuned one in ``encoder_dir``).
    """
    folder = Path(folder)
    if (folder / "metadata.json").exists():
        raise ModelError(f"{folder} already holds a model; save a new version in a new folder", code="E603")
    folder.mkdir(parents=True, exist_ok=True)
    kind, params, arrays = _state(tagger.base)
    np.savez(folder / "weights.npz", **arrays)
    weights_sha = hashlib.sha256((folder / "weights.npz").read_bytes()).hexdigest()
    encoder_sha = _encoder_sha(folder / encoder_dir) if encoder_dir else None
    meta = {
        "format": FORMAT, "kind": kind, "params": params, "classes": tagger.classes_.tolist(),
        "temperature": tagger.temperature,
        "policy": {"min_confidence": tagger.policy.min_confidence, "min_margin": tagger.policy.min_margin,
                   "class_thresholds": list(map(float, tagger.policy.class_thresholds))},
        "taxonomy_fingerprint": taxonomy_fingerprint, "embedder": embedder, "encoder_dir": encoder_dir,
        "encoder_sha256": encoder_sha, "head_features": head_features or _single_head_features(encoder_dir),
        "training_data_sha256": training_hash, "weights_sha256": weights_sha,
        "metrics": metrics or {},
        "created_at": datetime.now(timezone.utc).isoformat(), "versions": _versions(),
    }
    (folder / "metadata.json").write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
    return folder


def load_model(folder: str | Path, *, taxonomy_fingerprint: str | None = None, embedder: str | None = None
               ) -> tuple[CalibratedTagger, dict[str, Any]]:
    """Load a saved tagger, checking that it belongs to this taxonomy and embedder and is intact."""
    folder = Path(folder)
    meta_path = folder / "metadata.json"
    if not meta_path.is_file():
        raise ModelError(f"{folder} holds no saved tagger (metadata.json missing)", code="E604")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ModelError(f"{folder}: unsupported model format {meta.get('format')!r} (expected {FORMAT})",
                         code="E605")
    if taxonomy_fingerprint is not None and meta.get("taxonomy_fingerprint") != taxonomy_fingerprint:
        raise ModelError(f"{folder} was trained for taxonomy {meta.get('taxonomy_fingerprint')}, not "
                         f"{taxonomy_fingerprint}: retrain it for the current taxonomy", code="E606")
    if embedder is not None and meta.get("embedder") != embedder:
        raise ModelError(f"{folder} expects embeddings from {meta.get('embedder')!r}, not {embedder!r}", code="E607")
    weights = folder / "weights.npz"
    if hashlib.sha256(weights.read_bytes()).hexdigest() != meta.get("weights_sha256"):
        raise ModelError(f"{weights} does not match the checksum in its metadata (corrupted or edited)",
                         code="E608")
    if meta.get("encoder_dir"):
        if Path(meta["encoder_dir"]).name != meta["encoder_dir"]:  # inside the model folder, nowhere else
            raise ModelError(f"{folder}: encoder_dir must name a sub-folder, not {meta['encoder_dir']!r}",
                             code="E610")
        encoder = folder / meta["encoder_dir"]
        if not (encoder / "model.safetensors").is_file():
            raise ModelError(f"{folder} needs its fine-tuned encoder in {encoder} (model.safetensors missing)",
                             code="E610")
        if _encoder_sha(encoder) != meta.get("encoder_sha256"):
            raise ModelError(f"{encoder} does not match the checksum in its metadata (corrupted or edited)",
                             code="E608")
    with np.load(weights, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    base = _from_state(meta["kind"], meta["params"], arrays, np.asarray(meta["classes"]))
    policy = AbstainPolicy(**meta["policy"])
    return CalibratedTagger(base, meta["temperature"], policy), meta


def _from_state(kind: str, params: dict[str, Any], arrays: dict[str, np.ndarray], classes: np.ndarray) -> Any:
    if kind == "logistic":
        return LogisticTagger.from_state(params, arrays, classes)
    if kind == "lexical":
        return LexicalLogisticTagger.from_state(params, arrays, classes)
    if kind == "prototype":
        return _prototype_from_state(params, arrays, classes)
    if kind == "neighbour":
        base = _from_state(params["base_kind"], params["base"],
                           {k[5:]: v for k, v in arrays.items() if k.startswith("base.")}, classes)
        t = NeighbourTagger(base, **{k: params[k] for k in ("k", "weight", "max_memory", "seed")})
        t.memory_, t.memory_proba_ = arrays["memory"], arrays["memory_proba"]
        return t
    if kind != "hybrid":
        raise ModelError(f"unknown tagger kind {kind!r}", code="E605")
    prior = _prototype_from_state(params["prior"], {k[6:]: v for k, v in arrays.items() if k.startswith("prior.")},
                                  np.asarray(params["prior_classes"]))
    sup = None
    if params.get("supervised_classes"):
        sup = LogisticTagger.from_state(params["supervised"], {k[11:]: v for k, v in arrays.items()
                                                               if k.startswith("supervised.")},
                                        np.asarray(params["supervised_classes"]))
    base = HybridTagger(prior, sup, weight=params["weight"])
    base.classes_ = classes
    return base


def _encoder_sha(encoder: Path) -> str:
    """Checksum of a fine-tuned encoder's weights (safetensors: loading them cannot run code)."""
    return hashlib.sha256((encoder / "model.safetensors").read_bytes()).hexdigest()


def encoder_path(folder: str | Path, meta: dict[str, Any]) -> Path | None:
    """The fine-tuned encoder saved with a model, or None when it tags frozen-encoder embeddings."""
    return Path(folder) / meta["encoder_dir"] if meta.get("encoder_dir") else None


def head_features(meta: dict[str, Any]) -> list[str]:
    """The vectors a saved head reads, in order (models saved before the key existed read one kind)."""
    return meta.get("head_features") or _single_head_features(meta.get("encoder_dir"))


def _single_head_features(encoder_dir: str | None) -> list[str]:
    """What a head reads when nothing says otherwise: its own encoder's vectors, tuned if it has one."""
    return ["tuned"] if encoder_dir else ["frozen"]


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ["insight", "numpy", "scikit-learn", "sentence-transformers", "torch"]:
        try:
            out[pkg] = im.version(pkg)
        except im.PackageNotFoundError:
            out[pkg] = "not installed"
    return out
