"""Theme registry: matching events on constructed cases, reviewers' edits, stable ids across runs."""

import numpy as np
import pandas as pd
import pytest

from insight import schema as S
from insight.errors import InsightError
from insight.themes import (
    Registry,
    assign_to_registry,
    incremental_assign,
    match,
    merge,
    move,
    rename,
    split,
    sticky,
)


def unit(*rows):
    X = np.array(rows, dtype=np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


E = np.eye(4, dtype=np.float32)


def first_run(k=2):
    centroids = E[:k]
    labels = np.repeat(np.arange(k), 10)
    keys = [f"i{j}" for j in range(len(labels))]
    ids, events, reg = match(Registry(), centroids, labels, keys, {}, [10] * k, [f"t{c}" for c in range(k)])
    return ids, events, reg, keys, labels


def test_first_run_everything_is_born():
    ids, events, reg, *_ = first_run()
    assert ids == ["TH0001", "TH0002"] and [e["event"] for e in events] == ["born", "born"]
    assert reg.active().all()


def test_same_themes_persist_with_same_ids():
    ids, _, reg, keys, labels = first_run()
    previous = dict(zip(keys, [ids[c] for c in labels]))
    ids2, events, _ = match(reg, E[:2] * 0.99 + 0.01, labels, keys, previous, [10, 10], ["a", "b"])
    assert ids2 == ids and {e["event"] for e in events} == {"persisted"}


def test_order_of_new_themes_does_not_matter():
    ids, _, reg, keys, labels = first_run()
    previous = dict(zip(keys, [ids[c] for c in labels]))
    swapped = 1 - labels
    ids2, _, _ = match(reg, E[[1, 0]], swapped, keys, previous, [10, 10], ["b", "a"])
    assert ids2 == ["TH0002", "TH0001"]


def test_split_birth_and_death():
    ids, _, reg, keys, labels = first_run(2)
    previous = dict(zip(keys, [ids[c] for c in labels]))
    # theme 0's items split into two new themes; theme 1 disappears; a brand-new theme appears
    new_labels = np.array([0] * 5 + [1] * 5 + [-1] * 10 + [2] * 0)
    keys2 = keys + [f"n{j}" for j in range(6)]
    new_labels = np.concatenate([new_labels, [2] * 6])
    centroids = unit([1, 0.2, 0, 0], [1, -0.2, 0, 0], [0, 0, 0, 1])
    ids2, events, reg2 = match(reg, centroids, new_labels, keys2, previous, [5, 5, 6], ["a", "b", "c"])
    kinds = {e["event"] for e in events}
    assert {"split", "born", "died"} <= kinds
    split_event = next(e for e in events if e["event"] == "split")
    assert split_event["theme_id"] == "TH0001" and "TH0001" in split_event["into"] and len(split_event["into"]) == 2
    assert next(e for e in events if e["event"] == "died")["theme_id"] == "TH0002"
    assert reg2.status[reg2.ids.index("TH0002")] == "dead"


def test_merge_event():
    ids, _, reg, keys, labels = first_run(2)
    previous = dict(zip(keys, [ids[c] for c in labels]))
    ids2, events, reg2 = match(reg, unit([1, 1, 0, 0]), np.zeros(20, dtype=int), keys, previous, [20], ["ab"])
    merged = next(e for e in events if e["event"] == "merged")
    assert merged["theme_id"] in ids and len(merged["from"]) == 1
    assert sorted([merged["theme_id"], *merged["from"]]) == ["TH0001", "TH0002"]
    assert reg2.status[reg2.ids.index(merged["from"][0])] == "merged"


def test_sticky_keeps_borderline_items():
    X = unit([1, 0.95, 0, 0], [1, 0, 0, 0])
    labels = np.array([1, 0])
    kept = sticky(labels, X, E[:2], ["A", "B"], ["x", "y"], {"x": "A"}, margin=0.05)
    assert kept.tolist() == [0, 0]  # x stays in A: B fits only marginally better


def test_incremental_assignment_and_edits():
    _, _, reg, *_ = first_run(2)
    ids, sims = assign_to_registry(unit([1, 0.1, 0, 0], [0, 0, 1, 0]), reg, 0.5)
    assert ids == ["TH0001", S.UNTHEMED]
    assert rename(reg, "TH0001", "Late parcels")["event"] == "renamed" and reg.pinned_labels["TH0001"] == "Late parcels"
    X = np.vstack([E[0] + 0.01 * i for i in range(6)] + [E[1] + 0.01 * i for i in range(6)])
    members = np.array(["TH0001"] * 6 + ["TH0002"] * 6)
    assert merge(reg, ["TH0002"], "TH0001", X, members)["event"] == "merged"
    assert reg.status[reg.ids.index("TH0002")] == "merged"
    event, part, parts = split(reg, "TH0001", X, k=2)
    assert event["event"] == "split" and "TH0001" in parts and len(set(part)) == 2
    assert move(reg, ["i1"], "TH0001")["items"] == ["i1"]
    with pytest.raises(InsightError, match="unknown theme"):
        rename(reg, "TH9999", "x")
    again = Registry.from_records(reg.to_records())
    assert again.ids == reg.ids and again.pinned_labels == reg.pinned_labels and again.counter == reg.counter


def test_ids_stable_across_runs_and_row_order(tmp_path, fast_config):
    from insight.flow import run_and_store
    from insight.store import SQLStore

    rng = np.random.default_rng(0)
    topics = {"late parcel courier delivery": 40, "refund return money back": 40, "card declined payment": 40}
    rows = [{"id": f"{t[:4]}{i}", "text": f"{t} {' '.join(rng.choice(t.split(), 3))} {i % 7}"}
            for t, n in topics.items() for i in range(n)]
    frame = pd.DataFrame(rows)
    ingest = fast_config.ingest.model_copy(update={"columns": {"item_id": "id"}})
    cfg = fast_config.model_copy(update={"ingest": ingest})
    first = run_and_store(frame, cfg)
    second = run_and_store(frame.sample(frac=1.0, random_state=3), cfg)
    a = first.items.set_index(S.ID)[S.THEME]
    b = second.items.set_index(S.ID)[S.THEME].reindex(a.index)
    assert (a == b).all()  # same items in another order: same themes, same ids
    events = SQLStore(cfg.store_url).theme_events()
    assert set(events.loc[events["run_id"] == second.run_id, "event"]) <= {"persisted", "drifted"}


def test_incremental_assign_keeps_known_items():
    _, _, reg, *_ = first_run(2)
    X = unit([0, 1, 0, 0], [1, 0.05, 0, 0])
    ids, _ = incremental_assign(X, ["old", "new"], reg, {"old": "TH0001"}, 0.5)
    assert ids == ["TH0001", "TH0001"]  # the old item keeps its theme though it now sits closer to TH0002


def test_cli_theme_edits_are_stored_as_events(tiny_frame, fast_yaml):
    from typer.testing import CliRunner

    from insight.config import load_config
    from insight.flow import run_and_store
    from insight.store import SQLStore
    from pipelines.cli import app

    cfg = load_config(fast_yaml, themes={"n_components": 5})
    result = run_and_store(tiny_frame, cfg)
    tid = result.themes[result.themes["theme_id"] != S.UNTHEMED]["theme_id"].iloc[0]
    env = {"INSIGHT_HOME": str(cfg.home_path)}
    runner = CliRunner()
    conf = ["--config", str(fast_yaml)]
    assert runner.invoke(app, ["themes", "rename", tid, "Late parcels", *conf], env=env).exit_code == 0
    assert runner.invoke(app, ["themes", "split", tid, "--k", "2", *conf], env=env).exit_code == 0
    assert runner.invoke(app, ["themes", "move", "L1", "--to", tid, *conf], env=env).exit_code == 0
    store = SQLStore(cfg.store_url)
    events = store.theme_events()
    assert {"renamed", "split", "moved"} <= set(events["event"])
    again = run_and_store(tiny_frame, cfg)
    assert "Late parcels" in set(again.themes["label"])  # the reviewer's name survives rediscovery


def test_unrelated_data_does_not_inherit_theme_ids_on_a_middling_cosine():
    """Regression: a CSAT run took over 18 airline theme ids at cosine 0.45-0.77. Without shared items, only a
    near-identical centroid keeps an id."""
    ids, _, reg, keys, labels = first_run(2)
    other = [f"new{j}" for j in range(20)]  # none of these items was seen before
    similar = unit([1, 0.9, 0, 0], [0, 0, 1, 0])  # cosine 0.74 to TH0001, 0 to TH0002
    ids2, events, _ = match(reg, similar, labels, other, {}, [10, 10], ["x", "y"])
    assert set(ids2).isdisjoint(ids) and "persisted" not in {e["event"] for e in events}
    near = unit([1, 0.1, 0, 0], [0, 0, 1, 0])  # cosine 0.995: the same theme, seen in new items
    ids3, _, _ = match(reg, near, labels, other, {}, [10, 10], ["x", "y"])
    assert ids3[0] == ids[0] and ids3[1] not in ids


def test_a_rename_shows_in_an_action_titled_by_its_themes_complaints():
    """Regression (the app's Actions page, on an AMD CPU): an action is titled by what its theme's complaints say
    (the problem label) where that names more than the theme's label, and a reviewer's rename replaced only the
    label in a stored run's titles, so the renamed theme's action kept its old title until the next run (which
    already lets the reviewer's name win over both)."""
    from insight.themes import show_pinned_names

    table = pd.DataFrame([{"theme_id": "T1", "label": "Trying to pay using", "problem_label": "Card declined"},
                          {"theme_id": "T2", "label": "Parcel late", "problem_label": None}])
    actions = pd.DataFrame([
        {"theme_id": "T1", "theme_label": "Trying to pay using",
         "title": "Card declined (payment provider CardBridge): restore payment success", "explanation": {}},
        {"theme_id": "T1", "theme_label": "Trying to pay using", "title": "Itchy card reader: investigate quality",
         "explanation": {"subtheme": "T1.2"}},  # a pocket: titled by its own part, which the rename does not name
        {"theme_id": "T2", "theme_label": "Parcel late", "title": "Parcel late: escalate with the carrier",
         "explanation": {}}])
    shown, titled = show_pinned_names(table, actions, {"T1": "Card payments failing", "T2": "Late parcels"})
    assert list(shown["label"]) == ["Card payments failing", "Late parcels"]
    assert list(titled["title"]) == ["Card payments failing (payment provider CardBridge): restore payment success",
                                     "Itchy card reader: investigate quality",
                                     "Late parcels: escalate with the carrier"]
    assert list(titled["theme_label"]) == ["Card payments failing", "Card payments failing", "Late parcels"]
