"""Clean stage: turn validated rows into analysable items before anything is embedded or stored.

Order matters and is fixed: normalise -> redact PII -> truncate -> flag non-actionable -> detect language ->
exact dedupe. Redaction sees a window past the cut, so PII across it is never half kept. PII is removed before
dedupe and embedding so no e-mail address or card number reaches a vector, a cache or the store. Nothing is
deleted: duplicates point at their canonical item, noise keeps a reason code. ``prepare_texts`` is the same text
preparation for evaluation and training, so they see what the pipeline sees.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import pandas as pd

from .. import schema as S
from ..config import CleanConfig
from .dedupe import exact_duplicates, finalise_duplicates, unique_ids
from .hygiene import addressee_names, encoding_problem, model_texts, non_actionable_reason, normalise
from .language import UNDETERMINED, LanguageDetector
from .names import NameRedactor
from .pii import Redactor


class CleanState:
    """What dedupe must remember across chunks of one run: canonical keys and the ids already seen."""

    def __init__(self) -> None:
        self.canonical: dict[str, str] = {}  # dedupe key -> canonical item id
        self.ids: dict[str, str] = {}  # item id -> its text key (an id seen twice is a repeated record)
        self.keys: set[str] = set()  # ids given to rows so far (``unique_ids``): unique across chunks
        self.redactor: Redactor | None = None
        self.names: NameRedactor | None = None
        self.detector: LanguageDetector | None = None


def clean(df: pd.DataFrame, cfg: CleanConfig, state: CleanState | None = None
          ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Add clean (redacted) text, language, statuses and duplicate links; return the frame and the PII report.

    Call it once per chunk with the same ``state`` to stream a large export; ``finalise_duplicates`` then
    counts each canonical item's members over the whole run.
    """
    state = state or CleanState()
    if state.detector is None:
        state.detector = LanguageDetector(cfg.detect_languages)
    out = df.copy()
    encoding = pd.Series([encoding_problem(t) for t in out[S.TEXT].tolist()], index=out.index, dtype=object)
    texts, report = prepare_texts(out[S.TEXT].tolist(), cfg, state)
    if cfg.pii.keep_raw:
        out[S.RAW_TEXT] = out[S.TEXT].astype(object)
    out[S.CLEAN_TEXT] = pd.Series(texts, index=out.index, dtype=object)
    out[S.TEXT] = out[S.CLEAN_TEXT]  # the raw text is not kept: only the redacted one travels on

    status = out[S.STATUS].astype(object).where(out[S.STATUS].fillna("").astype(str) != "", None)
    reason = out[S.REASON].astype(object)
    if cfg.bad_encoding == "quarantine":
        _set(status, reason, encoding == "undecodable_bytes", S.QUARANTINED, "undecodable_bytes")
    if S.DETAIL not in out:
        out[S.DETAIL] = None
    out[S.DETAIL] = out[S.DETAIL].astype(object).where(out[S.DETAIL].notna(), encoding)  # kept, and said
    open_ = status.isna().to_numpy()
    noise = pd.Series([non_actionable_reason(t, cfg.min_chars) if o else None for t, o in zip(texts, open_)],
                      index=out.index, dtype=object)
    _set(status, reason, noise.notna(), S.NON_ACTIONABLE, noise)

    languages = state.detector.detect(texts) if cfg.detect_languages else [UNDETERMINED] * len(texts)
    out[S.LANGUAGE] = languages
    if cfg.other_languages == "set_aside":
        lang = pd.Series(languages, index=out.index)
        foreign = status.isna() & ~lang.isin([*cfg.languages, UNDETERMINED])
        _set(status, reason, foreign, S.NON_ACTIONABLE, "other_language")

    dup_of, dup_reason = exact_duplicates(out, status.isna(), cfg.dedupe_on, state)
    _set(status, reason, dup_reason == "conflicting_id", S.QUARANTINED, "conflicting_id")
    _set(status, reason, dup_of.notna(), S.DUPLICATE, dup_reason)
    status[status.isna()] = S.STORED

    out[S.STATUS] = status.astype(str)
    out[S.REASON] = reason
    out[S.DUP_OF] = dup_of
    out[S.ID] = unique_ids(out[S.ID], state.keys)
    return out, dict(sorted(report.items()))


TRUNCATION_MARGIN = 200  # characters past max_chars redacted with the text: longer than any PII span
_PARTIAL_PLACEHOLDER = re.compile(r"\[[A-Z]*$")  # "[CA" left by the cut


def prepare_texts(texts: Iterable[object], cfg: CleanConfig, state: CleanState | None = None
                  ) -> tuple[list[str], Counter[str]]:
    """The text insight embeds, tags and stores: normalised, truncated at ``max_chars``, PII-redacted.

    The pipeline, evaluation and training all prepare text here, so a tagger is trained and measured on the
    same text it will tag. Returns the texts and what was redacted, by type.
    """
    state = state or CleanState()
    if state.redactor is None:
        state.redactor = Redactor.from_config(cfg.pii)
    report: Counter[str] = Counter()
    out: list[str] = []
    for raw in texts:
        t = normalise(raw)
        long = len(t) > cfg.max_chars
        if long:  # a window past the cut, so PII across it is whole when redacted (then cut)
            t = t[: cfg.max_chars + TRUNCATION_MARGIN]
        if cfg.pii.enabled:
            t, found = state.redactor.redact(t)
            report.update(found)
        if long:
            t = _PARTIAL_PLACEHOLDER.sub("", t[: cfg.max_chars]).rstrip() + " [TRUNCATED]"
        out.append(t)
    if cfg.pii.enabled and cfg.pii.names:
        state.names = state.names or NameRedactor()
        out, found = state.names.redact_many(out)
        report.update(found)
    return out, report


def model_inputs(texts: Iterable[object], cfg: CleanConfig, names: Sequence[str] | None = None) -> list[str]:
    """What evaluation and training feed the models for raw ``texts``: ``prepare_texts``, then ``model_text``.

    The pipeline embeds, tags and names themes with ``model_texts`` of its stored (prepared) texts, without the
    shop's own names found among them (``addressee_names``): the same thing. ``names``: those names, when the
    caller knows them; else they are found among ``texts`` (a batch too small to tell keeps every word).
    """
    prepared = prepare_texts(texts, cfg)[0]
    return model_texts(prepared, addressee_names(prepared) if names is None else names)


def clean_stream(chunks: Iterable[pd.DataFrame], cfg: CleanConfig,
                 on_chunk: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Clean validated chunks of one export with one dedupe memory; the whole item frame and the PII report."""
    state = CleanState()
    parts: list[pd.DataFrame] = []
    report: Counter[str] = Counter()
    for chunk in chunks:
        cleaned, found = clean(chunk, cfg, state)
        parts.append(cleaned)
        report.update(found)
        if on_chunk:
            on_chunk(len(chunk))
    items = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return finalise_duplicates(items), dict(sorted(report.items()))


def _set(status: pd.Series, reason: pd.Series, mask: pd.Series, value: str, why) -> None:
    mask = mask & status.isna()
    status[mask] = value
    reason[mask] = why[mask] if isinstance(why, pd.Series) else why


