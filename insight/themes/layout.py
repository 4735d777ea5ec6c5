"""The theme map: every item placed on a plane so that themes are islands and similar themes sit near each other.

A 2-D UMAP of all items would cost minutes at 100k and move every point when one theme changes. The map here is
linear in the items: theme centres come from classical MDS on the cosine distances between theme centroids (a few
hundred points), and each item sits inside its theme's disc, placed by the theme's own two main directions (so a
theme's sub-groups show as lobes). Unthemed items form a halo around the theme they are nearest to. Deterministic:
no randomness beyond the seed of the per-theme sample.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NO_THEME = "unthemed"
SAMPLE = 400  # members per theme used to find its two main directions


def layout(X: np.ndarray, theme_ids: Sequence[object], seed: int = 0) -> np.ndarray:
    """``(n, 2)`` positions for the rows of ``X`` (unit vectors) given each row's theme id (``unthemed``/None:
    none). Coordinates are on an arbitrary scale; only distances on the page mean anything."""
    X = np.asarray(X, dtype=np.float32)
    ids = np.array(["" if t is None or t == NO_THEME else str(t) for t in theme_ids], dtype=object)
    out = np.zeros((len(X), 2), dtype=np.float32)
    names = sorted(t for t in set(ids) if t)
    if len(X) == 0:
        return out
    if not names:  # no theme at all: the items' own two main directions
        return _project(X, X.mean(0), seed).astype(np.float32)
    index = {t: i for i, t in enumerate(names)}
    member = np.array([index.get(t, -1) for t in ids])
    C = np.stack([_unit(X[member == k].mean(0)) for k in range(len(names))])
    sizes = np.bincount(member[member >= 0], minlength=len(names)).astype(float)
    centres = _mds(C)
    radius = _radii(centres, sizes)
    rng = np.random.default_rng(seed)
    for k in range(len(names)):
        rows = np.flatnonzero(member == k)
        out[rows] = centres[k] + radius[k] * _disc(X[rows], C[k], rng)
    loose = np.flatnonzero(member < 0)
    if len(loose):  # a halo just outside the nearest theme's disc
        near = np.argmax(X[loose] @ C.T, axis=1)
        for k in np.unique(near):
            rows = loose[near == k]
            offset = _disc(X[rows], C[k], rng)
            norm = np.linalg.norm(offset, axis=1, keepdims=True)
            direction = np.where(norm > 1e-9, offset / np.maximum(norm, 1e-9), [1.0, 0.0])
            out[rows] = centres[k] + radius[k] * direction * (1.15 + 0.35 * norm)
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _mds(C: np.ndarray) -> np.ndarray:
    """Classical MDS of the centroids' cosine distances to 2-D, signs fixed so the same themes draw the same way."""
    k = len(C)
    if k == 1:
        return np.zeros((1, 2))
    D2 = np.clip(2.0 - 2.0 * (C @ C.T), 0.0, None)  # squared euclidean distance between unit vectors
    J = np.eye(k) - 1.0 / k
    B = -0.5 * J @ D2 @ J
    values, vectors = np.linalg.eigh(B)
    top = np.argsort(values)[::-1][:2]
    Y = vectors[:, top] * np.sqrt(np.clip(values[top], 1e-12, None))
    if Y.shape[1] < 2:
        Y = np.hstack([Y, np.zeros((k, 1))])
    signs = np.sign(Y[np.argmax(np.abs(Y), axis=0), range(2)])
    return Y * np.where(signs == 0, 1, signs)


