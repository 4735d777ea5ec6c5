"""Issue 16: the PII misses found by writing PII without reading the detectors, and evasion by invisible
characters. Each case must come out with no digit run or address left that identifies the customer, and the
controls (prices, dates, versions, tracking numbers) must stay as they are."""

from __future__ import annotations

import re

import pytest

from insight.clean.pii import redact_pii
from insight.config import load_config

ORDER_PATTERNS = load_config().clean.pii.order_number_patterns

MISSED = [  # (text, placeholder that must appear, what must not survive)
    ("card no.4111111111111111 was charged", "CARD", "4111111111111111"),
    ("card#4111111111111111 charged", "CARD", "4111111111111111"),
    ("visa-4111 1111 1111 1111 charged", "CARD", "4111 1111"),
    ("card 4111.1111.1111.1111 charged", "CARD", "4111.1111"),
    ("mail me j.smith @ outlook.com please", "EMAIL", "j.smith"),
    ("write to anna@müller.de now", "EMAIL", "anna"),
    ("call 06.12.34.56.78 tomorrow", "PHONE", "34.56.78"),
    ("order 123-4567890-1234567 missing", "ORDER", "4567890"),
    ("order ORD-2023-556677 missing", "ORDER", "556677"),
    ("send it to PO Box 1234, Springfield", "ADDRESS", "1234"),
    ("P.O. Box 55 Leeds", "ADDRESS", "Box 55"),
]
EVASION = [  # zero-width spaces, joiners, word joiners, BOMs and soft hyphens inside the number or address
    ("card 4111\u200b1111\u200b1111\u200b1111", "CARD"),
    ("card 41111111\u200b11111111", "CARD"),
    ("mail jo\u200b@example.com", "EMAIL"),
    ("mail jo@exa\u200dmple.com", "EMAIL"),
    ("iban DE89\u200b3704 0044 0532 0130 00", "IBAN"),
    ("call +44\u00ad7700\u00ad900123", "PHONE"),
    ("call +44\u20607700 900123", "PHONE"),
    ("card \ufeff4111 1111 1111 1111", "CARD"),
]
CONTROLS = [
    "paid $4111.11 for two", "version 4.1.1.1 broke it", "on 06.12.2024 it arrived", "tracking 4111111111111111 stuck",
    "price went from 1,299 to 1,499", "sku-4111-1111 missing", "Box 3 of 4 was damaged",
]


@pytest.mark.parametrize("text, tag, secret", MISSED)
def test_formats_that_were_missed(text, tag, secret):
    out, found = redact_pii(text, ORDER_PATTERNS)
    assert found[tag] >= 1 and f"[{tag}]" in out, out
    assert secret not in out


@pytest.mark.parametrize("text, tag", EVASION)
def test_invisible_characters_do_not_hide_pii(text, tag):
    out, found = redact_pii(text, ORDER_PATTERNS)
    assert found[tag] >= 1, out
    assert not re.search(r"\d{4}", out.replace(f"[{tag}]", "")), out


@pytest.mark.parametrize("text", CONTROLS)
def test_numbers_that_are_not_pii_stay(text):
    out, found = redact_pii(text, ORDER_PATTERNS)
    assert not found, (out, dict(found))
    assert out == text


def test_truncation_never_leaves_part_of_a_card_number():
    """Regression (issue 16): truncation at clean.max_chars ran before redaction, so a card number across the cut
    left its first digits in the stored text."""
    from insight.clean import prepare_texts

    cfg = load_config().clean.model_copy(update={"max_chars": 60})
    for shift in range(0, 20):
        text = "x" * (50 + shift) + " card 4111 1111 1111 1111 was charged twice, please help"
        (out,), _ = prepare_texts([text], cfg)
        assert not re.search(r"\d{2}", out), (shift, out)
        assert out.endswith("[TRUNCATED]") and not re.search(r"\[[A-Z]*\s\[TRUNCATED\]$", out)
