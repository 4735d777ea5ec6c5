import numpy as np
import pytest

from insight.config import load_taxonomy
from insight.embed import HashingEmbedder
from insight.tag import (
    PrototypeTagger,
    combined_proba,
    fit_zero_shot,
    in_key_order,
    keyword_evidence,
    tag_items,
)
from insight.tag.calibration import AbstainPolicy, softmax


def test_prototype_tagger_fit_predict():
    X = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    t = PrototypeTagger(temperature=0.1, top_k=1).fit(X, ["b", "b", "a", "a"])
    assert list(t.classes_) == ["b", "a"]
    proba = t.predict_proba(np.array([[1, 0], [0, 1]], dtype=np.float32))
    assert np.allclose(proba.sum(axis=1), 1)
    assert list(t.predict(np.array([[1, 0], [0, 1]], dtype=np.float32))) == ["b", "a"]


def test_softmax_is_stable():
    p = softmax(np.array([[1000.0, 1000.0, 0.0]]))
    assert np.allclose(p, [[0.5, 0.5, 0.0]])


@pytest.mark.integration  # spaCy lemmas
def test_keyword_evidence_is_word_bounded():
    tax = load_taxonomy()
    ev = keyword_evidence(["my refund never came", "refunded? no. refunding it now?"], tax)
    j = tax.keys.index("returns_refunds")
    assert ev[0, j] > 0 and ev[1, j] > ev[0, j]
    assert ev[0, tax.keys.index("inventory")] == 0


@pytest.mark.integration  # spaCy lemmas (keyword evidence)
def test_tag_items_columns_and_review_flag():
    tax = load_taxonomy()
    emb = HashingEmbedder()
    tagger = fit_zero_shot(tax, emb.encode)
    texts = ["my parcel is a week late and the courier lost it", "card declined payment failed", "zzz"]
    proba = combined_proba(texts, emb.encode(texts), tagger, tax)
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-6)
    out = tag_items(proba, tax.keys, AbstainPolicy(min_confidence=0.35, min_margin=0.05))
    assert list(out["root_cause"][:2]) == ["delivery", "payments"]
    assert out["confidence"].between(0, 1).all()
    assert out["review_reason"][2] in ("low_confidence", "small_margin") and out["needs_review"][2]
    assert all(set(p) <= set(tax.keys) for p in out["probabilities"])


def test_multi_label_lists_every_likely_cause():
    keys = ["delivery", "payments", "other"]
    out = tag_items(np.array([[0.5, 0.45, 0.05], [0.9, 0.05, 0.05]]), keys, AbstainPolicy(), multi_label_min=0.3)
    assert out["labels"].tolist() == [["delivery", "payments"], ["delivery"]]


def test_in_key_order_fills_unseen_causes():
    p = in_key_order(np.array([[0.25, 0.75]]), ["payments", "delivery"], ["delivery", "account", "payments"])
    assert np.allclose(p, [[0.75, 0.0, 0.25]])


def test_the_model_with_ngrams_is_kept_unless_the_embedding_only_one_is_clearly_better():
    """Regression (issue 17): the choice between the two supervised models was "strictly more accurate on the
    held-out rows"; on Banking77 they tied (923 of 1,001 each), so float rounding in a few vectors flipped the
    choice and the test accuracy by 1.3 points. A tie or a small edge now keeps the n-gram model."""
    from insight.tag.training import prefer_lexical

    truth = np.zeros(1000, dtype=int)
    plain, lexical = truth.copy(), truth.copy()
    plain[:77], lexical[77:154] = 1, 1  # 923 right each, on different rows: a tie
    assert prefer_lexical(truth, plain, lexical)
    lexical[154:160] = 1  # the embedding-only model 6 rows ahead of 160 discordant: noise
    assert prefer_lexical(truth, plain, lexical)
    lexical[160:260] = 1  # 106 rows ahead: clearly better
    assert not prefer_lexical(truth, plain, lexical)
