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
