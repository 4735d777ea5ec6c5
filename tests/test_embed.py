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
    shards = sorted(cache.path.glob("*.npy"))
    assert [p.name.split("-")[0] for p in shards] == ["keys", "keys", "vectors", "vectors"]  # one shard a run
    vectors = [np.load(p, allow_pickle=False) for p in shards if p.name.startswith("vectors")]  # no pickle
    assert sorted(len(v) for v in vectors) == [1, 2] and all(v.dtype == np.float16 for v in vectors)


@pytest.mark.integration  # imports torch
def test_torch_device_uses_a_gpu_only_when_one_is_visible_and_keeps_an_explicit_choice(monkeypatch):
    import torch

    from insight.nlp import torch_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert torch_device(None) == torch_device("auto") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert torch_device(None) == torch_device("auto") == "cuda"
    assert torch_device("cpu") == "cpu" and torch_device("cuda:1") == "cuda:1"


@pytest.mark.integration  # imports torch
def test_auto_precision_on_a_gpu_is_fp32(monkeypatch):
    """On an H200, bf16 embedded this small model no faster than fp32 (7,421 against 9,134 texts/s: the GPU waits
    on tokenising and launches, not on arithmetic) while its vectors move with the batch. ``auto`` keeps fp32 on a
    GPU, and bf16 stays one setting away."""
    import torch

    from insight.embed import backends

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert backends.SentenceTransformerEmbedder(precision="auto").resolved_precision == "fp32"
    assert backends.SentenceTransformerEmbedder(precision="bf16").resolved_precision == "bf16"


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
    for native, faster in [(True, True), (False, True), (True, False)]:
        monkeypatch.setattr(backends, "cpu_has_bf16", lambda native=native: native)
        monkeypatch.setattr(backends, "bf16_faster", lambda faster=faster: faster)
        auto = backends.SentenceTransformerEmbedder(precision="auto")
        assert auto.resolved_precision == ("bf16" if native and faster else "fp32")


@pytest.mark.integration  # measures with torch
def test_auto_precision_follows_what_this_machine_measured_not_the_cpu_flag(tmp_path, monkeypatch):
    """Regression: on an Intel Xeon that reports AVX512-BF16, ``auto`` chose bf16 from the flag alone, and bf16
    embedded at 0.6x fp32 (123 against 207 texts/s). The choice is measured once per machine and kept, so every
    later run makes the same one."""
    import json

    pytest.importorskip("torch")
    from insight.embed import backends

    record = tmp_path / "precision.json"
    first = backends.bf16_faster(record)
    kept = json.loads(record.read_text())
    (key, measured), = kept.items()
    assert "torch" in key and measured["bf16"] is first
    assert first == (measured["bf16_gflops"] >= backends.BF16_GAIN * measured["fp32_gflops"])
    # what was measured is what later runs use: told the opposite, a new process (no memory) obeys the record
    kept[key]["bf16"] = not first
    other = tmp_path / "other.json"
    other.write_text(json.dumps(kept))
    assert backends.bf16_faster(other) is (not first)
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: True)
    monkeypatch.setattr(backends, "torch_device", lambda device=None: "cpu")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    (tmp_path / "xdg" / "insight").mkdir(parents=True)
    (tmp_path / "xdg" / "insight" / "precision.json").write_text(json.dumps({key: {**measured, "bf16": False}}))
    assert backends.SentenceTransformerEmbedder(precision="auto").resolved_precision == "fp32"


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


