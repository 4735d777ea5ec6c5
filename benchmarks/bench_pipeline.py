"""Benchmark: wall time per stage and items/s on the bundled demo (or --input FILE), real model, cold cache.

Prints figures; asserts nothing. Usage: python benchmarks/bench_pipeline.py [--input FILE] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from insight.config import load_config
    from insight.demo import DEMO_OVERRIDES, demo_path
    from insight.flow import run

    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=None)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    source = args.input or demo_path()
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as home:  # cold embedding cache every time
            cfg = load_config(home=home, **({} if args.input else DEMO_OVERRIDES))
            t0 = time.perf_counter()
            result = run(source, cfg)
            total = time.perf_counter() - t0
        n = result.counts.stored
        print(f"run {i + 1}: {result.counts.read} rows read, {n} analysed in {total:.1f} s "
              f"({result.counts.read / total:.0f} rows/s end to end)")
        for stage, secs in result.manifest["timings_s"].items():
            rate = f"{n / secs:,.0f} items/s" if secs > 0 else "-"
            print(f"  {stage:<8} {secs:7.2f} s  {rate}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
