"""One export (a file path or an already-loaded frame) as a stream of validated, canonical chunks.

The composition layer reads every source through here, so the pipeline and ingest-only runs (and any later job) map and
validate rows the same way; ``source_digest`` fingerprints the input for the run manifest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from ..config import IngestConfig
from ..provenance import sha256_file
from .mapping import map_columns
from .readers import read_chunks
from .validate import validate

Source = str | Path | pd.DataFrame


def validated_chunks(source: Source, cfg: IngestConfig, now: pd.Timestamp | None = None,
                     contact_key: bytes | None = None) -> Iterator[pd.DataFrame]:
    """Each chunk of ``source`` mapped to canonical columns and validated (broken rows quarantined, not dropped).

    ``now`` is fixed once for the whole export, so "in the future" means the same for its first and last chunk.
    ``contact_key`` (the installation's secret) keys the hashes of customer ids that are e-mails or phones.
    """
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    if isinstance(source, pd.DataFrame):
        chunks: Iterator[pd.DataFrame] = iter([map_columns(source, cfg, source="frame", contact_key=contact_key)])
    else:
        chunks = read_chunks(source, cfg, cfg.chunk_size, contact_key=contact_key)
    for chunk in chunks:
        yield validate(chunk, cfg, now=now)


def source_name(source: Source) -> str:
    """How a run names its input: the path as given, or ``<frame>``."""
    return "<frame>" if isinstance(source, pd.DataFrame) else str(source)


def source_digest(source: Source) -> str:
    """SHA-256 of the file's bytes, or of a frame's rows (index ignored)."""
    if isinstance(source, pd.DataFrame):
        rows = pd.util.hash_pandas_object(source, index=False).to_numpy().tobytes()
        return hashlib.sha256(rows).hexdigest()
    return sha256_file(source)
