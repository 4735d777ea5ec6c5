"""Labelled data for evaluation: the named public datasets, any labelled export, and taxonomies from labels.

Datasets are read from the data directory (``config.data_dir``, default ``../shared/data``, or
``$INSIGHT_DATA_DIR``); nothing is copied into the project.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
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


def _norm(label: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(label).lower())


def match_labels(labels: Sequence[str], keys: Sequence[str], label_map: dict[str, str] | None = None,
                 what: str = "labels") -> list[str]:
    """Gold labels as taxonomy keys: through ``label_map`` first, then exactly, then ignoring case, spaces and
    punctuation ("Product Quality", "product-quality" and "product_quality" are one cause).

    Checked before any text is embedded: every label that maps to no key is listed at once, with the keys, so a
    mismatch costs seconds, not an embedding pass.
    """
    by_norm = {_norm(k): k for k in keys}
    label_map = label_map or {}
    bad_targets = sorted({v for v in label_map.values() if v not in keys})
    if bad_targets:
        raise InputError(f"--label-map maps to {bad_targets[:10]}, which are not root causes; the taxonomy's keys: "
                         f"{', '.join(keys)}", code="E210")
    out, unknown = [], []
    for lab in labels:
        key = label_map.get(lab) or (lab if lab in keys else by_norm.get(_norm(lab)))
        if key is None:
            unknown.append(lab)
        out.append(key)
    if unknown:
        counts = pd.Series(unknown).value_counts()
        listed = ", ".join(f"{k!r} ({v})" for k, v in counts.head(10).items())
        raise InputError(f"{what} that are not root causes of the taxonomy: {listed}; its keys: {', '.join(keys)}. "
                         "Map them with --label-map FILE (label: key, YAML/JSON, or a two-column CSV)", code="E210")
    return out


def load_label_map(path: Path) -> dict[str, str]:
    """A label map from YAML or JSON (``label: key``) or a CSV with two columns (label, key)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"label map not found: {path}", code="E210")
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path, dtype=str, header=None).dropna()
        if frame.shape[1] < 2:
            raise InputError(f"{path}: a label map CSV needs two columns, label and key", code="E210")
        pairs = dict(zip(frame[0], frame[1]))
        pairs.pop("label", None)  # a header row
        return {str(k).strip(): str(v).strip() for k, v in pairs.items()}
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise InputError(f"{path}: a label map is a mapping of label: key", code="E210")
    return {str(k): str(v) for k, v in data.items()}
