"""Zero-shot root causes: embedding prototypes from the taxonomy plus keyword evidence.

The prototype tagger follows the sklearn shape (``fit(X, y)``, ``predict_proba(X)``) so a supervised tagger can
replace it. Zero-shot use builds the training set from the taxonomy itself: each root cause's description and
seed examples are its prototypes. Keyword hits are separate evidence, blended in by ``combined_proba`` because
they need the text, not the vector.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from ..config import Taxonomy
from .calibration import softmax


class PrototypeTagger:
    """Scores each class by the mean of its ``k`` most similar prototypes; softmax with a temperature."""

    def __init__(self, temperature: float = 0.05, top_k: int = 3) -> None:
        self.temperature = temperature
        self.top_k = top_k

    def fit(self, X: np.ndarray, y: Sequence[str]) -> PrototypeTagger:
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(list(y))
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
        self.classes_ = np.array(list(dict.fromkeys(y.tolist())))
        self.prototypes_ = X
        self.prototype_labels_ = np.searchsorted(self.classes_, y, sorter=np.argsort(self.classes_))
        # searchsorted with a sorter returns positions in the sorted order: map back to classes_ order
        sorted_idx = np.argsort(self.classes_)
        self.prototype_labels_ = sorted_idx[self.prototype_labels_]
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        if len(X) == 0:  # a run with nothing stored: no rows to score (and no vector width to check)
            return np.zeros((0, len(self.classes_)), dtype=np.float32)
        sims = np.asarray(X, dtype=np.float32) @ self.prototypes_.T
        scores = np.empty((len(sims), len(self.classes_)), dtype=np.float32)
        for c in range(len(self.classes_)):
            s = sims[:, self.prototype_labels_ == c]
            k = min(self.top_k, s.shape[1])
            scores[:, c] = np.sort(s, axis=1)[:, -k:].mean(axis=1)
        return scores

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return softmax(self.decision_function(X) / self.temperature)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def taxonomy_training_set(taxonomy: Taxonomy) -> tuple[list[str], list[str]]:
    """Texts and labels that teach a tagger the taxonomy: every description and seed example."""
    texts, labels = [], []
    for key, rc in taxonomy.root_causes.items():
        for t in dict.fromkeys([rc.description, *rc.seeds]):  # a seed that repeats the description counts once
            texts.append(t)
            labels.append(key)
    return texts, labels


class KeywordMatcher:
    """Taxonomy keywords matched on lemmas with spaCy's PhraseMatcher: "refunded", "refunds" and "refunding"
    all count for the keyword "refund", and "parcels arrived" for "parcel arrive".

    Running the tagger and lemmatizer over every text is slow (hundreds per second), so each distinct word is
    lemmatised once, without context, and cached; texts are only tokenised. Feedback reuses a small vocabulary,
    so this is fast and close enough for keyword evidence.
    """

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._nlp = None
        self._matcher = None
        self._lemmas: dict[str, str] = {}

    def _load(self):
        if self._matcher is None:
            from spacy.matcher import PhraseMatcher

            from ..nlp import load_spacy

            nlp = load_spacy()
            keep = {"tok2vec", "tagger", "attribute_ruler", "lemmatizer"}
            nlp.select_pipes(enable=[p for p in nlp.pipe_names if p in keep])
            self._nlp = nlp
            matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
            for key in self.taxonomy.keys:
                words = [w.lower() for w in self.taxonomy.root_causes[key].keywords]
                if words:
                    matcher.add(key, [self._lemma_doc(w) for w in words])
            self._matcher = matcher
        return self._nlp, self._matcher

    def _lemma_doc(self, text: str):
        from spacy.tokens import Doc

        words = [t.text for t in self._nlp.tokenizer(text.lower()[:2000]) if not t.is_space]
        todo = sorted(w for w in set(words) if w not in self._lemmas)
        for w, doc in zip(todo, self._nlp.pipe(todo, batch_size=512)):
            self._lemmas[w] = (doc[0].lemma_.lower() if len(doc) else "") or w
        return Doc(self._nlp.vocab, words=[self._lemmas[w] for w in words] or ["-"])

    def _compiled(self) -> list[tuple[re.Pattern | None, re.Pattern | None]]:
        """Per cause: one alternation of its patterns and one of its exclusions (None where it has none)."""
        if not hasattr(self, "_regexes"):
            def alternation(ps: list[str]) -> re.Pattern | None:
                return re.compile("|".join(f"(?:{p})" for p in ps), re.IGNORECASE) if ps else None

            self._regexes = [(alternation(rc.patterns), alternation(rc.exclude))
                             for rc in self.taxonomy.root_causes.values()]
        return self._regexes

    def counts(self, texts: Sequence[str]) -> np.ndarray:
        """Keyword and pattern hits per text and cause; a cause's exclusion pattern in a text zeroes its hits."""
        nlp, matcher = self._load()
        keys = self.taxonomy.keys
        index = {nlp.vocab.strings[k]: j for j, k in enumerate(keys)}
        hits = np.zeros((len(texts), len(keys)), dtype=np.float32)
        regexes = self._compiled()
        for i, t in enumerate(texts):
            for match_id, _, _ in matcher(self._lemma_doc(t)):
                hits[i, index[match_id]] += 1
            for j, (found, excluded) in enumerate(regexes):
                if found is not None:
                    hits[i, j] += sum(1 for _ in found.finditer(t))
                if excluded is not None and hits[i, j] and excluded.search(t):
                    hits[i, j] = 0
        return hits


