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
from functools import lru_cache

import numpy as np
import pandas as pd

NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
POLARITIES = (NEGATIVE, NEUTRAL, POSITIVE)

# words that name a problem: a text with one is a complaint unless it is glowing (polite complaints thank you)
PROBLEM_CUE = re.compile(
    r"\b(?:late|delay(?:ed)?|broken|broke|wrong|worst|worest|worrest|wrost|useless|refund|missing|lost|damaged|"
    r"declined|rejected|failed|error|stuck|overcharged|double charged|rude|scam|fraud|fake|cheat(?:ed|ing)?|"
    r"pathetic|nothing (?:has )?(?:arrived|came|happened)|nobody came|supposed to|where (?:is|are) my|where'?s my|"
    r"any update|no update|still (?:not|no|waiting|haven'?t|hasn'?t)|not (?:yet )?(?:received|delivered|resolved|"
    r"solved|working|refunded)|(?:haven'?t|hasn'?t|didn'?t|never) (?:received|arrived|got|get|come)|"
    r"(?:it'?s |it has )?been \d+ (?:days|weeks)|ghatiya|bekar|bakwas|kharab)\b",
    re.IGNORECASE,
)
# words that often sit in a complaint but also in praise ("not too tight", "no issues"): they count only where
# the text is not clearly positive
COMPLAINT_CUE = re.compile(
    r"\b(?:not|never|no|nothing|nobody|still|yet|terrible|awful|disappoint(?:ed|ing)?|angry|cancel(?:led)?|"
    r"complain(?:t)?|wait(?:ed|ing)?|charged|problem|issue|poor|bad|horrible|ridiculous|unacceptable|waste|should|"
    r"improve|reduce|without|unable|can'?t|cannot|didn'?t|doesn'?t|won'?t|isn'?t|wasn'?t|haven'?t|hasn'?t|nahi|"
    r"nahin|nhi)\b",
    re.IGNORECASE,
)
# "problem solved", "resolved the issue": the problem words report a fix, unless negated ("issue not resolved")
RESOLVED = re.compile(r"\b(?:resolved|solved|sorted|fixed)\b", re.IGNORECASE)
NOT_RESOLVED = re.compile(
    r"\b(?:not|no|never|yet to|nahi|nhi|isn'?t|wasn'?t|hasn'?t|haven'?t|didn'?t|hadn'?t|still)\W+(?:\w+\W+){0,2}?"
    r"(?:been\W+)?(?:resolved|solved|sorted|fixed)\b|\b(?:resolved|solved)\W+(?:nahi|nhi|not)\b",
    re.IGNORECASE,
)

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
LEAN_MARGIN = 0.06  # a lean above this, in a text that is not clearly positive, is a complaint

# what VADER's lexicon lacks and customers write; valence on VADER's -4..4 scale
_EXTRA_VALENCE = {
    "worest": -3.1, "worrest": -3.1, "wrost": -3.1, "ghatiya": -2.5, "bekar": -2.0, "bakwas": -2.5,
    "kharab": -2.0, "pathetic": -3.0, "useless": -2.5, "cheated": -2.5, "fake": -2.0, "delayed": -1.5,
    "gud": 1.9, "nyc": 1.9, "gr8": 3.1, "osm": 3.0, "awsome": 3.1, "excelent": 3.2, "exellent": 3.2,
    "satisfied": 1.8, "helpful": 1.8, "polite": 1.5, "resolved": 1.2,
}


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    analyser.lexicon.update(_EXTRA_VALENCE)
    return analyser


def complaint_lean(X: np.ndarray, encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Max cosine of each (unit) row of ``X`` to the complaint prototypes minus max cosine to the praise ones;
    ``encode`` embeds texts the way ``X`` was embedded."""
    if not len(X):
        return np.zeros(0, dtype=np.float32)
    complaints, praise = encode(list(COMPLAINT_PROTOTYPES)), encode(list(PRAISE_PROTOTYPES))
    return (X @ complaints.T).max(axis=1) - (X @ praise.T).max(axis=1)


def text_polarity(texts: Sequence[str], lean: Sequence[float] | None = None) -> np.ndarray:
    """negative / neutral / positive for each text: negative when VADER's compound is at most -0.05, when a word
    naming a problem is present and the text is not glowing (compound below 0.8: a polite complaint, "...nothing
    has arrived... Thanks, Meera", scores positive on tone alone), or a weaker complaint cue in a text that is not
    clearly positive (compound below 0.5), or, where ``lean`` (``complaint_lean``) is given, a text that is not
    clearly positive and reads closer to a complaint than to praise by more than ``LEAN_MARGIN``; positive when
    the compound is at least 0.05; neutral otherwise. A text that reports a fix ("problem solved", "resolved the
    issue"; not negated, naming no other problem) is positive.
    """
    analyser = _vader()
    leans = [np.nan] * len(texts) if lean is None else list(lean)
    out = []
    for t, near in zip(texts, leans):
        t = t or ""
        compound = analyser.polarity_scores(t)["compound"] if t else 0.0
        fixed = RESOLVED.search(t) and not NOT_RESOLVED.search(t) and not PROBLEM_CUE.search(t)
        if fixed:  # "problem solved, thanks": the problem words report a fix
            out.append(POSITIVE if compound > -0.5 else NEUTRAL)
        elif (compound <= -0.05 or (compound < 0.8 and PROBLEM_CUE.search(t))
                or (compound < 0.5 and (COMPLAINT_CUE.search(t) or near > LEAN_MARGIN))):
            out.append(NEGATIVE)
        elif compound >= 0.05:
            out.append(POSITIVE)
        else:
            out.append(NEUTRAL)
    return np.array(out, dtype=object)


def rating_polarity(ratings: pd.Series, rating_range: Sequence[float] = (1, 5)) -> np.ndarray:
    """From a score on ``rating_range``: the bottom quarter of the scale is negative (1-2 of 5 stars), the top
    quarter positive (4-5), the rest neutral; None where there is no rating."""
    lo, hi = float(rating_range[0]), float(rating_range[1])
    scaled = (pd.to_numeric(ratings, errors="coerce") - lo) / max(hi - lo, 1e-9)
    return np.where(scaled.isna(), None, np.where(scaled <= 0.25, NEGATIVE, np.where(scaled >= 0.75, POSITIVE,
                                                                                      NEUTRAL)))


def polarity(texts: pd.Series, ratings: pd.Series, rating_range: Sequence[float] = (1, 5),
             lean: Sequence[float] | None = None) -> np.ndarray:
    """Each item's polarity: a clear rating decides (what the customer scored is the truth about how they feel);
    the text decides where there is none, and in the middle of the scale, where a 3 of 5 says "it depends" and
    the words say on what ("runs small, had to return it"). ``lean`` per item where given, NaN where not."""
    by_rating = rating_polarity(ratings.reset_index(drop=True), rating_range)
    unrated = np.array([p is None or p == NEUTRAL for p in by_rating], dtype=bool)
    out = by_rating.astype(object)
    if unrated.any():
        leans = None if lean is None else np.asarray(lean, dtype=float)[unrated]
        out[unrated] = text_polarity(texts.fillna("").reset_index(drop=True)[unrated].tolist(), leans)
    return out
