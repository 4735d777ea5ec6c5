"""Messy exports: whatever a file holds, the reader never dies with a traceback and every row is accounted for."""

import csv
import io
import json
import string
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from insight import schema as S
from insight.config import IngestConfig, load_config
from insight.errors import InputError
from insight.operations import ingest_only

ALPHABET = string.ascii_letters + string.digits + " ,;|\t\"'\n\r=+-@.!?éüñ€£" + "日本"

cell = st.one_of(
    st.none(), st.just(""), st.text(alphabet=ALPHABET, max_size=40),
    st.sampled_from(["=HYPERLINK(\"http://x\")", "+1+1", "@SUM(A1)", "-2", "n/a", "👍", "  "]),
    st.integers(1000, 4000).map(lambda n: "parcel late " * n),  # a huge field (12-48 kB)
)
timestamp = st.one_of(st.none(), st.just(""), st.sampled_from(
    ["2026-01-05T10:00:00Z", "2026-01-05 10:00", "05/01/2026", "1767607200", "1767607200000", "not a date",
     "2026-13-45", "3026-01-01"]))
rating = st.one_of(st.none(), st.integers(-3, 12).map(str), st.sampled_from(["4.5", "five", ""]))


@st.composite
def messy_frame(draw):
    n = draw(st.integers(0, 25))
    rows = [{"text": draw(cell), "timestamp": draw(timestamp), "rating": draw(rating),
             "customer_id": draw(st.sampled_from(["c1", "c2", "", None, "a@b.example"])),
             "extra": draw(st.one_of(st.none(), st.text(alphabet=ALPHABET, max_size=10)))} for _ in range(n)]
    if rows and draw(st.booleans()):
        rows += draw(st.lists(st.sampled_from(rows), max_size=5))  # duplicated rows
    drop = draw(st.sets(st.sampled_from(["timestamp", "rating", "customer_id", "extra"])))  # missing columns
    return pd.DataFrame(rows, columns=[c for c in ["text", "timestamp", "rating", "customer_id", "extra"]
                                       if c not in drop])


