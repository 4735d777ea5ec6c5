"""Column mapping: a file's own column names -> insight's canonical ones (profiles, user mapping, inference).

Mapping is where a source's identity is fixed: every row gets its source file, row number and an item id (its
own, else ``<file stem>:<row>``), and e-mail or phone customer ids are replaced by a stable hash before anything
else sees them.
"""

from __future__ import annotations

import hmac
import re
from collections import Counter
from hashlib import sha256
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .. import schema as S
from ..config import IngestConfig
from ..errors import InputError

PARSE_ERROR = "_parse_error"  # a reader's column: why a record could not be parsed (validate quarantines it)
RAW_RECORD = "_raw_record"  # a reader's column: such a record as the file had it, kept as the quarantine row's text


def load_profile(name: str) -> dict[str, Any]:
    """A packaged column-mapping profile (``configs/profiles/<name>.yaml``)."""
    folder = resources.files("insight._configs").joinpath("profiles")
    names = sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))
    if name not in names:
        raise InputError(f"unknown mapping profile {name!r}; available: {', '.join(names)}", code="E208")
    return yaml.safe_load(folder.joinpath(f"{name}.yaml").read_text(encoding="utf-8")) or {}


def list_profiles() -> dict[str, dict[str, Any]]:
    folder = resources.files("insight._configs").joinpath("profiles")
    return {p.name[:-5]: yaml.safe_load(p.read_text(encoding="utf-8")) or {}
            for p in sorted(folder.iterdir(), key=lambda p: p.name) if p.name.endswith(".yaml")}


def resolve_defaults(cfg: IngestConfig) -> dict[str, str]:
    """Constant column values: the profile's, then the user's."""
    base = dict(load_profile(cfg.profile).get("defaults") or {}) if cfg.profile else {}
    return {**base, **cfg.defaults}


def resolve_mapping(cfg: IngestConfig) -> dict[str, tuple[list[str], bool]]:
    """canonical -> (source columns, required). Profile columns are optional; the user's own are required."""
    mapping: dict[str, tuple[list[str], bool]] = {}
    if cfg.profile:
        for canon, src in (load_profile(cfg.profile).get("columns") or {}).items():
            mapping[canon] = ([src] if isinstance(src, str) else list(src), False)
    for canon, src in cfg.columns.items():
        mapping[canon] = ([src] if isinstance(src, str) else list(src), True)
    return mapping


