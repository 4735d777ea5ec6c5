import numpy as np
import pytest

from insight.embed import EmbeddingCache, HashingEmbedder, embed_texts


class CountingEmbedder(HashingEmbedder):
    def __init__(self):
        super().__init__(dim=32)
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen.extend(texts)
        return super().encode(texts)


@pytest.mark.parametrize("embedder", [HashingEmbedder(dim=64)])
def test_embedder_contract(embedder):
    X = embedder.encode(["late parcel", "refund please", "late parcel"])
    assert X.dtype == np.float32 and X.shape == (3, 64)
    assert np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-5)
    assert np.allclose(X[0], X[2])
    assert X[0] @ embedder.encode(["late parcels"])[0] > X[0] @ X[1]


def test_only_unique_texts_are_embedded_and_cache_is_reused(tmp_path):
    emb = CountingEmbedder()
    cache = EmbeddingCache(tmp_path, emb.name)
    X = embed_texts(["a b c", "d e f", "a b c"], emb, cache)
    assert emb.seen == ["a b c", "d e f"] and X.shape == (3, 32)
    emb2 = CountingEmbedder()
    X2 = embed_texts(["d e f", "g h i"], emb2, EmbeddingCache(tmp_path, emb2.name))
    assert emb2.seen == ["g h i"]
    assert np.allclose(X2[0], X[1])
    assert cache.path.suffix == ".npz"
    with np.load(cache.path, allow_pickle=False) as z:  # plain arrays, no pickle
        assert z["vectors"].shape == (3, 32)


@pytest.mark.integration  # imports torch
def test_torch_device_uses_a_gpu_only_when_one_is_visible_and_keeps_an_explicit_choice(monkeypatch):
    import torch

    from insight.nlp import torch_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert torch_device(None) == torch_device("auto") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert torch_device(None) == torch_device("auto") == "cuda"
    assert torch_device("cpu") == "cpu" and torch_device("cuda:1") == "cuda:1"


def test_embedding_precision_is_validated_and_keys_the_cache(monkeypatch):
    """fp32 and bf16 vectors of one model never share a cache file; the model's name (what a trained tagger
    checks) stays the same."""
    from insight.config import load_config
    from insight.embed import backends
    from insight.errors import ComponentError

    with pytest.raises(ComponentError, match="E304|precision"):
        backends.SentenceTransformerEmbedder(precision="int3")
    with pytest.raises(Exception, match="precision"):
        load_config(embed={"precision": "fp8"})
    monkeypatch.setattr(backends, "torch_device", lambda device=None: "cpu")
    fp32 = backends.SentenceTransformerEmbedder(precision="fp32")
    bf16 = backends.SentenceTransformerEmbedder(precision="bf16")
    assert fp32.name == bf16.name == "all-MiniLM-L6-v2"
    assert fp32.cache_name == "all-MiniLM-L6-v2" and bf16.cache_name == "all-MiniLM-L6-v2-bf16"
    for native in (True, False):
        monkeypatch.setattr(backends, "cpu_has_bf16", lambda native=native: native)
        auto = backends.SentenceTransformerEmbedder(precision="auto")
        assert auto.resolved_precision == ("bf16" if native else "fp32")


@pytest.mark.integration  # the packaged model
def test_length_sorted_batches_keep_the_order_and_match_sentence_transformers():
    """Texts are encoded sorted by length (little padding); the vectors come back in the order given and equal
    what sentence-transformers' own encode gives; bf16 stays within a small angle of fp32."""
    from insight.embed import SentenceTransformerEmbedder

    texts = ["late", "my parcel never came and nobody at support answers my emails about it " * 3,
             "refund please", "", "the zip broke after one wash", "late"] * 7
    fp32 = SentenceTransformerEmbedder(precision="fp32", batch_size=4)
    X = fp32.encode(texts)
    plain = fp32._load().encode(texts, convert_to_numpy=True, normalize_embeddings=True)
    assert X.shape == (len(texts), 384) and X.dtype == np.float32
    assert np.allclose(X, plain, atol=2e-5)
    bf16 = SentenceTransformerEmbedder(precision="bf16", batch_size=4)
    bf16._model = fp32._model
    Y = bf16.encode(texts)
    assert np.min(np.sum(X * Y, axis=1)) > 0.98 and np.allclose(np.linalg.norm(Y, axis=1), 1, atol=1e-5)
