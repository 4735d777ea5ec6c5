"""Issue 18: weekly batch reclassification. Items live across weeks; every changed tag is in the ledger with its
cause; the same inputs twice change nothing; reviewers' edits made while a run works are never lost.

Unit tests: the hashing embedder and PCA (``fast_config``). They run on SQLite, and on PostgreSQL when
``INSIGHT_TEST_STORE=postgresql`` (``make test`` does both).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insight import schema as S
from insight.errors import InputError, ReviewError, StoreError
from insight.store import SQLStore
from insight.weekly import weekly

TOPICS = {
    "late": ["my parcel is late", "parcel still not delivered", "the courier lost my parcel",
             "delivery is a week late", "where is my parcel, still not here"],
    "refund": ["refund not received for my return", "still waiting on my refund", "return sent but no refund",
               "the refund for my return is missing", "I want my refund for the return"],
    "card": ["my card payment was declined", "payment failed at checkout twice", "my card was charged twice",
             "card payment declined again", "double charge on my card"],
}
EXTRA = ["today", "again", "this week", "please help", "so annoying", "for my order", "since monday", "still"]


def week_rows(week: int, n: int = 24) -> pd.DataFrame:
    """``n`` complaints written in week ``week`` (ids unique across weeks, one customer each)."""
    rows = []
    for k in range(n):
        topic = list(TOPICS)[k % 3]
        text = f"{TOPICS[topic][(k // 3) % 5]} {EXTRA[(k + week) % len(EXTRA)]}"
        rows.append({"id": f"W{week}-{k}", "text": text, "customer_id": f"c{week}-{k}", "rating": 1 + k % 2,
                     "timestamp": (pd.Timestamp("2026-01-05", tz="UTC") + pd.Timedelta(days=7 * week + k % 5)
                                   ).isoformat(), "carrier": ["Parcelo", "SwiftShip"][k % 2]})
    return pd.DataFrame(rows)


def write_weeks(folder, weeks: range, n: int = 24) -> list:
    paths = []
    for w in weeks:
        path = folder / f"week{w:02d}.csv"
        week_rows(w, n).to_csv(path, index=False)
        paths.append(path)
    return paths


def held(cfg) -> pd.DataFrame:
    return SQLStore(cfg.store_url, cfg.workspace).workspace_items().set_index(S.ID)


def test_items_are_stored_once_and_the_same_inputs_twice_change_nothing(tmp_path, weekly_config):
    w0, w1 = write_weeks(tmp_path, range(2))
    first = weekly([w0], weekly_config)
    assert first.summary()["items"] == {"before": 0, "new": 24, "already_seen": 0}
    second = weekly([w1, w0], weekly_config)  # last week's file again, beside the new one
    assert second.result.counts.as_dict() == {"read": 48, "stored": 24, "duplicates": 24, "quarantined": 0,
                                              "non_actionable": 0}
    assert second.summary()["items"]["already_seen"] == 24
    items = held(weekly_config)
    assert len(items) == 48 and items.index.is_unique
    assert items.loc["W0-0", "first_run"] == first.result.run_id
    assert items.loc["W1-0", "first_run"] == second.result.run_id
    themed = (items[S.THEME] != S.UNTHEMED).mean()
    assert themed > 0.8, "new items join the themes registered from earlier weeks"
    before = items[[S.ROOT_CAUSE, S.THEME, "version"]].copy()
    again = weekly([w1, w0], weekly_config)
    assert again.result.counts.duplicates == 48 and again.result.counts.stored == 0
    assert again.published["added"] == 0 and len(again.ledger) == 0
    pd.testing.assert_frame_equal(held(weekly_config)[[S.ROOT_CAUSE, S.THEME, "version"]], before)
    assert [a["theme_id"] for a in again.summary()["top_actions"]] == \
        [a["theme_id"] for a in second.summary()["top_actions"]]


def test_a_weekly_run_is_listed_and_its_items_are_the_workspaces(tmp_path, weekly_config):
    w0, = write_weeks(tmp_path, range(1))
    done = weekly([w0], weekly_config)
    store = SQLStore(weekly_config.store_url, weekly_config.workspace)
    assert store.latest_run_id("weekly") == done.result.run_id
    items = store.load(done.result.run_id, "items")
    assert set(items[S.ID]) == {f"W0-{k}" for k in range(24)}
    assert len(store.load(done.result.run_id, "actions")) >= 1
    manifest = store.get_run(done.result.run_id)["manifest"]
    assert manifest["weekly"]["inputs"][0]["sha256"] and manifest["tagger"]["taxonomy_version"]
    assert manifest["weekly"]["embedder"]["name"] and manifest["taxonomy"]["fingerprint"]
    assert manifest["versions"] and manifest["seed"] == weekly_config.seed


def test_since_skips_older_rows_and_counts_them(tmp_path, weekly_config):
    w0, w1 = write_weeks(tmp_path, range(2))
    done = weekly([w0, w1], weekly_config, since="2026-01-12")
    assert done.result.counts.non_actionable == 24
    assert set(held(weekly_config).query("status == 'stored'").index) == {f"W1-{k}" for k in range(24)}


def _correct(cfg, ids, cause, by="ana"):
    store = SQLStore(cfg.store_url, cfg.workspace)
    from insight.config import load_taxonomy

    keys = load_taxonomy(cfg.tag.taxonomy).keys
    return [store.correct_item(i, cause, by, valid=keys) for i in ids]


def test_reviewers_corrections_reach_the_ledger_and_retrain_the_tagger(tmp_path, weekly_config):
    w0, w1 = write_weeks(tmp_path, range(2))
    first = week_rows(0)
    same = first[first["id"].isin(["W0-0", "W0-3"])].assign(id=["T1", "T2"], customer_id=["t1", "t2"])
    pd.concat([first, same]).to_csv(w0, index=False)  # other customers wrote the same words
    weekly([w0], weekly_config)
    late = ["W0-0", "W0-3", "W0-6", "W0-9", "W0-12"]  # late parcels
    assert (held(weekly_config).loc[late, S.ROOT_CAUSE] == "delivery").all()
    _correct(weekly_config, late, "inventory")  # a reviewer says: these are stock problems
    done = weekly([w1], weekly_config)
    ledger = done.ledger
    human = ledger[ledger["cause"] == "human_correction"]
    assert sorted(human["item_id"]) == sorted(late)
    assert set(human["new"]) == {"inventory"} and human["confidence_after"].eq(1.0).all()
    assert done.tagger["reason"] == "corrections" and done.tagger["version"] == 2
    assert done.tagger["metrics"]["held_out"] >= 1
    now = held(weekly_config)
    assert (now.loc[late, S.ROOT_CAUSE] == "inventory").all(), "a correction stands through reclassification"
    update = ledger[ledger["cause"] == "model_update"]
    assert {"T1", "T2"} <= set(update["item_id"]), "the retrained tagger moved the same complaints"
    assert set(update["new"]) == {"inventory"}
    assert update["confidence_before"].notna().all() and update["confidence_after"].notna().all()
    assert (update["tagger_before"] == 1).all() and (update["tagger_after"] == 2).all()
    moved = now.loc[update["item_id"]]
    assert (moved[S.ROOT_CAUSE] == update.set_index("item_id")["new"].loc[moved.index]).all()
    assert (moved["tagger_version"] == 2).all()
    taggers = SQLStore(weekly_config.store_url, weekly_config.workspace).taggers()
    assert taggers.set_index("version")["status"].to_dict() == {1: "retired", 2: "active"}


def test_a_taxonomy_edit_reclassifies_and_is_recorded_as_such(tmp_path, weekly_config):
    import yaml

    from insight.config import load_taxonomy

    w0, = write_weeks(tmp_path, range(1))
    weekly([w0], weekly_config)
    tax = load_taxonomy(weekly_config.tag.taxonomy).model_dump(mode="json")
    tax["root_causes"]["inventory"]["seeds"] += ["my parcel is late", "parcel still not delivered",
                                                 "where is my parcel"]
    path = tmp_path / "shop-taxonomy.yaml"
    path.write_text(yaml.safe_dump(tax))
    edited = weekly_config.model_copy(update={"tag": weekly_config.tag.model_copy(update={"taxonomy": str(path)}),
                                              "weekly": weekly_config.weekly.model_copy(
                                                  update={"max_retag_share": 0.05})})
    done = weekly([], edited)
    assert done.tagger["reason"] == "taxonomy_edit"
    causes = set(done.ledger["cause"])
    assert causes == {"taxonomy_edit"}, causes
    assert (done.ledger["new"] == "inventory").any()
    assert len(done.ledger) > 0.05 * 24 and done.exit_code == 3  # a tagger that moves many tags: someone looks
    assert any("--rollback-model" in w for w in done.warnings)


def test_an_edit_that_changes_no_tag_retags_nothing(tmp_path, weekly_config):
    """Regression (issue 19): rewording the playbooks' titles made the next weekly run retag a million items (264 s
    of tagging, 845,695 rows rewritten) although no tag could change. Owners and playbooks do not tag."""
    import yaml

    from insight.config import load_taxonomy

    w0, = write_weeks(tmp_path, range(1))
    first = weekly([w0], weekly_config)
    tax = load_taxonomy(weekly_config.tag.taxonomy).model_dump(mode="json")
    for cause in tax["root_causes"].values():
        cause["owner"] = "Someone else"
        cause["playbook"]["title"] = "{theme}: have a look"
    path = tmp_path / "reworded.yaml"
    path.write_text(yaml.safe_dump(tax))
    edited = weekly_config.model_copy(update={"tag": weekly_config.tag.model_copy(update={"taxonomy": str(path)})})
    done = weekly([], edited)
    assert done.tagger["version"] == first.tagger["version"] and done.tagger["reason"] == first.tagger["reason"]
    assert done.published["changed"] == 0 and len(done.ledger) == 0


def test_a_model_change_then_a_rollback_are_model_updates(tmp_path, weekly_config):
    w0, = write_weeks(tmp_path, range(1))
    weekly([w0], weekly_config)
    before = held(weekly_config)[S.ROOT_CAUSE]
    hotter = weekly_config.model_copy(update={"tag": weekly_config.tag.model_copy(update={"temperature": 0.5,
                                                                                         "abstain_below": 0.2})})
    swapped = weekly([], hotter)
    assert swapped.tagger["reason"] == "config"
    assert set(swapped.ledger["cause"]) <= {"model_update"}
    assert held(hotter)["tagger_version"].eq(2).all()
    back = weekly([], hotter, rollback=True)
    assert back.tagger["reason"] == "rollback" and back.tagger["metrics"] == {"restores": 1}
    assert set(back.ledger["cause"]) <= {"model_update"}
    statuses = SQLStore(hotter.store_url, hotter.workspace).taggers().set_index("version")["status"].to_dict()
    assert statuses == {1: "retired", 2: "rolled_back", 3: "active"}
    with pytest.raises(ReviewError, match="roll back"):
        weekly([w0], hotter.model_copy(update={"workspace": "empty"}), rollback=True)
    assert before.index.equals(held(hotter).index)


def test_a_stale_correction_is_refused_not_lost(tmp_path, weekly_config):
    w0, = write_weeks(tmp_path, range(1))
    weekly([w0], weekly_config)
    item = held(weekly_config).loc["W0-0"]
    seen = int(item["version"])
    _correct(weekly_config, ["W0-0"], "payments", by="ana")
    store = SQLStore(weekly_config.store_url, weekly_config.workspace)
    with pytest.raises(StoreError) as exc:
        store.correct_item("W0-0", "delivery", "ben", valid=["payments", "delivery"], expected_version=seen)
    assert exc.value.code == "E409" and "reload" in str(exc.value)
    assert held(weekly_config).loc["W0-0", S.ROOT_CAUSE] == "payments"


def test_an_erasure_removes_the_customers_items_across_weeks(tmp_path, weekly_config):
    from insight.operations import erase_customer

    w0, = write_weeks(tmp_path, range(1))
    weekly([w0], weekly_config)
    store = SQLStore(weekly_config.store_url, weekly_config.workspace)
    customer = store.workspace_items([S.CUSTOMER_ID]).set_index(S.ID).loc["W0-3", S.CUSTOMER_ID]
    done = erase_customer("c0-3", weekly_config)
    assert done["items_removed"] == 1
    assert "W0-3" not in held(weekly_config).index and customer


def test_local_and_dask_executors_give_identical_tags(tmp_path, weekly_config):
    from pipelines.dask_runner import dask_executor

    w0, w1 = write_weeks(tmp_path, range(2))
    small = weekly_config.weekly.model_copy(update={"partition_size": 7})  # several partitions per week
    local = weekly_config.model_copy(update={"workspace": "local", "weekly": small})
    on_dask = weekly_config.model_copy(update={"workspace": "dask", "weekly": small})
    for path in (w0, w1):
        weekly([path], local)
    with dask_executor(workers=2) as ex:
        for path in (w0, w1):
            done = weekly([path], on_dask, executor=ex)
    assert done.result.manifest["weekly"]["executor"] == "dask"
    cols = [S.ROOT_CAUSE, S.CONFIDENCE, "second_cause", S.THEME]
    a, b = held(local)[cols], held(on_dask)[cols]
    assert len(a) == 48
    pd.testing.assert_frame_equal(a[[S.ROOT_CAUSE, "second_cause"]], b[[S.ROOT_CAUSE, "second_cause"]])
    assert (a[S.CONFIDENCE].astype(float) - b[S.CONFIDENCE].astype(float)).abs().max() == 0


def test_a_first_run_without_input_says_what_to_give(weekly_config):
    with pytest.raises(InputError, match="--input") as exc:
        weekly([], weekly_config)
    assert exc.value.code == "E216"


WEEKLY_YAML = """\
embed: {backend: hashing, cache: false}
themes: {key_phrases: false, reducer: pca, min_cluster_size: 4, n_components: 5}
clean: {detect_languages: [en]}
tag: {keyword_weight: 0.0}
rank: {min_theme_size: 3}
ingest: {columns: {item_id: id}}
weekly: {discover_min: 10, retrain_min_corrections: 3, rediscover_every: 0}
"""


def _cli(args, env_extra=None, check=True):
    import os
    import subprocess
    import sys

    env = {**os.environ, **(env_extra or {})}
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def _state(cfg):
    """What a reader sees: published runs, the items with their tags and themes, the ledger, the taggers."""
    store = SQLStore(cfg.store_url, cfg.workspace)
    items = store.workspace_items()
    return {"runs": store.list_runs("weekly")["run_id"].tolist(), "items": items, "ledger": len(store.ledger()),
            "taggers": store.taggers()[["version", "status"]].values.tolist()}


def _same_partition(a: pd.Series, b: pd.Series) -> bool:
    """The same items grouped the same way (theme ids differ between workspaces of one store: ids never repeat)."""
    pairs = pd.DataFrame({"a": a, "b": b.loc[a.index]}).drop_duplicates()
    return pairs["a"].is_unique and pairs["b"].is_unique


@pytest.mark.parametrize("checkpoint", ["ingested", "embedded", "tagged", "publishing"])
def test_a_weekly_run_killed_at_any_checkpoint_leaves_nothing_and_the_next_run_completes(
        tmp_path, weekly_config, checkpoint):
    """SIGKILL (as a power cut) at each checkpoint: nothing half-visible; the rerun ends exactly like a run that
    was never killed, with no duplicate row."""
    config = tmp_path / "weekly.yaml"
    config.write_text(WEEKLY_YAML)
    w0, w1 = write_weeks(tmp_path, range(2))
    first = pd.read_csv(w1).head(6).assign(id=lambda f: "C" + f["id"])  # week 2 also brings week 1's file again
    pd.concat([pd.read_csv(w1), first]).to_csv(w1, index=False)
    cfg = weekly_config.model_copy(update={"workspace": "crash"})
    ref = weekly_config.model_copy(update={"workspace": "reference"})
    for path in (w0, w1):
        weekly([path], ref)
    _cli(["weekly", "--input", w0, "--config", config, "--workspace", "crash", "--json"])
    before = _state(cfg)
    killed = _cli(["weekly", "--input", w1, "--input", w0, "--config", config, "--workspace", "crash"],
                  {"INSIGHT_FAULT_AT": checkpoint}, check=False)
    assert killed.returncode == -9, killed.stderr[-2000:]
    after_kill = _state(cfg)
    assert after_kill["runs"] == before["runs"] and after_kill["ledger"] == before["ledger"]
    assert after_kill["taggers"] == before["taggers"]
    pd.testing.assert_frame_equal(after_kill["items"], before["items"])
    done = _cli(["weekly", "--input", w1, "--input", w0, "--config", config, "--workspace", "crash", "--json"])
    assert '"already_seen": 24' in done.stdout
    end, want = _state(cfg), _state(ref)
    assert len(end["runs"]) == 2 and end["items"][S.ID].is_unique
    got, exp = end["items"].set_index(S.ID), want["items"].set_index(S.ID)
    assert sorted(got.index) == sorted(exp.index) and len(got) == 54
    pd.testing.assert_series_equal(got[S.ROOT_CAUSE].sort_index(), exp[S.ROOT_CAUSE].sort_index())
    pd.testing.assert_series_equal(got[S.STATUS].sort_index(), exp[S.STATUS].sort_index())
    assert _same_partition(exp[S.THEME].sort_index(), got[S.THEME].sort_index())


def test_300_review_edits_during_a_weekly_run_are_all_kept(tmp_path, weekly_config, monkeypatch):
    """Reviewers keep correcting while a run reclassifies every item (a taxonomy edit): no edit is lost, the run
    yields where a reviewer got there first, and every item ends with its last reviewer's cause."""
    import random
    import threading

    import yaml

    import insight.weekly as weekly_module
    from insight.config import load_taxonomy

    w0, = write_weeks(tmp_path, range(1), n=120)  # reviewers edit the first 60; the run retags the other 60
    weekly([w0], weekly_config)
    tax = load_taxonomy(weekly_config.tag.taxonomy).model_dump(mode="json")
    tax["root_causes"]["inventory"]["seeds"] += ["my parcel is late", "where is my parcel"]
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(tax))
    cfg = weekly_config.model_copy(update={"tag": weekly_config.tag.model_copy(update={"taxonomy": str(path)})})
    keys, ids = load_taxonomy(str(path)).keys, [f"W0-{k}" for k in range(60)]
    go, done, errors, lock, before_publish = threading.Event(), [], [], threading.Lock(), set()

    def reviewer(n: int) -> None:
        rng, store = random.Random(n), SQLStore(cfg.store_url, cfg.workspace)
        go.wait(60)
        for _ in range(100):
            try:
                item = rng.choice(ids)
                store.correct_item(item, rng.choice(keys), f"reviewer-{n}", valid=keys)
                with lock:
                    done.append(item)
            except Exception as exc:  # noqa: BLE001 - any failure is a lost edit
                errors.append(repr(exc))

    threads = [threading.Thread(target=reviewer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    real = weekly_module._checkpoint

    def checkpoint(name: str) -> None:
        if name == "ingested":
            go.set()
        if name == "tagged":  # the run has read and reclassified: a third of the edits land before it publishes
            for _ in range(600):
                if len(done) >= 100 or errors:
                    break
                threading.Event().wait(0.05)
        if name == "publishing":
            with lock:
                before_publish.update(done)
        real(name)

    monkeypatch.setattr(weekly_module, "_checkpoint", checkpoint)
    run = weekly([], cfg)
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert len(done) == 300
    store = SQLStore(cfg.store_url, cfg.workspace)
    corrections = store.tag_corrections()
    assert len(corrections) == 300
    last = corrections.sort_values("entry_id").drop_duplicates(S.ID, keep="last").set_index(S.ID)["new_cause"]
    items = store.workspace_items().set_index(S.ID)
    assert items.index.is_unique and len(items) == 120
    assert (items.loc[last.index, S.ROOT_CAUSE] == last).all(), "an edit was overwritten"
    assert (items.loc[last.index, "review_reason"] == "corrected").all()
    assert run.published["yielded_to_reviewers"] > 0 and run.warnings
    moved = run.ledger[run.ledger["cause"] == "taxonomy_edit"]
    assert not set(moved["item_id"]) & before_publish, "the ledger claims a change a reviewer's edit replaced"
    untouched = moved[~moved["item_id"].isin(ids)]  # items no reviewer edits: the run's change stands
    assert len(untouched) and (items.loc[untouched["item_id"], S.ROOT_CAUSE].to_numpy() == untouched["new"]).all()
    assert run.published["yielded_to_reviewers"] >= len(before_publish)  # PostgreSQL: also edits just after


def test_a_reviewers_merge_moves_the_items_at_the_next_run_as_theme_edits(tmp_path, weekly_config):
    from insight.operations import edit_theme

    w0, w1 = write_weeks(tmp_path, range(2))
    weekly([w0], weekly_config)
    items = held(weekly_config)
    sizes = items[items[S.THEME] != S.UNTHEMED][S.THEME].value_counts()
    assert len(sizes) >= 2
    gone, into = sizes.index[-1], sizes.index[0]
    edit_theme("merge", weekly_config, by="ana", theme_ids=[gone], into=into)
    done = weekly([w1], weekly_config)
    moved = done.ledger[done.ledger["cause"] == "theme_edit"]
    assert set(moved["item_id"]) == set(items.index[items[S.THEME] == gone])
    assert set(moved["old"]) == {gone} and done.summary()["themes"]["edited"] == len(moved)
    assert gone not in set(held(weekly_config)[S.THEME])


def test_the_brief_and_the_ledger_command_say_what_changed_this_week(tmp_path, weekly_config, fast_yaml):
    import json

    from insight.operations import weekly_brief
    from insight.report import to_markdown

    w0, w1 = write_weeks(tmp_path, range(2))
    weekly([w0], weekly_config)
    _correct(weekly_config, ["W0-0", "W0-1", "W0-2"], "inventory")
    done = weekly([w1], weekly_config)
    store = SQLStore(weekly_config.store_url, weekly_config.workspace)
    said = weekly_brief(store, done.result.run_id)
    assert "## What changed this week" in to_markdown(said)
    week = said["this_week"]
    assert week[0].startswith("24 new items (0 rows already held); 48 items in all")
    assert "3 root causes changed by reviewers' corrections (human_correction)" in week
    assert any(w.startswith("tagger v2 (corrections): on 1 held-out corrections") for w in week)
    config = tmp_path / "weekly.yaml"
    config.write_text(WEEKLY_YAML)
    shown = _cli(["ledger", "--config", config, "--json"])
    found = json.loads(shown.stdout)
    assert found["run_id"] == done.result.run_id
    assert found["by_cause"]["root_cause:human_correction"] == 3
    assert [t["status"] for t in found["taggers"]] == ["retired", "active"]
    one = json.loads(_cli(["ledger", "--config", config, "--item", "W0-0", "--run", "all", "--json"]).stdout)
    assert [e["cause"] for e in one["entries"]] == ["human_correction"]
    _cli(["correct", done.result.run_id, "W1-5", "--cause", "account", "--by", "ben", "--config", config])
    assert held(weekly_config).loc["W1-5", S.ROOT_CAUSE] == "account"  # a weekly run's items are the workspace's
    brief = _cli(["export", "--format", "markdown", "--config", config]).stdout  # latest: the weekly run
    assert done.result.run_id in brief and "## What changed this week" in brief


def test_rows_without_ids_or_times_repeating_a_held_row_are_flagged_or_taken_as_new(tmp_path, weekly_config):
    """Real CSAT exports carry neither ids nor times: "Good" in next week's file is another customer's "Good"
    or the same row exported again. By default it is matched (re-exports stay safe) and the run says so; with
    ``rows_without_ids: per_file`` every row of a new file is new, and the same file twice still adds nothing."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame({"text": ["Good service", "refund not received for my return", "Good service"]}).to_csv(a, index=False)
    pd.DataFrame({"text": ["Good service", "my parcel is late again"]}).to_csv(b, index=False)
    plain = weekly_config.model_copy(update={"ingest": weekly_config.ingest.model_copy(update={"columns": {}})})
    weekly([a], plain)
    matched = weekly([b], plain)
    assert matched.summary()["items"]["already_seen"] == 1 and matched.exit_code == 3
    assert any("neither an id nor a timestamp" in w for w in matched.warnings)
    per_file = plain.model_copy(update={"workspace": "perfile", "weekly": plain.weekly.model_copy(
        update={"rows_without_ids": "per_file"})})
    weekly([a], per_file)
    taken = weekly([b], per_file)
    assert taken.summary()["items"] == {"before": 3, "new": 2, "already_seen": 0} and taken.exit_code == 0
    again = weekly([b], per_file)
    assert again.summary()["items"]["already_seen"] == 2 and again.summary()["items"]["new"] == 0


def test_the_theme_map_grows_week_by_week_without_reshuffling(tmp_path, weekly_config):
    """Issue 19: weekly runs place their items on the theme map too. Held items keep their place; new items land
    in their theme's disc; items a reviewer's merge moved join the disc of the theme they moved to."""
    from insight.operations import edit_theme

    w0, w1, w2 = write_weeks(tmp_path, range(3))
    weekly([w0], weekly_config)
    first = held(weekly_config)
    stored = first[first[S.STATUS] == S.STORED]
    assert stored[[S.MAP_X, S.MAP_Y]].notna().all().all(), "a new workspace's first run draws its map"
    weekly([w1], weekly_config)
    second = held(weekly_config)
    pd.testing.assert_frame_equal(second.loc[stored.index, [S.MAP_X, S.MAP_Y]], stored[[S.MAP_X, S.MAP_Y]])
    fresh = second[second["first_run"] != first["first_run"].iloc[0]]
    fresh = fresh[(fresh[S.STATUS] == S.STORED) & (fresh[S.THEME] != S.UNTHEMED)]
    assert len(fresh) and fresh[[S.MAP_X, S.MAP_Y]].notna().all().all()
    themed = stored[stored[S.THEME] != S.UNTHEMED]
    centre = themed.groupby(S.THEME)[[S.MAP_X, S.MAP_Y]].mean()
    reach = themed.groupby(S.THEME).apply(
        lambda g: float(np.hypot(g[S.MAP_X] - g[S.MAP_X].mean(), g[S.MAP_Y] - g[S.MAP_Y].mean()).max()))
    for _, item in fresh[fresh[S.THEME].isin(centre.index)].iterrows():
        c = centre.loc[item[S.THEME]]
        assert np.hypot(item[S.MAP_X] - c[S.MAP_X], item[S.MAP_Y] - c[S.MAP_Y]) <= 1.5 * reach[item[S.THEME]] + 1e-6

    sizes = second[second[S.THEME] != S.UNTHEMED][S.THEME].value_counts()
    gone, into = sizes.index[-1], sizes.index[0]
    edit_theme("merge", weekly_config, by="ana", theme_ids=[gone], into=into)
    weekly([w2], weekly_config)
    third = held(weekly_config)
    moved = second.index[second[S.THEME] == gone]
    c = second[second[S.THEME] == into][[S.MAP_X, S.MAP_Y]].mean()
    far = np.hypot(second.loc[moved, S.MAP_X] - c[S.MAP_X], second.loc[moved, S.MAP_Y] - c[S.MAP_Y]).mean()
    near = np.hypot(third.loc[moved, S.MAP_X] - c[S.MAP_X], third.loc[moved, S.MAP_Y] - c[S.MAP_Y]).mean()
    assert near < far, "merged items move into the disc of the theme they joined"
    weekly([], weekly_config, rediscover=True)  # a rediscovery draws the whole map again, every item on it
    fourth = held(weekly_config)
    assert fourth.loc[fourth[S.STATUS] == S.STORED, [S.MAP_X, S.MAP_Y]].notna().all().all()


SWEATER = ["love this wool sweater, so soft and warm", "this wool sweater is soft, warm and lovely",
           "soft warm wool sweater, love the colour", "lovely soft sweater, warm wool, great colour",
           "the wool sweater is warm and soft, love it", "great warm wool sweater, soft colour I love"]


def sweater_rows(week: int, praise: int, itchy: int) -> pd.DataFrame:
    """Sweater praise (rated 5) and the same praise with "but itchy and scratchy, returned" (rated 1)."""
    texts = [(f"{SWEATER[k % 6]} {EXTRA[(k + week) % len(EXTRA)]}", 5) for k in range(praise)]
    texts += [(f"{SWEATER[k % 3]}, but itchy and scratchy, returned {EXTRA[(k + week) % len(EXTRA)]}", 1)
              for k in range(itchy)]
    return pd.DataFrame([{"id": f"S{week}-{i}", "text": t, "rating": r, "customer_id": f"s{week}-{i}",
                          "timestamp": (pd.Timestamp("2026-01-05", tz="UTC") + pd.Timedelta(days=7 * week + i % 5)
                                        ).isoformat()} for i, (t, r) in enumerate(texts)])


def test_a_pocket_of_complaints_in_a_theme_of_praise_stays_an_action_in_weekly_runs(tmp_path, weekly_config):
    """Regression: weekly runs never ranked a pocket (the itchy sweaters among sweater praise, an action of the
    first run on the clothing reviews). Here the itchy reviews are an action until a reviewer merges the sweater
    themes into one; the next weekly run dropped them, though the merged theme's own sub-theme named them."""
    from insight.operations import edit_theme

    paths = []
    for week, (praise, itchy) in enumerate([(68, 12), (8, 2)]):
        paths.append(tmp_path / f"sweaters{week}.csv")
        sweater_rows(week, praise, itchy).to_csv(paths[-1], index=False)
    first = weekly([paths[0]], weekly_config).result.actions  # a new workspace: its items hold no sub-themes yet
    assert len(first) and first["title"].str.contains("Itchy").any()
    items = held(weekly_config)
    sizes = items[items[S.THEME] != S.UNTHEMED][S.THEME].value_counts()
    edit_theme("merge", weekly_config, by="ana", theme_ids=list(sizes.index[1:]), into=sizes.index[0])
    done = weekly([paths[1]], weekly_config)
    themes = done.result.themes.set_index(S.THEME)
    assert themes.loc[sizes.index[0], "negative_share"] < weekly_config.rank.min_negative_share  # mostly praise
    actions = done.result.actions
    assert len(actions) == 1 and actions["title"].iloc[0].startswith("Itchy")
    pocket = actions["explanation"].iloc[0]["subtheme"]
    evidence = actions["evidence"].iloc[0]
    assert len(evidence) == 3 and all("itchy" in q for q in evidence)  # quoted from the pocket's complaints alone
    # the store's items say which sub-theme that is (the app counts an action's complaints in view by it)
    now = held(weekly_config)
    inside = now[now[S.SUBTHEME] == pocket]
    assert len(inside) == actions["volume"].iloc[0] and (inside[S.POLARITY] == "negative").sum() == \
        actions["complaints"].iloc[0] >= 12
    assert inside[S.TEXT].str.contains("itchy").mean() >= 0.8
    parts = {p["id"]: p for p in themes.loc[sizes.index[0], "subthemes"]}
    assert parts[pocket]["size"] == len(inside)  # the theme table names the sub-themes the items hold
    assert done.result.manifest["weekly"]["pockets"] == {"themes": 1, "items": len(now[now[S.THEME] ==
                                                         sizes.index[0]]), "searched": True, "ranked": [pocket]}
    # a store too large to split every item of its praise themes says it did not look
    capped = weekly_config.model_copy(update={"weekly": weekly_config.weekly.model_copy(
        update={"pocket_max_items": 50})})
    skipped = weekly([], capped)
    assert skipped.result.actions.empty and not skipped.result.manifest["weekly"]["pockets"]["searched"]


def test_a_new_workspaces_first_weekly_run_ranks_a_pocket(tmp_path, weekly_config):
    """Regression: a workspace started by a weekly run holds no sub-theme column yet, and ranking a pocket there
    failed (KeyError: 'subtheme_id'); read on the clothing reviews, whose pockets then never reached a weekly run."""
    path = tmp_path / "sweaters.csv"
    sweater_rows(0, 100, 12).to_csv(path, index=False)
    one_theme = weekly_config.model_copy(update={"themes": weekly_config.themes.model_copy(
        update={"min_cluster_size": 20})})
    done = weekly([path], one_theme)
    record = done.result.manifest["weekly"]["pockets"]
    assert record["searched"] and len(record["ranked"]) == 1
    actions = done.result.actions
    assert len(actions) == 1 and actions["explanation"].iloc[0]["subtheme"] == record["ranked"][0]
    assert actions["complaints"].iloc[0] == 12 and all("itchy" in q for q in actions["evidence"].iloc[0])
    items = held(one_theme)
    assert set(items.index[items[S.SUBTHEME] == record["ranked"][0]]) == \
        {f"S0-{i}" for i in range(100, 112)}  # the itchy reviews, and only they, hold the pocket's id


def test_a_weekly_run_on_a_workspace_analysed_by_insight_run_says_it_started_over(tmp_path, weekly_config):
    """Read on the clothing reviews: `insight run` on 90 % of the export, then `insight weekly` on the rest in the same
    workspace, gave actions of 19 complaints where the run had 197, with exit code 0. A weekly run keeps its own
    items; `insight run` analyses one export on its own, so the weekly run started from 2,349 reviews alone."""
    from insight.flow import run_and_store

    w0, w1 = write_weeks(tmp_path, range(2))
    run_and_store(pd.read_csv(w0), weekly_config)
    done = weekly([w1], weekly_config)
    assert done.exit_code == 3
    said = " ".join(done.warnings)
    assert "insight run" in said and "started from this run's exports alone" in said
    again = weekly([w0], weekly_config)  # the earlier export given: the workspace holds items now, nothing to say
    assert not any("insight run" in w for w in again.warnings)


def test_two_homes_given_the_same_exports_name_the_same_themes(tmp_path, weekly_config, monkeypatch):
    """Regression: rows without ids get ids keyed by the home's own contact key, held items were read in id order,
    and the weekly describe step names each theme from a seeded sample of that order: the same two exports gave
    "Dress back" in one home and "Material and back" in another. What a run finds must not hang on a secret."""
    moods = ["", "honestly", "sadly", "really"]
    for week, n in [(0, 150), (1, 30)]:
        rows = [{"text": f"{TOPICS[list(TOPICS)[k % 3]][(k // 3) % 5]} {EXTRA[(k // 15) % 8]} {moods[(k // 120) % 4]}"
                         .strip(), "rating": 1 + k % 2,
                 "timestamp": (pd.Timestamp("2026-01-05", tz="UTC") + pd.Timedelta(days=7 * week + k % 5)).isoformat()}
                for k in range(week * 7, week * 7 + n)]
        pd.DataFrame(rows).to_csv(tmp_path / f"w{week}.csv", index=False)
    plain = weekly_config.model_copy(update={"ingest": weekly_config.ingest.model_copy(update={"columns": {}}),
                                             "weekly": weekly_config.weekly.model_copy(
                                                 update={"describe_per_theme": 10}),  # 30 items name a theme
                                             "themes": weekly_config.themes.model_copy(
                                                 update={"min_cluster_size": 15})})
    tables = []
    for key, workspace in [("first home's key", "one"), ("another home's key", "two")]:
        monkeypatch.setenv("INSIGHT_CONTACT_KEY", key)
        cfg = plain.model_copy(update={"workspace": workspace})
        weekly([tmp_path / "w0.csv"], cfg)
        done = weekly([tmp_path / "w1.csv"], cfg)
        assert (done.result.themes["volume"] > 30).sum() >= 2  # themes larger than the sample that names them
        tables.append(done.result.themes[["label", "keywords", "examples", "volume"]])  # ids count per store
    pd.testing.assert_frame_equal(tables[0], tables[1])
