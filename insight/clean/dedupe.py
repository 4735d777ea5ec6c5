"""Duplicates: repeated records, the same words from the same customer, and near-duplicates by embedding.

The first item seen is canonical; a duplicate keeps its row, points at the canonical item (``duplicate_of``) and
the canonical item counts its members (``duplicate_count``), so volume can be read either way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import schema as S


def _text_key(texts: pd.Series) -> pd.Series:
    return texts.astype(str).str.lower().str.replace(r"[^\w\[\]]+", " ", regex=True).str.strip()


def exact_duplicates(df: pd.DataFrame, candidates: pd.Series, keys: list[str], state: Any
                     ) -> tuple[pd.Series, pd.Series]:
    """Repeated records (same id) and the same text from the same customer: the first one seen is canonical.

    Without the ``dedupe_on`` columns nobody can tell a resubmission from two customers who wrote the same
    words, so only repeated records are duplicates; ``dedupe_on: []`` dedupes on the text alone.
    """
    dup_of = pd.Series(None, index=df.index, dtype=object)
    why = pd.Series(None, index=df.index, dtype=object)
    text_key = _text_key(df[S.CLEAN_TEXT])
    present = [k for k in keys if k in df.columns]
    scoped = bool(present) or not keys
    parts = [text_key] + [df[k].astype(object).where(df[k].notna(), "").map(str) for k in present]
    group = pd.Series(["\x1f".join(v) for v in zip(*parts)], index=df.index)
    for i in df.index[candidates.to_numpy()]:
        item, tk = df.at[i, S.ID], text_key[i]
        if item in state.ids:
            if state.ids[item] == tk:
                dup_of[i], why[i] = item, "repeated_record"
            else:
                why[i] = "conflicting_id"
            continue
        state.ids[item] = tk
        if not scoped:
            continue
        first = state.canonical.setdefault(group[i], item)
        if first != item:
            dup_of[i], why[i] = first, "exact_duplicate"
    return dup_of, why


def unique_ids(ids: pd.Series, used: set[str] | None = None) -> pd.Series:
    """A repeated id gets a ``~n`` suffix so every row keeps its own key in the store.

    ``used`` holds the ids given out so far in this run (earlier chunks of the same export) and is updated: an id
    repeated across chunks, or a repeat of ``A`` that would be named ``A~2`` next to a given ``A~2``, gets the next
    free suffix instead of failing the whole run at publish.
    """
    used = set() if used is None else used
    out = []
    for given in ids.astype(str):
        key, n = given, 1
        while key in used:
            n += 1
            key = f"{given}~{n}"
        used.add(key)
        out.append(key)
    return pd.Series(out, index=ids.index, dtype=object)


def finalise_duplicates(items: pd.DataFrame) -> pd.DataFrame:
    """``duplicate_count`` on every canonical item: itself plus the members that point at it."""
    out = items.copy()
    members = out.loc[out[S.STATUS] == S.DUPLICATE, S.DUP_OF].value_counts()
    out[S.DUP_COUNT] = (1 + out[S.ID].map(members).fillna(0)).astype("int64")
    out.loc[out[S.STATUS] == S.DUPLICATE, S.DUP_COUNT] = 0
    return out


def near_duplicates(items: pd.DataFrame, X: np.ndarray, threshold: float, keys: list[str]) -> pd.Series:
    """Near-duplicates among stored items (cosine >= ``threshold``) in the same dedupe scope.

    ``items`` and ``X`` are aligned (stored items only). Returns, per row, the id of the earlier item it repeats
    (or None). Within a customer the groups are tiny; with ``dedupe_on: []`` the whole set is one scope and is
    compared in blocks.
    """
    result: list[str | None] = [None] * len(items)
    present = [k for k in keys if k in items.columns]
    if (keys and not present) or len(items) < 2:
        return pd.Series(result, index=items.index, dtype=object)
    ids = items[S.ID].to_numpy()
    groups = items.groupby(present, sort=False).indices.values() if present else [np.arange(len(items))]
    for rows in groups:
        rows = np.asarray(rows)
        for start in range(0, len(rows), 2048):
            block = rows[start:start + 2048]
            sims = X[block] @ X[rows[: start + len(block)]].T
            for bi, r in enumerate(block):
                hits = np.flatnonzero(sims[bi, : start + bi] >= threshold)
                if len(hits):
                    first = rows[hits[0]]
                    result[r] = result[first] or ids[first]
    return pd.Series(result, index=items.index, dtype=object)


def collapse_near_duplicates(items: pd.DataFrame, X: np.ndarray, threshold: float | None, keys: list[str]
                             ) -> tuple[pd.DataFrame, np.ndarray]:
    """Mark near-duplicate stored items (``X`` holds the stored items' vectors, in order) and drop their rows
    from ``X``; ``threshold`` None leaves both as they are."""
    live = (items[S.STATUS] == S.STORED).to_numpy()
    if not threshold:
        return items, X
    near = near_duplicates(items[live], X, threshold, keys)
    hit = near.notna()
    if not hit.any():
        return items, X
    out = items.copy()
    out.loc[near.index[hit], S.STATUS] = S.DUPLICATE
    out.loc[near.index[hit], S.REASON] = "near_duplicate"
    out.loc[near.index[hit], S.DUP_OF] = near[hit]
    return finalise_duplicates(out), X[~hit.to_numpy()]
