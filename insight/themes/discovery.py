"""Theme discovery: reduce, cluster with HDBSCAN on a bounded sample, extend to everything.

HDBSCAN is quadratic-ish on raw 384-d vectors, so discovery runs on UMAP-reduced vectors (PCA for tests) of at
most ``max_discovery_sample`` items; the other items take the theme of their nearest sample items in the full
embedding space when they are similar enough, else stay ``NOISE`` ("unthemed", shown, never hidden). Theme ids
are ordered by size so the same partition always gets the same ids.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..config import ThemesConfig
from ..schema import NOISE


class HDBSCANClusterer:
    """sklearn-style: ``fit_predict(X)`` discovers themes, ``assign(X_new)`` places new items without refitting.

    Discovery: UMAP to ``n_components`` dimensions (cosine, ``n_neighbors``; its layout optimised on two threads
    with a result that does not depend on them, ``layout_sgd``), then HDBSCAN with a minimum cluster
    size scaled to N decides how many themes there are and which items are outliers. ``partition="ward"``
    (default) then splits the reduced space into that many themes with Ward linkage, which draws steadier
    borders between neighbouring themes than HDBSCAN's own density cut (on Banking77: NMI 0.835 against
    0.829); ``partition="hdbscan"`` keeps HDBSCAN's clusters and gives each outlier the theme of its nearest
    clustered neighbours. Either way an HDBSCAN outlier keeps a theme only when it is similar enough
    (cosine >= ``assign_threshold``) to that theme's centroid; the rest stay unthemed. Discovery sees at most
    ``max_discovery_sample`` items (chosen by content); the others take the theme of their nearest sample items.
    Rows are put in a canonical, content-derived order first, so the same items in any order give the same
    themes. New items in later runs (``assign``) go to the nearest centroid in the original space.

    What the stage costs, and what each choice here does to NMI, is in docs/evaluation.md ("Theme stage speed").
    """

    def __init__(self, n_components: int = 10, min_cluster_size: int | None = None, min_samples: int | None = None,
                 max_discovery_sample: int = 4000, assign_threshold: float = 0.45, random_state: int = 42,
                 reducer: str = "umap", n_neighbors: int = 15, partition: str = "ward", umap_epochs: int = 100,
                 implementation: str = "hdbscan") -> None:
        self.n_components = n_components
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.max_discovery_sample = max_discovery_sample
        self.assign_threshold = assign_threshold
        self.random_state = random_state
        self.reducer = reducer
        self.n_neighbors = n_neighbors
        self.partition = partition
        self.umap_epochs = umap_epochs
        self.implementation = implementation

    @classmethod
    def from_config(cls, cfg: ThemesConfig, seed: int = 42) -> HDBSCANClusterer:
        return cls(n_components=cfg.n_components, min_cluster_size=cfg.min_cluster_size,
                   min_samples=cfg.min_samples, max_discovery_sample=cfg.max_discovery_sample,
                   assign_threshold=cfg.assign_threshold, random_state=seed, reducer=cfg.reducer,
                   n_neighbors=cfg.n_neighbors, partition=cfg.partition, umap_epochs=cfg.umap_epochs,
                   implementation=cfg.hdbscan)

    def _min_cluster_size(self, n: int) -> int:
        if self.min_cluster_size is not None:
            return self.min_cluster_size
        return int(np.clip(round(n / 300), 8, 50))

    def _reduce(self, X: np.ndarray) -> np.ndarray:
        k = int(min(self.n_components, X.shape[1], len(X) - 2))
        if self.reducer in ("umap", "umap-learn") and len(X) > self.n_neighbors + 2:
            import warnings

            # exact neighbours by one matrix product: under 4,096 rows UMAP would otherwise call its metric once
            # per pair from Python (9 s for 3,000 rows), above it pay pynndescent's compilation (45 s, every
            # process)
            knn = exact_neighbours(X, self.n_neighbors)
            if self.reducer == "umap":  # UMAP's graph and objective, laid out on two threads, repeatably
                from .layout_sgd import umap_layout

                return umap_layout(X, knn[0], knn[1], k, self.umap_epochs, self.random_state)
            with warnings.catch_warnings():  # umap warns at import (no TensorFlow), in fit (n_jobs with a seed)
                warnings.simplefilter("ignore")  # and that a precomputed neighbour graph cannot transform
                import umap

                return umap.UMAP(n_neighbors=self.n_neighbors, n_components=k, min_dist=0.0, metric="cosine",
                                 random_state=self.random_state, n_jobs=1, n_epochs=self.umap_epochs,
                                 precomputed_knn=(*knn, None)).fit_transform(X)
        from sklearn.decomposition import PCA

        Z = PCA(n_components=max(k, 1), random_state=self.random_state).fit_transform(X)
        return Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)

    def fit(self, X: np.ndarray) -> HDBSCANClusterer:
        X = np.asarray(X, dtype=np.float32)
        n = len(X)
        self.n_features_in_ = X.shape[1] if X.ndim == 2 else 0
        keys = content_keys(X, self.random_state)  # once: they choose the sample and put it in canonical order
        sample = _content_sample(X, self.max_discovery_sample, self.random_state, keys)
        sample = sample[np.argsort(keys[sample], kind="stable")]
        if len(sample) < 3:
            self.centroids_ = np.zeros((0, self.n_features_in_), dtype=np.float32)
            self.labels_ = np.full(n, NOISE)
            return self
        Z = self._reduce(X[sample])
        mcs = min(self._min_cluster_size(len(sample)), max(2, len(sample) // 2))
        ms = self.min_samples if self.min_samples is not None else max(2, min(mcs, max(3, mcs // 3)))
        raw = density_clusters(Z, mcs, ms, self.implementation)
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
        if len(rank):  # HDBSCAN may keep no cluster at all in a small sample: then every item is unthemed
            labels[sample] = np.where(soft == NOISE, NOISE, rank[np.maximum(soft, 0)])
        rest = np.setdiff1d(np.arange(n), sample)
        if len(rest):
            labels[rest] = self._vote(X[rest], X[sample], labels[sample])
            # a second round among every themed item: a remark unlike any sample item but like one that joined
            # a theme in the first round joins it too (on 100,000 mixed real texts: 0.9 % unthemed against 5.9 %)
            left = rest[labels[rest] == NOISE]
            if len(left):
                labels[left] = self._vote(X[left], X, labels)
        self.labels_ = labels
        return self

    def fit_predict(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).labels_

    def _vote(self, X: np.ndarray, S: np.ndarray, labels: np.ndarray, k: int = 10) -> np.ndarray:
        """Items left out of the discovery sample take the theme of their ``k`` nearest themed sample items
        (votes weighted by cosine), so they are split as Ward split the sample, not by one centroid per theme
        (on 20,000 mixed real texts: 4.6 % unthemed against 11.6 %); unthemed when even the nearest is less
        similar than ``assign_threshold``. New items in later runs are still assigned by centroid."""
        themed = labels != NOISE
        S, labels = S[themed], labels[themed]
        if not len(S):
            return np.full(len(X), NOISE)
        top, near = top_k(X, S, k)
        votes = np.zeros((len(X), int(labels.max()) + 1))
        rows = np.repeat(np.arange(len(X)), near.shape[1])
        np.add.at(votes, (rows, labels[near].ravel()), np.maximum(top.ravel(), 0.0))
        return np.where(top[:, 0] >= self.assign_threshold, votes.argmax(axis=1), NOISE)

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


def density_clusters(Z: np.ndarray, min_cluster_size: int, min_samples: int, implementation: str = "hdbscan"
                     ) -> np.ndarray:
    """HDBSCAN's clusters of the reduced vectors (``NOISE`` for outliers). ``hdbscan``: the ``hdbscan`` package
    with its Boruvka KD-tree, faster on reduced real feedback at every sample size measured (4,000: 0.10 s
    against 0.13; 20,000: 0.83 s against 3.2; docs/evaluation.md); ``scikit-learn``: its HDBSCAN, which earlier runs
    used, for comparing with them. ``min_samples`` counts the point itself, as scikit-learn's does; the package
    does not, so it gets one fewer, and the two then draw the same clusters but for ties (ARI 0.989 on 4,000
    reduced real texts; with the same number, 0.85 and five themes fewer). One thread: the package would start
    worker processes for more."""
    if implementation == "hdbscan":
        import hdbscan

        return hdbscan.HDBSCAN(min_cluster_size=min_cluster_size, min_samples=max(1, min_samples - 1),
                               core_dist_n_jobs=1).fit_predict(Z).astype(np.int64)
    if implementation == "scikit-learn":
        from sklearn.cluster import HDBSCAN

        return HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples, copy=True).fit_predict(Z)
    raise ValueError(f"themes.hdbscan must be 'hdbscan' or 'scikit-learn', not {implementation!r}")


BIG_TOP_K = 5_000_000  # pairs of rows: from this many, top_k ranks with torch


def top_k(X: np.ndarray, S: np.ndarray, k: int, block: int = 2048, skip_self: bool = False
          ) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``X``, the ``k`` largest dot products with rows of ``S`` (most similar first, then by row
    number) and their row numbers; ``skip_self``: ``X`` is ``S`` and each row is its own first neighbour.
    Blocks of at most ``block`` rows, fewer against a large ``S``, keep memory flat (a block of 2,048 rows
    against 92,000 themed items, with argpartition's int64 indices, was 3 GB)."""
    k = min(k, len(S))
    block = max(16, min(block, 2**24 // max(len(S), 1)))  # a block's similarities and their argpartition: ~200 MB
    # torch only for work where it pays (100,000 items: 16 s -> 4 s), never for the small sets of unit tests, which
    # must not load it; the choice depends on the sizes alone, so the same data always takes the same path
    big = len(X) * len(S) >= BIG_TOP_K
    values = np.empty((len(X), k), dtype=np.float32)
    index = np.empty((len(X), k), dtype=np.int64)
    S = np.asarray(S, dtype=np.float32)
    for start in range(0, len(X), block):
        sims = np.asarray(X[start:start + block], dtype=np.float32) @ S.T
        if skip_self:
            rows = np.arange(len(sims))
            sims[rows, rows + start] = np.inf
        if k >= len(S):
            near = np.broadcast_to(np.arange(len(S)), sims.shape)
        elif big:  # the same similarities, ranked by torch: 4x faster than argpartition
            import torch

            near = torch.topk(torch.from_numpy(sims), k, dim=1, sorted=False).indices.numpy()
        else:
            near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(sims, near, axis=1)
        order = np.lexsort((near, -top), axis=1)
        values[start:start + block] = np.take_along_axis(top, order, axis=1)
        index[start:start + block] = np.take_along_axis(near, order, axis=1)
    return values, index


def exact_neighbours(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest rows by cosine (itself first) and their cosine distances: exact, and on a
    bounded discovery sample faster than an approximate index."""
    X = np.asarray(X, dtype=np.float32)
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    sims, idx = top_k(X, X, k, skip_self=True)
    return idx.astype(np.int32), np.clip(1.0 - sims, 0.0, 2.0)


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


def content_keys(X: np.ndarray, seed: int) -> np.ndarray:
    """A hash of each row's content: an order that does not depend on the order rows arrived in."""
    salt = str(seed).encode()
    return np.array([hashlib.blake2b(row.tobytes(), digest_size=8, key=salt).digest() for row in
                     np.round(X, 5).astype(np.float32)], dtype="S8")


def _content_sample(X: np.ndarray, k: int, seed: int, keys: np.ndarray | None = None) -> np.ndarray:
    """At most ``k`` rows chosen by a hash of their content, so the sample is the same in any row order;
    ``keys``: ``content_keys(X, seed)``, when the caller has them."""
    n = len(X)
    if n <= k:
        return np.arange(n)
    keys = keys if keys is not None else content_keys(X, seed)
    return np.sort(np.argsort(keys, kind="stable")[:k])
