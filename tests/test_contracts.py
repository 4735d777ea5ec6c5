"""One contract per role (roles.py), run against every backend registered for it (backends.py).

A new backend joins ``BACKENDS`` and is tested here without a line of new test code; the real sentence-transformers
embedder and UMAP run under the ``integration`` mark.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insight import roles
from insight import schema as S
from insight.backends import BACKENDS, resolve
from insight.config import TagConfig, Taxonomy, load_config
from insight.errors import ConfigError

HEAVY_BACKENDS = {("embedder", "sentence-transformers"), ("embedder", "onnx")}


def _params(role: str) -> list:
    return [pytest.param(name, marks=pytest.mark.integration) if (role, name) in HEAVY_BACKENDS else name
            for name in sorted(BACKENDS[role])]


# ---------------------------------------------------------------- Embedder

@pytest.mark.parametrize("name", _params("embedder"))
def test_embedder_contract(name):
    cfg = load_config(embed={"backend": name})
    emb = resolve("embedder", name).from_config(cfg.embed)
    assert isinstance(emb, roles.Embedder) and isinstance(emb.name, str) and emb.name
    texts = ["my parcel is late", "the parcel is late again", "refund for a broken blender", "my parcel is late"]
    X = emb.encode(texts)
    assert X.dtype == np.float32 and X.ndim == 2 and len(X) == len(texts)
    assert np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-5)
    # a text's vector does not depend on its batch, within its precision's rounding: under bf16 on a CPU with AMX
    # one text and four take different kernels and differ by up to 5e-4 a coordinate (cosine 0.99999, session
    # 43); pooling that let padding in moves a vector by cosine 0.7
    atol = 1e-6 if getattr(emb, "resolved_precision", "fp32") == "fp32" else 2e-3
    assert np.allclose(X[0], X[3]) and np.allclose(emb.encode(texts[:1])[0], X[0], atol=atol)
    assert X[0] @ X[1] > X[0] @ X[2]  # similar complaints sit nearer than different ones
    assert emb.encode([]).shape[0] == 0


def test_embedder_progress_hears_every_text():
    heard: list[int] = []
    emb = resolve("embedder", "hashing").from_config(load_config().embed, heard.append)
    emb.encode(["a b", "c d", "e f"])
    assert sum(heard) == 3


# ---------------------------------------------------------------- Clusterer

def _blobs(n: int = 40, d: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(3, d)) * 3
    X = np.vstack([c + rng.normal(scale=0.3, size=(n, d)) for c in centers])
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), np.repeat([0, 1, 2], n)


@pytest.mark.parametrize("reducer", ["pca", pytest.param("umap", marks=pytest.mark.integration),
                                     pytest.param("umap-learn", marks=pytest.mark.integration)])
@pytest.mark.parametrize("name", _params("clusterer"))
def test_clusterer_contract(name, reducer):
    cfg = load_config(themes={"backend": name, "reducer": reducer, "min_cluster_size": 10, "n_components": 5})
    X, y = _blobs()
    c = resolve("clusterer", name).from_config(cfg.themes, seed=7)
    labels = c.fit_predict(X)
    assert isinstance(c, roles.Clusterer)  # fitted: centroids_ exist
    assert labels.shape == (len(X),) and set(labels.tolist()) <= set(range(len(c.centroids_))) | {S.NOISE}
    assert np.allclose(np.linalg.norm(c.centroids_, axis=1), 1, atol=1e-5)
    for k in range(3):  # each planted group is one theme
        assert len(set(labels[y == k].tolist()) - {S.NOISE}) == 1
    assert (c.assign(X) == labels)[labels != S.NOISE].mean() > 0.9  # new items land where their kind is
    sims = c.similarity(X, labels)
    assert sims.shape == (len(X),) and np.all(sims[labels == S.NOISE] == 0) and np.all(np.abs(sims) <= 1 + 1e-5)
    perm = np.random.default_rng(1).permutation(len(X))
    again = resolve("clusterer", name).from_config(cfg.themes, seed=7).fit_predict(X[perm])
    assert np.array_equal(again, labels[perm])  # the same items in another order: the same themes


# ---------------------------------------------------------------- Tagger

TAXONOMY = Taxonomy.model_validate({"name": "t", "root_causes": {
    "delivery": {"description": "late or lost parcels", "owner": "logistics", "playbook": {"title": "Fix {theme}"},
                 "seeds": ["my parcel is late", "courier lost my parcel", "parcel never arrived"]},
    "payments": {"description": "card declined, payment failed", "owner": "payments", "playbook": {"title": "Fix"},
                 "seeds": ["my card was declined", "payment failed twice", "charged but payment failed"]},
    "other": {"description": "anything else", "owner": "cx", "playbook": {"title": "Look"},
              "seeds": ["the colour is nice", "question about opening hours", "just a comment"]},
}})


def _tagger(name: str):
    cfg = TagConfig(backend=name, keyword_weight=0.0, model_path="unused")
    return resolve("tagger", name).from_config(cfg, TAXONOMY)


@pytest.mark.parametrize("name", _params("tagger"))
def test_tagger_contract(name):
    emb = resolve("embedder", "hashing").from_config(load_config().embed)
    texts = [t for rc in TAXONOMY.root_causes.values() for t in rc.seeds] * 3
    labels = [k for k, rc in TAXONOMY.root_causes.items() for _ in rc.seeds] * 3
    X = emb.encode(texts)
    tagger = _tagger(name).fit(X, labels, texts=texts)
    assert isinstance(tagger, roles.Tagger)
    proba = tagger.predict_proba(X, texts)
    assert proba.shape == (len(texts), len(tagger.classes_)) and set(labels) <= set(tagger.classes_.tolist())
    assert np.all(proba >= 0) and np.allclose(proba.sum(axis=1), 1)
    assert (tagger.classes_[proba.argmax(axis=1)] == np.array(labels)).mean() >= 0.9
    abstain, reason = tagger.policy.decide(proba)
    assert abstain.shape == (len(texts),) and set(reason[abstain]) <= {"low_confidence", "small_margin",
                                                                       "below_class_threshold"}
    one = tagger.predict_proba(X[:1], texts[:1])
    assert np.allclose(one, proba[:1], atol=1e-6)  # a row's tag does not depend on the rows beside it


def test_model_tagger_needs_a_model_path():
    with pytest.raises(ConfigError, match="model_path"):
        resolve("tagger", "model").from_config(TagConfig(backend="model"), TAXONOMY)


def test_model_tagger_loads_what_was_saved(tmp_path):
    """The ``model`` backend as the pipeline uses it: a saved tagger, loaded and checked by ``prepare``."""
    from insight.tag import fit_calibrated, save_model

    emb = resolve("embedder", "hashing").from_config(load_config().embed)
    texts = [t for rc in TAXONOMY.root_causes.values() for t in rc.seeds] * 4
    labels = [k for k, rc in TAXONOMY.root_causes.items() for _ in rc.seeds] * 4
    X = emb.encode(texts)
    folder = save_model(fit_calibrated(X, np.array(labels), texts=texts), tmp_path / "m",
                        taxonomy_fingerprint=TAXONOMY.fingerprint(), embedder=emb.name, training_hash="h")
    tagger = _tagger("model")
    tagger.path = str(folder)
    ready = tagger.prepare(emb.encode, emb.name)
    assert ready.info["kind"] in ("logistic", "lexical") and not ready.info["finetuned_encoder"]
    assert (ready.classes_[ready.predict_proba(X, texts).argmax(axis=1)] == np.array(labels)).mean() >= 0.9


# ---------------------------------------------------------------- Store

@pytest.mark.parametrize("name", _params("store"))
def test_store_contract(name, tiny_frame, tiny_config):
    from insight.flow import run

    cfg = tiny_config.model_copy(update={"store": tiny_config.store.model_copy(update={"backend": name})})
    store = resolve("store", name).from_config(cfg)
    assert isinstance(store, roles.Store) and store.list_runs().empty
    result = run(tiny_frame, cfg)
    run_id = store.publish(result, source="<frame>")
    assert run_id == result.run_id and store.list_runs()["run_id"].tolist() == [run_id]
    for frame in ("items", "themes", "actions", "weekly", "segments"):
        loaded = store.load(run_id, frame)
        assert isinstance(loaded, pd.DataFrame) and len(loaded) == len(getattr(result, frame))
    assert sorted(store.load(run_id, "items")[S.ID]) == sorted(result.items[S.ID])
