"""Calibration math on known cases, abstention, and safe save/load of taggers."""

import json

import numpy as np
import pytest

from insight.config import load_taxonomy
from insight.embed import HashingEmbedder
from insight.errors import ModelError
from insight.evaluate import taxonomy_from_labels
from insight.tag import (
    CalibratedTagger,
    HybridTagger,
    LogisticTagger,
    fit_calibrated,
    fit_zero_shot,
    load_model,
    save_model,
)
from insight.tag.calibration import (
    BELOW_CLASS_THRESHOLD,
    LOW_CONFIDENCE,
    SMALL_MARGIN,
    AbstainPolicy,
    apply_temperature,
    class_thresholds,
    coverage_report,
    expected_calibration_error,
    fit_temperature,
)


def test_ece_of_perfectly_calibrated_and_overconfident():
    # 10 items at confidence 0.8, 8 of them right: calibrated, ECE 0
    proba = np.array([[0.8, 0.2]] * 10)
    y = np.array([0] * 8 + [1] * 2)
    assert expected_calibration_error(proba, y) == pytest.approx(0.0)
    # confidence 0.9 but only half right: ECE 0.4
    proba = np.array([[0.9, 0.1]] * 10)
    y = np.array([0] * 5 + [1] * 5)
    assert expected_calibration_error(proba, y) == pytest.approx(0.4)


def test_temperature_keeps_ranking_and_fixes_overconfidence():
    rng = np.random.default_rng(0)
    n, k = 2000, 5
    logits = rng.normal(size=(n, k)) * 2
    true_p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = np.array([rng.choice(k, p=p) for p in true_p])
    overconfident = apply_temperature(true_p, 0.4)  # sharpened: too sure of itself
    t = fit_temperature(overconfident, y)
    assert t == pytest.approx(2.5, rel=0.15)
    fixed = apply_temperature(overconfident, t)
    assert (fixed.argmax(1) == overconfident.argmax(1)).all()
    assert expected_calibration_error(fixed, y) < expected_calibration_error(overconfident, y) / 2


def test_apply_temperature_one_is_identity():
    p = np.array([[0.7, 0.2, 0.1]])
    assert np.allclose(apply_temperature(p, 1.0), p)


def test_abstain_reasons():
    policy = AbstainPolicy(min_confidence=0.5, min_margin=0.1, class_thresholds=[0.0, 0.9])
    proba = np.array([[0.9, 0.1], [0.46, 0.54], [0.52, 0.48], [0.2, 0.8], [0.05, 0.95]])
    abstain, reason = policy.decide(proba)
    assert reason.tolist() == ["", SMALL_MARGIN, SMALL_MARGIN, BELOW_CLASS_THRESHOLD, ""]
    low = AbstainPolicy(min_confidence=0.6).decide(np.array([[0.4, 0.35, 0.25]]))[1]
    assert low.tolist() == [LOW_CONFIDENCE]
    assert abstain.tolist() == [False, True, True, True, False]


def test_class_thresholds_reach_target_precision():
    proba = np.array([[0.95, 0.05], [0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4], [0.55, 0.45]])
    y = np.array([0, 0, 0, 1, 0, 1])
    thr = class_thresholds(proba, y, target_precision=1.0, min_support=3)
    assert thr[0] == pytest.approx(0.8) and thr[1] == 0.0


def test_coverage_report():
    proba = np.array([[0.9, 0.1], [0.55, 0.45], [0.2, 0.8]])
    rep = coverage_report(proba, np.array([0, 1, 1]), AbstainPolicy(min_confidence=0.5, min_margin=0.2))
    assert rep["coverage"] == pytest.approx(2 / 3) and rep["precision_at_coverage"] == 1.0
    assert rep["accuracy"] == pytest.approx(2 / 3)


def _data():
    emb = HashingEmbedder(dim=64)
    texts = ["parcel late", "parcel lost courier", "where is my parcel", "refund missing", "refund please",
             "no refund yet", "card declined", "payment failed card", "charged twice card"] * 3
    labels = ["delivery"] * 3 + ["returns_refunds"] * 3 + ["payments"] * 3
    return emb, texts, labels * 3


