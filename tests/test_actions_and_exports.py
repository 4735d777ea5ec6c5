"""Spike control on a stationary history, action lifecycle across runs, and every export format."""

import io
import json

import numpy as np
import pandas as pd
import pytest

from insight import schema as S
from insight.errors import StoreError
from insight.report import to_jira, to_markdown
from insight.report.measure import spike_tests


def test_stationary_history_gives_few_false_alerts():
    """200 theme x segment cells, 20 weekly runs on a stable Poisson history: alerts must stay rare."""
    rng = np.random.default_rng(42)
    rates = rng.uniform(0.5, 30, 40)  # 40 themes x 5 carriers = 200 cells
    weeks = 32
    rows = []
    for t, lam in enumerate(rates):
        for seg in range(5):
            for w in range(1, weeks + 1):
                rows += [{"theme_id": f"T{t}", "carrier": f"C{seg}", S.WEEK: w}] * int(rng.poisson(lam / 5))
    history = pd.DataFrame(rows)
    alerts = cells = weeks_with_alert = 0
    for now in range(13, weeks + 1):  # 20 weekly runs, each testing its newest week
        window = history[history[S.WEEK] <= now]
        tests = spike_tests(window, "theme_id", ["carrier"], recent_weeks=1)
        seg_tests = tests[tests["column"] == "carrier"]
        alerts += int(seg_tests["alert"].sum())
        cells += len(seg_tests)
        weeks_with_alert += bool(tests["alert"].any())
    assert cells >= 190 * 20
    assert alerts / cells <= 0.05
    assert weeks_with_alert / 20 <= 0.05
    print(f"\nstationary: {alerts} false cell alerts in {cells} cell-weeks; {weeks_with_alert}/20 weeks alerted")


def test_a_real_spike_is_found_in_its_cell():
    rng = np.random.default_rng(1)
    rows = [{"theme_id": "late", "carrier": c, S.WEEK: w} for w in range(1, 13) for c in ("A", "B")
            for _ in range(int(rng.poisson(6)))]
    rows += [{"theme_id": "late", "carrier": "A", S.WEEK: w} for w in (11, 12) for _ in range(40)]
    tests = spike_tests(pd.DataFrame(rows), "theme_id", ["carrier"], recent_weeks=3)
    hits = tests[tests["alert"] & tests["column"].notna()]
    assert {(r["column"], r["value"], r["week"]) for r in hits.to_dict("records")} == {
        ("carrier", "A", 11), ("carrier", "A", 12)}
    assert set(tests.loc[tests["alert"] & tests["column"].isna(), "week"]) == {11, 12}  # the theme overall too


ACTIONS = pd.DataFrame([{
    "rank": 1, "theme_id": "TH0001", "theme_label": "late parcels", "root_cause": "delivery", "owner": "Logistics",
    "title": "=Escalate late parcels (carrier Parcelo)", "steps": ["Open an SLA review"], "impact": 120.0,
    "explanation": {"formula": "x"}, "segment": "carrier=Parcelo",
    "segment_sentence": "delivery complaints are 3.1x baseline for carrier Parcelo since week 9 (n = 212)",
    "volume": 300, "recent_volume": 200, "growth": 2.5, "spike_weeks": [9, 10],
    "evidence": ["parcel | late <b>again</b>", "@courier never came"], "status": "approved", "related_themes": []},
    {"rank": 2, "theme_id": "TH0002", "theme_label": "refunds", "root_cause": "returns_refunds", "owner": "Returns",
     "title": "Speed up refunds", "steps": [], "impact": 30.0, "explanation": {}, "segment": "",
     "segment_sentence": "", "volume": 50, "recent_volume": 20, "growth": 1.0, "spike_weeks": [],
     "evidence": ["refund?"], "status": "proposed", "related_themes": []}])


def test_markdown_brief_never_renders_a_customers_links_or_images():
    """Regression (issue 16): a quote holding markdown image or link syntax became a remote image (a tracking
    pixel) or a link in the weekly brief wherever it was rendered; emphasis and code marks too."""
    hostile = ACTIONS.copy()
    hostile.at[0, "evidence"] = ["see ![x](http://evil.example/p.png) and [click](http://evil.example) *now* `x`"]
    text = to_markdown({"run_id": "r1", "actions": hostile})
    quote = next(line for line in text.splitlines() if "evil.example" in line)
    assert "![x](" not in quote and "[click](" not in quote and "*now*" not in quote and "`x`" not in quote
    assert "\\[click\\]" in quote  # escaped, so it shows as typed