@pytest.mark.integration  # the packaged model
def test_texts_are_tokenised_once_and_give_sentence_transformers_vectors(monkeypatch):
    """On an H200 the embedder ran at 9,134 texts/s where sentence-transformers at batch 256 ran 12,591: every
    text was tokenised twice, once to sort by length and once to encode its batch. The sort's token ids are now
    padded into the batch; the vectors stay sentence-transformers' own (it strips texts before tokenising)."""
    from insight.embed import SentenceTransformerEmbedder

    texts = ["  refund please ", "the zip broke after one wash\n", "", "late", "Where is my ORDER??"] * 3
    emb = SentenceTransformerEmbedder(precision="fp32", batch_size=4)
    model = emb._load()
    plain = model.encode(texts, convert_to_numpy=True, normalize_embeddings=True)
    emb.encode(texts[:1])  # how the model tokenises is asked once, on a few probe texts

    def again(*args, **kwargs):
        raise AssertionError("tokenised a second time")

    with monkeypatch.context() as patched:
        patched.setattr(model, "preprocess", again, raising=False)
        patched.setattr(model, "tokenize", again, raising=False)
        assert np.allclose(emb.encode(texts), plain, atol=2e-5)
    # a model that writes its texts its own way before tokenising (found in review: prompts, chat templates;
    # here, a prompt before each text) keeps its own preprocess for every batch, and its own vectors
    own = model.preprocess
    monkeypatch.setattr(model, "preprocess", lambda inputs, *a, **k: own([f"query: {t}" for t in inputs], *a, **k),
                        raising=False)
    prompted = model.encode(texts, convert_to_numpy=True, normalize_embeddings=True)
    assert not np.allclose(prompted, plain, atol=1e-3)
    other = SentenceTransformerEmbedder(precision="fp32", batch_size=4)
    other._model = model
    assert np.allclose(other.encode(texts), prompted, atol=2e-5)


def test_token_batches_cover_every_text_once_within_the_budget():
    """Short texts share large batches and long ones go in small ones; every text is in exactly one batch."""
    from insight.embed.backends import token_batches

    lengths = [3, 40, 5, 5, 120, 7, 3, 300, 9, 12] * 20
    order = np.argsort(lengths, kind="stable")
    batches = list(token_batches(order, lengths, max_tokens=256, max_texts=50))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    assert np.concatenate(batches).tolist() == order.tolist()  # in sorted order: near-equal lengths together
    for b in batches:
        assert len(b) <= 50 and (len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 256)
    assert len(batches[0]) == 50 and len(batches[-1]) == 1  # the 3-token texts fill one; a 300-token text alone


def test_the_cache_appends_shards_and_never_rewrites_what_it_holds(tmp_path):
    """Issue 17: the cache was one .npz rewritten whole on every run. A run now adds a shard; the shards already
    there are not touched; a rerun embeds nothing and gets exactly the vectors the first run got."""
    from insight.embed.cache import EmbeddingCache

    emb = CountingEmbedder()
    first = embed_texts([f"parcel {i} late" for i in range(50)], emb, EmbeddingCache(tmp_path, emb.name))
    shard = next(EmbeddingCache(tmp_path, emb.name).path.glob("vectors-*.npy"))
    stamp = (shard.stat().st_ino, shard.stat().st_mtime_ns)
    second = embed_texts([f"parcel {i} late" for i in range(60)], emb, EmbeddingCache(tmp_path, emb.name))
    assert (shard.stat().st_ino, shard.stat().st_mtime_ns) == stamp
    assert len(emb.seen) == 60 and np.array_equal(second[:50], first)  # the rerun read back what it computed
    again = CountingEmbedder()
    third = embed_texts([f"parcel {i} late" for i in range(60)], again, EmbeddingCache(tmp_path, again.name))
    assert again.seen == [] and np.array_equal(third, second)
    uncached = embed_texts([f"parcel {i} late" for i in range(60)], CountingEmbedder(), None)
    assert np.array_equal(uncached, third)  # cached or not, the same vectors


def test_erasure_rewrites_only_the_shards_holding_the_text_and_deletes_the_old_files(tmp_path):
    from insight.embed.cache import EmbeddingCache, text_key

    emb = CountingEmbedder()
    cache = EmbeddingCache(tmp_path, emb.name)
    embed_texts(["refund missing", "zip broke"], emb, cache)
    untouched = set(cache.path.glob("*.npy"))
    embed_texts(["my secret parcel", "card declined"], emb, cache)
    before = set(cache.path.glob("*.npy"))
    assert EmbeddingCache(tmp_path, emb.name).remove([text_key("my secret parcel"), text_key("not there")]) == 1
    after = set(cache.path.glob("*.npy"))
    assert untouched <= after and not (before - untouched) & after  # the shard that held it is gone, not edited
    fresh = EmbeddingCache(tmp_path, emb.name)
    assert fresh.size == 3 and not fresh.get_many([text_key("my secret parcel")])
    assert set(fresh.get_many([text_key("card declined"), text_key("zip broke")])) == {
        text_key("card declined"), text_key("zip broke")}
    raw = b"".join(p.read_bytes() for p in cache.path.iterdir())
    assert text_key("my secret parcel").encode() not in raw


