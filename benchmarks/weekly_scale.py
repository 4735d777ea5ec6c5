"""Benchmark: one weekly run with 10,000 new items on a store of 1,000,000 items (SQLite, this machine).

    python benchmarks/weekly_scale.py [--home DIR] [--items 1000000] [--new 10000] [--pool CSV]
                                      [--cache-from DIR] [--executor local|dask]

The store is built once under ``--home`` (kept for reruns; delete the folder to rebuild):

1. a weekly run over the pool's real texts but the last ``--new`` (clothing reviews and titles, CSAT remarks,
   Banking77, CLINC150 from ``$INSIGHT_DATA_DIR``, or a one-column CSV ``--pool``): their tags, themes and
   vectors are real. ``--cache-from`` copies an embedding cache in first (a cold start embeds ~100k texts);
2. those items copied in SQL until the workspace holds ``--items``, each copy with its own id and customer and a
   time spread over a year ("scaled up from real texts": the texts repeat, as they do in a large shop);
3. the timed run, in a fresh process: ``insight weekly --input new.csv --json`` with the last ``--new`` texts,
   which the store and the cache have never seen. Wall time, peak RSS (``/usr/bin/time``-like, from
   ``resource``) and the run's own stage timings are printed. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
WORKSPACE = "bench"


def pool_texts(path: str | None) -> list[str]:
    import pandas as pd

    if path:
        texts = pd.read_csv(path)["text"]
    else:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from theme_speed import real_texts

        return real_texts()
    return texts.dropna().astype(str).tolist()


def write_feedback(texts: list[str], path: Path, prefix: str, start: str) -> None:
    import pandas as pd

    n = len(texts)
    when = pd.Timestamp(start, tz="UTC") + pd.to_timedelta([(i * 7 * 86400) // max(n, 1) for i in range(n)], "s")
    pd.DataFrame({"id": [f"{prefix}{i}" for i in range(n)], "text": texts,
                  "customer_id": [f"{prefix}c{i}" for i in range(n)], "timestamp": when.astype(str)}
                 ).to_csv(path, index=False)


def scale_up(db: Path, target: int) -> int:
    """Copy the workspace's items (new ids, customers and times) until it holds ``target`` items."""
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(workspace_items)")]
    base = con.execute("SELECT COUNT(*) FROM workspace_items WHERE workspace = ?", (WORKSPACE,)).fetchone()[0]
    copy = 1
    while True:
        have = con.execute("SELECT COUNT(*) FROM workspace_items WHERE workspace = ?", (WORKSPACE,)).fetchone()[0]
        if have >= target:
            break
        take = min(base, target - have)
        select = []
        for c in cols:
            if c == "item_id":
                select.append(f"item_id || '#x{copy}'")
            elif c == "customer_id":
                select.append(f"COALESCE(customer_id, item_id) || '#x{copy}'")
            elif c == "duplicate_of":
                select.append(f"CASE WHEN duplicate_of IS NULL THEN NULL ELSE duplicate_of || '#x{copy}' END")
            elif c == "timestamp":
                select.append(f"datetime(timestamp, '-{(copy * 37) % 364} days')")
            else:
                select.append(f'"{c}"')
        con.execute(f"INSERT INTO workspace_items ({', '.join(cols)}) SELECT {', '.join(select)} FROM "
                    f"workspace_items WHERE workspace = ? AND item_id NOT LIKE '%#x%' LIMIT {take}", (WORKSPACE,))
        con.commit()
        copy += 1
    n = con.execute("SELECT COUNT(*) FROM workspace_items WHERE workspace = ?", (WORKSPACE,)).fetchone()[0]
    con.close()
    return n


def forget_vectors(texts: list[str], home: Path) -> None:
    """Remove these texts' vectors from every cache under ``home`` (the keys ``embed_texts`` uses)."""
    from insight.clean import model_inputs
    from insight.config import load_config
    from insight.embed import EmbeddingCache, text_key

    cfg = load_config()
    keys = sorted({text_key(t) for t in model_inputs(texts, cfg.clean)})
    gone = sum(cache.remove(keys) for cache in EmbeddingCache.every(home / "cache"))
    print(f"removed {gone:,} of the new texts' vectors from the cache")


def insight(args: list[str], home: Path) -> tuple[dict, float, float]:
    """One CLI call in a fresh process: its JSON summary, wall seconds and peak RSS (GB) of the process tree."""
    env = {**os.environ, "INSIGHT_HOME": str(home)}
    code = ("import resource, runpy, sys; sys.argv = ['insight'] + sys.argv[1:]\n"
            "try:\n    runpy.run_module('pipelines.cli', run_name='__main__')\n"
            "finally:\n    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "    sys.stderr.write('PEAK_RSS_KB %d\\n' % peak)\n")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    peak = max([int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("PEAK_RSS_KB")] or [0])
    if proc.returncode not in (0, 3):
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"insight {' '.join(args)} failed ({proc.returncode})")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), wall, peak / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="/tmp/insight-weekly-bench")
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--new", type=int, default=10_000)
    ap.add_argument("--pool", default=None, help="a CSV with a text column (default: real texts from the data dir)")
    ap.add_argument("--cache-from", default=None, help="an insight home cache folder to copy in first")
    ap.add_argument("--executor", default="local", choices=["local", "dask"])
    args = ap.parse_args()
    home = Path(args.home)
    db = home / "insight.db"
    texts = pool_texts(args.pool)
    base, new = texts[:-args.new], texts[-args.new:]
    home.mkdir(parents=True, exist_ok=True)
    if args.cache_from and not (home / "cache").exists():
        shutil.copytree(args.cache_from, home / "cache")
    have = 0
    if db.exists():
        con = sqlite3.connect(db)
        have = con.execute("SELECT COUNT(*) FROM workspace_items WHERE workspace = ?", (WORKSPACE,)).fetchone()[0]
        con.close()
    if have == 0:
        write_feedback(base, home / "base.csv", "b", "2026-01-05")
        summary, wall, peak = insight(["weekly", "--input", str(home / "base.csv"), "--workspace", WORKSPACE,
                                       "--json"], home)
        print(f"built: weekly over {len(base):,} real texts in {wall:.0f} s, peak {peak:.2f} GB; "
              f"items {summary['items']}")
    if have < args.items:
        t0 = time.perf_counter()
        have = scale_up(db, args.items)
        print(f"scaled up to {have:,} items in {time.perf_counter() - t0:.0f} s")
    write_feedback(new, home / "new.csv", f"n{int(time.time())}-", "2026-11-23")
    forget_vectors(new, home)  # new feedback is new to the cache too: the timed run embeds all of it
    cmd = ["weekly", "--input", str(home / "new.csv"), "--workspace", WORKSPACE, "--no-rediscover", "--json"]
    if args.executor == "dask":
        cmd += ["--executor", "dask"]
    summary, wall, peak = insight(cmd, home)
    print(f"weekly run: {args.new:,} new texts on a store of {have:,} items: wall {wall:.1f} s (process start "
          f"included), peak RSS {peak:.2f} GB (goal: <= 120 s, <= 3 GB)")
    print(f"  items: {summary['items']}; published: {summary['published']}")
    print(f"  stage timings (s): {summary['timings_s']}")
    themes = summary["themes"]
    print(f"  themes: {len(themes['new'])} new, rediscovered: {themes['rediscovered']}; top action: "
          f"{summary['top_actions'][0]['title'] if summary['top_actions'] else None}")


if __name__ == "__main__":
    main()
