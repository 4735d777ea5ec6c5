"""AppTest smoke tests: every page renders from a real stored run, and explains itself on an empty store."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from insight.config import load_config
from insight.demo import DEMO_OVERRIDES, demo_path
from insight.flow import run_and_store
from ui.safe import plain

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parent.parent
PAGES = ["ui/overview.py", "ui/themes.py", "ui/actions.py"]


@pytest.fixture(scope="module")
def stored_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("uihome")
    cfg = load_config(home=str(home), embed={"backend": "hashing", "cache": False}, themes={"key_phrases": False},
                      **DEMO_OVERRIDES)
    result = run_and_store(demo_path(), cfg)
    return home, result


def page(path: str) -> AppTest:
    return AppTest.from_file(str(ROOT / path), default_timeout=60)


@pytest.fixture
def with_run(stored_home, monkeypatch):
    home, result = stored_home
    monkeypatch.setenv("INSIGHT_HOME", str(home))
    monkeypatch.delenv("INSIGHT_STORE_URL", raising=False)
    monkeypatch.delenv("INSIGHT_CONFIG", raising=False)
    return result


def test_overview(with_run):
    at = page("ui/overview.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Feedback read"] == f"{with_run.counts.read:,}"
    assert metrics["Quarantined"] == str(with_run.counts.quarantined)
    assert at.sidebar.selectbox[0].value == with_run.run_id


def test_themes_drill_down(with_run):
    at = page("ui/themes.py").run()
    assert not at.exception and len(at.dataframe) >= 1
    themes = with_run.themes
    target = themes.iloc[1]["theme_id"]
    at.main.selectbox[0].select(target).run()  # the theme picker; the run picker lives in the sidebar
    assert not at.exception
    assert any(target in s.value for s in at.subheader)
    members = next(d.value for d in at.dataframe if "item_id" in d.value.columns)  # issue 19: where, not only what
    assert {"carrier", "payment_provider", "warehouse", "product_category"} <= set(members.columns)



def test_a_themes_sub_themes_say_what_their_complaints_are_about(with_run):
    themes = with_run.themes
    named = [(t, p) for t, parts in zip(themes["theme_id"], themes["subthemes"]) if isinstance(parts, list)
             for p in parts if p.get("problem_label")]
    assert named  # the demo's sub-themes hold complaints enough to be named
    theme, part = named[0]
    at = page("ui/themes.py").run()
    at.main.selectbox[0].select(theme).run()
    assert not at.exception
    assert any(f"{part['id']} " in m.value and f"complaints: {plain(part['problem_label'])}" in m.value
               for m in at.markdown)


def test_actions_with_evidence_and_filter(with_run):
    at = page("ui/actions.py").run()
    assert not at.exception
    assert len(at.expander) == len(with_run.actions)
    top = with_run.actions.iloc[0]
    # shown escaped, so that customers' words never render as markdown ("[EMAIL]" reads "\[EMAIL\]" in the source)
    assert any(plain(top["evidence"][0])[:40] in m.value for m in at.markdown)
    assert any("Weekly items" in m.value for m in at.markdown)  # the demo is dated: each action's weeks
    owners = at.multiselect[0]
    at = owners.set_value([top["owner"]]).run()
    assert len(at.expander) == int((with_run.actions["owner"] == top["owner"]).sum())


def test_navigation_app_runs(with_run):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception


@pytest.mark.parametrize("path", PAGES)
def test_empty_store_explains_what_to_do(path, home):
    at = page(path).run()
    assert not at.exception
    assert any("insight demo" in i.value for i in at.info)


def test_approve_an_action_from_the_page(with_run):
    at = page("ui/actions.py").run()
    key = with_run.actions.iloc[0]["theme_id"]
    at.selectbox(key=f"st-{key}").select("approved")
    at.sidebar.text_input(key="me").input("cx-lead")
    at.button[0].click().run()
    assert not at.exception
    assert any(f"{key} is now approved" in s.value for s in at.success)
    assert any("approved by cx-lead" in c.value for c in at.caption)


def test_correct_a_root_cause_from_the_themes_page(with_run):
    at = page("ui/themes.py").run()
    item = at.selectbox(key="fix-item").value
    at.selectbox(key=f"fix-cause-{item}").select("inventory")
    at.sidebar.text_input(key="me").input("cx-lead")
    at.button(key="FormSubmitter:correct-tag-Save").click().run()
    assert not at.exception
    assert any(f"{item}:" in s.value and "-> inventory" in s.value for s in at.success)
    from insight import load_config, open_store

    log = open_store(load_config()).tag_corrections()
    assert log.iloc[-1][["item_id", "new_cause", "by"]].tolist() == [item, "inventory", "cx-lead"]


def test_run_picker_offers_analysed_runs_only(tmp_path, monkeypatch, tiny_frame, tiny_config):
    """Regression: a newer ingest-only run (no themes, no actions) became the app's default run."""
    from insight.operations import ingest_only

    monkeypatch.setenv("INSIGHT_HOME", str(tiny_config.home_path))
    monkeypatch.delenv("INSIGHT_STORE_URL", raising=False)
    monkeypatch.delenv("INSIGHT_CONFIG", raising=False)
    analysed = run_and_store(tiny_frame, tiny_config)
    checked = ingest_only(tiny_frame, tiny_config)
    at = page("ui/actions.py").run()
    assert not at.exception
    picker = at.sidebar.selectbox[0]
    assert picker.value == analysed.run_id and checked.run_id not in picker.options


