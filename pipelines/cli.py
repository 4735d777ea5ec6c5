"""The ``insight`` command line: thin typer wrappers that parse, call one library function and render.

Heavy work is imported inside the commands, so ``insight --help`` stays instant.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="insight: ranked operational fixes from customer feedback.")
out = Console()
err = Console(stderr=True)

ConfigOpt = typer.Option(None, "--config", "-c", help="YAML config overriding configs/default.yaml.")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object (run id, counts, top actions) and nothing else.")


class RichReporter:
    """Progress bars on stderr, one per stage; the embed stage shows items done out of items to embed."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=False)
        self.task = None

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._finish()
        self.progress.stop()

    def _finish(self) -> None:
        if self.task is not None:
            t = self.progress.tasks[self.task]
            self.progress.update(self.task, total=t.total or 1, completed=t.total or 1)

    def stage(self, name: str, total: int | None = None) -> None:
        self._finish()
        self.task = self.progress.add_task(name, total=total if total else 1)

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)


def _load(config: Optional[Path], **overrides):
    from insight.config import load_config

    return load_config(config, **overrides)


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]error[/] {exc}")
    raise typer.Exit(code=2)


def _render(summary: dict, as_json: bool, store_url: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return
    c = summary["counts"]
    acc = Table(title=f"Run {summary['run_id']}: every input row accounted for", show_lines=False)
    for col in ["read", "stored", "duplicates", "quarantined", "non_actionable"]:
        acc.add_column(col, justify="right")
    acc.add_row(*[str(c[k]) for k in ["read", "stored", "duplicates", "quarantined", "non_actionable"]])
    out.print(acc)
    if summary.get("pii_redactions"):
        out.print("PII redacted before embedding or storage: " +
                  ", ".join(f"{k} {v}" for k, v in summary["pii_redactions"].items()))
    if summary.get("self_check"):
        out.print(f"Self-check against the demo's ground truth: root-cause accuracy "
                  f"{summary['self_check']['accuracy']:.1%} on {summary['self_check']['n']} items")
    t = Table(title="Top actions", show_lines=True)
    for col in ["#", "root cause", "action", "owner", "impact", "evidence"]:
        t.add_column(col, overflow="fold")
    for a in summary["top_actions"]:
        ev = "\n".join(f"“{e[:140]}”" for e in a["evidence"][:2])
        t.add_row(str(a["rank"]), a["root_cause"], a["title"], a["owner"], f"{a['impact']:.0f}", ev)
    out.print(t)
    out.print(f"Stored in {store_url}. Explore it with: [bold]insight app[/]  (then open http://localhost:8501)")


def _run(source, cfg, as_json: bool) -> None:
    from insight.errors import InsightError
    from insight.flow import run_and_store

    try:
        with RichReporter(err) as rep:
            result = run_and_store(source, cfg, reporter=rep)
    except InsightError as exc:
        _fail(exc)
    _render(result.summary(), as_json, cfg.store_url)


@app.command()
def demo(config: Optional[Path] = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Run the whole pipeline on the bundled demo storefront and store the run."""
    from insight.demo import DEMO_OVERRIDES, demo_path
    from insight.errors import InsightError

    try:
        cfg = _load(config, **DEMO_OVERRIDES)
    except InsightError as exc:
        _fail(exc)
    _run(demo_path(), cfg, as_json)


@app.command("run")
def run_cmd(input: Path = typer.Option(..., "--input", "-i", help="CSV, JSONL, JSON or Parquet export."),
            config: Optional[Path] = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Run the pipeline on one export and store the run."""
    from insight.errors import InsightError

    try:
        cfg = _load(config)
    except InsightError as exc:
        _fail(exc)
    _run(input, cfg, as_json)


@app.command()
def runs(config: Optional[Path] = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """List stored runs, newest first."""
    from insight import open_store

    frame = open_store(_load(config)).list_runs()
    if as_json:
        sys.stdout.write(frame[["run_id", "created_at", "source", "counts"]].to_json(orient="records",
                                                                                    date_format="iso") + "\n")
        return
    t = Table(title="Stored runs")
    for col in ["run id", "created", "source", "read", "stored", "duplicates", "quarantined", "non-actionable"]:
        t.add_column(col)
    for r in frame.to_dict("records"):
        c = r["counts"] or {}
        t.add_row(r["run_id"], str(r["created_at"])[:19], str(r["source"])[-40:],
                  *[str(c.get(k, "")) for k in ["read", "stored", "duplicates", "quarantined", "non_actionable"]])
    out.print(t if len(frame) else "No runs stored yet: try `insight demo`.")


@app.command()
def export(run: str = typer.Option("latest", "--run", help="Run id, or 'latest'."),
           fmt: str = typer.Option("csv", "--format", "-f", help="csv or json."),
           what: str = typer.Option("actions", "--what", help="actions, themes or items."),
           output: Optional[Path] = typer.Option(None, "--out", "-o", help="File to write; default stdout."),
           config: Optional[Path] = ConfigOpt) -> None:
    """Export a stored run's actions (or themes, items) as CSV or JSON."""
    from insight import open_store
    from insight.errors import InsightError
    from insight.export import export as do_export

    try:
        store = open_store(_load(config))
        run_id = store.latest_run_id() if run == "latest" else run
        if run_id is None:
            raise InsightError("no stored runs yet: run `insight demo` or `insight run --input FILE` first",
                               code="E403")
        if what not in ("actions", "themes", "items"):
            raise InsightError(f"--what must be actions, themes or items, not {what!r}", code="E502")
        frame = store.load(run_id, what).drop(columns=["run_id"])
        text = do_export(frame, fmt, meta={"run_id": run_id, "what": what})
    except InsightError as exc:
        _fail(exc)
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {len(frame)} {what} of run {run_id} to {output}")
    else:
        sys.stdout.write(text)


@app.command("app")
def app_cmd(port: int = typer.Option(8501, help="Port for the review app."),
            config: Optional[Path] = ConfigOpt) -> None:
    """Open the Streamlit review app on the stored runs."""
    script = Path(__file__).resolve().parent.parent / "app.py"
    if not script.is_file():
        _fail(FileNotFoundError(f"app.py not found next to the pipelines package ({script}); "
                                "install from a source checkout with `pip install -e .[app]`"))
    env = dict(os.environ)
    if config:
        env["INSIGHT_CONFIG"] = str(config.resolve())
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    raise typer.Exit(subprocess.call(cmd, env=env))


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app()


if __name__ == "__main__":
    main()
