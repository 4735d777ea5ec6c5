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
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from .. import schema as S
from ..config import IngestConfig
from ..errors import InputError, missing_extra
from .mapping import PARSE_ERROR, RAW_RECORD, map_columns, resolve_mapping

READERS = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json", ".parquet", ".pq", ".xlsx", ".xls")
_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


# ---------------------------------------------------------------- public readers

def read_feedback(path: str | Path, cfg: IngestConfig | None = None) -> pd.DataFrame:
    """The whole export as one canonical frame (``read_chunks`` concatenated)."""
    chunks = list(read_chunks(path, cfg))
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def read_chunks(path: str | Path, cfg: IngestConfig | None = None, chunk_size: int = 50_000,
                contact_key: bytes | None = None) -> Iterator[pd.DataFrame]:
    """Stream an export (CSV/TSV, JSONL, JSON array, Parquet, Excel; optionally gzip'd) as mapped frames;
    ``contact_key`` keys the hashes of contact ids (``map_columns``)."""
    cfg = cfg or IngestConfig()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file not found: {path}", code="E201")
    mapping = resolve_mapping(cfg)
    schemaless = _format_of(path)[0] in (".json", ".jsonl", ".ndjson")  # a record may just lack a key
    emitted = seen_text = False
    row0 = 0
    seen: Counter = Counter()  # identical rows without ids, across chunks
    for raw in _raw_chunks(path, chunk_size):
        frame = map_columns(raw, cfg, source=path.name, mapping=mapping, first_row=row0 + 1, seen=seen,
                            allow_missing_text=schemaless, contact_key=contact_key)
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
    except (OSError, EOFError, ValueError, UnicodeError, zipfile.BadZipFile) as exc:
        # a file that is not what its name says: an .xlsx that is not a workbook, a truncated gzip, wrong encoding
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
    with _open_binary(path, gz) as fb, io.TextIOWrapper(fb, encoding=encoding, errors="replace", newline="") as text:
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
                yield {PARSE_ERROR: f"csv_error: {exc}", S.LINE: start, RAW_RECORD: _raw(tap.buffer)}
                tap.buffer.clear()
                continue
            lines = tap.buffer[:]
            tap.buffer.clear()
            if not fields or (width > 1 and len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line is not a record
            if len(fields) == width and not (len(lines) > 1 and _swallowed(lines, width, delimiter)):
                yield {**dict(zip(header, fields)), S.LINE: start}
            elif len(lines) > 1:
                # a stray quote made one "record" out of several lines: read them one by one instead
                yield from _reparse_lines(lines, header, delimiter, start)
            else:
                rec = dict(zip(header, fields))
                rec.update({PARSE_ERROR: f"wrong_field_count: expected {width}, found {len(fields)}", S.LINE: start,
                            RAW_RECORD: _raw(lines)})
                yield rec


def _swallowed(lines: list[str], width: int, delimiter: str) -> bool:
    """Several records read as one: the field's closing quote sits inside text (``_badly_closed``), or three or
    more lines each hold a whole record on their own (a real multi-line text rarely splits that way)."""
    if _badly_closed(lines[-1], delimiter):
        return True
    if len(lines) < 3 or width < 2:  # with one column every line is "a whole record": no evidence either way
        return False
    return all(len(next(csv.reader([ln.rstrip("\r\n")], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])) == width
               for ln in lines if ln.strip())


def _badly_closed(last_line: str, delimiter: str) -> bool:
    """True when the quote that ends a multi-line field is not followed by a delimiter or the line end.

    A writer closes a quoted field with '"' right before the delimiter; a '"' inside text ("label " card") that the
    reader took as the close means an earlier stray quote opened the field, and the lines between are records of
    their own (with the right number of fields by chance, they were silently swallowed into one).
    """
    line = last_line.rstrip("\r\n")
    i = 0
    while True:
        i = line.find('"', i)
        if i < 0:
            return False
        if line.startswith('""', i):  # an escaped quote inside the field
            i += 2
            continue
        return i + 1 < len(line) and line[i + 1] != delimiter


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
            rec[RAW_RECORD] = _raw([line])
        yield rec


def _raw(lines: list[str]) -> str:
    """A record that cannot be split into fields, as its file had it: the quarantine row shows what to fix."""
    return "".join(lines).rstrip("\r\n")


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
    with _open_binary(path, gz) as fb, io.TextIOWrapper(fb, encoding=encoding, errors="replace") as text:
        for n, line in enumerate(text, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield {PARSE_ERROR: f"bad_json: {exc.msg} at column {exc.colno}", S.LINE: n, RAW_RECORD: _raw([line])}
                continue
            except RecursionError:  # thousands of nested brackets: one bad record, not a crash
                yield {PARSE_ERROR: "bad_json: nested too deeply to read", S.LINE: n, RAW_RECORD: _raw([line])}
                continue
            if not isinstance(obj, dict):
                yield {PARSE_ERROR: f"not_an_object: a JSON {type(obj).__name__}", S.LINE: n,
                       RAW_RECORD: _raw([line])}
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
    except RecursionError as exc:
        raise InputError(f"{path}: JSON nested too deeply to read; export it as JSON Lines (one record per line) "
                         f"so one bad record is quarantined instead", code="E204") from exc
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
