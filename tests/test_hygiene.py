"""Profiles and mapping inference, timestamps, language routing, near-duplicates, quarantine storage, erasure."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from insight import schema as S
from insight.clean import LanguageDetector, finalise_duplicates, near_duplicates
from insight.config import IngestConfig, load_config
from insight.embed import EmbeddingCache, text_key
from insight.flow import run_and_store
from insight.ingest import infer_mapping, list_profiles, map_columns, parse_timestamps, read_feedback, validate
from insight.operations import erase_customer, ingest_only
from insight.store import SQLStore
from insight.store.tables import erasures
from pipelines.cli import app


def test_every_packaged_profile_loads_and_maps_text():
    profiles = list_profiles()
    assert {"generic", "zendesk", "shopify_reviews", "app_store", "survey"} <= set(profiles)
    for name, prof in profiles.items():
        if name != "generic":
            assert "text" in prof["columns"], name


def test_profile_joins_title_and_body_and_sets_channel(tmp_path):
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"title": ["Fell apart", None], "body": ["seams ripped after one wash", "too small"],
                  "rating": [1, 2], "created_at": ["2026-01-02", "2026-01-03"],
                  "email": ["a@x.example", "b@x.example"]}).to_csv(path, index=False)
    df = read_feedback(path, IngestConfig(profile="shopify_reviews"))
    assert df[S.TEXT].tolist() == ["Fell apart. seams ripped after one wash", "too small"]
    assert set(df[S.CHANNEL]) == {"review"}
    assert df[S.CUSTOMER_ID].str.startswith("h:").all()  # an e-mail used as an id is pseudonymised


def test_infer_mapping_from_headers_and_values():
    sample = pd.DataFrame({"Ticket ID": ["1", "2"], "Created At": ["2026-01-01", "2026-01-02"],
                           "Requester": ["x", "y"], "Notes blob": ["my parcel never arrived, " * 3, "refund " * 9]})
    proposal = infer_mapping(sample)
    assert proposal["columns"]["item_id"] == "Ticket ID"
    assert proposal["columns"]["timestamp"] == "Created At"
    assert proposal["columns"]["text"] == "Notes blob"  # no synonym: the longest free text wins
    zendesk = pd.DataFrame(columns=["Id", "Subject", "Description", "Created at", "Requester id", "Via"])
    assert infer_mapping(zendesk)["profile"] == "zendesk"


def test_cli_infer_prints_a_mapping(tmp_path):
    path = tmp_path / "x.csv"
    pd.DataFrame({"Review Text": ["nice but late"], "Rating": [3]}).to_csv(path, index=False)
    out = CliRunner().invoke(app, ["ingest", str(path), "--infer", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["columns"] == {"text": "Review Text", "rating": "Rating"}


def test_timestamps_iso_mixed_epoch_and_bounds():
    values = pd.Series(["2026-01-05T10:00:00+01:00", "05 Jan 2026 10:00", "1767607200", "1767607200000", "",
                        None, "garbage"])
    parsed, given = parse_timestamps(values)
    assert str(parsed[0]) == "2026-01-05 09:00:00+00:00"
    assert parsed[1].day == 5 and parsed[2].year == 2026 and parsed[3] == parsed[2]
    assert given.tolist() == [True, True, True, True, False, False, True] and pd.isna(parsed[6])
    df = validate(map_columns(pd.DataFrame({"text": ["a", "b"], "timestamp": ["2999-01-01", "1970-01-02"]}),
                              IngestConfig()), IngestConfig())
    assert df[S.REASON].tolist() == ["future_timestamp", "implausible_timestamp"]


@pytest.mark.integration  # lingua
@pytest.mark.parametrize("text,lang", [
    ("mi pedido no ha llegado todavía y nadie responde", "es"),
    ("Das Paket ist beschädigt angekommen und der Service antwortet nicht", "de"),
    ("bhai mera order abhi tak nahi aaya", "hi"),
    ("my parcel is late again and nobody answers", "en"),
    ("super", "und"),
])
def test_language_detection(text, lang):
    assert LanguageDetector().detect([text]) == [lang]


@pytest.mark.integration  # lingua
def test_other_languages_set_aside_or_flagged(tmp_path):
    frame = pd.DataFrame({"text": ["my parcel is late again, where is it", "mi pedido no ha llegado todavía, ayuda"]})
    aside = ingest_only(frame, load_config(home=str(tmp_path), clean={"other_languages": "set_aside"}), store=False)
    assert aside.items[S.REASON].tolist()[1] == "other_language"
    kept = ingest_only(frame, load_config(home=str(tmp_path)), store=False)
    assert kept.counts.stored == 2 and kept.items[S.LANGUAGE].tolist() == ["en", "es"]


def test_near_duplicates_within_customer_only():
    items = pd.DataFrame({S.ID: ["a", "b", "c", "d"], S.CUSTOMER_ID: ["x", "x", "y", "x"]})
    X = np.array([[1, 0], [0.999, 0.04], [1, 0], [0, 1]], dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    near = near_duplicates(items, X, 0.95, ["customer_id"])
    assert near.tolist() == [None, "a", None, None]
    assert near_duplicates(items, X, 0.95, [])[2] == "a"  # dedupe on text alone: across customers too


def test_repeated_and_conflicting_ids(tmp_path):
    frame = pd.DataFrame({"id": ["1", "1", "2", "2"], "text": ["late parcel", "late parcel", "refund?", "other"]})
    r = ingest_only(frame, load_config(home=str(tmp_path), ingest={"columns": {"item_id": "id"}}), store=False)
    assert r.items[S.REASON].fillna("-").tolist() == ["-", "repeated_record", "-", "conflicting_id"]
    assert r.items[S.ID].is_unique
    counted = finalise_duplicates(r.items)
    assert counted[S.DUP_COUNT].tolist() == [2, 0, 1, 1]


def test_quarantine_is_stored_with_source_and_reason(tmp_path, tiny_frame, fast_config):
    path = tmp_path / "in.csv"
    tiny_frame.to_csv(path, index=False)
    cfg = fast_config.model_copy(update={"ingest": IngestConfig(columns={"item_id": "id"})})
    result = ingest_only(path, cfg)
    q = SQLStore(cfg.store_url).load(result.run_id, "quarantine")
    assert sorted(q["reason"]) == ["bad_rating", "bad_timestamp"]
    assert (q["source"] == "in.csv").all() and q["source_line"].notna().all()


def test_erasure_everywhere_and_idempotent(tmp_path, tiny_frame, fast_config):
    cfg = fast_config.model_copy(update={
        "ingest": IngestConfig(columns={"item_id": "id"}),
        "embed": fast_config.embed.model_copy(update={"cache": True}),
        "rank": fast_config.rank.model_copy(update={"min_theme_size": 3}),
        "themes": fast_config.themes.model_copy(update={"min_cluster_size": 3, "n_components": 5}),
    })
    result = run_and_store(tiny_frame, cfg)
    store = SQLStore(cfg.store_url)
    export = tmp_path / "items.json"
    CliRunner().invoke(app, ["export", "--what", "items", "--format", "json", "--out", str(export)],
                       env={"INSIGHT_HOME": str(cfg.home_path)})
    assert "p1" in export.read_text() and store.managed_exports()["path"].tolist() == [str(export.resolve())]
    text = result.items.loc[result.items[S.ID] == "P1", S.CLEAN_TEXT].item()
    cache = EmbeddingCache(cfg.home_path / "cache", "hashing-384")
    assert cache.get_many([text_key(text)])

    done = erase_customer("p1", cfg)
    assert done["items_removed"] == 1 and done["cache_vectors_removed"] == 1
    items = store.load(result.run_id, "items")
    assert "p1" not in set(items[S.CUSTOMER_ID]) and text not in set(items["text"])
    assert '"p1"' not in export.read_text()
    assert not EmbeddingCache(cfg.home_path / "cache", "hashing-384").get_many([text_key(text)])
    for quotes in store.load(result.run_id, "actions")["evidence"]:
        assert text not in quotes
    again = erase_customer("p1", cfg)
    assert again["items_removed"] == 0
    with store.engine.connect() as conn:
        logged = conn.execute(erasures.select()).mappings().all()
    assert len(logged) == 2 and all("p1" not in str(dict(r)) for r in logged)
    assert logged[0]["subject_hash"] == done["subject_hash"] != "p1"


@pytest.mark.integration  # spaCy NER
def test_optional_name_redaction_and_raw_text_policy(tmp_path):
    frame = pd.DataFrame({"text": ["Sarah Connor in Manchester never got her parcel, mail sarah@example.com"]})
    plain = ingest_only(frame, load_config(home=str(tmp_path)), store=False)
    assert "[EMAIL]" in plain.items[S.CLEAN_TEXT][0] and "Sarah Connor" in plain.items[S.CLEAN_TEXT][0]
    assert S.RAW_TEXT not in plain.items.columns
    named = ingest_only(frame, load_config(home=str(tmp_path), clean={"pii": {"names": True}}), store=False)
    text = named.items[S.CLEAN_TEXT][0]
    assert "Sarah Connor" not in text and "[NAME]" in text and "[PLACE]" in text
    raw = ingest_only(frame, load_config(home=str(tmp_path), clean={"pii": {"keep_raw": True}}), store=False)
    assert raw.items[S.RAW_TEXT][0] == frame["text"][0]


def test_erasure_rewrites_a_markdown_brief_and_a_retry_finishes_what_a_crash_left(tmp_path, tiny_frame,
                                                                                 fast_config, monkeypatch):
    """Regression (issue 16): with a markdown export on record, `insight erase` crashed after its transaction
    committed (KeyError 'rank'); later exports were not rewritten and a second erase did nothing."""
    from insight import operations

    cfg = fast_config.model_copy(update={
        "ingest": IngestConfig(columns={"item_id": "id"}),
        "rank": fast_config.rank.model_copy(update={"min_theme_size": 3}),
        "themes": fast_config.themes.model_copy(update={"min_cluster_size": 3, "n_components": 5}),
    })
    run_and_store(tiny_frame, cfg)
    env = {"INSIGHT_HOME": str(cfg.home_path)}
    brief, items_json = tmp_path / "brief.md", tmp_path / "items.json"
    assert CliRunner().invoke(app, ["export", "--format", "markdown", "--out", str(brief)], env=env).exit_code == 0
    assert CliRunner().invoke(app, ["export", "--what", "items", "--format", "json", "--out", str(items_json)],
                              env=env).exit_code == 0
    assert '"p1"' in items_json.read_text()
    real = operations.report.export
    calls = {"n": 0}

    def crash_once(*args, **kwargs):  # the first rewrite dies, as a full disk or a kill would
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(operations.report, "export", crash_once)
    with pytest.raises(OSError):
        erase_customer("p1", cfg)
    monkeypatch.setattr(operations.report, "export", real)
    again = erase_customer("p1", cfg)  # nothing left in the database, but the exports still hold p1
    # the brief was rewritten before the crash; the items file it left pending is rewritten by the retry
    assert again["items_removed"] == 0 and again["exports_rewritten"] == [str(items_json.resolve())]
    assert '"p1"' not in items_json.read_text() and brief.read_text().startswith("#")
    assert erase_customer("p1", cfg)["exports_rewritten"] == []  # done: nothing pending


def test_contact_ids_are_keyed_hashes_that_a_dictionary_cannot_reverse(tmp_path, fast_config, monkeypatch):
    """Regression (issue 16): a customer id that is an e-mail or phone was stored as an unsalted SHA-256, which a
    dictionary of addresses reverses. It is now an HMAC with a key kept in the local state (not in code)."""
    import hashlib

    frame = pd.DataFrame({"text": ["parcel late again", "refund missing"],
                          "customer_id": ["jo.smith@example.com", "+44 7700 900123"]})
    first = ingest_only(frame, fast_config, store=False).items[S.CUSTOMER_ID].tolist()
    unsalted = "h:" + hashlib.sha256(b"jo.smith@example.com").hexdigest()[:16]
    assert first[0].startswith("h:") and first[0] != unsalted and "example" not in first[0]
    again = ingest_only(frame, fast_config, store=False).items[S.CUSTOMER_ID].tolist()
    assert again == first  # stable within one installation: dedupe and erasure still find the customer
    key = fast_config.home_path / "contact.key"
    assert key.is_file() and oct(key.stat().st_mode)[-3:] == "600"
    monkeypatch.setenv("INSIGHT_CONTACT_KEY", "another installation's key")
    assert ingest_only(frame, fast_config, store=False).items[S.CUSTOMER_ID].tolist()[0] != first[0]


def test_mojibake_is_repaired_and_undecodable_bytes_are_flagged(fast_config):
    """Regression (issue 16): undecodable bytes were stored as U+FFFD or mojibake (250 rows) without any flag."""
    frame = pd.DataFrame({"text": ["The dress didnâ€™t fit, the café said sorry", "parcel \ufffd\ufffd late again",
                                   "plain text, nothing wrong"]})
    items = ingest_only(frame, fast_config, store=False).items
    assert items[S.CLEAN_TEXT].iloc[0] == "The dress didn’t fit, the café said sorry"
    assert items[S.DETAIL].tolist()[:2] == ["encoding_repaired", "undecodable_bytes"]
    assert items[S.STATUS].iloc[1] == S.STORED and pd.isna(items[S.DETAIL].iloc[2])
    strict = fast_config.model_copy(update={"clean": fast_config.clean.model_copy(
        update={"bad_encoding": "quarantine"})})
    items = ingest_only(frame, strict, store=False).items
    assert items[S.STATUS].tolist()[1] == S.QUARANTINED and items[S.REASON].tolist()[1] == "undecodable_bytes"
    assert items[S.STATUS].tolist()[0] == S.STORED  # a repaired text is fine
    from insight.report import health

    items = ingest_only(frame, fast_config, store=False).items.assign(needs_review=False, **{S.THEME: "unthemed"})
    notes = health(items, pd.DataFrame({S.THEME: [], "label": []}), {"trends": True, "reason": None})
    assert notes["undecodable_rows"] == 1 and notes["repaired_rows"] == 1
    assert any("could not be decoded" in n for n in notes["notes"])


def test_erased_words_are_not_left_in_the_database_file(tmp_path, tiny_frame, fast_config):
    """Issue 16: deleted rows stayed readable in SQLite's free pages and write-ahead log after `insight erase`."""
    cfg = fast_config.model_copy(update={"ingest": IngestConfig(columns={"item_id": "id"})})
    frame = tiny_frame.copy()
    frame.loc[frame["customer_id"] == "p1", "text"] = "my parcel zyxwvutsrq never came"
    run_and_store(frame, cfg)
    erase_customer("p1", cfg)
    raw = b"".join(p.read_bytes() for p in cfg.home_path.glob("insight.db*"))
    assert b"zyxwvutsrq" not in raw