def _write_csv(frame: pd.DataFrame, delimiter: str, encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")  # RFC 4180: CR and LF in fields get quoted
    w.writerow(frame.columns)
    for row in frame.itertuples(index=False):
        w.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode(encoding, errors="replace")  # what a legacy tool does with what it cannot write


def _config(tmp_path):
    return load_config(home=str(tmp_path / "home"), clean={"detect_languages": ["en"]})


def _check_accounting(result, expected_rows=None):
    c = result.counts
    assert c.read == c.stored + c.duplicates + c.quarantined + c.non_actionable
    assert set(result.items[S.STATUS]) <= set(S.STATUSES)
    assert result.items[S.ID].is_unique
    q = result.items[result.items[S.STATUS] == S.QUARANTINED]
    assert q[S.REASON].notna().all()
    if expected_rows is not None:
        assert c.read == expected_rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=messy_frame(), delimiter=st.sampled_from([",", ";", "\t", "|"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252"]), corrupt=st.booleans(),
       seed=st.integers(0, 10_000))
def test_messy_csv_every_row_accounted(tmp_path, frame, delimiter, encoding, corrupt, seed):
    data = _write_csv(frame, delimiter, encoding)
    if corrupt and b'"' in data:  # break the quoting: drop one quote character
        positions = [i for i, b in enumerate(data) if b == ord('"')]
        cut = positions[seed % len(positions)]
        data = data[:cut] + data[cut + 1:]
    path = tmp_path / f"export-{seed}.csv"
    path.write_bytes(data)
    try:
        result = ingest_only(path, _config(tmp_path), store=False)
    except InputError as exc:  # the only acceptable failure: a clear error that names the file
        assert path.name in str(exc)
        return
    note(repr(data[:300]))
    _check_accounting(result, None if corrupt else len(frame))
    if corrupt:
        physical = len(data.decode(encoding, errors="replace").splitlines())  # header + records, at most
        assert 1 <= result.counts.read <= max(physical, 1) or len(frame) == 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=messy_frame())
def test_messy_jsonl_and_parquet(tmp_path, frame):
    cfg = _config(tmp_path)
    jl = tmp_path / "x.jsonl"
    lines = [json.dumps({k: v for k, v in r.items() if v is not None}) for r in frame.to_dict("records")]
    jl.write_text("\n".join(lines + ["{broken json", "[1, 2]"]) + "\n", encoding="utf-8")
    try:
        result = ingest_only(jl, cfg, store=False)
    except InputError as exc:  # allowed only when no record has a text field at all
        assert "x.jsonl" in str(exc) and not any("text" in json.loads(line) for line in lines)
        return
    _check_accounting(result, len(frame) + 2)
    reasons = result.items.loc[result.items[S.STATUS] == S.QUARANTINED, S.REASON].tolist()
    assert "bad_json" in reasons and "not_an_object" in reasons
    pq = tmp_path / "x.parquet"
    frame.astype(object).astype(str).replace({"None": None}).to_parquet(pq)
    _check_accounting(ingest_only(pq, cfg, store=False), len(frame))


def test_unbalanced_quote_does_not_swallow_the_file(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text('text,rating\nfine one,4\n"broken quote here,2\nthird row,3\nfourth row,1\n"ok, quoted",5\n')
    result = ingest_only(path, _config(tmp_path), store=False)
    _check_accounting(result)
    texts = result.items[S.CLEAN_TEXT].tolist()
    assert any("third row" in t for t in texts) and any("fourth row" in t for t in texts)
    lines = result.items.set_index(S.CLEAN_TEXT)[S.LINE]
    assert lines[next(t for t in texts if "fourth row" in t)] == 5


def test_wrong_field_count_is_quarantined_with_its_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("text,rating\nparcel late,2\nparcel late,2,extra,fields\nrefund missing,1\n")
    result = ingest_only(path, _config(tmp_path), store=False)
    q = result.items[result.items[S.STATUS] == S.QUARANTINED]
    assert q[S.REASON].tolist() == ["wrong_field_count"] and q[S.LINE].tolist() == [3]
    assert "expected 2, found 4" in q[S.DETAIL].iloc[0]


@pytest.mark.parametrize("content,fragment", [
    (b"", "empty"),
    (b"\n\n", "empty"),
])
def test_empty_csv_is_a_clear_error(tmp_path, content, fragment):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=fragment) as e:
        ingest_only(path, _config(tmp_path), store=False)
    assert "empty.csv" in str(e.value)


def test_broken_json_array_names_file_and_line(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('[\n {"text": "late"},\n {"text": "refund" \n]\n')
    with pytest.raises(InputError) as e:
        ingest_only(path, _config(tmp_path), store=False)
    assert "export.json" in str(e.value) and "line 4" in str(e.value)


@pytest.mark.parametrize("name, content", [
    ("bad.parquet", b"PAR1 this is not parquet"),
    ("bad.xlsx", b"PK\x03\x04 this is not a workbook"),  # issue 16: a zip that is not a workbook (BadZipFile)
])
def test_a_file_that_is_not_what_its_name_says_is_a_clear_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=name):
        ingest_only(path, _config(tmp_path), store=False)


def test_header_only_file_reads_zero_rows(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("text,timestamp\n")
    result = ingest_only(path, _config(tmp_path), store=False)
    assert result.counts.read == 0


def test_excel(tmp_path):
    path = tmp_path / "x.xlsx"
    pd.DataFrame({"Comment": ["parcel late", "refund missing"], "Date": ["2026-01-05", "2026-01-06"]}).to_excel(
        path, index=False)
    cfg = _config(tmp_path).model_copy(update={"ingest": IngestConfig(columns={"text": "Comment",
                                                                                 "timestamp": "Date"})})
    result = ingest_only(path, cfg, store=False)
    assert result.counts.stored == 2


def test_out_of_range_years_are_quarantined_not_the_whole_file(tmp_path):
    """Regression (issue 16): year 0001/9999 next to a nanosecond ISO stamp raised OutOfBoundsDatetime and the
    whole file was lost."""
    path = tmp_path / "years.csv"
    path.write_text("text,timestamp\nparcel late one,0001-01-01T00:00:00\nparcel late two,9999-12-31T00:00:00\n"
                    "parcel late three,2026-01-01T10:00:00.123456789Z\nparcel late four,2026-01-02\n"
                    "parcel late five,1700000000000\n")
    result = ingest_only(path, _config(tmp_path), store=False)
    _check_accounting(result)
    items = result.items.set_index(S.CLEAN_TEXT)
    assert items.loc["parcel late one", S.REASON] in ("bad_timestamp", "implausible_timestamp")
    assert items.loc["parcel late two", S.REASON] in ("bad_timestamp", "future_timestamp")
    assert items.loc["parcel late three", S.STATUS] != S.QUARANTINED
    assert str(items.loc["parcel late five", S.TIMESTAMP])[:10] == "2023-11-14"  # epoch milliseconds


def test_deeply_nested_json_is_a_quarantine_row_not_a_traceback(tmp_path):
    """Regression (issue 16): a deeply nested JSON record raised RecursionError."""
    path = tmp_path / "deep.jsonl"
    path.write_text('{"text": "parcel late"}\n' + '{"a":' * 5000 + "1" + "}" * 5000 + '\n{"text": "refund late"}\n')
    result = ingest_only(path, _config(tmp_path), store=False)
    _check_accounting(result)
    assert result.counts.read == 3
    q = result.items[result.items[S.STATUS] == S.QUARANTINED]
    assert len(q) == 1 and q[S.LINE].tolist() == [2]


def test_epoch_milliseconds_beside_other_formats_do_not_crash(tmp_path):
    """Regression (issue 16, found by benchmarks/fuzz_ingest.py): millisecond epochs in a column whose ISO values
    pandas kept at microseconds raised TypeError and lost the file."""
    path = tmp_path / "mixed.csv"
    path.write_text("text,timestamp\nparcel late c,9999-12-31\nparcel late a,1700000000007\n"
                    "parcel late b,2026-01-01T10:00:00.123456789Z\nparcel late d,1700000003\n"
                    "parcel late e,03/01/2026\n")
    result = ingest_only(path, _config(tmp_path), store=False)
    _check_accounting(result)
    stamps = result.items.set_index(S.CLEAN_TEXT)[S.TIMESTAMP]
    assert str(stamps["parcel late a"])[:10] == "2023-11-14" and str(stamps["parcel late d"])[:10] == "2023-11-14"


def test_parse_timestamps_far_date_beside_epoch_milliseconds():
    """The pair benchmarks/fuzz_ingest.py reduced the TypeError to."""
    from insight.ingest import parse_timestamps

    parsed, given = parse_timestamps(pd.Series(["9999-12-31", "1700000000001"], dtype=object))
    assert given.all() and parsed[0].year == 2262 and str(parsed[1])[:10] == "2023-11-14"  # held at the edge


def test_epoch_past_the_year_2262_is_held_at_the_edge_not_a_traceback():
    """Regression (issue 16, found by the Hypothesis fuzzing): a 13-digit epoch past what pandas stores
    (9223372036855 ms) raised OutOfBoundsDatetime and lost the file."""
    from insight.ingest import parse_timestamps

    parsed, given = parse_timestamps(pd.Series(["9223372036855", "9999999999", "1700000000001"], dtype=object))
    assert given.all() and parsed[0].year == 2262 and parsed[1].year == 2262 and parsed[2].year == 2023


def test_a_record_that_cannot_be_split_keeps_what_it_said_redacted(tmp_path):
    """Regression (issue 16, found by the Hypothesis fuzzing): a hand-written line with one delimiter too many
    (an id holding ';') was quarantined with its line number, but its words went nowhere: the text column held the
    id's empty half and the text landed in the rating column, which became NaN. The quarantine row now carries the
    record as the file had it, redacted like any text."""
    path = tmp_path / "by_hand.csv"
    path.write_text("id;text;rating;timestamp\nA;parcel late;1;2026-01-03\n"
                    "B;C;parcel never came, mail jo@example.com;1;2026-01-03\n"
                    'D;"label lost;2;2026-01-03\nE;fine;5;2026-01-04\n')
    result = ingest_only(path, _config(tmp_path), store=False)
    _check_accounting(result, expected_rows=4)
    q = result.items[result.items[S.STATUS] == S.QUARANTINED].set_index(S.LINE)
    assert q.loc[3, S.REASON] == "wrong_field_count"
    assert "parcel never came" in q.loc[3, S.TEXT] and "jo@example.com" not in q.loc[3, S.TEXT]
    assert "label lost" in " ".join(result.items[S.TEXT].astype(str))


def test_a_stray_opening_quote_does_not_swallow_the_records_after_it(tmp_path):
    """Regression (issue 16): a quote opening a field and 'closed' lines later by a quote inside text made one
    record, with the right number of fields, out of many (661 of 6,000 fuzzed records had no row)."""
    path = tmp_path / "stray.csv"
    path.write_text('id,text,rating\n1,parcel late A1,2\n2," refund missing A2,1\n3,card declined A3,1\n'
                    '4,zip broke A4,2\n5,label " card A5,3\n6,tracking stuck A6,1\n'
                    '7,"a real quote, over\ntwo lines A7",4\n')
    result = ingest_only(path, _config(tmp_path), store=False)
    _check_accounting(result)
    texts = result.items[S.CLEAN_TEXT].fillna("").tolist()
    for marker in ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]:
        assert sum(marker in t for t in texts) == 1, (marker, texts)
    assert not any(sum(m in t for m in ["A2", "A3", "A4", "A5"]) > 1 for t in texts)
    assert any("A7" in t and "over" in t for t in texts)  # a well-formed multi-line field stays one record


def test_fuzzed_exports_account_for_every_record(tmp_path):
    """A slice of ``benchmarks/fuzz_ingest.py`` (which runs 2,000 files): broken quoting, odd timestamps, repeated
    ids, invisible and control characters; every record keeps a row of its own."""
    import random

    fuzz = _fuzz_benchmark()
    rng = random.Random(7)
    cfg = load_config(home=str(tmp_path / "home"), embed={"backend": "hashing", "cache": False},
                      clean={"detect_languages": ["en"]})
    problems = []
    for f in range(80):
        recs = fuzz.records(rng, f)
        path = fuzz.write(rng, recs, tmp_path, f)
        problem = fuzz.check(path, recs, cfg)
        if problem:
            problems.append((path.name, problem))
    assert problems == []


def test_hypothesis_fuzzed_exports_account_for_every_record(tmp_path):
    """The Hypothesis strategies of ``benchmarks/fuzz_ingest.py --hypothesis`` (which runs 2,000 files): arbitrary
    text in every field, arbitrary epochs and dates, four file layouts; every record keeps a row of its own."""
    fuzz = _fuzz_benchmark()
    cfg = load_config(home=str(tmp_path / "home"), embed={"backend": "hashing", "cache": False},
                      clean={"detect_languages": ["en"]})
    files, records, problems = fuzz.run_hypothesis(80, tmp_path, cfg, seed=11)
    assert problems == [] and files >= 80 and records > files


def test_a_quoted_multi_line_field_in_a_one_column_file_stays_one_record(tmp_path):
    """Regression (found by Hypothesis in test_messy_csv_every_row_accounted): in a file with one column every line
    "holds a whole record", so the swallowed-records check split a quoted field spanning three lines into two."""
    path = tmp_path / "one_column.csv"
    path.write_bytes(b'text\r\n"\r\r"\r\n"parcel\nlate\nagain"\r\n')
    result = ingest_only(path, _config(tmp_path), store=False)
    _check_accounting(result, expected_rows=2)


def _fuzz_benchmark():
    """``benchmarks/fuzz_ingest.py`` as a module: the suite runs a slice of its generators."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "fuzz_ingest", Path(__file__).resolve().parents[1] / "benchmarks" / "fuzz_ingest.py")
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    return fuzz
