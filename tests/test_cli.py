import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for cmd in ["demo", "run", "app", "runs", "export"]:
        assert cmd in result.output


def test_run_json_then_runs_and_export(tmp_path, tiny_frame, fast_yaml):
    data = tmp_path / "feedback.csv"
    tiny_frame.to_csv(data, index=False)
    result = runner.invoke(app, ["run", "--input", str(data), "--config", str(fast_yaml), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    c = summary["counts"]
    assert c["read"] == len(tiny_frame) == c["stored"] + c["duplicates"] + c["quarantined"] + c["non_actionable"]
    for a in summary["top_actions"]:
        assert {"rank", "root_cause", "theme", "title", "impact", "evidence"} <= set(a)

    listed = runner.invoke(app, ["runs", "--config", str(fast_yaml), "--json"])
    assert json.loads(listed.stdout)[0]["run_id"] == summary["run_id"]

    out = tmp_path / "actions.csv"
    exported = runner.invoke(app, ["export", "--run", summary["run_id"], "--format", "csv", "--out", str(out),
                                   "--config", str(fast_yaml)])
    assert exported.exit_code == 0, exported.output
    exported_actions = pd.read_csv(out)
    assert len(exported_actions) >= len(summary["top_actions"]) and "title" in exported_actions.columns

    as_json = runner.invoke(app, ["export", "--format", "json", "--what", "items", "--config", str(fast_yaml)])
    assert len(json.loads(as_json.stdout)["rows"]) == len(tiny_frame)


def test_clear_errors(tmp_path, fast_yaml):
    missing = runner.invoke(app, ["run", "--input", str(tmp_path / "nope.csv"), "--config", str(fast_yaml)])
    assert missing.exit_code == 2 and "not found" in missing.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("embedd: {}\n")
    result = runner.invoke(app, ["run", "--input", "x.csv", "--config", str(bad)])
    assert result.exit_code == 2 and "embedd" in result.output
    empty = runner.invoke(app, ["export", "--config", str(fast_yaml)])
    assert empty.exit_code == 2 and "no stored runs" in empty.output


def test_ingest_only_runs_are_marked_and_never_taken_for_latest(tmp_path, tiny_frame, fast_yaml):
    """Regression: an ingest-only check looked like an analysed run in `insight runs`."""
    data = tmp_path / "feedback.csv"
    tiny_frame.to_csv(data, index=False)
    analysed = json.loads(runner.invoke(app, ["run", "--input", str(data), "--config", str(fast_yaml), "--json"]
                                        ).stdout.strip().splitlines()[-1])["run_id"]
    checked = json.loads(runner.invoke(app, ["ingest", str(data), "--config", str(fast_yaml), "--json"]).stdout)
    listed = json.loads(runner.invoke(app, ["runs", "--config", str(fast_yaml), "--json"]).stdout)
    assert [(r["run_id"], r["kind"]) for r in listed] == [(checked["run_id"], "ingest"), (analysed, "pipeline")]
    table = runner.invoke(app, ["runs", "--config", str(fast_yaml)], env={"COLUMNS": "220"}).output
    assert "ingest" in table and "pipeline" in table
    latest = json.loads(runner.invoke(app, ["export", "--format", "json", "--config", str(fast_yaml)]).stdout)
    assert latest["run_id"] == analysed


@pytest.mark.parametrize("fmt", ["jira", "markdown"])
@pytest.mark.parametrize("what", ["themes", "items", "quarantine"])
def test_action_only_formats_refuse_other_content_clearly(tmp_path, tiny_frame, fast_yaml, fmt, what):
    """Regression (issue 16): `export --format jira --what themes` crashed with KeyError 'impact', and
    `--format markdown` ignored --what but recorded it."""
    data = tmp_path / "feedback.csv"
    tiny_frame.to_csv(data, index=False)
    assert runner.invoke(app, ["run", "--input", str(data), "--config", str(fast_yaml)]).exit_code == 0
    out = tmp_path / "x.out"
    ran = runner.invoke(app, ["export", "--format", fmt, "--what", what, "--out", str(out), "--config",
                              str(fast_yaml)])
    assert ran.exit_code == 2 and "E503" in ran.output and "actions" in ran.output
    assert not out.exists()


def test_exporting_the_brief_says_it_wrote_the_brief(tmp_path, tiny_frame, fast_yaml):
    """Regression: `export --format markdown --out brief.md` said "wrote 25 actions", though the brief holds the
    top five with the run's health, spikes and segments."""
    data = tmp_path / "feedback.csv"
    tiny_frame.to_csv(data, index=False)
    assert runner.invoke(app, ["run", "--input", str(data), "--config", str(fast_yaml)]).exit_code == 0
    brief = tmp_path / "brief.md"
    ran = runner.invoke(app, ["export", "--format", "markdown", "--out", str(brief), "--config", str(fast_yaml)])
    assert ran.exit_code == 0 and brief.read_text().startswith("# Weekly brief")
    assert "wrote the weekly brief of run" in ran.output and " actions of run" not in ran.output
    table = tmp_path / "actions.csv"
    ran = runner.invoke(app, ["export", "--out", str(table), "--config", str(fast_yaml)])
    assert " actions of run" in ran.output


def test_app_listens_on_this_machine_only_by_default(monkeypatch):
    """Regression (issue 16): the app listened on every interface by default, and showed Streamlit's Deploy button."""
    import os

    seen = {}
    monkeypatch.setattr(os, "execve", lambda path, cmd, env: seen.update(cmd=cmd))
    runner.invoke(app, ["app", "--port", "8600"])
    cmd = seen["cmd"]
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--client.toolbarMode") + 1] == "viewer"
    runner.invoke(app, ["app", "--address", "0.0.0.0"])
    assert seen["cmd"][seen["cmd"].index("--server.address") + 1] == "0.0.0.0"  # only when asked


def test_progress_goes_to_a_log_as_plain_lines_when_stderr_is_not_a_terminal(tmp_path, tiny_frame, fast_yaml):
    """Regression (issue 17): with stderr redirected to a file a 21-minute run printed no progress at all. Off a
    terminal each stage logs its start, its end with count and rate, and periodic lines with done/total and ETA."""
    import io

    from pipelines.common import LogReporter

    now = {"t": 0.0}
    log = io.StringIO()
    rep = LogReporter(log, every=10, clock=lambda: now["t"])
    with rep:
        rep.stage("embed", total=1000)
        for _ in range(10):
            now["t"] += 4
            rep.advance(50)
        rep.stage("themes")
        now["t"] += 3
    lines = [line.split(" ", 1)[1] for line in log.getvalue().splitlines()]
    assert lines[0] == "embed: started, 1,000 to do"
    assert "embed: 150/1,000 (15%), 12/s, ETA 1m08s" in lines  # every 10 s, not on every batch
    assert len([line for line in lines if line.startswith("embed: ") and "/1,000" in line]) == 3
    assert "embed: done in 40.0 s, 500 of 1,000 needed work, 12/s" in lines and lines[-1] == "themes: done in 3.0 s"

    data = tmp_path / "feedback.csv"
    tiny_frame.to_csv(data, index=False)
    result = runner.invoke(app, ["run", "--input", str(data), "--config", str(fast_yaml), "--json"])
    assert result.exit_code == 0, result.output
    assert "embed: started" in result.stderr and "themes: done" in result.stderr
    json.loads(result.stdout.strip().splitlines()[-1])  # stdout stays one JSON object


@pytest.mark.ui  # starts the real Streamlit server
def test_stopping_insight_app_by_its_pid_stops_the_server(tmp_path):
    """Regression (issue 19): `insight app` ran Streamlit as a child process; a SIGTERM to the PID a user or a
    service manager holds ended insight and left the child serving the port. The server is now that process."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "INSIGHT_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "app", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def listening() -> bool:
        with socket.socket() as c:
            return c.connect_ex(("127.0.0.1", port)) == 0

    try:
        deadline = time.time() + 60
        while not listening() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.3)
        assert listening(), "the app did not start"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        deadline = time.time() + 10
        while listening() and time.time() < deadline:
            time.sleep(0.2)
        assert not listening()  # nothing left serving the port
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left in its session, if the fix regresses
        except ProcessLookupError:
            pass
