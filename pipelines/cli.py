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

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

out = Console()
err = Console(stderr=True)


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

ConfigOpt = typer.Option(None, "--config", "-c", help="YAML config overriding configs/default.yaml.")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object (run id, counts, top actions) and nothing else.")
SpreadOpt = typer.Option(2.5, "--pseudo-spread", help="Draw each cause's N pseudo-labels at random from its N x "
                                                      "SPREAD surest texts (1: the N surest). A wider band shows the "
                                                      "encoder more ways customers phrase a cause.")


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
    from insight.flow import run_and_store

    with RichReporter(err) as rep:
        result = run_and_store(source, cfg, reporter=rep)
    _render(result.summary(), as_json, cfg.store_url)


@app.command()
def demo(config: Optional[Path] = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Run the whole pipeline on the bundled demo storefront and store the run."""
    from insight.demo import DEMO_OVERRIDES, demo_path

    cfg = _load(config, **DEMO_OVERRIDES)
    _run(demo_path(), cfg, as_json)


ProfileOpt = typer.Option(None, "--profile", "-p",
                          help="Column-mapping profile: generic, zendesk, shopify_reviews, app_store, survey, ...")


def _load_with_profile(config: Optional[Path], profile: Optional[str]):
    return _load(config, **({"ingest": {"profile": profile}} if profile else {}))


@app.command("run")
def run_cmd(input: Path = typer.Option(..., "--input", "-i", help="CSV, JSONL, JSON or Parquet export."),
            config: Optional[Path] = ConfigOpt, profile: Optional[str] = ProfileOpt,
            as_json: bool = JsonOpt) -> None:
    """Run the pipeline on one export and store the run."""

    cfg = _load_with_profile(config, profile)
    _run(input, cfg, as_json)


@app.command()
def ingest(path: Path = typer.Argument(..., help="The export to check."),
           infer: bool = typer.Option(False, "--infer", help="Only propose a column mapping from the headers."),
           config: Optional[Path] = ConfigOpt, profile: Optional[str] = ProfileOpt,
           store: bool = typer.Option(True, "--store/--no-store", help="Store the accounting as an ingest run."),
           as_json: bool = JsonOpt) -> None:
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
    cfg = _load_with_profile(config, profile)
    with RichReporter(err) as rep:
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
    """Erase one customer's items from every stored run, the embedding cache and managed exports."""
    from insight.operations import erase_customer

    done = erase_customer(customer_id, _load(config))
    if as_json:
        sys.stdout.write(json.dumps(done) + "\n")
        return
    out.print(f"erased subject {done['subject_hash'][:16]}...: {done['items_removed']} items from "
              f"{len(done['runs_affected'])} runs, {done['cache_vectors_removed']} cached vectors, "
              f"{len(done['exports_rewritten'])} exports rewritten")


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
           fmt: str = typer.Option("csv", "--format", "-f", help="csv, json, jira (CSV import) or markdown (brief)."),
           what: str = typer.Option("actions", "--what", help="actions, themes, items or quarantine."),
           output: Optional[Path] = typer.Option(None, "--out", "-o", help="File to write; default stdout."),
           config: Optional[Path] = ConfigOpt) -> None:
    """Export a stored run's actions (or themes, items) as CSV or JSON."""
    from insight import open_store
    from insight.errors import ExportError, StoreError
    from insight.report import export as do_export

    store = open_store(_load(config))
    run_id = store.latest_run_id() if run == "latest" else run
    if run_id is None:
        raise StoreError("no stored runs yet: run `insight demo` or `insight run --input FILE` first", code="E403")
    if what not in ("actions", "themes", "items", "quarantine"):
        raise ExportError(f"--what must be actions, themes, items or quarantine, not {what!r}", code="E502")
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
        err.print(f"wrote {len(frame)} {what} of run {run_id} to {output}")
    else:
        sys.stdout.write(text)


@app.command()
def action(key: str = typer.Argument(..., help="The action's theme id (see the actions export)."),
           status: str = typer.Option(..., "--status", help="approved, rejected, in_progress, done or proposed."),
           by: str = typer.Option(..., "--by", help="Who decided."),
           note: str = typer.Option("", "--note"), config: Optional[Path] = ConfigOpt) -> None:
    """Move an action through its lifecycle; the decision carries over to later runs while its theme persists."""
    from insight import open_store

    entry = open_store(_load(config)).set_action_status(key, status, by, note)
    out.print(f"{key}: {entry['status']} by {entry['by']} at {entry['at']:%Y-%m-%d %H:%M} UTC")


