"""Clean feedback text before anything is embedded or stored.

Order matters and is fixed: normalise -> redact PII -> flag non-actionable -> exact dedupe. PII is removed
before dedupe and embedding so no e-mail address or card number reaches a vector, a cache or the store.
Nothing is deleted: duplicates point at their canonical item, noise keeps a reason code.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import numpy as np
import pandas as pd

from . import schema as S
from .config import CleanConfig
from .language import UNDETERMINED, LanguageDetector
from .pii import NameRedactor, Redactor

# ---------------------------------------------------------------- normalisation

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\ufeff]")
_WS = re.compile(r"\s+")
_SIGNATURES = re.compile(
    r"(?:\bsent from my (?:iphone|ipad|android|samsung|galaxy|phone|mobile)[^.\n]*|"
    r"\bget outlook for (?:ios|android)\b)",
    re.IGNORECASE,
)


def normalise(text: object) -> str:
    """NFKC, no control characters, trailing mail-client signatures removed, whitespace collapsed."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = _CONTROL.sub("", s)
    s = _SIGNATURES.sub("", s)
    return _WS.sub(" ", s).strip()


# ---------------------------------------------------------------- non-actionable

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
_POSITIVE = frozenset(
    "good great nice excellent awesome amazing perfect fine love loved lovely happy satisfied fantastic superb "
    "brilliant best wonderful cool super helpful polite kind friendly quick fast smooth easy gud gd nyc nic gr8 "
    "thanks thank thx ty tq tnx thankyou thanku thnx thnks appreciated appreciate outstanding excelent exellent "
    "awsome osm satisfactory supportive patient courteous 5star".split()
)
_FILLER = frozenset(
    "very v so really too much all overall keep it up job work service services support experience person "
    "behaviour behavior response communication staff team agent executive sir madam mam maam you u for the "
    "your was is are a an and i am i'm im we me my with of to everything always app product products delivery "
    "customer care shopping store shop quality done well ok okay is was its it's this that by from our "
    "100 10 5 stars star highly recommend recommended again dear bro bhai ji help helped helping talking talk "
    "information info conversation skills skill voice one performance explanation guidance support".split()
)
_TOKENS = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)


def _praise_only(text: str) -> bool:
    words = _TOKENS.findall(text)
    if not words or len(words) > 12:
        return False
    positive = unknown = 0
    for w in words:
        lw = w.lower()
        if lw in _POSITIVE:
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
    if len(low) < min_chars:
        return "too_short"
    return None


# ---------------------------------------------------------------- the stage

class CleanState:
    """What dedupe must remember across chunks of one run: canonical keys and the ids already seen."""

    def __init__(self) -> None:
        self.canonical: dict[str, str] = {}  # dedupe key -> canonical item id
        self.ids: dict[str, str] = {}  # item id -> its text key (an id seen twice is a repeated record)
        self.redactor: Redactor | None = None
        self.names: NameRedactor | None = None
        self.detector: LanguageDetector | None = None


