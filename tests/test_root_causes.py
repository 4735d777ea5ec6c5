"""Issue 15: keywords that need context, out-of-taxonomy remarks, praise-only remarks, the review queue's order and
the active-learning loop."""

import numpy as np
import pandas as pd
import pytest

from insight.config import ConfigError, Taxonomy, load_config, load_taxonomy
from insight.embed import HashingEmbedder
from insight.tag import KeywordMatcher, LabelMemory, ZeroShotTagger, complaint_focus, review_order


def _taxonomy(**extra) -> Taxonomy:
    return Taxonomy.model_validate({"name": "t", "root_causes": {
        "delivery": {"description": "parcels", "seeds": ["late parcel"], "keywords": ["courier"],
                     "patterns": [r"\bdriver\b[^.]{0,30}\b(?:never|didn't)\b"],
                     "exclude": [r"\b(?:printer|graphics)\s+drivers?\b"]},
        "product_quality": {"description": "faulty goods", "seeds": ["it broke"], "keywords": ["driver"]},
        "other": {"description": "nothing to fix", "seeds": ["thanks"]},
        **extra}})


@pytest.mark.integration  # spaCy lemmas
def test_patterns_need_context_and_exclusions_cancel_a_cause():
    hits = KeywordMatcher(_taxonomy()).counts([
        "the driver never came to my door",        # delivery by pattern (and the bare keyword of product_quality)
        "my printer driver keeps crashing",        # no delivery evidence: excluded
        "the printer driver never installs and the courier was late",  # exclusion zeroes delivery's hits
        "driver",                                   # the bare word: no delivery pattern
    ])
    d = 0
    assert hits[0, d] == 1
    assert hits[1, d] == 0 and hits[1, 1] == 1
    assert hits[2, d] == 0
    assert hits[3, d] == 0 and hits[3, 1] == 1


def test_a_pattern_that_does_not_compile_is_a_clear_config_error(tmp_path):
    path = tmp_path / "tax.yaml"
    path.write_text("name: t\nroot_causes:\n  a: {description: a, seeds: [a], patterns: ['(unclosed']}\n"
                    "  b: {description: b, seeds: [b]}\n")
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        load_taxonomy(path)


def test_a_playbook_variants_pattern_that_does_not_compile_is_a_clear_config_error(tmp_path):
    path = tmp_path / "tax.yaml"
    path.write_text("name: t\nroot_causes:\n  a:\n    description: a\n    seeds: [a]\n    playbook:\n"
                    "      title: '{theme}: fix a'\n      variants: [{title: '{theme}: fix b', when: ['(unclosed']}]\n"
                    "  b: {description: b, seeds: [b]}\n")
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        load_taxonomy(path)


def test_a_playbook_variant_is_checked_as_it_is_matched(tmp_path):
    """Each pattern compiled alone passed "(?i)refund", which fails once a variant's patterns are joined to be
    matched: inside a run, not when the taxonomy was loaded."""
    path = tmp_path / "tax.yaml"
    path.write_text("name: t\nroot_causes:\n  a:\n    description: a\n    seeds: [a]\n    playbook:\n"
                    "      title: '{theme}: fix a'\n"
                    "      variants: [{title: '{theme}: b', when: ['x', '(?i)refund']}]\n"
                    "  b: {description: b, seeds: [b]}\n")
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        load_taxonomy(path)


def test_out_of_taxonomy_defaults_to_other_and_must_name_a_cause():
    assert _taxonomy().out_of_taxonomy == "other"
    no_other = Taxonomy.model_validate({"name": "t", "root_causes": {
        "a": {"description": "a", "seeds": ["a"]}, "b": {"description": "b", "seeds": ["b"]}}})
    assert no_other.out_of_taxonomy is None
    with pytest.raises(Exception, match="out_of_taxonomy names 'misc'"):
        Taxonomy.model_validate({"name": "t", "out_of_taxonomy": "misc", "root_causes": {
            "a": {"description": "a", "seeds": ["a"]}, "b": {"description": "b", "seeds": ["b"]}}})


def test_praise_clauses_are_set_aside_and_praise_only_has_no_focus():
    focus = complaint_focus([
        "The agent was very polite but my refund is still not credited",
        "Thank you so much, my problem solved",
        "She was kind and I hope my issue will be resolved soon",
        "Issue not resolved even after a month",
    ])
    assert "refund" in focus[0] and "polite" not in focus[0]
    assert focus[1] == "" and focus[2] == ""
    assert focus[3] == "Issue not resolved even after a month"


