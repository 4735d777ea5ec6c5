"""Polarity per item: is this customer unhappy, neutral or pleased? From the rating where there is one, else from
the text.

Only unhappy items can make a theme an action and only they are quoted as evidence, so the text rule has to
find complaints without calling praise a problem. It is a decision list over the VADER lexicon (Hutto & Gilbert
2014: negation, intensifiers, "but" and emoji; MIT, offline, about 5,000 texts/s on one core), words that name a
problem or hint at one (with the Indian English and Hinglish of real CSAT remarks: "nahi", "ghatiya", "worest"),
and the sentence encoder's lean towards complaint or praise prototypes for texts that name no feeling ("2 left
shoes"). ``docs/evaluation.md`` (polarity) has the measurements: balanced accuracy 0.715 against the clothing
reviews' stars (the old cue regex 0.650), 4 % of 4-5 star reviews called negative, 82 % of the labelled real
complaints of ``ecommerce_rootcause_dev`` called negative.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..sentiment import COMPLAINT_CUE, HINDI_FEELING, NOT_RESOLVED, PROBLEM_CUE, RESOLVED, UNDERSTOOD, tone, vader

NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
POLARITIES = (NEGATIVE, NEUTRAL, POSITIVE)

# A complaint often names no feeling at all ("2 left shoes", "tracking page blank", "pakage been in hub limbo for
# 5 days"): the lexicon sees nothing, the sentence encoder sees a problem. ``complaint_lean`` is each item's
# cosine to the nearest complaint minus its cosine to the nearest praise, from the vectors the run already has.
COMPLAINT_PROTOTYPES = (
    "something went wrong with my order", "the product arrived damaged or defective",
    "I am still waiting and nobody is helping me", "this is not what I ordered", "my problem has not been resolved",
    "very disappointed, poor quality",
)
PRAISE_PROTOTYPES = (
    "great service, thank you", "I love it, excellent quality", "very happy with my purchase",
    "fast delivery, highly recommend", "the agent was helpful and polite",
)
# a complaint in polite words or under a warm-sounding name ("super coins not credited", "agent should be more
# responsible"): read on the dev set, warm complaints held one of these 13 times in 13, warm praise 2 in 7
DENIES_OR_ASKS = re.compile(r"\b(?:not|never|no|nothing|unresolved|didn'?t|doesn'?t|don'?t|isn'?t|wasn'?t|can'?t|"
                            r"cannot|unable|should|yet)\b", re.IGNORECASE)
WARM_AT = 0.3  # a clearly positive tone: the tag stage's bar for a clause of praise (``tag.focus.PRAISE_AT``)
LEAN_MARGIN = 0.06  # a lean above this, in a text that is not clearly positive, is a complaint


def complaint_lean(X: np.ndarray, encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Max cosine of each (unit) row of ``X`` to the complaint prototypes minus max cosine to the praise ones;
    ``encode`` embeds texts the way ``X`` was embedded."""
    if not len(X):
        return np.zeros(0, dtype=np.float32)
    complaints, praise = encode(list(COMPLAINT_PROTOTYPES)), encode(list(PRAISE_PROTOTYPES))
    return (X @ complaints.T).max(axis=1) - (X @ praise.T).max(axis=1)


def text_polarity(texts: Sequence[str], lean: Sequence[float] | None = None,
                  unread: Sequence[bool] | None = None) -> np.ndarray:
    """negative / neutral / positive for each text: negative when VADER's compound is at most -0.05, when a word
    naming a problem is present and the text is not glowing (compound below 0.8: a polite complaint, "...nothing
    has arrived... Thanks, Meera", scores positive on tone alone), or a weaker complaint cue in a text that is not
    clearly positive (compound below 0.5), or, where ``lean`` (``complaint_lean``) is given, a text that is not
    clearly positive and reads closer to a complaint than to praise by more than ``LEAN_MARGIN``; positive when
    the compound is at least 0.05; neutral otherwise. A text that reports a fix ("problem solved", "resolved the
    issue", "my problem is solve", "problem solve ho gaya"; not negated, naming no other problem) is positive, and
    a problem someone understood ("understood my issue well") is no complaint cue.

    ``unread`` marks texts in a language the encoder does not read: there, as in any text holding a romanised
    Hindi feeling word, the lean decides only where the lexicon finds no feeling (compound under 0.05).
    """
    analyser = vader()
    leans = [np.nan] * len(texts) if lean is None else list(lean)
    foreign = [False] * len(texts) if unread is None else list(unread)
    out = []
    for t, near, away in zip(texts, leans, foreign):
        t = t or ""
        compound = analyser.polarity_scores(t)["compound"] if t else 0.0
        if compound >= 0.05 and (away or HINDI_FEELING.search(t)):
            near = np.nan  # the encoder's reading of words it does not know is no evidence against the lexicon
        fixed = RESOLVED.search(t) and not NOT_RESOLVED.search(t) and not PROBLEM_CUE.search(t)
        if fixed:  # "problem solved, thanks": the problem words report a fix
            out.append(POSITIVE if compound > -0.5 else NEUTRAL)
        elif (compound <= -0.05 or (compound < 0.8 and PROBLEM_CUE.search(t))
                or (compound < 0.5 and (COMPLAINT_CUE.search(UNDERSTOOD.sub(" ", t)) or near > LEAN_MARGIN))):
            out.append(NEGATIVE)
        elif compound >= 0.05:
            out.append(POSITIVE)
        else:
            out.append(NEUTRAL)
    return np.array(out, dtype=object)


