"""Run health: a short report of what limits a run's conclusions, shown in the CLI, the app and the brief (issue 14).

Regression: on real exports the largest CSAT theme grouped romanised Hindi by language, and airline themes grouped
by the brand handle, and nothing told the reader.
"""

from __future__ import annotations

import pandas as pd

from insight import schema as S
from insight.report import health


def _items(rows: list[tuple[str, str, str, bool]]) -> pd.DataFrame:
    """(theme, text, language, needs_review) rows, all stored."""
    return pd.DataFrame([{S.THEME: t, S.CLEAN_TEXT: x, S.LANGUAGE: lang, "needs_review": r, S.STATUS: S.STORED,
                          S.REASON: None} for t, x, lang, r in rows])


THEMES = pd.DataFrame({S.THEME: ["TH0001", "TH0002", "TH0003"], "label": ["late / parcel", "hai / se", "flight"]})


def test_flags_language_and_brand_themes_praise_and_review_share():
    rows = [("TH0001", f"my parcel is late {i}", "en", i < 2) for i in range(10)]
    rows += [("TH0002", f"mera order nahi aaya {i}", "hi", True) for i in range(9)] + [("TH0002", "late", "en", False)]
    rows += [("TH0003", f"@JetBlue my flight was delayed {i}", "en", False) for i in range(8)]
    rows += [("TH0003", "@Delta flight delayed", "en", False), ("TH0003", "flight delayed", "en", False)]
    items = pd.concat([_items(rows), pd.DataFrame([{S.STATUS: S.NON_ACTIONABLE, S.REASON: "praise_only"}] * 10)],
                      ignore_index=True)
    report = health(items, THEMES, {"trends": False, "reason": "no timestamps in the export"}, readable=["en"])
    assert report["praise_share"] == 0.25 and report["needs_review_share"] == round(11 / 30, 3)
    assert [(t["theme_id"], t["language"]) for t in report["language_themes"]] == [("TH0002", "hi")]
    assert [(t["theme_id"], t["handle"]) for t in report["brand_themes"]] == [("TH0003", "@jetblue")]
    notes = " ".join(report["notes"])
    assert "no timestamps" in notes and "TH0002" in notes and "@jetblue" in notes and "25 %" in notes


def test_a_healthy_run_has_nothing_to_say():
    rows = [("TH0001", f"my parcel is late {i}", "en", False) for i in range(10)]
    report = health(_items(rows), THEMES, {"trends": True, "reason": None}, readable=["en"])
    assert report["notes"] == [] and report["language_themes"] == [] and report["brand_themes"] == []


def test_general_dissatisfaction_is_counted_and_said_once():
    rows = [("TH0001", f"my parcel is late {i}", "en", False) for i in range(10)]
    items = pd.concat([_items(rows), pd.DataFrame([{S.STATUS: S.NON_ACTIONABLE,
                                                    S.REASON: "general_dissatisfaction"}] * 3)], ignore_index=True)
    report = health(items, THEMES, {"trends": True, "reason": None}, readable=["en"])
    assert report["general_dissatisfaction"] == 3
    assert [n for n in report["notes"] if "general dissatisfaction" in n] != []


def test_complaints_in_out_of_taxonomy_themes_are_said():
    rows = [("TH0001", f"my parcel is late {i}", "en", False) for i in range(10)]
    rows += [("TH0002", f"worst company ever {i}", "en", False) for i in range(6)]
    items = _items(rows).assign(**{S.NEGATIVE: True})
    themes = THEMES.assign(**{S.ROOT_CAUSE: ["delivery", "other", "delivery"]})
    report = health(items, themes, {"trends": True, "reason": None}, readable=["en"], out_of_taxonomy="other")
    assert report["out_of_taxonomy_themes"] == [{"theme_id": "TH0002", "label": "hai / se", "complaints": 6}]
    assert any("6 complaints" in n and "not actions" in n for n in report["notes"])
    assert health(items, themes, {"trends": True, "reason": None}, readable=["en"])["out_of_taxonomy_themes"] == []


def test_a_theme_where_other_only_leads_is_not_said_to_name_nothing_operational():
    """Regression (real CSAT remarks): "Fraud sellers" (299 items: "remove fake sellers", "blacklist sellers who
    cancel") was cause 'other' at a 24 % share, and the run health said its complaints "name nothing operational
    to fix (general anger, off-topic)". Where no cause holds half of a theme's complaints, the health says that."""
    rows = [("TH0001", f"my parcel is late {i}", "en", False) for i in range(10)]
    rows += [("TH0002", f"worst company ever {i}", "en", False) for i in range(6)]
    rows += [("TH0003", f"remove the fake sellers {i}", "en", False) for i in range(8)]
    items = _items(rows).assign(**{S.NEGATIVE: True})
    themes = THEMES.assign(**{S.ROOT_CAUSE: ["delivery", "other", "other"],
                              f"{S.ROOT_CAUSE}_share": [0.9, 0.8, 0.24]})
    report = health(items, themes, {"trends": True, "reason": None}, readable=["en"], out_of_taxonomy="other")
    assert [t["theme_id"] for t in report["out_of_taxonomy_themes"]] == ["TH0002"]
    assert [(t["theme_id"], t["share"]) for t in report["mixed_cause_themes"]] == [("TH0003", 0.24)]
    said = " ".join(report["notes"])
    assert "6 complaints" in said and "nothing operational" in said
    mixed = next(n for n in report["notes"] if "TH0003" in n)
    assert "nothing operational" not in mixed and "24 %" in mixed and "no root cause" in mixed


def test_the_complaints_a_spread_themes_action_leaves_out_are_named():
    """A theme that no cause holds half of is ranked on its leading cause's complaints alone (``rank.own_cause``):
    the run health says how many complaints that leaves in no action, and where, so a CX lead reads them."""
    rows = [("TH0001", f"my parcel is late {i}", "en", False) for i in range(10)]
    rows += [("TH0002", f"worst company ever {i}", "en", False) for i in range(6)]
    rows += [("TH0003", f"wrong item in the box {i}", "en", False) for i in range(20)]
    items = _items(rows).assign(**{S.NEGATIVE: True})
    themes = THEMES.assign(**{S.ROOT_CAUSE: ["delivery", "other", "delivery"],
                              f"{S.ROOT_CAUSE}_share": [0.9, 0.8, 0.45]})
    report = health(items, themes, {"trends": True, "reason": None}, readable=["en"], out_of_taxonomy="other")
    assert [(t["theme_id"], t["share"]) for t in report["split_cause_themes"]] == [("TH0003", 0.45)]
    said = next(n for n in report["notes"] if "TH0003" in n)
    assert "delivery 45 % of 20" in said and "so 11 others count in no action" in said
    assert report["mixed_cause_themes"] == []
    assert [t["theme_id"] for t in report["out_of_taxonomy_themes"]] == ["TH0002"]
    # where the items carry their causes, the health counts them as ranking does, not the table's rounded share
    tagged = items.assign(**{S.ROOT_CAUSE: ["delivery"] * 10 + ["other"] * 6 + ["delivery"] * 9 + ["returns_refunds"]
                             * 11})
    report = health(tagged, themes.assign(**{f"{S.ROOT_CAUSE}_share": [0.9, 0.8, 0.5]}), {"trends": True},
                    readable=["en"], out_of_taxonomy="other")
    assert [(t["theme_id"], t["share"], t["own"]) for t in report["split_cause_themes"]] == [("TH0003", 0.45, 9)]
