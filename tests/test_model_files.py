"""Issue 16: a saved tagger that was edited, tampered with or mangled never loads, and says why with a code.

Regressions: reversing ``classes`` in ``metadata.json`` relabelled every item silently; a changed temperature,
policy, or ``encoder_dir: ".."`` loaded too; malformed metadata gave a raw ``JSONDecodeError`` / ``KeyError``.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from insight.embed import HashingEmbedder
from insight.errors import ModelError
from insight.tag import CalibratedTagger, LogisticTagger, load_model, save_model


@pytest.fixture
def saved(tmp_path):
    emb = HashingEmbedder(dim=64)
    texts = ["parcel late", "parcel lost", "refund missing", "no refund yet", "card declined", "charged twice"] * 3
    labels = ["delivery", "delivery", "returns_refunds", "returns_refunds", "payments", "payments"] * 3
    tagger = CalibratedTagger(LogisticTagger().fit(emb.encode(texts), labels))
    return save_model(tagger, tmp_path / "m", taxonomy_fingerprint="tax", embedder="emb", training_hash="h")


def _edit(folder, change) -> None:
    meta = json.loads((folder / "metadata.json").read_text())
    change(meta)
    (folder / "metadata.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("change", [
    lambda m: m.update(classes=m["classes"][::-1]),  # relabels every item
    lambda m: m.update(temperature=m["temperature"] * 5),
    lambda m: m["policy"].update(min_confidence=0.0),
    lambda m: m.update(taxonomy_fingerprint="other"),  # would dodge the taxonomy check of another install
])
def test_an_edited_metadata_file_is_refused(saved, change):
    load_model(saved)  # intact: loads
    _edit(saved, change)
    with pytest.raises(ModelError) as info:
        load_model(saved)
    assert info.value.code == "E608" and "metadata.json" in str(info.value)


def test_a_re_serialised_but_unchanged_metadata_file_still_loads(saved):
    _edit(saved, lambda m: None)  # same content, other whitespace and key order
    load_model(saved)


def test_encoder_dir_must_stay_inside_the_model_folder(saved):
    for outside in ("..", ".", "../elsewhere", "/etc"):
        _edit(saved, lambda m, o=outside: m.update(encoder_dir=o))
        with pytest.raises(ModelError) as info:
            load_model(saved)
        assert info.value.code == "E610", outside  # the path is judged before anything else is trusted


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not a JSON object"),
    (json.dumps({"format": "insight-tagger/1", "metadata_sha256": hashlib.sha256(
        json.dumps({"format": "insight-tagger/1"}, sort_keys=True, separators=(",", ":")).encode()).hexdigest()}),
     "missing"),  # intact (its checksum matches) but incomplete
])
def test_malformed_metadata_is_a_coded_error(saved, content, fragment):
    (saved / "metadata.json").write_text(content)
    with pytest.raises(ModelError, match=fragment) as info:
        load_model(saved)
    assert info.value.code == "E605"


def test_a_model_saved_without_a_metadata_checksum_is_refused(saved):
    meta = json.loads((saved / "metadata.json").read_text())
    meta.pop("metadata_sha256")
    (saved / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="retrain") as info:
        load_model(saved)
    assert info.value.code == "E608"


def test_round_trip_predictions_unchanged(saved):
    loaded, meta = load_model(saved, taxonomy_fingerprint="tax", embedder="emb")
    assert len(meta["metadata_sha256"]) == 64
    X = HashingEmbedder(dim=64).encode(["parcel late", "card declined"])
    assert loaded.predict(X).tolist() == ["delivery", "payments"]
    assert np.allclose(loaded.predict_proba(X).sum(axis=1), 1)
