"""Benchmark: embedding throughput against what this CPU can compute, and agreement with plain fp32.

    python benchmarks/embed_speed.py [--n 2000] [--threads N] [--modes st-default,insight-fp32,insight-onnx,...]

A mode ``insight-bf16-p2`` runs ``embed.processes: 2`` (worker processes, each with cores / 2 torch threads).

Texts: ``--n`` real feedback texts (a third each of clothing reviews, CSAT remarks and Banking77 queries, from
``$INSIGHT_DATA_DIR``, default ``../shared/data``), read as the pipeline reads them (``clean.model_texts``), each
distinct text once (the pipeline never embeds a text twice).
Limit: a matrix-multiply microbenchmark measures this machine's peak (fp32 and bf16, the threads torch uses);
all-MiniLM-L6-v2's linear layers cost 2 x 1.77 M multiply-adds per token, so the limit in texts/s is peak / (that
x the texts' mean token count). Each mode prints texts/s, its share of the limit of its precision, the speed-up
over the sentence-transformers default, and top-1 agreement: for how many texts the nearest other text is the
same as with the sentence-transformers fp32 vectors (ties there count as agreement). Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FLOP_PER_TOKEN = 2 * 6 * (4 * 384 * 384 + 2 * 384 * 1536)  # MiniLM-L6: 6 layers of attention + MLP projections


def real_texts(n: int) -> list[str]:
    import pandas as pd

    from insight.clean import model_texts

    data = Path(os.environ.get("INSIGHT_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
    clothing = pd.read_csv(data / "womens_clothing_reviews" / "reviews.csv")["Review Text"].dropna()
    csat = pd.read_csv(data / "ecommerce_support" / "Customer_support_data.csv")["Customer Remarks"].dropna()
    bank = pd.read_csv(data / "banking77" / "test.csv")["text"].dropna()
    third = n // 3
    parts = [s.sample(min(len(s), k), random_state=0).astype(str).tolist()
             for s, k in ((clothing, third), (csat, third), (bank, n - 2 * third))]
    return list(dict.fromkeys(model_texts([t for p in parts for t in p])))  # distinct, as the pipeline embeds


def peak_gflops(dtype_name: str, seconds: float = 2.0) -> float:
    import torch

    from insight.embed.backends import product_gflops

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    return product_gflops(dtype, 2048, 2048, 2048, seconds)


def top1(X):
    """Each text's nearest other text, and all the similarities."""
    import numpy as np

    S = X @ X.T
    np.fill_diagonal(S, -np.inf)
    return S.argmax(axis=1), S


def agreement(X, reference) -> float:
    """Share of texts whose nearest neighbour under ``X`` is also nearest under the reference vectors (a tie in
    the reference, which near-identical remarks make common, counts as agreement)."""
    import numpy as np

    ref_best, ref_sims = reference
    best, _ = top1(X)
    rows = np.arange(len(best))
    return float(np.mean(ref_sims[rows, best] >= ref_sims[rows, ref_best] - 1e-4))


def main() -> None:
    import numpy as np
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--modes", default="st-default,insight-fp32,insight-onnx,insight-bf16")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from insight.embed.backends import SentenceTransformerEmbedder

    texts = real_texts(args.n)
    base = SentenceTransformerEmbedder(precision="fp32")
    model = base._load()
    tokens = [len(ids) for ids in model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]]
    mean_tokens = float(np.mean(tokens))
    peaks = {p: peak_gflops(p) for p in ("fp32", "bf16")}
    limits = {p: peaks[p] * 1e9 / (FLOP_PER_TOKEN * mean_tokens) for p in peaks}
    print(f"{len(texts)} texts, mean {mean_tokens:.1f} tokens, {torch.get_num_threads()} threads; "
          f"peak fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} GFLOP/s; limit "
          f"fp32 {limits['fp32']:.0f} texts/s, bf16 {limits['bf16']:.0f} texts/s")
    reference, results = None, []
    for mode in args.modes.split(","):
        if mode == "st-default":
            run = lambda: model.encode(texts, batch_size=32, convert_to_numpy=True,  # noqa: E731
                                       normalize_embeddings=True, show_progress_bar=False)
            precision = "fp32"
        elif mode == "insight-onnx":  # embed.backend: onnx (the graph is exported once, outside the timing)
            import tempfile

            from insight.embed.onnx import OnnxEmbedder

            emb = OnnxEmbedder(Path(tempfile.mkdtemp()) / "onnx")
            run = lambda emb=emb: emb.encode(texts)  # noqa: E731
            precision = "fp32"
        else:  # insight-<precision>[-p<processes>]: worker processes are started in the untimed warm call
            parts = mode.split("-")
            processes = int(parts[2][1:]) if len(parts) > 2 else 1
            emb = SentenceTransformerEmbedder(precision=parts[1], processes=processes, min_parallel=0)
            emb._model = model
            run = lambda emb=emb: emb.encode(texts)  # noqa: E731
            precision = emb.resolved_precision
        run()  # warm: first-call allocation and kernel choice
        t0 = time.perf_counter()
        X = np.asarray(run(), dtype=np.float32)
        rate = len(texts) / (time.perf_counter() - t0)
        if reference is None:
            reference, base_rate = top1(X), rate
        agree = agreement(X, reference)
        results.append((mode, precision, rate, rate / limits[precision], rate / base_rate, agree))
    print(f"{'mode':<14} {'precision':<9} {'texts/s':>8} {'% limit':>8} {'x default':>9} {'top-1 agree':>11}")
    for mode, precision, rate, share, speed, agree in results:
        print(f"{mode:<14} {precision:<9} {rate:8.0f} {share:8.0%} {speed:9.2f} {agree:11.3f}")


if __name__ == "__main__":
    main()