def test_workspace_picker_when_there_are_several(monkeypatch, tiny_frame, tiny_config):
    monkeypatch.setenv("INSIGHT_HOME", str(tiny_config.home_path))
    for var in ("INSIGHT_STORE_URL", "INSIGHT_CONFIG", "INSIGHT_WORKSPACE"):
        monkeypatch.delenv(var, raising=False)
    shop = run_and_store(tiny_frame, tiny_config.model_copy(update={"workspace": "shop"}))
    demo = run_and_store(tiny_frame, tiny_config.model_copy(update={"workspace": "demo"}))  # the newest
    at = page("ui/overview.py").run()
    assert not at.exception
    spaces, picker = at.sidebar.selectbox[0], at.sidebar.selectbox[1]
    assert spaces.label == "Workspace" and spaces.value == "demo" and picker.value == demo.run_id
    at = spaces.select("shop").run()
    assert not at.exception and at.sidebar.selectbox[1].value == shop.run_id
    assert demo.run_id not in at.sidebar.selectbox[1].options


def test_customer_text_is_shown_as_text_never_as_markdown():
    """Regression (issue 16): evidence and examples went raw into st.markdown, so image and link syntax in a
    customer's text rendered (an image loaded from someone else's server when a CX lead opened the page)."""
    quote = "parcel late ![x](https://tracker.example/p.png) [refund here](https://phish.example) **bold** <b>"
    shown = plain(quote)
    for token in ("![", "](", "**"):
        assert token not in shown
    assert shown.replace("\\", "") == quote  # every character is still there, literally
    pages = {p: (ROOT / p).read_text() for p in PAGES}
    for path, source in pages.items():  # the pages route customer strings through it
        assert "from ui.safe import plain" in source, path


def test_a_weekly_runs_overview_says_what_changed_this_week(tmp_path, monkeypatch, weekly_config):
    """Issue 18: the app shows a weekly run's changes from the ledger: the sentences, a chart, the entries."""
    from test_weekly import write_weeks

    from insight.config import load_taxonomy
    from insight.store import SQLStore
    from insight.weekly import weekly

    cfg = weekly_config
    monkeypatch.setenv("INSIGHT_HOME", str(cfg.home_path))
    monkeypatch.delenv("INSIGHT_CONFIG", raising=False)
    w0, w1 = write_weeks(tmp_path, range(2))
    weekly([w0], cfg)
    store = SQLStore(cfg.store_url, cfg.workspace)
    for item in ("W0-0", "W0-1", "W0-2"):
        store.correct_item(item, "inventory", "cx-lead", valid=load_taxonomy(cfg.tag.taxonomy).keys)
    done = weekly([w1], cfg)
    at = page("ui/overview.py").run()
    assert not at.exception
    assert at.sidebar.selectbox[0].value == done.result.run_id
    assert "What changed this week" in [s.value for s in at.subheader]
    said = " ".join(m.value for m in at.markdown)
    assert "24 new items" in said and "human\\_correction" in said
    ledger = [d.value for d in at.dataframe if "cause" in d.value.columns]
    assert ledger and set(ledger[0]["cause"]) >= {"human_correction"}
    assert set(ledger[0].loc[ledger[0]["cause"] == "human_correction", "item_id"]) == {"W0-0", "W0-1", "W0-2"}


