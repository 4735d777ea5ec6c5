"""The ``insight`` command line: thin typer wrappers that parse, call one library function and render.

Heavy work is imported inside the commands, so ``insight --help`` stays instant.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import click
import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from . import learn, review
from .common import (
    ConfigOpt,
    JsonOpt,
    ProfileOpt,
    WorkspaceOpt,
    err,
    load_settings,
    load_with_profile,
    out,
    progress_reporter,
)


class _Commands(TyperGroup):
    """Every command's coded errors are handled here, once: the message on stderr, exit status 2.

    Sub-command groups run inside this group's ``invoke``, so ``insight eval ...`` and ``insight themes ...`` are
    covered too. Anything else is a bug and keeps its traceback.
    """

    def invoke(self, ctx: click.Context):
        from insight.errors import InsightError

        try:
            return super().invoke(ctx)
        except InsightError as exc:
            err.print(f"[bold red]error[/] {escape(str(exc))}")
            raise typer.Exit(code=2) from None


app = typer.Typer(cls=_Commands, add_completion=False, no_args_is_help=True,
                  help="insight: ranked operational fixes from customer feedback.")


def _accounting(c: dict, title: str) -> None:
    acc = Table(title=title)
    for col in ["read", "stored", "duplicates", "quarantined", "non_actionable"]:
        acc.add_column(col, justify="right")
    acc.add_row(*[f"{c[k]:,}" for k in ["read", "stored", "duplicates", "quarantined", "non_actionable"]])
    out.print(acc)


def _render(summary: dict, as_json: bool, store_url: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return
    _accounting(summary["counts"], f"Run {summary['run_id']}: every input row accounted for")
    if summary.get("pii_redactions"):
        out.print("PII redacted before embedding or storage: " +
                  ", ".join(f"{k} {v}" for k, v in summary["pii_redactions"].items()))
    if summary.get("names_left_out"):
        out.print("Left out of what the models read, as the shop's own name (the stored text keeps it): " +
                  ", ".join(summary["names_left_out"]))
    for note in (summary.get("health") or {}).get("notes", []):
        out.print(f"[yellow]Run health:[/] {escape(note)}")
    if summary.get("self_check"):
        out.print(f"Self-check against the demo's ground truth: root-cause accuracy "
                  f"{summary['self_check']['accuracy']:.1%} on {summary['self_check']['n']} items")
    t = Table(title="Top actions", show_lines=True)
    for col in ["#", "root cause", "action", "owner", "impact", "complaints", "evidence"]:
        t.add_column(col, overflow="fold")
    for a in summary["top_actions"]:
        ev = "\n".join(f"“{e[:140]}”" for e in a["evidence"][:2])
        counted = f"{a['complaints']} of {a['items']}" if a.get("complaints") is not None else str(a.get("items", ""))
        t.add_row(str(a["rank"]), a["root_cause"], a["title"], a["owner"], f"{a['impact']:.0f}", counted, ev)
    out.print(t)
    out.print(f"Stored in {store_url}. Explore it with: [bold]insight app[/]  (then open http://localhost:8501)")


def _run(source, cfg, as_json: bool) -> None:
    from insight.flow import run_and_store

    with progress_reporter(err) as rep:
        result = run_and_store(source, cfg, reporter=rep)
    _render(result.summary(), as_json, cfg.store_url)


@app.command()
def demo(config: Optional[Path] = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Run the whole pipeline on the bundled demo storefront and store the run (in the workspace 'demo')."""
    from insight.demo import DEMO_OVERRIDES, demo_path

    cfg = load_settings(config, **DEMO_OVERRIDES)
    _run(demo_path(), cfg, as_json)