def test_jira_csv_round_trip_and_injection():
    back = pd.read_csv(io.StringIO(to_jira(ACTIONS)), keep_default_na=False)
    assert list(back.columns) == ["Summary", "Description", "Priority", "Labels", "Component"]
    assert back["Summary"][0] == "'=Escalate late parcels (carrier Parcelo)"  # formula neutralised
    assert back["Priority"].tolist() == ["Highest", "Low"]
    assert "parcel | late" in back["Description"][0] and back["Component"][1] == "Returns"
    assert back["Labels"][0] == "insight delivery TH0001"


def test_markdown_brief_round_trip():
    text = to_markdown({"run_id": "r1", "counts": {"read": 10, "stored": 8}, "actions": ACTIONS,
                        "spikes": ["late parcels: spike in week(s) 9, 10"], "new_themes": ["TH0003: x"],
                        "changes": {"persisted": 3, "born": 1}})
    assert text.startswith("# Weekly brief: run r1")
    for heading in ("## Top actions", "## Spikes", "## New themes", "## What changed"):
        assert heading in text
    assert "&lt;b&gt;" in text and "<b>" not in text and "parcel \\| late" in text
    assert "1. **=Escalate late parcels (carrier Parcelo)** (owner: Logistics, impact 120, status: approved)" in text


def test_the_brief_names_the_themes_an_action_folds():
    """Read as a CX lead on the CSAT export: #2 "Customer care" folded three themes ("Customer care", "Customer
    service", "Support"), which the CSV and the app showed and the brief did not: it read as one theme of 691
    complaints."""
    from insight.report import brief

    actions = ACTIONS.assign(related_themes=[["TH0007", "TH0009"], []])
    themes = pd.DataFrame({"theme_id": ["TH0001", "TH0002", "TH0007", "TH0009"],
                           "label": ["late parcels", "refunds", "parcel | lost", "courier"]})
    events = pd.DataFrame(columns=["run_id", "event", "theme_id"])
    said = brief({"run_id": "r1", "counts": {}}, actions, pd.DataFrame(columns=["level", "column", "sentence"]),
                 themes, events, None)
    text = to_markdown(said)
    assert '   - 3 themes: "late parcels", "parcel \\| lost", "courier"' in text
    assert text.count(" themes: ") == 1  # an action of one theme says nothing more


def test_the_brief_names_a_folded_theme_by_what_its_complaints_say():
    """Regression (CSAT export, read as a CX lead): #1 "Resolve my problem" listed a theme "Customer care" among the
    five it folds, right above #2 "Customer care". That theme was folded for its complaints, which go by "Issue not
    resolved" (its ``problem_label``); its own label is what all its members, praise included, say most."""
    from insight.report import brief

    actions = ACTIONS.assign(related_themes=[["TH0007"], ["TH0008", "TH0009"]])
    themes = pd.DataFrame({"theme_id": ["TH0001", "TH0002", "TH0007", "TH0008", "TH0009"],
                           "label": ["late parcels", "refunds", "Customer care", "refund", "refund money"],
                           "problem_label": ["late parcels", "refunds", "Issue not resolved", "refunds", "refund"]})
    events = pd.DataFrame(columns=["run_id", "event", "theme_id"])
    said = brief({"run_id": "r1", "counts": {}}, actions, pd.DataFrame(columns=["level", "column", "sentence"]),
                 themes, events, None)
    text = to_markdown(said)
    assert '   - 2 themes: "late parcels", "Issue not resolved"' in text
    assert '   - 3 themes: "refunds" (2), "refund"' in text  # two themes whose complaints go by one name: said once


def test_action_lifecycle_persists_across_runs(tiny_frame, tiny_config):
    from typer.testing import CliRunner

    from insight.flow import run_and_store
    from insight.store import SQLStore
    from pipelines.cli import app

    cfg = tiny_config
    first = run_and_store(tiny_frame, cfg)
    store = SQLStore(cfg.store_url)
    key = first.actions.iloc[0]["theme_id"]
    with pytest.raises(StoreError, match="cannot become"):
        store.set_action_status(key, "done", by="ana")
    with pytest.raises(StoreError, match="who"):
        store.set_action_status(key, "approved", by="")
    with pytest.raises(StoreError, match="who"):  # regression (issue 16): blanks were accepted as a name
        store.set_action_status(key, "approved", by=" ")
    store.set_action_status(key, "approved", by="ana", note="carrier call booked")
    assert store.load(first.run_id, "actions").set_index("theme_id").at[key, "status"] == "approved"
    second = run_and_store(tiny_frame, cfg)
    assert second.actions.set_index("theme_id").at[key, "status"] == "approved"  # no duplicate proposal
    out = CliRunner().invoke(app, ["action", key, "--status", "in_progress", "--by", "ben"],
                             env={"INSIGHT_HOME": str(cfg.home_path)})
    assert out.exit_code == 0, out.output
    history = store.action_history(key)
    assert history["status"].tolist() == ["approved", "in_progress"] and history["by"].tolist() == ["ana", "ben"]
    for fmt in ("jira", "markdown", "json", "csv"):
        res = CliRunner().invoke(app, ["export", "--format", fmt], env={"INSIGHT_HOME": str(cfg.home_path)})
        assert res.exit_code == 0, res.output
        if fmt == "json":
            assert json.loads(res.stdout)["rows"][0]["theme_id"]


