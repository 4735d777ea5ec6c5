"""PII redaction for the clean stage: typed placeholders ([EMAIL], [PHONE], [CARD], [IBAN], [ORDER]...).

Runs before anything is embedded, cached or stored. Part of the clean stage (only ``clean`` imports it).
Each detector trades a little recall for precision with a validity check where one exists (Luhn for cards,
mod-97 for IBANs), because a false [CARD] destroys the meaning of a complaint about an amount or a date.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from .config import PIIConfig

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_PHONE = re.compile(r"(?<![\w/])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){2,4}(?![\w/])")


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def redact_pii(text: str, order_patterns: Iterable[re.Pattern[str]] = ()) -> tuple[str, Counter[str]]:
    """Replace PII with typed placeholders; the counter says what was found, for the redaction report."""
    found: Counter[str] = Counter()

    def sub(pattern: re.Pattern[str], tag: str, s: str, check=None) -> str:
        def repl(m: re.Match[str]) -> str:
            if check is not None and not check(m.group(0)):
                return m.group(0)
            found[tag] += 1
            return f"[{tag}]"

        return pattern.sub(repl, s)

    s = sub(_EMAIL, "EMAIL", text)
    s = sub(_IBAN, "IBAN", s)
    s = sub(_CARD, "CARD", s, lambda m: _luhn(re.sub(r"\D", "", m)))
    for pattern in order_patterns:
        s = sub(pattern, "ORDER", s)
    s = sub(_PHONE, "PHONE", s, lambda m: 7 <= len(re.sub(r"\D", "", m)) <= 15 and not _looks_like_date(m))
    return s, found


def _looks_like_date(s: str) -> bool:
    return bool(re.fullmatch(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}", s.strip()))




class Redactor:
    """Compiled detectors for one config; ``redact(text)`` returns the redacted text and counts by type."""

    def __init__(self, order_patterns: Iterable[str] = ()) -> None:
        self.order_patterns = [re.compile(p) for p in order_patterns]

    @classmethod
    def from_config(cls, cfg: PIIConfig) -> Redactor:
        return cls(cfg.order_number_patterns)

    def redact(self, text: str) -> tuple[str, Counter[str]]:
        return redact_pii(text, self.order_patterns)
