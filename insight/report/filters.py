"""The review app's global filters as a pure function: which items a CX lead is looking at.

A filter is a plain mapping (it travels in the app's URL): ``since`` and ``until`` (dates, inclusive),
``min_confidence`` and ``max_confidence`` (inclusive), and for any item column (channel, carrier, payment
provider, warehouse, category, root cause, theme, language) a list of the values to keep. Empty or absent filters
keep everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from .. import schema as S

RANGE_KEYS = ("since", "until", "min_confidence", "max_confidence")


def filter_items(items: pd.DataFrame, spec: Mapping[str, Any]) -> pd.DataFrame:
    """The rows of ``items`` that pass every filter in ``spec``; an unknown column is an error, not a silent pass."""
    keep = pd.Series(True, index=items.index)
    when = pd.to_datetime(items[S.TIMESTAMP], utc=True, errors="coerce") if S.TIMESTAMP in items else None
    if spec.get("since") and when is not None:
        keep &= when >= pd.Timestamp(spec["since"], tz="UTC")
    if spec.get("until") and when is not None:
        keep &= when < pd.Timestamp(spec["until"], tz="UTC") + pd.Timedelta(days=1)
    if spec.get("min_confidence") is not None and S.CONFIDENCE in items:
        keep &= items[S.CONFIDENCE].astype(float).fillna(0) >= float(spec["min_confidence"])
    if spec.get("max_confidence") is not None and S.CONFIDENCE in items:
        keep &= items[S.CONFIDENCE].astype(float).fillna(0) <= float(spec["max_confidence"])
    for column, values in spec.items():
        if column in RANGE_KEYS or not values:
            continue
        if column not in items.columns:
            raise KeyError(f"no column {column!r} to filter on; columns: {', '.join(map(str, items.columns))}")
        keep &= items[column].astype(str).isin([str(v) for v in values])
    return items[keep.to_numpy()]


def is_filtered(spec: Mapping[str, Any]) -> bool:
    return any(v not in (None, "", [], ()) for v in spec.values())