@app.command("run")
def run_cmd(input: Path = typer.Option(..., "--input", "-i", help="CSV, JSONL, JSON or Parquet export."),
            config: Optional[Path] = ConfigOpt, profile: Optional[str] = ProfileOpt,
            workspace: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Run the pipeline on one export and store the run."""
    cfg = load_with_profile(config, profile, workspace)
    _run(input, cfg, as_json)


@app.command("weekly")
def weekly_cmd(
        input: Optional[list[Path]] = typer.Option(None, "--input", "-i",
                                                   help="New exports (repeat for several); none: reclassify only."),
        since: Optional[str] = typer.Option(None, "--since", help="Skip rows written before this date (2026-11-23)."),
        executor: str = typer.Option("local", "--executor", help="local (this process) or dask."),
        scheduler: Optional[str] = typer.Option(None, "--scheduler",
                                                help="Dask scheduler address (tcp://host:8786); none: a LocalCluster."),
        workers: Optional[int] = typer.Option(None, "--workers", help="LocalCluster processes (default: a core each)."),
        rediscover: Optional[bool] = typer.Option(None, "--rediscover/--no-rediscover",
                                                  help="Force (or skip) this week's rediscovery of themes."),
        rollback_model: bool = typer.Option(False, "--rollback-model",
                                            help="Bring back the tagger before the active one and reclassify."),
        config: Optional[Path] = ConfigOpt, profile: Optional[str] = ProfileOpt,
        workspace: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Absorb this week's feedback into the workspace's items, reclassify, record every change in the ledger.

    Exit status: 0 published; 3 published, but something needs a person (the warnings say what); 2 bad input or
    configuration (nothing published); 1 a crash (nothing published: run it again).
    """
    from contextlib import nullcontext

    from insight.weekly import weekly

    if executor not in ("local", "dask"):
        raise typer.BadParameter("--executor must be local or dask")
    if scheduler and executor != "dask":
        raise typer.BadParameter("--scheduler needs --executor dask")
    for path in input or []:
        if not path.exists():
            raise typer.BadParameter(f"no such file: {path}", param_hint="--input")
    cfg = load_with_profile(config, profile, workspace)
    if executor == "dask":
        from .dask_runner import dask_executor

        pool = dask_executor(scheduler, workers)
    else:
        pool = nullcontext(None)
    with pool as ex, progress_reporter(err) as rep:
        done = weekly(list(input or []), cfg, since=since, executor=ex, reporter=rep, rediscover=rediscover,
                      rollback=rollback_model)
    summary = done.summary()
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, default=str) + "\n")
    else:
        _accounting(summary["counts"], f"Weekly run {summary['run_id']} ({summary['workspace']}): every input row "
                                       f"accounted for")
        items = summary["items"]
        out.print(f"items: {items['before']:,} held, {items['new']:,} new, {items['already_seen']:,} already held")
        t = summary["tagger"]
        out.print(f"tagger v{t['version']} ({t.get('decision') or t.get('reason')})")
        changes = ", ".join(f"{k} {v:,}" for k, v in summary["changes"].items()) or "none"
        out.print(f"changes recorded in the ledger: {changes}")
        for w in summary["warnings"]:
            out.print(f"[yellow]attention:[/] {escape(w)}")
        for a in summary["top_actions"]:
            out.print(f"{a['rank']}. {escape(a['title'])} ({a['owner']}; {a['complaints']} complaints)")
    if done.exit_code:
        raise typer.Exit(code=done.exit_code)


