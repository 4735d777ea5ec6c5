"""Read feedback exports into the canonical item frame, streaming, and quarantine what cannot be trusted.

Readers do the I/O and stream: a file is read in chunks of ``chunk_size`` records, so an export larger than memory
passes through. A record the reader cannot parse (wrong field count, broken JSON line, a quote that swallowed the
rest of the file) is not dropped: it becomes a row with a parse-error reason that ``validate`` quarantines, with
its source file and line. Only a file that cannot be read at all raises, naming the file (and line where known).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import yaml

from . import schema as S
from .config import IngestConfig
from .errors import InputError, missing_extra

READERS = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json", ".parquet", ".pq", ".xlsx", ".xls")
PARSE_ERROR = "_parse_error"
MAX_ID_CHARS = 200
_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# ---------------------------------------------------------------- public readers

def read_feedback(path: str | Path, cfg: IngestConfig | None = None) -> pd.DataFrame:
    """The whole export as one canonical frame (``read_chunks`` concatenated)."""
    chunks = list(read_chunks(path, cfg))
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def read_chunks(path: str | Path, cfg: IngestConfig | None = None, chunk_size: int = 50_000
                ) -> Iterator[pd.DataFrame]:
    """Stream an export (CSV/TSV, JSONL, JSON array, Parquet, Excel; optionally gzip'd) as mapped frames."""
    cfg = cfg or IngestConfig()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file not found: {path}", code="E201")
    mapping = resolve_mapping(cfg)
    schemaless = _format_of(path)[0] in (".json", ".jsonl", ".ndjson")  # a record may just lack a key
    emitted = seen_text = False
    row0 = 0
    for raw in _raw_chunks(path, chunk_size):
        frame = map_columns(raw, cfg, source=path.name, mapping=mapping, first_row=row0 + 1,
                            allow_missing_text=schemaless)
        seen_text = seen_text or frame[S.TEXT].notna().any()
        row0 += len(raw)
        emitted = True
        yield frame
    if schemaless and emitted and row0 and not seen_text:
        raise InputError(f"{path.name}: no record has a text field; map one with ingest.columns.text or ask "
                         f"`insight ingest --infer {path.name}`", code="E206")
    if not emitted:  # nothing at all: an empty but well-formed frame
        yield map_columns(pd.DataFrame(columns=["text"], dtype=object), cfg, source=path.name, mapping=mapping)


def sniff_columns(path: str | Path, n: int = 200) -> pd.DataFrame:
    """The first ``n`` raw records with the file's own column names (for ``infer_mapping``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file not found: {path}", code="E201")
    for raw in _raw_chunks(path, n):
        return raw.head(n)
    return pd.DataFrame()


# ---------------------------------------------------------------- format dispatch

def _format_of(path: Path) -> tuple[str, bool]:
    name = path.name.lower()
    gz = name.endswith(".gz")
    suffix = Path(name[:-3] if gz else name).suffix
    if suffix not in READERS:
        raise InputError(f"unsupported file type {suffix or name!r} for {path}; supported: {', '.join(READERS)}"
                         " (optionally .gz)", code="E203")
    return suffix, gz


def _raw_chunks(path: Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    suffix, gz = _format_of(path)
    try:
        if suffix in (".parquet", ".pq"):
            yield from _parquet_chunks(path, chunk_size)
        elif suffix in (".xlsx", ".xls"):
            yield _excel(path)
        elif suffix == ".json":
            yield from _json_array_chunks(path, gz, chunk_size)
        elif suffix in (".jsonl", ".ndjson"):
            yield from _records_to_frames(_jsonl_records(path, gz), chunk_size)
        else:
            header: list[str] = []
            yield from _records_to_frames(_csv_records(path, gz, suffix, header), chunk_size, header)
    except InputError:
        raise
    except (OSError, EOFError, ValueError, UnicodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}", code="E202") from exc


def _records_to_frames(records: Iterator[dict[str, Any]], chunk_size: int, header: list[str] | None = None
                       ) -> Iterator[pd.DataFrame]:
    batch: list[dict[str, Any]] = []
    emitted = False
    for rec in records:
        batch.append(rec)
        if len(batch) >= chunk_size:
            yield pd.DataFrame.from_records(batch)
            emitted, batch = True, []
    if batch:
        yield pd.DataFrame.from_records(batch)
    elif not emitted and header:  # a header and no records: keep the columns so the mapping still checks
        yield pd.DataFrame(columns=header, dtype=object)


def _open_binary(path: Path, gz: bool) -> IO[bytes]:
    return gzip.open(path, "rb") if gz else open(path, "rb")


def _detect_encoding(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a multi-byte character cut by the sample boundary
            return "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


# ---------------------------------------------------------------- CSV

class _Tap:
    """Feeds lines to csv.reader and remembers them, so a broken record can be re-read line by line."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.buffer: list[str] = []
        self.count = 0

    def __iter__(self) -> _Tap:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.count += 1
        self.buffer.append(line)
        return line.replace("\x00", "")


def _csv_records(path: Path, gz: bool, suffix: str, header_out: list[str]) -> Iterator[dict[str, Any]]:
    with _open_binary(path, gz) as fb:
        head = fb.read(1 << 20)
    if not head.strip():
        raise InputError(f"{path} is empty: expected a header line with column names", code="E207")
    encoding = _detect_encoding(head)
    sample = head.decode(encoding, errors="replace")
    delimiter = "\t" if suffix == ".tsv" else _sniff_delimiter(sample)
    csv.field_size_limit(_FIELD_LIMIT)
    with _open_binary(path, gz) as fb:
        text = io.TextIOWrapper(fb, encoding=encoding, errors="replace", newline="")
        tap = _Tap(iter(text))
        reader = csv.reader(tap, delimiter=delimiter)
        try:
            header = _clean_header(next(reader))
        except StopIteration:
            raise InputError(f"{path} is empty: expected a header line", code="E207") from None
        except csv.Error as exc:
            raise InputError(f"{path}, line 1: cannot read the header: {exc}", code="E204") from exc
        tap.buffer.clear()
        header_out.extend(header)
        width = len(header)
        while True:
            start = tap.count + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # a malformed record: keep it, with its line, as a quarantine row
                yield {PARSE_ERROR: f"csv_error: {exc}", S.LINE: start}
                tap.buffer.clear()
                continue
            lines = tap.buffer[:]
            tap.buffer.clear()
            if not fields or (width > 1 and len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line is not a record
            if len(fields) == width:
                yield {**dict(zip(header, fields)), S.LINE: start}
            elif len(lines) > 1:
                # a stray quote made one "record" out of several lines: read them one by one instead
                yield from _reparse_lines(lines, header, delimiter, start)
            else:
                rec = dict(zip(header, fields))
                rec.update({PARSE_ERROR: f"wrong_field_count: expected {width}, found {len(fields)}", S.LINE: start})
                yield rec


def _reparse_lines(lines: list[str], header: list[str], delimiter: str, first_line: int) -> Iterator[dict]:
    for offset, line in enumerate(lines):
        if not line.strip():
            continue
        fields = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])
        fields = [f.strip('"') for f in fields]
        rec = dict(zip(header, fields))
        rec[S.LINE] = first_line + offset
        if len(fields) != len(header):
            rec[PARSE_ERROR] = f"unbalanced_quotes: expected {len(header)} fields, found {len(fields)}"
        yield rec


