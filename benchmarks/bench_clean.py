"""Benchmark: read + clean throughput (rows/s) on real remarks; goal >= 10,000 rows/s on 2 cores.

Reads ``ecommerce_support/Customer_support_data.csv`` from the data directory ($INSIGHT_DATA_DIR, default
../shared/data). Prints figures; asserts nothing. Usage: python benchmarks/bench_clean.py [--repeat N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from insight.clean import CleanState, clean
from insight.config import load_config
from insight.ingest import read_chunks, validate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--file", default="ecommerce_support/Customer_support_data.csv")
    ap.add_argument("--profile", default="csat_remarks")
    args = ap.parse_args()
    cfg = load_config(ingest={"profile": args.profile})
    path = cfg.data_path / args.file
    if not path.is_file():
        raise SystemExit(f"data file not found: {path} (set INSIGHT_DATA_DIR)")
    clean(validate(next(read_chunks(path, cfg.ingest, 100)), cfg.ingest), cfg.clean)  # warm: lingua loads once
    for i in range(args.repeat):
        t0 = time.perf_counter()
        frames = list(read_chunks(path, cfg.ingest, cfg.ingest.chunk_size))
        t1 = time.perf_counter()
        state, n = CleanState(), 0
        for f in frames:
            out, _ = clean(validate(f, cfg.ingest), cfg.clean, state)
            n += len(out)
        t2 = time.perf_counter()
        print(f"run {i + 1}: {n:,} rows of {Path(path).name}: read {n / (t1 - t0):,.0f} rows/s, "
              f"validate+clean {n / (t2 - t1):,.0f} rows/s, together {n / (t2 - t0):,.0f} rows/s")


if __name__ == "__main__":
    main()