def test_slang_and_unapostrophised_negations_are_complaints_not_praise():
    """Regression: once praise stopped taking keyword evidence, complaints the praise rule misread went to other:
    VADER scores "lol" and "easily" ("snags easily") as positive, "doesnt" was no negation, and "slow" and "how do I"
    are no feeling to it."""
    complaints = ["the express option costs more than the lamp itself lol",
                  "tracking was soooo slow, like two weeks for one mug lol",
                  "how do i turn my store credit back into money",
                  "paying half by voucher and half by card doesnt work",
                  "they said it was sorted, nobody even looked at it",
                  "the watch face scratches way too easily", "the fabric snags so easily"]
    assert complaint_focus(complaints) == complaints
    assert complaint_focus(["I like the colour lol, great fit", "Love it, looks like the photo",
                            "you can easily dress it up or down"]) == ["", "", ""]
    assert complaint_focus(["Superb, it doesn't crease at all and he didn't charge for the fitting"]) == [
        "Superb, it doesn't crease at all and he didn't charge for the fitting"]  # a negation still reads as complaint


def _tagger(tax: Taxonomy, **kw) -> ZeroShotTagger:
    emb = HashingEmbedder()
    return ZeroShotTagger(tax, keyword_weight=0.0, **kw).prepare(emb.encode)


def test_remark_that_only_praises_goes_to_the_out_of_taxonomy_cause():
    tax = _taxonomy()
    emb = HashingEmbedder()
    texts = ["late parcel", "Thank you so much, my problem solved"]
    proba = _tagger(tax).predict_proba(emb.encode(texts), texts)
    assert tax.keys[int(proba[0].argmax())] == "delivery"
    assert tax.keys[int(proba[1].argmax())] == "other"


@pytest.mark.integration  # spaCy lemmas for keywords
def test_praise_that_names_a_cause_still_goes_to_the_out_of_taxonomy_cause():
    """Regression (dev set, support-survey remarks): "The executive was calm and understood my problem. He helped me
    by resolving my issue." is praise throughout, yet support's keywords outweighed the praise and tagged it
    customer_service, as 3 of the development set's 421 remarks. A keyword in praise names what went well."""
    tax = _taxonomy()
    emb = HashingEmbedder()
    texts = ["Lovely courier, lovely parcel service", "the courier was late, parcel lost"]
    tagger = ZeroShotTagger(tax, keyword_weight=0.35).prepare(emb.encode)
    proba = tagger.predict_proba(emb.encode(texts), texts)
    assert [tax.keys[int(i)] for i in proba.argmax(axis=1)] == ["other", "delivery"]


def test_nothing_fits_well_means_out_of_taxonomy_when_a_floor_is_set():
    tax = _taxonomy()
    emb = HashingEmbedder()
    texts = ["zebra quantum tuba", "late parcel"]
    floor = _tagger(tax, out_of_taxonomy_below=0.5).predict_proba(emb.encode(texts), texts)
    assert tax.keys[int(floor[0].argmax())] == "other"
    assert tax.keys[int(floor[1].argmax())] == "delivery"  # a remark that fits keeps its cause


def test_the_floor_judges_only_remarks_in_a_language_the_encoder_reads():
    """Regression (the demo under a floor of 0.25): "J'ai été débité deux fois" and thirteen other French,
    Spanish and German complaints went to other, as far from every cause as off-topic English: the encoder reads
    them poorly, which says nothing about whether a cause fits. Their tag is a guess the review queue holds."""
    from insight.tag import tag_texts

    tax = _taxonomy()
    emb = HashingEmbedder()
    texts = ["zebra quantum tuba", "zebra quantum tuba", "late parcel"]
    tags = tag_texts(_tagger(tax, out_of_taxonomy_below=0.5), emb.encode(texts), texts, tax,
                     languages=["en", "fr", "en"], readable=("en",))
    assert list(tags["root_cause"].iloc[[0, 2]]) == ["other", "delivery"]
    assert tags["root_cause"].iloc[1] != "other" and bool(tags["needs_review"].iloc[1])


def test_review_order_puts_uncertain_first_and_spreads_over_unlike_items():
    proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.51, 0.49], [0.55, 0.45]])
    X = np.array([[1, 0], [0, 1], [0, 1], [1, 0]], dtype=np.float32)  # items 1 and 2 say the same thing
    order = review_order(proba, X)
    assert order[0] == 1
    assert order[1] == 3  # item 2 is nearly as uncertain, but a copy of item 1: the unlike item 3 comes first
    assert order[-1] == 0
    assert sorted(order.tolist()) == [0, 1, 2, 3]
    # complaints first where impact is given
    assert review_order(np.array([[0.5, 0.5], [0.5, 0.5]]), np.eye(2, dtype=np.float32), impact=[0, 1])[0] == 1