def _radii(centres: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """A disc per theme, larger for larger themes, never reaching past half the way to its nearest neighbour."""
    if len(centres) == 1:
        return np.ones(1)
    d = np.linalg.norm(centres[:, None] - centres[None], axis=2)
    np.fill_diagonal(d, np.inf)
    nearest = d.min(1)
    typical = float(np.median(nearest))
    by_size = typical * 0.5 * np.sqrt(sizes / sizes.max())
    return np.maximum(np.minimum(by_size, 0.45 * nearest), typical * 0.08)


def _disc(rows: np.ndarray, centre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Offsets of ``rows`` from their centre in their own two main directions, scaled into the unit disc."""
    P = _project(rows, centre, rng)
    scale = np.percentile(np.linalg.norm(P, axis=1), 95) if len(P) > 1 else 1.0
    P = P / max(float(scale), 1e-9)
    norm = np.linalg.norm(P, axis=1, keepdims=True)
    return np.where(norm > 1, P / np.maximum(norm, 1e-9), P)


def _project(rows: np.ndarray, centre: np.ndarray, seed) -> np.ndarray:
    R = rows - centre
    if len(R) < 3:
        return np.zeros((len(R), 2))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    sample = R[rng.choice(len(R), SAMPLE, replace=False)] if len(R) > SAMPLE else R
    _, _, Vt = np.linalg.svd(sample - sample.mean(0), full_matrices=False)
    V = Vt[:2].T
    V = V * np.where(V[np.argmax(np.abs(V), axis=0), range(V.shape[1])] < 0, -1, 1)
    P = R @ V
    return P if P.shape[1] == 2 else np.hstack([P, np.zeros((len(P), 2 - P.shape[1]))])


def anchors(theme_ids: Sequence[object], xy: np.ndarray) -> dict[str, tuple[float, float, float]]:
    """Each theme's disc on an existing map: centre and radius (95th percentile of its items' distances).
    Grouped in one pass: a million held items and a thousand themes must not mean a thousand scans."""
    import pandas as pd

    # ids as categories: a million of them as Python strings cost more than the rest of the map
    ids = pd.Categorical(theme_ids)
    frame = pd.DataFrame({"t": ids, "x": np.asarray(xy, dtype=float)[:, 0],
                          "y": np.asarray(xy, dtype=float)[:, 1]}).dropna()
    frame = frame[frame["t"] != NO_THEME]
    if frame.empty:
        return {}
    frame["t"] = frame["t"].cat.remove_unused_categories().cat.rename_categories(str)
    by = frame.groupby("t", sort=True, observed=True)
    cx, cy = by["x"].transform("mean"), by["y"].transform("mean")
    reach = np.hypot(frame["x"] - cx, frame["y"] - cy).groupby(frame["t"], observed=True).quantile(0.95)
    centre = by[["x", "y"]].mean()
    return {t: (float(centre.at[t, "x"]), float(centre.at[t, "y"]), float(reach[t])) for t in centre.index}


def place(X: np.ndarray | None, theme_ids: Sequence[object], item_keys: Sequence[str],
          discs: dict[str, tuple[float, float, float]], centroids: dict[str, np.ndarray]) -> np.ndarray:
    """Positions for items joining a map that is already drawn (a weekly run's new items, or items that moved
    theme): inside their theme's disc, by their own two main directions when ``X`` is given, else at a spot fixed
    by their id. A theme the map has no disc for yet sits beside the drawn theme its centroid is nearest to;
    unthemed items join the halo of the nearest theme. Items already on the map never move."""
    n = len(theme_ids)
    out = np.full((n, 2), np.nan, dtype=np.float32)
    if not discs or n == 0:
        return out
    typical = float(np.median([r for *_, r in discs.values()])) or 1.0
    drawn = [t for t in discs if t in centroids]
    C = np.stack([_unit(np.asarray(centroids[t], dtype=np.float32)) for t in drawn]) if drawn else None
    ids = ["" if t is None or t == NO_THEME else str(t) for t in theme_ids]
    placed = dict(discs)
    for t in sorted(set(ids) - set(placed) - {""}):  # new themes: beside their nearest drawn theme
        near = drawn[int(np.argmax(C @ _unit(np.asarray(centroids[t], dtype=np.float32))))] \
            if C is not None and t in centroids else sorted(discs)[0]
        cx, cy, r = discs[near]
        angle = _spot(t) * 2 * np.pi
        placed[t] = (cx + np.cos(angle) * (r + typical) * 1.6, cy + np.sin(angle) * (r + typical) * 1.6, typical)
    groups: dict[str, list[int]] = {}
    for i, t in enumerate(ids):
        groups.setdefault(t, []).append(i)
    for t, members in groups.items():
        at = np.array(members)
        if t == "":
            if C is None or X is None:
                continue
            near = np.argmax(X[at] @ C.T, axis=1)
            for k in np.unique(near):
                sub = at[near == k]
                cx, cy, r = discs[drawn[k]]
                angle = np.array([_spot(item_keys[i]) for i in sub]) * 2 * np.pi
                out[sub] = np.c_[cx + np.cos(angle) * r * 1.3, cy + np.sin(angle) * r * 1.3]
            continue
        cx, cy, r = placed[t]
        if X is not None and t in centroids and len(at) >= 3:
            offset = _disc(X[at], _unit(np.asarray(centroids[t], dtype=np.float32)), np.random.default_rng(0))
        else:  # a spot in the disc fixed by the item's id
            angle = np.array([_spot(item_keys[i]) for i in at]) * 2 * np.pi
            reach = np.sqrt(np.array([_spot(item_keys[i][::-1]) for i in at]))
            offset = np.c_[np.cos(angle) * reach, np.sin(angle) * reach]
        out[at] = np.c_[cx + r * offset[:, 0], cy + r * offset[:, 1]]
    return out


def _spot(key: str) -> float:
    """A number in [0, 1) fixed by ``key``: the same item lands on the same spot in every run."""
    import zlib

    return (zlib.crc32(key.encode()) % 10_000) / 10_000
