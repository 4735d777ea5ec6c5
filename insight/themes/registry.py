"""The theme registry: stable theme ids across runs, the events that explain changes, and reviewers' edits.

HDBSCAN's label numbers mean nothing from one run to the next; reviewers annotate themes, so themes need ids
that survive. Each run's themes are matched to the registered ones by an optimal assignment (Hungarian) on a
score mixing centroid cosine and member overlap (items seen in both runs); without shared items only a
near-identical centroid keeps an id, so unrelated feedback never inherits ids. A matched theme keeps its id
(``persisted``, or ``drifted`` when its centroid moved); an old theme whose members now sit mostly in several
new themes ``split``; a new theme holding large parts of several old ones is a ``merged`` theme; the rest are
``born`` or ``died``. Borderline old items keep their previous theme when it still exists and fits them almost
as well (hysteresis), so rediscovery does not reshuffle reviewers' work. Pure functions: the store persists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ReviewError
from ..schema import NOISE, UNTHEMED, reviewer_fields
from .forget import renamed


@dataclass
class Registry:
    """Registered themes: ids, labels, unit centroids, and the label a reviewer gave (which wins)."""

    ids: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    centroids: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    status: list[str] = field(default_factory=list)  # active | dead | merged
    pinned_labels: dict[str, str] = field(default_factory=dict)  # reviewer renames
    counter: int = 0
    # what the store held when this registry was read (theme id -> pinned label and status): at publish, a theme
    # whose row changed since then was edited by a reviewer while the run worked, and that edit wins
    loaded: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def active(self) -> np.ndarray:
        return np.array([s == "active" for s in self.status], dtype=bool)

    def new_id(self) -> str:
        self.counter += 1
        return f"TH{self.counter:04d}"

    def to_records(self) -> list[dict[str, Any]]:
        return [{"theme_id": i, "label": lab, "status": st, "centroid": c.round(6).tolist(),
                 "pinned_label": self.pinned_labels.get(i)}
                for i, lab, st, c in zip(self.ids, self.labels, self.status, self.centroids)]

    @classmethod
    def from_records(cls, rows: list[dict[str, Any]], counter: int = 0) -> Registry:
        """The registry of ``rows``; new ids continue above ``counter`` (the highest number used anywhere in the
        store), so theme ids never repeat across workspaces."""
        if not rows:
            return cls(counter=counter)
        rows = sorted(rows, key=lambda r: r["theme_id"])
        reg = cls(ids=[r["theme_id"] for r in rows], labels=[r["label"] for r in rows],
                  centroids=np.array([r["centroid"] for r in rows], dtype=np.float32),
                  status=[r["status"] for r in rows],
                  pinned_labels={r["theme_id"]: r["pinned_label"] for r in rows if r.get("pinned_label")})
        reg.counter = max([counter, *(int(i[2:]) for i in reg.ids if i[2:].isdigit())])
        reg.loaded = {r["theme_id"]: reviewer_fields(r) for r in rows}
        return reg



def _unit(X: np.ndarray) -> np.ndarray:
    return (X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def match(registry: Registry, centroids: np.ndarray, labels: np.ndarray, item_keys: list[str],
          previous: dict[str, str], sizes: list[int], new_labels: list[str], *, min_score: float = 0.45,
          drift_below: float = 0.9, share: float = 0.3, min_cosine_alone: float = 0.85
          ) -> tuple[list[str], list[dict[str, Any]], Registry]:
    """Stable ids for this run's themes (in their order), the events, and the updated registry.

    ``labels`` are this run's local theme numbers per item, ``item_keys`` the items' ids, ``previous`` the
    stable theme id each item had in the last run. A theme keeps a registered id only on real evidence: items it
    shares with that theme, or, with no shared item, a centroid cosine of at least ``min_cosine_alone`` (feedback
    about other things sits at 0.45-0.8 and must not inherit ids, and the reviewers' decisions attached to them).
    """
    reg = Registry(list(registry.ids), list(registry.labels), registry.centroids.copy(), list(registry.status),
                   dict(registry.pinned_labels), registry.counter, dict(registry.loaded))
    k = len(centroids)
    old = np.flatnonzero(reg.active()) if len(reg.ids) else np.array([], dtype=int)
    events: list[dict[str, Any]] = []
    # member overlap: for each (old, new) pair, how many shared items moved from old to new
    overlap = np.zeros((len(old), k))
    old_pos = {reg.ids[o]: n for n, o in enumerate(old)}
    old_size = np.zeros(len(old))
    new_size = np.zeros(k)
    for key, lab in zip(item_keys, labels):
        prev = previous.get(key)
        if prev in old_pos:
            old_size[old_pos[prev]] += 1
            if lab != NOISE:
                overlap[old_pos[prev], lab] += 1
        if lab != NOISE and prev is not None:
            new_size[lab] += 1
    cos = reg.centroids[old] @ centroids.T if len(old) and k else np.zeros((len(old), k))
    frac = overlap / np.maximum(np.minimum(old_size[:, None], new_size[None, :]), 1)
    has_overlap = (old_size[:, None] > 0) & (new_size[None, :] > 0)
    score = np.where(has_overlap, 0.5 * cos + 0.5 * frac, cos)
    ids: list[str | None] = [None] * k
    if len(old) and k:
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(-score)
        for r, c in zip(rows, cols):
            if score[r, c] >= min_score and (overlap[r, c] > 0 or cos[r, c] >= min_cosine_alone):
                tid = reg.ids[old[r]]
                ids[c] = tid
                events.append({"event": "drifted" if cos[r, c] < drift_below else "persisted", "theme_id": tid,
                               "score": round(float(score[r, c]), 3), "cosine": round(float(cos[r, c]), 3)})
    matched_old = {i for i in ids if i}
    # splits: an old theme with big shares in several new themes
    for n, o in enumerate(old):
        parts = [c for c in range(k) if old_size[n] and overlap[n, c] / old_size[n] >= share]
        if len(parts) >= 2:
            for c in parts:
                if ids[c] is None:
                    ids[c] = reg.new_id()
            events.append({"event": "split", "theme_id": reg.ids[o], "into": [ids[c] for c in parts]})
    # merges: a new theme holding big shares of several old themes
    for c in range(k):
        parts = [n for n in range(len(old)) if old_size[n] and overlap[n, c] / old_size[n] >= share]
        if len(parts) >= 2:
            if ids[c] is None:
                ids[c] = reg.new_id()
            absorbed = [reg.ids[old[n]] for n in parts if reg.ids[old[n]] != ids[c]]
            events.append({"event": "merged", "theme_id": ids[c], "from": absorbed})
            for tid in absorbed:
                if tid not in matched_old:
                    matched_old.add(tid)
                    reg.status[reg.ids.index(tid)] = "merged"
    for c in sorted(range(k), key=lambda c: (-sizes[c], c)):  # births get ids biggest first: deterministic
        if ids[c] is None:
            ids[c] = reg.new_id()
            events.append({"event": "born", "theme_id": ids[c], "size": int(sizes[c])})
    for o in old:
        tid = reg.ids[o]
        if tid not in matched_old and reg.status[o] == "active":
            reg.status[o] = "dead"
            events.append({"event": "died", "theme_id": tid})
    # write this run's themes into the registry
    for c, tid in enumerate(ids):
        if tid in reg.ids:
            j = reg.ids.index(tid)
            reg.centroids[j] = centroids[c]
            reg.labels[j] = new_labels[c]
            reg.status[j] = "active"
        else:
            reg.ids.append(tid)
            reg.labels.append(new_labels[c])
            reg.status.append("active")
            reg.centroids = np.vstack([reg.centroids.reshape(-1, centroids.shape[1]), centroids[c:c + 1]])
    return [str(i) for i in ids], events, reg


def sticky(labels: np.ndarray, X: np.ndarray, centroids: np.ndarray, stable_ids: list[str], item_keys: list[str],
           previous: dict[str, str], margin: float = 0.25) -> np.ndarray:
    """Keep an item in its previous theme when that theme still exists and fits it almost as well as the best."""
    out = labels.copy()
    pos = {tid: c for c, tid in enumerate(stable_ids)}
    if not len(centroids):
        return out
    sims = X @ centroids.T
    for i, key in enumerate(item_keys):
        prev = previous.get(key)
        if prev in pos and labels[i] != NOISE:
            p = pos[prev]
            if p != labels[i] and sims[i, p] >= sims[i, labels[i]] - margin:
                out[i] = p
    return out


def assign_to_registry(X: np.ndarray, registry: Registry, threshold: float) -> tuple[list[str], np.ndarray]:
    """Incremental assignment: each new item to the nearest active registered theme, or unthemed."""
    act = np.flatnonzero(registry.active())
    if not len(act) or not len(X):
        return [UNTHEMED] * len(X), np.zeros(len(X), dtype=np.float32)
    sims = np.asarray(X, dtype=np.float32) @ registry.centroids[act].T
    best = sims.argmax(axis=1)
    top = sims[np.arange(len(X)), best]
    return [registry.ids[act[b]] if s >= threshold else UNTHEMED for b, s in zip(best, top)], top


# ---------------------------------------------------------------- reviewers' edits (each returns an event)

def rename(registry: Registry, theme_id: str, label: str) -> dict[str, Any]:
    _check(registry, theme_id)
    registry.pinned_labels[theme_id] = label
    registry.labels[registry.ids.index(theme_id)] = label
    return {"event": "renamed", "theme_id": theme_id, "label": label}


def merge(registry: Registry, theme_ids: list[str], into: str, X: np.ndarray, members: np.ndarray
          ) -> dict[str, Any]:
    """Fold themes into ``into``; ``X``/``members`` are the embeddings and stable ids of their items."""
    for t in [*theme_ids, into]:
        _check(registry, t)
    mask = np.isin(members, [*theme_ids, into])
    j = registry.ids.index(into)
    if mask.any():
        registry.centroids[j] = _unit(X[mask].mean(axis=0, keepdims=True))[0]
    for t in theme_ids:
        if t != into:
            registry.status[registry.ids.index(t)] = "merged"
    return {"event": "merged", "theme_id": into, "from": [t for t in theme_ids if t != into], "by": "reviewer"}


def split(registry: Registry, theme_id: str, X: np.ndarray, k: int = 2, seeds: np.ndarray | None = None,
          random_state: int = 0) -> tuple[dict[str, Any], np.ndarray, list[str]]:
    """Split a theme's items ``X`` into ``k`` parts (k-means) or around seed vectors; the largest part keeps
    the id. Returns the event, each item's new part and the ids of the parts."""
    _check(registry, theme_id)
    if seeds is not None and len(seeds):
        part = (np.asarray(X) @ _unit(np.asarray(seeds, dtype=np.float32)).T).argmax(axis=1)
        k = len(seeds)
    else:
        from sklearn.cluster import KMeans

        part = KMeans(k, n_init=4, random_state=random_state).fit_predict(X)
    sizes = np.bincount(part, minlength=k)
    order = np.argsort(-sizes, kind="stable")
    ids = [""] * k
    ids[order[0]] = theme_id
    for c in order[1:]:
        ids[c] = registry.new_id()
        registry.ids.append(ids[c])
        registry.labels.append(f"{registry.labels[registry.ids.index(theme_id)]} ({len(registry.ids)})")
        registry.status.append("active")
        registry.centroids = np.vstack([registry.centroids, _unit(X[part == c].mean(axis=0, keepdims=True))])
    registry.centroids[registry.ids.index(theme_id)] = _unit(X[part == order[0]].mean(axis=0, keepdims=True))[0]
    return {"event": "split", "theme_id": theme_id, "into": ids, "by": "reviewer"}, part, ids


def move(registry: Registry, item_ids: list[str], to: str) -> dict[str, Any]:
    """Reviewers move items: recorded as labelled examples for the next run."""
    _check(registry, to)
    return {"event": "moved", "theme_id": to, "items": list(item_ids), "by": "reviewer"}


def _check(registry: Registry, theme_id: str) -> None:
    if theme_id not in registry.ids:
        raise ReviewError(f"unknown theme {theme_id!r}; registered: {', '.join(registry.ids[:10])}...",
                           code="E700")


def incremental_assign(X: np.ndarray, keys: list[str], registry: Registry, previous: dict[str, str],
                       threshold: float) -> tuple[list[str], np.ndarray]:
    """The weekly job without reclustering: items seen before keep their theme while it is active; new items
    go to the nearest active theme (or stay unthemed)."""
    ids, sims = assign_to_registry(X, registry, threshold)
    active = {t for t, st in zip(registry.ids, registry.status) if st == "active"}
    kept = [previous[k] if previous.get(k) in active else i for k, i in zip(keys, ids)]
    return kept, sims


def absorb(registry: Registry, found: Registry) -> list[str]:
    """Register the active themes of ``found`` (discovered among items no registered theme fits) in
    ``registry``; ``found`` drew its ids above ``registry``'s counter, so none repeats. Returns their ids."""
    added = []
    for j, tid in enumerate(found.ids):
        if found.status[j] != "active" or tid in registry.ids:
            continue
        registry.ids.append(tid)
        registry.labels.append(found.labels[j])
        registry.status.append("active")
        row = found.centroids[j:j + 1]
        registry.centroids = row.copy() if not registry.centroids.size else np.vstack([registry.centroids, row])
        added.append(tid)
    registry.counter = max(registry.counter, found.counter)
    return added


def _retitled(title: str, old_names: list[str], name: str, explanation: object) -> str:
    """An action's title under its theme's new name; a pocket's title names its own part, not the theme."""
    if isinstance(explanation, dict) and explanation.get("subtheme"):
        return title
    return renamed(title, {n: name for n in old_names if n != name})


def show_pinned_names(table: pd.DataFrame, actions: pd.DataFrame, pinned: dict[str, str]
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stored run's themes and actions under the names reviewers gave since (a rename shows at once, in every
    run), action titles included."""
    if not pinned:
        return table, actions
    table = table.copy()
    # each theme's old names: its label, and the problem label its action's title may go by instead
    old = {t: [n for n in names if isinstance(n, str) and n] for t, *names in zip(
        table["theme_id"], table["label"], table.get("problem_label", table["label"]))} if len(table) else {}
    hit = table["theme_id"].isin(list(pinned)) if len(table) else pd.Series(dtype=bool)
    if len(table):
        table.loc[hit, "label"] = table.loc[hit, "theme_id"].map(pinned)
    if len(actions):
        actions = actions.copy()
        touched = actions["theme_id"].isin(list(pinned))
        actions.loc[touched, "theme_label"] = actions.loc[touched, "theme_id"].map(pinned)
        whys = actions["explanation"] if "explanation" in actions else pd.Series(None, index=actions.index)
        actions.loc[touched, "title"] = [_retitled(title, old.get(t, []), pinned[t], why) for t, title, why in zip(
            actions.loc[touched, "theme_id"], actions.loc[touched, "title"], whys[touched])]
    return table, actions
