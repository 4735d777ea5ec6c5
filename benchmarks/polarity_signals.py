"""Experiment: how well do offline text signals find unhappy customers? Prints figures; asserts nothing.

Ground truth: the clothing reviews' stars (1-2 negative, 4-5 positive; 3 left out). Candidates: a complaint cue
regex, the VADER lexicon, MiniLM prototypes (complaint phrases vs praise phrases), the two combined, and the rule
``report.polarity`` ships. Groundwork for polarity per item (issue 14).

Usage: python benchmarks/polarity_signals.py [--n 4000] [--home DIR]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

COMPLAINTS = ["this is a complaint: something went wrong", "very disappointed, poor quality, returning it",
              "it did not fit and looks cheap", "terrible, would not recommend"]
PRAISE = ["I love it, great quality", "very happy with this purchase, fits perfectly",
          "beautiful and comfortable, highly recommend", "perfect, exactly as pictured"]


def main() -> None:
    import numpy as np
    import pandas as pd
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from insight import assembly
    from insight.clean import model_inputs
    from insight.config import load_config
    from insight.report import complaint_lean, text_polarity
    from insight.sentiment import COMPLAINT_CUE

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--home", default=None, help="insight home whose embedding cache to reuse")
    args = ap.parse_args()
    cfg = load_config(**({"home": args.home} if args.home else {}))
    df = pd.read_csv(cfg.data_path / "womens_clothing_reviews" / "reviews.csv")
    df["text"] = (df["Title"].fillna("") + ". " + df["Review Text"].fillna("")).str.strip(". ")
    df = df[(df["text"].str.len() > 3) & (df["Rating"] != 3)].sample(args.n, random_state=0)
    y = (df["Rating"] <= 2).astype(int).to_numpy()
    texts = model_inputs(df["text"].tolist(), cfg.clean)
    print(f"{len(texts)} reviews, {y.mean():.1%} negative (1-2 stars)")
    cue = np.array([bool(COMPLAINT_CUE.search(t)) for t in texts])
    print(f"complaint-cue regex     balanced accuracy {balanced_accuracy_score(y, cue):.3f}")
    vader = SentimentIntensityAnalyzer()
    t0 = time.perf_counter()
    compound = np.array([vader.polarity_scores(t)["compound"] for t in texts])
    rate = len(texts) / (time.perf_counter() - t0)
    print(f"VADER                   AUC {roc_auc_score(y, -compound):.3f}, balanced accuracy (compound < 0.05) "
          f"{balanced_accuracy_score(y, compound < 0.05):.3f}, {rate:,.0f} texts/s")
    encode = assembly.encoder(cfg, assembly.embedder(cfg))
    X, N, P = encode(texts), encode(COMPLAINTS), encode(PRAISE)
    proto = (X @ N.T).max(axis=1) - (X @ P.T).max(axis=1)
    print(f"MiniLM prototypes       AUC {roc_auc_score(y, proto):.3f}, balanced accuracy (> 0) "
          f"{balanced_accuracy_score(y, proto > 0):.3f}")
    both = (proto - proto.mean()) / proto.std() - (compound - compound.mean()) / compound.std()
    print(f"VADER + prototypes      AUC {roc_auc_score(y, both):.3f}")
    shipped = text_polarity(texts, complaint_lean(X, encode)) == "negative"
    print(f"shipped rule            balanced accuracy {balanced_accuracy_score(y, shipped):.3f}, 4-5 stars called "
          f"negative {shipped[y == 0].mean():.1%}")


if __name__ == "__main__":
    main()
