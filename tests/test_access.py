"""Roles are enforced by the store on every reviewer's write, every write is audited in its own transaction, and a
write made from a stale page is refused (issue 19)."""

from __future__ import annotations

import pandas as pd
import pytest

from insight import open_store
from insight.access import Actor, Policy
from insight.errors import AccessError, StoreError
from insight.flow import run_and_store
from insight.report import agreement, cohen_kappa, compare_runs

ROLES = {"admin": ["lead@shop.com"], "reviewer": ["group:cx-team", "ana@shop.com"], "viewer": ["*@shop.com"]}


def test_a_role_comes_from_emails_domains_and_groups_and_the_highest_wins():
    policy = Policy(ROLES, default_role=None)
    assert policy.role_of("lead@shop.com") == "admin"
    assert policy.role_of("ANA@shop.com") == "reviewer"  # e-mails match ignoring case
    assert policy.role_of(Actor("bo@shop.com", ("CX-team",))) == "reviewer"  # the group beats the domain's viewer
    assert policy.role_of("bo@shop.com") == "viewer"
    assert policy.role_of("eve@elsewhere.com") is None
    assert Policy(ROLES, default_role="viewer").role_of("eve@elsewhere.com") == "viewer"
    with pytest.raises(AccessError) as err:
        policy.require("bo@shop.com", "reviewer", "deciding on actions")
    assert err.value.code == "E801" and "viewer" in err.value.message and "access.roles.reviewer" in err.value.message
    with pytest.raises(AccessError) as err:
        policy.require("eve@elsewhere.com", "viewer", "reading")
    assert err.value.code == "E802"
    local = Policy()
    assert local.local and local.require("anyone", "admin", "x") == ("anyone", "local")


@pytest.fixture
def stored(tiny_frame, tiny_config):
    result = run_and_store(tiny_frame, tiny_config)
    return result, tiny_config


def _with_roles(cfg, **access):
    return cfg.model_copy(update={"access": cfg.access.model_copy(update=access)})


def test_a_viewer_is_refused_every_write_in_the_store_itself(stored):
    result, cfg = stored
    store = open_store(_with_roles(cfg, roles=ROLES))
    key = result.actions.iloc[0]["theme_id"]
    item = result.items[result.items["status"] == "stored"].iloc[0]
    theme = result.themes[result.themes["theme_id"] != "unthemed"].iloc[0]["theme_id"]
    from insight.operations import edit_theme

    writes = [
        lambda who: store.set_action_status(key, "approved", who),
        lambda who: store.correct_tag(result.run_id, item["item_id"], "payments", who, valid=["payments"]),
        lambda who: edit_theme("rename", _with_roles(cfg, roles=ROLES), by=who, theme_id=theme, label="x"),
    ]
    for write in writes:
        with pytest.raises(AccessError) as err:
            write("bo@shop.com")
        assert err.value.code == "E801"
    assert store.audit().empty and store.action_history().empty and store.tag_corrections().empty
    for write in writes:  # a reviewer may
        write(Actor("bo@shop.com", ("cx-team",)))
    log = store.audit()
    assert log["action"].tolist() == ["action_status", "tag_correction", "theme_edit"]
    assert set(log["actor"]) == {"bo@shop.com"} and set(log["role"]) == {"reviewer"}
    assert log.iloc[0]["before"]["status"] == "proposed" and log.iloc[0]["after"]["status"] == "approved"
    assert log.iloc[1]["before"]["root_cause"] == item["root_cause"]
    assert log.iloc[1]["after"]["root_cause"] == "payments"


def test_local_mode_keeps_the_name_and_marks_the_role_local(stored):
    result, cfg = stored
    store = open_store(cfg)
    store.set_action_status(result.actions.iloc[0]["theme_id"], "approved", "ana", assignee="Warehouse team")
    log = store.audit()
    assert log[["actor", "role", "action"]].values.tolist() == [["ana", "local", "action_status"]]
    assert store.action_history().iloc[-1]["assignee"] == "Warehouse team"
    store.set_action_status(result.actions.iloc[0]["theme_id"], "in_progress", "ana")  # keeps the assignee
    assert store.action_history().iloc[-1]["assignee"] == "Warehouse team"


