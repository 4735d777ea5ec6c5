"""Read feedback exports into the canonical item frame and quarantine rows that cannot be trusted.

Readers do the I/O; ``validate`` is pure. A row is never dropped here: a row that fails a check keeps its place
with ``status = quarantined`` and a reason code, so ``read`` always equals the sum of the outcomes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema as S
from .config import IngestConfig
from .errors import InputError

READERS = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json", ".parquet", ".pq")


def read_feedback(path: str | Path, cfg: IngestConfig | None = None) -> pd.DataFrame:
    """Read one export (CSV, JSONL, JSON array or Parquet, optionally gzip'd) and map its columns."""
    cfg = cfg or IngestConfig()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file not found: {path}", code="E201")
    raw = _read_any(path)
    return map_columns(raw, cfg, source=path.name)


def _read_any(path: Path) -> pd.DataFrame:
    name = path.name.lower()
    compression = "gzip" if name.endswith(".gz") else None
    stem = name[:-3] if compression else name
    suffix = Path(stem).suffix
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True, dtype=False, compression=compression)
        if suffix == ".json":
            return pd.read_json(path, dtype=False, compression=compression)
        if suffix in (".csv", ".tsv", ".txt"):
            return _read_csv(path, compression)
    except InputError:
        raise
    except Exception as exc:  # the reader's own message names the line where it has one
        raise InputError(f"cannot read {path}: {exc}", code="E202") from exc
    raise InputError(f"unsupported file type {suffix!r} for {path}; supported: {', '.join(READERS)}", code="E203")


def _read_csv(path: Path, compression: str | None) -> pd.DataFrame:
    raw = path.read_bytes()
    if compression:
        import gzip

        raw = gzip.decompress(raw)
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        sep = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as exc:
        raise InputError(f"cannot parse CSV {path}: {exc}", code="E204") from exc


def map_columns(raw: pd.DataFrame, cfg: IngestConfig, source: str = "frame") -> pd.DataFrame:
    """Rename source columns to canonical names and attach the source file and 1-based row number."""
    mapping = {src: canon for canon, src in cfg.columns.items()}
    missing = [src for src in mapping if src not in raw.columns]
    if missing:
        raise InputError(
            f"{source}: mapped columns not found: {missing}; the file has {list(raw.columns)}", code="E205"
        )
    df = raw.rename(columns=mapping).copy()
    if S.TEXT not in df.columns:
        raise InputError(
            f"{source}: no text column; map one with ingest.columns.text (the file has {list(raw.columns)})",
            code="E206",
        )
    df[S.SOURCE] = source
    df[S.ROW] = np.arange(1, len(df) + 1)
    if S.ID not in df.columns:
        df[S.ID] = [f"{Path(source).stem}:{i}" for i in df[S.ROW]]
    df[S.ID] = df[S.ID].astype(str)
    return df.reset_index(drop=True)


def validate(df: pd.DataFrame, cfg: IngestConfig, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """Parse timestamps to UTC and ratings to numbers; quarantine rows where either is unusable."""
    out = df.copy()
    reason = pd.Series(pd.NA, index=out.index, dtype="object")

    if S.TIMESTAMP in out.columns:
        given = out[S.TIMESTAMP].notna() & (out[S.TIMESTAMP].astype(str).str.strip() != "")
        parsed = pd.to_datetime(out[S.TIMESTAMP], utc=True, errors="coerce", format=cfg.timestamp_format)
        reason[~given] = "missing_timestamp"
        reason[given & parsed.isna()] = "bad_timestamp"
        out[S.TIMESTAMP] = parsed
    else:  # no timestamps at all: everything belongs to the ingest moment
        out[S.TIMESTAMP] = now if now is not None else pd.Timestamp.now(tz="UTC")

    if S.RATING in out.columns:
        given = out[S.RATING].notna() & (out[S.RATING].astype(str).str.strip() != "")
        rating = pd.to_numeric(out[S.RATING], errors="coerce")
        lo, hi = cfg.rating_range
        bad = given & (rating.isna() | (rating < lo) | (rating > hi))
        reason[bad & reason.isna()] = "bad_rating"
        out[S.RATING] = rating.where(~bad)
    else:
        out[S.RATING] = np.nan

    if "order_value" in out.columns:
        out["order_value"] = pd.to_numeric(out["order_value"], errors="coerce")

    out[S.STATUS] = np.where(reason.notna(), S.QUARANTINED, "")
    out[S.REASON] = reason
    return out
