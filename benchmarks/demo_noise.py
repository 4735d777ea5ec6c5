"""Benchmark: how far the demo's top actions move when only float rounding in the vectors changes.

    python benchmarks/demo_noise.py [--batch-sizes 64,32] [--precision fp32]

Runs the demo once per embedding batch size (cold cache each time). A batch size changes only how texts are padded
together, so vectors differ by rounding alone; whatever moves in the output is the noise band that "unchanged
within noise" is judged against. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from insight.config import load_config
    from insight.demo import DEMO_OVERRIDES, demo_path
    from insight.flow import run

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-sizes", default="64,32")
    ap.add_argument("--precision", default="fp32", choices=["auto", "fp32", "bf16"])
    args = ap.parse_args()
    for bs in (int(b) for b in args.batch_sizes.split(",")):
        with tempfile.TemporaryDirectory() as home:
            cfg = load_config(home=home, **{**DEMO_OVERRIDES,
                                            "embed": {"precision": args.precision, "batch_size": bs}})
            result = run(demo_path(), cfg)
        print(f"batch {bs}, {args.precision}: self-check {result.manifest['self_check']['accuracy']}, "
              f"{result.manifest['n_themes']} themes")
        for a in result.actions.head(3).to_dict("records"):
            print(f"  #{a['rank']} {a['title']}: impact {a['impact']:.2f}, {a['complaints']} complaints")


if __name__ == "__main__":
    main()