def test_a_decision_or_correction_from_a_stale_page_is_refused_never_overwritten(stored):
    result, cfg = stored
    store = open_store(cfg)
    key = result.actions.iloc[0]["theme_id"]
    store.set_action_status(key, "approved", "ana", expected_version=0)  # ana saw no decision
    with pytest.raises(StoreError) as err:  # ben's page was loaded before ana's decision
        store.set_action_status(key, "rejected", "ben", expected_version=0)
    assert err.value.code == "E409" and "approved" in err.value.message
    assert store.action_history(key)["status"].tolist() == ["approved"]

    item = result.items[result.items["status"] == "stored"].iloc[0]
    seen = item["root_cause"]
    valid = ["payments", "delivery", seen]
    store.correct_tag(result.run_id, item["item_id"], "payments", "ana", valid=valid, expected_cause=seen)
    with pytest.raises(StoreError) as err:
        store.correct_tag(result.run_id, item["item_id"], "delivery", "ben", valid=valid, expected_cause=seen)
    assert err.value.code == "E409"
    items = store.load(result.run_id, "items").set_index("item_id")
    assert items.at[item["item_id"], "root_cause"] == "payments"
    assert store.audit()["actor"].tolist() == ["ana", "ana"]  # the refused writes left no audit row


def test_a_run_stores_each_items_place_on_the_theme_map(stored):
    result, cfg = stored
    items = open_store(cfg).load(result.run_id, "items")
    placed = items[items["status"] == "stored"]
    assert placed[["map_x", "map_y"]].notna().all().all()
    assert items.loc[items["status"] != "stored", "map_x"].isna().all()
    themed = placed[placed["theme_id"] != "unthemed"]
    centres = themed.groupby("theme_id")[["map_x", "map_y"]].mean()
    spread = themed.groupby("theme_id")[["map_x", "map_y"]].std().fillna(0).to_numpy().mean()
    if len(centres) >= 2:  # themes are islands: their centres lie further apart than their items spread
        gaps = [((centres.iloc[i] - centres.iloc[j]) ** 2).sum() ** 0.5
                for i in range(len(centres)) for j in range(i + 1, len(centres))]
        assert min(gaps) > spread


def test_reviewer_agreement_and_kappa():
    rows = []
    for n in range(10):  # ana and ben label the same 10 items; they disagree on two
        rows.append({"item_id": f"i{n}", "by": "ana", "old_cause": "delivery", "new_cause": "delivery"})
        rows.append({"item_id": f"i{n}", "by": "ben", "old_cause": "delivery",
                     "new_cause": "payments" if n < 2 else "delivery"})
    rows.append({"item_id": "i0", "by": "ben", "old_cause": "delivery", "new_cause": "delivery"})  # ben changes
    corrections = pd.DataFrame(rows).assign(entry_id=range(len(rows)))
    stats = agreement(corrections)
    assert stats["shared_items"] == 10 and stats["agreement"] == pytest.approx(0.9)
    assert list(stats["disagreements"].index) == ["i1"]
    assert stats["reviewers"] == {"ana": 10, "ben": 10}
    assert cohen_kappa(["a", "a", "b", "b"], ["a", "a", "b", "b"]) == 1.0
    assert cohen_kappa(["a", "b", "a", "b"], ["a", "a", "b", "b"]) == pytest.approx(0.0)


def test_compare_runs_names_themes_born_grown_shrunk_and_gone_and_actions_moved():
    before = {"themes": pd.DataFrame({"theme_id": ["A", "B", "C", "D"], "label": ["a", "b", "c", "d"],
                                      "size": [100, 50, 40, 10]}),
              "actions": pd.DataFrame({"theme_id": ["A", "B"], "title": ["fix a", "fix b"], "rank": [1, 2]})}
    after = {"themes": pd.DataFrame({"theme_id": ["A", "B", "C", "E"], "label": ["a", "b", "c", "e"],
                                     "size": [101, 80, 20, 30]}),
             "actions": pd.DataFrame({"theme_id": ["B", "A", "E"], "title": ["fix b", "fix a", "fix e"],
                                      "rank": [1, 2, 3]})}
    out = compare_runs(before, after)
    what = out["themes"].set_index("theme_id")["what"].to_dict()
    assert what == {"A": "steady", "B": "grew", "C": "shrank", "D": "gone", "E": "born"}
    assert out["themes"]["theme_id"].tolist()[0] == "E"  # born first
    moved = out["actions"].set_index("theme_id")["moved"].to_dict()
    assert moved == {"B": "up 1", "A": "down 1", "E": "new"}