def test_fit_calibrated_and_round_trip(tmp_path):
    emb, texts, labels = _data()
    X = emb.encode(texts)
    tagger = fit_calibrated(X, np.array(labels), target_precision=0.9)
    folder = save_model(tagger, tmp_path / "m-v1", taxonomy_fingerprint="abc", embedder=emb.name,
                        training_hash="h", metrics={"accuracy": 1.0})
    loaded, meta = load_model(folder, taxonomy_fingerprint="abc", embedder=emb.name)
    assert np.allclose(loaded.predict_proba(X), tagger.predict_proba(X), atol=1e-6)
    assert meta["metrics"]["accuracy"] == 1.0 and meta["versions"]["numpy"]
    assert loaded.policy.class_thresholds == pytest.approx(tagger.policy.class_thresholds)
    assert not any(p.suffix in (".pkl", ".pickle", ".joblib") for p in folder.iterdir())


def test_pseudo_labelled_rows_train_the_head_but_never_calibrate_it(monkeypatch):
    import insight.tag.training as ev

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal([-1, 0], 0.1, (6, 2)), rng.normal([1, 0], 0.1, (6, 2))])
    y = np.array(["a"] * 6 + ["b"] * 6)
    far_up = np.array([[-1.0, 4.0]])  # nearer the a's than the b's, until pseudo-labels say otherwise
    extra = (rng.normal([-1, 4], 0.1, (30, 2)), np.array(["b"] * 30), [""] * 30)
    calibrated_on: list[int] = []
    real_fit = ev.fit_temperature
    monkeypatch.setattr(ev, "fit_temperature", lambda p, t: calibrated_on.append(len(t)) or real_fit(p, t))
    assert fit_calibrated(X, y).predict(far_up)[0] == "a"
    assert fit_calibrated(X, y, extra=extra).predict(far_up)[0] == "b"
    assert calibrated_on == [12, 12]  # only the real labels, out of fold
    with pytest.raises(ValueError, match="real labels"):
        fit_calibrated(X, y, extra=(extra[0], np.array(["c"] * 30), extra[2]))


def test_head_pseudo_rows_are_the_surest_per_class_with_their_texts():
    from insight.tag import head_pseudo_rows

    X = np.array([[-1.0, 0], [-1.1, 0.1], [1.0, 0], [1.1, -0.1]])
    pool = np.array([[0.05, 0], [-2.0, 0], [2.0, 0.1], [-0.5, 0]])
    rows_X, labels, texts = head_pseudo_rows(X, np.array(["a", "a", "b", "b"]), pool, ["mid", "A", "B", "a-ish"], 1)
    assert texts == ["A", "B"] and labels.tolist() == ["a", "b"] and np.allclose(rows_X, pool[[1, 2]])


class _LeansRight:
    """A head that says "b" more the further right a vector points: p(b) = sigmoid(10 x)."""

    classes_ = np.array(["a", "b"])

    def predict_proba(self, X):
        pb = 1 / (1 + np.exp(-10 * np.asarray(X)[:, 0]))
        return np.column_stack([1 - pb, pb])


def _up(x):
    """Vectors pointing mostly up, leaning left (x < 0) or right (x > 0)."""
    return np.column_stack([np.asarray(x, dtype=float), np.ones(len(x))])


