"""Themes stage: discover themes (or assign to registered ones), give them stable ids, describe them.

One function for the pipeline (``find_themes``) and one for evaluation (``discover``), so the themes that are
measured are the themes that are shipped.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..config import ThemesConfig
from ..roles import Clusterer
from ..schema import NOISE, UNTHEMED
from .describe import cause_problem_labels, describe_themes, drop_rare_words, subthemes, theme_key
from .registry import Registry, incremental_assign, match, merge, sticky


@dataclass
class Discovery:
    """Per-item stable theme ids, the local labels they came from, the updated registry and its events."""

    ids: list[str]
    labels: np.ndarray
    stable: list[str]  # local theme number -> stable id
    registry: Registry
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Themes:
    """What the themes stage hands on: per-item theme, similarity and sub-theme; the theme table; the registry."""

    ids: list[str]
    similarity: np.ndarray
    subtheme_ids: list[str]
    table: pd.DataFrame
    registry: Registry
    events: list[dict[str, Any]]


def discover(X: np.ndarray, keys: list[str], clusterer: Clusterer, registry: Registry | None = None,
             previous: dict[str, str] | None = None) -> Discovery:
    """Cluster, match the themes to the registry, keep borderline items where they were (hysteresis)."""
    registry = registry or Registry()
    previous = previous or {}
    labels = clusterer.fit_predict(X)
    sizes = np.bincount(labels[labels >= 0], minlength=len(clusterer.centroids_)).tolist()
    # labels are written into the registry by find_themes, once the final themes are described
    stable, events, new_registry = match(registry, clusterer.centroids_, labels, keys, previous, sizes,
                                         [""] * len(sizes))
    labels = sticky(labels, X, clusterer.centroids_, stable, keys, previous)
    ids = [stable[c] if c != NOISE else UNTHEMED for c in labels]
    return Discovery(ids=ids, labels=labels, stable=stable, registry=new_registry, events=events)


def find_themes(texts: list[str], X: np.ndarray, keys: list[str], clusterer: Clusterer, cfg: ThemesConfig, *,
                registry: Registry | None = None, previous: dict[str, str] | None = None, seed: int = 42,
                display_texts: list[str] | None = None, complaints: list[bool] | None = None,
                voices: list[object] | None = None) -> Themes:
    """Discover (or, in ``assign`` mode with registered themes, only assign), describe, split into sub-themes.

    ``registry`` and ``previous`` (each item's theme id in the last run) make theme ids stable across runs.
    Keywords and labels come from ``texts`` (what the models read); examples quote ``display_texts`` (what the
    customer wrote, as stored) when given; ``complaints`` (the unhappy items) gives each theme a problem label.
    ``voices`` (each item's customer) keeps words fewer than ``cfg.min_voices`` customers used out of every name.
    """
    with _cycle_collector_paused():
        return _find_themes(texts, X, keys, clusterer, cfg, registry, previous, seed, display_texts, complaints,
                            voices)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Describing themes makes millions of small sets, lists and strings that never form reference cycles, and
    Python's cycle collector kept walking them (and everything the process holds): 5 % of the stage at 20,000
    texts. They are freed by reference counting as before; the collector resumes, as it was, at the end."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _find_themes(texts: list[str], X: np.ndarray, keys: list[str], clusterer: Clusterer, cfg: ThemesConfig,
                 registry: Registry | None, previous: dict[str, str] | None, seed: int,
                 display_texts: list[str] | None, complaints: list[bool] | None, voices: list[object] | None
                 ) -> Themes:
    display_texts = display_texts if display_texts is not None else texts
    # one customer's words never name a theme; each text's words are found once here, for every step
    texts, words = drop_rare_words(texts, voices, cfg.min_voices)
    registry = registry or Registry()
    previous = previous or {}
    if cfg.mode == "assign" and registry.active().any():
        ids, sims, table, events = _assign(texts, X, keys, registry, previous, cfg, display_texts, complaints,
                                           words)
        new_registry = registry
    else:
        found = discover(X, keys, clusterer, registry, previous)
        ids, events, new_registry = found.ids, found.events, found.registry
        sims = clusterer.similarity(X, found.labels)
        table = describe_themes(texts, X, found.labels, clusterer.centroids_, cfg.n_keywords, cfg.n_examples,
                                cfg.key_phrases, display_texts=display_texts, complaints=complaints, words=words)
        to_stable = {theme_key(c): found.stable[c] for c in range(len(found.stable))}
        table["theme_id"] = [to_stable[i] for i in table["theme_id"]]
        _reviewers_names_win(table, new_registry)
        for tid, lab in zip(table["theme_id"], table["label"]):
            new_registry.labels[new_registry.ids.index(tid)] = lab
    sub_ids, parts = subthemes(texts, X, ids, seed=seed, words=words, complaints=complaints)
    table["subthemes"] = table["theme_id"].map(lambda t: parts.get(t, []))
    return Themes(ids=ids, similarity=np.asarray(sims), subtheme_ids=sub_ids, table=table, registry=new_registry,
                  events=events)


def _assign(texts: list[str], X: np.ndarray, keys: list[str], registry: Registry, previous: dict[str, str],
            cfg: ThemesConfig, display_texts: list[str] | None = None, complaints: list[bool] | None = None,
            words: list[list[str]] | None = None) -> tuple[list[str], np.ndarray, pd.DataFrame, list[dict[str, Any]]]:
    """The weekly path without reclustering: registered themes keep their ids, labels and centroids."""
    ids, sims = incremental_assign(X, keys, registry, previous, cfg.assign_threshold)
    present = set(ids)
    order = [i for i in registry.ids if i in present]
    local = np.array([order.index(i) if i != UNTHEMED else NOISE for i in ids])
    centroids = registry.centroids[[registry.ids.index(i) for i in order]] if order else \
        np.zeros((0, X.shape[1]), dtype=np.float32)
    table = describe_themes(texts, X, local, centroids, cfg.n_keywords, cfg.n_examples, cfg.key_phrases,
                            display_texts=display_texts, complaints=complaints, words=words)
    table["theme_id"] = order
    table["label"] = [registry.labels[registry.ids.index(i)] for i in order]
    _reviewers_names_win(table, registry)
    return ids, np.asarray(sims), table, [{"event": "assigned", "items": len(ids)}]


def _reviewers_names_win(table: pd.DataFrame, registry: Registry) -> None:
    """A theme a reviewer renamed is called by that name everywhere, its actions' titles included."""
    for column in ("label", "problem_label"):
        table[column] = [registry.pinned_labels.get(t, x) for t, x in zip(table["theme_id"], table[column])]


def name_by_cause(found: Themes, texts: list[str], complaints: list[bool], causes: list[str], cfg: ThemesConfig,
                  voices: list[object] | None = None) -> Themes:
    """``found`` with each mixed theme's problem label read from the complaints of its own cause
    (``describe.cause_problem_labels``): a theme's causes are known only once its items are tagged, after it was
    described. ``texts``, ``complaints``, ``causes`` and ``voices`` are per item, in ``found.ids``' order; a theme
    a reviewer renamed keeps that name."""
    named = cause_problem_labels(texts, found.ids, complaints, causes, cfg.n_keywords, voices, cfg.min_voices,
                                 names=dict(zip(found.table["theme_id"], found.table["label"])))
    if not named:
        return found
    table = found.table.copy()
    table["problem_label"] = [named.get(t, p) for t, p in zip(table["theme_id"], table["problem_label"])]
    _reviewers_names_win(table, found.registry)
    return replace(found, table=table)


# an uncentred cosine this high, with centred centroids nearly close enough, is one theme; a little under 0.9 so
# that two estimates of the same centroid (the discovery sample's and the members' mean: 0.902 and 0.897 for two
# CSAT "customer care" themes) do not land on either side of it
RAW_CLOSE = 0.88


def merge_same_cause(found: Themes, X: np.ndarray, causes: list[str], threshold: float | None = 0.8) -> Themes:
    """Fold near-duplicate themes into one: the same root cause and centroids at cosine ``threshold`` or more, or
    ``threshold - 0.1`` or more with the same label or a raw (uncentred) cosine of ``RAW_CLOSE`` ("Issue is not
    resolved" and "Issue not resolved", two "Solve my problem" themes: one problem with one owner).

    Centroids are compared after taking away the mean of all items: in one shop's feedback every centroid leans
    the same way (all clothing reviews are about clothes), so raw centroid cosines of distinct themes ("dress
    fit" and "dress fabric") sit at 0.9-0.95 and a raw threshold would chain them into one blob; centred, they are
    0.3-0.7 apart while true near-copies stay above 0.8. The closest pair is merged first and centroids are
    recomputed, until no such pair is left. The larger theme keeps its id, label and examples; the smaller
    becomes one of its sub-themes, its id retired in the registry as ``merged`` with the reason in the events.
    ``causes`` is each stored item's root cause, in order.
    """
    themed = [t for t in dict.fromkeys(found.ids) if t != UNTHEMED]
    if threshold is None or len(themed) < 2:
        return found
    ids = np.array(found.ids, dtype=object)
    causes_arr = np.array(causes, dtype=object)
    members = {t: np.flatnonzero(ids == t) for t in themed}

    centre = X.mean(axis=0)

    def unit(c: np.ndarray) -> np.ndarray:
        return c / max(float(np.linalg.norm(c)), 1e-12)

    def centroid(rows: np.ndarray) -> np.ndarray:  # centred: what sets this theme apart from the shop's feedback
        return unit(X[rows].mean(axis=0) - centre)

    def cause(rows: np.ndarray) -> str:
        values, counts = np.unique(causes_arr[rows].astype(str), return_counts=True)
        return str(values[np.argmax(counts)])

    means = {t: unit(X[r].mean(axis=0)) for t, r in members.items()}  # raw (uncentred) unit centroids
    cents = {t: centroid(r) for t, r in members.items()}
    named = {t: str(lab).strip().lower() for t, lab in zip(found.table["theme_id"], found.table["label"])}
    main = {t: cause(r) for t, r in members.items()}
    absorbed: dict[str, list[str]] = {}
    events = []
    while True:
        alive = sorted(members, key=lambda t: (-len(members[t]), t))
        C = np.stack([cents[t] for t in alive])
        R = np.stack([means[t] for t in alive])
        sims, raw = C @ C.T, R @ R.T
        best, pair = -1.0, None
        for i in range(len(alive)):
            for j in range(i + 1, len(alive)):
                a, b = alive[i], alive[j]
                near = sims[i, j] >= threshold - 0.1
                close = sims[i, j] >= threshold or near and (named.get(a) == named.get(b) or raw[i, j] >= RAW_CLOSE)
                if close and main[a] == main[b] and sims[i, j] > best:
                    best, pair = float(sims[i, j]), (a, b)
        if pair is None:
            break
        head, tail = pair  # alive is largest first: the head is the larger theme
        members[head] = np.concatenate([members[head], members.pop(tail)])
        means[head], cents[head], main[head] = unit(X[members[head]].mean(axis=0)), centroid(members[head]), \
            cause(members[head])
        del means[tail]
        absorbed.setdefault(head, []).extend([tail, *absorbed.pop(tail, [])])
        events.append({"event": "merged", "theme_id": head, "from": [tail], "by": "pipeline",
                       "reason": f"same root cause ({main[head]}), centred centroid cosine {best:.2f}"})
    if not events:
        return found
    into = {t: head for head, tails in absorbed.items() for t in tails}
    new_ids = [into.get(t, t) for t in found.ids]
    registry = found.registry
    for head, tails in absorbed.items():  # the registry's own merge: tails retired, the head's centroid recomputed
        if all(t in registry.ids for t in [head, *tails]):
            merge(registry, tails, head, X, ids)
    sims = found.similarity.astype(float).copy()
    subs = list(found.subtheme_ids)
    table = found.table.copy()
    labels = dict(zip(table["theme_id"], table["label"]))
    parts = dict(zip(table["theme_id"], table["subthemes"])) if "subthemes" in table else {}
    for head, tails in absorbed.items():
        rows = members[head]
        sims[rows] = X[rows] @ means[head]
        extra = list(parts.get(head, []))
        for tail in tails:
            sub = f"{head}.{len(extra) + 1}"
            extra.append({"id": sub, "label": labels.get(tail, tail), "size": int((ids == tail).sum())})
            for r in np.flatnonzero(ids == tail):
                subs[r] = sub
        parts[head] = extra
    table = table[~table["theme_id"].isin(into)].copy()
    table["size"] = table["theme_id"].map(lambda t: len(members[t]) if t in members else 0)
    if "subthemes" in table:
        table["subthemes"] = table["theme_id"].map(lambda t: parts.get(t, []))
    return Themes(ids=new_ids, similarity=sims, subtheme_ids=subs, table=table.reset_index(drop=True),
                  registry=registry, events=[*found.events, *events])