def test_the_correction_form_shows_the_picked_items_cause(with_run):
    """Regression (issue 19): picking another item in the correction form kept the first item's cause."""
    at = page("ui/themes.py").run()
    picker = at.selectbox(key="fix-item")
    items = with_run.items.set_index("item_id")["root_cause"]
    first = items[picker.value]
    other = next(i for i in picker.options if items.get(i.split(":")[0]) not in (None, first))
    picker.select(other.split(":")[0]).run()
    assert not at.exception
    shown = at.selectbox(key=f"fix-cause-{other.split(':')[0]}").value
    assert shown == items[other.split(":")[0]] != first


def test_a_reload_keeps_the_run_named_in_the_url(monkeypatch, tiny_frame, tiny_config):
    """Regression (issue 19): a reload switched back to the newest run; the run now travels in the URL."""
    monkeypatch.setenv("INSIGHT_HOME", str(tiny_config.home_path))
    monkeypatch.delenv("INSIGHT_STORE_URL", raising=False)
    monkeypatch.delenv("INSIGHT_CONFIG", raising=False)
    older = run_and_store(tiny_frame, tiny_config)
    newer = run_and_store(tiny_frame, tiny_config)
    at = page("ui/overview.py")
    at.query_params["run"] = older.run_id
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox[0].value == older.run_id != newer.run_id
    assert at.query_params["run"] == older.run_id


def test_actions_say_why_they_rank_in_words_and_show_decisions_with_notes(with_run):
    at = page("ui/actions.py").run()
    key = with_run.actions.iloc[0]["theme_id"]
    at.selectbox(key=f"st-{key}").select("approved")
    at.sidebar.text_input(key="me").input("cx-lead")
    at.text_input(key=f"note-{key}").input("owner agreed")
    at.button[0].click().run()
    captions = [c.value for c in at.caption]
    assert any("why this rank: impact" in c and "complaints" in c and "{" not in c for c in captions)
    assert any("approved by cx-lead" in c and "owner agreed" in c for c in captions)
    at.run()  # the list shows each action's status
    assert any(e.label.startswith(f"#{with_run.actions.iloc[0]['rank']} ") and e.label.endswith("approved")
               for e in at.expander)


def test_global_filters_travel_in_the_url_and_narrow_every_page(with_run):
    """Issue 19: "Parcelo, weeks 9-10" can be looked at directly: the sidebar filters, kept in the URL, narrow the
    overview, the themes (with an in-view count) and the actions (only those with complaints in view)."""
    items = with_run.items[with_run.items["status"] == "stored"]
    parcelo = items[items["carrier"] == "Parcelo"]
    assert 0 < len(parcelo) < len(items)
    at = page("ui/overview.py")
    at.query_params["carrier"] = "Parcelo"
    at.run()
    assert not at.exception
    assert at.sidebar.multiselect(key="f-carrier").value == ["Parcelo"]
    assert any(f"Filtered: {len(parcelo):,} of {len(items):,} analysed items" in i.value for i in at.info)

    at = page("ui/themes.py")
    at.query_params["carrier"] = "Parcelo"
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert "in view" in table.columns and table["in view"].sum() == parcelo["theme_id"].isin(table["theme_id"]).sum()

    at = page("ui/actions.py")  # Parcelo in weeks 9-10 of the demo, as a CX lead would look at its incident
    at.query_params["carrier"] = "Parcelo"
    at.query_params["since"], at.query_params["until"] = "2026-07-27", "2026-08-09"
    at.run()
    assert not at.exception
    labels = [e.label for e in at.expander]
    assert labels and all("complaints in view" in label for label in labels)
    assert len(labels) < len(with_run.actions)
    assert "escalate with the carrier or warehouse" in labels[0] and "carrier Parcelo" in labels[0]
    at.sidebar.multiselect(key="f-carrier").set_value([]).run()  # cleared: everything again, and the URL says so
    assert "carrier" not in at.query_params and len(at.expander) == len(with_run.actions)


