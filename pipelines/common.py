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


class LogReporter:
    """Progress as plain log lines, for stderr redirected to a file or a scheduler's log: one line per stage start,
    one every ``every`` seconds while it runs (done/total, rate, ETA) and one when it ends."""

    def __init__(self, stream=None, every: float = 10.0, clock=None) -> None:
        import time

        self.stream = stream if stream is not None else sys.stderr
        self.every = every
        self.clock = clock or time.monotonic
        self.name: str | None = None

    def __enter__(self) -> LogReporter:
        return self

    def __exit__(self, *exc) -> None:
        self._finish()

    def _line(self, text: str) -> None:
        import datetime

        self.stream.write(f"{datetime.datetime.now().strftime('%H:%M:%S')} {text}\n")
        self.stream.flush()

    def _finish(self) -> None:
        if self.name is not None:
            secs = self.clock() - self.started
            rate = f", {self.done / secs:,.0f}/s" if self.done and secs > 0 else ""
            if not self.total:  # a stage that does not count its work: its time says enough
                self._line(f"{self.name}: done in {secs:.1f} s")
            elif self.done < self.total:  # e.g. texts already cached or repeated are not embedded again
                self._line(f"{self.name}: done in {secs:.1f} s, {self.done:,} of {self.total:,} needed work{rate}")
            else:
                self._line(f"{self.name}: done, {self.done:,} in {secs:.1f} s{rate}")
            self.name = None

    def stage(self, name: str, total: int | None = None) -> None:
        self._finish()
        self.name, self.total, self.done = name, total, 0
        self.started = self.last = self.clock()
        self._line(f"{name}: started" + (f", {total:,} to do" if total else ""))

    def advance(self, n: int = 1) -> None:
        if self.name is None:
            return
        self.done += n
        now = self.clock()
        if now - self.last < self.every:
            return
        self.last = now
        rate = self.done / max(now - self.started, 1e-9)
        if self.total:
            left = max(self.total - self.done, 0) / rate if rate > 0 else float("inf")
            eta = f", ETA {int(left // 60)}m{int(left % 60):02d}s" if left != float("inf") else ""
            self._line(f"{self.name}: {self.done:,}/{self.total:,} ({self.done / self.total:.0%}), "
                       f"{rate:,.0f}/s{eta}")
        else:
            self._line(f"{self.name}: {self.done:,} done, {rate:,.0f}/s")


def progress_reporter(console: Console = err) -> RichReporter | LogReporter:
    """Bars on a terminal; plain periodic lines when stderr goes to a file, a pipe or a scheduler's log."""
    return RichReporter(console) if console.is_terminal else LogReporter()


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
