import gzip

import pandas as pd
import pytest

from insight import schema as S
from insight.config import IngestConfig
from insight.errors import InputError
from insight.ingest import map_columns, read_feedback, validate

MAP = IngestConfig(columns={"item_id": "id"})


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "csv.gz", "json"])
def test_reads_every_format_with_mapping(tmp_path, tiny_frame, fmt):
    p = tmp_path / f"f.{fmt}"
    if fmt == "csv":
        tiny_frame.to_csv(p, index=False)
    elif fmt == "csv.gz":
        p.write_bytes(gzip.compress(tiny_frame.to_csv(index=False).encode()))
    elif fmt == "jsonl":
        tiny_frame.to_json(p, orient="records", lines=True)
    elif fmt == "json":
        tiny_frame.to_json(p, orient="records")
    else:
        tiny_frame.to_parquet(p)
    df = read_feedback(p, MAP)
    assert len(df) == len(tiny_frame)
    assert df[S.ID].tolist() == tiny_frame["id"].tolist()
    assert df[S.ROW].tolist() == list(range(1, len(tiny_frame) + 1))
    assert (df[S.SOURCE] == p.name).all()


def test_latin1_and_semicolon_csv(tmp_path):
    p = tmp_path / "export.csv"
    p.write_bytes("text;timestamp\nle colis est arrivé abîmé;2026-01-02\n".encode("latin-1"))
    df = read_feedback(p)
    assert df[S.TEXT].iloc[0] == "le colis est arrivé abîmé"


def test_missing_file_and_text_column(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_feedback(tmp_path / "nope.csv")
    p = tmp_path / "a.csv"
    p.write_text("comment,date\nhello,2026-01-01\n")
    with pytest.raises(InputError, match="no text column"):
        read_feedback(p)
    with pytest.raises(InputError, match="mapped columns not found"):
        read_feedback(p, IngestConfig(columns={"text": "remarks"}))


def test_unsupported_type(tmp_path):
    p = tmp_path / "a.docx"
    p.write_text("x")
    with pytest.raises(InputError, match="unsupported"):
        read_feedback(p)


def test_validate_quarantines_with_reasons(tiny_frame):
    df = validate(map_columns(tiny_frame, MAP), IngestConfig())
    reasons = dict(zip(df[S.ID], df[S.REASON]))
    assert reasons["Q1"] == "bad_timestamp"
    assert reasons["Q2"] == "bad_rating"
    assert (df[S.STATUS] == S.QUARANTINED).sum() == 2
    assert str(df[S.TIMESTAMP].dtype).endswith("UTC]")
    assert df is not tiny_frame and "status" not in tiny_frame.columns  # input not mutated


def test_missing_timestamp_column_uses_ingest_time():
    raw = pd.DataFrame({"text": ["late parcel"]})
    now = pd.Timestamp("2026-02-01", tz="UTC")
    df = validate(map_columns(raw, IngestConfig()), IngestConfig(), now=now)
    assert df[S.TIMESTAMP].iloc[0] == now and df[S.STATUS].iloc[0] == ""


def test_rows_without_an_id_keep_the_same_id_in_next_weeks_export(tmp_path):
    """Issue 18: without an id column, an item was named by file and row ("week1:3"), so the same feedback in next
    week's export (another file name, rows shifted) became a new item. Its id is now a keyed hash of what the row
    says; identical rows stay separate items ("#2"), counted across chunks, and in the next export too."""
    from insight.ingest import read_chunks

    rows = [{"text": "parcel late", "timestamp": "2026-01-05"}, {"text": "refund missing", "timestamp": "2026-01-06"},
            {"text": "parcel late", "timestamp": "2026-01-05"}, {"text": "zip broke", "timestamp": "2026-01-07"}]
    pd.DataFrame(rows).to_csv(tmp_path / "week1.csv", index=False)
    pd.DataFrame([{"text": "new one", "timestamp": "2026-01-12"}, *rows]).to_csv(tmp_path / "week2.csv", index=False)
    cfg = IngestConfig()
    one = pd.concat(read_chunks(tmp_path / "week1.csv", cfg, chunk_size=2, contact_key=b"k"))[S.ID].tolist()
    two = pd.concat(read_chunks(tmp_path / "week2.csv", cfg, chunk_size=3, contact_key=b"k"))[S.ID].tolist()
    assert two[1:] == one and len(set(one)) == 4 and one[2] == one[0] + "#2"
    assert not any("week" in i for i in one)
    other_key = pd.concat(read_chunks(tmp_path / "week1.csv", cfg, contact_key=b"other"))[S.ID].tolist()
    assert other_key[0] != one[0]  # keyed: the id cannot be recomputed from a guessed text without the key