def map_columns(raw: pd.DataFrame, cfg: IngestConfig, source: str = "frame",
                mapping: dict[str, tuple[list[str], bool]] | None = None, first_row: int = 1,
                seen: Counter | None = None,
                allow_missing_text: bool = False, contact_key: bytes | None = None) -> pd.DataFrame:
    """Rename source columns to canonical names and attach the source file and row (and line) numbers; customer
    and order ids that are e-mails or phones become keyed hashes (``pseudonymise_contact`` with ``contact_key``);
    a row without an id gets one from its content (``content_ids``; ``seen`` carries the count of identical rows
    from one chunk of an export to the next)."""
    mapping = resolve_mapping(cfg) if mapping is None else mapping
    df = raw.copy()
    renames: dict[str, str] = {}
    joined: dict[str, list[str]] = {}
    only_broken = all(c in (S.LINE, PARSE_ERROR, RAW_RECORD) for c in df.columns)
    for canon, (srcs, required) in mapping.items():
        present = [s for s in srcs if s in df.columns]
        missing = [s for s in srcs if s not in df.columns]
        if required and missing and not only_broken and not allow_missing_text:
            raise InputError(f"{source}: mapped columns not found: {missing}; the file has "
                             f"{[c for c in raw.columns if c not in (S.LINE, PARSE_ERROR, RAW_RECORD)]}", code="E205")
        if len(present) == 1:
            renames[present[0]] = canon
        elif len(present) > 1:
            joined[canon] = present
    for canon, cols in joined.items():
        df[canon] = _join_text(df[cols])
    # a source column already named like a canonical target that something else maps to is set aside
    clash = [c for c in list(renames.values()) + list(joined) if c in df.columns and c not in renames]
    df = df.drop(columns=[c for c in clash if c not in joined]).rename(columns=renames)
    for canon, value in resolve_defaults(cfg).items():
        if canon not in df.columns:
            df[canon] = value
        else:
            df[canon] = df[canon].where(df[canon].notna() & (df[canon].astype(str).str.strip() != ""), value)
    if S.TEXT not in df.columns:
        if allow_missing_text or df.empty or (PARSE_ERROR in df.columns and df[PARSE_ERROR].notna().all()):
            df[S.TEXT] = None
        else:
            raise InputError(
                f"{source}: no text column; map one with ingest.columns.text, pick a profile (--profile), or ask "
                f"`insight ingest --infer {source}` (the file has "
                f"{[c for c in raw.columns if c not in (S.LINE, PARSE_ERROR, RAW_RECORD)]})",
                code="E206")
    if RAW_RECORD in df.columns:  # what an unparseable record said, redacted later like any text
        df[S.TEXT] = df[RAW_RECORD].where(df[RAW_RECORD].notna(), df[S.TEXT])
        df = df.drop(columns=[RAW_RECORD])
    df[S.SOURCE] = source
    df[S.ROW] = np.arange(first_row, first_row + len(df))
    if S.LINE not in df.columns:
        df[S.LINE] = None
    if PARSE_ERROR not in df.columns:
        df[PARSE_ERROR] = None
    if S.ID not in df.columns:
        df[S.ID] = None
    df[S.TEXT] = df[S.TEXT].astype(object)
    for col in (S.CUSTOMER_ID, S.ORDER_ID):
        if col in df.columns:
            df[col] = df[col].map(lambda v: pseudonymise_contact(v, contact_key))
    ids = df[S.ID].astype(object)
    missing_id = ids.isna() | (ids.astype(str).str.strip() == "")
    if missing_id.any():
        ids = ids.where(~missing_id, content_ids(df[missing_id], contact_key, seen))
    df[S.ID] = ids.astype(str).str.strip().astype(object)
    return df.reset_index(drop=True)


CONTENT_FIELDS = (S.TEXT, S.TIMESTAMP, S.CUSTOMER_ID, S.ORDER_ID, S.CHANNEL, S.RATING)


def content_ids(rows: pd.DataFrame, key: bytes | None, seen: Counter | None = None) -> list[str]:
    """Ids for rows that came without one: a keyed hash of what the row says (text, timestamp, customer, order,
    channel, rating), so the same feedback in next week's export, under another file name and in another row,
    is the same item. The n-th identical row gets ``#n`` (counted in ``seen`` across an export's chunks): two
    customers who wrote the same words at the same moment stay two items, as they would with ids. Keyed with
    the installation's secret, so an id cannot be matched against a guessed text."""
    seen = Counter() if seen is None else seen
    present = [c for c in CONTENT_FIELDS if c in rows.columns]
    out = []
    for values in zip(*(rows[c].tolist() for c in present)):
        data = "\x1f".join("" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
                            for v in values).encode()
        digest = keyed_digest(data, key)
        seen[digest] += 1
        out.append(f"c:{digest}" + (f"#{seen[digest]}" if seen[digest] > 1 else ""))
    return out


def _join_text(parts: pd.DataFrame) -> pd.Series:
    def join(row: list[Any]) -> str | None:
        bits = [str(v).strip() for v in row if v is not None and not (isinstance(v, float) and np.isnan(v))
                and str(v).strip()]
        if not bits:
            return None
        out = bits[0]
        for b in bits[1:]:
            out += ("" if out[-1] in ".!?:;" else ".") + " " + b
        return out

    return pd.Series([join(r) for r in parts.itertuples(index=False, name=None)], index=parts.index, dtype=object)


def keyed_digest(data: bytes, key: bytes | None) -> str:
    """16 hex digits of HMAC-SHA256 with this installation's ``key`` (plain SHA-256 without one)."""
    return (hmac.new(key, data, sha256) if key else sha256(data)).hexdigest()[:16]