@app.command()
def ingest(path: Path = typer.Argument(..., help="The export to check."),
           infer: bool = typer.Option(False, "--infer", help="Only propose a column mapping from the headers."),
           config: Optional[Path] = ConfigOpt, profile: Optional[str] = ProfileOpt,
           store: bool = typer.Option(True, "--store/--no-store", help="Store the accounting as an ingest run."),
           workspace: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Read and clean an export without analysing it: accounting, reasons, languages, PII report."""
    import yaml

    from insight.ingest import infer_mapping, sniff_columns
    from insight.operations import ingest_only
    from insight.report import reason_table

    if infer:
        proposal = infer_mapping(sniff_columns(path))
        if as_json:
            sys.stdout.write(json.dumps(proposal) + "\n")
            return
        out.print(f"[bold]Proposed mapping for {path.name}[/] (paste under `ingest:` in your config):")
        block = {"columns": proposal["columns"]}
        if proposal["profile"]:
            block = {"profile": proposal["profile"], **block}
        out.print(yaml.safe_dump(block, sort_keys=False, allow_unicode=True).rstrip())
        out.print(f"profile match: {proposal['profile_scores']}")
        if proposal["unmapped"]:
            out.print(f"kept as metadata, unmapped: {proposal['unmapped']}")
        return
    cfg = load_with_profile(config, profile, workspace)
    with progress_reporter(err) as rep:
        rep.stage("read+clean")
        result = ingest_only(path, cfg, store=store, reporter=rep)
    reasons = reason_table(result.items)
    summary = {"run_id": result.run_id if store else None, "counts": result.counts.as_dict(),
               "non_actionable_share": round(result.counts.non_actionable / max(result.counts.read, 1), 4),
               "reasons": reasons.to_dict("records"), "pii_redactions": result.manifest["pii_redactions"],
               "languages": result.manifest["languages"]}
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return
    _accounting(summary["counts"], f"Ingest of {path.name}: every input row accounted for")
    t = Table(title="Outcomes by reason")
    for col in ["outcome", "reason", "rows"]:
        t.add_column(col, justify="right" if col == "rows" else "left")
    for r in summary["reasons"]:
        t.add_row(r["outcome"], r["reason"], f"{r['rows']:,}")
    out.print(t)
    out.print(f"non-actionable share: {summary['non_actionable_share']:.1%}; languages of analysable items: "
              + ", ".join(f"{k} {v:,}" for k, v in list(summary["languages"].items())[:8]))
    if summary["pii_redactions"]:
        out.print("PII redacted: " + ", ".join(f"{k} {v:,}" for k, v in summary["pii_redactions"].items()))
    if store:
        out.print(f"stored as ingest run {result.run_id}")


@app.command()
def erase(customer_id: str = typer.Option(..., "--customer-id", help="The customer whose data must go."),
          config: Optional[Path] = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Erase one customer's items from every stored run, the embedding cache and managed exports; theme names
    lose any word the remaining customers no longer voice."""
    from insight.operations import erase_customer

    done = erase_customer(customer_id, load_settings(config))
    if as_json:
        sys.stdout.write(json.dumps(done) + "\n")
        return
    out.print(f"erased subject {done['subject_hash'][:16]}...: {done['items_removed']} items from "
              f"{len(done['runs_affected'])} runs, {done['cache_vectors_removed']} cached vectors, "
              f"names rebuilt in {len(done['names_rebuilt'])} runs, {len(done['exports_rewritten'])} exports "
              f"rewritten")


@app.command()
def runs(config: Optional[Path] = ConfigOpt, workspace: Optional[str] = WorkspaceOpt,
         as_json: bool = JsonOpt) -> None:
    """List a workspace's stored runs, newest first: analysed runs (``pipeline``) and read-and-clean checks."""
    from insight import open_store

    store = open_store(load_settings(config, workspace))
    frame = store.list_runs()
    if as_json:
        sys.stdout.write(frame[["run_id", "kind", "workspace", "created_at", "source", "counts"]].to_json(
            orient="records", date_format="iso") + "\n")
        return
    t = Table(title=f"Stored runs in workspace {store.workspace!r} (ingest: read and cleaned only, never taken "
                    f"for --run latest); workspaces: {', '.join(store.workspaces()) or 'none'}")
    for col in ["run id", "kind", "created", "source", "read", "stored", "duplicates", "quarantined",
                "non-actionable"]:
        t.add_column(col)
    for r in frame.to_dict("records"):
        c = r["counts"] or {}
        t.add_row(r["run_id"], r["kind"], str(r["created_at"])[:19], str(r["source"])[-40:],
                  *[str(c.get(k, "")) for k in ["read", "stored", "duplicates", "quarantined", "non_actionable"]])
    others = [w for w in store.workspaces() if w != store.workspace]
    empty = (f"No runs in workspace {store.workspace!r}; runs exist in workspace {', '.join(others)} "
             f"(pass --workspace {others[0]})." if others else "No runs stored yet: try `insight demo`.")
    out.print(t if len(frame) else empty)


@app.command()
def export(run: str = typer.Option("latest", "--run", help="Run id, or 'latest'."),
           fmt: str = typer.Option("csv", "--format", "-f", help="csv, json, jira (CSV import) or markdown (brief)."),
           what: str = typer.Option("actions", "--what", help="actions, themes, items or quarantine."),
           output: Optional[Path] = typer.Option(None, "--out", "-o", help="File to write; default stdout."),
           config: Optional[Path] = ConfigOpt, workspace: Optional[str] = WorkspaceOpt) -> None:
    """Export a stored run's actions (or themes, items) as CSV or JSON."""
    from insight import open_store
    from insight.errors import ExportError, StoreError
    from insight.report import export as do_export

    store = open_store(load_settings(config, workspace))
    run_id = store.latest_analysed_run_id() if run == "latest" else run
    if run_id is None:
        others = [w for w in store.workspaces() if w != store.workspace]
        hint = (f"; runs exist in workspace {', '.join(others)}: pass --workspace {others[0]}" if others else
                ": run `insight demo` or `insight run --input FILE` first")
        raise StoreError(f"no stored runs in workspace {store.workspace!r}{hint}", code="E403")
    if what not in ("actions", "themes", "items", "quarantine"):
        raise ExportError(f"--what must be actions, themes, items or quarantine, not {what!r}", code="E502")
    if fmt in ("jira", "markdown") and what != "actions":
        raise ExportError(f"--format {fmt} exports actions ({'Jira tickets' if fmt == 'jira' else 'the weekly brief'})"
                          f"; export {what} with --format csv or json", code="E503")
    frame = store.load(run_id, what).drop(columns=["run_id"])
    if fmt == "markdown":
        from insight.operations import weekly_brief
        from insight.report import to_markdown

        text = to_markdown(weekly_brief(store, run_id))
    else:
        text = do_export(frame, fmt, meta={"run_id": run_id, "what": what})
    if output:
        output.write_text(text, encoding="utf-8")
        store.record_export(run_id, what, fmt, str(output.resolve()))  # so an erasure can rewrite it
        wrote = "the weekly brief" if fmt == "markdown" else f"{len(frame)} {what}"
        err.print(f"wrote {wrote} of run {run_id} to {output}")
    else:
        sys.stdout.write(text)


@app.command("app")
def app_cmd(port: int = typer.Option(8501, help="Port for the review app."),
            address: str = typer.Option("127.0.0.1", "--address",
                                        help="Interface to listen on; 0.0.0.0 opens the app to the network: set "
                                             "access.roles and a login provider first (docs/app.md)."),
            config: Optional[Path] = ConfigOpt, workspace: Optional[str] = WorkspaceOpt) -> None:
    """Open the Streamlit review app on the stored runs (on this machine only, unless --address says otherwise)."""
    script = Path(__file__).resolve().parent.parent / "app.py"
    if not script.is_file():
        err.print(f"[bold red]error[/] app.py not found next to the pipelines package ({script}); "
                  "install from a source checkout with `pip install -e .[app]`")
        raise typer.Exit(code=2)
    env = dict(os.environ)
    if config:
        env["INSIGHT_CONFIG"] = str(config.resolve())
    if workspace:
        env["INSIGHT_WORKSPACE"] = workspace
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
           "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "viewer"]  # no Deploy button for end users
    # the server becomes this process (same PID): stopping `insight app` by its PID, as a user or a service manager
    # does, stops the server; a child process used to keep serving the port
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, cmd, env)




review.register(app)
learn.register(app)


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app()


if __name__ == "__main__":
    main()