@pytest.fixture
def own_run(tmp_path, monkeypatch):
    """A demo run in a store of its own: these tests edit its theme registry."""
    home = tmp_path / "edits"
    monkeypatch.setenv("INSIGHT_HOME", str(home))
    monkeypatch.delenv("INSIGHT_STORE_URL", raising=False)
    monkeypatch.delenv("INSIGHT_CONFIG", raising=False)
    cfg = load_config(embed={"backend": "hashing", "cache": False}, themes={"key_phrases": False}, **DEMO_OVERRIDES)
    return run_and_store(demo_path(), cfg), cfg


def test_a_rename_from_the_cli_or_the_page_shows_at_once(own_run):
    """Regression (issue 19): a theme renamed with `insight themes rename` kept its old name in the app."""
    from insight.operations import edit_theme

    result, cfg = own_run
    top = result.actions.iloc[0]
    edit_theme("rename", cfg, by="ana", theme_id=top["theme_id"], label="Card payments failing")
    at = page("ui/themes.py").run()
    table = at.dataframe[0].value.set_index("theme_id")
    assert table.at[top["theme_id"], "label"] == "Card payments failing"
    actions = page("ui/actions.py").run()
    assert any("Card payments failing" in e.label for e in actions.expander)

    other = result.themes[result.themes["theme_id"] != "unthemed"].iloc[-1]["theme_id"]
    at.sidebar.text_input(key="me").input("cx-lead")
    at.main.selectbox[0].select(other).run()
    at.text_input(key=f"name-{other}").input("Sizes run small")
    at.button(key=f"FormSubmitter:rename-{other}-Rename").click().run()
    assert not at.exception and any("is now called 'Sizes run small'" in s.value for s in at.success)
    at.run()
    assert at.dataframe[0].value.set_index("theme_id").at[other, "label"] == "Sizes run small"


def test_merge_and_split_a_theme_from_the_page_with_a_preview(own_run):
    from insight.store import SQLStore

    result, cfg = own_run
    sizes = result.themes[result.themes["theme_id"] != "unthemed"].set_index("theme_id")["size"]
    big, small = sizes.idxmax(), sizes.idxmin()
    at = page("ui/themes.py").run()
    at.sidebar.text_input(key="me").input("cx-lead")
    at.main.selectbox[0].select(big).run()
    at.multiselect(key=f"merge-{big}").set_value([small])
    at.button(key=f"FormSubmitter:merge-{big}-Merge").click().run()
    assert not at.exception and any(f"{small} merged into {big}" in s.value for s in at.success)
    registry = {r["theme_id"]: r for r in SQLStore(cfg.store_url, cfg.workspace).registry_records()}
    assert registry[small]["status"] == "merged"

    at.button(key=f"preview-{big}").click().run()
    preview = [c.value for c in at.caption if c.value.startswith("The split would make parts of")]
    assert preview, [c.value for c in at.caption]
    before = set(registry)
    assert {r["theme_id"] for r in SQLStore(cfg.store_url, cfg.workspace).registry_records()} == before  # nothing
    # stored by a preview
    at.button(key=f"split-{big}").click().run()
    assert not at.exception and any(f"{big} split" in s.value for s in at.success)
    after = {r["theme_id"] for r in SQLStore(cfg.store_url, cfg.workspace).registry_records()}
    assert len(after - before) == 1


def app_store():
    """The store as the app sees it: through the config file the app reads."""
    import os

    from insight import open_store

    return open_store(load_config(os.environ["INSIGHT_CONFIG"]))


