"""UMAP's layout optimisation on two cores, with a result that does not depend on how the threads run.

UMAP lays out its neighbour graph by stochastic gradient descent, one edge at a time. Seeded, it runs on one thread
so that a run can be repeated; unseeded (BERTopic's default) it lets every thread write to every point at once and
gives up repeatability. Here the points are split in two halves along the first spectral coordinate, so that most
edges join points of the same half. Each epoch the two halves are optimised side by side: a half moves only its own
points, reads its own points as they move, and reads the other half as it stood when the epoch began; the edges
between the halves (about a fifth of them on real feedback) follow, on one thread. Every read and write is fixed by
the data and the seed, so one thread or two give the same layout, bit for bit. (numba compiles the loop on first
use, a few seconds, and caches it on disk where it can; import this module lazily.)

The objective, the schedule and the graph are UMAP's (``umap-learn``: fuzzy simplicial set, spectral start,
``a``/``b`` from ``min_dist``, 5 negative samples per positive one, a learning rate falling linearly from 1); what
differs is only the order of the updates and where a negative sample is read from. What that costs in theme quality
is in docs/evaluation.md ("Theme stage speed").
"""

from __future__ import annotations

import threading

import numba
import numpy as np

NEGATIVE_SAMPLE_RATE = 5
REPULSION = 1.0
# numba's fallback thread pool (workqueue) cannot run two parallel loops at once: callers on several threads
# (a Dask worker's, a web app's) take turns
_ONE_AT_A_TIME = threading.Lock()


