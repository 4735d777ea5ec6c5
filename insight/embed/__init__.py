"""Embed stage: texts to unit vectors through a swappable embedder, each distinct text embedded once and cached."""

from .backends import HashingEmbedder, SentenceTransformerEmbedder
from .cache import EmbeddingCache, embed_texts, text_key

__all__ = ["EmbeddingCache", "HashingEmbedder", "SentenceTransformerEmbedder", "embed_texts", "text_key"]