@pytest.fixture
def team(tmp_path, monkeypatch):
    """A demo run in a store of its own, and a config file (``$INSIGHT_CONFIG``) whose roles a test can change."""
    home = tmp_path / "team"
    monkeypatch.setenv("INSIGHT_HOME", str(home))
    monkeypatch.delenv("INSIGHT_STORE_URL", raising=False)
    cfg = load_config(embed={"backend": "hashing", "cache": False}, themes={"key_phrases": False}, **DEMO_OVERRIDES)
    result = run_and_store(demo_path(), cfg)
    path = tmp_path / "app.yaml"

    def roles(**roles) -> Path:
        import yaml

        path.write_text(yaml.safe_dump({"workspace": "demo", "embed": {"backend": "hashing", "cache": False},
                                        "access": {"roles": roles, "default_role": None}}))
        return path

    monkeypatch.setenv("INSIGHT_CONFIG", str(roles()))
    return result, roles


def signed_in(path: str, email: str) -> AppTest:
    at = page(path)
    at.user = {"is_logged_in": True, "email": email, "name": email.split("@")[0]}
    return at


@pytest.mark.parametrize("path", [*PAGES, "ui/review.py", "ui/runs.py"])
def test_with_roles_every_page_asks_for_a_login_and_local_mode_says_it_is_local(team, path):
    result, roles = team
    at = page(path).run()  # local mode: the sidebar says so, and the page renders
    assert not at.exception and any("Local mode" in c.value for c in at.sidebar.caption)
    roles(reviewer=["ana@shop.com"])
    at = page(path).run()
    assert not at.exception and any(b.label == "Log in" for b in at.button)
    assert not at.dataframe and not at.metric  # nothing of the store is shown before a login
    at = signed_in(path, "eve@elsewhere.com").run()
    assert any("has no access" in e.value for e in at.error)


def test_a_viewer_gets_no_forms_and_a_reviewer_demoted_meanwhile_is_refused_by_the_store(team):
    result, roles = team
    roles(reviewer=["ana@shop.com"], viewer=["*@shop.com"])
    at = signed_in("ui/actions.py", "bo@shop.com").run()
    assert not at.exception and any("ana" not in c.value and "reviewer role" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key and b.key.startswith("FormSubmitter:status-")]

    at = signed_in("ui/actions.py", "ana@shop.com").run()
    key = result.actions.iloc[0]["theme_id"]
    at.selectbox(key=f"st-{key}").select("approved")
    roles(viewer=["*@shop.com"])  # an admin demotes ana while her page is open
    at.button(key=f"FormSubmitter:status-{key}-Save").click().run()
    assert any("[E801]" in e.value and "viewer" in e.value for e in at.error)
    assert app_store().action_history(key).empty


def test_a_decision_from_a_stale_page_is_refused(team):
    result, roles = team
    roles(reviewer=["ana@shop.com", "ben@shop.com"], admin=["lead@shop.com"])
    key = result.actions.iloc[0]["theme_id"]
    at = signed_in("ui/actions.py", "ana@shop.com").run()
    app_store().set_action_status(key, "rejected", "ben@shop.com")  # ben decides meanwhile
    at.selectbox(key=f"st-{key}").select("approved")
    at.button(key=f"FormSubmitter:status-{key}-Save").click().run()
    assert any("[E409]" in e.value and "rejected" in e.value for e in at.error)
    assert app_store().action_history(key)["status"].tolist() == ["rejected"]
    runs = signed_in("ui/runs.py", "lead@shop.com").run()  # the admin's audit log shows who did what
    log = runs.dataframe[-1].value
    assert log[["actor", "role", "action", "target"]].values.tolist() == [
        ["ben@shop.com", "reviewer", "action_status", key]]


def test_the_review_page_labels_one_by_one_in_bulk_and_shows_agreement(team):
    result, _ = team
    at = page("ui/review.py").run()
    assert not at.exception
    at.sidebar.text_input(key="me").input("ana").run()
    first = at.caption[0].value.split(" ")[0]
    at.button(key="label-accept").click().run()  # keep the tagger's cause
    assert not at.exception and not at.error
    second = at.caption[0].value.split(" ")[0]
    assert second != first
    at.button(key="label-skip").click().run()
    third = at.caption[0].value.split(" ")[0]
    assert third != second
    at.button(key="label-payments").click().run()
    log = app_store().tag_corrections()
    assert log["item_id"].tolist() == [first, third] and log.iloc[-1]["new_cause"] == "payments"
    assert log.iloc[0]["new_cause"] == log.iloc[0]["old_cause"]  # a confirmation

    table = at.dataframe(key="bulk-table")
    assert table is not None
    at.session_state["bulk-table"] = {"selection": {"rows": [0, 1], "columns": []}}
    at.run()
    at.button(key="bulk-accept").click().run()
    assert any("2 item(s) labelled" in s.value for s in at.success)
    at.sidebar.text_input(key="me").input("ben").run()  # a second reviewer labels ana's first item otherwise
    items = app_store().load(result.run_id, "items").set_index("item_id")
    app_store().correct_tag(result.run_id, first, "inventory", "ben",
                                          valid=["inventory"], expected_cause=items.at[first, "root_cause"])
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Items labelled by 2+ reviewers"] == "1" and metrics["Reviewers agree"] == "0%"


