"""Exports of a stored run: CSV (safe to open in a spreadsheet) and JSON.

Functions return text; the caller decides where it goes. CSV cells that a spreadsheet would run as a formula
(starting with = + - @, a tab or a carriage return) are prefixed with an apostrophe.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

from .errors import ExportError

FORMATS = ("csv", "json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _flatten(value: Any) -> Any:
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def to_csv(frame: pd.DataFrame) -> str:
    safe = frame.map(lambda v: neutralise(_flatten(v)))
    buf = io.StringIO()
    safe.to_csv(buf, index=False)
    return buf.getvalue()


def to_json(frame: pd.DataFrame, meta: dict[str, Any] | None = None) -> str:
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    return json.dumps({**(meta or {}), "rows": records}, indent=2, ensure_ascii=False)


def export(frame: pd.DataFrame, fmt: str, meta: dict[str, Any] | None = None) -> str:
    if fmt == "csv":
        return to_csv(frame)
    if fmt == "json":
        return to_json(frame, meta)
    raise ExportError(f"unknown export format {fmt!r}; valid: {', '.join(FORMATS)}", code="E501")
