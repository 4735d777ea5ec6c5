"""Benchmark: the embedding cache at scale: write, reopen, look up, and a fully cached run's memory.

    python benchmarks/vector_store.py [--n 1000000] [--runs 10]

Stores ``--n`` random unit vectors (384-d) as ``--runs`` runs would (one shard each), then in a fresh process-state:
opens the cache, looks up 100,000 keys, and embeds all ``--n`` texts through ``embed_texts`` with every vector
cached (what a rerun does), printing times, bytes on disk and peak RSS. The embedder is a stand-in that fails if
called: a rerun must embed nothing. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class MustNotEmbed:
    name = cache_name = "bench-384"

    def encode(self, texts):
        raise AssertionError(f"asked to embed {len(texts)} texts that are cached")


def main() -> None:
    import numpy as np

    from insight.embed.cache import EmbeddingCache, embed_texts, text_key

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    texts = [f"feedback text number {i}" for i in range(args.n)]
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        per = -(-args.n // args.runs)
        for r in range(args.runs):
            chunk = texts[r * per:(r + 1) * per]
            X = rng.normal(size=(len(chunk), 384)).astype(np.float32)
            X /= np.linalg.norm(X, axis=1, keepdims=True)
            EmbeddingCache(folder, "bench-384").add([text_key(t) for t in chunk], X)
        write = time.perf_counter() - t0
        del X
        cache_dir = Path(folder) / "vectors-bench-384"
        disk = sum(p.stat().st_size for p in cache_dir.iterdir()) / 2**20
        print(f"wrote {args.n:,} vectors in {args.runs} runs: {write:.1f} s, {disk:,.0f} MiB on disk, "
              f"{len(list(cache_dir.glob('keys-*.npy')))} shards; peak RSS so far {rss_mb():,.0f} MiB")
        t0 = time.perf_counter()
        cache = EmbeddingCache(folder, "bench-384")
        size = cache.size
        print(f"opened: {size:,} vectors indexed in {time.perf_counter() - t0:.2f} s")
        keys = [text_key(t) for t in rng.choice(texts, 100_000, replace=False)]
        t0 = time.perf_counter()
        found, _ = cache.lookup(keys)
        print(f"looked up 100,000 keys in {time.perf_counter() - t0:.2f} s ({found.mean():.0%} found)")
        t0 = time.perf_counter()
        X = embed_texts(texts, MustNotEmbed(), EmbeddingCache(folder, "bench-384"))
        print(f"a rerun over all {len(texts):,} texts: {time.perf_counter() - t0:.1f} s, embedded 0, "
              f"matrix {X.nbytes / 2**20:,.0f} MiB; peak RSS {rss_mb():,.0f} MiB")


if __name__ == "__main__":
    main()
