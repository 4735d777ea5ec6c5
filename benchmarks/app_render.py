"""How long each page of the review app takes on a store of 100,000 items (goal: 2 s or less per page).

The store holds the demo run scaled up to ``--items`` items: its stored rows repeated under new ids (a page's cost
depends on how many rows it reads, filters, counts and draws, not on their words). Each page is timed twice:
cold (the app's caches empty, as after a new run) and warm (a reviewer moving between pages), as the server's
script time (Streamlit AppTest) and, with Chromium installed, in a real browser from the click in the sidebar
until the page has drawn and stopped changing.

    python benchmarks/app_render.py [--items 100000] [--no-browser]

Prints a table; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"Overview": "ui/overview.py", "Themes": "ui/themes.py", "Review": "ui/review.py",
         "Actions": "ui/actions.py", "Runs": "ui/runs.py"}
CHROMIUM = os.environ.get("INSIGHT_CHROMIUM", "/usr/bin/chromium")


def build(home: Path, n: int) -> str:
    """A store under ``home`` whose demo run holds ``n`` stored items."""
    import numpy as np
    from sqlalchemy import delete, update

    from insight import open_store
    from insight.config import load_config
    from insight.demo import DEMO_OVERRIDES, demo_path
    from insight.flow import run_and_store
    from insight.store.rows import records
    from insight.store.tables import items as items_table
    from insight.store.tables import runs

    os.environ["INSIGHT_HOME"] = str(home)
    cfg = load_config(embed={"backend": "hashing", "cache": False}, themes={"key_phrases": False}, **DEMO_OVERRIDES)
    result = run_and_store(demo_path(), cfg)
    store = open_store(cfg)
    frame = store.load(result.run_id, "items")
    stored = frame[frame["status"] == "stored"]
    copies = -(-n // len(stored))
    rng = np.random.default_rng(0)
    parts = []
    for k in range(copies):
        part = stored.assign(item_id=stored["item_id"] + f"-{k}",
                             map_x=stored["map_x"] + rng.normal(0, 0.01, len(stored)),
                             map_y=stored["map_y"] + rng.normal(0, 0.01, len(stored)))
        parts.append(part)
    import pandas as pd

    big = pd.concat(parts, ignore_index=True).head(n)
    columns = [c.name for c in items_table.columns if c.name != "run_id"]
    rows = records(big, columns)
    for r in rows:
        r["run_id"] = result.run_id
    with store.engine.begin() as conn:
        conn.execute(delete(items_table).where(items_table.c.run_id == result.run_id,
                                               items_table.c.status == "stored"))
        for s in range(0, len(rows), 20_000):
            conn.execute(items_table.insert(), rows[s:s + 20_000])
        counts = {**result.counts.as_dict(), "stored": n, "read": n + int((frame["status"] != "stored").sum())}
        conn.execute(update(runs).where(runs.c.run_id == result.run_id).values(counts=counts))
    return result.run_id


def time_scripts() -> dict[str, tuple[float, float]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    out = {}
    for name, path in PAGES.items():
        st.cache_data.clear()
        st.cache_resource.clear()
        times = []
        for _ in range(2):
            at = AppTest.from_file(str(ROOT / path), default_timeout=300)
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
            if at.exception:
                raise RuntimeError(f"{name}: {at.exception[0].message}")
        out[name] = (times[0], times[1])
    return out


STABLE = 0.5  # seconds without a change in the page: it has drawn


def _drawn(page, start: float) -> float:
    """Seconds from ``start`` until the script has finished and the page stopped changing (the quiet spell
    itself not counted)."""
    last, changed = None, time.perf_counter()
    while True:
        state = page.evaluate("() => [!!document.querySelector('[data-testid=stStatusWidget]'), "
                              "document.querySelectorAll('*').length, document.body.innerText.length]")
        now = time.perf_counter()
        if state != last:
            last, changed = state, now
        elif not state[0] and now - changed >= STABLE:
            return changed - start
        page.wait_for_timeout(50)


def time_browser() -> dict[str, tuple[float, float]] | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).parent / "insight"), "app", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        out = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)  # the app once; then from page to page by the sidebar, as a reviewer moves
            page.get_by_role("heading", name="Overview", exact=True).wait_for(timeout=300_000)
            _drawn(page, time.perf_counter())
            for rnd in range(2):  # the first round fills the server's caches
                for name in [*list(PAGES)[1:], "Overview"]:
                    start = time.perf_counter()
                    page.locator("[data-testid=stSidebarNav] a", has_text=name).click()
                    page.get_by_role("heading", name=name, exact=True).wait_for(timeout=300_000)
                    took = _drawn(page, start)
                    out[name] = (took, out.get(name, (0, 0))[1]) if rnd == 0 else (out[name][0], took)
            browser.close()
        return out
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--home", type=Path, default=None, help="Keep the store here (default: a temporary folder).")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    home = args.home or Path(tempfile.mkdtemp(prefix="app-render-"))
    config = home / "app.yaml"
    home.mkdir(parents=True, exist_ok=True)
    config.write_text("workspace: demo\nembed: {backend: hashing, cache: false}\n")
    os.environ["INSIGHT_CONFIG"] = str(config)
    os.environ.pop("INSIGHT_STORE_URL", None)
    start = time.perf_counter()
    run_id = build(home, args.items)
    took = time.perf_counter() - start
    print(f"store: {args.items:,} stored items in run {run_id} under {home} (built in {took:.0f} s)")
    scripts = time_scripts()
    browser = None if args.no_browser else time_browser()
    print("\n| page | script cold (s) | script warm (s) |" + (" browser cold (s) | browser warm (s) |" if browser
                                                            else ""))
    print("|---|---|---|" + ("---|---|" if browser else ""))
    for name in PAGES:
        line = f"| {name} | {scripts[name][0]:.2f} | {scripts[name][1]:.2f} |"
        if browser:
            line += f" {browser[name][0]:.2f} | {browser[name][1]:.2f} |"
        print(line)


if __name__ == "__main__":
    main()
