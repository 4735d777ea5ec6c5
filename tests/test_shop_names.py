"""The shop's own name is not what went wrong. Regression (real CSAT remarks, 28,742): 8 % of the remarks name the
shop ("Shopzilla"); four themes formed around the name (965, 538, 374 and 658 items: "Shopzilla and experience",
"Shopzilla customer", "Shopzilla and product"), two of them among the top four actions, one of those tagged
delivery while its evidence was fake products. Like an @handle, the name says who was addressed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insight import schema as S
from insight.clean import addressee_names, model_inputs, model_text, model_texts

TOPICS = {
    "delivery": ["my parcel is late again", "the courier never came", "package lost in transit",
                 "delivery was two weeks late", "tracking shows no movement"],
    "refund": ["still waiting for my refund", "refund not received after return", "return label never arrived",
               "money not credited back", "they refused my return"],
    "payment": ["card payment failed twice", "charged twice for one order", "payment declined at checkout",
                "upi payment stuck", "wallet balance not applied"],
    "support": ["nobody answers the phone", "agent disconnected my call", "chat support is useless",
                "waited an hour on hold", "no reply to my email"],
    "product": ["the shirt tore after one wash", "zipper broke on day one", "colour faded quickly",
                "wrong size sent", "screen cracked on arrival"],
}


def remarks(n: int = 400, named=lambda k, topic: k % 8 == 0) -> list[str]:
    """Complaints on five subjects; every eighth names the shop, whatever its subject (``named``: which do). A
    carrier's name and an acronym are written as proper nouns too, but each on one subject."""
    texts = []
    for k in range(n):
        topic = list(TOPICS)[k % 5]
        text = TOPICS[topic][(k // 5) % 5]
        texts.append(f"{text} at Shopzilla" if named(k, topic) else text)
    for k in range(30):
        texts.append(f"Parcelo {TOPICS['delivery'][k % 5]}")
        texts.append(f"the ATM {TOPICS['payment'][k % 5]}")
    return texts


def test_the_shops_name_is_found_and_a_carriers_name_and_an_acronym_are_kept():
    assert addressee_names(remarks()) == ("shopzilla",)


def test_a_large_batch_is_judged_on_a_sample():
    texts = remarks(2000)
    assert addressee_names(texts, sample=300) == addressee_names(texts) == ("shopzilla",)
    assert addressee_names(texts, sample=10) == ()  # a sample too small to tell


def test_a_name_on_one_subject_is_kept():
    # the same share of texts, but only in delivery complaints: it says something about the problem
    assert "shopzilla" not in addressee_names(remarks(named=lambda k, topic: topic == "delivery" and k % 3 < 2))


def test_a_batch_too_small_to_tell_keeps_every_word():
    assert addressee_names([f"{t} at Shopzilla" for t in TOPICS["delivery"]]) == ()
    assert addressee_names([]) == ()


@pytest.mark.parametrize("raw,expected", [
    ("refund not received at Shopzilla", "refund not received at"),
    ("Shopzilla's support never answers", "support never answers"),
    ("SHOPZILLA lost my parcel, shopzilla please help", "lost my parcel, please help"),
    ("Shopzillas and Shopzillaplus are other words", "Shopzillas and Shopzillaplus are other words"),
    ("mail them @Shopzilla.com with my ID", "mail them @Shopzilla.com with my ID"),  # an address stays whole
    ("Shopzilla", "Shopzilla"),  # nothing left: keep what the customer wrote
])
def test_model_text_leaves_out_the_names(raw, expected):
    assert model_text(raw, ("shopzilla",)) == expected
    assert model_text(raw) == raw  # no names given: nothing left out


def test_evaluation_reads_what_the_pipeline_reads(fast_config):
    texts = remarks()
    assert model_inputs(texts, fast_config.clean) == model_texts(texts, ("shopzilla",))
    assert model_inputs(texts[:3], fast_config.clean, names=()) == texts[:3]


def _frame() -> pd.DataFrame:
    late = ["my parcel is late again", "parcel still not delivered, very late", "the courier is late with my parcel"]
    refund = ["no refund yet for my return", "refund not received after return", "still waiting on my refund"]
    rows = []
    for texts in (late, refund):
        for text in texts:
            for written in [f"{text} at Shopzilla", f"Shopzilla {text}", f"so {text} at Shopzilla",
                            f"but Shopzilla, {text}", text, f"so {text}"]:
                rows.append({"id": f"{len(rows)}", "text": written, "customer_id": f"c{len(rows)}",
                             "timestamp": "2026-03-02T10:00:00Z"})
    return pd.DataFrame(rows)


def test_themes_group_by_problem_not_by_the_shops_name(tiny_config):
    from insight.flow import run

    cfg = tiny_config.model_copy(update={"clean": tiny_config.clean.model_copy(update={"dedupe_on": []})})
    result = run(_frame(), cfg)
    assert result.manifest["names_left_out"] == ["shopzilla"]
    stored = result.items[result.items[S.STATUS] == S.STORED]
    assert result.items[S.CLEAN_TEXT].str.contains("Shopzilla").sum() == 24  # the text kept is what was written
    # the same words, with the shop's name and without, are about one problem: the same theme
    problem = stored[S.CLEAN_TEXT].str.replace(r"\b(?:so|but|at)\b|Shopzilla|,", "", regex=True)
    problem = problem.str.split().str.join(" ")
    assert problem.nunique() == 6 and (stored.groupby(problem)[S.THEME].nunique() == 1).all()
    labels = " ".join(result.themes["label"]) + " ".join(" ".join(k) for k in result.themes["keywords"])
    assert "shopzilla" not in labels.lower()


def test_erasure_forgets_the_vector_read_without_the_name(tiny_config):
    from insight.embed import EmbeddingCache, text_key
    from insight.flow import run_and_store
    from insight.operations import erase_customer

    cfg = tiny_config.model_copy(update={"embed": tiny_config.embed.model_copy(update={"cache": True}),
                                         "clean": tiny_config.clean.model_copy(update={"dedupe_on": []})})
    frame = _frame()
    text = "my order arrived broken, Shopzilla never replied"
    frame = pd.concat([frame, pd.DataFrame([{"id": "gone-1", "text": text, "customer_id": "gone",
                                             "timestamp": "2026-03-02T10:00:00Z"}])], ignore_index=True)
    result = run_and_store(frame, cfg)
    assert result.manifest["names_left_out"] == result.summary()["names_left_out"] == ["shopzilla"]
    key = text_key(model_text(text, ("shopzilla",)))
    cached = lambda: any(key in c.get_many([key]) for c in EmbeddingCache.every(cfg.home_path / "cache"))  # noqa: E731
    assert cached()
    erase_customer("gone", cfg)
    assert not cached()


def test_weekly_partitions_read_the_texts_without_the_names(weekly_config):
    from insight import themes
    from insight.config import load_taxonomy
    from insight.weekly import VECTOR, _job, classify_partition

    job = _job(weekly_config, load_taxonomy(weekly_config.tag.taxonomy), pd.DataFrame(columns=["text", "label"]),
               themes.Registry(), names=("shopzilla",))
    frame = pd.DataFrame({S.ID: ["a", "b"], S.TEXT: ["my parcel is late at Shopzilla", "my parcel is late at"]})
    out = classify_partition(frame, {**job, "assign": True})
    assert np.allclose(out[VECTOR][0], out[VECTOR][1])


@pytest.mark.ui
def test_the_overview_says_which_names_were_left_out(tiny_config):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from insight.flow import run_and_store

    cfg = tiny_config.model_copy(update={"clean": tiny_config.clean.model_copy(update={"dedupe_on": []})})
    run_and_store(_frame(), cfg)  # the app reads the same home (the ``home`` fixture's environment)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "ui" / "overview.py"), default_timeout=60).run()
    assert not at.exception
    assert any("shop's own name: shopzilla" in c.value for c in at.caption), [c.value for c in at.caption]