def test_many_shards_are_merged_and_an_old_single_file_cache_is_moved_in(tmp_path, monkeypatch):
    from insight.embed import cache as cache_module
    from insight.embed.cache import EmbeddingCache, text_key

    legacy = tmp_path / "embeddings-hashing-32.npz"
    np.savez(legacy, keys=np.array([text_key("old text")], dtype="U40"), vectors=np.ones((1, 32), np.float32))
    emb = CountingEmbedder()
    X = embed_texts(["old text"], emb, EmbeddingCache(tmp_path, emb.name))
    assert emb.seen == [] and np.allclose(X, 1) and not legacy.exists()
    assert [c.path.name for c in EmbeddingCache.every(tmp_path)] == ["vectors-hashing-32"]
    monkeypatch.setattr(cache_module, "MAX_SHARDS", 3)
    for i in range(5):
        embed_texts([f"text number {i}"], emb, EmbeddingCache(tmp_path, emb.name))
    cache = EmbeddingCache(tmp_path, emb.name)
    assert len(list(cache.path.glob("keys-*.npy"))) <= 3 and cache.size == 6


def test_a_float32_cache_keeps_vectors_as_computed_through_reruns_erasure_and_merging(tmp_path):
    """Fine-tuned encoders' vectors feed a head that tells apart classes a handful of labels taught it (float16
    rounding read 0.1-0.2 points lower on Banking77 4-shot): their caches keep float32, with or without a cache,
    read back, after an erasure rewrote a shard and after shards were merged; the frozen model's cache stays
    float16."""
    from insight.embed.cache import EmbeddingCache, text_key

    class Exact(CountingEmbedder):
        def encode(self, texts):
            return super().encode(texts) + np.float32(1e-4)  # not a float16 value

    texts = [f"card {i} declined" for i in range(6)]
    computed = Exact().encode(texts)
    assert not np.array_equal(computed, computed.astype(np.float16).astype(np.float32))
    assert np.array_equal(embed_texts(texts, Exact(), None, dtype="float32"), computed)
    assert np.array_equal(embed_texts(texts, Exact(), None), computed.astype(np.float16).astype(np.float32))
    emb = Exact()
    first = embed_texts(texts[:3], emb, EmbeddingCache(tmp_path, "tuned32-x", "float32"))
    embed_texts(texts, emb, EmbeddingCache(tmp_path, "tuned32-x", "float32"))  # a second shard
    assert np.array_equal(first, computed[:3]) and emb.seen == texts
    # erasure and merging open caches with the default dtype (``EmbeddingCache.every``): shards keep their own
    assert EmbeddingCache(tmp_path, "tuned32-x").remove([text_key(texts[0])]) == 1
    EmbeddingCache(tmp_path, "tuned32-x").compact()
    again = Exact()
    back = embed_texts(texts[1:], again, EmbeddingCache(tmp_path, "tuned32-x", "float32"))
    assert again.seen == [] and np.array_equal(back, computed[1:])
    assert [np.load(p).dtype for p in EmbeddingCache(tmp_path, "tuned32-x").path.glob("vectors-*.npy")] == [
        np.float32]
    with pytest.raises(ValueError, match="float16 or float32"):
        EmbeddingCache(tmp_path, "x", "int8")


def test_a_fine_tuned_encoder_is_cached_apart_in_float32(tmp_path, monkeypatch):
    from insight import assembly
    from insight.config import Config

    cfg = Config(home=str(tmp_path))
    monkeypatch.delenv("INSIGHT_HOME", raising=False)
    monkeypatch.setattr(assembly, "SentenceTransformerEmbedder", lambda **kw: CountingEmbedder())
    encode = assembly.tuned_encoder(cfg)("some/folder", "ab" * 32)
    X = encode(["parcel late", "refund missing"])
    assert X.dtype == np.float32
    (folder,) = (tmp_path / "cache").iterdir()
    assert folder.name == f"vectors-tuned32-{'ab' * 8}"
    assert {np.load(p).dtype for p in folder.glob("vectors-*.npy")} == {np.dtype(np.float32)}


