"""Custom taxonomies without friction (issue 15): gold labels matched to keys ignoring case and punctuation or
through a label map, and checked before any text is embedded. Regression: labels had to equal keys exactly
(E210), with no way to map them, and the check ran only after every text was embedded."""

from __future__ import annotations

import pandas as pd
import pytest

from insight.errors import InputError
from insight.evaluate import eval_tagging, load_label_map, match_labels

KEYS = ["delivery", "product_quality", "other"]


def test_labels_match_keys_ignoring_case_spaces_and_punctuation():
    assert match_labels(["Product Quality", "product-quality", "DELIVERY", "other"], KEYS) == [
        "product_quality", "product_quality", "delivery", "other"]


def test_a_label_map_comes_first_and_every_unknown_label_is_listed_at_once():
    assert match_labels(["Late parcel", "Other"], KEYS, {"Late parcel": "delivery"}) == ["delivery", "other"]
    with pytest.raises(InputError) as info:
        match_labels(["Late parcel", "Rude agent", "Rude agent", "delivery"], KEYS)
    message = str(info.value)
    assert info.value.code == "E210" and "'Rude agent' (2)" in message and "'Late parcel' (1)" in message
    assert "product_quality" in message and "--label-map" in message
    with pytest.raises(InputError, match="not root causes"):
        match_labels(["x"], KEYS, {"x": "shipping"})  # a map onto a key that does not exist


def test_label_maps_read_from_yaml_and_csv(tmp_path):
    (tmp_path / "m.yaml").write_text("Late parcel: delivery\nBroken item: product_quality\n")
    (tmp_path / "m.csv").write_text("label,key\nLate parcel,delivery\nBroken item,product_quality\n")
    expected = {"Late parcel": "delivery", "Broken item": "product_quality"}
    assert load_label_map(tmp_path / "m.yaml") == expected == load_label_map(tmp_path / "m.csv")
    with pytest.raises(InputError, match="not found"):
        load_label_map(tmp_path / "missing.yaml")


def test_labels_are_checked_before_anything_is_embedded(fast_config, monkeypatch):
    import insight.evaluate.tagging as tagging

    def no_embedding(*_a, **_k):
        raise AssertionError("texts were embedded before the labels were checked")

    monkeypatch.setattr(tagging.assembly, "embedder", no_embedding)
    test = pd.DataFrame({"text": ["parcel late", "zip broke"], "label": ["Late parcel", "Broken"]})
    with pytest.raises(InputError) as info:
        eval_tagging(None, test, mode="zero-shot", config=fast_config)
    assert info.value.code == "E210"
