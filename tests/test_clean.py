import re

import pandas as pd
import pytest

from insight import schema as S
from insight.clean import clean, finalise_duplicates, non_actionable_reason, normalise, redact_pii
from insight.config import CleanConfig, IngestConfig, load_config
from insight.ingest import map_columns, validate

ORDER = [re.compile(p) for p in load_config().clean.pii.order_number_patterns]


@pytest.mark.parametrize("text,tag", [
    ("mail me at anna.b+shop@example.co.uk please", "EMAIL"),
    ("call +44 7700 900123 after 5", "PHONE"),
    ("my number is (555) 013-4567", "PHONE"),
    ("card 4111 1111 1111 1111 was charged", "CARD"),
    ("card 4111111111111111 was charged", "CARD"),
    ("IBAN DE89 3704 0044 0532 0130 00 for the refund", "IBAN"),
    ("order #4481230 is late", "ORDER"),
    ("order number NW-4481230 is late", "ORDER"),
])
def test_pii_is_replaced_by_typed_placeholder(text, tag):
    out, found = redact_pii(text, ORDER)
    assert f"[{tag}]" in out and found[tag] == 1
    assert not re.search(r"\d{6,}", out.replace(" ", "")) or tag == "PHONE"


def test_card_needs_luhn_and_dates_are_not_phones():
    out, found = redact_pii("ref 1234 5678 9012 3456 on 2026-05-01", ORDER)
    assert "CARD" not in found and "PHONE" not in found
    assert "1234 5678 9012 3456" in out


@pytest.mark.parametrize("text,reason", [
    ("", "empty"), ("N/A", "empty"), ("no comment", "empty"), ("👍👍", "no_words"),
    ("Great service!", "praise_only"), ("very good", "praise_only"), ("5 stars", "praise_only"),
    ("I am out of office until Monday", "auto_reply"),
    # sentiment without a subject (issue 14): general dissatisfaction, never a theme of its own
    ("Very bad", "general_dissatisfaction"), ("worst service ever!!", "general_dissatisfaction"),
    ("not good", "general_dissatisfaction"), ("Pathetic experience", "general_dissatisfaction"),
    ("Very bad experience with Shopzilla", "general_dissatisfaction"),
])
def test_non_actionable(text, reason):
    assert non_actionable_reason(normalise(text)) == reason


@pytest.mark.parametrize("text", ["parcel late", "good product but the zip broke", "refund?", "bad delivery",
                                  "worst quality", "not good, refund not received", "worst Delivery",
                                  "Bad experience with Parcelo and Refunds"])
def test_actionable_is_kept(text):
    assert non_actionable_reason(normalise(text)) is None


def test_normalise_strips_signature_and_controls():
    assert normalise("  late\u200b parcel \n\nSent from my iPhone") == "late parcel"


def _cleaned(tiny_frame):
    df = validate(map_columns(tiny_frame, IngestConfig(columns={"item_id": "id"})), IngestConfig())
    out, report = clean(df, CleanConfig(pii=load_config().clean.pii, detect_languages=["en"]))
    return finalise_duplicates(out), report


def test_stage_accounts_for_every_row(tiny_frame):
    out, report = _cleaned(tiny_frame)
    assert len(out) == len(tiny_frame)
    assert set(out[S.STATUS]) <= set(S.STATUSES)
    by_id = dict(zip(out[S.ID], out[S.STATUS]))
    assert by_id["N1"] == by_id["N2"] == S.NON_ACTIONABLE
    assert by_id["D1"] == S.DUPLICATE and by_id["Q1"] == S.QUARANTINED
    assert out.loc[out[S.ID] == "D1", S.DUP_OF].item() == "L0"
    assert out.loc[out[S.ID] == "L0", S.DUP_COUNT].item() == 2
    assert report == {"EMAIL": 1, "PHONE": 1}


def test_raw_pii_never_survives(tiny_frame):
    out, _ = _cleaned(tiny_frame)
    blob = " ".join(map(str, out.to_numpy().ravel()))
    assert "jo.smith@example.com" not in blob and "7700 900123" not in blob


def test_same_text_other_customer_is_not_a_duplicate():
    raw = pd.DataFrame({"text": ["where is my parcel"] * 2, "customer_id": ["a", "b"],
                        "timestamp": ["2026-01-01", "2026-01-02"]})
    df = validate(map_columns(raw, IngestConfig()), IngestConfig())
    out, _ = clean(df, CleanConfig())
    assert (out[S.STATUS] == S.STORED).all()
