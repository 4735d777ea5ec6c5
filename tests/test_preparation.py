"""One text preparation for the pipeline, evaluation and training (regression: evaluation once skipped truncation
and name redaction, so a tagger could be measured on other text than the pipeline tags)."""

from __future__ import annotations

import json

import pandas as pd

from insight import schema as S
from insight.clean import model_texts, prepare_texts
from insight.config import load_taxonomy
from insight.evaluate import prepare
from insight.flow import read_and_clean
from insight.operations import train_tagger
from insight.tag import data_hash, taxonomy_training_set

LONG = "the parcel never came " * 400  # 8,800 characters: over clean.max_chars
TEXTS = [LONG, "refund please, mail me at jo.smith@example.com", "  Card\u200b declined   twice  ", "ok thanks",
         "@ShopCo my card was declined again https://t.co/x1"]


def test_evaluation_prepares_text_as_the_pipeline_cleans_it(fast_config):
    items, _ = read_and_clean(pd.DataFrame({"text": TEXTS}), fast_config)
    assert prepare(TEXTS, fast_config) == model_texts(items[S.CLEAN_TEXT])  # what the pipeline embeds and tags
    assert items[S.CLEAN_TEXT][0].endswith("[TRUNCATED]") and "[EMAIL]" in items[S.CLEAN_TEXT][1]
    assert prepare(TEXTS, fast_config)[4] == "my card was declined again" and "@ShopCo" in items[S.CLEAN_TEXT][4]


def test_training_prepares_text_as_the_pipeline_cleans_it(fast_config, tmp_path):
    labelled = pd.DataFrame({"text": TEXTS[:3] * 4 + TEXTS[4:] * 4,
                             "label": ["delivery", "returns_refunds", "payments"] * 4 + ["payments"] * 4})
    done = train_tagger(labelled, tmp_path / "m", fast_config)
    seeds, seed_labels = taxonomy_training_set(load_taxonomy())
    prepared = model_texts(prepare_texts(labelled["text"].tolist() + seeds, fast_config.clean)[0])
    meta = json.loads((tmp_path / "m" / "metadata.json").read_text())
    assert done["path"] == str(tmp_path / "m")
    assert meta["training_data_sha256"] == data_hash(prepared, labelled["label"].tolist() + seed_labels)
