"""Text-level sentiment cues shared by the stages that need them: the report stage (each item's polarity) and the
tag stage (which clauses of a remark are praise, so the complaint in it is what gets tagged).

The VADER lexicon (Hutto & Gilbert 2014; MIT, offline) with the words real customers write that it lacks, and
regular expressions for words that name a problem, hint at one, or report that one was fixed.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache

from .lexicon import HINDI_DONE, HINDI_NEGATIONS

# romanised Hindi feeling words, spelt as customers spell them: "good", "great", "wonderful", "beautiful",
# "excellent", "thanks", "help", "satisfied"; "useless", "troubled", "fraud", "bad", "dirty", "mad", "thief",
# "wrong". A negation follows the word in Hindi ("acchi nahin hai"), where the lexicon cannot see it: "nahin" is a
# complaint cue, and one "good" stays under the bar that would overrule it.
_HINDI_FEELING = {
    **dict.fromkeys(["achha", "achcha", "accha", "acha", "achaa", "achhaa", "achchha", "acchha", "achhe", "acche",
                     "aache", "achhi", "acchi", "achi"], 1.9),
    **dict.fromkeys(["badhiya", "badiya", "badhia", "gajab", "gazab", "sundar", "sunder"], 2.5),
    "shandar": 2.8, "shandaar": 2.8, "behtareen": 3.0, "behtarin": 3.0,
    **dict.fromkeys(["dhanyawad", "dhanyavad", "dhanyavaad", "dhanyvad", "dhanwad", "dhanyabad", "shukriya"], 1.9),
    **dict.fromkeys(["santusht", "santust", "santosht"], 1.8), "madad": 1.5,
    "bekaar": -2.0, "faltu": -2.0, "pareshan": -1.8, "pareshaan": -1.8, "dhokha": -2.5, "dhoka": -2.5,
    "bura": -2.0, "buri": -2.0, "ganda": -2.0, "gandi": -2.0, "pagal": -1.5, "chor": -2.5, "galat": -2.0,
}
# a remark holding one of these is read by the lexicon: the encoder does not read Hindi, so its lean is no evidence
HINDI_FEELING = re.compile(r"\b(?:" + "|".join(sorted(_HINDI_FEELING, key=len, reverse=True)) + r")\b", re.IGNORECASE)
# Hindi negates after the word ("acchi help nhi h": not much good help), where VADER does not look: a praise word
# followed within three words by "nahi" names a problem
_HINDI_PRAISE = sorted((w for w, v in _HINDI_FEELING.items() if v > 0), key=len, reverse=True)
_HINDI_NEGATED_PRAISE = r"(?:" + "|".join(_HINDI_PRAISE) + r")\W+(?:\w+\W+){0,2}?(?:" + "|".join(HINDI_NEGATIONS) + ")"

# words that name a problem: a text with one is a complaint unless it is glowing (polite complaints thank you)
PROBLEM_CUE = re.compile(
    r"\b(?:late|delay(?:ed)?|broken|broke|wrong|worst|worest|worrest|wrost|useless|refund|missing|lost|damaged|"
    r"declined|rejected|failed|error|stuck|overcharged|double charged|rude|scam|fraud|fake|cheat(?:ed|ing)?|"
    r"pathetic|nothing (?:has )?(?:arrived|came|happened)|nobody came|supposed to|where (?:is|are) my|where'?s my|"
    r"any update|no update|still (?:not|no|waiting|haven'?t|hasn'?t)|not (?:yet )?(?:received|delivered|resolved|"
    r"solved|working|refunded)|(?:haven'?t|hasn'?t|didn'?t|never) (?:received|arrived|got|get|come)|"
    r"(?:it'?s |it has )?been \d+ (?:days|weeks)|ghatiya|bekar|bakwas|kharab|"
    r"(?:re)?solved?\W+(?:nahi|nhi|nahin|nai)|galat|"  # Hinglish: "resolve nhi hua" (not resolved), "wrong"
    + _HINDI_NEGATED_PRAISE + r")\b",
    re.IGNORECASE,
)
# words that often sit in a complaint but also in praise ("not too tight", "no issues"): they count only where
# the text is not clearly positive
COMPLAINT_CUE = re.compile(
    r"\b(?:not|never|no|nothing|nobody|still|yet|terrible|awful|disappoint(?:ed|ing)?|angry|cancel(?:led)?|"
    r"complain(?:t)?|wait(?:ed|ing)?|charged|problem|issue|poor|bad|horrible|ridiculous|unacceptable|waste|should|"
    r"improve|reduce|without|unable|can'?t|cannot|didn'?t|doesn'?t|won'?t|isn'?t|wasn'?t|haven'?t|hasn'?t|nahi|"
    r"nahin|nhi|"
    r"chahiye|dijiye|kijiye|jaldi|turant|samasya|dikkat)\b",  # Hinglish: "should", "please give / do", "quickly",
    # "at once", "problem", "trouble": a request or a problem, as in English
    re.IGNORECASE,
)
# "problem solved", "resolved the issue": the problem words report a fix, unless negated ("issue not resolved").
# Indian English often reports it with the bare verb after "is" or "got" ("my problem is solve", "is instant
# solve"); "should be resolve" and "will be solve" ask or hope, and do not count.
RESOLVED = re.compile(
    r"\b(?:resolved|solved|sorted|fixed)\b|"
    r"\b(?:is|are|was|were|got|gets|has been|have been)\W+(?:(?:now|already|finally|instant|instantly|quickly|"
    r"easily|fully)\W+)?(?:re)?solve\b|"
    rf"\b(?:re)?solved?\W+(?:{HINDI_DONE})\b|"  # Hinglish: "problem solve ho gaya", "solve kar diya"
    r"\bby\W+(?:re)?solving\b|"  # "helped me by resolving my issue"
    # the bare verb after who did it, as Indian English reports a fix ("she solve my problem in minimum time"); after
    # "sir" or "mam" it is as often a request ("sir resolve my issue as soon as possible"), after a modal a question
    r"(?<!will )(?<!would )(?<!can )(?<!could )(?<!should )(?<!do )(?<!does )(?<!did )"
    r"\b(?:he|she|they|executive|agent)\W+(?:re)?solve\W+(?:(?:my|the|our|this|that|all)\W+)?"
    r"(?:issues?|problems?|query|queries|concerns?|complaints?)\b|"
    # thanks for a fix, "thanks to solve" as Indian English says it; thanks before a request ("thank you in
    # advance, please solve") is not one
    r"\b(?:thanks?|thank\W+(?:you|u)|thanku|thnx|thx|tnx|tnq)\W+(?:(?:so|very)\W+much\W+|a\W+lot\W+|"
    r"(?:sir|mam|madam|ma'?am)\W+)?(?:for|to)\W+(?:re)?solv(?:e|ed|ing)\b",
    re.IGNORECASE)
# "understood my problem" praises whoever listened: the problem noun in it is no complaint cue
UNDERSTOOD = re.compile(r"\bunderst(?:and|ands|anding|ood)\W+(?:(?:my|the|our|your|customer'?s?)\W+)?"
                        r"(?:problems?|issues?|query|queries|concerns?)\b", re.IGNORECASE)
NOT_RESOLVED = re.compile(
    r"\b(?:not|no|never|yet to|nahi|nhi|isn'?t|wasn'?t|hasn'?t|haven'?t|didn'?t|hadn'?t|still)\W+(?:\w+\W+){0,2}?"
    r"(?:been\W+)?(?:resolved|solved|sorted|fixed|(?:re)?solve)\b|\b(?:resolved|solved|(?:re)?solve)\W+(?:nahi|nhi|not)\b",
    re.IGNORECASE,
)

# what VADER's lexicon lacks and customers write; valence on VADER's -4..4 scale
_EXTRA_VALENCE = {
    "worest": -3.1, "worrest": -3.1, "wrost": -3.1, "ghatiya": -2.5, "bekar": -2.0, "bakwas": -2.5,
    "kharab": -2.0, "pathetic": -3.0, "useless": -2.5, "cheated": -2.5, "fake": -2.0, "delayed": -1.5,
    "gud": 1.9, "nyc": 1.9, "gr8": 3.1, "osm": 3.0, "awsome": 3.1, "excelent": 3.2, "exellent": 3.2,
    "satisfied": 1.8, "helpful": 1.8, "polite": 1.5, "resolved": 1.2, "pleasent": 2.3, "plesant": 2.3,
    **_HINDI_FEELING,
}


@lru_cache(maxsize=1)
def vader():
    """VADER's analyser with the words above added (loaded once)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    analyser.lexicon.update(_EXTRA_VALENCE)
    return analyser


# words that ask for something, name the support desk or the matter at hand: "Please solve my issue", "kindly
# help", "customer care" carry VADER's warmth (please 1.3, resolve 1.6, care 2.2) and "my problem" its chill
# (-1.7) without telling how the customer feels
ASKING_WORDS = ("please", "pls", "plz", "kindly", "solve", "solves", "solving", "resolve", "resolves", "resolving",
                "help", "helps", "want", "improve", "support", "care", "problem", "problems")


@lru_cache(maxsize=1)
def tone():
    """VADER as ``vader`` has it, deaf to ``ASKING_WORDS``: how warm a remark is apart from its asking."""
    analyser = copy.copy(vader())  # its lexicon replaced, the rest (emoji, lexicon files read once) shared
    analyser.lexicon = {w: v for w, v in vader().lexicon.items() if w not in ASKING_WORDS}
    return analyser
