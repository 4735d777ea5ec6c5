"""The swappable roles as Protocols (vocabulary): what the composition layer may rely on, and nothing more.

Each role has a real backend and a cheap one for tests, chosen by name in config (``backends.py``); one shared
contract test per role runs against every registered backend. Keep each Protocol to the few methods the
pipeline calls: a new backend should be an afternoon's work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Encodes texts to L2-normalised float32 vectors of shape (n, dim). ``name`` is the model (a trained tagger
    checks it); ``cache_name`` keys the vector cache: the model plus whatever changes its vectors (precision)."""

    name: str
    cache_name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class Clusterer(Protocol):
    """sklearn-style theme discovery: ``fit_predict`` labels items (``NOISE`` = fits no theme), sets the
    unit ``centroids_`` of the themes, and ``assign`` places new items without refitting."""

    centroids_: np.ndarray

    def fit_predict(self, X: np.ndarray) -> np.ndarray: ...

    def assign(self, X: np.ndarray) -> np.ndarray: ...

    def similarity(self, X: np.ndarray, labels: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Tagger(Protocol):
    """Root-cause probabilities for embedded (and, where a tagger reads them, raw) texts.

    ``predict_proba`` returns rows that sum to 1 with columns in the order of ``classes_``; ``policy`` says when
    an item goes to the review queue instead of being trusted.
    """

    classes_: np.ndarray
    policy: Any

    def fit(self, X: np.ndarray, y: Sequence[str], texts: Sequence[str] | None = None) -> Tagger: ...

    def predict_proba(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray: ...


@runtime_checkable
class Store(Protocol):
    """Where runs are published (atomically) and read back as frames."""

    url: str

    def publish(self, result: Any, source: str = "", kind: str = "pipeline") -> str: ...

    def list_runs(self, kind: str | None = None) -> Any: ...

    def load(self, run_id: str, frame: str) -> Any: ...


class Reporter(Protocol):
    """Progress callbacks for long work; the CLI renders them as progress bars, the library stays silent."""

    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class Silent:
    """The reporter that reports nothing (library default)."""

    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass
