"""Polarity per item (issue 14): the rating decides where there is one, the text where there is none; praise is
never called a complaint. Regression: on the clothing reviews, praise ("Love this top ... beautiful soft fabric")
was quoted as the evidence of the #1 action."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insight.report import polarity, rating_polarity, text_polarity


@pytest.mark.parametrize("text,expected", [
    ("Love this top! Beautiful soft fabric, fits perfectly", "positive"),
    ("Very good service, thank you so much", "positive"),
    ("Still waiting for my refund after three weeks", "negative"),
    ("issue not resolved", "negative"),
    ("Worst service ever", "negative"),
    ("worest experiance", "negative"),  # misspelt, as customers write
    ("order abhi tak nahi mila", "negative"),  # Hinglish: "the order has not arrived yet"
    ("delivery time should be reduced", "negative"),  # a request for change is pain, not praise
    ("the zipper broke after one wash 😡", "negative"),
    ("I ordered the blue dress in size 8", "neutral"),
    ("problem solved, thanks", "positive"),  # the problem words report a fix
    ("Executive understood the problem and resolved the issue", "positive"),
    ("Not problem solved", "negative"), ("my issue has not been resolved yet", "negative"),
    ("issue resolved but the refund is still pending", "negative"),  # a fix, and another problem
    # Indian English reports a fix with the bare verb; CSAT's "Solve my problem" action quoted these as complaints
    ("My problem is solve thank you", "positive"), ("Good Communication And This Problem Is Instant Solve", "positive"),
    ("Thanks to solve my prblm", "positive"),
    # ... and after who did it ("he solve the issue"); CSAT #15 "Executive and query" quoted that as a complaint
    ("Hi Ur executive is very clever person, he solve the issue now", "positive"),
    ("Nice, she solve my problem in minimum time", "positive"), ("She solve my problem easily", "positive"),
    ("sir resolve my issue as soon as possible", "negative"), ("he should solve the issue", "negative"),
    ("Executives can not go beyond a script. Then how will they solve our queries?", "negative"),
    # thanks for a fix, in the forms CSAT remarks write it; the "Resolve my problem" action counted them as complaints
    ("Thanks to resolve my problem", "positive"), ("Thank you sir for solving my return problem", "positive"),
    ("Thanku so much for resolving my problem", "positive"), ("Thank you for solving my problem madam..", "positive"),
    ("Thank you in advance, please solve my problem", "negative"),  # thanks before a request is no fix
    ("Thanks for solving nothing, my refund is still pending", "negative"),
    ("My problem is not solve", "negative"), ("my issue didn't got resolve", "negative"),
    ("Solve my issue as soon as possible", "negative"), ("should be resolve costumer issues", "negative"),
    # romanised Hindi, as CSAT remarks write it: praise ("talking to you felt very good"), a fix ("the problem got
    # solved"), and complaints that must stay complaints ("the service is not good", "cannot solve one problem")
    ("Mujhe aapse baat karke bahut achcha", "positive"), ("Bahut badhiya service", "positive"),
    ("Problem solve ho gaye hai", "positive"),
    # a fix told with "kar diya" / "kiya" ("solved it"); requests ("kar do", "karo") and denials stay complaints
    ("madam ne mera problem solve kar diya hai . thanks for madam", "positive"),
    ("Sir ne bilkul politely bat ki or mere issue resolve kiya", "positive"),
    ("Meri problem jaldi solve kar do", "negative"), ("problem solve karo please", "negative"),
    ("Mera issue 2 months se solve nahi kiya", "negative"),
    ("Acchi service nahin hai Shopzilla ka", "negative"),
    ("Kya ghatiya agent he ek problem solve nahi kr sakte", "negative"),
    ("Mujhe 10 dino se pareshan kar rakha hai", "negative"),
    ("Vartalap to bohut achha huaa par resolve nhi huaa", "negative"),  # "the talk was good but not resolved"
    ("Please mera phone mujhe de dijiye", "negative"), ("Sir please mera resolution jaldi kare", "negative"),  # asks
    ("Costumes care ne misslead kiya Galat jankari diya", "negative"),  # "misled, gave wrong information"
    ("Koi jyda acchi help nhi h", "negative"), ("Bahut badhiya service nahi mili", "negative"),  # negated after
    # praise of support that names the problem it understood or fixed (the CSAT "Executive and issue" action)
    ("The executive is very polite and understands the problem very well.", "positive"),
    ("The executive was calm and understood my problem. He helped me by resolving my issue.", "positive"),
    ("My experience with executive was very pleasent and fruitful,from my end nothing more required to change,good",
     "positive"),
    ("The executive did not understand my problem", "negative"),
])
def test_text_polarity(text, expected):
    assert text_polarity([text])[0] == expected


def test_rating_decides_where_there_is_one():
    texts = pd.Series(["Love it, perfect", "Love it, perfect", "Terrible, fell apart", "it came in a box",
                       "Runs small, the zipper broke, had to return it", "Lovely colour, great fit"])
    ratings = pd.Series([1.0, np.nan, 5.0, 3.0, 3.0, 3.0])
    # a clear rating decides; the middle of the scale ("it depends") is read from the words
    assert polarity(texts, ratings).tolist() == ["negative", "positive", "positive", "neutral", "negative",
                                                 "positive"]


def test_rating_scale_is_read_from_the_range():
    assert rating_polarity(pd.Series([0, 2, 5, 8, 10, None]), (0, 10)).tolist() == [
        "negative", "negative", "neutral", "positive", "positive", None]
    assert rating_polarity(pd.Series([1, 2, 3, 4, 5]), (1, 5)).tolist() == [
        "negative", "negative", "neutral", "positive", "positive"]


def test_a_complaint_without_feeling_words_is_read_from_its_meaning():
    """"2 left shoes" names no feeling: the lexicon sees nothing, the encoder's lean towards complaints decides."""
    texts = ["2 left shoes. TWO LEFT SHOES.", "2 left shoes. TWO LEFT SHOES.", "Love it, excellent quality, thanks!"]
    assert text_polarity(texts, [0.2, -0.2, 0.2]).tolist() == ["negative", "neutral", "positive"]


