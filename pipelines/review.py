"""Review commands: action decisions, root-cause corrections and theme registry edits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .common import ConfigOpt, JsonOpt, WorkspaceOpt, load_settings, out


def action(key: str = typer.Argument(..., help="The action's theme id (see the actions export)."),
           status: str = typer.Option(..., "--status", help="approved, rejected, in_progress, done or proposed."),
           by: str = typer.Option(..., "--by", help="Who decided."),
           note: str = typer.Option("", "--note"), config: Optional[Path] = ConfigOpt) -> None:
    """Move an action through its lifecycle; the decision carries over to later runs while its theme persists."""
    from insight import open_store

    entry = open_store(load_settings(config)).set_action_status(key, status, by, note)
    out.print(f"{key}: {entry['status']} by {entry['by']} at {entry['at']:%Y-%m-%d %H:%M} UTC")


def correct(run_id: str = typer.Argument(..., help="The run the item was tagged in (see `insight runs`)."),
            item_id: str = typer.Argument(..., help="The item's id."),
            cause: str = typer.Option(..., "--cause", help="The right root cause (a taxonomy key)."),
            by: str = typer.Option(..., "--by", help="Who corrected it."),
            note: str = typer.Option("", "--note"), config: Optional[Path] = ConfigOpt) -> None:
    """Correct an item's root cause; corrections train the next tagger (the next weekly run, or `insight train
    tagger --from-corrections`)."""
    from insight import open_store
    from insight.config import load_taxonomy

    cfg = load_settings(config)
    entry = open_store(cfg).correct_tag(run_id, item_id, cause, by, valid=load_taxonomy(cfg.tag.taxonomy).keys,
                                        note=note)
    out.print(f"{item_id}: {entry['old_cause']} -> {entry['new_cause']} by {entry['by']}")


def ledger(run: str = typer.Option("latest", "--run", help="A weekly run's id, latest, or all."),
           cause: Optional[str] = typer.Option(None, "--cause", help="model_update, taxonomy_edit, "
                                                                    "human_correction, theme_edit or rediscovery."),
           item: Optional[str] = typer.Option(None, "--item", help="One item's history."),
           limit: int = typer.Option(30, "--limit", help="Rows to print (the JSON has them all)."),
           config: Optional[Path] = ConfigOpt, workspace: Optional[str] = WorkspaceOpt,
           as_json: bool = JsonOpt) -> None:
    """What weekly runs changed and why: one row per moved tag or theme, with the taggers behind them."""
    import sys

    from insight import open_store
    from insight.errors import StoreError

    store = open_store(load_settings(config, workspace))
    run_id = None if run == "all" else store.latest_run_id("weekly") if run == "latest" else run
    if run == "latest" and run_id is None:
        raise StoreError(f"no weekly run yet in workspace {store.workspace!r}", code="E403")
    if run_id is not None:
        store.get_run(run_id)
    frame = store.ledger(run_id)
    if cause:
        frame = frame[frame["cause"] == cause]
    if item:
        frame = frame[frame["item_id"] == item]
    counts = frame.groupby(["field", "cause"]).size()
    if as_json:
        taggers = store.taggers().drop(columns=["workspace"])
        sys.stdout.write(json.dumps({"run_id": run_id, "workspace": store.workspace,
                                     "by_cause": {f"{f}:{c}": int(n) for (f, c), n in counts.items()},
                                     "entries": frame.drop(columns=["workspace"]).to_dict("records"),
                                     "taggers": taggers.to_dict("records")}, default=str) + "\n")
        return
    out.print(f"{len(frame):,} changes ({'all runs' if run_id is None else 'run ' + run_id}): "
              + (", ".join(f"{f} by {c} {n:,}" for (f, c), n in counts.items()) or "none"))
    t = Table()
    for col in ["run", "item", "field", "old", "new", "cause", "tagger", "confidence"]:
        t.add_column(col, overflow="fold")
    import pandas as pd

    def shown(v) -> str:
        return "-" if pd.isna(v) else f"{v:g}"

    for r in frame.tail(limit).to_dict("records"):
        conf = f"{shown(r['confidence_before'])} -> {shown(r['confidence_after'])}" \
            if pd.notna(r["confidence_after"]) else ""
        tagger = f"v{shown(r['tagger_before'])} -> v{shown(r['tagger_after'])}" if pd.notna(r["tagger_after"]) else ""
        t.add_row(r["run_id"], r["item_id"], r["field"], str(r["old"]), str(r["new"]), r["cause"], tagger, conf)
    out.print(t)


themes_app = typer.Typer(no_args_is_help=True, help="Review the theme registry: rename, merge, split, move.")


def _by() -> str:
    """Who edits when --by is not given: the login name (the audit log keeps it)."""
    import getpass

    return getpass.getuser()


ByOpt = typer.Option(None, "--by", help="Who edits (default: your login name); the audit log keeps it.")


def _edit(op: str, config: Optional[Path], workspace: Optional[str], by: Optional[str], **kw) -> None:
    from insight.operations import edit_theme

    event = edit_theme(op, load_settings(config, workspace), by=by or _by(), **kw)
    out.print(json.dumps(event, default=str))


@themes_app.command("list")
def themes_list(config: Optional[Path] = ConfigOpt, workspace: Optional[str] = WorkspaceOpt) -> None:
    """A workspace's registered themes with their stable ids and status."""
    from insight import open_store
    from insight.themes import Registry

    store = open_store(load_settings(config, workspace))
    reg = Registry.from_records(store.registry_records())
    t = Table(title=f"Theme registry of workspace {store.workspace!r}")
    for col in ["theme id", "label", "status"]:
        t.add_column(col)
    for i, lab, st in zip(reg.ids, reg.labels, reg.status):
        t.add_row(i, reg.pinned_labels.get(i, lab), st)
    out.print(t)


@themes_app.command("rename")
def themes_rename(theme_id: str, label: str, config: Optional[Path] = ConfigOpt,
                  workspace: Optional[str] = WorkspaceOpt, by: Optional[str] = ByOpt) -> None:
    """Give a theme a name that survives rediscovery."""
    _edit("rename", config, workspace, by, theme_id=theme_id, label=label)


@themes_app.command("merge")
def themes_merge(theme_ids: list[str], into: str = typer.Option(..., "--into"),
                 config: Optional[Path] = ConfigOpt, workspace: Optional[str] = WorkspaceOpt,
                 by: Optional[str] = ByOpt) -> None:
    """Merge themes into one (which keeps its id)."""
    _edit("merge", config, workspace, by, theme_ids=theme_ids, into=into)


@themes_app.command("split")
def themes_split(theme_id: str, k: int = typer.Option(2, "--k"),
                 seed: list[str] = typer.Option([], "--seed", help="Example text of a part (repeat per part)."),
                 config: Optional[Path] = ConfigOpt, workspace: Optional[str] = WorkspaceOpt,
                 by: Optional[str] = ByOpt) -> None:
    """Split a theme into k parts, or around example texts."""
    _edit("split", config, workspace, by, theme_id=theme_id, k=k, seeds=seed or None)


@themes_app.command("move")
def themes_move(item_ids: list[str], to: str = typer.Option(..., "--to"), config: Optional[Path] = ConfigOpt,
                workspace: Optional[str] = WorkspaceOpt, by: Optional[str] = ByOpt) -> None:
    """Record that items belong to another theme (labelled examples for the next run)."""
    _edit("move", config, workspace, by, item_ids=item_ids, theme_id=to)


def register(app: typer.Typer) -> None:
    app.command()(action)
    app.command()(correct)
    app.command()(ledger)
    app.add_typer(themes_app, name="themes")