def test_search_by_words_and_by_meaning(team):
    result, _ = team
    at = page("ui/review.py").run()
    at.text_input(key="q").input("refund").run()
    assert not at.exception
    hits = at.dataframe[0].value
    assert len(hits) and hits["text"].str.contains("refund", case=False).all()
    at.radio(key="q-how").set_value("meaning").run()
    assert not at.exception
    ranked = at.dataframe[0].value
    assert len(ranked) and ranked["score"].is_monotonic_decreasing and ranked["score"].iloc[0] >= 0.3


def test_the_runs_page_compares_a_run_with_the_one_before(team):
    result, _ = team
    again = run_and_store(demo_path(), load_config(embed={"backend": "hashing", "cache": False},
                                                   themes={"key_phrases": False, "min_cluster_size": 40},
                                                   **DEMO_OVERRIDES))
    at = page("ui/runs.py").run()
    assert not at.exception and at.sidebar.selectbox[0].value == again.run_id
    metrics = {m.label: int(m.value) for m in at.metric}
    assert set(metrics) == {"Themes born", "Themes grew", "Themes shrank", "Themes gone"}
    assert sum(metrics.values()) > 0
    assert any(f"{again.run_id} against {result.run_id}" in c.value for c in at.caption)


def test_the_themes_page_draws_the_map_and_a_link_opens_its_theme(team):
    result, _ = team
    target = result.themes[result.themes["theme_id"] != "unthemed"].iloc[2]["theme_id"]
    at = page("ui/themes.py")
    at.query_params["theme"] = target
    at.run()
    assert not at.exception
    charts = [c for c in at.get("vega_lite_chart") if "map_x" in str(c.proto)]
    assert charts, "no theme map"
    assert any(target in s.value for s in at.subheader)
    assert at.query_params["theme"] == target


def test_an_export_without_dates_draws_no_weekly_counts_on_its_actions(monkeypatch, tiny_frame, tiny_config):
    """Regression (issue 19, CSAT remarks): an export without timestamps showed "Weekly items █ (weeks 1-1)" on
    each action, a trend the run itself says it cannot claim."""
    monkeypatch.setenv("INSIGHT_HOME", str(tiny_config.home_path))
    monkeypatch.delenv("INSIGHT_STORE_URL", raising=False)
    monkeypatch.delenv("INSIGHT_CONFIG", raising=False)
    result = run_and_store(tiny_frame.drop(columns=["timestamp"]), tiny_config)
    assert len(result.actions)
    at = page("ui/actions.py").run()
    assert not at.exception and len(at.expander) == len(result.actions)
    assert not [m for m in at.markdown if "Weekly items" in m.value]