def test_the_queue_does_not_pass_over_a_related_remark_that_no_earlier_label_reaches():
    # A label teaches near-copies only (the label memory's reach): a remark merely on a related subject still needs
    # its own label, so diversity must not push it below a less uncertain one; a near-copy is still pushed down.
    a, b, c = np.array([1.0, 0, 0]), np.array([0.5, np.sqrt(0.75), 0]), np.array([0, 0, 1.0])
    d = np.array([0.95, np.sqrt(1 - 0.95 ** 2), 0])  # cosine 0.95 to a: a rephrasing
    X = np.array([a, b, c, d], dtype=np.float32)  # b is at cosine 0.5 to a
    margins = np.array([0.1, 0.2, 0.4, 0.12])
    proba = np.column_stack([(1 + margins) / 2, (1 - margins) / 2])
    assert review_order(proba, X).tolist() == [0, 1, 2, 3]


def test_label_memory_leans_close_remarks_towards_reviewers_labels():
    memory = LabelMemory(["a", "b"], gate=0.5, weight=1.0).add(np.array([[1, 0]], dtype=np.float32), ["b"])
    proba = np.array([[0.9, 0.1], [0.9, 0.1]])
    out = memory.blend(proba, np.array([[1, 0], [0, 1]], dtype=np.float32))
    assert out[0].argmax() == 1  # identical to a labelled remark
    assert np.allclose(out[1], proba[1])  # unlike any labelled remark: unchanged
    with pytest.raises(ValueError, match="not causes"):
        memory.add(np.zeros((1, 2), dtype=np.float32), ["zzz"])


@pytest.mark.integration  # embeds with the hashing embedder through the evaluation path
def test_active_loop_teaches_the_queues_first_items(tmp_path, monkeypatch):
    from insight import evaluate

    monkeypatch.setenv("INSIGHT_HOME", str(tmp_path))
    cfg = load_config().model_copy(deep=True)
    cfg.embed.backend = "hashing"
    tax = load_taxonomy()
    frame = pd.DataFrame({"text": [
        "my parcel is a week late", "the courier lost my parcel", "card declined at payment",
        "charged twice for one order", "refund not received after return", "zorblax quuxparcel vintage",
        "zorblax quuxparcel vintage again", "the agent was rude and hung up"],
        "label": ["delivery", "delivery", "payments", "payments", "returns_refunds", "product_quality",
                  "product_quality", "customer_service"]})
    taught: list[list[str]] = []
    original = ZeroShotTagger.teach

    def spy(self, X, labels):
        taught.append(list(labels))
        return original(self, X, labels)

    monkeypatch.setattr(ZeroShotTagger, "teach", spy)
    out = evaluate.eval_active(frame, [2, 3], strategy="queue", taxonomy=tax, config=cfg)
    assert [row["budget"] for row in out["curve"]] == [2, 3]
    assert [row["measured_on"] for row in out["curve"]] == [6, 5]
    assert [len(t) for t in taught] == [2, 3]
    assert taught[1][:2] == taught[0]  # the queue is one order: a bigger budget labels the same first items
    with pytest.raises(Exception, match="between 1 and 7"):
        evaluate.eval_active(frame, [8], taxonomy=tax, config=cfg)


