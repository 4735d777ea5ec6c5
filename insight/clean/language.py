"""Offline language identification for the clean stage (lingua, restricted to the configured languages), and an
English gloss of romanised Hindi for the models.

The packaged embedding model is English; knowing each item's language lets the pipeline route the rest per
config. Very short texts ("ok", "super") carry too little signal and are marked ``und`` (undetermined) rather
than guessed. Plain-ASCII texts with common English function words skip the detector: that is most feedback,
and it keeps the clean stage fast.

Romanised Hindi ("Hinglish": "mera paisa wapas karo", "product kharab hai") is common in Indian feedback, and the
English encoder reads it by its sound: on real CSAT remarks such complaints were closest to one another whatever
they said, and 75 of 110 went to delivery. ``gloss_hinglish`` writes their common words in English ("my money
back do", "product defective") for the models; the stored text, quotes and exports keep what was written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from ..lexicon import HINDI_DONE, HINDI_NEGATIONS

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


def _gloss(en: str, *words: str) -> dict[str, str]:
    return dict.fromkeys(" ".join(words).split(), en)


# Romanised Hindi words as customers spell them, and what the English encoder should read for each: words that
# carry grammar only read nothing. Everyday words of complaints about orders, money, goods and support. Only romanised
# Hindi texts are glossed, so "bat" is "baat" (talk) there; a spelling that is as often an English word in them
# ("to", "do", "bar", "kam", "me") is left out, and names of things ("product", "delivery", "refund", "call") are
# written in English already.
HINGLISH_GLOSS: dict[str, str] = {
    **_gloss("", "hai h he hain hein tha thi the ka ki ke ko se ne mein mai main par pe hi wala wali wale vale",
             "ho hota hoti hote hua hui hue huaa huva hone raha rahi rahe rha rhi rhe gaya gayi gya gye gaye",
             "ye yeh wo woh isne usne unhone maine mene humne jo liya liye lia jata jati jate ha hn"),
    **_gloss("my", "mera meri mere apna apni apne hamara hamari hamare"),
    **_gloss("me", "mujhe muje mujhse mujhko hamko humko hame hume"),
    **_gloss("you", "aap aapka aapki aapke apka apki apke ap apse aapse tum tumhara"),
    **_gloss("their", "uska uski uske unka unki unke"),
    **_gloss("and", "aur ar"), **_gloss("but", "lekin magar"), **_gloss("not", *HINDI_NEGATIONS, "nahii mat"),
    **_gloss("what", "kya"), **_gloss("any", "koi"), **_gloss("also", "bhi"), **_gloss("now", "abhi"),
    **_gloss("till", "tak tk"), **_gloss("when", "kab jab"), **_gloss("why", "kyu kyon kyun"),
    **_gloss("how", "kaise kese"), **_gloss("all", "sab sabhi"), **_gloss("some", "kuch kuchh"),
    **_gloss("very", "bahut bhut bohot bohat bahot bhot bht bauhat bhaut"), **_gloss("little", "thoda"),
    **_gloss("do", "kar karo kare karna karne kiya kiye kr kro krna krne kri kia karke krke karwaiye kijiye kigiye",
             "kariye kariya"),
    **_gloss("give", "dijiye dilao dilwa dena diya dia dedo"), **_gloss("take", "lena lene"),
    **_gloss("money", "paisa paise pese pesa rupay rupaye"), **_gloss("back", "wapas vapas bapas wapis vapis"),
    **_gloss("refund", "refand rifand"), **_gloss("return", "retan retern"),
    **_gloss("defective", "kharab khrab khrb karab"),
    **_gloss("useless", "bekar bekaar bakwas ghatiya gatiya faltu wahiyat"),
    **_gloss("received", "mil mila mili mile milta milti milna milega"),
    **_gloss("came", "aaya aya aayi ayi aaye aye"), **_gloss("quickly", "jaldi"), **_gloss("late", "der deri"),
    **_gloss("days", "din"), **_gloss("months", "mahine mahina"), **_gloss("today", "aaj"),
    **_gloss("talk", "baat bat baate baatein"), **_gloss("said", "bola bole bolte bolti kaha kehte"),
    **_gloss("listened", "suni suna sune suno sunai"), **_gloss("understand", "samjha samjho samajh"),
    **_gloss("goods", "saman samaan saaman"), **_gloss("wrong", "galat glat"), **_gloss("another", "dusra dusri"),
    **_gloss("right", "sahi"), **_gloss("fine", "thik theek"), **_gloss("help", "madad"),
    **_gloss("problem", "samasya"), **_gloss("solution", "samadhan"), **_gloss("troubled", "pareshan preshan"),
    **_gloss("fraud", "dhokha dhoka"), **_gloss("thieves", "chor lutere"), **_gloss("information", "jankari"),
    **_gloss("contact", "sampark"), **_gloss("date", "tareekh tarikh"), **_gloss("want", "chahiye chaiye chaye chahie"),
    **_gloss("send", "bhej bheja bhejo bhejiye bhejna"), **_gloss("shows", "dikha dikhata"),
    **_gloss("good", "accha acha achha achhe acche achi acchi achhi aacha aachhe achcha achchha"),
    **_gloss("thanks", "dhanyavaad dhanyavad dhanyawad shukriya"), **_gloss("felt", "laga lga lagta"),
    **_gloss("times", "baar"), **_gloss("full", "pura poora"), **_gloss("more", "jyda jyada zyada"),
    **_gloss("ever", "kabhi"), **_gloss("before", "pahle pehle phele"), **_gloss("last", "pichhle pichle"),
    **_gloss("every", "har"), **_gloss("thing", "cheez chiz"), **_gloss("year", "saal"),
    **_gloss("old", "purana purane purani"), **_gloss("if", "agar"), **_gloss("can", "sakta sakte sakti sake"),
    **_gloss("home", "ghar"), **_gloss("place", "jagah"), **_gloss("sad", "dukh"), **_gloss("name", "naam"),
    **_gloss("cut", "kaat kat kaata kati"), **_gloss("work", "kaam"), **_gloss("absolutely", "bilkul"),
    **_gloss("broken", "toot tuta tuti tooti toota tut"), **_gloss("week", "hafte hafta"),
    **_gloss("trouble", "dikkat"), **_gloss("complaint", "shikayat"), **_gloss("reply", "jawab jawaab"),
    **_gloss("time", "samay waqt"), **_gloss("reached", "pahuncha pahunchi pohocha pahunch"),
    **_gloss("working", "chal chalta chalti"), **_gloss("exchange", "badla badalna badal"),
    **_gloss("new", "naya nayi naye"), **_gloss("cheap", "sasta"), **_gloss("expensive", "mehenga mehnga"),
    **_gloss("price", "daam kimat keemat"), **_gloss("great", "badhiya badiya"), **_gloss("liked", "pasand psnd"),
    **_gloss("manner", "tarika tarike trike"), **_gloss("after", "baad"), **_gloss("with", "saath sath"),
    **_gloss("that", "vo"),
}
# glossed spellings that English feedback writes too (59,000 English texts of three real sets hold each of them):
# they gloss a text found to be romanised Hindi, but never help to find one
_ALSO_ENGLISH = frozenset("ap ar bat dia din ha har he hi hone kia main maine mat mein mila mile ne sake the tk tum "
                          "wo ye".split())
# what tells romanised Hindi: the common words above and every glossed spelling English does not write
_HINDI_WORDS = _HINGLISH_HINTS | (frozenset(HINGLISH_GLOSS) - _ALSO_ENGLISH)
# a fix told in the perfective or future ("problem solve kar di", "solve ho jayega"): glossed word by word it would
# read "solve do give", an open request, so such thanks looked like complaints
_SOLVED = re.compile(rf"(?i)\b((?:re)?solve)\s+(?:{HINDI_DONE})\b")
_WILL_BE_SOLVED = re.compile(r"(?i)\b((?:re)?solve)\s+(?:ho\s*)?(?:jayega|jaega|jayegi|jaegi|jaayega|jayenge)\b")
_GLOSSED = re.compile(r"(?i)\b(?:" + "|".join(sorted(HINGLISH_GLOSS, key=len, reverse=True)) + r")\b")
_SPACES = re.compile(r"\s{2,}")


def is_hinglish(text: str, words: Sequence[str] | None = None) -> bool:
    """Whether ``text`` is romanised Hindi: Latin letters only (punctuation may be curly), two or more Hindi words
    (``_HINDI_WORDS``), and no fewer of them than of common English words ("refund nahi mila" is; "Good taking
    but the return was not picked up" is not). ``words``: the lower-cased text's words, when the caller has them."""
    if not text.isascii() and any(c.isalpha() and not c.isascii() for c in text):
        return False
    words = _WORD.findall(text.lower()) if words is None else words
    hinglish = sum(w in _HINDI_WORDS for w in words)
    return hinglish >= 2 and hinglish >= sum(w in _ENGLISH_HINTS for w in words)


def gloss_hinglish(text: str) -> str:
    """``text`` with its romanised Hindi words in English (``HINGLISH_GLOSS``) where it is romanised Hindi
    (``is_hinglish``); any other text as it is. What the customer wrote stays in the stored text; this is what the
    models read ("mera paisa wapas karo" -> "my money back do")."""
    if not is_hinglish(text):
        return text
    told = _WILL_BE_SOLVED.sub(lambda m: f"will be {m.group(1).lower()}d", _SOLVED.sub(r"\1d", text))
    glossed = _GLOSSED.sub(lambda m: HINGLISH_GLOSS[m.group(0).lower()], told)
    return _SPACES.sub(" ", glossed).strip() or text


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
            if is_hinglish(t, words):
                out[i] = "hi"
            elif t.isascii() and any(w in _ENGLISH_HINTS for w in words) and "en" in self.languages:
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
