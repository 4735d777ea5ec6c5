"""The tag stage as the pipeline runs it: the two registered taggers and the per-item decisions.

``tag.backend`` names one of the taggers below (``backends.py``): ``prototype`` tags zero-shot from the taxonomy,
``model`` loads a tagger trained with ``insight train tagger``. Both follow the Tagger role (``fit``,
``predict_proba``, ``classes_``, ``policy``) and are made ready by ``prepare``, which receives what only the
composition layer can provide: a function that prepares and embeds raw texts as the pipeline does, and one that
embeds texts with a fine-tuned encoder folder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..config import TagConfig, Taxonomy
from ..errors import ConfigError
from .calibration import AbstainPolicy
from .persist import encoder_path, head_features, load_model
from .zero_shot import KeywordMatcher, PrototypeTagger, combined_proba, in_key_order, taxonomy_training_set

Encode = Callable[[Sequence[str]], np.ndarray]
EncoderAt = Callable[[str, str], Encode]  # (encoder folder, its checksum) -> encode


class ZeroShotTagger:
    """Registered as ``prototype``: each cause's description and seeds are its prototypes, keywords add evidence.

    Needs no labels: ``prepare`` embeds the taxonomy's own examples. Columns are in taxonomy order.
    """

    needs_texts = True

    def __init__(self, taxonomy: Taxonomy, temperature: float = 0.05, keyword_weight: float = 0.35,
                 policy: AbstainPolicy | None = None) -> None:
        self.taxonomy = taxonomy
        self.temperature = temperature
        self.keyword_weight = keyword_weight
        self.policy = policy or AbstainPolicy()

    @classmethod
    def from_config(cls, cfg: TagConfig, taxonomy: Taxonomy) -> ZeroShotTagger:
        return cls(taxonomy, cfg.temperature, cfg.keyword_weight,
                   AbstainPolicy(min_confidence=cfg.abstain_below, min_margin=cfg.min_margin))

    def prepare(self, encode: Encode, embedder: str = "", encoder_at: EncoderAt | None = None) -> ZeroShotTagger:
        """Fitted on the taxonomy's descriptions and seed examples, prepared and embedded by ``encode``."""
        texts, labels = taxonomy_training_set(self.taxonomy)
        return self.fit(encode(texts), labels)

    def fit(self, X: np.ndarray, y: Sequence[str], texts: Sequence[str] | None = None) -> ZeroShotTagger:
        self.prototypes_ = PrototypeTagger(temperature=self.temperature).fit(X, y)
        self.matcher_ = KeywordMatcher(self.taxonomy)
        self.classes_ = np.asarray(self.taxonomy.keys)
        return self

    def predict_proba(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        if texts is None:  # vectors alone: no keyword evidence
            return in_key_order(self.prototypes_.predict_proba(X), list(self.prototypes_.classes_), self.taxonomy.keys)
        return combined_proba(texts, X, self.prototypes_, self.taxonomy, self.keyword_weight, self.matcher_)

    @property
    def info(self) -> dict[str, Any]:
        return {"kind": "zero-shot"}


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
               "probabilities"]


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
    """``tag_items`` for prepared texts and their vectors, in taxonomy order.

    An item in a language the encoder does not read well (``languages`` per item, ``readable`` from
    ``clean.languages``) goes to the review queue: its tag is a guess.
    """
    proba = tagger.predict_proba(X, texts) if getattr(tagger, "needs_texts", True) else tagger.predict_proba(X)
    if list(tagger.classes_) != list(taxonomy.keys):
        proba = in_key_order(proba, list(tagger.classes_), taxonomy.keys)
    tags = tag_items(proba, taxonomy.keys, tagger.policy, multi_label_min)
    if languages is not None and len(tags):
        foreign = ~pd.Series(list(languages), index=tags.index).isin([*readable, "und"])
        tags["needs_review"] = tags["needs_review"].astype(object)
        tags.loc[foreign, "needs_review"] = True
        tags.loc[foreign & (tags["review_reason"].fillna("") == ""), "review_reason"] = "other_language"
    return tags