def pseudonymise_contact(value: Any, key: bytes | None = None) -> Any:
    """An e-mail or phone used as a customer id is PII: keep a stable keyed hash (HMAC-SHA256 with this
    installation's ``key``) instead of the address. Without a key the hash is plain SHA-256, which a dictionary of
    addresses reverses: only for reading ids stored by older versions (erasure looks for both)."""
    if isinstance(value, str) and ("@" in value or re.fullmatch(r"\+?[\d\s().-]{7,}", value.strip())):
        data = value.strip().lower().encode()
        return "h:" + keyed_digest(data, key)
    return value


# ---------------------------------------------------------------- mapping inference

_SYNONYMS: dict[str, list[str]] = {
    S.TEXT: ["text", "comment", "comments", "body", "description", "review", "review text", "review body",
             "content", "message", "feedback", "remarks", "customer remarks", "verbatim", "answer", "response",
             "free text", "what could we do better", "complaint", "ticket description", "first message"],
    S.TIMESTAMP: ["timestamp", "created at", "created", "date", "created date", "submitted at", "submitted",
                  "time", "datetime", "review date", "date created", "updated at", "received at", "start date"],
    S.RATING: ["rating", "stars", "star rating", "score", "review rating", "csat", "satisfaction"],
    S.ID: ["id", "ticket id", "review id", "feedback id", "response id", "conversation id", "record id"],
    S.CUSTOMER_ID: ["customer id", "requester id", "user id", "customer", "reviewer id", "author id", "client id"],
    S.ORDER_ID: ["order id", "order number", "order", "order no", "order ref"],
    S.CHANNEL: ["channel", "via", "source", "platform", "store"],
    "product_category": ["product category", "category", "department", "department name", "class name",
                         "product type"],
    # a help desk's own sorting of the contact: never a product category ("Returns", "Order Related")
    "contact_reason": ["contact reason", "ticket category", "ticket type", "issue type", "issue category",
                       "contact type", "queue", "topic", "reason for contact", "disposition"],
    "carrier": ["carrier", "courier", "shipping carrier", "delivery partner"],
    "warehouse": ["warehouse", "fulfillment center", "fulfilment centre", "dc"],
    "payment_provider": ["payment provider", "payment method", "gateway", "psp"],
    "order_value": ["order value", "order total", "amount", "total", "price"],
    "title": ["title", "subject", "summary", "review title", "headline"],
}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(name).lower()).strip()


def infer_mapping(sample: pd.DataFrame) -> dict[str, Any]:
    """Propose ``ingest.columns`` from headers and a peek at values; name the closest packaged profile."""
    cols = [c for c in sample.columns if c not in (S.LINE, PARSE_ERROR)]
    normed = {c: _norm(c) for c in cols}
    proposal: dict[str, str] = {}
    used: set[str] = set()
    for canon, names in _SYNONYMS.items():
        for want in names:
            hit = next((c for c in cols if normed[c] == want and c not in used), None)
            if hit:
                proposal[canon] = hit
                used.add(hit)
                break
    if S.TEXT not in proposal:  # the column with the longest free text
        lengths = {c: sample[c].dropna().astype(str).str.len().mean() for c in cols if c not in used
                   and (sample[c].dtype == object or pd.api.types.is_string_dtype(sample[c]))}
        if lengths:
            proposal[S.TEXT] = max(lengths, key=lengths.get)
    if "title" in proposal and S.TEXT in proposal:
        proposal[S.TEXT] = [proposal.pop("title"), proposal[S.TEXT]]  # type: ignore[assignment]
    else:
        proposal.pop("title", None)
    scores = {}
    for name, prof in list_profiles().items():
        srcs = [s for v in (prof.get("columns") or {}).values() for s in ([v] if isinstance(v, str) else v)]
        if srcs:
            scores[name] = sum(s in cols for s in srcs) / len(srcs)
    best = max(scores, key=scores.get) if scores else None
    return {"columns": proposal, "profile": best if best and scores[best] >= 0.5 else None,
            "profile_scores": {k: round(v, 2) for k, v in sorted(scores.items(), key=lambda kv: -kv[1])},
            "unmapped": [c for c in cols if c not in used and c not in (proposal.get(S.TEXT) or [])]}