def clean(df: pd.DataFrame, cfg: CleanConfig, state: CleanState | None = None
          ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Add clean (redacted) text, language, statuses and duplicate links; return the frame and the PII report.

    Call it once per chunk with the same ``state`` to stream a large export; ``finalise_duplicates`` then
    counts each canonical item's members over the whole run.
    """
    state = state or CleanState()
    if state.redactor is None:
        state.redactor = Redactor.from_config(cfg.pii)
        state.detector = LanguageDetector(cfg.detect_languages)
    out = df.copy()
    report: Counter[str] = Counter()
    texts: list[str] = []
    for raw in out[S.TEXT].tolist():
        t = normalise(raw)
        if len(t) > cfg.max_chars:
            t = t[: cfg.max_chars].rstrip() + " [TRUNCATED]"
        if cfg.pii.enabled:
            t, found = state.redactor.redact(t)
            report.update(found)
        texts.append(t)
    if cfg.pii.enabled and cfg.pii.names:
        state.names = state.names or NameRedactor()
        texts, found = state.names.redact_many(texts)
        report.update(found)
    if cfg.pii.keep_raw:
        out[S.RAW_TEXT] = out[S.TEXT].astype(object)
    out[S.CLEAN_TEXT] = pd.Series(texts, index=out.index, dtype=object)
    out[S.TEXT] = out[S.CLEAN_TEXT]  # the raw text is not kept: only the redacted one travels on

    status = out[S.STATUS].astype(object).where(out[S.STATUS].fillna("").astype(str) != "", None)
    reason = out[S.REASON].astype(object)
    open_ = status.isna().to_numpy()
    noise = pd.Series([non_actionable_reason(t, cfg.min_chars) if o else None for t, o in zip(texts, open_)],
                      index=out.index, dtype=object)
    _set(status, reason, noise.notna(), S.NON_ACTIONABLE, noise)

    languages = state.detector.detect(texts) if cfg.detect_languages else [UNDETERMINED] * len(texts)
    out[S.LANGUAGE] = languages
    if cfg.other_languages == "set_aside":
        lang = pd.Series(languages, index=out.index)
        foreign = status.isna() & ~lang.isin([*cfg.languages, UNDETERMINED])
        _set(status, reason, foreign, S.NON_ACTIONABLE, "other_language")

    dup_of, dup_reason = _exact_duplicates(out, status.isna(), cfg.dedupe_on, state)
    _set(status, reason, dup_reason == "conflicting_id", S.QUARANTINED, "conflicting_id")
    _set(status, reason, dup_of.notna(), S.DUPLICATE, dup_reason)
    status[status.isna()] = S.STORED

    out[S.STATUS] = status.astype(str)
    out[S.REASON] = reason
    out[S.DUP_OF] = dup_of
    out[S.ID] = _unique_ids(out[S.ID])
    return out, dict(sorted(report.items()))


def _set(status: pd.Series, reason: pd.Series, mask: pd.Series, value: str, why) -> None:
    mask = mask & status.isna()
    status[mask] = value
    reason[mask] = why[mask] if isinstance(why, pd.Series) else why


def _text_key(texts: pd.Series) -> pd.Series:
    return texts.astype(str).str.lower().str.replace(r"[^\w\[\]]+", " ", regex=True).str.strip()


def _exact_duplicates(df: pd.DataFrame, candidates: pd.Series, keys: list[str], state: CleanState
                      ) -> tuple[pd.Series, pd.Series]:
    """Repeated records (same id) and the same text from the same customer: the first one seen is canonical.

    Without the ``dedupe_on`` columns nobody can tell a resubmission from two customers who wrote the same
    words, so only repeated records are duplicates; ``dedupe_on: []`` dedupes on the text alone.
    """
    dup_of = pd.Series(None, index=df.index, dtype=object)
    why = pd.Series(None, index=df.index, dtype=object)
    text_key = _text_key(df[S.CLEAN_TEXT])
    present = [k for k in keys if k in df.columns]
    scoped = bool(present) or not keys
    parts = [text_key] + [df[k].astype(object).where(df[k].notna(), "").map(str) for k in present]
    group = pd.Series(["\x1f".join(v) for v in zip(*parts)], index=df.index)
    for i in df.index[candidates.to_numpy()]:
        item, tk = df.at[i, S.ID], text_key[i]
        if item in state.ids:
            if state.ids[item] == tk:
                dup_of[i], why[i] = item, "repeated_record"
            else:
                why[i] = "conflicting_id"
            continue
        state.ids[item] = tk
        if not scoped:
            continue
        first = state.canonical.setdefault(group[i], item)
        if first != item:
            dup_of[i], why[i] = first, "exact_duplicate"
    return dup_of, why


def _unique_ids(ids: pd.Series) -> pd.Series:
    """A repeated id gets a ``~n`` suffix so every row keeps its own key in the store."""
    counts = ids.groupby(ids).cumcount()
    return ids.where(counts == 0, ids + "~" + (counts + 1).astype(str))


def finalise_duplicates(items: pd.DataFrame) -> pd.DataFrame:
    """``duplicate_count`` on every canonical item: itself plus the members that point at it."""
    out = items.copy()
    members = out.loc[out[S.STATUS] == S.DUPLICATE, S.DUP_OF].value_counts()
    out[S.DUP_COUNT] = (1 + out[S.ID].map(members).fillna(0)).astype("int64")
    out.loc[out[S.STATUS] == S.DUPLICATE, S.DUP_COUNT] = 0
    return out


def near_duplicates(items: pd.DataFrame, X: np.ndarray, threshold: float, keys: list[str]) -> pd.Series:
    """Near-duplicates among stored items (cosine >= ``threshold``) in the same dedupe scope.

    ``items`` and ``X`` are aligned (stored items only). Returns, per row, the id of the earlier item it repeats
    (or None). Within a customer the groups are tiny; with ``dedupe_on: []`` the whole set is one scope and is
    compared in blocks.
    """
    result: list[str | None] = [None] * len(items)
    present = [k for k in keys if k in items.columns]
    if (keys and not present) or len(items) < 2:
        return pd.Series(result, index=items.index, dtype=object)
    ids = items[S.ID].to_numpy()
    groups = items.groupby(present, sort=False).indices.values() if present else [np.arange(len(items))]
    for rows in groups:
        rows = np.asarray(rows)
        for start in range(0, len(rows), 2048):
            block = rows[start:start + 2048]
            sims = X[block] @ X[rows[: start + len(block)]].T
            for bi, r in enumerate(block):
                hits = np.flatnonzero(sims[bi, : start + bi] >= threshold)
                if len(hits):
                    first = rows[hits[0]]
                    result[r] = result[first] or ids[first]
    out = pd.Series(result, index=items.index, dtype=object)
    return out
    ids = items[S.ID].to_numpy()
    groups = items.groupby(present, sort=False).indices.values() if present else [np.arange(len(items))]
    for rows in groups:
        rows = np.asarray(rows)
        if len(rows) < 2:
            continue
        for start in range(0, len(rows), 2048):
            block = rows[start:start + 2048]
            sims = X[block] @ X[rows].T
            for bi, r in enumerate(block):
                earlier = rows[: start + bi]
                if len(earlier) == 0:
                    continue
                hits = np.flatnonzero(sims[bi, : start + bi] >= threshold)
                if len(hits):
                    first = earlier[hits[0]]
                    root = out.iloc[first] if out.iloc[first] is not None else ids[first]
                    out.iloc[r] = root
    return out
