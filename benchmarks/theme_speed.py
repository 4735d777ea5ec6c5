"""Benchmark: the theme stage against BERTopic, on the same vectors, in one process.

    python benchmarks/theme_speed.py [--sizes 20000,100000] [--labelled banking77,clinc150] [--skip-bertopic]
                                     [--home DIR] [--profile] [--repeats N]

Texts: real feedback from ``$INSIGHT_DATA_DIR`` (default ``../shared/data``): clothing reviews and their titles,
CSAT remarks, Banking77 (train + test), CLINC150 (all splits), read as the pipeline reads them
(``clean.model_texts``), shuffled with a fixed seed and cut to each size. Vectors come from insight's default
embedder through the embedding cache under ``--home`` (a second run embeds nothing), so both tools see the same
vectors and only the theme stage is timed.

- insight: ``themes.find_themes`` with the default config: discovery, keywords, labels, key phrases, examples,
  sub-themes (everything the pipeline's theme stage does before root causes exist).
- BERTopic 0.17.4 defaults: ``BERTopic().fit_transform(docs, embeddings)`` (UMAP 5-d, HDBSCAN, c-TF-IDF).

Each tool runs once untimed on 6,000 texts first (numba compiles UMAP's kernels, and pynndescent's above 4,096
rows), then ``--repeats`` times timed per size, in turns (insight, BERTopic, insight, ...), and the median and range
are printed: BERTopic's time moves by a fifth from run to run (its UMAP runs on every core, unseeded), so one pair
of runs can put the ratio anywhere between 2.5x and 3.2x. On the labelled
sets (test split; CLINC150 in-scope) it prints NMI, ARI, the unthemed share and the theme count of both.
Needs ``pip install -e ".[bench]"`` (BERTopic 0.17.4; not a dependency of insight). Prints figures; asserts nothing.
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


def data_dir() -> Path:
    return Path(os.environ.get("INSIGHT_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))


def real_texts() -> list[str]:
    import json

    import pandas as pd

    from insight.clean import model_texts

    data = data_dir()
    clothing = pd.read_csv(data / "womens_clothing_reviews" / "reviews.csv")
    csat = pd.read_csv(data / "ecommerce_support" / "Customer_support_data.csv")["Customer Remarks"]
    bank = [pd.read_csv(data / "banking77" / f"{s}.csv")["text"] for s in ("train", "test")]
    clinc = json.loads((data / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    parts = [clothing["Review Text"], clothing["Title"], csat, *bank,
             pd.Series([t for split in clinc.values() for t, _ in split])]
    texts = pd.concat(parts).dropna().astype(str)
    texts = texts[texts.str.strip().str.len() > 0].sample(frac=1.0, random_state=0)
    return model_texts(texts.tolist())


def rss_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def run_insight(texts, X, cfg, profile: bool = False):
    from insight import assembly, themes

    keys = [str(i) for i in range(len(texts))]
    t0 = time.perf_counter()
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        found = prof.runcall(themes.find_themes, texts, X, keys, assembly.clusterer(cfg), cfg.themes, seed=cfg.seed)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    else:
        found = themes.find_themes(texts, X, keys, assembly.clusterer(cfg), cfg.themes, seed=cfg.seed)
    seconds = time.perf_counter() - t0
    ids = found.ids
    codes = {t: i for i, t in enumerate(dict.fromkeys(ids))}
    import numpy as np

    labels = np.array([-1 if t == "unthemed" else codes[t] for t in ids])
    return seconds, labels


def run_bertopic(texts, X):
    import warnings

    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from bertopic import BERTopic

        t0 = time.perf_counter()
        topics, _ = BERTopic().fit_transform(texts, X)
    return time.perf_counter() - t0, np.asarray(topics)


def scores(y, labels) -> str:
    import numpy as np
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    labels = np.asarray(labels)
    return (f"NMI {normalized_mutual_info_score(y, labels):.3f}  ARI {adjusted_rand_score(y, labels):.3f}  "
            f"unthemed {np.mean(labels < 0):6.1%}  themes {len(set(labels[labels >= 0].tolist()))}")


def main() -> None:
    import numpy as np

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20000,100000")
    ap.add_argument("--labelled", default="banking77,clinc150")
    ap.add_argument("--skip-bertopic", action="store_true")
    ap.add_argument("--home", default="/tmp/insight-bench-themes", help="insight home holding the vector cache")
    ap.add_argument("--profile", action="store_true", help="print insight's 25 costliest calls per size")
    ap.add_argument("--repeats", type=int, default=1, help="timed runs per tool and size (median and range shown)")
    args = ap.parse_args()
    os.environ["INSIGHT_HOME"] = args.home
    from insight import assembly
    from insight.config import load_config
    from insight.evaluate.datasets import load_dataset
    from insight.evaluate.tagging import prepare

    cfg = load_config()
    encode = assembly.encoder(cfg, assembly.embedder(cfg))
    try:
        import bertopic  # noqa: F401
    except ImportError:
        if not args.skip_bertopic:
            print('BERTopic is not installed (pip install -e ".[bench]"): insight alone', flush=True)
        args.skip_bertopic = True
    tools = ["insight"] + ([] if args.skip_bertopic else ["bertopic"])
    sizes = [int(s) for s in args.sizes.split(",") if s]
    texts = real_texts()
    print(f"{len(texts):,} real texts available; theme stage on {', '.join(f'{s:,}' for s in sizes)}", flush=True)
    t0 = time.perf_counter()
    X = encode(texts[: max(sizes + [6000])])
    print(f"vectors ready in {time.perf_counter() - t0:.0f} s (cached ones are read, not embedded)", flush=True)
    for tool in tools:  # warm: numba compiles its kernels on the first call
        (run_insight(texts[:6000], X[:6000], cfg) if tool == "insight" else run_bertopic(texts[:6000], X[:6000]))
    for n in sizes:
        n = min(n, len(texts))
        times: dict[str, list[float]] = {tool: [] for tool in tools}
        for _ in range(max(args.repeats, 1)):
            for tool in tools:
                if tool == "insight":
                    seconds, labels = run_insight(texts[:n], X[:n], cfg, args.profile)
                else:
                    seconds, labels = run_bertopic(texts[:n], X[:n])
                times[tool].append(seconds)
                print(f"{n:>7,} texts  {tool:<8} {seconds:7.1f} s  unthemed {np.mean(labels < 0):6.1%}  "
                      f"themes {len(set(labels[labels >= 0].tolist())):4d}  peak RSS {rss_gb():.2f} GB", flush=True)
        if len(times) == 2:
            mid = {tool: float(np.median(t)) for tool, t in times.items()}
            spread = "" if args.repeats <= 1 else \
                (f" (median of {args.repeats}; insight {min(times['insight']):.1f}-{max(times['insight']):.1f} s, "
                 f"BERTopic {min(times['bertopic']):.1f}-{max(times['bertopic']):.1f} s)")
            print(f"{n:>7,} texts  insight is {mid['bertopic'] / mid['insight']:.2f}x BERTopic's speed{spread}",
                  flush=True)
    for name in [s for s in args.labelled.split(",") if s and s != "none"]:
        _, test = load_dataset(name, data_dir())
        docs = prepare(test["text"].tolist(), cfg)
        V = encode(docs)
        y = test["label"].to_numpy()
        for tool in tools:
            seconds, labels = run_insight(docs, V, cfg) if tool == "insight" else run_bertopic(docs, V)
            print(f"{name:<10} ({len(docs):,})  {tool:<8} {seconds:6.1f} s  {scores(y, labels)}", flush=True)


if __name__ == "__main__":
    main()
