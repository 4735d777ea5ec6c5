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
from .pii import Redactor

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
    "not applicable", "nothing else", "all good", "nothing to add", "?", "??", "???",
}
_PRAISE = re.compile(
    r"^(?:(?:very |really |so |super |all )?(?:good|great|nice|excellent|awesome|amazing|perfect|fine|love it|"
    r"loved it|happy|satisfied|fantastic|superb|brilliant|best|wonderful|cool|thanks|thank you|thx|ty)"
    r"[\s!.,]*(?:service|product|experience|job|shopping|delivery|quality|app|thanks|thank you|store|shop)?"
    r"[\s!.,:)]*){1,3}$",
    re.IGNORECASE,
)
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
    if _AUTO_REPLY.search(text):
        return "auto_reply"
    if _STARS.match(text) or _PRAISE.match(text):
        return "praise_only"
    if len(low) < min_chars:
        return "too_short"
    return None


# ---------------------------------------------------------------- the stage

def clean(df: pd.DataFrame, cfg: CleanConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """Add clean (redacted) text, statuses and duplicate links; return the frame and the PII report."""
    out = df.copy()
    redactor = Redactor.from_config(cfg.pii)
    report: Counter[str] = Counter()
    texts: list[str] = []
    for raw in out[S.TEXT].tolist():
        t = normalise(raw)
        if cfg.pii.enabled:
            t, found = redactor.redact(t)
            report.update(found)
        texts.append(t)
    out[S.CLEAN_TEXT] = texts
    # the raw text is not kept: only the redacted one travels on
    out[S.TEXT] = out[S.CLEAN_TEXT]

    status = out[S.STATUS].astype(object).where(out[S.STATUS].astype(str) != "", None)
    reason = out[S.REASON].astype(object)
    open_ = status.isna()
    noise = [non_actionable_reason(t, cfg.min_chars) if o else None for t, o in zip(texts, open_)]
    noise_s = pd.Series(noise, index=out.index, dtype=object)
    status[noise_s.notna()] = S.NON_ACTIONABLE
    reason[noise_s.notna()] = noise_s[noise_s.notna()]

    dup_of, dup_count = _exact_duplicates(out, status.isna(), cfg.dedupe_on)
    status[dup_of.notna()] = S.DUPLICATE
    reason[dup_of.notna()] = "exact_duplicate"
    status[status.isna()] = S.STORED

    out[S.STATUS] = status.astype(str)
    out[S.REASON] = reason
    out[S.DUP_OF] = dup_of
    out[S.DUP_COUNT] = dup_count
    return out, dict(sorted(report.items()))


def _exact_duplicates(df: pd.DataFrame, candidates: pd.Series, keys: list[str]) -> tuple[pd.Series, pd.Series]:
    """Same redacted text (case and spacing folded) from the same customer: the earliest item is canonical."""
    dup_of = pd.Series(None, index=df.index, dtype=object)
    dup_count = pd.Series(1, index=df.index, dtype="int64")
    idx = df.index[candidates.to_numpy()]
    if len(idx) == 0:
        return dup_of, dup_count
    sub = df.loc[idx]
    key = sub[S.CLEAN_TEXT].str.lower().str.replace(r"[^\w\[\]]+", " ", regex=True).str.strip()
    parts = [key] + [sub[k].astype(str) for k in keys if k in sub.columns]
    group_key = pd.Series(["\x1f".join(v) for v in zip(*parts)], index=sub.index)
    order = sub.assign(_k=group_key).sort_values([S.TIMESTAMP, S.ID], kind="stable")
    first = order.groupby("_k", sort=False)[S.ID].transform("first")
    is_dup = first != order[S.ID]
    dup_of.loc[order.index[is_dup.to_numpy()]] = first[is_dup].to_numpy()
    sizes = order.groupby("_k", sort=False)[S.ID].transform("size")
    canon = order.index[(~is_dup).to_numpy()]
    dup_count.loc[canon] = sizes.loc[canon].to_numpy()
    return dup_of, dup_count
