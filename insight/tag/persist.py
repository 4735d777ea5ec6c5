"""Safe persistence of taggers: a versioned folder of ``metadata.json`` + ``weights.npz``, never pickle.

``metadata.json`` holds the format, kind, classes, parameters, taxonomy fingerprint, embedder, training data hash,
library versions and metrics; ``weights.npz`` plain arrays (loaded with ``allow_pickle=False``), covered by a
checksum. A fine-tuned encoder, when one is used, is saved beside them by sentence-transformers as safetensors,
with its own checksum. Loading checks the metadata against what the caller runs with and refuses a mismatch: a
model trained for another taxonomy or embedder would tag confidently and wrongly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..provenance import sha256_file, versions
from .calibration import AbstainPolicy
from .models import CalibratedTagger, HybridTagger, LexicalLogisticTagger, LogisticTagger, NeighbourTagger
from .zero_shot import PrototypeTagger

FORMAT = "insight-tagger/1"


def _prototype_state(t: PrototypeTagger) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    return {"temperature": t.temperature, "top_k": t.top_k}, {
        "prototypes": t.prototypes_, "prototype_labels": t.prototype_labels_}


def _prototype_from_state(params, arrays, classes) -> PrototypeTagger:
    t = PrototypeTagger(**params)
    t.prototypes_, t.prototype_labels_, t.classes_ = arrays["prototypes"], arrays["prototype_labels"], classes
    return t


KINDS = {"lexical": LexicalLogisticTagger, "logistic": LogisticTagger, "prototype": PrototypeTagger,
          "hybrid": HybridTagger, "neighbour": NeighbourTagger}


def _kind(t: Any) -> str:
    for name, cls in KINDS.items():
        if isinstance(t, cls):
            return name
    raise ModelError(f"cannot save a {type(t).__name__}", code="E602")


def _state(t: Any) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    kind = _kind(t)
    if kind in ("logistic", "lexical"):
        params, arrays = t.state()
    elif kind == "prototype":
        params, arrays = _prototype_state(t)
    elif kind == "neighbour":
        base_kind, base_params, base_arrays = _state(t.base)
        params = {"k": t.k, "weight": t.weight, "max_memory": t.max_memory, "seed": t.seed, "base_kind": base_kind,
                  "base": base_params}
        arrays = {"memory": t.memory_, "memory_proba": t.memory_proba_,
                  **{f"base.{k}": v for k, v in base_arrays.items()}}
    else:
        pp, pa = _prototype_state(t.prior)
        params = {"weight": t.weight, "prior": pp, "supervised_classes": None}
        arrays = {f"prior.{k}": v for k, v in pa.items()}
        if t.supervised is not None:
            sp, sa = t.supervised.state()
            params.update(supervised=sp, supervised_classes=t.supervised.classes_.tolist(),
                          prior_classes=t.prior.classes_.tolist())
            arrays.update({f"supervised.{k}": v for k, v in sa.items()})
        params["prior_classes"] = t.prior.classes_.tolist()
    return kind, params, arrays


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t, y in zip(texts, labels):
        h.update(t.encode())
        h.update(b"\x1f")
        h.update(str(y).encode())
        h.update(b"\x1e")
    return h.hexdigest()


def save_model(tagger: CalibratedTagger, folder: str | Path, *, taxonomy_fingerprint: str | None,
               embedder: str, training_hash: str, metrics: dict[str, Any] | None = None,
               encoder_dir: str | None = None, head_features: list[str] | None = None) -> Path:
    """Write ``metadata.json`` + ``weights.npz`` into ``folder`` (created; refuses to overwrite another model).

    ``head_features`` names the vectors the head reads, side by side in that order: ``frozen`` (the packaged
    encoder) and/or ``tuned`` (the fine-tuned one in ``encoder_dir``).
    """
    folder = Path(folder)
    if (folder / "metadata.json").exists():
        raise ModelError(f"{folder} already holds a model; save a new version in a new folder", code="E603")
    folder.mkdir(parents=True, exist_ok=True)
    kind, params, arrays = _state(tagger.base)
    np.savez(folder / "weights.npz", **arrays)
    weights_sha = sha256_file(folder / "weights.npz")
    encoder_sha = _encoder_sha(folder / encoder_dir) if encoder_dir else None
    meta = {
        "format": FORMAT, "kind": kind, "params": params, "classes": tagger.classes_.tolist(),
        "temperature": tagger.temperature,
        "policy": {"min_confidence": tagger.policy.min_confidence, "min_margin": tagger.policy.min_margin,
                   "class_thresholds": list(map(float, tagger.policy.class_thresholds))},
        "taxonomy_fingerprint": taxonomy_fingerprint, "embedder": embedder, "encoder_dir": encoder_dir,
        "encoder_sha256": encoder_sha, "head_features": head_features or _single_head_features(encoder_dir),
        "training_data_sha256": training_hash, "weights_sha256": weights_sha,
        "metrics": metrics or {},
        "created_at": datetime.now(timezone.utc).isoformat(),
        "versions": versions(["insight", "numpy", "scikit-learn", "sentence-transformers", "torch"], python=False),
    }
    meta["metadata_sha256"] = _metadata_sha(meta)
    (folder / "metadata.json").write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
    return folder


REQUIRED = {"format": str, "kind": str, "params": dict, "classes": list, "temperature": (int, float),
            "policy": dict, "weights_sha256": str}


def _metadata_sha(meta: dict[str, Any]) -> str:
    """Checksum of the metadata itself (every field but this one, canonical JSON): classes, temperature, policy and
    fingerprints decide what a model says, so an edit to any of them must not load silently."""
    body = {k: v for k, v in meta.items() if k != "metadata_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _read_metadata(folder: Path) -> dict[str, Any]:
    """``metadata.json`` parsed and checked: JSON object, format, encoder inside the folder, checksum, fields."""
    meta_path = folder / "metadata.json"
    if not meta_path.is_file():
        raise ModelError(f"{folder} holds no saved tagger (metadata.json missing)", code="E604")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{meta_path} is not valid JSON ({exc})", code="E605") from exc
    if not isinstance(meta, dict):
        raise ModelError(f"{meta_path} is not a JSON object", code="E605")
    if meta.get("format") != FORMAT:
        raise ModelError(f"{folder}: unsupported model format {meta.get('format')!r} (expected {FORMAT})",
                         code="E605")
    encoder_dir = meta.get("encoder_dir")
    if encoder_dir is not None:
        inside = isinstance(encoder_dir, str) and encoder_dir not in ("", ".", "..") and \
            Path(encoder_dir).name == encoder_dir and (folder / encoder_dir).resolve().parent == folder.resolve()
        if not inside:  # inside the model folder, nowhere else
            raise ModelError(f"{folder}: encoder_dir must name a sub-folder of the model, not {encoder_dir!r}",
                             code="E610")
    if "metadata_sha256" not in meta:
        raise ModelError(f"{meta_path} carries no checksum of its own (saved by an older insight, or edited): "
                         f"retrain the model with `insight train tagger`", code="E608")
    if _metadata_sha(meta) != meta["metadata_sha256"]:
        raise ModelError(f"{meta_path} does not match its checksum (edited or corrupted): its classes, "
                         f"temperature or policy cannot be trusted; retrain or restore it", code="E608")
    missing = [k for k in REQUIRED if k not in meta]
    wrong = [k for k, kind in REQUIRED.items() if k in meta and not isinstance(meta[k], kind)]
    if missing or wrong:
        raise ModelError(f"{meta_path}: " + "; ".join(
            ([f"missing {', '.join(missing)}"] if missing else []) +
            ([f"wrong type for {', '.join(wrong)}"] if wrong else [])), code="E605")
    return meta


def load_model(folder: str | Path, *, taxonomy_fingerprint: str | None = None, embedder: str | None = None
               ) -> tuple[CalibratedTagger, dict[str, Any]]:
    """Load a saved tagger, checking that it belongs to this taxonomy and embedder and is intact."""
    folder = Path(folder)
    meta = _read_metadata(folder)
    if taxonomy_fingerprint is not None and meta.get("taxonomy_fingerprint") != taxonomy_fingerprint:
        raise ModelError(f"{folder} was trained for taxonomy {meta.get('taxonomy_fingerprint')}, not "
                         f"{taxonomy_fingerprint}: retrain it for the current taxonomy", code="E606")
    if embedder is not None and meta.get("embedder") != embedder:
        raise ModelError(f"{folder} expects embeddings from {meta.get('embedder')!r}, not {embedder!r}", code="E607")
    weights = folder / "weights.npz"
    if sha256_file(weights) != meta.get("weights_sha256"):
        raise ModelError(f"{weights} does not match the checksum in its metadata (corrupted or edited)",
                         code="E608")
    if meta.get("encoder_dir"):  # a sub-folder of the model (``_read_metadata``)
        encoder = folder / meta["encoder_dir"]
        if not (encoder / "model.safetensors").is_file():
            raise ModelError(f"{folder} needs its fine-tuned encoder in {encoder} (model.safetensors missing)",
                             code="E610")
        if _encoder_sha(encoder) != meta.get("encoder_sha256"):
            raise ModelError(f"{encoder} does not match the checksum in its metadata (corrupted or edited)",
                             code="E608")
    with np.load(weights, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    base = _from_state(meta["kind"], meta["params"], arrays, np.asarray(meta["classes"]))
    policy = AbstainPolicy(**meta["policy"])
    return CalibratedTagger(base, meta["temperature"], policy), meta


def _from_state(kind: str, params: dict[str, Any], arrays: dict[str, np.ndarray], classes: np.ndarray) -> Any:
    if kind == "logistic":
        return LogisticTagger.from_state(params, arrays, classes)
    if kind == "lexical":
        return LexicalLogisticTagger.from_state(params, arrays, classes)
    if kind == "prototype":
        return _prototype_from_state(params, arrays, classes)
    if kind == "neighbour":
        base = _from_state(params["base_kind"], params["base"],
                           {k[5:]: v for k, v in arrays.items() if k.startswith("base.")}, classes)
        t = NeighbourTagger(base, **{k: params[k] for k in ("k", "weight", "max_memory", "seed")})
        t.memory_, t.memory_proba_ = arrays["memory"], arrays["memory_proba"]
        return t
    if kind != "hybrid":
        raise ModelError(f"unknown tagger kind {kind!r}", code="E605")
    prior = _prototype_from_state(params["prior"], {k[6:]: v for k, v in arrays.items() if k.startswith("prior.")},
                                  np.asarray(params["prior_classes"]))
    sup = None
    if params.get("supervised_classes"):
        sup = LogisticTagger.from_state(params["supervised"], {k[11:]: v for k, v in arrays.items()
                                                               if k.startswith("supervised.")},
                                        np.asarray(params["supervised_classes"]))
    base = HybridTagger(prior, sup, weight=params["weight"])
    base.classes_ = classes
    return base


def _encoder_sha(encoder: Path) -> str:
    """Checksum of a fine-tuned encoder's weights (safetensors: loading them cannot run code)."""
    return sha256_file(encoder / "model.safetensors")


def encoder_path(folder: str | Path, meta: dict[str, Any]) -> Path | None:
    """The fine-tuned encoder saved with a model, or None when it tags frozen-encoder embeddings."""
    return Path(folder) / meta["encoder_dir"] if meta.get("encoder_dir") else None


def head_features(meta: dict[str, Any]) -> list[str]:
    """The vectors a saved head reads, in order (models saved before the key existed read one kind)."""
    return meta.get("head_features") or _single_head_features(meta.get("encoder_dir"))


def _single_head_features(encoder_dir: str | None) -> list[str]:
    """What a head reads when nothing says otherwise: its own encoder's vectors, tuned if it has one."""
    return ["tuned"] if encoder_dir else ["frozen"]
