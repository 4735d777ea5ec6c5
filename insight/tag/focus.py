"""Complaint focus: the part of a remark that complains, so a root cause is tagged from the problem, not the praise.

Real survey remarks often thank the agent and complain in the same breath ("the agent was polite but my refund is
still not credited"). Embedded whole, such a remark sits near "helpful support" and is tagged customer_service;
the annotation guideline (and a CX lead) would call it a refund problem. So a remark is split into clauses (at
sentence ends and at "but", "however", "though", "lekin"...), clauses that only praise or report a fix are set
aside, and what is left is the remark's focus. A remark that is praise from end to end has no focus: nothing
operational to fix, which a taxonomy's out-of-taxonomy cause ("other") stands for.

A clause is praise when the VADER lexicon scores it clearly positive (problem nouns such as "issue" masked, so
"understood my issue well" reads as the praise it is; "lol" masked, the sarcasm of "costs more than the lamp lol")
and it carries no complaint word, no request ("please", "should", "how do I") and no waiting; or when it reports a
fix ("problem solved", not negated) or promises one ("will be resolved"). Measured on the labelled development
set in ``docs/evaluation.md`` (root causes, issue 15).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..sentiment import NOT_RESOLVED, PROBLEM_CUE, RESOLVED, vader

CLAUSE_BREAK = re.compile(
    r"[.!?;]+|\b(?:but|bt|however|though|although|while|lekin|except|only thing)\b", re.IGNORECASE)
# a clause with one of these asks for something, waits, or names a problem: not praise
NOT_PRAISE = re.compile(
    r"\b(?:unresolved|wait\w*|needs?|too much|time|not|no|never|nothing|nobody|still|yet|don'?t|doesn'?t|didn'?t|"
    r"isn'?t|wasn'?t|can'?t|cannot|unable|without|nahi|nhi|worst|bad|poor|slow\w*|please|plz|pls|kindly|should|want|"
    r"need|how (?:do|can) i|(?:scratch|break|broke|snag|wrinkle|pill|fade|tear|tore|rip|crack|stain|chip|peel|shrink|"
    r"shrank|fray|dent|crease|smudge|rust)\w*\W+(?:\w+\W+){0,2}easily)\b",  # a defect that comes "easily"
    re.IGNORECASE)
PROBLEM_NOUNS = re.compile(r"\b(?:problems?|issues?|query|queries|concerns?|complaints?)\b", re.IGNORECASE)
LAUGHTER = re.compile(r"\b(?:lol|lmao|haha\w*)\b", re.IGNORECASE)  # VADER scores it positive; in complaints, sarcasm
PROMISED_FIX = re.compile(r"\b(?:will|shall|would)\s+(?:be\s+)?(?:resolv|solv)\w*|\bhelped\b|\bby (?:resolv|solv)ing\b",
                          re.IGNORECASE)
PRAISE_AT = 0.3  # VADER compound from which a clause is clearly positive


def is_praise(clause: str) -> bool:
    """True for a clause that only praises, thanks, or reports or promises a fix."""
    if NOT_PRAISE.search(clause) or PROBLEM_CUE.search(clause):
        return False
    if (RESOLVED.search(clause) and not NOT_RESOLVED.search(clause)) or PROMISED_FIX.search(clause):
        return True
    return vader().polarity_scores(LAUGHTER.sub("", PROBLEM_NOUNS.sub("", clause)))["compound"] >= PRAISE_AT


def complaint_focus(texts: Sequence[str]) -> list[str]:
    """Each text without its praise clauses; "" for a text that is praise throughout; the text itself where
    nothing was set aside (so a caller embeds only what changed).

    A clause that neither praises nor complains counts as a complaint: customers state problems flatly ("shipping
    was slow as molasses, arrived a week past the date") and with sarcasm ("great update guys").
    """
    out = []
    for text in texts:
        clauses = [c.strip() for c in CLAUSE_BREAK.split(text or "") if c and len(c.strip()) > 2]
        kept = [c for c in clauses if not is_praise(c)]
        out.append(text if len(kept) == len(clauses) else " . ".join(kept))
    return out
