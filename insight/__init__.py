"""insight: turn an online store's complaints, reviews and tickets into ranked operational fixes.

Importing the package is cheap: the stages import torch, sentence-transformers, spaCy and HDBSCAN only when a
run needs them. The public API is the composition layer (``run``, ``run_and_store``, ``open_store``, the entry
operations in ``insight.operations``) plus the vocabulary and the config loaders. ``docs/ARCHITECTURE.md`` maps
the packages.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Config", "Counts", "InsightError", "RunResult", "Taxonomy", "demo_path", "export", "load_config",
    "load_taxonomy", "open_store", "run", "run_and_store",
]

_LAZY = {
    "Config": ("insight.config", "Config"),
    "Taxonomy": ("insight.config", "Taxonomy"),
    "load_config": ("insight.config", "load_config"),
    "load_taxonomy": ("insight.config", "load_taxonomy"),
    "Counts": ("insight.schema", "Counts"),
    "RunResult": ("insight.schema", "RunResult"),
    "InsightError": ("insight.errors", "InsightError"),
    "run": ("insight.flow", "run"),
    "run_and_store": ("insight.flow", "run_and_store"),
    "demo_path": ("insight.demo", "demo_path"),
    "export": ("insight.report", "export"),
}


def open_store(config: Any = None):
    """The configured store (SQLite under the insight home by default)."""
    from .assembly import store
    from .config import load_config

    return store(config or load_config())


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(import_module(module), attr)
    raise AttributeError(f"module 'insight' has no attribute {name!r}")
