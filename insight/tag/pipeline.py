"""The tag stage as the pipeline runs it: the two registered taggers and the per-item decisions.

``tag.backend`` names one of the taggers below (``backends.py``): ``prototype`` tags zero-shot from the taxonomy,
``model`` loads a tagger trained with ``insight train tagger``. Both follow the Tagger role (``fit``,
``predict_proba``, ``classes_``, ``policy``) and are made ready by ``prepare``, which receives what only the
composition layer can provide: a function that prepares and embeds raw texts as the pipeline does, and one that
embeds texts with a fine-tuned encoder folder.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..config import TagConfig, Taxonomy
from ..errors import ConfigError
from .active import LabelMemory, review_order
from .adapt import batch_smooth
from .calibration import AbstainPolicy, apply_temperature, softmax
from .focus import complaint_focus
from .persist import encoder_path, head_features, load_model
from .zero_shot import (
    KeywordMatcher,
    PrototypeTagger,
    blend_keywords,
    in_key_order,
    keyword_evidence,
    taxonomy_training_set,
)

Encode = Callable[[Sequence[str]], np.ndarray]
EncoderAt = Callable[[str, str], Encode]  # (encoder folder, its checksum) -> encode
# how far above the best cause the out-of-taxonomy cause scores for a remark that is praise throughout
PRAISE_MARGIN = 0.05


class ZeroShotTagger:
    """Registered as ``prototype``: each cause's description and seeds are its prototypes, keywords and patterns
    add evidence, and the taxonomy's out-of-taxonomy cause ("other") is what is left when nothing fits.

    Needs no labels: ``prepare`` embeds the taxonomy's own examples and keeps ``encode`` to embed the complaint
    clauses of remarks that also praise (``focus``). Per remark, in order:

    1. its vector, pulled towards its complaint clauses by ``focus_weight`` where it praises too;
    2. each cause's score, the mean cosine to its ``top_k`` nearest prototypes;
    3. the out-of-taxonomy cause scores at least ``out_of_taxonomy_below`` (a remark no cause fits well is
       "other", whatever other's own seeds say; only remarks in a language the encoder reads are judged so) and
       wins outright where the remark is praise throughout (a keyword there names what went well, not a cause);
    4. a softmax with ``temperature``, blended with keyword and pattern evidence (``keyword_weight``), with
       reviewers' labels (``teach``), and with the causes of its ``batch_neighbours`` nearest remarks in the batch
       (``adapt.batch_smooth``, after sharpening by ``calibration_temperature``).

    Columns are in taxonomy order.
    """

    needs_texts = True
    judges_fit = True  # ``predict_proba(..., judged=)``: which remarks the out-of-taxonomy floor judges

    def __init__(self, taxonomy: Taxonomy, temperature: float = 0.05, keyword_weight: float = 0.35,
                 policy: AbstainPolicy | None = None, focus_weight: float = 0.0,
                 out_of_taxonomy_below: float | None = None, calibration_temperature: float = 1.0,
                 batch_neighbours: int = 0, batch_weight: float = 0.2, praise_is_out_of_taxonomy: bool = True,
                 in_passing_weight: float = 1.0) -> None:
        self.taxonomy = taxonomy
        self.temperature = temperature
        self.keyword_weight = keyword_weight
        self.policy = policy or AbstainPolicy()
        self.focus_weight = focus_weight
        self.out_of_taxonomy_below = out_of_taxonomy_below
        self.calibration_temperature = calibration_temperature
        self.batch_neighbours, self.batch_weight = batch_neighbours, batch_weight
        self.praise_is_out_of_taxonomy = praise_is_out_of_taxonomy
        self.in_passing_weight = in_passing_weight
        self.memory_ = LabelMemory(taxonomy.keys)

    @classmethod
    def from_config(cls, cfg: TagConfig, taxonomy: Taxonomy) -> ZeroShotTagger:
        floor = cfg.out_of_taxonomy_below if cfg.out_of_taxonomy_below != "auto" else None  # unresolved: no encoder
        return cls(taxonomy, cfg.temperature, cfg.keyword_weight,
                   AbstainPolicy(min_confidence=cfg.abstain_below, min_margin=cfg.min_margin),
                   cfg.focus_weight, floor, cfg.calibration_temperature, cfg.batch_neighbours,
                   cfg.batch_weight, cfg.praise_is_out_of_taxonomy, cfg.in_passing_weight)

    def prepare(self, encode: Encode, embedder: str = "", encoder_at: EncoderAt | None = None) -> ZeroShotTagger:
        """Fitted on the taxonomy's descriptions and seed examples, prepared and embedded by ``encode``."""
        texts, labels = taxonomy_training_set(self.taxonomy)
        self.encode_ = encode
        return self.fit(encode(texts), labels)

    def fit(self, X: np.ndarray, y: Sequence[str], texts: Sequence[str] | None = None) -> ZeroShotTagger:
        self.prototypes_ = PrototypeTagger(temperature=self.temperature).fit(X, y)
        self.matcher_ = KeywordMatcher(self.taxonomy)
        self.classes_ = np.asarray(self.taxonomy.keys)
        return self

    def focus(self, texts: Sequence[str] | None) -> list[str] | None:
        """Each remark's complaint clauses (``focus.complaint_focus``; "" for praise throughout), where this tagger
        reads them at all."""
        wanted = texts is not None and (self.focus_weight or self.praise_is_out_of_taxonomy)
        return complaint_focus(texts) if wanted else None

    def scores(self, X: np.ndarray, texts: Sequence[str] | None = None, judged: np.ndarray | None = None,
               focus: list[str] | None = None) -> np.ndarray:
        """Steps 1-3: each remark's score per cause, in taxonomy order, before the softmax. ``judged``: the remarks
        the out-of-taxonomy floor applies to (default all): a remark in a language the encoder reads poorly sits
        far from every cause whatever it says, so distance is no sign that nothing fits. ``focus``: the remarks'
        complaint clauses where the caller has them already."""
        X = np.asarray(X, dtype=np.float32)
        focus = self.focus(texts) if focus is None else focus
        encode = getattr(self, "encode_", None)
        if focus is not None and self.focus_weight and encode is not None:
            changed = [i for i, (f, t) in enumerate(zip(focus, texts)) if f and f != t]
            if changed:
                X = X.copy()
                pulled = (1 - self.focus_weight) * X[changed] + self.focus_weight * encode([focus[i] for i in changed])
                X[changed] = pulled / np.maximum(np.linalg.norm(pulled, axis=1, keepdims=True), 1e-12)
        raw = self.prototypes_.decision_function(X)
        pos = {c: i for i, c in enumerate(self.prototypes_.classes_)}
        out = np.full((len(X), len(self.taxonomy.keys)), -1.0, dtype=np.float32)
        for j, k in enumerate(self.taxonomy.keys):
            if k in pos:
                out[:, j] = raw[:, pos[k]]
        fallback = self.taxonomy.out_of_taxonomy
        if fallback is not None and len(out):
            j = self.taxonomy.keys.index(fallback)
            if self.out_of_taxonomy_below is not None:
                rows = slice(None) if judged is None else np.asarray(judged, dtype=bool)
                out[rows, j] = np.maximum(out[rows, j], self.out_of_taxonomy_below)
            if focus is not None and self.praise_is_out_of_taxonomy:  # praise throughout: nothing to fix
                praise = np.array([f == "" for f in focus])
                out[praise, j] = out[praise].max(axis=1) + PRAISE_MARGIN
        return out

    def taught(self, X: np.ndarray, labels: Sequence[str]) -> ZeroShotTagger:
        """A copy of this prepared tagger that knows only these reviewers' labels (the prototypes, keyword matcher
        and encoder are shared, not rebuilt): what a simulated reviewer loop needs for each budget."""
        other = copy.copy(self)
        other.memory_ = LabelMemory(self.taxonomy.keys)
        return other.teach(X, labels)

    def teach(self, X: np.ndarray, labels: Sequence[str]) -> ZeroShotTagger:
        """Reviewers' labels (vectors of the labelled remarks and their causes) join the tagger's memory: remarks
        close to a labelled one lean towards its label (``active.LabelMemory``). No retraining."""
        self.memory_.add(X, labels)
        return self

    def predict_proba(self, X: np.ndarray, texts: Sequence[str] | None = None, judged: np.ndarray | None = None
                      ) -> np.ndarray:
        focus = self.focus(texts)
        proba = softmax(self.scores(X, texts, judged, focus) / self.temperature)
        if texts is not None and self.keyword_weight:  # vectors alone: no keyword evidence
            evidence = keyword_evidence(texts, self.taxonomy, self.matcher_)
            if focus is not None and self.praise_is_out_of_taxonomy and self.taxonomy.out_of_taxonomy is not None:
                # praise throughout: a cause's keyword there names what went well ("the courier was lovely")
                evidence[[f == "" for f in focus]] = 0
            proba = blend_keywords(proba, evidence, self.keyword_weight)
            proba = self.in_passing(proba, evidence)
        proba = self.memory_.blend(proba, X)
        if self.calibration_temperature != 1:
            proba = apply_temperature(proba, self.calibration_temperature)
        return batch_smooth(proba, X, self.batch_neighbours, self.batch_weight)  # the batch's own neighbours

    def in_passing(self, proba: np.ndarray, evidence: np.ndarray) -> np.ndarray:
        """A cause customers name in passing (support: "called three times, the parcel is still lost") keeps only
        ``in_passing_weight`` of its probability where another cause has keyword or pattern evidence: the
        operational problem named is the one to fix, and support is the cause where no other is named."""
        keys = self.taxonomy.keys
        passing = [keys.index(k) for k in self.taxonomy.mentioned_in_passing]
        if not passing or self.in_passing_weight == 1 or not len(proba):
            return proba
        named = [j for j, k in enumerate(keys) if j not in passing and k != self.taxonomy.out_of_taxonomy]
        other_named = (evidence[:, named] > 0).any(axis=1)
        out = proba.copy()
        out[np.ix_(other_named, passing)] *= self.in_passing_weight
        return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)

    @property
    def info(self) -> dict[str, Any]:
        return {"kind": "zero-shot", "reviewer_labels": len(self.memory_)}


