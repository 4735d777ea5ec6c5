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
    """sklearn-style: ``fit_predict(X)`` discovers themes, ``assign(X_new)`` places new items without refitting.

    Discovery: UMAP to ``n_components`` dimensions (cosine, ``n_neighbors``), then HDBSCAN with a minimum cluster
    size scaled to N decides how many themes there are and which items are outliers. ``partition="ward"``
    (default) then splits the reduced space into that many themes with Ward linkage, which draws steadier
    borders between neighbouring themes than HDBSCAN's own density cut (on Banking77: NMI 0.835 against
    0.829); ``partition="hdbscan"`` keeps HDBSCAN's clusters and gives each outlier the theme of its nearest
    clustered neighbours. Either way an HDBSCAN outlier keeps a theme only when it is similar enough
    (cosine >= ``assign_threshold``) to that theme's centroid; the rest stay unthemed. Rows are put in a
    canonical, content-derived order first, so the same items in any order give the same themes. New items
    are assigned to the nearest centroid in the original space.
    """

    def __init__(self, n_components: int = 10, min_cluster_size: int | None = None, min_samples: int | None = None,
                 max_discovery_sample: int = 6000, assign_threshold: float = 0.45, random_state: int = 42,
                 reducer: str = "umap", n_neighbors: int = 15, partition: str = "ward") -> None:
        self.n_components = n_components
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.max_discovery_sample = max_discovery_sample
        self.assign_threshold = assign_threshold
        self.random_state = random_state
        self.reducer = reducer
        self.n_neighbors = n_neighbors
        self.partition = partition

    def _min_cluster_size(self, n: int) -> int:
        if self.min_cluster_size is not None:
            return self.min_cluster_size
        return int(np.clip(round(n / 300), 8, 50))

    def _reduce(self, X: np.ndarray) -> np.ndarray:
        k = int(min(self.n_components, X.shape[1], len(X) - 2))
        if self.reducer == "umap" and len(X) > self.n_neighbors + 2:
            import warnings

            import umap

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return umap.UMAP(n_neighbors=self.n_neighbors, n_components=k, min_dist=0.0, metric="cosine",
                                 random_state=self.random_state, n_jobs=1).fit_transform(X)
        from sklearn.decomposition import PCA

        Z = PCA(n_components=max(k, 1), random_state=self.random_state).fit_transform(X)
        return Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)

    def fit(self, X: np.ndarray) -> HDBSCANClusterer:
        X = np.asarray(X, dtype=np.float32)
        n = len(X)
        self.n_features_in_ = X.shape[1] if X.ndim == 2 else 0
        sample = _content_sample(X, self.max_discovery_sample, self.random_state)
        sample = sample[np.argsort(_content_keys(X[sample], self.random_state), kind="stable")]  # canonical order
        if len(sample) < 3:
            self.centroids_ = np.zeros((0, self.n_features_in_), dtype=np.float32)
            self.labels_ = np.full(n, NOISE)
            return self
        from sklearn.cluster import HDBSCAN

        Z = self._reduce(X[sample])
        mcs = min(self._min_cluster_size(len(sample)), max(2, len(sample) // 2))
        ms = self.min_samples if self.min_samples is not None else max(2, min(mcs, max(3, mcs // 3)))
        raw = HDBSCAN(min_cluster_size=mcs, min_samples=ms, copy=True).fit_predict(Z)
        k = int(raw.max()) + 1
        if self.partition == "ward" and 1 < k < len(sample):
            from sklearn.cluster import AgglomerativeClustering

            part = AgglomerativeClustering(k, linkage="ward").fit_predict(Z)
        else:
            part = _soft_assign(Z, raw)
        if k > 0:  # an HDBSCAN outlier keeps its theme only when it resembles it
            sims = np.einsum("ij,ij->i", X[sample], _centroids(X[sample], part)[np.maximum(part, 0)])
            part = np.where((raw == NOISE) & (sims < self.assign_threshold), NOISE, part)
        kept = sorted(set(part.tolist()) - {NOISE})
        remap = {old: new for new, old in enumerate(kept)}
        soft = np.array([remap.get(v, NOISE) for v in part.tolist()])
        centroids = _centroids(X[sample], soft)
        # renumber by size (ties by centroid) so ids depend on neither HDBSCAN's order nor the row order
        order = _size_order(soft, centroids)
        rank = np.empty(len(order), dtype=int)
        rank[order] = np.arange(len(order))
        self.centroids_ = centroids[order]
        labels = np.full(n, NOISE)
        labels[sample] = np.where(soft == NOISE, NOISE, rank[np.maximum(soft, 0)])
        rest = np.setdiff1d(np.arange(n), sample)
        if len(rest):
            labels[rest] = self.assign(X[rest])
        self.labels_ = labels
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

    def similarity(self, X: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Cosine of each item to its own theme's centroid (0 for unthemed)."""
        X = np.asarray(X, dtype=np.float32)
        if len(self.centroids_) == 0:
            return np.zeros(len(X), dtype=np.float32)
        sims = np.einsum("ij,ij->i", X, self.centroids_[np.maximum(labels, 0)])
        return np.where(labels == NOISE, 0.0, sims).astype(np.float32)


def _soft_assign(Z: np.ndarray, labels: np.ndarray, k: int = 5) -> np.ndarray:
    """Outliers take the majority theme of their ``k`` nearest clustered neighbours in the reduced space."""
    clustered = labels != NOISE
    if clustered.all() or not clustered.any():
        return labels.copy()
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=min(k, int(clustered.sum()))).fit(Z[clustered], labels[clustered])
    out = labels.copy()
    out[~clustered] = knn.predict(Z[~clustered])
    return out


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


def _content_keys(X: np.ndarray, seed: int) -> np.ndarray:
    """A hash of each row's content: an order that does not depend on the order rows arrived in."""
    salt = str(seed).encode()
    return np.array([hashlib.blake2b(row.tobytes(), digest_size=8, key=salt).digest() for row in
                     np.round(X, 5).astype(np.float32)], dtype="S8")


def _content_sample(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """At most ``k`` rows chosen by a hash of their content, so the sample is the same in any row order."""
    n = len(X)
    if n <= k:
        return np.arange(n)
    return np.sort(np.argsort(_content_keys(X, seed), kind="stable")[:k])


# ---------------------------------------------------------------- description

_TOKEN = r"(?u)\b[^\W\d_]{2,}\b"
_EXTRA_STOP = {
    "hi", "hello", "hey", "thanks", "thank", "pls", "plz", "please", "just", "im", "ive", "dont", "got", "get",
    "like", "really", "order", "ordered", "item", "items", "time", "day", "days", "week", "weeks", "said", "told",
    "want", "need", "know", "tbh", "lol", "ok", "okay", "regards", "guys", "team", "ur", "email", "phone", "card",
    "don", "didn", "doesn", "isn", "wasn", "aren", "won", "ve", "ll", "re", "cheers", "kind", "dear", "sir",
    "madam", "yes", "still", "also", "even", "one", "two", "three", "would", "could", "us", "it's", "came",
}


def ctfidf_keywords(texts: Sequence[str], labels: np.ndarray, n: int = 8, min_share: float = 0.1
                    ) -> dict[int, list[str]]:
    """Class-based TF-IDF (as in BERTopic): terms frequent in one theme and rare across themes.

    Term frequency counts members that use a term (not raw repeats), and a term must appear in at least two
    members and ``min_share`` of the theme, so one long message (or one person's "hiya") cannot name a theme.
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
    tf_share = tf / np.maximum(sizes[:, None], 1)
    out = {}
    for row, i in enumerate(ids):
        # terms shared by several members first; a theme with none falls back to its best single terms
        ranked = np.where(enough[row], score[row], 0.0) if enough[row].any() else score[row]
        ranked = ranked * np.sqrt(tf_share[row])  # words many members use make better names than rare ones
        words: list[str] = []
        for j in np.argsort(-ranked, kind="stable")[: n * 4]:
            w = vocab[j]
            if ranked[j] <= 0:
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
    from .nlp import load_spacy

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
        examples = [texts[j] for j in reps.get(i, [])]
        label = " / ".join(words[:3]) if words else _short(examples[0] if examples else f"theme {i + 1}")
        rows.append({
            "theme_id": theme_key(i),
            "label": label,
            "keywords": words,
            "key_phrases": kp.get(i, []),
            "examples": examples,
            "size": int((labels == i).sum()),
        })
    return pd.DataFrame(rows, columns=["theme_id", "label", "keywords", "key_phrases", "examples", "size"])


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 3].rstrip() + "..."


def theme_key(label: int) -> str:
    return "unthemed" if label == NOISE else f"T{label + 1:03d}"


def subthemes(texts: Sequence[str], X: np.ndarray, theme_ids: Sequence[str], min_size: int = 20,
              max_parts: int = 4, seed: int = 42) -> tuple[list[str], dict[str, list[dict]]]:
    """The third level of the hierarchy (root cause > theme > sub-theme): each large theme split by Ward linkage
    into 2-``max_parts`` parts, named by their own c-TF-IDF words. Rows are taken in a content-derived order so
    the parts do not depend on input order. Returns each item's sub-theme id and, per theme, its parts."""
    from sklearn.cluster import AgglomerativeClustering

    theme_ids = list(theme_ids)
    out = [f"{t}.1" if t != "unthemed" else "unthemed" for t in theme_ids]
    parts: dict[str, list[dict]] = {}
    keys = _content_keys(np.asarray(X, dtype=np.float32), seed) if len(X) else np.array([])
    for theme in sorted(set(theme_ids) - {"unthemed"}):
        members = np.array([i for i, t in enumerate(theme_ids) if t == theme])
        members = members[np.argsort(keys[members], kind="stable")]
        if len(members) < min_size:
            parts[theme] = [{"id": f"{theme}.1", "label": "", "size": int(len(members))}]
            continue
        k = int(np.clip(len(members) // 15, 2, max_parts))
        local = AgglomerativeClustering(k, linkage="ward").fit_predict(X[members])
        sizes = np.bincount(local, minlength=k)
        rank = np.empty(k, dtype=int)
        rank[np.lexsort((np.arange(k), -sizes))] = np.arange(k)
        local = rank[local]
        words = ctfidf_keywords([texts[i] for i in members], local, 2)
        parts[theme] = [{"id": f"{theme}.{j + 1}", "label": " / ".join(words.get(j, [])),
                         "size": int((local == j).sum())} for j in range(k)]
        for i, j in zip(members, local):
            out[i] = f"{theme}.{j + 1}"
    return out, parts