def warm(texts: Sequence[str]) -> np.ndarray:
    """Whether each text reads warm on its face: a tone clearly positive apart from its asking (VADER compound >=
    ``WARM_AT`` without ``sentiment.ASKING_WORDS``: "Please solve my issue", "customer care" and "my problem" are
    not feeling, nor is a problem someone understood), no word that names a problem outright or says it is
    unsolved, and no negation or "should" (``DENIES_OR_ASKS``). ``text_polarity`` may still call such a text a
    complaint by a weak cue ("problem"), rightly for a polite complaint and wrongly for praise that names the
    problem it solved ("too good behavior and instant problem resolving"); a CX lead reading it as evidence
    cannot tell which, so quotes prefer the others."""
    analyser = tone()
    return np.array([bool(t) and analyser.polarity_scores(UNDERSTOOD.sub(" ", t))["compound"] >= WARM_AT
                     and not PROBLEM_CUE.search(t) and not NOT_RESOLVED.search(t) and not DENIES_OR_ASKS.search(t)
                     for t in texts], dtype=bool)


def rating_polarity(ratings: pd.Series, rating_range: Sequence[float] = (1, 5)) -> np.ndarray:
    """From a score on ``rating_range``: the bottom quarter of the scale is negative (1-2 of 5 stars), the top
    quarter positive (4-5), the rest neutral; None where there is no rating."""
    lo, hi = float(rating_range[0]), float(rating_range[1])
    scaled = (pd.to_numeric(ratings, errors="coerce") - lo) / max(hi - lo, 1e-9)
    return np.where(scaled.isna(), None, np.where(scaled <= 0.25, NEGATIVE, np.where(scaled >= 0.75, POSITIVE,
                                                                                      NEUTRAL)))


def polarity(texts: pd.Series, ratings: pd.Series, rating_range: Sequence[float] = (1, 5),
             lean: Sequence[float] | None = None, languages: Sequence[str] | None = None,
             readable: Sequence[str] = ("en",)) -> np.ndarray:
    """Each item's polarity: a clear rating decides (what the customer scored is the truth about how they feel);
    the text decides where there is none, and in the middle of the scale, where a 3 of 5 says "it depends" and
    the words say on what ("runs small, had to return it"). ``lean`` per item where given, NaN where not.

    ``languages`` (each item's, from ``clean``) and ``readable`` (``clean.languages``): the lean is the encoder's
    reading, so in a language the encoder does not read, or in a remark holding a romanised Hindi feeling word
    (short Hinglish remarks are often of no detected language), it decides only texts in which the lexicon finds
    no feeling (compound under 0.05). On the CSAT remarks about half the romanised Hindi ones it decided were
    praise ("baat karke achcha"); without it at all, implicit complaints ("1kg ke jagah par 500gm") went unseen."""
    by_rating = rating_polarity(ratings.reset_index(drop=True), rating_range)
    unrated = np.array([p is None or p == NEUTRAL for p in by_rating], dtype=bool)
    out = by_rating.astype(object)
    if unrated.any():
        leans = None if lean is None else np.asarray(lean, dtype=float)[unrated]
        unread = None if languages is None else \
            ~np.isin(np.asarray(list(languages), dtype=object), [*readable, "und"])[unrated]
        out[unrated] = text_polarity(texts.fillna("").reset_index(drop=True)[unrated].tolist(), leans, unread)
    return out
