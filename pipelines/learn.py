"""Learning and measuring: ``insight train ...`` and ``insight eval ...``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .common import ConfigOpt, JsonOpt, SpreadOpt, err, load_settings, out, print_result, progress_reporter

train_app = typer.Typer(no_args_is_help=True, help="Train components from labelled feedback.")


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
                                                                "only if it beats the frozen one on held-out labels "
                                                                "by 2 texts and 0.2 % or more."),
        unlabelled: Optional[Path] = typer.Option(None, "--unlabelled",
                                                  help="Untagged feedback (same text column) for pseudo-labels."),
        pseudo: int = typer.Option(60, "--pseudo-per-class", help="Pseudo-labelled texts per cause from --unlabelled."),
        spread: float = SpreadOpt,
        config: Optional[Path] = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Train a calibrated root-cause tagger and save it (JSON + npz, no pickle); use it with tag.backend: model."""
    from insight.evaluate import load_labelled
    from insight.operations import train_tagger

    cfg = load_settings(config)
    import pandas as pd

    pool = load_labelled(unlabelled, text_column, text_column)["text"].tolist() if unlabelled else None
    frames = [load_labelled(input, text_column, label_column)] if input else []
    if from_corrections:
        from insight import open_store
        from insight.operations import corrections_as_labels

        frames.append(corrections_as_labels(open_store(cfg)))
    if not frames:
        raise typer.BadParameter("give --input FILE, --from-corrections, or both")
    with progress_reporter(err) as reporter:
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
        mode: str = typer.Option("zero-shot", "--mode", help="zero-shot, few-shot, supervised, or active (a "
                                                             "reviewer labels the review queue's first N items)."),
        budget: Optional[int] = typer.Option(None, "--budget", help="Active: items the reviewer labels."),
        budgets: Optional[str] = typer.Option(None, "--budgets", help="Active: a learning curve, e.g. 25,50,100,200."),
        strategy: str = typer.Option("queue", "--strategy", help="Active: queue (the review queue's order) or random."),
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
                                                      "nearest untagged texts, in the pseudo-labels and the final "
                                                      "head (default tag.neighbours; 0: off)."),
        label_map: Optional[Path] = typer.Option(
            None, "--label-map", help="Your labels to the taxonomy's keys: YAML/JSON (label: key) or a two-column "
                                      "CSV. Without it labels match keys ignoring case, spaces and punctuation."),
        config: Optional[Path] = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Root-cause tagging: accuracy, macro-F1, ECE, coverage and precision at coverage."""
    from insight.config import load_taxonomy
    from insight.evaluate import eval_active, eval_tagging, label_key, load_label_map, taxonomy_from_labels

    cfg = load_settings(config)
    if mode == "active":
        sizes = _budgets(budget, budgets)
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
    if mode == "active":
        found = eval_active(test_df, sizes, strategy=strategy, seeds=max(seeds, 5) if strategy == "random" else 1,
                            taxonomy=tax, config=cfg, label_map=load_label_map(label_map) if label_map else None,
                            progress=lambda m: err.print(m))
        found["dataset"] = dataset or str(input)
        if as_json:
            sys.stdout.write(json.dumps(found) + "\n")
            return
        zs = found["zero_shot"]
        t = Table(title=f"Active learning on {found['dataset']} ({strategy}; zero-shot accuracy {zs['accuracy']}, "
                        f"macro-F1 {zs['macro_f1']})")
        cols = ["budget", "measured_on", "accuracy", "zero_shot_accuracy_same_items", "macro_f1", "ece", "coverage",
                "precision_at_coverage"]
        for k in cols:
            t.add_column(k.replace("_", " "), justify="right")
        for row in found["curve"]:
            t.add_row(*[str(row[k]) for k in cols])
        out.print(t)
        return
    result = eval_tagging(train_df, test_df, mode=mode, shots=shots, seeds=seeds, taxonomy=tax, config=cfg,
                          finetune=finetune, finetune_steps=finetune_steps, finetune_epochs=finetune_epochs,
                          finetune_lr=finetune_lr, finetune_classes=finetune_classes, pseudo_per_class=pseudo,
                          pseudo_spread=spread, neighbours=neighbours,
                          label_map=load_label_map(label_map) if label_map else None,
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


def _budgets(budget: int | None, budgets: str | None) -> list[int]:
    """--budget N or --budgets 25,50,...: the label budgets of an active-learning run."""
    try:
        sizes = [int(b) for b in budgets.split(",") if b.strip()] if budgets else ([budget] if budget else [])
    except ValueError:
        raise typer.BadParameter(f"--budgets takes whole numbers separated by commas, not {budgets!r}") from None
    if not sizes:
        raise typer.BadParameter("--mode active needs --budget N or --budgets 25,50,100,200")
    return sizes


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

    cfg = load_settings(config)
    _, test_df = _labelled(None if input else dataset, input, text_column, label_column, None, cfg)
    result = {**evaluate(test_df, cfg), "dataset": str(input) if input else dataset}
    print_result(result, as_json, f"{title} on {result['dataset']}")


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
    app.add_typer(eval_app, name="eval")
