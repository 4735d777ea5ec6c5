"""Frames to rows and back: the values SQLAlchemy stores (no numpy scalars, NaN or NaT) and JSON-safe documents."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd


def clean_value(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        v = v.item()
        return None if isinstance(v, float) and math.isnan(v) else v
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    present = [c for c in columns if c in frame.columns]
    return [{c: clean_value(v) for c, v in zip(present, row)}
            for row in frame[present].itertuples(index=False, name=None)]


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values: numpy scalars as numbers, NaN as null, sets sorted, times in ISO 8601."""
    def default(o: Any) -> Any:
        if isinstance(o, set):
            return sorted(o)
        if isinstance(o, (datetime, date, pd.Timestamp)):
            return o.isoformat()
        return clean_value(o)

    return json.loads(json.dumps(obj, default=default))
