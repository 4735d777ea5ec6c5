"""Review commands: action decisions, root-cause corrections and theme registry edits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .common import ConfigOpt, WorkspaceOpt, load_settings, out


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
    """Correct an item's root cause; corrections train the next tagger (`insight train tagger --from-corrections`)."""
    from insight import open_store
    from insight.config import load_taxonomy

    cfg = load_settings(config)
    entry = open_store(cfg).correct_tag(run_id, item_id, cause, by, valid=load_taxonomy(cfg.tag.taxonomy).keys,
                                        note=note)
    out.print(f"{item_id}: {entry['old_cause']} -> {entry['new_cause']} by {entry['by']}")


themes_app = typer.Typer(no_args_is_help=True, help="Review the theme registry: rename, merge, split, move.")


def _edit(op: str, config: Optional[Path], workspace: Optional[str], **kw) -> None:
    from insight.operations import edit_theme

    event = edit_theme(op, load_settings(config, workspace), **kw)
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
                  workspace: Optional[str] = WorkspaceOpt) -> None:
    """Give a theme a name that survives rediscovery."""
    _edit("rename", config, workspace, theme_id=theme_id, label=label)


@themes_app.command("merge")
def themes_merge(theme_ids: list[str], into: str = typer.Option(..., "--into"),
                 config: Optional[Path] = ConfigOpt, workspace: Optional[str] = WorkspaceOpt) -> None:
    """Merge themes into one (which keeps its id)."""
    _edit("merge", config, workspace, theme_ids=theme_ids, into=into)


@themes_app.command("split")
def themes_split(theme_id: str, k: int = typer.Option(2, "--k"),
                 seed: list[str] = typer.Option([], "--seed", help="Example text of a part (repeat per part)."),
                 config: Optional[Path] = ConfigOpt, workspace: Optional[str] = WorkspaceOpt) -> None:
    """Split a theme into k parts, or around example texts."""
    _edit("split", config, workspace, theme_id=theme_id, k=k, seeds=seed or None)


@themes_app.command("move")
def themes_move(item_ids: list[str], to: str = typer.Option(..., "--to"), config: Optional[Path] = ConfigOpt,
                workspace: Optional[str] = WorkspaceOpt) -> None:
    """Record that items belong to another theme (labelled examples for the next run)."""
    _edit("move", config, workspace, item_ids=item_ids, theme_id=to)


def register(app: typer.Typer) -> None:
    app.command()(action)
    app.command()(correct)
    app.add_typer(themes_app, name="themes")