def test_exported_actions_carry_their_decision_and_say_why_in_words():
    """Issue 19: the CSV a product team takes away lacked who decided and the note, and its explanation was a
    JSON blob."""
    import pandas as pd

    from insight.report import explain_impact, export, with_decisions

    why = {"volume": 40, "complaints": 30, "negative_share": 0.75, "severity": 1.1, "recent_complaints": 12,
           "growth": 4.0, "spike_factor": 1.5, "impact_interval_90": [20.0, 45.0], "repeat_contact_rate": 0.25}
    actions = pd.DataFrame([{"rank": 1, "theme_id": "TH0001", "title": "Fix it", "impact": 39.6,
                             "explanation": why, "status": "proposed"},
                            {"rank": 2, "theme_id": "TH0002", "title": "Look", "impact": 10.0,
                             "explanation": {"complaints": 10, "severity": 1.0}, "status": "proposed"}])
    log = pd.DataFrame([{"entry_id": 1, "action_key": "TH0001", "status": "approved", "by": "ana",
                         "at": "2026-11-30 09:00:00", "note": "owner agreed", "version": 1}])
    out = with_decisions(actions, log)
    assert out.loc[0, ["status", "decided_by", "note"]].tolist() == ["approved", "ana", "owner agreed"]
    assert out.loc[1, ["status", "decided_by", "note"]].tolist() == ["proposed", "", ""]
    assert "explanation" not in out.columns
    assert out.loc[0, "why"] == explain_impact(39.6, why)
    assert out.loc[0, "why"].startswith("impact 40 = 12 complaints in the recent weeks x severity 1.10")
    assert "square root of growth 4.0x" in out.loc[0, "why"] and "90 % interval 20-45" in out.loc[0, "why"]
    assert "no growth figure" in out.loc[1, "why"]
    csv = export(out, "csv")
    assert "decided_by" in csv.splitlines()[0] and "owner agreed" in csv


def test_filter_items_by_dates_segments_and_confidence():
    import pandas as pd
    import pytest

    from insight.report import filter_items, is_filtered

    items = pd.DataFrame({"item_id": ["a", "b", "c", "d"], "carrier": ["Parcelo", "Swift", "Parcelo", None],
                          "timestamp": ["2026-07-01", "2026-07-08", "2026-07-20", "2026-07-21"],
                          "confidence": [0.9, 0.5, 0.7, 0.95]})
    assert list(filter_items(items, {"carrier": ["Parcelo"]})["item_id"]) == ["a", "c"]
    assert list(filter_items(items, {"since": "2026-07-08", "until": "2026-07-20"})["item_id"]) == ["b", "c"]
    assert list(filter_items(items, {"min_confidence": 0.8})["item_id"]) == ["a", "d"]
    assert len(filter_items(items, {"carrier": [], "since": None})) == 4 and not is_filtered({"carrier": []})
    with pytest.raises(KeyError, match="no column 'warehouse'"):
        filter_items(items, {"warehouse": ["W1"]})


def test_filter_items_by_a_confidence_range():
    """Issue 19: the sidebar's confidence filter is a range (a reviewer looks at what the tagger was unsure of)."""
    from insight.report import filter_items

    items = pd.DataFrame({"item_id": list("abcd"), "confidence": [0.1, 0.4, 0.7, None], "theme_id": list("xxyy")})
    assert filter_items(items, {"max_confidence": 0.5})["item_id"].tolist() == ["a", "b", "d"]
    assert filter_items(items, {"min_confidence": 0.3, "max_confidence": 0.8})["item_id"].tolist() == ["b", "c"]
    assert filter_items(items, {"theme_id": ["y"], "max_confidence": 0.5})["item_id"].tolist() == ["d"]
