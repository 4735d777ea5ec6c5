"""The real thing: packaged all-MiniLM-L6-v2, real HDBSCAN and spaCy on the bundled demo, fully offline."""

import json
import socket

import pytest

from insight import schema as S
from insight.config import load_config
from insight.demo import DEMO_OVERRIDES, INCIDENTS, demo_path
from insight.flow import run_and_store
from insight.store import SQLStore

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    cfg = load_config(home=str(home), **DEMO_OVERRIDES)
    real_connect = socket.socket.connect

    def no_network(self, address):  # any attempt to reach a hub fails the test loudly
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"network access attempted: {address}")
        return real_connect(self, address)

    socket.socket.connect = no_network
    try:
        result = run_and_store(demo_path(), cfg)
    finally:
        socket.socket.connect = real_connect
    return result, cfg


def test_accounting(demo_run):
    result, _ = demo_run
    c = result.counts
    assert c.read == c.stored + c.duplicates + c.quarantined + c.non_actionable
    assert c.quarantined == 4 and c.duplicates > 0 and c.non_actionable > 0


def test_both_incidents_in_top_three_with_segment_and_owner(demo_run):
    result, _ = demo_run
    top = result.summary(top=3)["top_actions"]
    for spec in INCIDENTS.values():
        hits = [a for a in top if a["root_cause"] == spec["root_cause"] and a["owner"] == spec["owner"]
                and (a["segment"] == f"{spec['column']}={spec['value']}"
                     or any(spec["value"].lower() in e.lower() for e in a["evidence"]))]
        assert hits, f"{spec} not in top 3: {json.dumps(top, indent=1)[:2000]}"


def test_incident_spikes_found_in_their_weeks(demo_run):
    result, _ = demo_run
    for spec in INCIDENTS.values():
        actions = result.actions[(result.actions["root_cause"] == spec["root_cause"])
                                 & (result.actions["segment"] == f"{spec['column']}={spec['value']}")]
        assert len(actions)
        assert set(spec["weeks"]) & set(actions.iloc[0]["spike_weeks"])


def test_no_pii_reaches_the_store(demo_run):
    result, cfg = demo_run
    items = SQLStore(cfg.store_url).load(result.run_id, "items")
    text = items["text"].fillna("")
    assert not text.str.contains(r"@example\.").any()
    assert not text.str.contains(r"\b4\d{3} \d{4} \d{4} \d{4}\b").any()
    assert result.manifest["pii_redactions"]["EMAIL"] > 10


def test_self_check_is_computed_from_ground_truth(demo_run):
    result, cfg = demo_run
    items = SQLStore(cfg.store_url).load(result.run_id, "items")
    stored = items[items["status"] == S.STORED]
    expected = (stored["root_cause"] == stored["true_root_cause"]).mean()
    check = result.manifest["self_check"]
    assert check["n"] == len(stored)
    assert check["accuracy"] == pytest.approx(expected, abs=1e-4)
    print(f"\ndemo self-check root-cause accuracy: {check['accuracy']:.3f} on {check['n']} items")


def test_themes_are_described(demo_run):
    result, _ = demo_run
    themes = result.themes[result.themes["theme_id"] != S.UNTHEMED]
    assert len(themes) >= 10
    assert themes["label"].str.len().gt(0).all()
    assert themes["keywords"].map(len).gt(0).mean() > 0.95  # a theme of greetings has no content words
    assert themes["examples"].map(len).ge(3).all()
    assert themes["key_phrases"].map(len).gt(0).mean() > 0.8
    assert (result.themes["theme_id"] == S.UNTHEMED).sum() <= 1  # outliers, if any, are kept and shown
    stored = result.items[result.items[S.STATUS] == S.STORED]
    themed = stored[stored[S.THEME] != S.UNTHEMED]
    assert (themed[S.SUBTHEME].str.split(".").str[0] == themed[S.THEME]).all()  # root cause > theme > sub-theme
    assert themes["root_cause_mix"].map(lambda m: abs(sum(m.values()) - 1) < 0.01).all()