@app.command()
def correct(run_id: str = typer.Argument(..., help="The run the item was tagged in (see `insight runs`)."),
            item_id: str = typer.Argument(..., help="The item's id."),
            cause: str = typer.Option(..., "--cause", help="The right root cause (a taxonomy key)."),
            by: str = typer.Option(..., "--by", help="Who corrected it."),
            note: str = typer.Option("", "--note"), config: Optional[Path] = ConfigOpt) -> None:
    """Correct an item's root cause; corrections train the next tagger (`insight train tagger --from-corrections`)."""
    from insight import open_store
    from insight.config import load_taxonomy

    cfg = _load(config)
    entry = open_store(cfg).correct_tag(run_id, item_id, cause, by, valid=load_taxonomy(cfg.tag.taxonomy).keys,
                                        note=note)
    out.print(f"{item_id}: {entry['old_cause']} -> {entry['new_cause']} by {entry['by']}")


themes_app = typer.Typer(no_args_is_help=True, help="Review the theme registry: rename, merge, split, move.")
app.add_typer(themes_app, name="themes")


def _edit(op: str, config: Optional[Path], **kw) -> None:
    from insight.operations import edit_theme

    event = edit_theme(op, _load(config), **kw)
    out.print(json.dumps(event, default=str))


@themes_app.command("list")
def themes_list(config: Optional[Path] = ConfigOpt) -> None:
    """Registered themes with their stable ids and status."""
    from insight import open_store
    from insight.themes import Registry

    reg = Registry.from_records(open_store(_load(config)).registry_records())
    t = Table(title="Theme registry")
    for col in ["theme id", "label", "status"]:
        t.add_column(col)
    for i, lab, st in zip(reg.ids, reg.labels, reg.status):
        t.add_row(i, reg.pinned_labels.get(i, lab), st)
    out.print(t)


@themes_app.command("rename")
def themes_rename(theme_id: str, label: str, config: Optional[Path] = ConfigOpt) -> None:
    """Give a theme a name that survives rediscovery."""
    _edit("rename", config, theme_id=theme_id, label=label)


@themes_app.command("merge")
def themes_merge(theme_ids: list[str], into: str = typer.Option(..., "--into"),
                 config: Optional[Path] = ConfigOpt) -> None:
    """Merge themes into one (which keeps its id)."""
    _edit("merge", config, theme_ids=theme_ids, into=into)


@themes_app.command("split")
def themes_split(theme_id: str, k: int = typer.Option(2, "--k"),
                 seed: list[str] = typer.Option([], "--seed", help="Example text of a part (repeat per part)."),
                 config: Optional[Path] = ConfigOpt) -> None:
    """Split a theme into k parts, or around example texts."""
    _edit("split", config, theme_id=theme_id, k=k, seeds=seed or None)


@themes_app.command("move")
def themes_move(item_ids: list[str], to: str = typer.Option(..., "--to"), config: Optional[Path] = ConfigOpt) -> None:
    """Record that items belong to another theme (labelled examples for the next run)."""
    _edit("move", config, item_ids=item_ids, theme_id=to)


@app.command("app")
def app_cmd(port: int = typer.Option(8501, help="Port for the review app."),
            config: Optional[Path] = ConfigOpt) -> None:
    """Open the Streamlit review app on the stored runs."""
    script = Path(__file__).resolve().parent.parent / "app.py"
    if not script.is_file():
        err.print(f"[bold red]error[/] app.py not found next to the pipelines package ({script}); "
                  "install from a source checkout with `pip install -e .[app]`")
        raise typer.Exit(code=2)
    env = dict(os.environ)
    if config:
        env["INSIGHT_CONFIG"] = str(config.resolve())
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    raise typer.Exit(subprocess.call(cmd, env=env))


train_app = typer.Typer(no_args_is_help=True, help="Train components from labelled feedback.")
app.add_typer(train_app, name="train")


