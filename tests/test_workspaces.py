"""Workspaces (issue 14): theme ids, the registry and action decisions never cross from one dataset to another.

Regression: a user's first own export run in the same folder as the demo inherited the demo's theme ids (11
drifted), so an action decision on one dataset would carry over to another.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from insight import schema as S
from insight.config import load_config
from insight.errors import ConfigError
from insight.flow import run_and_store
from insight.store import SQLStore
from pipelines.cli import app


def _in(cfg, workspace):
    return cfg.model_copy(update={"workspace": workspace})


def _themes(result) -> set[str]:
    return set(result.themes[S.THEME]) - {S.UNTHEMED}


def test_another_workspace_shares_no_theme_id_and_keeps_its_own(tiny_frame, tiny_config):
    demo = run_and_store(tiny_frame, _in(tiny_config, "demo"))
    mine = run_and_store(tiny_frame, _in(tiny_config, "shop"))  # the very same feedback, elsewhere
    assert _themes(demo) and _themes(mine) and _themes(demo).isdisjoint(_themes(mine))
    again = run_and_store(tiny_frame, _in(tiny_config, "demo"))
    assert _themes(again) == _themes(demo)  # within a workspace ids persist
    assert not any(e["event"] == "died" for e in again.theme_events)
    store = SQLStore(tiny_config.store_url, workspace="shop")
    assert store.list_runs()["run_id"].tolist() == [mine.run_id]
    assert {r["theme_id"] for r in store.registry_records()} == _themes(mine)
    assert set(store.workspaces()) == {"demo", "shop"}


def test_workspace_names_are_checked_when_the_config_loads():
    with pytest.raises(ConfigError, match="workspace"):
        load_config(workspace="My Shop!")


def test_cli_workspace_option_and_a_helpful_error(tmp_path, tiny_frame, fast_yaml):
    data = tmp_path / "feedback.csv"
    tiny_frame.to_csv(data, index=False)
    runner = CliRunner()
    out = runner.invoke(app, ["run", "--input", str(data), "--config", str(fast_yaml), "--workspace", "shop",
                              "--json"])
    run_id = json.loads(out.stdout.strip().splitlines()[-1])["run_id"]
    listed = json.loads(runner.invoke(app, ["runs", "--config", str(fast_yaml), "-w", "shop", "--json"]).stdout)
    assert [r["run_id"] for r in listed] == [run_id] and listed[0]["workspace"] == "shop"
    missing = runner.invoke(app, ["export", "--config", str(fast_yaml)])  # the default workspace is empty
    assert missing.exit_code == 2 and "[E403]" in missing.output and "--workspace shop" in missing.output


def test_older_runs_without_a_workspace_belong_to_the_default_one(tiny_frame, tiny_config):
    result = run_and_store(tiny_frame, tiny_config)
    store = SQLStore(tiny_config.store_url)
    from insight.store.tables import registry_themes, runs

    with store.engine.begin() as conn:  # as a store written before workspaces existed
        conn.execute(runs.update().values(workspace=None))
        conn.execute(registry_themes.update().values(workspace=None))
    assert store.latest_run_id() == result.run_id and len(store.registry_records()) > 0
    again = run_and_store(tiny_frame, tiny_config)
    assert _themes(again) == _themes(result)
    assert pd.Series([r["workspace"] for r in store.registry_records()]).eq("default").all()