def _sniff_delimiter(sample: str) -> str:
    first = sample.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        try:
            return csv.Sniffer().sniff(sample[:20000], delimiters=",;\t|").delimiter
        except csv.Error:
            return ","
    return best


def _clean_header(names: list[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        name = name.replace("\ufeff", "").strip() or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


# ---------------------------------------------------------------- JSON, Parquet, Excel

def _jsonl_records(path: Path, gz: bool) -> Iterator[dict[str, Any]]:
    with _open_binary(path, gz) as fb:
        head = fb.read(1 << 16)
    encoding = _detect_encoding(head)
    with _open_binary(path, gz) as fb:
        for n, line in enumerate(io.TextIOWrapper(fb, encoding=encoding, errors="replace"), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield {PARSE_ERROR: f"bad_json: {exc.msg} at column {exc.colno}", S.LINE: n}
                continue
            if not isinstance(obj, dict):
                yield {PARSE_ERROR: f"not_an_object: a JSON {type(obj).__name__}", S.LINE: n}
                continue
            yield {**_flat(obj), S.LINE: n}


def _json_array_chunks(path: Path, gz: bool, chunk_size: int) -> Iterator[pd.DataFrame]:
    with _open_binary(path, gz) as fb:
        data = fb.read()
    try:
        doc = json.loads(data.decode(_detect_encoding(data[:1 << 16]), errors="replace"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}, line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})",
                         code="E204") from exc
    if isinstance(doc, dict):  # {"data": [...]} / {"results": [...]}: the first list of records
        lists = [v for v in doc.values() if isinstance(v, list)]
        if not lists:
            raise InputError(f"{path}: expected a JSON array of records (or an object holding one)", code="E204")
        doc = lists[0]
    if not isinstance(doc, list):
        raise InputError(f"{path}: expected a JSON array of records, found a {type(doc).__name__}", code="E204")
    records = ({**_flat(o), S.LINE: None} if isinstance(o, dict)
               else {PARSE_ERROR: f"not_an_object: a JSON {type(o).__name__}", S.LINE: None} for o in doc)
    yield from _records_to_frames(records, chunk_size)


def _flat(obj: dict[str, Any]) -> dict[str, Any]:
    """Nested values (help-desk exports love them) become JSON strings rather than breaking the frame."""
    return {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v) for k, v in obj.items()}


