"""Fuzz ingest: generated CSV, JSONL and JSON files, each record marked, every record accounted for exactly once.

    python benchmarks/fuzz_ingest.py [--files 2000] [--seed 0] [--show 5]

Each generated record's text carries a marker (``Q<file>x<record>Q``). A file passes when reading and cleaning
it (``insight ingest`` without storing) raises no traceback, the counts add up (read = stored + duplicates +
quarantined + non-actionable), and every record has a row of its own: its marker is in exactly one row and no row
holds two markers. Records are written the way broken exports are: stray and unbalanced quotes, embedded
newlines and delimiters, blank and whitespace texts, odd timestamps (epochs in seconds and milliseconds, year 1
and 9999, nanoseconds, garbage), ids repeated and suffixed, control and invisible characters, mojibake.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

WORDS = ("parcel late refund card declined courier lost size small zip broke app crash agent rude order missing "
         "return label coupon invalid stock sold out café naïve 🙂 didnâ€™t").split()
ODD = ['"', '""', ",", ";", "\n", "\r\n", "\t", "\u200b", "\u00ad", "\x00", "\x07", "\ufffd", "'", "\\", "|"]
STAMPS = ["2026-01-0{d}T10:00:00Z", "0{d}/01/2026", "170000000{d}", "170000000000{d}", "0001-01-01", "9999-12-31",
          "2026-01-0{d}T10:00:00.123456789Z", "not a date", "", "2026-13-45"]


def record_text(rng: random.Random, marker: str) -> str:
    words = rng.choices(WORDS, k=rng.randint(1, 12))
    for _ in range(rng.randint(0, 3)):
        words.insert(rng.randint(0, len(words)), rng.choice(ODD))
    words.insert(rng.randint(0, len(words)), marker)
    return " ".join(words)


def records(rng: random.Random, file_no: int) -> list[dict]:
    out = []
    for i in range(rng.randint(1, 40)):
        rid = rng.choice([f"id{i}", f"id{rng.randint(0, 5)}", f"id{rng.randint(0, 5)}~2", ""])
        out.append({"id": rid, "text": record_text(rng, f"Q{file_no}x{i}Q"),
                    "rating": rng.choice(["1", "5", "3", "", "x", "4.5", "-2", "99"]),
                    "timestamp": rng.choice(STAMPS).format(d=rng.randint(1, 9))})
    return out


def random_layout(rng: random.Random) -> dict:
    """How a file is written: its format, and for CSV the delimiter, quoting, line ends and encoding."""
    kind = rng.choice(["csv", "csv", "csv", "jsonl", "json"])
    return {"kind": "csv-by-hand" if kind == "csv" and rng.random() < 0.3 else kind,
            "delimiter": rng.choice([",", ";", "\t"]), "quoting": rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
            "lineterminator": rng.choice(["\n", "\r\n"]), "encoding": rng.choice(["utf-8", "utf-8-sig"]),
            "ascii": rng.random() < 0.5, "tail": rng.choice(["", "\n", "\n\n"])}


def write_file(recs: list[dict], folder: Path, file_no: int, layout: dict) -> Path:
    kind = layout["kind"]
    path = folder / f"f{file_no}.{'csv' if kind.startswith('csv') else kind}"
    if kind == "jsonl":
        lines = [json.dumps(r, ensure_ascii=layout["ascii"]) for r in recs]
        path.write_text("\n".join(lines) + layout["tail"], encoding="utf-8")
    elif kind == "json":
        path.write_text(json.dumps(recs), encoding="utf-8")
    elif kind == "csv-by-hand":  # written by hand, without quoting: a stray quote is all it takes
        delimiter = "," if layout["delimiter"] == "\t" else layout["delimiter"]
        lines = [delimiter.join(["id", "text", "rating", "timestamp"])]
        for r in recs:
            text = "".join(ch for ch in r["text"] if ch not in ",;\t\r\n")
            lines.append(delimiter.join([r["id"], text, r["rating"], r["timestamp"]]))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=layout["delimiter"], quoting=layout["quoting"],
                       lineterminator=layout["lineterminator"])
        w.writerow(["id", "text", "rating", "timestamp"])
        for r in recs:
            w.writerow([r["id"], r["text"], r["rating"], r["timestamp"]])
        path.write_text(buf.getvalue(), encoding=layout["encoding"])
    return path


def write(rng: random.Random, recs: list[dict], folder: Path, file_no: int) -> Path:
    return write_file(recs, folder, file_no, random_layout(rng))


def hypothesis_files():
    """A Hypothesis strategy for ``(records, layout)``: the seeded generator's vocabulary, plus arbitrary text in
    every field (ids, ratings and timestamps included) and arbitrary epochs and dates, which Hypothesis shrinks to
    the smallest failing file."""
    from hypothesis import strategies as st

    free = st.text(max_size=8)
    word = st.one_of(st.sampled_from(WORDS), st.sampled_from(ODD), free)
    stamp = st.one_of(st.sampled_from(STAMPS).map(lambda s: s.format(d=3)), free,
                      st.integers(-(2**40), 2**45).map(str),
                      st.datetimes().map(lambda d: d.isoformat(sep=" ")))
    rid = st.one_of(st.sampled_from(["id1", "id2", "id2~2", "", "A", "A~2"]), free)
    rating = st.one_of(st.sampled_from(["1", "5", "3", "", "x", "4.5", "-2", "99"]), free,
                       st.floats(allow_nan=True).map(str))
    layout = st.fixed_dictionaries({
        "kind": st.sampled_from(["csv", "csv-by-hand", "jsonl", "json"]),
        "delimiter": st.sampled_from([",", ";", "\t"]),
        "quoting": st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
        "lineterminator": st.sampled_from(["\n", "\r\n"]), "encoding": st.sampled_from(["utf-8", "utf-8-sig"]),
        "ascii": st.booleans(), "tail": st.sampled_from(["", "\n", "\n\n"])})

    @st.composite
    def one_file(draw):
        recs = []
        for i in range(draw(st.integers(1, 30))):
            words = draw(st.lists(word, max_size=12))
            words.insert(draw(st.integers(0, len(words))), f"Q0x{i}Q")
            recs.append({"id": draw(rid), "text": " ".join(words), "rating": draw(rating), "timestamp": draw(stamp)})
        return recs, draw(layout)

    return one_file()


def run_hypothesis(n_files: int, folder: Path, cfg, seed: int = 0) -> tuple[int, int, list[str]]:
    """Check ``n_files`` Hypothesis-generated files; (files, records, failures) where a failure is the shrunk file's
    problem."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    tried = {"files": 0, "records": 0}

    @hypothesis_seed(seed)
    @settings(max_examples=n_files, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(hypothesis_files())
    def every_record_accounted(drawn):
        recs, layout = drawn
        tried["files"] += 1
        tried["records"] += len(recs)
        path = write_file(recs, folder, 0, layout)
        try:
            problem = check(path, recs, cfg)
        finally:
            path.unlink()
        assert problem is None, f"{problem}; layout {layout}; records {recs}"

    try:
        every_record_accounted()
    except AssertionError as exc:
        return tried["files"], tried["records"], [str(exc)]
    return tried["files"], tried["records"], []


def check(path: Path, recs: list[dict], cfg) -> str | None:
    """None when every record is accounted for exactly once, else what went wrong."""
    from insight.operations import ingest_only

    try:
        result = ingest_only(path, cfg, store=False)
    except Exception as exc:  # noqa: BLE001 - any traceback is the finding
        if getattr(exc, "code", None):  # a coded error on a file that cannot be read at all is an answer too
            return None if "cannot read" in str(exc) or "not valid JSON" in str(exc) else f"{exc.code}: {exc}"
        return "traceback: " + "".join(traceback.format_exception_only(type(exc), exc)).strip()
    c = result.counts
    if c.read != c.stored + c.duplicates + c.quarantined + c.non_actionable:
        return f"counts do not add up: {c}"
    # a record broken badly enough to shift its fields keeps its marker in another column of its own row
    texts = [" ".join(map(str, row)) for row in result.items.itertuples(index=False)]
    rows_with = {}
    for n in range(len(recs)):
        marker = f"Q{path.stem[1:]}x{n}Q"
        hits = [i for i, t in enumerate(texts[:len(result.items)]) if marker in t]
        rows_with[marker] = hits
    lost = [m for m, h in rows_with.items() if not h]
    shared = [m for m, h in rows_with.items() if len(h) > 1]
    merged = sum(1 for t in texts[:len(result.items)] if t.count("Q") >= 4 and
                 len({m for m in rows_with if m in t}) > 1)
    if lost or merged:
        return f"{len(lost)} records without a row, {merged} rows holding several records (of {len(recs)})"
    if shared:
        return None  # a record repeated as a duplicate row is fine
    return None


def main() -> None:
    from insight.config import load_config

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=5)
    ap.add_argument("--hypothesis", action="store_true", help="draw the files with Hypothesis strategies")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    failures, n_records = [], 0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(home=str(Path(tmp) / "home"), embed={"backend": "hashing", "cache": False},
                          clean={"detect_languages": ["en"]})
        if args.hypothesis:
            files, n_records, found = run_hypothesis(args.files, Path(tmp), cfg, args.seed)
            print(f"Hypothesis: {files} files (shrinking included), {n_records} records, "
                  f"{time.perf_counter() - t0:.0f} s: {len(found)} problems")
            for problem in found:
                print("  " + problem[:4000])
            return
        for f in range(args.files):
            recs = records(rng, f)
            n_records += len(recs)
            path = write(rng, recs, Path(tmp), f)
            problem = check(path, recs, cfg)
            if problem:
                failures.append((path.name, problem))
            path.unlink()
    print(f"{args.files} files, {n_records} records, {time.perf_counter() - t0:.0f} s: "
          f"{len(failures)} files with a problem")
    for name, problem in failures[:args.show]:
        print(f"  {name}: {problem}")


if __name__ == "__main__":
    main()
