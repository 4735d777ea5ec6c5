"""Theme quality and stability on labelled data: NMI/ARI against gold labels, and whether theme ids survive.

Composition layer: the themes are found by the same ``themes.discover`` the pipeline runs, on texts prepared and
embedded as the pipeline prepares and embeds them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import assembly, themes
from ..config import Config, load_config
from .tagging import prepare


def _vectors(test: pd.DataFrame, cfg: Config) -> np.ndarray:
    encode = assembly.encoder(cfg, assembly.embedder(cfg))
    return encode(prepare(test["text"].tolist(), cfg))


def _discover(X: np.ndarray, keys: list[str], cfg: Config, registry: themes.Registry | None = None,
              previous: dict[str, str] | None = None) -> tuple[list[str], np.ndarray, themes.Registry, list]:
    found = themes.discover(X, keys, assembly.clusterer(cfg), registry, previous)
    return found.ids, found.labels, found.registry, found.events


def eval_themes(test: pd.DataFrame, config: Config | None = None) -> dict[str, Any]:
    """NMI and ARI of the discovered themes against gold labels, the unthemed share and the theme count."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    cfg = config or load_config()
    X = _vectors(test, cfg)
    _, labels, _, _ = _discover(X, [str(i) for i in range(len(X))], cfg)
    y = test["label"].to_numpy()
    return {"n": int(len(X)), "nmi": round(float(normalized_mutual_info_score(y, labels)), 4),
            "ari": round(float(adjusted_rand_score(y, labels)), 4),
            "noise_share": round(float((labels < 0).mean()), 4), "n_themes": int(len(set(labels[labels >= 0]))),
            "n_gold_labels": int(len(set(y)))}


def eval_stability(test: pd.DataFrame, config: Config | None = None, new_share: float = 0.1, seed: int = 0
                   ) -> dict[str, Any]:
    """Do theme ids survive? (1) the same items shuffled; (2) 10 % new items added, with full rediscovery
    matched to the registry, and with incremental assignment (no reclustering)."""
    from sklearn.metrics import normalized_mutual_info_score

    cfg = config or load_config()
    X = _vectors(test, cfg)
    keys = [f"item{i}" for i in range(len(X))]
    rng = np.random.default_rng(seed)
    ids, _, reg, _ = _discover(X, keys, cfg)
    perm = rng.permutation(len(X))
    ids_shuffled, _, _, _ = _discover(X[perm], [keys[i] for i in perm], cfg, reg, dict(zip(keys, ids)))
    back = dict(zip([keys[i] for i in perm], ids_shuffled))
    shuffled_same = float(np.mean([back[k] == i for k, i in zip(keys, ids)]))

    new = rng.random(len(X)) < new_share
    old_idx = np.flatnonzero(~new)
    old_keys = [keys[i] for i in old_idx]
    ids_old, _, reg_old, _ = _discover(X[old_idx], old_keys, cfg)
    previous = dict(zip(old_keys, ids_old))
    ids_all, labels_all, _, events = _discover(X, keys, cfg, reg_old, previous)
    after = dict(zip(keys, ids_all))
    kept = float(np.mean([after[k] == previous[k] for k in old_keys]))
    # incremental mode (themes.mode: assign): the weekly job's own function, no reclustering
    assigned_all, _ = themes.incremental_assign(X, keys, reg_old, previous, cfg.themes.assign_threshold)
    by_key = dict(zip(keys, assigned_all))
    kept_incremental = float(np.mean([by_key[k] == previous[k] for k in old_keys]))
    assigned = [by_key[keys[i]] for i in np.flatnonzero(new)]
    return {"n": int(len(X)), "shuffled_same_id_share": round(shuffled_same, 4),
            "new_items": int(new.sum()), "old_items_keeping_id_rediscovery": round(kept, 4),
            "old_items_keeping_id_incremental": round(kept_incremental, 4),
            "new_items_assigned_incremental": round(float(np.mean([a != "unthemed" for a in assigned])), 4),
            "rediscovery_events": {k: int(v) for k, v in
                                   pd.Series([e["event"] for e in events]).value_counts().items()},
            **({"nmi_after_rediscovery": round(float(normalized_mutual_info_score(test["label"], labels_all)), 4)}
               if "label" in test.columns else {})}