def _parquet_chunks(path: Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        raise InputError(f"cannot read {path} as Parquet: {exc}", code="E202") from exc
    for batch in pf.iter_batches(batch_size=chunk_size):
        yield batch.to_pandas()


def _excel(path: Path) -> pd.DataFrame:
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:
        raise missing_extra("openpyxl", "excel") from exc
    return pd.read_excel(path, dtype=str)


# ---------------------------------------------------------------- mapping

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
                allow_missing_text: bool = False) -> pd.DataFrame:
    """Rename source columns to canonical names and attach the source file and row (and line) numbers."""
    mapping = resolve_mapping(cfg) if mapping is None else mapping
    df = raw.copy()
    renames: dict[str, str] = {}
    joined: dict[str, list[str]] = {}
    only_broken = all(c in (S.LINE, PARSE_ERROR) for c in df.columns)
    for canon, (srcs, required) in mapping.items():
        present = [s for s in srcs if s in df.columns]
        missing = [s for s in srcs if s not in df.columns]
        if required and missing and not only_broken and not allow_missing_text:
            raise InputError(f"{source}: mapped columns not found: {missing}; the file has "
                             f"{[c for c in raw.columns if c not in (S.LINE, PARSE_ERROR)]}", code="E205")
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
                f"`insight ingest --infer {source}` (the file has {[c for c in raw.columns if c != S.LINE]})",
                code="E206")
    df[S.SOURCE] = source
    df[S.ROW] = np.arange(first_row, first_row + len(df))
    if S.LINE not in df.columns:
        df[S.LINE] = None
    if PARSE_ERROR not in df.columns:
        df[PARSE_ERROR] = None
    if S.ID not in df.columns:
        df[S.ID] = None
    ids = df[S.ID].astype(object)
    missing_id = ids.isna() | (ids.astype(str).str.strip() == "")
    ids = ids.where(~missing_id, [f"{Path(source).stem}:{i}" for i in df[S.ROW]])
    df[S.ID] = ids.astype(str).str.strip().astype(object)
    df[S.TEXT] = df[S.TEXT].astype(object)
    for col in (S.CUSTOMER_ID, S.ORDER_ID):
        if col in df.columns:
            df[col] = df[col].map(_pseudonymise_contact)
    return df.reset_index(drop=True)


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


def _pseudonymise_contact(value: Any) -> Any:
    """An e-mail or phone used as a customer id is PII: keep a stable hash instead of the address."""
    if isinstance(value, str) and ("@" in value or re.fullmatch(r"\+?[\d\s().-]{7,}", value.strip())):
        from hashlib import sha256

        return "h:" + sha256(value.strip().lower().encode()).hexdigest()[:16]
    return value


# ---------------------------------------------------------------- validation

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
    else:  # no timestamps at all: everything belongs to the ingest moment
        out[S.TIMESTAMP] = now

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
    parsed = pd.to_datetime(s.where(given), utc=True, errors="coerce", format=fmt or "ISO8601")
    todo = given & parsed.isna()
    if todo.any() and fmt is None:
        epoch = text[todo].str.fullmatch(r"\d{10}(?:\.\d+)?|\d{13}")
        if epoch.any():
            idx = epoch[epoch].index
            nums = pd.to_numeric(text[idx])
            parsed[idx] = pd.to_datetime(np.where(nums > 1e11, nums / 1000, nums), unit="s", utc=True)
        rest = todo & parsed.isna()
        if rest.any():
            parsed[rest] = pd.to_datetime(s[rest], utc=True, errors="coerce", format="mixed")
    return parsed, given


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
