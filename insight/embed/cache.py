"""The embedding cache: float16 vectors in append-only, memory-mapped shards, keyed by the SHA-1 of the text.

Each distinct text is embedded once per model (and precision), ever: reruns, evaluation and training reuse what the
pipeline embedded. Only redacted text is hashed. A run adds one shard (two ``.npy`` files: keys, then vectors,
each written beside and renamed, the keys file last, so a shard is whole or absent); nothing is rewritten, so a
run over a million stored vectors writes only what it added. Shards are opened memory-mapped, on first use; the
index is one sorted array of keys (40 bytes a vector), not a dictionary of arrays. When shards pile up they are
merged into one. An erasure rewrites only the shards that hold the forgotten texts, without them, and deletes the
old files: the vectors are gone, not hidden. Vectors are stored as float16 and always handed out as the same
float32 values, whether just embedded or read back (``embed_texts`` rounds fresh vectors the same way), so a
rerun from the cache gives exactly what the first run gave.

A cache made with ``dtype="float32"`` keeps vectors exactly as computed: the fine-tuned encoders' caches do. A
tuned encoder's vectors feed a head trained to tell apart classes only a handful of labels taught it, where float16
rounding read 0.1-0.2 points lower on Banking77 4-shot (inside the seeds' spread; docs/evaluation.md); its cache
lives only as long as that encoder
(a retrain starts a new one), while the frozen model's cache, which grows with every text ever seen, stays half size.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..roles import Embedder

log = logging.getLogger(__name__)

KEY_DTYPE = "S40"  # the SHA-1 in hex, ASCII
MAX_SHARDS = 32  # more than this and they are merged into one


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def stored_precision(X: np.ndarray, dtype: str = "float16") -> np.ndarray:
    """``X`` as a cache of ``dtype`` keeps it and hands it back (float32)."""
    return np.asarray(X, dtype=dtype).astype(np.float32)


class EmbeddingCache:
    """One folder of shards per model under the cache folder (``vectors-<model>/``)."""

    def __init__(self, folder: str | Path, model_name: str, dtype: str = "float16") -> None:
        if dtype not in ("float16", "float32"):
            raise ValueError(f"an embedding cache stores float16 or float32, not {dtype!r}")
        self.dtype = dtype  # what new vectors are stored as; shards already written keep theirs
        self.path = Path(folder) / f"vectors-{model_name}"
        self._legacy = Path(folder) / f"embeddings-{model_name}.npz"  # one whole file, before shards
        self._keys: np.ndarray | None = None  # sorted keys of every shard
        self._where: np.ndarray | None = None  # for each sorted key: (shard number, row)
        self._shards: list[str] = []
        self._vectors: dict[str, np.ndarray] = {}

    @classmethod
    def every(cls, folder: str | Path) -> list[EmbeddingCache]:
        """Every model's cache in ``folder``: an erasure must reach all of them."""
        folder = Path(folder)
        names = {p.name.removeprefix("vectors-") for p in folder.glob("vectors-*") if p.is_dir()}
        names |= {p.name.removeprefix("embeddings-").removesuffix(".npz") for p in folder.glob("embeddings-*.npz")}
        return [cls(folder, name) for name in sorted(names)]

    # ------------------------------------------------------------ reading

    @property
    def size(self) -> int:
        """How many vectors are cached (not ``len``: an empty cache must not read as "no cache")."""
        return len(self._index()[0])

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of ``keys`` (those cached), as a dictionary."""
        keys = list(keys)
        found, vectors = self.lookup(keys)
        return dict(zip((k for k, f in zip(keys, found) if f), vectors))

    def lookup(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Which ``keys`` are cached (a mask) and their vectors (float32, one row per cached key, in order)."""
        found = self.contains(keys)
        out = np.empty((int(found.sum()), self.dim or 0), dtype=np.float32)
        rows = np.full(len(keys), -1)
        rows[found] = np.arange(int(found.sum()))
        self.fill(keys, out, rows)
        return found, out

    @property
    def dim(self) -> int | None:
        """The vectors' length (None while the cache is empty)."""
        self._index()
        return int(self._shard(0).shape[1]) if self._shards else None

    def contains(self, keys: Sequence[str]) -> np.ndarray:
        """A mask: which ``keys`` are cached."""
        return self._locate(keys)[0]

    def fill(self, keys: Sequence[str], out: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Write the cached vectors of ``keys`` into ``out`` (row ``rows[i]`` for key ``i``; by default row ``i``),
        shard by shard, without an intermediate matrix; returns the mask of keys found."""
        try:
            return self._fill(keys, out, rows)
        except FileNotFoundError:  # another process merged or erased shards since the index was read
            self._forget_index()
            return self._fill(keys, out, rows)

    def _fill(self, keys: Sequence[str], out: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
        found, pos = self._locate(keys)
        _, where = self._index()
        hits = np.flatnonzero(found)
        target = hits if rows is None else rows[hits]
        shard_of, row_in = where[pos[hits], 0], where[pos[hits], 1]
        for shard in np.unique(shard_of):
            mine = np.flatnonzero(shard_of == shard)
            order = mine[np.argsort(row_in[mine], kind="stable")]  # a memory map reads fastest front to back
            out[target[order]] = self._shard(int(shard))[row_in[order]]
            if len(mine) > 10_000:  # a big read: unmap it, or its pages stay in this process's memory
                self._vectors.pop(self._shards[int(shard)], None)
        return found

    def _locate(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        sorted_keys, _ = self._index()
        if not len(sorted_keys) or not len(keys):
            return np.zeros(len(keys), dtype=bool), np.zeros(len(keys), dtype=np.int64)
        wanted = np.asarray(list(keys), dtype=KEY_DTYPE)
        pos = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
        return sorted_keys[pos] == wanted, pos

    def _index(self) -> tuple[np.ndarray, np.ndarray]:
        if self._keys is None:
            self._migrate()
            self._shards = self._shard_names()
            parts, where = [], []
            for n, name in enumerate(self._shards):
                keys = np.load(self.path / f"keys-{name}.npy", allow_pickle=False)
                parts.append(keys)
                where.append(np.column_stack([np.full(len(keys), n), np.arange(len(keys))]))
            keys = np.concatenate(parts) if parts else np.zeros(0, dtype=KEY_DTYPE)
            where_all = np.concatenate(where) if where else np.zeros((0, 2), dtype=np.int64)
            order = np.argsort(keys, kind="stable")
            self._keys, self._where = keys[order], where_all[order]
        return self._keys, self._where

    def _shard_names(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.name.removeprefix("keys-").removesuffix(".npy") for p in self.path.glob("keys-*.npy")
                      if (self.path / f"vectors-{p.name.removeprefix('keys-')}").is_file())

    def _shard(self, n: int) -> np.ndarray:
        name = self._shards[n]
        if name not in self._vectors:
            self._vectors[name] = np.load(self.path / f"vectors-{name}.npy", mmap_mode="r", allow_pickle=False)
        return self._vectors[name]

    # ------------------------------------------------------------ writing

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        """Add the vectors of texts not cached yet, as one new shard."""
        if items:
            self.add(list(items), np.vstack(list(items.values())))

    def add(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Add ``vectors`` (one row per key) for the keys not cached yet, as one new shard."""
        fresh = np.flatnonzero(~self.contains(keys))
        if not len(fresh):
            return
        self._write_shard(np.asarray(keys, dtype=KEY_DTYPE)[fresh], np.asarray(vectors, dtype=self.dtype)[fresh])
        self._forget_index()
        if len(self._shard_names()) > MAX_SHARDS:
            self.compact()

    def remove(self, keys: Sequence[str]) -> int:
        """Forget vectors (erasure): each shard holding one is rewritten without it and the old files deleted."""
        sorted_keys, where = self._index()
        gone = {k for k, hit in zip(keys, self.contains(keys)) if hit}
        if not gone:
            return 0
        doomed = np.isin(sorted_keys, np.asarray(sorted(gone), dtype=KEY_DTYPE))
        for n in np.unique(where[doomed, 0]):
            name = self._shards[int(n)]
            shard_keys = np.load(self.path / f"keys-{name}.npy", allow_pickle=False)
            keep = ~np.isin(shard_keys, np.asarray(sorted(gone), dtype=KEY_DTYPE))
            if keep.any():
                vectors = np.load(self.path / f"vectors-{name}.npy", allow_pickle=False)
                self._write_shard(shard_keys[keep], vectors[keep])
            self._delete_shard(name)
        self._forget_index()
        return len(gone)

    def compact(self) -> None:
        """Merge every shard into one (many small runs leave many small shards)."""
        names = self._shard_names()
        if len(names) < 2:
            return
        keys = np.concatenate([np.load(self.path / f"keys-{n}.npy", allow_pickle=False) for n in names])
        vectors = np.concatenate([np.load(self.path / f"vectors-{n}.npy", allow_pickle=False) for n in names])
        _, first = np.unique(keys, return_index=True)  # two processes may have added the same text
        first.sort()
        self._write_shard(keys[first], vectors[first])
        for name in names:
            self._delete_shard(name)
        self._forget_index()

    def _write_shard(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """``vectors`` as they are: new ones were cast by ``add``, and a rewritten shard keeps its precision."""
        self.path.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}"
        for kind, data in (("vectors", vectors), ("keys", keys)):  # keys last
            tmp = self.path / f".{kind}-{name}.npy.tmp"
            with open(tmp, "wb") as f:
                np.save(f, data, allow_pickle=False)
            os.replace(tmp, self.path / f"{kind}-{name}.npy")

    def _delete_shard(self, name: str) -> None:
        self._vectors.pop(name, None)
        for kind in ("keys", "vectors"):  # keys first: a half-deleted shard is invisible
            (self.path / f"{kind}-{name}.npy").unlink(missing_ok=True)

    def _forget_index(self) -> None:
        self._keys = self._where = None
        self._vectors.clear()

    def _migrate(self) -> None:
        """A cache from before shards (one ``.npz``) becomes the first shard, and the old file goes."""
        if not self._legacy.is_file():
            return
        with np.load(self._legacy, allow_pickle=False) as z:
            keys, vectors = z["keys"].astype(KEY_DTYPE), z["vectors"]
        if len(keys):
            self._write_shard(keys, np.asarray(vectors, dtype=self.dtype))
        self._legacy.unlink()
        log.info("moved the embedding cache %s into shards", self._legacy.name)


def embed_texts(texts: Sequence[str], embedder: Embedder, cache: EmbeddingCache | None = None,
                dtype: str = "float16") -> np.ndarray:
    """Embed each distinct text once; reuse cached vectors; return rows in the order of ``texts``.

    Fresh vectors are rounded as the cache stores them (``dtype`` when there is no cache), with or without a
    cache, so a run gives the same vectors whether they were just computed or read back. Works on arrays, not a
    dictionary per vector, so a million texts cost their matrix and little more.
    """
    if not len(texts):
        return np.zeros((0, 0), dtype=np.float32)
    position: dict[str, int] = {}
    inverse = np.fromiter((position.setdefault(text_key(t), len(position)) for t in texts), dtype=np.int64,
                          count=len(texts))
    keys = list(position)
    first = np.zeros(len(keys), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(texts))[::-1]  # a text for each distinct key
    dim = cache.dim if cache is not None else None
    unique = np.empty((len(keys), dim), dtype=np.float32) if dim else None
    found = cache.fill(keys, unique) if unique is not None else np.zeros(len(keys), dtype=bool)  # one lookup
    todo = np.flatnonzero(~found)
    kept = cache.dtype if cache is not None else dtype
    fresh = stored_precision(embedder.encode([texts[i] for i in first[todo]]), kept) if len(todo) else None
    if unique is None:
        unique = np.empty((len(keys), fresh.shape[1]), dtype=np.float32)
    if fresh is not None:
        unique[todo] = fresh
        if cache is not None:
            cache.add([keys[i] for i in todo], fresh)
    if len(keys) == len(texts):  # every text distinct: the rows are already in order
        return unique
    return unique[inverse]
