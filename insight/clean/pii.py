"""PII redaction for the clean stage: typed placeholders ([EMAIL], [PHONE], [CARD], [IBAN], [ORDER], [ADDRESS]).

Runs before anything is embedded, cached or stored. Street addresses live in ``addresses.py``, people's names
(optional, spaCy NER) in ``names.py``.
Each detector trades a little recall for precision with a validity check where one exists (Luhn for cards,
ISO 13616 mod-97 and the per-country length for IBANs, digit counts and a date check for phones), because a
false [CARD] or [PHONE] destroys the meaning of a complaint about an amount or a date.

Detectors run in a fixed order: e-mail, IBAN, card, order number, street address, phone. Each one works on the
output of the previous one, so a replaced span is never detected twice (placeholders hold no digit and no '@').
Cheap pre-checks keep the common case fast: no '@' / ' at ' skips the e-mail detectors, a text with no digit only
goes through the order patterns, and the digit-hungry detectors need at least 7 (IBAN, phone) or 13 (card) digits.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache

from ..config import PIIConfig
from .addresses import ADDRESS_PRECHECK, has_de_street, sub_address

PLACEHOLDERS = ("EMAIL", "PHONE", "CARD", "IBAN", "ORDER", "ADDRESS")

# ---------------------------------------------------------------- checksums


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check over a string of digits: every card number passes it."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# ISO 13616 registry lengths (SWIFT IBAN registry); other country codes are accepted at 15-34 characters.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}


def iban_ok(iban: str) -> bool:
    """ISO 13616 check: known length for the country (15-34 otherwise) and mod-97 of the rearranged number == 1."""
    s = iban.replace(" ", "").replace("-", "").upper()
    if not (15 <= len(s) <= 34) or not s.isalnum() or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    if len(s) != IBAN_LENGTHS.get(s[:2], len(s)):
        return False
    rearranged = s[4:] + s[:4]
    try:
        return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
    except ValueError:  # a non-ASCII alphanumeric
        return False


# ---------------------------------------------------------------- e-mail

# one space either side of the '@' is allowed ("j.smith @ outlook.com"), and internationalised domains
# ("anna@müller.de"): a label is letters or digits of any script, with inner hyphens
_EMAIL = re.compile(
    r"(?<![\w.%+'-])[\w][\w.%+'-]*[ ]?@[ ]?[^\W_](?:[\w-]*[^\W_])?"
    r"(?:\.[^\W_](?:[\w-]*[^\W_])?)*\.[^\W\d_]{2,24}\b"
)
# "john dot smith at gmail dot com", "jo.smith (at) example (dot) com", "jo [at] example.co.uk"
_AT_SEP = r"(?:\s*[(\[{<]\s*at\s*[)\]}>]\s*|\s+at\s+)"
_DOT_SEP = r"(?:\s*[(\[{<]\s*dot\s*[)\]}>]\s*|\s+dot\s+|\.)"
_TLDS = (
    r"com|net|org|edu|gov|mil|int|info|biz|io|co|me|us|uk|in|de|fr|es|it|nl|be|ch|se|no|dk|fi|ie|pl|pt|br|mx|ca|"
    r"au|nz|jp|cn|ru|za|sg|hk|ae|eu|app|dev|shop|store|online|email|example|test|invalid"
)
_OBF_EMAIL = re.compile(
    rf"(?<![\w.@+-])(?P<user>[A-Za-z0-9_%+-]+(?:{_DOT_SEP}[A-Za-z0-9_%+-]+){{0,3}}){_AT_SEP}"
    rf"(?P<domain>[A-Za-z0-9-]+(?:{_DOT_SEP}[A-Za-z0-9-]+){{0,3}}{_DOT_SEP}(?:{_TLDS}))\b",
    re.IGNORECASE,
)
_OBF_PRECHECK = re.compile(r"[\s(\[{<]at[\s)\]}>]", re.IGNORECASE)
_OBF_TLD = re.compile(rf"(?:\.|\bdot\s+|[(\[{{<]\s*dot\s*[)\]}}>]\s*)(?:{_TLDS})\b", re.IGNORECASE)
_BRACKET_AT = re.compile(r"[(\[{<]\s*at\s*[)\]}>]", re.IGNORECASE)
_MAIL_PROVIDERS = frozenset(
    "gmail googlemail yahoo ymail hotmail outlook live msn icloud me mac aol proton protonmail pm gmx web mail "
    "email yandex zoho rediffmail rediff fastmail tutanota hey".split()
)
_NOT_A_USER = frozenset(
    "i me my we us you he him she her it they them this that there here what who home work office shop store "
    "site website online look looked bought buy ordered order sent arrived delivered available sold is was be "
    "reply email mail write contact reach message support help team service them".split()
)


def _obfuscated_email_ok(m: re.Match[str]) -> bool:
    """An obfuscated address needs a strong sign: a bracketed (at), a handle-like user, a known mail domain or a
    mail word just before ("write me on sophie at example dot fr", not "I saw it cheaper at shopmart dot com")."""
    user, domain = m.group("user"), m.group("domain")
    if _BRACKET_AT.search(m.group(0)):
        return True
    user_l = user.lower()
    if user_l in _NOT_A_USER:
        return False
    handle_like = bool(re.search(r"[._%+\d-]|\sdot\s|[(\[{<]", user_l))
    first_label = re.split(r"\s*[(\[{<]?\s*dot\s*[)\]}>]?\s*|\.", domain.lower(), maxsplit=1)[0].strip()
    if handle_like or first_label in _MAIL_PROVIDERS:
        return True
    return bool(_MAIL_CUE.search(m.string, max(0, m.start() - 24), m.start()))


_MAIL_CUE = re.compile(
    r"(?i)\b(?:e-?mail(?:ed)?|mail(?:ed)?|write|contact|reach|send|sent|id|address|inbox)\b(?:\s+(?:me|us|to|on|at))*"
    r"[\s:,-]*$"
)


# ---------------------------------------------------------------- IBAN

_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ -]?[A-Za-z0-9])")


@lru_cache(maxsize=64)
def _iban_body(n: int) -> re.Pattern[str]:
    # n more alphanumerics, each optionally after one space or dash (groups of 4 or none), then a boundary
    return re.compile(rf"(?:[ -]?[A-Za-z0-9]){{{n}}}(?![A-Za-z0-9])")


_IBAN_ANY_BODY = re.compile(r"(?:[ -]?[A-Z0-9]){11,30}(?![A-Za-z0-9])")


def _sub_iban(s: str, found: Counter[str]) -> str:
    out: list[str] = []
    pos = 0
    for m in _IBAN_START.finditer(s):
        if m.start() < pos:
            continue
        cc = m.group(0)[:2].upper()
        length = IBAN_LENGTHS.get(cc)
        if length is not None:
            body = _iban_body(length - 4).match(s, m.end())
        elif m.group(0)[:2].isupper():  # unregistered country: upper case only, as printed on statements
            body = _IBAN_ANY_BODY.match(s, m.end())
        else:
            body = None
        if body is None or not iban_ok(m.group(0) + body.group(0)):
            continue
        out.append(s[pos:m.start()])
        out.append("[IBAN]")
        found["IBAN"] += 1
        pos = body.end()
    if not out:
        return s
    out.append(s[pos:])
    return "".join(out)


# ---------------------------------------------------------------- cards

# 13-19 digits, bare or in groups of four (last group shorter), or Amex/Diners 4-6-4/5; not glued to other digits
# "card no.4111...", "card#4111...", "visa-4111 ..." are cards (a letter before the separator); "$4111.11" and
# "12.4111..." are not (a currency sign or a digit before it). Groups may be split by spaces, dashes or dots.
_CARD = re.compile(
    r"(?<![\w+/,$€£₹])(?<![\d$€£₹][#./ -])"
    r"(?:\d{13,19}|\d{4}(?P<csep>[ .-])\d{4}(?:(?P=csep)\d{4}){1,2}(?:(?P=csep)\d{1,3})?|\d{4}[ -]\d{6}[ -]\d{4,5})"
    r"(?![\w%]|[.,/ -]\d)"
)
_CARD_NOT = re.compile(r"(?i)\b(?:imei|tracking|track|awb|barcode|ean|isbn|upc|gtin|serial|s/n)\b[^\d]{0,12}$")


# ---------------------------------------------------------------- phones

# not glued to a word, another number, a currency sign or a '#' (order numbers, prices, versions)
_PH_LEFT = r"(?<![\w+#/.,:$€£₹@-])(?<!\d\s)"
_PH_RIGHT = r"(?![\w%°]|[.,:/-]\d)"
_PHONE = re.compile(
    "|".join([
        # international: +44 7700 900123, +1-555-013-4567, +44 (0)20 7946 0018, 0044 7700 900123
        rf"(?P<intl>(?<![\w+])\+|{_PH_LEFT}00)[1-9]\d{{0,2}}(?:[ .-]?\(0\))?"
        rf"(?:[ .-]?(?:\(\d{{1,5}}\)|\d{{1,5}})){{1,6}}{_PH_RIGHT}",
        # area code in brackets: (555) 013-4567, (020) 7946 0018, 1 (555) 013-4567
        rf"(?P<paren>{_PH_LEFT}(?:1[ .-]?)?\(\d{{2,5}}\))[ .-]?\d{{2,5}}(?:[ .-]?\d{{2,4}}){{0,2}}{_PH_RIGHT}",
        # North American 3-3-4 with one kind of separator: 555-013-4567, 555.013.4567, 1-555-013-4567
        rf"(?P<nanp>{_PH_LEFT}(?:1[ .-])?\d{{3}}(?P<nsep>[ .-])\d{{3}}(?P=nsep)\d{{4}}){_PH_RIGHT}",
        # national with trunk 0: 07700 900123, 020 7946 0018, 030 1234567, 01 23 45 67 89
        rf"(?P<trunk>{_PH_LEFT}0\d{{1,4}}(?:[ .-]?\d{{2,4}}){{1,4}}){_PH_RIGHT}",
        # Indian mobile in 5-5 groups: 98765 43210, 98765-43210
        rf"(?P<mobile>{_PH_LEFT}[6-9]\d{{4}}[ -]\d{{5}}){_PH_RIGHT}",
        # anything else phone-shaped (7-12 digits, bare, grouped or after a bare country code: 91-9876543210);
        # kept only next to a phone word
        rf"(?P<other>{_PH_LEFT}(?:(?:\d{{1,4}}[ .-])?\d{{7,12}}|\d{{2,5}}(?:[ .-]\d{{2,5}}){{1,4}})){_PH_RIGHT}",
    ])
)
_PHONE_PRECHECK = re.compile(r"\d(?:[ .()-]{0,2}\d){6}")
# five pairs with one separator (06.12.34.56.78, 01 23 45 67 89): a phone, though it starts like a date
_PAIRS = re.compile(r"0\d(?P<psep>[ .-])\d{2}(?:(?P=psep)\d{2}){3}")
_DATE_LIKE = re.compile(
    r"\b(?:\d{1,2}([./-])\d{1,2}\1(?:19|20)?\d{2}|(?:19|20)\d{2}([./-])\d{1,2}\2\d{1,2})\b"
)
_PHONE_WORD = re.compile(
    # a [PHONE] already found counts as a cue: "old number 9123456780, new one is 9123456781" (second pass)
    r"(?i)\[PHONE\]|(?<!\[)\b(?:call(?:ed|ing|back)?|phone|ph|mobile|mob|cell(?:phone)?|tel|telephone|"
    r"whats\s?app|wa|sms|text|txt|ring|dial|landline|helpline|hotline|fax|contact(?:\s+(?:no|number))?|reach\s+me|my\s+(?:no|number)|"
    r"(?:alternate|alternative|alt|other|new|registered)\s+(?:no|number)|number\s+is)\b"
)
_ID_WORD = re.compile(
    r"(?i)(?<!\[)\b(?:order|ord|tracking|track|awb|ref|reference|invoice|inv|ticket|case|complaint|sku|model|serial|"
    r"imei|account|a/c|acct|transaction|txn|utr|upi|pnr|booking|consignment|shipment|id|pin|pincode|otp|"
    r"coupon|voucher|batch|lot|receipt|rma|policy|iban|ifsc|gst|vat|tax)\b"
)
_UNIT_AFTER = re.compile(
    r"\s*(?:%|°|(?i:rs\b|inr|usd|eur|gbp|rupees?|dollars?|euros?|pounds?|bucks|kg|g|gm|grams?|lbs?|ml|l|mah|mm|cm|"
    r"km|m|mb|gb|tb|items?|pcs|pieces|units|times|days|hrs?|hours|mins?|minutes|secs?|seconds|x\b))"
)
_NUMBER_LABEL = re.compile(r"\b(?:number|num|no)\.?\s*(?:is\s*)?[:#=-]?\s*$", re.IGNORECASE)
_LABEL_GAP = re.compile(r"\s*(?:number|num|no\.?|nr|#|id)?\s*(?:is|was)?\s*[:#.=-]?\s*", re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(r"(?i)(?:\brs\.?|\binr|\busd|\beur|\bgbp|[$€£₹])\s*$")
_PHONE_WORD_AFTER = re.compile(
    r"(?i)[\s,.:;-]*(?:is\s+|was\s+)?(?:my\s+|our\s+)?(?:(?:mobile|phone|cell|contact|whats\s?app)\s+)?"
    r"(?:number|no\b|mobile|phone|whats\s?app|cell)"
)


def _phone_ok(m: re.Match[str]) -> bool:
    """Digit count by shape, no date inside, no currency or unit around, and the nearest cue is not an ID word.

    A well-formed shape (international, bracketed area code, 3-3-4, trunk 0, 5-5 mobile) stands on its own; any
    other 7-12 digit run is a phone only right after (or before) a phone word such as "call" or "mobile".
    """
    s, span = m.string, m.group(0)
    n = sum(c.isdigit() for c in span)
    if m.group("intl"):
        n -= (2 if span.startswith("00") else 0) + span.count("(0)")
        strong = 8 <= n <= 15
    elif m.group("paren"):
        strong = 8 <= n <= 12
    elif m.group("trunk"):
        strong = 10 <= n <= 11
    else:
        strong = m.group("nanp") is not None or m.group("mobile") is not None
    if not strong and not 7 <= n <= 12:
        return False
    if _DATE_LIKE.search(span) and not _PAIRS.fullmatch(span):
        return False
    before = s[max(0, m.start() - 32):m.start()]
    if _CURRENCY_BEFORE.search(before) or _UNIT_AFTER.match(s, m.end()):
        return False
    if strong and m.group("intl"):
        return True
    last_phone = max((p.end() for p in _PHONE_WORD.finditer(before)), default=-1)
    last_id = max((p.end() for p in _ID_WORD.finditer(before)), default=-1)
    if strong:
        # a phone-shaped number is vetoed only by an ID word that labels it: "tracking number 0123456789"
        return last_id <= last_phone or not _LABEL_GAP.fullmatch(before, last_id)
    # anything else needs a phone word, nearer than any ID word: "call me on 555 0134", not "call re ticket 1234567"
    if last_phone >= 0:
        return last_phone > last_id
    # "driver's number 8877665544": a bare "number" label counts for 10-12 digits when no ID word names it
    label = _NUMBER_LABEL.search(before)
    if label and n >= 10 and not _ID_WORD.search(before, max(0, label.start() - 20), label.start()):
        return True
    return last_id < 0 and bool(_PHONE_WORD_AFTER.match(s, m.end()))


# ---------------------------------------------------------------- the redactor

_DIGIT = re.compile(r"\d")


def _count_digits(s: str) -> int:
    return sum(map(s.count, "0123456789"))


def _sub(pattern: re.Pattern[str], tag: str, s: str, found: Counter[str],
         check: Callable[[re.Match[str]], bool] | None = None) -> str:
    def repl(m: re.Match[str]) -> str:
        if check is not None and not check(m):
            return m.group(0)
        found[tag] += 1
        return f"[{tag}]"

    return pattern.sub(repl, s)


def _card_ok(m: re.Match[str]) -> bool:
    s = m.string
    digits = re.sub(r"[ .-]", "", m.group(0))
    if not 13 <= len(digits) <= 19 or digits[0] in "079" or not luhn_ok(digits):
        return False
    return not _CARD_NOT.search(s[max(0, m.start() - 24):m.start()])


# zero-width space / non-joiner / joiner, word joiner, BOM and soft hyphen: invisible, and enough to split a card
# number or an e-mail address so no pattern sees it; they are removed before any detector runs
INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
_PO_BOX = re.compile(r"(?i)\bP\.?\s?O\.?\s?Box\s*#?\s*\d{1,7}\b")


def _redact(text: str, order_patterns: Iterable[re.Pattern[str]]) -> tuple[str, Counter[str]]:
    found: Counter[str] = Counter()
    if not text:
        return text, found
    s = INVISIBLE.sub("", text)
    if "@" in s:
        s = _sub(_EMAIL, "EMAIL", s, found)
    if _OBF_PRECHECK.search(s) and _OBF_TLD.search(s):
        s = _sub(_OBF_EMAIL, "EMAIL", s, found, _obfuscated_email_ok)
    n_digits = _count_digits(s) if _DIGIT.search(s) else 0
    if n_digits >= 7 and _IBAN_START.search(s):
        s = _sub_iban(s, found)
    if n_digits >= 13:
        s = _sub(_CARD, "CARD", s, found, _card_ok)
    for pattern in order_patterns:
        s = _sub(pattern, "ORDER", s, found)
    if n_digits and "box" in s.lower():
        s = _sub(_PO_BOX, "ADDRESS", s, found)
    if n_digits and (ADDRESS_PRECHECK.search(s) or has_de_street(s)):
        s = sub_address(s, found)
    if n_digits >= 7 and _PHONE_PRECHECK.search(s):
        # a number right after another number never starts a phone ("DE62 3704 0044 0532 ..."), so two phones
        # in a row ("07700 900123 07700 900124") take a second pass once the first one is a placeholder
        for _ in range(2):
            before = found["PHONE"]
            s = _sub(_PHONE, "PHONE", s, found, _phone_ok)
            if found["PHONE"] == before:
                break
    return s, found


@lru_cache(maxsize=32)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _compiled(order_patterns: Iterable[str | re.Pattern[str]]) -> list[re.Pattern[str]]:
    return [p if isinstance(p, re.Pattern) else _compile(p) for p in order_patterns]


def redact_pii(text: str, order_patterns: Iterable[str | re.Pattern[str]] = ()) -> tuple[str, Counter[str]]:
    """Replace PII with typed placeholders; the counter says what was found, for the redaction report."""
    return _redact(text, _compiled(order_patterns))


class Redactor:
    """Compiled detectors for one config; ``redact(text)`` returns the redacted text and counts by type."""

    def __init__(self, order_patterns: Iterable[str | re.Pattern[str]] = ()) -> None:
        self.order_patterns = _compiled(order_patterns)

    @classmethod
    def from_config(cls, cfg: PIIConfig) -> Redactor:
        return cls(cfg.order_number_patterns)

    def redact(self, text: str) -> tuple[str, Counter[str]]:
        return _redact(text, self.order_patterns)
