"""Validation: parse timestamps and ratings, and quarantine rows that cannot be trusted, each with a reason code.

Nothing is dropped here: a broken row keeps its place with ``status = quarantined``, a reason and a detail, so
``read = stored + duplicates + quarantined + non_actionable`` holds for every run.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import IngestConfig
from .mapping import PARSE_ERROR

MAX_ID_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def validate(df: pd.DataFrame, cfg: IngestConfig, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """Parse timestamps to UTC and ratings to numbers; quarantine rows that are broken, with a reason code."""
    out = df.copy()
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    reason = pd.Series(pd.NA, index=out.index, dtype="object")
    detail = pd.Series(pd.NA, index=out.index, dtype="object")

    if PARSE_ERROR in out.columns:
        bad = out[PARSE_ERROR].notna()
        reason[bad] = out.loc[bad, PARSE_ERROR].astype(str).str.split(":").str[0]
        detail[bad] = out.loc[bad, PARSE_ERROR]

    ids = out[S.ID].astype(str)
    bad_id = (ids.str.len() > MAX_ID_CHARS) | ids.str.contains(_CONTROL)
    _flag(reason, detail, bad_id, "bad_id", "id too long or has control characters")

    if S.TIMESTAMP in out.columns:
        parsed, given = parse_timestamps(out[S.TIMESTAMP], cfg.timestamp_format)
        _flag(reason, detail, ~given, "missing_timestamp", "no timestamp")
        _flag(reason, detail, given & parsed.isna(), "bad_timestamp", "timestamp could not be parsed")
        _flag(reason, detail, parsed > now + pd.Timedelta(days=2), "future_timestamp", "timestamp is in the future")
        _flag(reason, detail, parsed < pd.Timestamp("1995-01-01", tz="UTC"), "implausible_timestamp",
              "timestamp before 1995")
        out[S.TIMESTAMP] = parsed
        out[S.TIME_ASSUMED] = False
    else:  # no timestamps at all: everything belongs to the ingest moment, and nothing can be said about trends
        out[S.TIMESTAMP] = now
        out[S.TIME_ASSUMED] = True

    if S.RATING in out.columns:
        given = out[S.RATING].notna() & (out[S.RATING].astype(str).str.strip() != "")
        rating = pd.to_numeric(out[S.RATING], errors="coerce")
        lo, hi = cfg.rating_range
        bad = given & (rating.isna() | (rating < lo) | (rating > hi))
        _flag(reason, detail, bad, "bad_rating", f"rating outside {lo}-{hi}")
        out[S.RATING] = rating.where(~bad)
    else:
        out[S.RATING] = np.nan

    if "order_value" in out.columns:
        out["order_value"] = pd.to_numeric(out["order_value"], errors="coerce")

    out[S.STATUS] = np.where(reason.notna(), S.QUARANTINED, "")
    out[S.REASON] = reason
    out[S.DETAIL] = detail
    return out.drop(columns=[PARSE_ERROR], errors="ignore")


def _flag(reason: pd.Series, detail: pd.Series, mask: pd.Series, code: str, text: str) -> None:
    mask = mask.fillna(False).astype(bool) & reason.isna()
    reason[mask] = code
    detail[mask] = text


def parse_timestamps(values: pd.Series, fmt: str | None = None) -> tuple[pd.Series, pd.Series]:
    """UTC timestamps and a mask of which values were given; ISO first (fast), then any format, then epochs."""
    s = values.astype(object)
    text = s.astype(str).str.strip()
    given = s.notna() & (text != "") & (text.str.lower() != "nan")
    parsed = _in_range(pd.to_datetime(s.where(given), utc=True, errors="coerce", format=fmt or "ISO8601"))
    todo = given & parsed.isna()
    if todo.any() and fmt is None:
        epoch = text[todo].str.fullmatch(r"\d{10}(?:\.\d+)?|\d{13}")
        if epoch.any():
            idx = epoch[epoch].index
            nums = pd.to_numeric(text[idx])
            seconds = np.where(nums > 1e11, nums / 1000, nums)
            # past 2262 pandas cannot hold it: held at the edge, like any far date (validation calls it future)
            seconds = np.minimum(seconds, pd.Timestamp.max.value // 10**9)
            stamps = pd.to_datetime(seconds, unit="s", utc=True)
            parsed[idx] = _in_range(pd.Series(stamps, index=idx))
        rest = todo & parsed.isna()
        if rest.any():
            parsed[rest] = _each(s[rest])
    return parsed, given


def _in_range(parsed: pd.Series) -> pd.Series:
    """Timestamps as nanosecond UTC, whatever unit pandas chose (it keeps far-off dates, or a mix of formats, at
    microseconds: assigning those into a nanosecond column raised TypeError). A date outside that range is held
    at its edge (years 1677 and 2262), so validation still calls it what it is: implausible, or in the future."""
    if str(parsed.dtype) == "datetime64[ns, UTC]":
        return parsed
    lo, hi = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
    out = [pd.NaT if pd.isna(v) else lo if v <= lo else hi if v >= hi else v for v in parsed]
    return pd.Series(out, index=parsed.index, dtype="datetime64[ns, UTC]")


def _each(values: pd.Series) -> pd.Series:
    """Parse values of any format; a date outside the range pandas stores (years before 1677 or after 2262: "0001",
    "9999") becomes NaT, so it is one ``bad_timestamp`` row, never the loss of the whole file."""
    try:
        parsed = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    except (OverflowError, ValueError, TypeError):  # OutOfBoundsDatetime is a ValueError
        parsed = pd.Series([_one(v) for v in values], index=values.index, dtype=object)
        parsed = pd.to_datetime(parsed.where(parsed.notna(), None), utc=True, errors="coerce")
    return _in_range(parsed)


def _one(value: object) -> pd.Timestamp:
    try:
        return pd.to_datetime(value, utc=True, errors="coerce")
    except (OverflowError, ValueError, TypeError):
        return pd.NaT