def test_after_erasure_no_file_in_the_local_state_holds_the_customers_words_or_ids(tmp_path, tiny_frame,
                                                                                  fast_config):
    """Issue 16 acceptance: one customer wrote 15 messages in words nobody else uses; after `insight erase`, a
    byte search of every file under the home (database and its log, caches, registry, keys) and of every managed
    export finds none of their words, their customer id or their item ids."""
    cfg = fast_config.model_copy(update={
        "ingest": IngestConfig(columns={"item_id": "id"}),
        "embed": fast_config.embed.model_copy(update={"cache": True}),
        "rank": fast_config.rank.model_copy(update={"min_theme_size": 3}),
        "themes": fast_config.themes.model_copy(update={"min_cluster_size": 3, "n_components": 5}),
    })
    own = ["today", "monday", "twice", "sadly", "honestly", "truly", "really", "still", "now", "yet", "again",
           "friday", "weekly", "slowly", "lately"]
    mine = pd.DataFrame({"id": [f"zzitem{i}" for i in range(15)],
                         "text": [f"my quuxparcel zorblaxian courier is late {w}" for w in own],
                         "timestamp": tiny_frame["timestamp"].iloc[0], "customer_id": "zz-erase-me",
                         "carrier": "Parcelo", "rating": 1})
    broken = mine.iloc[:1].assign(id="zzitem99", rating=42)  # one of theirs quarantined too
    frame = pd.concat([tiny_frame, mine, broken], ignore_index=True)
    env = {"INSIGHT_HOME": str(cfg.home_path)}
    run_and_store(frame, cfg)
    run_and_store(frame.iloc[::-1], cfg)  # a second run: the registry and an earlier run hold them too
    exports = []
    for what, fmt in [("items", "csv"), ("items", "json"), ("themes", "json"), ("themes", "csv"),
                      ("quarantine", "csv"), ("actions", "jira"), ("actions", "csv"), ("actions", "markdown")]:
        out = tmp_path / "out" / f"{what}.{fmt}"
        out.parent.mkdir(exist_ok=True)
        result = CliRunner().invoke(app, ["export", "--what", what, "--format", fmt, "--out", str(out)], env=env)
        assert result.exit_code == 0, result.output
        exports.append(out)
    secrets = [b"quuxparcel", b"zorblaxian", b"zz-erase-me", b"zzitem"]

    def holding() -> dict[str, list[str]]:
        found = {}
        for path in [*cfg.home_path.rglob("*"), *exports]:
            if path.is_file():
                data = path.read_bytes()
                hits = [s.decode() for s in secrets if s in data]
                if hits:
                    found[str(path.relative_to(tmp_path))] = hits
        return found

    assert holding()  # before: the words are everywhere
    done = erase_customer("zz-erase-me", cfg)
    assert done["items_removed"] == 32
    assert holding() == {}