def test_batch_smoothing_leans_on_the_runs_own_neighbours_and_is_off_by_default():
    from insight.tag.adapt import batch_smooth

    X = np.array([[1, 0], [0.99, 0.14], [0.98, 0.2], [0, 1]], dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    proba = np.array([[0.45, 0.55], [0.9, 0.1], [0.9, 0.1], [0.1, 0.9]])
    out = batch_smooth(proba, X, k=2, weight=0.5)
    assert out[0].argmax() == 0  # its two nearest say "a"
    assert np.allclose(out.sum(axis=1), 1)
    assert np.array_equal(batch_smooth(proba, X, k=0), proba)
    assert load_config().tag.batch_neighbours == 0  # a row's tag must not depend on the rows beside it


def test_active_mode_needs_a_budget():
    from typer.testing import CliRunner

    from pipelines.cli import app

    ran = CliRunner().invoke(app, ["eval", "tagging", "--input", "x.csv", "--mode", "active"])
    assert ran.exit_code != 0 and "--budget" in ran.output
    ran = CliRunner().invoke(app, ["eval", "tagging", "--input", "x.csv", "--mode", "active", "--budgets", "a,b"])
    assert ran.exit_code != 0 and "whole numbers" in ran.output


def _support_taxonomy(**extra) -> Taxonomy:
    return Taxonomy.model_validate({"name": "t", "mentioned_in_passing": ["customer_service"], "root_causes": {
        "delivery": {"description": "parcels", "seeds": ["late parcel"]},
        "customer_service": {"description": "support", "seeds": ["nobody replied"]},
        "other": {"description": "nothing to fix", "seeds": ["thanks"]}}, **extra})


def test_support_yields_to_another_problem_the_remark_names():
    """Guideline: "customer_service only when support itself is the complaint". A remark that names support and
    a parcel that never came is about the parcel: where another cause has keyword or pattern evidence, support
    keeps only ``in_passing_weight`` of its probability; without such evidence, support stays the cause."""
    tax = _support_taxonomy()
    tagger = ZeroShotTagger(tax, in_passing_weight=0.5)
    proba = np.array([[0.35, 0.55, 0.10]] * 4)  # delivery, customer_service, other
    evidence = np.array([[0.63, 0.63, 0.0],   # "called support three times, the courier never came"
                         [0.0, 0.63, 0.0],    # support named, nothing else
                         [0.0, 0.0, 0.63],    # only the out-of-taxonomy cause has evidence: not a named problem
                         [0.0, 0.0, 0.0]])
    out = tagger.in_passing(proba, evidence)
    assert [tax.keys[j] for j in out.argmax(axis=1)] == ["delivery", "customer_service", "customer_service",
                                                        "customer_service"]
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    np.testing.assert_allclose(out[1:], proba[1:])  # untouched where no other problem is named
    assert np.allclose(ZeroShotTagger(tax, in_passing_weight=1.0).in_passing(proba, evidence), proba)  # off
    plain = _taxonomy()  # a taxonomy that lists no such cause: nothing changes
    assert np.allclose(ZeroShotTagger(plain, in_passing_weight=0.5).in_passing(proba, evidence), proba)


def test_mentioned_in_passing_must_name_causes_and_keeps_old_fingerprints():
    with pytest.raises(Exception, match="mentioned_in_passing names \\['support'\\]"):
        _support_taxonomy(mentioned_in_passing=["support"])
    two = {"name": "t", "root_causes": {"a": {"description": "a", "seeds": ["a"]},
                                        "b": {"description": "b", "seeds": ["b"]}}}
    # the fingerprint stored runs carry (written before the field existed): unchanged, so nothing is retagged
    assert Taxonomy.model_validate(two).tagging_fingerprint() == "49cb3c7e4ac3"
    assert Taxonomy.model_validate({**two, "mentioned_in_passing": ["a"]}).tagging_fingerprint() != "49cb3c7e4ac3"


@pytest.mark.integration  # spaCy lemmas for keywords
def test_support_named_beside_a_late_parcel_is_tagged_delivery():
    tax = Taxonomy.model_validate({"name": "t", "mentioned_in_passing": ["customer_service"], "root_causes": {
        "delivery": {"description": "parcels", "seeds": ["parcel late"], "keywords": ["courier"]},
        "customer_service": {"description": "support", "seeds": ["support never replied"],
                             "keywords": ["support"]},
        "other": {"description": "nothing to fix", "seeds": ["thanks"]}}})
    emb = HashingEmbedder()
    texts = ["support never replied and the courier never came", "support never replied"]
    keys = [tax.keys[j] for j in ZeroShotTagger(tax, in_passing_weight=0.2).prepare(emb.encode)
            .predict_proba(emb.encode(texts), texts).argmax(axis=1)]
    assert keys == ["delivery", "customer_service"]
    keys = [tax.keys[j] for j in ZeroShotTagger(tax, in_passing_weight=1.0).prepare(emb.encode)
            .predict_proba(emb.encode(texts), texts).argmax(axis=1)]
    assert keys == ["customer_service", "customer_service"]  # without the rule, the support words win


@pytest.mark.integration  # spaCy lemmas
def test_the_shipped_taxonomy_reads_counterfeit_and_seller_goods_as_product_quality():
    """Real survey remarks blame marketplace sellers for the goods ("saller send the local products"); with no
    product_quality evidence the word "send" or "delivered" made them delivery, or they scattered over pricing
    and checkout."""
    tax = load_taxonomy()
    hits = KeywordMatcher(tax).counts([
        "the app shows the original picture but the seller sends local products",
        "kindly tell your sellers not to send old or used products",
        "the charger is not original",
        "product is not the same as per the image shown",
        "received counterfeit items twice",
        "the seller cancelled my order",   # no word about the goods themselves
        "I used the app to order shoes",   # "used" as a verb
        "the seller refunded it to the original payment method",  # "original" about money, not goods
    ])
    q = tax.keys.index("product_quality")
    assert (hits[:5, q] > 0).all()
    assert (hits[5:, q] == 0).all()


@pytest.mark.integration  # spaCy lemmas
def test_the_shipped_taxonomy_reads_exchange_of_goods_not_exchange_rates_or_offers_as_returns():
    """Regression (real Banking77 queries run as feedback): "What are your international exchange rates?" was tagged
    returns_refunds (80 % of that intent), because "exchange" is a returns keyword; real CSAT remarks write
    "exchange offer" and "exchange value" of trade-ins, which the guideline calls pricing_promotions."""
    tax = load_taxonomy()
    hits = KeywordMatcher(tax).counts([
        "I want to exchange it for a bigger size",
        "the exchange was rejected and nobody picked it up",
        "what are your international exchange rates?",
        "the exchange rate on my purchase is wrong",
        "exchange offer is not satisfying, 2050 rupees",
        "hum ko exchange value nehi mila",
        "can I exchange my euros to dollars in the app?",
    ])
    r, p = tax.keys.index("returns_refunds"), tax.keys.index("pricing_promotions")
    assert (hits[:2, r] > 0).all() and (hits[2:, r] == 0).all()
    assert (hits[4:6, p] > 0).all()


@pytest.mark.integration  # spaCy lemmas
def test_the_shipped_taxonomy_reads_wallet_top_ups_and_payment_apps_as_payments():
    """Regression (real Banking77 queries run as feedback): "Why did the app deny my top up?" was tagged checkout
    and "Is Google Pay supported?" other: a wallet top-up or recharge that fails, and the payment apps customers
    name, are payments; a top-up that did not fail names nothing."""
    tax = load_taxonomy()
    hits = KeywordMatcher(tax).counts([
        "why did the app deny my top up?",
        "my top-up hasn't gone through",
        "mobile recharge failed but money deducted",
        "google pay isn't working at checkout",
        "can I pay with PayPal?",
        "I want to top up my wallet",   # no failure: no payment problem named
    ])
    pay = tax.keys.index("payments")
    assert (hits[:5, pay] > 0).all() and hits[5, pay] == 0


@pytest.mark.integration  # spaCy lemmas
def test_the_shipped_taxonomy_reads_items_missing_from_an_order_as_delivery():
    """Regression (real CSAT remarks): "Missing item", "5 out of 10 items missing" and "Missing product" were tagged
    inventory, whose words are about stock ("unavailable"); an item missing from what was delivered is a packing or
    fulfilment failure, delivery in the guideline and in the taxonomy's own description ("wrong or missing item
    packed"). Sizes missing from the shelf stay inventory, a missing refund, points or part are not delivery."""
    tax = load_taxonomy()
    hits = KeywordMatcher(tax).counts([
        "Missing item",
        "5 out of 10 items missing",
        "missing products in my grocery order",
        "one product was missing from the package",
        "I have a missing item from order and no option to report it",
        "half the sizes are missing every time I look",   # stock
        "my refund is missing",                           # returns
        "reward points missing after the sale",           # account
        "a screw is missing from the table",              # the product itself
        "the product is missing a button",
    ])
    delivery = tax.keys.index("delivery")
    assert (hits[:5, delivery] > 0).all() and (hits[5:, delivery] == 0).all()


@pytest.mark.integration  # the packaged encoder and spaCy lemmas
def test_romanised_hindi_complaints_get_the_cause_they_name(home):
    """Regression (real CSAT remarks): romanised Hindi complaints were read by their sound, and 75 of 110 were tagged
    delivery whatever they said: a faulty product, a dropped call. Glossed in English, each names its cause."""
    cfg = load_config()
    tax = load_taxonomy(cfg.tag.taxonomy)
    from insight import assembly
    from insight.evaluate import prepare

    said = {"mera paisa wapas karo, refund abhi tak nahi mila": "returns_refunds",
            "product kharab hai, bilkul kaam nahi kar raha": "product_quality",
            "customer care se baat ki lekin koi help nahi mili": "customer_service",
            "mera order abhi tak nahi aaya": "delivery",
            "payment ho gaya lekin paisa kat gaya aur order nahi hua": "payments",
            "executive ne call kaat diya, baat bhi nahi suni": "customer_service"}
    encode = assembly.encoder(cfg, assembly.embedder(cfg))
    texts = prepare(list(said), cfg)
    tagger = ZeroShotTagger.from_config(cfg.tag, tax).prepare(assembly.prepared_encoder(cfg, encode))
    found = [tax.keys[i] for i in tagger.predict_proba(encode(texts), texts).argmax(axis=1)]
    assert found == list(said.values())