def test_move_items_and_relabel_in_bulk_and_filter_by_theme_and_confidence(team):
    """The remaining write paths (moving items out of a theme; relabelling a selection) and the theme and
    confidence filters, which travel in the URL like the others."""
    result, _ = team
    themed = result.themes[result.themes["theme_id"] != "unthemed"]
    source, target = themed.iloc[0]["theme_id"], themed.iloc[1]["theme_id"]
    at = page("ui/themes.py")
    at.query_params["theme"] = source
    at.run()
    at.sidebar.text_input(key="me").input("ana").run()
    members = result.items[result.items["theme_id"] == source]["item_id"].tolist()[:2]
    at.multiselect(key=f"move-items-{source}").set_value(members)
    at.selectbox(key=f"move-to-{source}").select(target)
    at.button(key=f"FormSubmitter:move-{source}-Move").click().run()
    assert not at.exception and any(f"2 item(s) moved to {target}" in s.value for s in at.success)
    events = app_store().theme_events()
    assert events.iloc[-1]["event"] == "moved" and events.iloc[-1]["theme_id"] == target
    assert app_store().audit().iloc[-1][["actor", "action"]].tolist() == ["ana", "theme_edit"]

    at = page("ui/review.py")
    at.query_params["theme_id"] = source
    at.query_params["max_confidence"] = "0.6"
    at.run()
    stored = result.items[result.items["status"] == "stored"]
    expected = stored[(stored["theme_id"] == source) & (stored["confidence"].fillna(0) <= 0.6)]
    assert not at.exception and any(f"Filtered: {len(expected):,} of" in i.value for i in at.info)
    at.sidebar.text_input(key="me").input("ben").run()
    at.session_state["bulk-table"] = {"selection": {"rows": [0, 1], "columns": []}}
    at.run()
    at.selectbox(key="bulk-cause").select("returns_refunds")
    at.button(key="bulk-relabel").click().run()
    assert any("2 item(s) labelled" in s.value for s in at.success)
    log = app_store().tag_corrections()
    assert log.tail(2)["new_cause"].tolist() == ["returns_refunds"] * 2 and set(log.tail(2)["by"]) == {"ben"}


def test_a_correction_from_a_stale_page_is_refused(team):
    result, _ = team
    at = page("ui/themes.py").run()
    at.sidebar.text_input(key="me").input("ana").run()
    item = at.selectbox(key="fix-item").value
    seen = result.items.set_index("item_id").at[item, "root_cause"]
    other = next(c for c in ["payments", "delivery"] if c != seen)
    app_store().correct_tag(result.run_id, item, other, "ben", valid=[other])  # ben corrects it meanwhile
    at.selectbox(key=f"fix-cause-{item}").select("inventory")
    at.button(key="FormSubmitter:correct-tag-Save").click().run()
    assert any("[E409]" in e.value and other in e.value for e in at.error)
    assert app_store().load(result.run_id, "items").set_index("item_id").at[item, "root_cause"] == other


def test_a_session_from_local_mode_gets_its_role_once_roles_are_configured(team):
    """Regression: a session that typed a name in local mode kept the role "local" (every form) after an admin
    configured roles and the user logged in as a viewer."""
    result, roles = team
    at = page("ui/actions.py").run()
    at.sidebar.text_input(key="me").input("ana").run()
    assert [b for b in at.button if b.key and b.key.startswith("FormSubmitter:status-")]
    roles(viewer=["*@shop.com"])
    at.user = {"is_logged_in": True, "email": "bo@shop.com"}
    at.run()
    assert any("bo@shop.com · viewer" in c.value for c in at.sidebar.caption)
    assert not [b for b in at.button if b.key and b.key.startswith("FormSubmitter:status-")]


def test_a_pocket_action_says_which_sub_theme_it_is_about(monkeypatch, tiny_frame, tiny_config):
    """An action on a pocket of complaints inside a theme of praise names its sub-theme and the theme around it,
    and counts the sub-theme's items, not the theme's (the clothing reviews' itchy sweaters)."""
    from insight import assembly
    from insight.flow import run

    monkeypatch.setenv("INSIGHT_HOME", str(tiny_config.home_path))
    monkeypatch.delenv("INSIGHT_STORE_URL", raising=False)
    monkeypatch.delenv("INSIGHT_CONFIG", raising=False)
    result = run(tiny_frame, tiny_config)
    assert len(result.actions)
    first = result.actions.iloc[0]
    pocket = f"{first['theme_id']}.2"
    result.actions.at[0, "explanation"] = {**first["explanation"], "subtheme": pocket, "theme_negative_share": 0.12}
    assembly.store(tiny_config).publish(result, source="tiny")
    at = page("ui/actions.py").run()
    assert not at.exception
    assert any(f"(sub-theme {pocket} of {plain(first['theme_label'])})" in c.value
               and plain("inside a theme that is mostly praise (12% complaints)") in c.value for c in at.caption)
