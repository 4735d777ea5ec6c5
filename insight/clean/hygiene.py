"""Text hygiene: normalisation, the non-actionable rules (empty answers, praise only, sentiment without a subject,
auto-replies), and the text models read (``model_text``: no handles, links, hashtag marks or emoji).

A non-actionable text is kept and counted with its reason; it simply cannot lead to an action.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from .. import schema as S
from ..lexicon import DISPLEASURE, PRAISE
from .language import gloss_hinglish

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\ufeff]")
_WS = re.compile(r"\s+")
_SIGNATURES = re.compile(
    r"(?:\bsent from my (?:iphone|ipad|android|samsung|galaxy|phone|mobile)[^.\n]*|"
    r"\bget outlook for (?:ios|android)\b)",
    re.IGNORECASE,
)


# UTF-8 read as Windows-1252 or Latin-1 ("didnâ€™t", "cafÃ©"): common in exports that passed through Excel. One
# character's bytes became a lead character (Â-ô) and one to three continuation characters: bytes 0x80-0xBF as
# Windows-1252 shows them
_CONTINUATION = "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014" \
                "\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
_MOJIBAKE = re.compile(f"[\u00c2-\u00f4][{_CONTINUATION}]{{1,3}}")


def _byte(ch: str) -> int | None:
    """The byte a Windows-1252 (or, for its five holes such as 0x9D, Latin-1) reader turned into ``ch``."""
    try:
        return ch.encode("cp1252")[0]
    except UnicodeEncodeError:
        return ord(ch) if ord(ch) < 256 else None


def _decoded(m: re.Match[str]) -> str:
    raw = [_byte(ch) for ch in m.group(0)]
    if None in raw:
        return m.group(0)
    try:
        fixed = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return m.group(0)
    return fixed if len(fixed) == 1 else m.group(0)


def repair_mojibake(text: str) -> str:
    """``text`` with each character that was UTF-8 read as Windows-1252 or Latin-1 decoded right ("didnâ€™t" ->
    "didn’t"), one character at a time, so correct characters beside it ("café") stay as they are."""
    return _MOJIBAKE.sub(_decoded, text) if _MOJIBAKE.search(text) else text


def encoding_problem(text: object) -> str | None:
    """``encoding_repaired`` where mojibake was repaired, ``undecodable_bytes`` where bytes could not be decoded
    at all (U+FFFD stands in for them), else None."""
    if not isinstance(text, str):
        return None
    if "\ufffd" in text:
        return "undecodable_bytes"
    return "encoding_repaired" if repair_mojibake(text) != text else None


def normalise(text: object) -> str:
    """Mojibake repaired, NFKC, no control characters, trailing mail-client signatures removed, whitespace
    collapsed."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ""
    s = unicodedata.normalize("NFKC", repair_mojibake(str(text)))
    s = _CONTROL.sub("", s)
    s = _SIGNATURES.sub("", s)
    return _WS.sub(" ", s).strip()


_EMPTY = {
    "", "n/a", "na", "n.a.", "none", "nil", "nothing", "no comment", "no comments", "-", "--", ".", "..", "...",
    "no", "nope", "ok", "okay", "k", "yes", "null", "test", "testing", "asdf", "nothing to say", "no feedback",
    "not applicable", "nothing else", "all good", "nothing to add", "?", "??", "???", "no thanks", "no thank you",
    "nothing more", "no issues", "no issue", "no problem", "no complaints", "none so far", "hi", "hello", "hey",
    "hi there", "hello there", "hey there", "hey hi", "hii", "hiii", "helo",
}
# Praise-only feedback is made of these words and nothing else ("very good service thank you sir"). Any other
# word - a product, a problem, a negation - makes the text actionable. One capitalised unknown word is allowed:
# it is usually the shop's or the agent's name ("Thanks Shopzilla", "thank you Priya").
_FILLER = frozenset(
    "very v so really too much all overall keep it up job work service services support experience person "
    "behaviour behavior response communication staff team agent executive sir madam mam maam you u for the "
    "your was is are a an and i am i'm im we me my with of to everything always app product products delivery "
    "customer care shopping store shop quality done well ok okay is was its it's this that by from our "
    "100 10 5 stars star highly recommend recommended again dear bro bhai ji help helped helping talking talk "
    "information info conversation skills skill voice one performance explanation guidance support".split()
)
_TOKENS = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
# Sentiment without a subject ("very bad", "worst service ever", "not good"): the customer is unhappy but names
# nothing to fix. Counted as general dissatisfaction; grown into themes they only make "bad / worst" themes.
# Words that name a subject (delivery, refund, product, quality, app...) are not here, so "bad delivery" stays.
_GENERIC = frozenset(
    "very v so really too much most extremely totally completely highly ever overall service services experience "
    "it's its it this that was is are a an the and i am i'm im me my you u your yours sir madam mam maam ji bhai "
    "bro dear all everything of such quite just with from by for at to in on about".split()
)
_NEGATORS = frozenset("not no nahi nhi never".split())
_BRAND_BEFORE = frozenset("with from by of at about for".split())


