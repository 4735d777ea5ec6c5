"""The two-thread UMAP layout: the same layout whatever the threads do, and a layout that keeps planted groups."""

import numpy as np
import pytest

pytest.importorskip("umap")


def blobs(n_per: int = 120, groups: int = 4, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, dim))
    X = np.vstack([c + 0.35 * rng.normal(size=(n_per, dim)) for c in centres]).astype(np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True), np.repeat(np.arange(groups), n_per)


def test_the_layout_is_the_same_on_one_thread_or_two_and_run_after_run():
    import numba

    from insight.themes.discovery import exact_neighbours
    from insight.themes.layout_sgd import umap_layout

    X, _ = blobs()
    knn = exact_neighbours(X, 15)
    first = umap_layout(X, *knn, n_components=5, n_epochs=60, seed=7)
    again = umap_layout(X, *knn, n_components=5, n_epochs=60, seed=7)
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        alone = umap_layout(X, *knn, n_components=5, n_epochs=60, seed=7)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(first, again) and np.array_equal(first, alone)
    other = umap_layout(X, *knn, n_components=5, n_epochs=60, seed=8)
    assert not np.array_equal(first, other)  # the seed is what fixes it


def test_the_layout_keeps_planted_groups_apart():
    from insight.themes.discovery import exact_neighbours
    from insight.themes.layout_sgd import umap_layout

    X, y = blobs()
    Z = umap_layout(X, *exact_neighbours(X, 15), n_components=5, n_epochs=60, seed=7)
    assert Z.shape == (len(X), 5) and np.isfinite(Z).all()
    d = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1)[:, :10]
    assert (y[nearest] == y[:, None]).mean() > 0.95  # each point's nearest ten in the layout share its group
    centres = np.array([Z[y == g].mean(0) for g in range(4)])
    spread = max(np.linalg.norm(Z[y == g] - centres[g], axis=1).mean() for g in range(4))
    gaps = min(np.linalg.norm(centres[g] - centres[h]) for g in range(4) for h in range(g + 1, 4))
    assert gaps > 2 * spread  # groups sit apart, not merely ordered
