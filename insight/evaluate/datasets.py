"""Labelled data for evaluation: the named public datasets, any labelled export, and taxonomies from labels.

Datasets are read from the data directory (``config.data_dir``, default ``../shared/data``, or
``$INSIGHT_DATA_DIR``); nothing is copied into the project.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..config import IngestConfig, Taxonomy
from ..errors import InputError
from ..ingest import read_feedback

DATASETS = ("banking77", "clinc150")


def load_dataset(name: str, data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) frames with ``text`` and ``label``; CLINC150 uses its in-scope intents."""
    if name in DATASETS and not (data_dir / name).is_dir():
        raise InputError(f"dataset {name!r} not found in data directory {data_dir.resolve()}; point "
                         f"$INSIGHT_DATA_DIR (or data_dir in the config) at the folder that holds {name}/",
                         code="E209")
    if name == "banking77":
        folder = data_dir / "banking77"
        frames = [pd.read_csv(folder / f"{part}.csv").rename(columns={"category": "label"}) for part in
                  ("train", "test")]
    elif name == "clinc150":
        data = json.loads((data_dir / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
        frames = [pd.DataFrame(data[part], columns=["text", "label"]) for part in ("train", "test")]
    else:
        raise InputError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}", code="E209")
    return frames[0], frames[1]


def load_labelled(path: Path, text_column: str, label_column: str) -> pd.DataFrame:
    """``text`` and ``label`` from any export the ingest readers understand."""
    raw = read_feedback(path, IngestConfig(columns={"text": text_column} if text_column != "text" else {}))
    label = "text" if label_column == text_column else label_column
    if label not in raw.columns:
        raise InputError(f"{path}: label column {label_column!r} not found", code="E205")
    frame = pd.DataFrame({"text": raw["text"], "label": raw[label]}).dropna()
    return frame.assign(text=frame["text"].astype(str), label=frame["label"].astype(str))


def label_key(label: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in label.lower()).strip("_") or "x"


def taxonomy_from_labels(labels: list[str]) -> Taxonomy:
    """A taxonomy whose root causes are a dataset's labels, described by their own names (zero-shot)."""
    causes = {}
    for key, lab in sorted((label_key(lab), lab) for lab in set(labels)):
        words = lab.replace("_", " ")
        causes[key] = {"description": words, "owner": "-", "seeds": [words], "playbook": {"title": words}}
    return Taxonomy.model_validate({"name": "from-labels", "root_causes": causes})