def test_neighbour_tagger_follows_the_untagged_feedback_around_an_item():
    from insight.tag import NeighbourTagger

    query = _up([0.05])  # just right of the head's boundary, among untagged items that lean left
    pool = _up([-0.05, -0.1, -0.15, 0.3])
    labelled = np.array([[1.0, 0.0], [-1.0, 0.0]])
    t = NeighbourTagger(_LeansRight(), k=3, weight=0.5).remember(labelled, ["b", "a"], pool)
    assert _LeansRight().predict_proba(query).argmax() == 1
    assert t.classes_[t.predict_proba(query).argmax()] == "a"
    # the memory: labelled rows carry their label, untagged ones the head's own probabilities
    assert t.memory_proba_[:2].tolist() == [[0, 1], [1, 0]]
    assert np.allclose(t.memory_proba_[2:].astype(float), _LeansRight().predict_proba(pool), atol=1e-3)
    nearest = _LeansRight().predict_proba(pool[:3]).mean(axis=0)  # the three most similar by cosine
    assert np.allclose(t.neighbour_proba(query)[0], nearest, atol=1e-3)
    assert np.allclose(t.predict_proba(_up([0.05, -0.4, 2.0])).sum(axis=1), 1)
    off = NeighbourTagger(_LeansRight(), k=3, weight=0.0).remember(labelled, ["b", "a"], pool)
    assert np.allclose(off.predict_proba(query), _LeansRight().predict_proba(query))
    with pytest.raises(ModelError, match="does not know") as info:
        NeighbourTagger(_LeansRight()).remember(labelled, ["b", "c"], pool)
    assert info.value.code == "E611"
    for bad in ({"k": 0}, {"weight": 1.5}):
        with pytest.raises(ValueError):
            NeighbourTagger(_LeansRight(), **bad)


def test_neighbour_memory_is_capped_reproducibly_and_keeps_every_label():
    from insight.tag import NeighbourTagger

    pool = _up(np.linspace(-1, 1, 50))
    labelled = np.array([[1.0, 0.0], [-1.0, 0.0]])
    made = [NeighbourTagger(_LeansRight(), max_memory=10, seed=s).remember(labelled, ["b", "a"], pool)
            for s in (0, 0, 1)]
    assert made[0].memory_.shape == (12, 2) and made[0].memory_.dtype == np.float16
    assert made[0].memory_proba_[:2].tolist() == [[0, 1], [1, 0]]
    assert np.array_equal(made[0].memory_, made[1].memory_) and not np.array_equal(made[0].memory_, made[2].memory_)


def test_fit_calibrated_with_untagged_feedback_remembers_it_and_round_trips(tmp_path):
    from insight.tag import NeighbourTagger

    emb, texts, labels = _data()
    X, y = emb.encode(texts), np.array(labels)
    pool_texts = ["my parcel is lost", "refund never came", "card was declined again"]
    pool = emb.encode(pool_texts)
    assert isinstance(fit_calibrated(X, y, pool=(pool, pool_texts), neighbours=0).base, LogisticTagger)
    tagger = fit_calibrated(X, y, pool=(pool, pool_texts), neighbours=4, neighbour_weight=0.3)
    assert isinstance(tagger.base, NeighbourTagger) and isinstance(tagger.base.base, LogisticTagger)
    assert len(tagger.base.memory_) == len(X) + len(pool) and tagger.base.weight == 0.3
    folder = save_model(tagger, tmp_path / "m-v1", taxonomy_fingerprint="abc", embedder=emb.name, training_hash="h")
    loaded, meta = load_model(folder, taxonomy_fingerprint="abc", embedder=emb.name)
    assert meta["kind"] == "neighbour" and meta["params"]["base_kind"] == "logistic" and meta["params"]["k"] == 4
    queries = emb.encode(["parcel never arrived", "charged twice on my card"])
    assert np.array_equal(loaded.predict_proba(queries), tagger.predict_proba(queries))
    assert loaded.predict(queries).tolist() == ["delivery", "payments"]


def test_hybrid_round_trip_keeps_unlabelled_classes(tmp_path):
    emb, texts, labels = _data()
    tax = load_taxonomy()
    hybrid = HybridTagger(fit_zero_shot(tax, emb.encode)).fit(emb.encode(texts), labels)
    X = emb.encode(["my account is locked", "parcel late"])
    p = hybrid.predict_proba(X)
    assert p.shape == (2, len(tax.keys)) and np.allclose(p.sum(1), 1)
    assert p[0, tax.keys.index("account")] > 0  # never labelled, still scored by its prototypes
    folder = save_model(CalibratedTagger(hybrid), tmp_path / "h", taxonomy_fingerprint=tax.fingerprint(),
                        embedder=emb.name, training_hash="h")
    loaded, _ = load_model(folder, taxonomy_fingerprint=tax.fingerprint())
    assert np.allclose(loaded.predict_proba(X), p, atol=1e-6)


