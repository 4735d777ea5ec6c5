"""No invented trends: without timestamps, or with less history than a baseline needs, no growth, spike or "since
week N" claim appears anywhere, and the run says why once (issue 14; regression: every clothing-review action read
"since week 1" with growth 1,535 because all items fell in one week)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from insight import schema as S
from insight.flow import run, run_and_store
from insight.operations import weekly_brief
from insight.report import to_jira, to_markdown

LATE = ["my parcel is late again", "parcel still not delivered, very late", "late delivery, parcel missing",
        "the courier is late with my parcel", "parcel late by a week", "where is my parcel, it is late"]
REFUND = ["no refund yet for my return", "refund not received after return", "still waiting on my refund",
          "return sent, refund missing", "I want my refund for the return", "refund for return is late"]


def _frame(weeks: int, per_week: int = 2, timestamps: bool = True) -> pd.DataFrame:
    rows = []
    for w in range(weeks):
        for i in range(per_week):
            for j, (texts, carrier) in enumerate(((LATE, "Parcelo"), (REFUND, "SwiftShip"))):
                n = len(rows)
                rows.append({"id": f"r{n}", "text": f"{texts[(w + i) % len(texts)]} (ticket {n})",
                             "customer_id": f"c{n}", "carrier": carrier, "rating": 1 + j,
                             "timestamp": (pd.Timestamp("2026-01-05", tz="UTC") + pd.Timedelta(days=7 * w + i)
                                           ).isoformat()})
    frame = pd.DataFrame(rows)
    return frame if timestamps else frame.drop(columns="timestamp")


def _claims(result) -> list[str]:
    """Every sentence and figure a reader sees that could claim a trend."""
    out = result.segments["sentence"].tolist() + result.actions["segment_sentence"].tolist()
    out += [json.dumps(e) for e in result.actions["explanation"]]
    return out


@pytest.mark.parametrize("weeks,timestamps,why", [(3, False, "no timestamps"), (3, True, "3 weeks of history")])
def test_no_trend_claims_without_enough_history(tiny_config, weeks, timestamps, why):
    result = run(_frame(weeks, timestamps=timestamps), tiny_config)
    history = result.manifest["history"]
    assert history["trends"] is False and why in history["reason"]
    assert result.summary()["history"] == history  # the run says why, once, where a user reads it
    assert any(history["reason"] in note for note in result.summary()["health"]["notes"])
    assert len(result.actions) > 0
    assert result.actions["growth"].isna().all() and not any(result.actions["spike_weeks"].map(len))
    assert not any("since week" in c for c in _claims(result))
    for a in result.actions.to_dict("records"):  # impact ranks on complaints and severity alone
        why_rank = a["explanation"]
        assert why_rank["formula"] == "complaints x severity" and "growth" not in why_rank
        assert a["impact"] == pytest.approx(a["volume"] * why_rank["severity"], rel=1e-3)
        lo, hi = why_rank["impact_interval_90"]
        assert lo <= a["impact"] <= hi
    assert "growth" not in to_jira(result.actions) and "spike weeks" not in to_jira(result.actions)


def test_the_brief_says_why_once_and_claims_no_spike(tiny_config):
    result = run_and_store(_frame(3, timestamps=False), tiny_config)
    from insight import open_store

    text = to_markdown(weekly_brief(open_store(tiny_config), result.run_id))
    assert text.count("no timestamps") == 1 and "spike in week" not in text and "since week" not in text
    assert "## Run health" in text and "none claimed (see Run health)" in text


def test_enough_history_keeps_trends(tiny_config):
    result = run(_frame(12), tiny_config)
    assert result.manifest["history"] == {"trends": True, "timestamps": True, "weeks": 12, "reason": None}
    assert result.actions["growth"].notna().all()
    assert all(a["explanation"]["formula"].startswith("recent_volume") for a in result.actions.to_dict("records"))
    assert S.WEEK in result.items.columns