def test_erasure_rebuilds_names_from_the_remaining_customers(tmp_path, tiny_frame, fast_config, monkeypatch):
    """Issue 16: names derived from items (labels, problem labels, keywords, key phrases, sub-theme labels, action
    titles and sentences, registry labels) are rebuilt after an erasure: a word that fewer than ``min_voices``
    remaining customers use leaves every name, although it named the theme while the erased customer counted."""
    cfg = fast_config.model_copy(update={
        "ingest": IngestConfig(columns={"item_id": "id"}),
        "rank": fast_config.rank.model_copy(update={"min_theme_size": 3}),
        "themes": fast_config.themes.model_copy(update={"min_cluster_size": 3, "n_components": 5}),
    })
    rows = [{"id": f"G{i}", "text": f"my glorbnix parcel is late again {w}", "customer_id": who,
             "timestamp": tiny_frame["timestamp"].iloc[i], "carrier": "Parcelo", "rating": 1}
            for i, (w, who) in enumerate(zip(["monday", "friday", "monday", "friday", "monday", "friday"],
                                             ["g1", "g1", "g2", "g2", "g3", "g3"]))]
    frame = pd.concat([tiny_frame, pd.DataFrame(rows)], ignore_index=True)
    result = run_and_store(frame, cfg)
    store = SQLStore(cfg.store_url)

    def names() -> str:
        themes = store.load(result.run_id, "themes")
        actions = store.load(result.run_id, "actions")
        parts = [*themes["label"], *themes["problem_label"].fillna(""), *map(str, themes["keywords"]),
                 *map(str, themes["key_phrases"]), *map(str, themes["subthemes"]), *actions["title"],
                 *actions["theme_label"], *actions["segment_sentence"].fillna(""), *map(str, actions["explanation"]),
                 *store.load(result.run_id, "segments")["sentence"].fillna(""),
                 *[r["label"] for r in store.registry_records()]]
        return " ".join(parts).lower()

    assert "glorbnix" in names()  # three customers: it may name a theme
    real = SQLStore.replace_names
    monkeypatch.setattr(SQLStore, "replace_names", lambda *a, **k: (_ for _ in ()).throw(OSError("killed")))
    with pytest.raises(OSError):  # the items are gone, the names not yet rebuilt: the run stays marked
        erase_customer("g2", cfg)
    monkeypatch.setattr(SQLStore, "replace_names", real)
    done = erase_customer("g2", cfg)  # a retry finishes the job
    assert done["items_removed"] == 0 and done["names_rebuilt"] == [result.run_id]
    assert "glorbnix" not in names()  # two customers left: it may not
    themes = store.load(result.run_id, "themes")
    assert themes["label"].str.strip().ne("").all()  # a label that lost its words is named again, never blank
    assert erase_customer("g2", cfg)["names_rebuilt"] == []  # nothing pending


def test_a_help_desks_ticket_category_is_the_contact_reason_not_a_product_category(tmp_path):
    """Regression (real CSAT remarks): the export's ticket category ("Returns", "Order Related") was read as
    product_category, so actions read "Product delivery (product category Returns)". It is why the customer got
    in touch as the help desk filed it: a segment reported, never one that names who is behind a problem."""
    path = tmp_path / "csat.csv"
    pd.DataFrame({"Customer Remarks": ["parcel never came", "refund pending"],
                  "category": ["Order Related", "Returns"]}).to_csv(path, index=False)
    df = read_feedback(path, IngestConfig(profile="csat_remarks"))
    assert df["contact_reason"].tolist() == ["Order Related", "Returns"] and "product_category" not in df
    sample = pd.DataFrame({"Ticket ID": ["1", "2"], "Ticket category": ["Refunds", "Delivery"],
                           "Description": ["where is my refund, it has been weeks " * 2, "parcel lost " * 6]})
    assert infer_mapping(sample)["columns"]["contact_reason"] == "Ticket category"
    cfg = load_config()
    assert "contact_reason" in cfg.measure.segment_columns and "contact_reason" not in cfg.measure.cause_columns
    assert "contact_reason" in S.SEGMENT_COLUMNS