def test_the_encoders_lean_does_not_overrule_the_lexicon_where_it_cannot_read():
    """Regression: on the CSAT remarks, romanised Hindi praise ("Customer support se baat karke achcha") leaned
    towards the complaint prototypes (about half the Hindi remarks the lean decided were praise) and became the
    evidence of a "Baat and bat" action. In a language the encoder does not read, or where a Hindi feeling word
    is present, the lean decides only texts the lexicon finds no feeling in ("Sab ek hi baat bolte h": they all
    say the same thing)."""
    texts = pd.Series(["Vyavhar accha", "Vyavhar accha", "Sab ek hi baat bolte h", "Very nice", "Please return it"])
    ratings = pd.Series([np.nan] * 5)
    lean = [0.2] * 5
    # Hindi praise words are read by the lexicon in any language; the others' lean stays evidence where it is read
    assert polarity(texts, ratings, lean=lean, languages=["hi", "und", "hi", "fr", "en"]).tolist() == [
        "positive", "positive", "negative", "positive", "negative"]
    assert polarity(texts, ratings, lean=lean, languages=["hi", "und", "hi", "en", "en"]).tolist() == [
        "positive", "positive", "negative", "negative", "negative"]
    assert polarity(texts, ratings, lean=[np.nan] * 5).tolist() == [  # no lean: the text alone
        "positive", "positive", "neutral", "positive", "positive"]


def test_complaint_lean_compares_nearest_complaint_with_nearest_praise():
    from insight.report import complaint_lean
    from insight.report.polarity import COMPLAINT_PROTOTYPES

    def encode(texts):  # complaints point one way, praise the other
        return np.array([[1.0, 0.0] if t in COMPLAINT_PROTOTYPES else [0.0, 1.0] for t in texts])

    lean = complaint_lean(np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]), encode)
    assert lean.round(2).tolist() == [1.0, -1.0, -0.2]
    assert complaint_lean(np.zeros((0, 2)), encode).shape == (0,)


@pytest.mark.parametrize("text,expected", [
    # praise that names the problem it solved: warm, so evidence quotes it last (the CSAT #2, #16, #24 actions)
    ("Customer executive is too good behavior and soft spoken and istant problem resolving", True),
    ("Good talking experience while resolve the problem with executive.", True),
    # asking and naming the desk are no warmth
    ("Please solve my problem as soon as possible", False), ("Customer care support", False),
    # a complaint in polite words or under a warm-sounding name: a negation or a "should" says it (the dev set's
    # "Super coin" loyalty points, a site "not at all user friendly")
    ("My super coins not credited to be credited by August 13", False),
    ("the website is not at all user friendly", False),
    ("Delivery agent should be more responsible and call first", False),
])
def test_warm_is_a_warm_tone_without_a_complaint_in_it(text, expected):
    from insight.report.polarity import warm

    assert bool(warm([text])[0]) is expected
