"""Adapting the zero-shot tagger to the shop's own feedback without labels: neighbour smoothing over the batch.

A remark's nearest neighbours in the same batch usually share its problem, and the batch is the best picture of
how this shop's customers write. So each remark's cause probabilities are blended with the similarity-weighted
mean of its ``k`` nearest neighbours' (``weight`` of them). Measured in ``docs/evaluation.md`` (root causes),
with and without, next to prototype refinement (confident remarks of the batch joining their cause's
prototypes), which made things worse and is not offered.
"""

from __future__ import annotations

import numpy as np

CHUNK = 4096  # rows of the similarity matrix held at once: memory stays O(CHUNK x N)


def batch_smooth(proba: np.ndarray, X: np.ndarray, k: int = 10, weight: float = 0.2) -> np.ndarray:
    """``proba`` blended with its rows' ``k`` nearest neighbours (cosine over unit ``X``, self excluded)."""
    n = len(proba)
    if not k or not weight or n <= k:
        return proba
    X = np.asarray(X, dtype=np.float32)
    mixed = np.empty_like(proba)
    for start in range(0, n, CHUNK):
        rows = np.arange(start, min(start + CHUNK, n))
        sims = X[rows] @ X.T
        sims[np.arange(len(rows)), rows] = -np.inf
        nearest = np.argpartition(-sims, k, axis=1)[:, :k]
        w = np.clip(np.take_along_axis(sims, nearest, axis=1), 0, None)
        w /= np.maximum(w.sum(axis=1, keepdims=True), 1e-9)
        mixed[rows] = (proba[nearest] * w[..., None]).sum(axis=1)
    return (1 - weight) * proba + weight * mixed