def keyword_evidence(texts: Sequence[str], taxonomy: Taxonomy, matcher: KeywordMatcher | None = None) -> np.ndarray:
    """Per text and root cause: how many of its keywords occur (lemma match), squashed to 0..1."""
    hits = (matcher or KeywordMatcher(taxonomy)).counts(texts)
    return 1.0 - np.exp(-hits)  # 0 hits -> 0, 1 -> 0.63, 2 -> 0.86


def in_key_order(proba: np.ndarray, classes: Sequence[str], keys: list[str]) -> np.ndarray:
    """Columns rearranged to the taxonomy's order; a cause the model never saw gets probability 0."""
    out = np.zeros((len(proba), len(keys)), dtype=np.float64)
    pos = {c: i for i, c in enumerate(classes)}
    for j, k in enumerate(keys):
        if k in pos:
            out[:, j] = proba[:, pos[k]]
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)


def combined_proba(texts: Sequence[str], X: np.ndarray, tagger, taxonomy: Taxonomy, keyword_weight: float = 0.35,
                   matcher: KeywordMatcher | None = None) -> np.ndarray:
    """The tagger's probabilities in taxonomy order, blended with keyword evidence where a text has any."""
    proba = in_key_order(tagger.predict_proba(X), list(tagger.classes_), taxonomy.keys)
    if not keyword_weight:  # no weight, no evidence to look for (and no spaCy to load)
        return proba
    return blend_keywords(proba, keyword_evidence(texts, taxonomy, matcher), keyword_weight)


def blend_keywords(proba: np.ndarray, evidence: np.ndarray, keyword_weight: float) -> np.ndarray:
    """Where a text has keyword evidence, ``keyword_weight`` of its probability follows that evidence."""
    kw = evidence / np.maximum(evidence.sum(axis=1, keepdims=True), 1e-9)
    has_kw = evidence.sum(axis=1, keepdims=True) > 0
    return np.where(has_kw, (1 - keyword_weight) * proba + keyword_weight * kw, proba)


def fit_zero_shot(taxonomy: Taxonomy, encode: Callable[[list[str]], np.ndarray], temperature: float = 0.05
                  ) -> PrototypeTagger:
    texts, labels = taxonomy_training_set(taxonomy)
    return PrototypeTagger(temperature=temperature).fit(encode(texts), labels)
