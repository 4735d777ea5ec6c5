"""The embedding cache: vectors keyed by the SHA-1 of the (already redacted) text, one file per model.

Each distinct text is embedded once per model, ever: reruns, evaluation and training reuse what the pipeline
embedded. Only redacted text is hashed, and an erasure forgets a customer's vectors (``remove``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..roles import Embedder


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """One ``.npz`` per model under a folder: vectors keyed by the SHA-1 of the (already redacted) text."""

    def __init__(self, folder: str | Path, model_name: str) -> None:
        self.path = Path(folder) / f"embeddings-{model_name}.npz"
        self._store: dict[str, np.ndarray] | None = None

    def _data(self) -> dict[str, np.ndarray]:
        if self._store is None:
            self._store = {}
            if self.path.is_file():
                with np.load(self.path, allow_pickle=False) as z:
                    self._store = dict(zip(z["keys"].tolist(), z["vectors"]))
        return self._store

    @classmethod
    def every(cls, folder: str | Path) -> list[EmbeddingCache]:
        """Every model's cache in ``folder``: an erasure must reach all of them."""
        return [cls(npz.parent, npz.name.removeprefix("embeddings-").removesuffix(".npz"))
                for npz in sorted(Path(folder).glob("embeddings-*.npz"))]

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        data = self._data()
        return {k: data[k] for k in keys if k in data}

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        if not items:
            return
        data = self._data()
        data.update(items)
        self._save(data)

    def remove(self, keys: Sequence[str]) -> int:
        """Forget vectors (erasure); returns how many were there."""
        data = self._data()
        gone = [k for k in keys if k in data]
        for k in gone:
            del data[k]
        if gone:
            self._save(data)
        return len(gone)

    def _save(self, data: dict[str, np.ndarray]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(data), dtype="U40")
        dim = next(iter(data.values())).shape[0] if data else 0
        vectors = np.vstack([data[k] for k in keys]).astype(np.float32) if data else np.zeros((0, dim), np.float32)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=vectors)
        os.replace(tmp, self.path)


def embed_texts(texts: Sequence[str], embedder: Embedder, cache: EmbeddingCache | None = None) -> np.ndarray:
    """Embed each distinct text once; reuse cached vectors; return rows in the order of ``texts``."""
    keys = [text_key(t) for t in texts]
    unique: dict[str, str] = {}
    for k, t in zip(keys, texts):
        unique.setdefault(k, t)
    known = cache.get_many(list(unique)) if cache else {}
    todo = [k for k in unique if k not in known]
    if todo:
        vectors = embedder.encode([unique[k] for k in todo])
        fresh = dict(zip(todo, vectors))
        if cache:
            cache.put_many(fresh)
        known = {**known, **fresh}
    if not keys:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack([known[k] for k in keys]).astype(np.float32)
