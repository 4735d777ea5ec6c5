"""What every command shares: the consoles, the common options, config loading, progress bars, rendering."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)

ConfigOpt = typer.Option(None, "--config", "-c", help="YAML config overriding configs/default.yaml.")
WorkspaceOpt = typer.Option(None, "--workspace", "-w",
                            help="The dataset's workspace: runs, theme ids and decisions never cross workspaces "
                                 "(default: $INSIGHT_WORKSPACE, else 'default'; the demo uses 'demo').")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object (run id, counts, top actions) and nothing else.")
SpreadOpt = typer.Option(2.5, "--pseudo-spread", help="Draw each cause's N pseudo-labels at random from its N x "
                                                      "SPREAD surest texts (1: the N surest). A wider band shows the "
                                                      "encoder more ways customers phrase a cause.")


ProfileOpt = typer.Option(None, "--profile", "-p",
                          help="Column-mapping profile: generic, zendesk, shopify_reviews, app_store, survey, ...")


def load_with_profile(config: Optional[Path], profile: Optional[str], workspace: Optional[str] = None):
    return load_settings(config, workspace, **({"ingest": {"profile": profile}} if profile else {}))


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


def load_settings(config: Optional[Path], workspace: Optional[str] = None, **overrides):
    from insight.config import load_config

    return load_config(config, **({"workspace": workspace} if workspace else {}), **overrides)


def print_result(result: dict, as_json: bool, title: str) -> None:
    """One JSON object on stdout with ``--json``; otherwise a two-column table of figures."""
    if as_json:
        sys.stdout.write(json.dumps(result, default=str) + "\n")
        return
    t = Table(title=title)
    t.add_column("figure")
    t.add_column("value", justify="right")
    for k, v in result.items():
        t.add_row(k, str(v))
    out.print(t)
