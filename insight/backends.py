"""The name -> import-path table of swappable components, one per role (plumbing).

Config names a backend per role (``embed.backend: hashing``); ``resolve`` imports the class only when it is
built, so naming a backend costs nothing and an optional package is needed only by the backend that uses it.
Names are checked when the config loads (``config.py`` validates against this table), so a typo fails before
any file is read. Every class here implements its role's Protocol in ``roles.py`` and has a ``from_config``
constructor; the contract tests in ``tests/test_contracts.py`` run over every entry.
"""

from __future__ import annotations

import importlib
from typing import Any, Literal

from .errors import ComponentError

Role = Literal["embedder", "clusterer", "tagger", "store"]

BACKENDS: dict[str, dict[str, str]] = {
    "embedder": {
        "sentence-transformers": "insight.embed.backends:SentenceTransformerEmbedder",
        "hashing": "insight.embed.backends:HashingEmbedder",
        "onnx": "insight.embed.onnx:OnnxEmbedder",
    },
    "clusterer": {
        "hdbscan": "insight.themes.discovery:HDBSCANClusterer",
    },
    "tagger": {
        "prototype": "insight.tag.pipeline:ZeroShotTagger",
        "model": "insight.tag.pipeline:ModelTagger",
    },
    "store": {
        "sql": "insight.store.sql:SQLStore",
    },
}


def names(role: Role) -> list[str]:
    """The valid backend names for ``role``, sorted."""
    return sorted(BACKENDS[role])


def check(role: Role, name: str) -> str:
    """``name`` if ``role`` has a backend of that name; otherwise an error that lists the valid ones."""
    if name not in BACKENDS[role]:
        raise ComponentError(f"unknown {role} {name!r}; valid names: {', '.join(names(role))}", code="E302")
    return name


def resolve(role: Role, name: str) -> Any:
    """The class registered for ``name`` in ``role``."""
    module, _, attr = BACKENDS[role][check(role, name)].partition(":")
    return getattr(importlib.import_module(module), attr)