@train_app.command("tagger")
def train_tagger_cmd(
        input: Optional[Path] = typer.Option(None, "--input", help="Labelled feedback (CSV, JSONL, Parquet...)."),
        from_corrections: bool = typer.Option(False, "--from-corrections",
                                              help="Add reviewers' corrections from the store (latest per text)."),
        text_column: str = typer.Option("text", "--text-column"),
        label_column: str = typer.Option("label", "--label-column", help="Values must be taxonomy keys."),
        out_dir: Optional[Path] = typer.Option(None, "--out", help="Model folder; default models/tagger/<name>-vN."),
        taxonomy: Optional[str] = typer.Option(None, "--taxonomy"),
        finetune: bool = typer.Option(False, "--finetune", help="Contrastively fine-tune the encoder too; kept "
                                                                "only if it beats the frozen one on held-out labels."),
        unlabelled: Optional[Path] = typer.Option(None, "--unlabelled",
                                                  help="Untagged feedback (same text column) for pseudo-labels."),
        pseudo: int = typer.Option(60, "--pseudo-per-class", help="Pseudo-labelled texts per cause from --unlabelled."),
        spread: float = SpreadOpt,
        config: Optional[Path] = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Train a calibrated root-cause tagger and save it (JSON + npz, no pickle); use it with tag.backend: model."""
    from insight.evaluate import load_labelled
    from insight.operations import train_tagger

    cfg = _load(config)
    import pandas as pd

    pool = load_labelled(unlabelled, text_column, text_column)["text"].tolist() if unlabelled else None
    frames = [load_labelled(input, text_column, label_column)] if input else []
    if from_corrections:
        from insight import open_store
        from insight.operations import corrections_as_labels

        frames.append(corrections_as_labels(open_store(cfg)))
    if not frames:
        raise typer.BadParameter("give --input FILE, --from-corrections, or both")
    with RichReporter(err) as reporter:
        done = train_tagger(pd.concat(frames, ignore_index=True), out_dir, cfg, taxonomy,
                            finetune=finetune, unlabelled=pool, pseudo_per_class=pseudo if pool else 0,
                            pseudo_spread=spread, progress=reporter)
    if as_json:
        sys.stdout.write(json.dumps(done) + "\n")
        return
    out.print(f"saved {done['kind']} to {done['path']} (temperature {done['temperature']}); held-out: "
              + ", ".join(f"{k} {v}" for k, v in done["metrics"].items()))
    out.print(f"use it with:  tag: {{backend: model, model_path: {done['path']}}}")


eval_app = typer.Typer(no_args_is_help=True, help="Quality figures on labelled data (prints, asserts nothing).")
app.add_typer(eval_app, name="eval")


def _labelled(dataset: Optional[str], input: Optional[Path], text_column: str, label_column: str,
              train: Optional[Path], cfg):
    from insight.evaluate import load_dataset, load_labelled

    if dataset:
        return load_dataset(dataset, cfg.data_path)
    if input is None:
        raise typer.BadParameter("give --dataset banking77|clinc150 or --input PATH")
    test = load_labelled(input, text_column, label_column)
    return (load_labelled(train, text_column, label_column) if train else None), test


@eval_app.command("tagging")
def eval_tagging_cmd(
        dataset: Optional[str] = typer.Option(None, "--dataset", help="banking77 or clinc150 (from the data dir)."),
        input: Optional[Path] = typer.Option(None, "--input", help="A labelled file to evaluate on."),
        train: Optional[Path] = typer.Option(None, "--train", help="Labelled training file (few-shot/supervised)."),
        text_column: str = typer.Option("text", "--text-column"),
        label_column: str = typer.Option("label", "--label-column"),
        taxonomy: Optional[str] = typer.Option(
            None, "--taxonomy", help="default, a YAML path, or 'labels' (the dataset's labels described by their "
                                     "names). Zero-shot tags with it (default: the configured one); few-shot and "
                                     "supervised add its descriptions and seeds to the training labels."),
        mode: str = typer.Option("zero-shot", "--mode", help="zero-shot, few-shot or supervised."),
        shots: Optional[int] = typer.Option(None, "--shots", help="Examples per class in few-shot mode."),
        seeds: int = typer.Option(1, "--seeds", help="Repeat few-shot sampling with this many seeds; mean."),
        finetune: bool = typer.Option(False, "--finetune", help="SetFit-style contrastive fine-tune first."),
        finetune_steps: Optional[int] = typer.Option(None, "--finetune-steps", help="Fixed number of steps."),
        finetune_epochs: float = typer.Option(10.0, "--finetune-epochs", help="Passes over the fine-tune texts."),
        finetune_lr: float = typer.Option(1e-4, "--finetune-lr"),
        finetune_classes: int = typer.Option(32, "--finetune-classes", help="Classes per contrastive batch."),
        pseudo: int = typer.Option(0, "--pseudo-per-class",
                                   help="With --finetune: add this many pseudo-labelled texts per class from the "
                                        "unlabelled rest of the training file (self-training)."),
        spread: float = SpreadOpt,
        neighbours: Optional[int] = typer.Option(None, "--neighbours", min=0,
                                                 help="With --pseudo-per-class: blend in the causes of this many "
                                                      "nearest untagged texts (default tag.neighbours; 0: off)."),
        config: Optional[Path] = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Root-cause tagging: accuracy, macro-F1, ECE, coverage and precision at coverage."""
    from insight.config import load_taxonomy
    from insight.evaluate import eval_tagging, label_key, taxonomy_from_labels

    cfg = _load(config)
    train_df, test_df = _labelled(dataset, input, text_column, label_column, train, cfg)
    tax = None
    if taxonomy == "labels":
        tax = taxonomy_from_labels(test_df["label"].tolist() + ([] if train_df is None else
                                                                train_df["label"].tolist()))
        test_df = test_df.assign(label=test_df["label"].map(label_key))
        if train_df is not None:
            train_df = train_df.assign(label=train_df["label"].map(label_key))
    elif taxonomy is not None:
        tax = load_taxonomy(taxonomy)
    result = eval_tagging(train_df, test_df, mode=mode, shots=shots, seeds=seeds, taxonomy=tax, config=cfg,
                          finetune=finetune, finetune_steps=finetune_steps, finetune_epochs=finetune_epochs,
                          finetune_lr=finetune_lr, finetune_classes=finetune_classes, pseudo_per_class=pseudo,
                          pseudo_spread=spread, neighbours=neighbours,
                          progress=lambda m: err.print(m))  # stderr: --json keeps stdout clean
    result["dataset"] = dataset or str(input)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    t = Table(title=f"Tagging on {result['dataset']} ({mode}{f', k={shots}' if shots else ''})")
    for k in ["n", "accuracy", "macro_f1", "ece", "coverage", "precision_at_coverage"]:
        t.add_column(k, justify="right")
    t.add_row(*[str(result[k]) for k in ["n", "accuracy", "macro_f1", "ece", "coverage", "precision_at_coverage"]])
    out.print(t)


@eval_app.command("themes")
def eval_themes_cmd(
        dataset: Optional[str] = typer.Option(None, "--dataset", help="banking77 or clinc150 (test split)."),
        input: Optional[Path] = typer.Option(None, "--input"),
        text_column: str = typer.Option("text", "--text-column"),
        label_column: str = typer.Option("label", "--label-column"),
        config: Optional[Path] = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Theme discovery against gold labels: NMI, ARI, unthemed share, number of themes."""
    from insight.evaluate import eval_themes

    _run_eval(eval_themes, "Themes", dataset, input, text_column, label_column, config, as_json)


@eval_app.command("stability")
def eval_stability_cmd(
        dataset: Optional[str] = typer.Option("banking77", "--dataset"),
        input: Optional[Path] = typer.Option(None, "--input"),
        text_column: str = typer.Option("text", "--text-column"),
        label_column: str = typer.Option("label", "--label-column"),
        config: Optional[Path] = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Do theme ids survive a shuffled rerun and 10 % new items?"""
    from insight.evaluate import eval_stability

    _run_eval(eval_stability, "Theme stability", dataset, input, text_column, label_column, config, as_json)


def _run_eval(evaluate, title: str, dataset: Optional[str], input: Optional[Path], text_column: str,
              label_column: str, config: Optional[Path], as_json: bool) -> None:
    """Load the labelled test data (a named dataset, or --input), evaluate, render."""

    cfg = _load(config)
    _, test_df = _labelled(None if input else dataset, input, text_column, label_column, None, cfg)
    result = {**evaluate(test_df, cfg), "dataset": str(input) if input else dataset}
    _print_result(result, as_json, f"{title} on {result['dataset']}")


def _print_result(result: dict, as_json: bool, title: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result, default=str) + "\n")
        return
    t = Table(title=title)
    t.add_column("figure")
    t.add_column("value", justify="right")
    for k, v in result.items():
        t.add_row(k, str(v))
    out.print(t)


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app()


if __name__ == "__main__":
    main()
