"""Street addresses for the PII redactor: English, Romance and German styles, best effort.

An address has no checksum, so precision comes from shape (a house number, capitalised name words, a street
type) and from refusing numbers that count or measure ("size 9 Nike Court", "2 TB Hard Drive").
"""

from __future__ import annotations

import re
from collections import Counter

_STREET_TYPE = (
    r"(?i:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|parkway|pkwy|"
    r"terrace|terr|close|crescent|cres|square|sq|highway|hwy|circle|cir|mews|grove|gardens|alley|trail|"
    r"loop|marg|nagar|salai)"
)
_DIRECTION = r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?"
_NAME_WORD = r"(?:[A-Z][A-Za-z'’.-]*|\d{1,3}(?:st|nd|rd|th)|of|the|de|la|le|van|von|der|del)"
_UNIT = r"(?:Flat|Apt\.?|Apartment|Unit|Suite|Ste\.?|Room|Floor|House|Bldg\.?|Building)\s*#?\d{1,4}[A-Za-z]?"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"
_TAIL = (
    rf"(?:,?\s+{_UK_POSTCODE}\b|"
    rf",\s*[A-Z][A-Za-z]+(?:\s+[A-Z][A-Za-z]+){{0,2}}(?:,\s*|\s+)(?:[A-Z]{{2}}\s+\d{{5}}(?:-\d{{4}})?|{_UK_POSTCODE}|"
    rf"\d{{4,6}})\b)?"
)
# English-style "[Flat 3,] 221B Baker Street[, Apt 2][, Mountain View, CA 94043]" and Romance-style
# "12 Rue de la Paix[, 75002 Paris]", "7 Via Roma": both start at the house number (the lookbehind sits after the
# first digit so that the regex engine can skip ahead to digits)
_ADDRESS_NUM = re.compile(
    r"\d(?<![\w#.,/$€£₹-]\d)\d{0,4}[A-Za-z]?(?:[-/]\d{1,4})?\b(?:"
    rf",?\s+(?:{_NAME_WORD}\s+){{0,3}}[A-Z][A-Za-z'’.-]*\s+{_STREET_TYPE}\b{_DIRECTION}"
    rf"(?:,?\s+{_UNIT})?{_TAIL}"
    r"|(?:\s?(?:bis|ter))?,?\s+"
    # capitalised, as these are English words too ("25000 via UPI"); French "rue" is often written in lower case
    r"(?:[Rr]ue|Avenue|Boulevard|Bd|Place|Chemin|All[ée]e|Impasse|Quai|Route|Cours|Calle|Avenida|Via|Viale|"
    r"Piazza|Corso|Rua|Praça)\s+"
    r"(?:(?:de|du|des|la|le|del|della|di|da|do|dos|das)\s+|[ld]['’])*[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,2}"
    r"(?:,\s*\d{4,5}\s+[A-Z][\w'’-]+)?)"
)
# German-style "Hauptstraße 5[, 10115 Berlin]": found at the suffix, extended back to the start of the word
_ADDRESS_DE = re.compile(
    r"(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm)\s+\d{1,4}[a-z]?\b(?:,\s*\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+)?"
)
_DE_STEM = re.compile(r"(?<![\w-])[A-ZÄÖÜ][a-zäöüß]*$")
_UNIT_BEFORE = re.compile(rf"{_UNIT},?\s+$")
ADDRESS_PRECHECK = re.compile(r"\d[A-Za-z]?(?:[-/]\d{1,4})?,?\s+[A-Za-z]")
_DE_SUFFIXES = ("str", "weg", "platz", "allee", "gasse", "ring", "damm")


def has_de_street(s: str) -> bool:
    return any(x in s for x in _DE_SUFFIXES)


def sub_address(s: str, found: Counter[str]) -> str:
    spans: list[tuple[int, int]] = []
    for m in _ADDRESS_NUM.finditer(s):
        if _address_ok(s, m.start()):
            unit = _UNIT_BEFORE.search(s, max(0, m.start() - 24), m.start())
            spans.append((unit.start() if unit else m.start(), m.end()))
    if has_de_street(s):
        for m in _ADDRESS_DE.finditer(s):
            stem = _DE_STEM.search(s, max(0, m.start() - 40), m.start())
            if stem:
                spans.append((stem.start(), m.end()))
    if not spans:
        return s
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out += [s[pos:start], "[ADDRESS]"]
        found["ADDRESS"] += 1
        pos = end
    out.append(s[pos:])
    return "".join(out)


# "size 9 Nike Court", "2 TB Hard Drive", "waited 3 Days Way": a number that counts or measures, not a house
_NOT_HOUSE_BEFORE = re.compile(
    r"(?i)(?:\b(?:size|sizes|uk|us|eu|qty|quantity|pack|rated|model|version|ver|v|no|only|just|about|around|"
    r"approx|over|under|than|within|after|last|next|took|waited|spent|paid|bought|ordered|got|received|returned|"
    r"x|rs\.?|inr|usd|eur|gbp)|[$€£₹])\s*$"
)
_NOT_HOUSE_AFTER = re.compile(
    r"(?i)[A-Za-z]?,?\s+(?:tb|gb|mb|kb|ghz|mhz|mah|w|v|k|hd|hard|flash|ssd|hdd|usb|pack|pcs|piece|pieces|set|sets|"
    r"star|stars|year|years|month|months|week|weeks|day|days|hour|hours|times|items?|bottles?|boxes|pairs?)\b"
)


def _address_ok(s: str, head: int) -> bool:
    """The house number must not count or measure something: "size 9 Nike Court", "2 TB Hard Drive"."""
    if _NOT_HOUSE_BEFORE.search(s, max(0, head - 16), head):
        return False
    num = _LEADING_NUMBER.match(s, head)
    return not (num and _NOT_HOUSE_AFTER.match(s, num.end()))


_LEADING_NUMBER = re.compile(r"\d+")