def test_refuses_mismatched_or_tampered_models(tmp_path):
    emb, texts, labels = _data()
    tagger = CalibratedTagger(LogisticTagger().fit(emb.encode(texts), labels))
    folder = save_model(tagger, tmp_path / "m", taxonomy_fingerprint="tax-1", embedder="emb-1", training_hash="h")
    with pytest.raises(ModelError, match="taxonomy"):
        load_model(folder, taxonomy_fingerprint="tax-2")
    with pytest.raises(ModelError, match="expects embeddings"):
        load_model(folder, embedder="emb-2")
    with pytest.raises(ModelError, match="already holds"):
        save_model(tagger, folder, taxonomy_fingerprint="t", embedder="e", training_hash="h")
    meta = json.loads((folder / "metadata.json").read_text())
    meta["format"] = "something-else"
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="format"):
        load_model(folder)
    meta["format"] = "insight-tagger/1"
    (folder / "metadata.json").write_text(json.dumps(meta))
    (folder / "weights.npz").write_bytes((folder / "weights.npz").read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="checksum"):
        load_model(folder)
    with pytest.raises(ModelError, match="no saved tagger"):
        load_model(tmp_path / "nothing")


def test_taxonomy_from_labels():
    tax = taxonomy_from_labels(["card_arrival", "Top-up failed", "card_arrival"])
    assert tax.keys == ["card_arrival", "top_up_failed"]
    assert tax.root_causes["top_up_failed"].description == "Top-up failed"


def test_lexical_tagger_round_trip(tmp_path):
    from insight.tag import LexicalLogisticTagger

    emb, texts, labels = _data()
    X = emb.encode(texts)
    tagger = CalibratedTagger(LexicalLogisticTagger().fit(X, labels, texts=texts), temperature=1.3)
    with pytest.raises(ModelError, match="texts"):
        tagger.predict_proba(X)
    p = tagger.predict_proba(X, texts)
    assert (tagger.classes_[p.argmax(1)] == np.array(labels)).mean() == 1.0
    folder = save_model(tagger, tmp_path / "lex", taxonomy_fingerprint=None, embedder=emb.name, training_hash="h")
    loaded, meta = load_model(folder)
    assert meta["kind"] == "lexical" and np.allclose(loaded.predict_proba(X, texts), p, atol=1e-6)


def test_train_then_run_with_the_saved_model(tmp_path, tiny_frame, fast_yaml):
    import pandas as pd
    from typer.testing import CliRunner

    from pipelines.cli import app

    labelled = tmp_path / "labelled.csv"
    rows = [(t, "delivery") for t in ["parcel late", "courier lost my parcel", "where is my parcel", "parcel stuck",
                                      "delivery late again", "parcel never arrived"]]
    rows += [(t, "returns_refunds") for t in ["refund missing", "no refund yet", "return label broken",
                                              "refund for my return", "where is my refund", "refund late"]]
    pd.DataFrame(rows, columns=["comment", "cause"]).to_csv(labelled, index=False)
    cfg_file = fast_yaml
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "tagger", "--input", str(labelled), "--text-column", "comment",
                                  "--label-column", "cause", "--out", str(tmp_path / "m-v1"), "--config",
                                  str(cfg_file), "--json"])
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.stdout)["metrics"]["n_train"] == 12 + sum(
        len(rc.seeds) + 1 for rc in load_taxonomy().root_causes.values())
    cfg_file.write_text(cfg_file.read_text().replace("tag: {keyword_weight: 0.0}",
                                                     f"tag: {{backend: model, model_path: {tmp_path / 'm-v1'}}}"))
    data = tmp_path / "in.csv"
    tiny_frame.to_csv(data, index=False)
    ran = runner.invoke(app, ["run", "--input", str(data), "--config", str(cfg_file), "--json"])
    assert ran.exit_code == 0, ran.output
    bad = runner.invoke(app, ["train", "tagger", "--input", str(labelled), "--text-column", "comment",
                              "--label-column", "comment", "--config", str(cfg_file)])
    assert bad.exit_code == 2 and "not root causes" in bad.output