def _praise_only(text: str) -> bool:
    words = _TOKENS.findall(text)
    if not words or len(words) > 12:
        return False
    positive = unknown = 0
    for w in words:
        lw = w.lower()
        if lw in PRAISE:
            positive += 1
        elif lw not in _FILLER:
            if not w[0].isupper() or unknown:
                return False
            unknown += 1
    return positive > 0 and (unknown == 0 or len(words) >= 2)


_AUTO_REPLY = re.compile(
    r"\b(?:out of (?:the )?office|automatic reply|automated reply|auto-?reply|autoreply|do not reply to this|"
    r"this mailbox is not monitored|i am currently away)\b",
    re.IGNORECASE,
)
_HAS_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_STARS = re.compile(r"^\s*(?:\d(?:\.\d)?\s*(?:/\s*5)?\s*stars?|\*+)\s*[!.]*\s*$", re.IGNORECASE)


def _sentiment_only(text: str) -> bool:
    raw = _TOKENS.findall(text)
    words = [w.lower() for w in raw]
    if not words or len(words) > 8:
        return False
    displeased, unknown = False, 0
    for i, w in enumerate(words):
        if w in DISPLEASURE or (w in PRAISE and i and words[i - 1] in _NEGATORS):
            displeased = True
        elif w not in _GENERIC and w not in _NEGATORS:
            # one capitalised unknown word after "with", "from"... is the shop's name ("Worst experience with
            # Shopzilla"), not a subject ("worst Delivery" names one)
            if not raw[i][0].isupper() or unknown or not i or words[i - 1] not in _BRAND_BEFORE:
                return False
            unknown += 1
    return displeased


def non_actionable_reason(text: str, min_chars: int = 3) -> str | None:
    """Why this text cannot lead to an action (empty, placeholder answer, praise only...), or None."""
    low = text.lower().strip(" !.,")
    if low in _EMPTY:
        return "empty"
    if not _HAS_LETTER.search(text):
        return "no_words"  # emoji, punctuation or digits only
    if " ".join(re.sub(r"[^\w\s']", " ", low).split()) in _EMPTY:  # "hello?", "hey 🙏"
        return "empty"
    if _AUTO_REPLY.search(text):
        return "auto_reply"
    if _STARS.match(text) or _praise_only(text):
        return "praise_only"
    if _sentiment_only(text):
        return "general_dissatisfaction"  # unhappy, but names nothing to fix: counted, never a theme
    if len(low) < min_chars:
        return "too_short"
    return None


# ---------------------------------------------------------------- the text models read

_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
_HANDLE = re.compile(S.HANDLE_PATTERN)
_HASHTAG = re.compile(r"(?<![\w&#])#([^\W\d_][\w]*)")
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}", re.IGNORECASE)  # "sooooo" -> "soo", "gooood" -> "good"
# emoji and pictographs (and their joiners and variation selectors): a sentiment cue that polarity reads from the
# stored text, but noise to keywords and labels, and [UNK] to the embedder
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0E\uFE0F\u200D\U000E0020-\U000E007F]+")


def model_text(text: str, names: Sequence[str] = ()) -> str:
    """The text embedders, keyword matchers and theme labels read: the customer's words without @handles, links,
    hashtag marks and emoji, with HTML entities decoded and elongations shortened ("sooooo" reads "soo"), and
    romanised Hindi glossed in English (``gloss_hinglish``: the encoder is English).

    A brand's handle says who was addressed, not what went wrong: left in, it pulls every tweet to that brand into
    one theme and names the theme after it. The stored text keeps all of it (evidence quotes show what was written).
    A text that is nothing but handles and links is kept as written. ``names``: the shop's own names
    (``addressee_names``), left out for the same reason as handles.
    """
    s = html.unescape(text) if "&" in text else text
    if "@" in s or "http" in s or "www." in s or "#" in s:
        s = _HASHTAG.sub(r"\1", _HANDLE.sub(" ", _URL.sub(" ", s)))
    s = _EMOJI.sub(" ", _ELONGATED.sub(r"\1\1", s))
    if names:
        s = _names_pattern(tuple(names)).sub(" ", s)
    s = gloss_hinglish(_WS.sub(" ", s).strip())
    return s or text


