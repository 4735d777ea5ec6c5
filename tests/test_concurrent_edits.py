"""Issue 16: review decisions racing each other never leave an invalid transition in the action log.

Regression: racing ``approved`` and ``rejected`` writes on the same proposed action left ``rejected -> approved``
in the log (6 of 10 keys): both read "proposed", both wrote.
"""

from __future__ import annotations

import threading

import pytest

from insight.errors import StoreError
from insight.flow import run_and_store
from insight.store import SQLStore
from insight.store.tables import TRANSITIONS


def test_racing_decisions_on_one_action_leave_only_valid_transitions(tiny_frame, tiny_config, monkeypatch):
    run_and_store(tiny_frame, tiny_config)
    store = SQLStore(tiny_config.store_url)
    keys = [f"TH9{i:03d}" for i in range(10)]  # decisions belong to theme ids, known or not
    real_read = SQLStore._action_status
    barrier = threading.Barrier(2)

    reads = {"n": 0, "broken": False}

    def slow_read(self, conn):  # both writers read the same status before either writes: the race, every time
        found = real_read(self, conn)
        reads["n"] += 1
        if reads["n"] <= 2:  # the two deciding reads of this round; later reads (the loser's message) run free
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:  # a loaded machine: the reads did not overlap, no race
                reads["broken"] = True
        return found

    monkeypatch.setattr(SQLStore, "_action_status", slow_read)
    outcomes: dict[str, list[str]] = {k: [] for k in keys}
    raced = []
    for key in keys:
        barrier.reset()
        reads["n"], reads["broken"] = 0, False

        def decide(status: str, key: str = key) -> None:
            try:
                SQLStore(tiny_config.store_url).set_action_status(key, status, by=f"reviewer-{status}")
                outcomes[key].append(status)
            except StoreError as exc:
                outcomes[key].append(exc.code)

        threads = [threading.Thread(target=decide, args=(s,)) for s in ("approved", "rejected")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if not reads["broken"]:
            raced.append(key)
    monkeypatch.setattr(SQLStore, "_action_status", real_read)
    log = store.action_history()
    assert len(raced) >= 5, raced  # most rounds really raced (a round whose reads did not overlap proves nothing)
    for key in keys:
        statuses = ["proposed", *log.loc[log["action_key"] == key, "status"].tolist()]
        for before, after in zip(statuses, statuses[1:]):
            assert after in TRANSITIONS[before], (key, statuses)
        if key not in raced:
            continue
        assert len(statuses) == 2, (key, statuses)  # exactly one decision won
        assert sorted(outcomes[key], key=str)[0] in ("E409", "approved", "rejected")
        assert "E409" in outcomes[key], outcomes[key]  # the loser was told, not silently overwritten


def test_an_invalid_transition_is_still_refused(tiny_frame, tiny_config):
    run_and_store(tiny_frame, tiny_config)
    store = SQLStore(tiny_config.store_url)
    store.set_action_status("TH9999", "approved", by="ana")
    with pytest.raises(StoreError, match="cannot become") as info:
        store.set_action_status("TH9999", "proposed", by="bo")
    assert info.value.code == "E406"


def test_a_rename_made_while_a_run_works_survives_its_publish(tiny_frame, tiny_config):
    """Regression (issue 16): a `themes rename` made during a run was gone when the run published (0 of 20)."""
    from insight import themes
    from insight.flow import run
    from insight.operations import edit_theme

    first = run_and_store(tiny_frame, tiny_config)
    store = SQLStore(tiny_config.store_url)
    target = first.themes.loc[first.themes["theme_id"] != "unthemed", "theme_id"].iloc[0]
    registry = themes.Registry.from_records(store.registry_records(), store.theme_counter())
    working = run(tiny_frame, tiny_config, registry=registry, previous=store.previous_themes())  # reads, works...
    edit_theme("rename", tiny_config, by="ana", theme_id=target, label="Parcels that never came")  # reviewer renames
    store.publish(working, source="again")  # ...the run publishes
    labels = {r["theme_id"]: r.get("pinned_label") for r in store.registry_records()}
    assert labels[target] == "Parcels that never came"
    again = run_and_store(tiny_frame, tiny_config)  # and the next run still shows it
    assert again.themes.set_index("theme_id").at[target, "label"] == "Parcels that never came"


def test_many_edits_while_a_run_works_lose_nothing(tiny_frame, tiny_config):
    """Issue 16: 100 renames and action decisions made while runs publish: 0 renames lost, 0 forbidden moves,
    and the runs' own registry updates are not overwritten by a reviewer's save of a stale registry.
    Regression (issue 18, PostgreSQL): a run and a reviewer both replaced the registry at once and the second
    insert failed on the first one's rows (SQLite lets one writer in at a time; PostgreSQL needed a lock)."""
    from insight.operations import edit_theme

    first = run_and_store(tiny_frame, tiny_config)
    store = SQLStore(tiny_config.store_url)
    targets = [t for t in first.themes["theme_id"] if t != "unthemed"]
    done = threading.Event()

    def runs() -> None:
        for _ in range(3):
            run_and_store(tiny_frame, tiny_config)
        done.set()

    worker = threading.Thread(target=runs)
    worker.start()
    last_name: dict[str, str] = {}
    outcomes = []
    for n in range(100):
        if n % 2:
            theme = targets[n % len(targets)]
            edit_theme("rename", tiny_config, by="ana", theme_id=theme, label=f"name {n}")
            last_name[theme] = f"name {n}"
        else:
            key = f"TH8{n:03d}"
            for status in ("approved", "rejected"):
                try:
                    store.set_action_status(key, status, by="cx")
                    outcomes.append(status)
                except StoreError as exc:
                    outcomes.append(exc.code)
    worker.join()
    assert done.is_set()
    pinned = {r["theme_id"]: r.get("pinned_label") for r in store.registry_records()}
    assert {t: pinned.get(t) for t in last_name} == last_name  # 0 renames lost
    log = store.action_history()
    for key, g in log.groupby("action_key"):
        statuses = ["proposed", *g["status"].tolist()]
        assert all(b in TRANSITIONS[a] for a, b in zip(statuses, statuses[1:])), (key, statuses)
    latest = run_and_store(tiny_frame, tiny_config)
    shown = latest.themes.set_index("theme_id")["label"]
    assert all(shown.get(t, name) == name for t, name in last_name.items())


def test_two_reviewers_renaming_one_theme_the_later_is_told(tiny_frame, tiny_config):
    from insight import themes
    from insight.operations import edit_theme

    first = run_and_store(tiny_frame, tiny_config)
    store = SQLStore(tiny_config.store_url)
    target = first.themes.loc[first.themes["theme_id"] != "unthemed", "theme_id"].iloc[0]
    stale = themes.Registry.from_records(store.registry_records(), store.theme_counter())  # reviewer B reads
    edit_theme("rename", tiny_config, by="ana", theme_id=target, label="Ana's name")  # reviewer A renames
    event = themes.rename(stale, target, "Bo's name")  # B renames from what B read
    with pytest.raises(StoreError) as info:
        store.save_registry(stale.to_records(), [event], "ben", loaded=stale.loaded)
    assert info.value.code == "E409"
    assert {r["theme_id"]: r["pinned_label"] for r in store.registry_records()}[target] == "Ana's name"
