"""The pipeline, written once: read -> clean -> embed -> themes -> tag -> measure -> rank.

``run`` is the only place that knows the stage order and reads as one call per stage; what each stage computes
lives in its package, and the components come from ``assembly`` by the names in config. The store is called by
``run_and_store``, never by a stage.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from . import assembly, clean, ingest, report, tag, themes
from . import schema as S
from .config import Config, Taxonomy, load_config, load_taxonomy
from .provenance import local_key, new_run_id
from .roles import Embedder, Reporter, Silent

CONTACT_KEY_ENV = "INSIGHT_CONTACT_KEY"


def run(source: ingest.Source, config: Config | None = None, *, taxonomy: Taxonomy | None = None,
        embedder: Embedder | None = None, reporter: Reporter | None = None, registry: themes.Registry | None = None,
        previous: dict[str, str] | None = None, reviewer_labels: pd.DataFrame | None = None) -> S.RunResult:
    """Run every stage on one export (a path) or an already-loaded frame; nothing is stored.

    ``registry`` and ``previous`` (each item's theme id in the last run) make theme ids stable across runs;
    without them every theme is new. ``reviewer_labels`` (``text``, ``label``) teach a zero-shot tagger.
    """
    cfg, rep, timings = config or load_config(), reporter or Silent(), {}
    tax = taxonomy or load_taxonomy(cfg.tag.taxonomy)
    emb = embedder or assembly.embedder(cfg, progress=rep.advance)
    encode = assembly.encoder(cfg, emb)
    with timed_stage("read+clean", rep, timings):
        items, pii = read_and_clean(source, cfg, rep)
    with timed_stage("embed", rep, timings, S.n_stored(items)):
        to_embed = S.stored_texts(items)
        names = clean.addressee_names(to_embed)  # the shop's own names: not what went wrong
        X = encode(clean.model_texts(to_embed, names))
        items, X = clean.collapse_near_duplicates(items, X, cfg.clean.near_duplicate_threshold, cfg.clean.dedupe_on)
    texts, stored = S.stored_texts(items), items[S.STATUS] == S.STORED
    inputs = clean.model_texts(texts, names)  # what the models read: no handles, links, hashtag marks, shop names
    languages = items.loc[stored, S.LANGUAGE].tolist() if S.LANGUAGE in items else None
    with timed_stage("themes", rep, timings):  # polarity first: themes name their complaints too
        feel = report.polarity(items.loc[stored, S.CLEAN_TEXT], items.loc[stored, S.RATING], cfg.ingest.rating_range,
                               report.complaint_lean(X, encode), languages, cfg.clean.languages)
        complaints = (feel == report.NEGATIVE).tolist()
        found = themes.find_themes(inputs, X, items.loc[stored, S.ID].tolist(), assembly.clusterer(cfg), cfg.themes,
                                   registry=registry, previous=previous, seed=cfg.seed, display_texts=texts,
                                   complaints=complaints, voices=S.voices(items))
    with timed_stage("tag", rep, timings):
        tagger = assembly.tagger(cfg, tax, emb, encode, reviewer_labels)
        tags = tag.tag_texts(tagger, X, inputs, tax, cfg.tag.multi_label_min, languages, cfg.clean.languages)
        # near-duplicate themes are known only once causes are: same cause and close centroids are one theme
        found = themes.merge_same_cause(found, X, tags[S.ROOT_CAUSE].tolist(), cfg.themes.merge_threshold)
        # a theme whose complaints share no main cause is named, for its action, by those of its cause
        found = themes.name_by_cause(found, inputs, complaints, tags[S.ROOT_CAUSE].tolist(), cfg.themes,
                                     S.voices(items))
    with timed_stage("measure", rep, timings):
        xy = themes.layout(X, found.ids, cfg.seed).round(4)  # the theme map, drawn by the app
        items = report.annotate(S.fill_stored(items, {S.THEME: found.ids, S.THEME_SIM: found.similarity.round(4),
                                                      S.MAP_X: xy[:, 0], S.MAP_Y: xy[:, 1],
                                                      **{c: tags[c].tolist() for c in tag.TAG_COLUMNS},
                                                      S.SUBTHEME: found.subtheme_ids, S.POLARITY: feel.tolist()}),
                                cfg.ingest.rating_range)
        measured = report.measure_run(S.stored_items(items), found.table, cfg.measure, cfg.themes.n_examples)
    with timed_stage("rank", rep, timings):
        actions = report.rank_actions(measured.theme_stats, measured.theme_segments, S.stored_items(items), tax,
                                      cfg.rank, measured.sentences, measured.cause_sentences, cfg.clean.languages,
                                      measured.cause_segments, measured.pockets)
    manifest = report.build_manifest(cfg, tax, emb.cache_name, ingest.source_name(source), ingest.source_digest(source),
                                     timings, pii, items, measured.themes, tagger.info, found.events, measured.history)
    manifest["names_left_out"] = list(names)  # words the models did not read (``clean.addressee_names``)
    return S.RunResult(run_id=new_run_id(), counts=S.Counts.of(items), items=items, themes=measured.themes,
                       actions=actions, weekly=measured.weekly, segments=measured.segments, manifest=manifest,
                       registry=found.registry, theme_events=found.events)


def contact_key(cfg: Config) -> bytes:
    """This installation's key for hashing contact ids (``INSIGHT_CONTACT_KEY``, else made once under the home)."""
    return local_key(cfg.home_path, "contact.key", env=CONTACT_KEY_ENV)


def read_and_clean(source: ingest.Source, cfg: Config, reporter: Reporter | None = None
                   ) -> tuple[pd.DataFrame, dict[str, int]]:
    """The first two stages: stream the export chunk by chunk through validation and cleaning."""
    chunks = ingest.validated_chunks(source, cfg.ingest, contact_key=contact_key(cfg))
    return clean.clean_stream(chunks, cfg.clean, on_chunk=(reporter or Silent()).advance)


def run_and_store(source: str | Path | pd.DataFrame, config: Config | None = None, **kwargs: Any) -> S.RunResult:
    """``run`` then publish the result to the configured store in one transaction."""
    cfg = config or load_config()
    store = assembly.store(cfg)
    kwargs.setdefault("registry", themes.Registry.from_records(store.registry_records(), store.theme_counter()))
    kwargs.setdefault("previous", store.previous_themes())
    kwargs.setdefault("reviewer_labels", assembly.reviewer_labels(store))
    result = run(source, cfg, **kwargs)
    store.publish(result, source=ingest.source_name(source))
    return result


@contextmanager
def timed_stage(name: str, reporter: Reporter, timings: dict[str, float], total: int | None = None) -> Iterator[None]:
    """Announce a stage to the reporter and record its wall time in the manifest."""
    reporter.stage(name, total)
    t0 = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - t0, 3)

