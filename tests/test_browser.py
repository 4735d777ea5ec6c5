"""End to end in a real browser: Playwright drives Debian's Chromium against `insight app`, as a CX lead would.

Filter to a carrier and weeks, open a theme from the map, rename it, relabel an item from the review queue with
the keyboard, approve an action, download the CSV and check its rows. ``.ci/run`` installs Chromium from Debian
packages and sets ``INSIGHT_REQUIRE_BROWSER=1``, so there the test fails instead of skipping when the browser is
missing. ``INSIGHT_SCREENSHOTS=DIR`` keeps a screenshot of each page (the README's come from here).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from insight.config import load_config
from insight.demo import DEMO_OVERRIDES, demo_path
from insight.flow import run_and_store

pytestmark = [pytest.mark.ui, pytest.mark.e2e]
CHROMIUM = os.environ.get("INSIGHT_CHROMIUM", "/usr/bin/chromium")
SINCE, UNTIL, CARRIER = "2026-07-27", "2026-08-09", "Parcelo"


def _need_browser():
    missing = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the playwright package (pip install playwright)"
    if missing is None and not Path(CHROMIUM).exists():
        missing = f"Chromium at {CHROMIUM} (apt-get install chromium)"
    if missing:
        if os.environ.get("INSIGHT_REQUIRE_BROWSER"):
            pytest.fail(f"the browser test needs {missing}")
        pytest.skip(f"no {missing}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`insight app` on a free port over a stored demo run; stopped (by its PID) at the end."""
    _need_browser()
    root = tmp_path_factory.mktemp("browser")
    home, config = root / "home", root / "app.yaml"
    # screenshots for the docs read better with the packaged model's themes; the test itself needs no model
    fast = "" if os.environ.get("INSIGHT_SCREENSHOTS") else "embed: {backend: hashing, cache: false}\n" \
        "themes: {key_phrases: false}\n"
    config.write_text("workspace: demo\n" + fast)
    env = {**os.environ, "INSIGHT_HOME": str(home), "INSIGHT_CONFIG": str(config)}
    env.pop("INSIGHT_STORE_URL", None)
    cfg = load_config(str(config), home=str(home))
    old = os.environ.get("INSIGHT_HOME")
    os.environ["INSIGHT_HOME"] = str(home)
    try:
        result = run_and_store(demo_path(), cfg.model_copy(update={"ingest": load_config(**DEMO_OVERRIDES).ingest}))
    finally:
        if old is None:
            os.environ.pop("INSIGHT_HOME")
        else:
            os.environ["INSIGHT_HOME"] = old
    port = _free_port()
    insight = Path(sys.executable).parent / "insight"
    log = open(root / "app.log", "w")
    server = subprocess.Popen([str(insight), "app", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("insight app did not start: " + (root / "app.log").read_text()[-2000:])
    yield url, cfg, result
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) is not None
    with socket.socket() as s:  # the port is free again: no Streamlit child left serving it
        assert s.connect_ex(("127.0.0.1", port)) != 0
    log.close()


def _shot(page, name: str) -> None:
    folder = os.environ.get("INSIGHT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(800)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def _settle(page) -> None:
    """Wait until Streamlit has finished rerunning the script."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
    page.wait_for_timeout(300)


def _nav(page, title: str) -> None:
    page.locator("[data-testid=stSidebarNav] a", has_text=title).click()
    page.get_by_role("heading", name=title, exact=True).wait_for(timeout=60_000)
    _settle(page)


def _click_theme_on_map(page, theme_id: str, x: float, y: float, xdom: list[float], ydom: list[float]) -> None:
    """Hover around where the theme's disc should be until the tooltip names it, then click there."""
    chart = page.locator("[data-testid=stVegaLiteChart]").first
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    pad = 5  # Vega-Lite's padding around the plot (the map has no axes, and no legend when coloured by theme)
    px = box["x"] + pad + (x - xdom[0]) / (xdom[1] - xdom[0]) * (box["width"] - 2 * pad)
    py = box["y"] + pad + (ydom[1] - y) / (ydom[1] - ydom[0]) * (box["height"] - 2 * pad)
    tip = page.locator("#vg-tooltip-element")
    for radius in (0, 4, 8, 12, 18, 24):
        for dx, dy in {(round(radius * c), round(radius * s)) for c, s in
                       [(1, 0), (-1, 0), (0, 1), (0, -1), (0.7, 0.7), (-0.7, -0.7), (0.7, -0.7), (-0.7, 0.7)]}:
            page.mouse.move(px + dx, py + dy)
            page.wait_for_timeout(150)
            if tip.count() and tip.is_visible() and theme_id in (tip.inner_text() or ""):
                page.mouse.click(px + dx, py + dy)
                return
    raise AssertionError(f"no point of {theme_id} near ({px:.0f}, {py:.0f}) on the map")


def test_a_cx_lead_filters_opens_a_theme_from_the_map_relabels_renames_approves_and_exports(served, tmp_path):
    from playwright.sync_api import sync_playwright

    url, cfg, result = served
    items = result.items[result.items["status"] == "stored"]
    when = pd.to_datetime(items["timestamp"], utc=True).dt.date.astype(str)
    in_view = items[(items["carrier"] == CARRIER) & (when >= SINCE) & (when <= UNTIL)]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        try:
            _walk_through(page, url, cfg, result, in_view, items)
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print(f"the page when it failed: {tmp_path / 'failure.png'}")
            raise
        finally:
            browser.close()


def _walk_through(page, url, cfg, result, in_view, items) -> None:
    from insight import open_store
    from insight.config import load_taxonomy

    if True:
        page.goto(f"{url}/?since={SINCE}&until={UNTIL}")  # the weeks from a link...
        page.get_by_role("heading", name="Overview", exact=True).wait_for(timeout=90_000)
        _settle(page)
        page.get_by_label("Your name (kept with every change)").fill("e2e-lead")
        page.keyboard.press("Enter")
        _settle(page)
        carrier = page.locator("[data-testid=stSidebar] [data-testid=stMultiSelect]", has_text="Carrier")
        carrier.locator("input").click()  # ...and the carrier from the sidebar
        page.keyboard.type(CARRIER)
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        _settle(page)
        page.get_by_text(f"Filtered: {len(in_view):,} of {len(items):,} analysed items").wait_for(timeout=30_000)
        _shot(page, "overview")

        _nav(page, "Themes")  # the filters travel with the reviewer
        page.get_by_text(f"Filtered: {len(in_view):,} of").wait_for(timeout=30_000)
        themed = in_view[in_view["theme_id"] != "unthemed"]
        target = themed["theme_id"].value_counts().index[0]
        placed = in_view.dropna(subset=["map_x"])
        dom = [[float(c.min() - (c.max() - c.min()) * 0.06), float(c.max() + (c.max() - c.min()) * 0.06)]
               for c in (placed["map_x"], placed["map_y"])]
        centre = themed[themed["theme_id"] == target][["map_x", "map_y"]].mean()
        _click_theme_on_map(page, target, centre["map_x"], centre["map_y"], *dom)
        _settle(page)
        page.locator("h3", has_text=f"{target}:").wait_for(timeout=30_000)
        _shot(page, "themes")

        page.get_by_text("Edit this theme").click()
        page.locator(f".st-key-name-{target} input").fill("Parcelo parcels lost in week 9")
        page.get_by_role("button", name="Rename").click()
        page.get_by_text("is now called 'Parcelo parcels lost in week 9'").wait_for(timeout=30_000)
        registry = {r["theme_id"]: r for r in open_store(cfg).registry_records()}
        assert registry[target]["pinned_label"] == "Parcelo parcels lost in week 9"

        _nav(page, "Review")
        item_id = page.locator(".st-key-label-card [data-testid=stCaptionContainer]").first.inner_text().split(" ")[0]
        causes = list(open_store(cfg).load(result.run_id, "items").set_index("item_id").loc[[item_id], "root_cause"])
        keys = load_taxonomy(cfg.tag.taxonomy).keys
        new = next(k for k in keys if k != causes[0])
        page.locator("body").click(position={"x": 700, "y": 5})  # focus the page, not an input
        page.keyboard.press("1234567890"[keys.index(new)])  # relabel with the keyboard
        _settle(page)
        log = open_store(cfg).tag_corrections()
        assert log.iloc[-1][["item_id", "new_cause", "by"]].tolist() == [item_id, new, "e2e-lead"]
        _shot(page, "review")

        _nav(page, "Actions")
        first = page.locator("[data-testid=stExpander]").first
        title = first.locator("summary").inner_text()
        first.locator("[data-testid=stSelectbox]", has_text="Status").locator("input").click()
        page.keyboard.type("approved")
        page.keyboard.press("Enter")
        first.get_by_label("Assigned to").fill("Carrier desk")
        first.get_by_role("button", name="Save").click()
        page.get_by_text("is now approved").wait_for(timeout=30_000)
        _settle(page)
        shown = page.locator("[data-testid=stExpander]").count()
        with page.expect_download() as download:
            page.get_by_role("button", name="Download CSV").click()
        csv = pd.read_csv(download.value.path())
        assert len(csv) == shown  # the CSV holds what the page shows: the actions with Parcelo complaints in view
        approved = csv[csv["status"] == "approved"]
        assert len(approved) == 1 and approved.iloc[0]["decided_by"] == "e2e-lead"
        assert approved.iloc[0]["assigned_to"] == "Carrier desk" and approved.iloc[0]["title"] in title
        _shot(page, "actions")

        _nav(page, "Runs")
        _shot(page, "runs")
