"""Reviewers' root-cause corrections: stored with who and when, shown in the run at once, erased with the
customer, and used as training labels by the next tagger."""

from __future__ import annotations

import json

import pytest

from insight.config import load_taxonomy
from insight.errors import StoreError
from insight.flow import run_and_store
from insight.operations import corrections_as_labels, erase_customer
from insight.store import SQLStore


@pytest.fixture
def stored(tiny_frame, tiny_config):
    result = run_and_store(tiny_frame, tiny_config)
    return tiny_config, result.run_id, SQLStore(tiny_config.store_url)


def test_a_correction_updates_the_run_and_is_kept(stored):
    cfg, run_id, store = stored
    keys = load_taxonomy().keys
    before = store.load(run_id, "items").set_index("item_id")
    entry = store.correct_tag(run_id, "L1", "inventory", "cx-lead", valid=keys, note="test")
    assert entry["old_cause"] == before.at["L1", "root_cause"] and entry["new_cause"] == "inventory"
    after = store.load(run_id, "items").set_index("item_id")
    assert after.at["L1", "root_cause"] == "inventory" and not after.at["L1", "needs_review"]
    assert after.at["L1", "review_reason"] == "corrected"
    assert after.drop(index="L1")["root_cause"].equals(before.drop(index="L1")["root_cause"])
    log = store.tag_corrections()
    assert log[["item_id", "new_cause", "by", "customer_id"]].values.tolist() == [["L1", "inventory", "cx-lead", "c1"]]
    assert log.at[0, "text"] == before.at["L1", "text"]


@pytest.mark.parametrize("args, code", [
    (("L1", "teleportation", "cx-lead"), "E407"),  # not a root cause of the taxonomy
    (("L1", "delivery", ""), "E405"),  # nobody named
    (("L1", "delivery", "  \t"), "E405"),  # regression (issue 16): blanks were accepted as a name
    (("nope", "delivery", "cx-lead"), "E408"),  # no such item
    (("Q1", "delivery", "cx-lead"), "E408"),  # quarantined: carries no root cause
])
def test_invalid_corrections_are_refused(stored, args, code):
    _cfg, run_id, store = stored
    with pytest.raises(StoreError) as info:
        store.correct_tag(run_id, *args, valid=load_taxonomy().keys)
    assert info.value.code == code
    assert store.tag_corrections().empty


def test_latest_correction_wins_and_erasure_removes_them(stored):
    cfg, run_id, store = stored
    keys = load_taxonomy().keys
    store.correct_tag(run_id, "L2", "inventory", "a", valid=keys)
    store.correct_tag(run_id, "L2", "delivery", "b", valid=keys)
    store.correct_tag(run_id, "R1", "payments", "a", valid=keys)
    labels = corrections_as_labels(store).set_index("label")
    assert sorted(labels.index) == ["delivery", "payments"]
    erase_customer("c2", cfg)  # L2's customer
    assert store.tag_corrections()["item_id"].tolist() == ["R1"]


def test_cli_correct_then_train_from_corrections(stored, tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli import app

    cfg, run_id, _store = stored
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(f"home: {cfg.home}\nembed: {{backend: hashing, cache: false}}\n")
    runner = CliRunner()
    fixed = runner.invoke(app, ["correct", run_id, "R2", "--cause", "returns_refunds", "--by", "me",
                                "--config", str(cfg_file)])
    assert fixed.exit_code == 0, fixed.output
    assert "-> returns_refunds by me" in fixed.output
    trained = runner.invoke(app, ["train", "tagger", "--from-corrections", "--out", str(tmp_path / "m"),
                                  "--config", str(cfg_file), "--json"])
    assert trained.exit_code == 0, trained.output
    seeds = sum(len(set([rc.description, *rc.seeds])) for rc in load_taxonomy().root_causes.values())
    assert json.loads(trained.stdout)["metrics"]["n_train"] == seeds + 1
    nothing = runner.invoke(app, ["train", "tagger", "--config", str(cfg_file)])
    assert nothing.exit_code != 0 and "--from-corrections" in nothing.output


def test_the_next_run_learns_a_correction(stored, tiny_frame):
    """A zero-shot tagger is taught reviewers' corrections: the same remark in the next run gets the corrected cause
    (with the hashing embedder, identical text is the only near neighbour, so nothing else moves)."""
    cfg, run_id, store = stored
    keys = load_taxonomy().keys
    before = store.load(run_id, "items").set_index("item_id")
    target = next(k for k in keys if k != before.at["L1", "root_cause"])
    store.correct_tag(run_id, "L1", target, "cx-lead", valid=keys)
    again = run_and_store(tiny_frame, cfg)
    after = again.items.set_index("id") if "id" in again.items else again.items.set_index("item_id")
    assert after.at["L1", "root_cause"] == target
    assert again.manifest["tagger"]["reviewer_labels"] == 1
