"""Benchmark: what the neighbour memory of a tagger costs (items/s when tagging, bytes on disk).

A tagger trained with untagged feedback (``NeighbourTagger``) compares every item it tags with up to
``tag.neighbour_memory`` remembered vectors. This times that on synthetic vectors of the shape a fine-tuned model
uses (frozen + tuned = 768 dimensions) with a real logistic head, so it needs no data directory. Prints figures;
asserts nothing. Usage: python benchmarks/bench_neighbours.py [--memory N] [--items N] [--classes N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from insight.tag import CalibratedTagger, LogisticTagger, NeighbourTagger, load_model, save_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--memory", type=int, default=20000, help="untagged rows remembered (tag.neighbour_memory)")
    ap.add_argument("--items", type=int, default=10000, help="items tagged")
    ap.add_argument("--classes", type=int, default=77)
    ap.add_argument("--dim", type=int, default=768)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(args.classes, args.dim)).astype(np.float32)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, args.classes, n)
        return centres[y] + 2.0 * rng.normal(size=(n, args.dim)).astype(np.float32), y.astype(str)

    X, y = draw(8 * args.classes)
    pool, _ = draw(args.memory)
    items, _ = draw(args.items)
    head = LogisticTagger().fit(X, y)
    t0 = time.perf_counter()
    tagger = NeighbourTagger(head, max_memory=args.memory).remember(X, y, pool)
    t1 = time.perf_counter()
    head.predict_proba(items)
    t2 = time.perf_counter()
    tagger.predict_proba(items)
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_model(CalibratedTagger(tagger), Path(tmp) / "m", taxonomy_fingerprint=None, embedder="bench",
                            training_hash="-")
        size = (folder / "weights.npz").stat().st_size
        t4 = time.perf_counter()
        load_model(folder)
        t5 = time.perf_counter()
    print(f"memory {len(tagger.memory_):,} rows x {args.dim} dims, {args.classes} causes")
    print(f"remember (head on the pool + float16 copy): {t1 - t0:.2f} s")
    print(f"tag {args.items:,} items: head alone {args.items / (t2 - t1):,.0f} items/s, "
          f"with neighbours {args.items / (t3 - t2):,.0f} items/s")
    print(f"weights.npz {size / 2**20:.1f} MiB; load with checksum {t5 - t4:.2f} s")


if __name__ == "__main__":
    main()
