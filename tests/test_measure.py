import numpy as np
import pandas as pd

from insight import report
from insight import schema as S
from insight.config import MeasureConfig
from insight.report.measure import (
    add_weeks,
    benjamini_hochberg,
    detect_spikes,
    dominant,
    segment_lift,
    weekly_volume,
)


def test_weeks_are_numbered_from_the_first_monday():
    df = pd.DataFrame({S.TIMESTAMP: pd.to_datetime(["2026-06-03", "2026-06-08", "2026-06-21"], utc=True)})
    assert add_weeks(df)[S.WEEK].tolist() == [1, 2, 3]


def test_weekly_volume_zero_fills():
    df = add_weeks(pd.DataFrame({S.TIMESTAMP: pd.to_datetime(["2026-06-01", "2026-06-15"], utc=True),
                                 S.ROOT_CAUSE: ["delivery", "delivery"]}))
    assert weekly_volume(df)["count"].tolist() == [1, 0, 1]


def test_spike_detected_only_when_improbable():
    quiet = np.array([10, 12, 9, 11, 10, 13, 10, 11])
    assert detect_spikes(quiet, recent_weeks=2) == []
    spiky = np.array([10, 12, 9, 11, 10, 13, 40, 11])
    assert detect_spikes(spiky, recent_weeks=2) == [7]


def test_benjamini_hochberg_known_values():
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.2]))
    assert np.allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.2])  # p * n / rank, made monotone


def test_segment_lift_finds_planted_segment():
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({
        "theme_id": rng.choice(["A", "B"], n),
        "carrier": rng.choice(["X", "Y", "Z"], n),
        S.WEEK: rng.integers(1, 9, n),
    })
    planted = pd.DataFrame({"theme_id": "A", "carrier": "X", S.WEEK: 8}, index=range(60))
    df = pd.concat([df, planted], ignore_index=True)
    out = segment_lift(df, "theme_id", ["carrier"], min_n=8, windows={"A": [8]})
    top = out[out["theme_id"] == "A"].iloc[0]
    assert (top["column"], top["value"]) == ("carrier", "X") and top["lift"] > 2 and top["q_value"] <= 0.05
    assert not ((out["theme_id"] == "B") & (out["value"] == "X")).any()


def test_dominant():
    df = pd.DataFrame({"t": ["a", "a", "a", "b"], "rc": ["x", "x", "y", "z"]})
    d = dominant(df, "t", "rc").set_index("t")
    assert d.loc["a", "rc"] == "x" and d.loc["a", "rc_share"] == round(2 / 3, 3)


def test_a_theme_lift_sentence_names_what_its_complaints_are_about():
    """Regression (real clothing reviews): the action "Shirt and fabric (product category Tops)" was explained by
    "product quality complaints about "Shirt and fit" are 2.3x baseline ...": the sentence named the theme's label
    while the title and the sentence's own subject, its complaints, go by the problem label."""
    rows = []
    for i in range(200):
        theme = "T1" if i < 100 else "T2"
        tops = i % 10 < (8 if theme == "T1" else 2)
        rows.append({S.ID: f"i{i}", S.THEME: theme, S.ROOT_CAUSE: "product_quality", S.POLARITY: "negative",
                     S.CLEAN_TEXT: "thin fabric, runs small", S.STATUS: S.STORED, S.RATING: 2.0,
                     "product_category": "Tops" if tops else "Dresses",
                     S.TIMESTAMP: pd.Timestamp("2026-12-01", tz="UTC")})
    table = pd.DataFrame([{S.THEME: "T1", "label": "Shirt and fit", "problem_label": "Shirt and fabric", "size": 100},
                          {S.THEME: "T2", "label": "Dress and fit", "size": 100}])  # no problem label of its own
    measured = report.measure_run(report.annotate(pd.DataFrame(rows), (1, 5)), table, MeasureConfig())
    assert 'complaints about "Shirt and fabric" are' in measured.sentences["T1"]
    assert 'complaints about "Dress and fit" are' in measured.sentences["T2"]


def test_each_sub_theme_is_measured_with_its_own_cause_and_names():
    """A sub-theme's complaints are counted, and their cause read, apart from its theme's: ranking looks for a
    pocket of complaints inside a theme of praise (``rank_actions``' ``pockets``)."""
    rows = []
    for i in range(100):
        pocket = i < 20
        negative = i < 15 or i in (50, 51)
        rows.append({S.ID: f"i{i}", S.THEME: "T1", S.SUBTHEME: "T1.2" if pocket else "T1.1",
                     S.ROOT_CAUSE: ("product_quality" if pocket else "delivery") if negative else "other",
                     S.POLARITY: "negative" if negative else "positive", S.CLEAN_TEXT: "text", S.STATUS: S.STORED,
                     S.RATING: 2.0 if negative else 5.0, S.TIMESTAMP: pd.Timestamp("2026-12-01", tz="UTC")})
    rows.append({**rows[-1], S.ID: "u", S.THEME: S.UNTHEMED, S.SUBTHEME: S.UNTHEMED})
    table = pd.DataFrame([{S.THEME: "T1", "label": "Sweater color", "problem_label": "Sweater", "size": 100,
                           "subthemes": [{"id": "T1.1", "label": "love / soft", "size": 80},
                                         {"id": "T1.2", "label": "itchy / wear", "size": 20,
                                          "problem_label": "Itchy sweater"}]}])
    measured = report.measure_run(report.annotate(pd.DataFrame(rows), (1, 5)), table, MeasureConfig())
    pockets = measured.pockets.set_index(S.SUBTHEME)
    assert set(pockets.index) == {"T1.1", "T1.2"}  # the unthemed are no theme's pocket
    assert pockets.loc["T1.2", "volume"] == 20 and pockets.loc["T1.2", "complaints"] == 15
    assert pockets.loc["T1.2", S.ROOT_CAUSE] == "product_quality"  # from its complaints, not its praise
    assert pockets.loc["T1.2", S.THEME] == "T1" and pockets.loc["T1.2", "problem_label"] == "Itchy sweater"
    assert pockets.loc["T1.1", S.ROOT_CAUSE] == "delivery" and pockets.loc["T1.1", "label"] == "love / soft"
    assert report.measure_run(report.annotate(pd.DataFrame(rows), (1, 5)), table, MeasureConfig(),
                              pockets=False).pockets.empty


