"""Offline language identification for the clean stage (lingua, restricted to the configured languages).

The packaged embedding model is English; knowing each item's language lets the pipeline route the rest per
config. Very short texts ("ok", "super") carry too little signal and are marked ``und`` (undetermined) rather
than guessed. Plain-ASCII texts with common English function words skip the detector: that is most feedback,
and it keeps the clean stage fast.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

UNDETERMINED = "und"
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ENGLISH_HINTS = frozenset(
    "the and is was are were my i you your it its this that not no but with for of to in on at have has had "
    "been be will would can could should please what when where why how very got get did didn't don't it's "
    "i'm i've they them we our an as if or from still never again".split()
)
# romanised Hindi ("Hinglish"), common in Indian e-commerce feedback: lingua has no Latin-script Hindi
_HINGLISH_HINTS = frozenset(
    "hai h hain nahi nhi nahin kar karo kiya kiye ka ki ke ko mera meri mere mujhe bahut bhut bohot achha acha "
    "accha achchha bhi tha thi se ho kya aap apne apse baat koi abhi tak wala vale wale gaya gya diya raha "
    "rha hua hue lekin par pe sab kuch kuchh jaldi".split()
)


@lru_cache(maxsize=4)
def _lingua(languages: tuple[str, ...]):
    """One lingua detector per language set and process (building it loads its models)."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
    return LanguageDetectorBuilder.from_languages(*langs).with_low_accuracy_mode().build()


class LanguageDetector:
    """``detect(texts)`` -> ISO 639-1 codes (or ``und``); lingua is loaded on first use."""

    def __init__(self, languages: Sequence[str] = ("en", "es", "de", "fr", "pt", "it", "nl"),
                 min_words: int = 3, min_confidence: float = 0.9) -> None:
        self.languages = list(languages)
        self.min_words = min_words
        self.min_confidence = min_confidence
        self._detector = None

    def _load(self):
        if self._detector is None:
            self._detector = _lingua(tuple(self.languages))
        return self._detector

    def detect(self, texts: Sequence[str]) -> list[str]:
        """Codes per text; lingua only decides texts of ``min_words`` or more, and only when confident."""
        out = [UNDETERMINED] * len(texts)
        todo: list[int] = []
        for i, t in enumerate(texts):
            words = _WORD.findall(t.lower())
            if len(words) < self.min_words:
                continue
            hinglish = sum(w in _HINGLISH_HINTS for w in words)
            english = sum(w in _ENGLISH_HINTS for w in words)
            if t.isascii() and hinglish >= 2 and hinglish >= english:
                out[i] = "hi"
            elif t.isascii() and english >= 1 and "en" in self.languages:
                out[i] = "en"
            else:
                todo.append(i)
        if todo and len(self.languages) > 1:
            detector = self._load()
            values = detector.compute_language_confidence_values_in_parallel([texts[i] for i in todo])
            for i, conf in zip(todo, values):
                if conf and conf[0].value >= self.min_confidence:
                    out[i] = conf[0].language.iso_code_639_1.name.lower()
        elif todo:
            for i in todo:
                out[i] = self.languages[0]
        return out
