"""What each part of the zero-shot root-cause tagger is worth, with and without, on real labelled remarks.

    python benchmarks/root_causes.py [--taxonomy PATH] [--demo]

Prints accuracy, macro-F1, ECE, coverage and precision at coverage on the development set
(``ecommerce_rootcause_dev``, 421 real survey remarks) for the shipped configuration and for each part switched
off alone: keywords and patterns, remarks that only praise going to "other", support yielding to another
problem the remark names, the batch's neighbours (adaptation to
the shop's own feedback without labels), the calibration temperature, and two options that are off by default (an
out-of-taxonomy cosine floor, the complaint-focus vector). ``--demo`` adds the bundled storefront (its texts are
this project's own, so it is a regression guard, not a target). Figures go to docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

VARIANTS = {
    "shipped": {},
    "no keywords or patterns": {"keyword_weight": 0.0},
    "praise-only remarks not sent to other": {"praise_is_out_of_taxonomy": False},
    "+ batch neighbours 10 (adaptation to the run)": {"batch_neighbours": 10},
    "support named beside another problem keeps all its weight": {"in_passing_weight": 1.0},
    "no calibration temperature": {"calibration_temperature": 1.0},
    "no out-of-taxonomy floor (shipped: 0.2 with the packaged encoder)": {"out_of_taxonomy_below": None},
    "out-of-taxonomy floor 0.3": {"out_of_taxonomy_below": 0.3},
    "+ complaint focus 0.7": {"focus_weight": 0.7},
}


def main() -> None:
    from sklearn.metrics import f1_score

    from insight import assembly, tag
    from insight.config import load_config, load_taxonomy
    from insight.demo import demo_path
    from insight.evaluate import prepare
    from insight.evaluate.tagging import metrics

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--taxonomy", default="default")
    ap.add_argument("--demo", action="store_true")
    args = ap.parse_args()
    cfg = load_config()
    tax = load_taxonomy(args.taxonomy)
    sets = {"dev (421 real remarks)": (pd.read_csv(cfg.data_path / "ecommerce_rootcause_dev" /
                                                   "csat_rootcause_dev.csv"), "root_cause")}
    if args.demo:
        demo = pd.read_csv(demo_path()).dropna(subset=["true_root_cause"]).drop_duplicates("text")
        sets["demo storefront (distinct texts)"] = (demo, "true_root_cause")
    encode = assembly.encoder(cfg, assembly.embedder(cfg))
    prepared = assembly.prepared_encoder(cfg, encode)
    rows = []
    for name, (frame, column) in sets.items():
        texts = prepare(frame["text"].astype(str).tolist(), cfg)
        X = encode(texts)
        y = np.array([tax.keys.index(v) for v in frame[column]])
        for variant, change in VARIANTS.items():
            tag_cfg = cfg.tag.model_copy(update=change)
            tagger = tag.ZeroShotTagger.from_config(tag_cfg, tax).prepare(prepared)
            found = metrics(tagger.predict_proba(X, texts), y, tagger.policy, f1_score)
            rows.append({"data": name, "variant": variant, **{k: round(v, 4) for k, v in found.items()}})
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