def test_the_unthemed_rows_examples_do_not_hang_on_item_ids():
    """Regression (CSAT remarks in two installations): the unthemed row quoted the first items by id, and ids of
    rows without one are keyed by the installation's own contact key: the same export showed other examples."""
    texts = [f"remark number {w} about nothing in particular" for w in
             ["one", "two", "three", "four", "five", "six", "seven", "eight"]]
    shown = []
    for ids in ([f"i{k}" for k in range(8)], [f"i{7 - k}" for k in range(8)]):
        rows = [{S.ID: i, S.THEME: S.UNTHEMED, S.ROOT_CAUSE: "other", S.POLARITY: "negative", S.CLEAN_TEXT: t,
                 S.STATUS: S.STORED, S.RATING: 2.0, S.TIMESTAMP: pd.Timestamp("2026-12-01", tz="UTC")}
                for i, t in zip(ids, texts)]
        table = pd.DataFrame(columns=[S.THEME, "label", "size"])
        measured = report.measure_run(report.annotate(pd.DataFrame(rows), (1, 5)), table, MeasureConfig(),
                                      n_examples=3)
        shown.append(measured.themes.set_index(S.THEME).loc[S.UNTHEMED, "examples"])
    assert len(shown[0]) == 3 and shown[0] == shown[1]


def test_a_lift_sentence_about_complaints_counts_complaints():
    """Regression (real clothing reviews): "product quality complaints about "Skirt looks" are 6.4x baseline for
    product category Bottoms (n = 760)" explained an action of 31 complaints: the lift was of every review in the
    theme, nine in ten of them praise. A theme's praise in one segment and its complaints in another named the
    praise's segment as where the complaints are."""
    rows = []
    for i in range(200):
        theme = "T1" if i < 100 else "T2"
        negative = i % 100 < (10 if theme == "T1" else 50)
        # T1: its 10 complaints are about tops, its 90 praising reviews about dresses; T2 the other way round
        tops = negative if theme == "T1" else not negative
        rows.append({S.ID: f"i{i}", S.THEME: theme, S.ROOT_CAUSE: "product_quality",
                     S.POLARITY: "negative" if negative else "positive", S.CLEAN_TEXT: "text", S.STATUS: S.STORED,
                     S.RATING: 2.0 if negative else 5.0, "product_category": "Tops" if tops else "Dresses",
                     S.TIMESTAMP: pd.Timestamp("2026-12-01", tz="UTC")})
    table = pd.DataFrame([{S.THEME: "T1", "label": "Skirt and waist", "problem_label": "Skirt looks", "size": 100},
                          {S.THEME: "T2", "label": "Dress fit", "size": 100}])
    measured = report.measure_run(report.annotate(pd.DataFrame(rows), (1, 5)), table, MeasureConfig())
    lifts = measured.theme_segments.set_index(S.THEME)
    assert list(lifts.loc[["T1"], "value"]) == ["Tops"] and lifts.loc["T1", "n"] == 10
    assert measured.sentences["T1"].endswith("baseline for product category Tops (n = 10)")


def test_a_themes_own_cause_complaints_are_counted_in_its_recent_window():
    """What ranking counts of a theme spread over causes (``rank.own_cause``): the complaints of its own cause,
    all of them and those of the recent weeks, praise and the other causes' complaints left out."""
    from insight.report.measure import own_cause_complaints

    weeks = [1, 2, 3, 4, 5, 6, 5, 6, 6, 2]
    items = pd.DataFrame({S.THEME: ["T1"] * 9 + ["T2"], S.WEEK: weeks,
                          S.ROOT_CAUSE: ["checkout"] * 6 + ["delivery", "checkout", "checkout", "delivery"],
                          S.NEGATIVE: [True] * 7 + [False, True, True]})
    out = own_cause_complaints(items, S.THEME, {"T1": "checkout", "T2": "payments"}, recent_weeks=2).set_index(
        S.THEME)
    assert out.at["T1", "cause_complaints"] == 7  # six checkout complaints and one more; praise and delivery out
    assert out.at["T1", "recent_cause_complaints"] == 3  # weeks 5 and 6 of six
    assert out.at["T2", "cause_complaints"] == 0 and out.at["T2", "recent_cause_complaints"] == 0
    undated = own_cause_complaints(items, S.THEME, {"T1": "checkout"}, recent_weeks=2, trends=False)
    assert undated.set_index(S.THEME).at["T1", "recent_cause_complaints"] == 7
