"""The bundled demo storefront is what the README promises: realistic, varied, reproducible."""

import json
from importlib import resources

import pandas as pd
import pytest

from insight.config import load_taxonomy
from insight.demo import INCIDENTS, demo_path
from insight.demo.build import build


@pytest.fixture(scope="module")
def demo():
    return pd.read_csv(demo_path(), keep_default_na=False, na_values=[""])


def test_shape_channels_and_metadata(demo):
    assert len(demo) >= 1500
    ts = pd.to_datetime(demo["timestamp"], utc=True, errors="coerce").dropna()
    assert (ts.max() - ts.min()).days >= 12 * 7 - 7
    assert demo["channel"].nunique() >= 4
    for col in ["timestamp", "channel", "order_id", "customer_id", "rating", "order_value", "carrier", "warehouse",
                "payment_provider", "product_category", "true_root_cause"]:
        assert col in demo.columns


def test_every_root_cause_has_ground_truth(demo):
    assert set(load_taxonomy().keys) == set(demo["true_root_cause"].unique())


def test_hand_written_base_texts():
    folder = resources.files("insight.demo").joinpath("texts")
    texts = [json.loads(line)["text"] for f in folder.iterdir() if f.name.endswith(".jsonl")
             for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(set(t.lower() for t in texts)) >= 600


def test_messy_like_real_exports(demo):
    text = demo["text"].fillna("")
    assert text.str.contains(r"@example\.").sum() > 10  # e-mail addresses typed by customers
    assert text.str.contains(r"\b4\d{3} ?\d{4} ?\d{4} ?\d{4}\b").sum() > 3  # card numbers
    assert text.str.lower().isin(["n/a", "na", "-", "none", "no comment"]).sum() > 0
    assert text.str.contains(r"\b(?:pedido|Bestellung|commande)\b").sum() > 0  # non-English lines
    assert demo.duplicated(["text", "customer_id"]).sum() > 10  # resubmitted messages


def test_incidents_are_in_the_data(demo):
    demo = demo.assign(week=(pd.to_datetime(demo["timestamp"], utc=True, errors="coerce")
                             - pd.Timestamp("2026-06-01", tz="UTC")).dt.days // 7 + 1)
    for spec in INCIDENTS.values():
        hit = demo[(demo[spec["column"]] == spec["value"]) & (demo["true_root_cause"] == spec["root_cause"])]
        per_week = hit.groupby("week").size()
        inside = per_week.reindex(spec["weeks"]).mean()
        outside = per_week.drop(list(spec["weeks"]), errors="ignore").mean()
        assert inside > 4 * outside


def test_build_is_reproducible():
    """The shipped file is exactly what the seeded generator writes."""
    assert build().to_csv(index=False) == demo_path().read_text(encoding="utf-8")