def model_texts(texts: Iterable[str], names: Sequence[str] = ()) -> list[str]:
    return [model_text(t, names) for t in texts]


@lru_cache(maxsize=32)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?i)(?<![\w@#])(?:{alternatives})(?:['’]s)?(?![\w])")


_NAME_WORD = re.compile(r"[^\W\d_][\w'’]*")


def addressee_names(texts: Sequence[str], min_share: float = 0.01, min_texts: int = 20, max_spread: float = 0.3,
                    sample: int = 50_000) -> tuple[str, ...]:
    """The shop's own names in a batch of feedback ("Shopzilla"): words that the models should not read.

    Customers name the shop they write to in every kind of complaint ("Shopzilla never refunded", "Shopzilla sent
    a fake product"). Left in, the name pulls those remarks together, so themes form around it ("Shopzilla and
    experience", 965 CSAT remarks) and it names them; it adds nothing to what went wrong, like an @handle. A name
    here is a word that:

    - is written as a proper noun: title case in 90 % of its uses outside all-capital texts, and capitalised in
      mid-sentence in 30 % (acronyms such as ATM or OTP are written in capitals, and are kept);
    - is in ``min_share`` of the texts and at least ``min_texts``;
    - is spread over every subject: the words its texts use are distributed like the batch's words (smoothed
      Kullback-Leibler divergence at most ``max_spread``). A carrier's or a product's name is a proper noun too,
      but its texts are about one subject (the demo's carrier Parcelo: 0.49; Banking77's ATM: 0.48-0.55), and it
      says something about the problem, so it stays. The CSAT remarks' shop name reads 0.10-0.18.

    ``texts``: the feedback as stored (each is read as ``model_text`` reads it). A batch of more than ``sample``
    texts is judged on a seeded sample of that many (a name in 1 % of the texts is in about 500 of them): a million
    texts would cost a minute. Returns the names in lower case, the most used first; none for a batch too small
    to tell.
    """
    texts = list(texts)
    if len(texts) > sample:
        texts = [texts[i] for i in sorted(np.random.default_rng(0).choice(len(texts), sample, replace=False))]
    texts = [t for t in model_texts(str(t) for t in texts) if not t.isupper()]  # all capitals: no case to read
    need = max(min_texts, min_share * len(texts))
    if len(texts) < need:
        return ()
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as stop

    joined = "\n".join(texts)
    # a name is capitalised in mid-sentence in 30 % of its uses, and used in ``need`` texts at least
    titled = Counter(m.lower() for m in _MID_TITLED.findall(joined))
    names = []
    for word in sorted((w for w, n in titled.items() if n >= 0.3 * need and len(w) >= 3 and w not in stop),
                       key=lambda w: (-titled[w], w)):
        find = re.compile(rf"(?i)(?<![\w'’]){re.escape(word)}(?![\w'’])")
        uses = list(find.finditer(joined))
        title = sum(m.group()[0].isupper() and not m.group().isupper() for m in uses)
        # capitalised after a word, not at a text's or a sentence's start
        mid = sum(m.group()[0].isupper() and _after_word(joined, m.start()) for m in uses)
        if title < 0.9 * len(uses) or mid < 0.3 * len(uses):
            continue
        holding = [t for t in texts if find.search(t)]
        if len(holding) < need:
            continue
        if _spread(holding, texts, word, stop) <= max_spread:
            names.append(word)
    return tuple(names)


_MID_TITLED = re.compile(r"[^\W_][,;:]?[ \t]+([^\W\d_a-z][^\W\dA-Z_]+)(?![\w'’])")


def _after_word(text: str, at: int) -> bool:
    """Whether the word at ``at`` follows another word of its sentence (not a text's or a sentence's start)."""
    return text[max(0, at - 20):at].rstrip(" \t")[-1:] not in ("", "\n", ".", "!", "?")


def _spread(holding: list[str], texts: list[str], word: str, stop: frozenset[str]) -> float:
    """How differently the texts that hold ``word`` use the other words from all ``texts``: smoothed KL divergence
    of their word counts (words used at least 5 times), 0 for the same mix of subjects."""
    overall = Counter(w for w in _NAME_WORD.findall("\n".join(texts).lower()) if w not in stop)
    vocab = [w for w, n in overall.items() if n >= 5 and w != word]
    within = Counter(_NAME_WORD.findall("\n".join(holding).lower()))
    p = np.array([within.get(w, 0) for w in vocab], dtype=float) + 0.5
    q = np.array([overall[w] for w in vocab], dtype=float) + 0.5
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(p * np.log(p / q)))