def test_the_onnx_backend_is_chosen_by_name_runs_fp32_only_and_caches_apart(tmp_path):
    from insight import assembly
    from insight.config import load_config
    from insight.embed.onnx import OnnxEmbedder
    from insight.errors import ComponentError

    cfg = load_config(home=str(tmp_path), embed={"backend": "onnx"})
    emb = assembly.embedder(cfg)
    assert isinstance(emb, OnnxEmbedder) and emb.folder == tmp_path / "cache" / "onnx"
    assert emb.name == "all-MiniLM-L6-v2" and emb.cache_name == "all-MiniLM-L6-v2-onnx"
    with pytest.raises(ComponentError, match="E304"):
        assembly.embedder(load_config(home=str(tmp_path), embed={"backend": "onnx", "precision": "bf16"}))


@pytest.mark.integration  # exports the packaged model with torch
def test_onnx_vectors_match_torch_fp32_and_a_tampered_graph_is_exported_again(tmp_path):
    """ONNX Runtime runs the same model: the same vectors as the torch fp32 embedder, in the order given; the
    exported graph is checked against its sidecar's sha256, and one that does not match is rebuilt."""
    import hashlib
    import json

    from insight.embed import SentenceTransformerEmbedder
    from insight.embed.onnx import OnnxEmbedder

    texts = ["late", "my parcel never came and nobody at support answers my emails about it " * 3,
             "refund please", "", "the zip broke after one wash", "late"] * 5
    reference = SentenceTransformerEmbedder(precision="fp32").encode(texts)
    X = OnnxEmbedder(tmp_path, batch_size=4).encode(texts)
    assert X.shape == reference.shape and X.dtype == np.float32
    assert np.allclose(X, reference, atol=1e-4) and np.min(np.sum(X * reference, axis=1)) > 0.9999
    graph = tmp_path / "all-MiniLM-L6-v2.onnx"
    sidecar = tmp_path / "all-MiniLM-L6-v2.json"
    assert graph.exists() and sidecar.exists()
    graph.write_bytes(graph.read_bytes()[:-16] + b"\0" * 16)  # damaged on disk
    again = OnnxEmbedder(tmp_path).encode(texts[:6])
    assert np.allclose(again, reference[:6], atol=1e-4)
    assert json.loads(sidecar.read_text())["sha256"] == hashlib.sha256(graph.read_bytes()).hexdigest()


@pytest.mark.integration  # exports the packaged model with torch
def test_onnx_export_runs_on_the_cpu_when_a_gpu_is_visible(tmp_path, monkeypatch):
    """Regression: on an H200 machine the export loaded the model on the GPU (the torch embedder's ``auto``
    device) and traced it with the tokenizer's CPU tensors, so ``embed.backend: onnx`` failed ("Expected all
    tensors to be on the same device"). ONNX Runtime runs on the CPU here, so the graph is exported there."""
    import torch

    from insight.embed import SentenceTransformerEmbedder
    from insight.embed.onnx import OnnxEmbedder

    texts = ["my parcel never came", "refund please", "the zip broke after one wash"]
    reference = SentenceTransformerEmbedder(precision="fp32", device="cpu").encode(texts)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # what a GPU machine reports
    X = OnnxEmbedder(tmp_path).encode(texts)
    assert np.allclose(X, reference, atol=1e-4)


@pytest.mark.integration  # starts two worker processes with the packaged model
def test_worker_processes_give_the_single_process_vectors_in_order():
    """``embed.processes``: batches are shared out to worker processes; each batch is encoded whole wherever it
    runs, so the vectors are those of one process (to float rounding), in the order given, every text heard."""
    from insight.embed import SentenceTransformerEmbedder

    texts = [f"{w} parcel number {i} is late and support does not answer" for i, w in
             enumerate(["my", "the", "our", "a"] * 30)] + ["refund please", "", "the zip broke"] * 20
    one = SentenceTransformerEmbedder(precision="fp32", batch_size=8).encode(texts)
    heard: list[int] = []
    two = SentenceTransformerEmbedder(precision="fp32", batch_size=8, processes=2, min_parallel=10,
                                      progress=heard.append)
    X = two.encode(texts)
    assert two._pool is not None and sum(heard) == len(texts)
    assert X.shape == one.shape and np.allclose(X, one, atol=1e-5)
    two._pool.shutdown()