class ModelTagger:
    """Registered as ``model``: a supervised, calibrated tagger saved by ``insight train tagger``.

    ``prepare`` loads it from ``tag.model_path`` (checking taxonomy, embedder and checksums); a head trained on a
    fine-tuned encoder embeds the texts it tags with that encoder too. ``fit`` trains a fresh calibrated head
    instead (``fit_calibrated``), as evaluation does.
    """

    def __init__(self, path: str | None = None, taxonomy_fingerprint: str | None = None, seed: int = 0) -> None:
        self.path = path
        self.taxonomy_fingerprint = taxonomy_fingerprint
        self.seed = seed

    @classmethod
    def from_config(cls, cfg: TagConfig, taxonomy: Taxonomy) -> ModelTagger:
        if not cfg.model_path:
            raise ConfigError("tag.backend is 'model' but tag.model_path is not set", code="E104")
        return cls(cfg.model_path, taxonomy.fingerprint())

    def prepare(self, encode: Encode, embedder: str = "", encoder_at: EncoderAt | None = None) -> ModelTagger:
        self.model_, self.meta_ = load_model(self.path, taxonomy_fingerprint=self.taxonomy_fingerprint,
                                             embedder=embedder or None)
        tuned = encoder_path(self.path, self.meta_)
        if tuned is not None and encoder_at is None:  # a caller's mistake, not a user's: no error code
            raise ValueError(f"{self.path} reads a fine-tuned encoder: pass encoder_at to run it")
        self.tuned_encode_ = encoder_at(str(tuned), self.meta_["encoder_sha256"]) if tuned is not None else None
        return self

    def fit(self, X: np.ndarray, y: Sequence[str], texts: Sequence[str] | None = None) -> ModelTagger:
        from .training import fit_calibrated

        self.model_ = fit_calibrated(np.asarray(X), np.asarray(list(y)), seed=self.seed,
                                     texts=list(texts) if texts is not None else None)
        self.meta_ = {"kind": "fitted", "head_features": ["frozen"], "training_data_sha256": None}
        self.tuned_encode_ = None
        return self

    @property
    def classes_(self) -> np.ndarray:
        return self.model_.classes_

    @property
    def policy(self) -> AbstainPolicy:
        return self.model_.policy

    def predict_proba(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        if self.tuned_encode_ is not None:
            vectors = {"frozen": X, "tuned": self.tuned_encode_(list(texts or []))}
            X = np.hstack([vectors[name] for name in head_features(self.meta_)])
        return self.model_.predict_proba(X, texts) if self.model_.needs_texts else self.model_.predict_proba(X)

    @property
    def info(self) -> dict[str, Any]:
        return {"kind": self.meta_["kind"], "path": str(self.path),
                "training_data_sha256": self.meta_.get("training_data_sha256"),
                "finetuned_encoder": self.tuned_encode_ is not None}


TAG_COLUMNS = ["root_cause", "confidence", "second_cause", "needs_review", "review_reason", "labels",
               "probabilities", "review_rank"]


def tag_items(proba: np.ndarray, keys: list[str], policy: AbstainPolicy, multi_label_min: float = 0.3
              ) -> pd.DataFrame:
    """Root cause, confidence, runner-up, every cause above ``multi_label_min`` (an item may report two
    problems), the full probability table, and whether (and why) it goes to the review queue."""
    if len(proba) == 0:
        return pd.DataFrame(columns=TAG_COLUMNS)
    top2 = np.argsort(-proba, axis=1, kind="stable")[:, :2]
    rows = np.arange(len(proba))
    abstain, reason = policy.decide(proba)
    names = np.array(keys)
    return pd.DataFrame({
        "root_cause": names[top2[:, 0]],
        "confidence": proba[rows, top2[:, 0]].round(4),
        "second_cause": names[top2[:, 1]] if proba.shape[1] > 1 else names[top2[:, 0]],
        "needs_review": abstain,
        "review_reason": reason,
        "labels": [[keys[j] for j in np.flatnonzero(p >= multi_label_min)] or [keys[int(p.argmax())]]
                   for p in proba],
        "probabilities": [{keys[j]: round(float(p[j]), 4) for j in np.flatnonzero(p >= 0.01)} for p in proba],
    })




def tag_texts(tagger: Any, X: np.ndarray, texts: Sequence[str], taxonomy: Taxonomy, multi_label_min: float = 0.3,
              languages: Sequence[str] | None = None, readable: Sequence[str] = ("en",)) -> pd.DataFrame:
    """``tag_items`` for prepared texts and their vectors, in taxonomy order, with each item's place in the review
    queue (``review_rank``, 1 = the label worth most: ``active.review_order``).

    An item in a language the encoder does not read well (``languages`` per item, ``readable`` from
    ``clean.languages``) goes to the review queue: its tag is a guess, and the out-of-taxonomy floor does not
    judge it (``ZeroShotTagger.scores``).
    """
    foreign = ~pd.Series(list(languages)).isin([*readable, "und"]).to_numpy() if languages is not None else None
    if foreign is not None and getattr(tagger, "judges_fit", False):  # the floor judges what the encoder reads
        proba = tagger.predict_proba(X, texts, judged=~foreign)
    else:
        proba = tagger.predict_proba(X, texts) if getattr(tagger, "needs_texts", True) else tagger.predict_proba(X)
    if list(tagger.classes_) != list(taxonomy.keys):
        proba = in_key_order(proba, list(tagger.classes_), taxonomy.keys)
    tags = tag_items(proba, taxonomy.keys, tagger.policy, multi_label_min)
    if len(tags):
        rank = np.empty(len(tags), dtype=int)
        rank[review_order(proba, X)] = np.arange(1, len(tags) + 1)
        tags["review_rank"] = rank
    if foreign is not None and len(tags):
        foreign = pd.Series(foreign, index=tags.index)
        tags["needs_review"] = tags["needs_review"].astype(object)
        tags.loc[foreign, "needs_review"] = True
        tags.loc[foreign & (tags["review_reason"].fillna("") == ""), "review_reason"] = "other_language"
    return tags