def umap_layout(X: np.ndarray, knn_indices: np.ndarray, knn_dists: np.ndarray, n_components: int,
                n_epochs: int, seed: int, min_dist: float = 0.0) -> np.ndarray:
    """UMAP of ``X`` (cosine, neighbours given) to ``n_components`` dimensions, laid out by ``optimize``."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap warns at import when TensorFlow is absent
        from umap.spectral import spectral_layout
        from umap.umap_ import find_ab_params, fuzzy_simplicial_set, make_epochs_per_sample

    rs = np.random.RandomState(seed)
    graph, _, _ = fuzzy_simplicial_set(X, knn_indices.shape[1], rs, "cosine", knn_indices=knn_indices,
                                       knn_dists=knn_dists)
    graph = graph.tocoo()
    graph.sum_duplicates()
    graph.data[graph.data < graph.data.max() / float(n_epochs)] = 0.0  # edges too weak to be sampled once
    graph.eliminate_zeros()
    start = spectral_layout(X, graph, n_components, rs, metric="cosine")
    start = (10.0 / np.abs(start).max() * start).astype(np.float32)
    start = start + rs.normal(scale=0.0001, size=start.shape).astype(np.float32)
    lo, hi = start.min(0), start.max(0)
    Y = np.ascontiguousarray((10.0 * (start - lo) / (hi - lo)).astype(np.float32))
    a, b = find_ab_params(1.0, min_dist)
    per_sample = make_epochs_per_sample(graph.data, n_epochs).astype(np.float64)
    half = (Y[:, 0] > np.median(Y[:, 0])).astype(np.int64)
    seeds = rs.randint(1, np.iinfo(np.int64).max, 3, dtype=np.int64)
    return optimize(Y, graph.row.astype(np.int64), graph.col.astype(np.int64), per_sample, half, n_epochs,
                    float(a), float(b), seeds)


def optimize(Y: np.ndarray, head: np.ndarray, tail: np.ndarray, epochs_per_sample: np.ndarray, half: np.ndarray,
             n_epochs: int, a: float, b: float, seeds: np.ndarray) -> np.ndarray:
    """Lay out ``Y`` (changed in place and returned) along the edges ``head`` -> ``tail``; ``half`` (0 or 1 per
    point) splits the points between the two threads; ``seeds`` are three non-zero integers, one random stream
    for each half and one for the edges between them."""
    # each half's points side by side in memory, so that the two threads never write to one cache line
    perm = np.argsort(half, kind="stable")
    where = np.empty_like(perm)
    where[perm] = np.arange(len(perm))
    head, tail, half = where[head], where[tail], half[perm]
    inside = [np.flatnonzero((half[head] == h) & (half[tail] == h)) for h in (0, 1)]
    across = np.flatnonzero(half[head] != half[tail])
    order = np.concatenate([inside[0], inside[1], across])
    bounds = np.array([0, len(inside[0]), len(inside[0]) + len(inside[1]), len(order)], dtype=np.int64)
    Z = np.ascontiguousarray(Y[perm])
    with _ONE_AT_A_TIME:
        _epochs(Z, head[order], tail[order], epochs_per_sample[order], half, bounds, n_epochs, a, b, REPULSION,
                float(NEGATIVE_SAMPLE_RATE), np.asarray(seeds, dtype=np.uint64).copy())
    Y[perm] = Z
    return Y


@numba.njit(fastmath=True, nogil=True, cache=True)
def _clip(v):
    return 4.0 if v > 4.0 else (-4.0 if v < -4.0 else v)


@numba.njit(fastmath=True, nogil=True, cache=True)
def _xorshift(x):
    x ^= x << np.uint64(13)
    x ^= x >> np.uint64(7)
    x ^= x << np.uint64(17)
    return x


@numba.njit(fastmath=True, nogil=True, cache=True)
def _run_edges(Y, start, head, tail, next_pos, next_neg, per_sample, per_neg, lo, hi, epoch, alpha, a, b, gamma,
               half, part, state, s):
    n, dim = Y.shape
    x = state[s]  # one random stream per part, kept in a register: the parts' states share a cache line
    for i in range(lo, hi):
        if next_pos[i] > epoch:
            continue
        j, k = head[i], tail[i]
        d2 = 0.0
        for d in range(dim):
            diff = Y[j, d] - Y[k, d]
            d2 += diff * diff
        coeff = 0.0
        if d2 > 0.0:
            coeff = -2.0 * a * b * d2 ** (b - 1.0) / (a * d2 ** b + 1.0)
        for d in range(dim):
            g = _clip(coeff * (Y[j, d] - Y[k, d])) * alpha
            Y[j, d] += g
            Y[k, d] -= g
        next_pos[i] += per_sample[i]
        n_neg = int((epoch - next_neg[i]) / per_neg[i])
        for _ in range(n_neg):
            x = _xorshift(x)
            m = np.int64(x % np.uint64(n))
            if m == j:
                continue
            # a point of the other half is read as it stood when the epoch began: the other thread moves it
            src = Y if (part < 0 or half[m] == part) else start
            d2 = 0.0
            for d in range(dim):
                diff = Y[j, d] - src[m, d]
                d2 += diff * diff
            if d2 <= 0.0:
                continue
            coeff = 2.0 * gamma * b / ((0.001 + d2) * (a * d2 ** b + 1.0))
            for d in range(dim):
                Y[j, d] += _clip(coeff * (Y[j, d] - src[m, d])) * alpha
        next_neg[i] += n_neg * per_neg[i]
    state[s] = x


@numba.njit(fastmath=True, parallel=True, cache=True)
def _epochs(Y, head, tail, per_sample, half, bounds, n_epochs, a, b, gamma, rate, state):
    per_neg = per_sample / rate
    next_pos = per_sample.copy()
    next_neg = per_neg.copy()
    start = Y.copy()
    for epoch in range(n_epochs):
        alpha = 1.0 - epoch / n_epochs
        start[:] = Y
        for part in numba.prange(2):  # each half on its own thread, moving its own points only
            _run_edges(Y, start, head, tail, next_pos, next_neg, per_sample, per_neg, bounds[part],
                       bounds[part + 1], epoch, alpha, a, b, gamma, half, part, state, part)
        _run_edges(Y, start, head, tail, next_pos, next_neg, per_sample, per_neg, bounds[2], bounds[3], epoch,
                   alpha, a, b, gamma, half, -1, state, 2)
