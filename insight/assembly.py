"""Building the configured components, and the embedding functions that stages are handed (composition layer).

Every entry operation (``flow``, ``operations``, ``evaluate``) builds its parts here, by the names in config
(``backends.py``), so the pipeline, evaluation and training run the same embedder, cache, clusterer and tagger.
Stages never embed text themselves: they receive ``encode`` functions built here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .backends import resolve
from .clean import model_inputs
from .config import Config, Taxonomy
from .embed import EmbeddingCache, SentenceTransformerEmbedder, embed_texts
from .roles import Clusterer, Embedder, Store, Tagger

Encode = Callable[[Sequence[str]], np.ndarray]


def embedder(cfg: Config, progress: Callable[[int], None] | None = None) -> Embedder:
    """The configured embedder; ``progress`` hears how many texts each batch embedded."""
    section = cfg.embed if cfg.embed.onnx_dir else cfg.embed.model_copy(
        update={"onnx_dir": str(cfg.home_path / "cache" / "onnx")})
    return resolve("embedder", cfg.embed.backend).from_config(section, progress)


def vector_cache(cfg: Config, model_name: str, dtype: str = "float16") -> EmbeddingCache | None:
    """The embedding cache for ``model_name`` under the insight home, or None when ``embed.cache`` is off."""
    return EmbeddingCache(cfg.home_path / "cache", model_name, dtype) if cfg.embed.cache else None


def encoder(cfg: Config, emb: Embedder) -> Encode:
    """Texts -> vectors with ``emb``, each distinct text embedded once and cached."""
    cache = vector_cache(cfg, emb.cache_name)
    return lambda texts: embed_texts(texts, emb, cache)


def encoder_at(path: str | Path, cache: EmbeddingCache | None = None) -> Encode:
    """Texts -> vectors with the fine-tuned sentence-transformers encoder saved in ``path``: computed in fp32 (its
    cache is keyed by the encoder's checksum alone) and kept in float32, never rounded to float16 (``cache`` must
    be a float32 one: ``tuned_encoder`` makes it so)."""
    emb = SentenceTransformerEmbedder(model_path=str(path), precision="fp32")
    return lambda texts: embed_texts(texts, emb, cache, dtype="float32")


def tuned_encoder(cfg: Config) -> Callable[[str, str], Encode]:
    """(encoder folder, its checksum) -> encode; cached under the checksum, so a retrained encoder never reuses
    another's vectors, in float32 (``tuned32-``: caches of earlier versions, ``tuned-``, held float16)."""
    return lambda path, sha: encoder_at(path, vector_cache(cfg, f"tuned32-{sha[:16]}", "float32"))


def clusterer(cfg: Config) -> Clusterer:
    return resolve("clusterer", cfg.themes.backend).from_config(cfg.themes, cfg.seed)


def tagger(cfg: Config, taxonomy: Taxonomy, emb: Embedder, encode: Encode,
           reviewer_labels: pd.DataFrame | None = None) -> Tagger:
    """The configured tagger, ready to tag: zero-shot fitted on the taxonomy, or a trained model loaded.

    ``encode`` embeds prepared text; the taxonomy's own examples are prepared like any feedback first, as
    evaluation and training prepare them. A tagger that can be taught (zero-shot) also learns ``reviewer_labels``
    (``text``, ``label``: reviewers' corrections, ``reviewer_labels``), so a correction counts from the next run on;
    a trained model learns them when it is retrained (``insight train tagger --from-corrections``).
    """
    built = resolve("tagger", cfg.tag.backend).from_config(cfg.tag, taxonomy)
    ready = built.prepare(prepared_encoder(cfg, encode), emb.name, tuned_encoder(cfg))
    if reviewer_labels is not None and hasattr(ready, "teach"):
        known = reviewer_labels[reviewer_labels["label"].isin(taxonomy.keys)]
        if len(known):
            ready.teach(prepared_encoder(cfg, encode)(known["text"].tolist()), known["label"].tolist())
    return ready


def reviewer_labels(store: Store) -> pd.DataFrame:
    """Reviewers' corrections as labels (``text``, ``label``): the latest correction of a text wins."""
    found = store.tag_corrections()
    if found.empty:
        return pd.DataFrame({"text": pd.Series(dtype=str), "label": pd.Series(dtype=str)})
    latest = found.dropna(subset=["text"]).drop_duplicates("text", keep="last")
    return pd.DataFrame({"text": latest["text"].astype(str).to_numpy(), "label": latest["new_cause"].to_numpy()})


def prepared_encoder(cfg: Config, encode: Encode) -> Encode:
    """Raw texts -> vectors: ``clean.model_inputs`` (normalise, truncate, redact, drop handles and links), then
    ``encode``."""
    return lambda texts: encode(model_inputs(list(texts), cfg.clean))


def store(cfg: Config) -> Store:
    return resolve("store", cfg.store.backend).from_config(cfg)
