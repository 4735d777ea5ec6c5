"""Ingest stage: read feedback exports into the canonical item frame, streaming, quarantining what is broken.

``readers`` does the I/O per format, ``mapping`` renames columns (profiles, the user's mapping, inference),
``validate`` parses timestamps and ratings and quarantines broken rows, ``source`` streams one export through all
three. Only a file that cannot be read at all raises; every record becomes a row.
"""

from .mapping import (
    PARSE_ERROR,
    infer_mapping,
    list_profiles,
    load_profile,
    map_columns,
    pseudonymise_contact,
    resolve_defaults,
    resolve_mapping,
)
from .readers import READERS, read_chunks, read_feedback, sniff_columns
from .source import Source, source_digest, source_name, validated_chunks
from .validate import MAX_ID_CHARS, parse_timestamps, validate

__all__ = [
    "MAX_ID_CHARS", "PARSE_ERROR", "READERS", "Source", "infer_mapping", "list_profiles", "load_profile",
    "map_columns", "parse_timestamps", "pseudonymise_contact", "read_chunks", "read_feedback", "resolve_defaults",
    "resolve_mapping", "sniff_columns", "source_digest", "source_name", "validate", "validated_chunks",
]
