"""Calibration and abstention for taggers (part of the tag stage): pure numpy, no model code.

A confidence is only useful if it means what it says: of the items tagged with 0.8, about 80 % should be
right. Temperature scaling (one parameter, fitted on held-out labels by minimising the negative log-likelihood)
fixes over- or under-confidence without changing which class wins. Abstention then routes an item to the review
queue when its top probability is low, when the top two are close, or when it falls below its class's threshold
for a target precision; the reason is kept so reviewers see why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LOW_CONFIDENCE = "low_confidence"
SMALL_MARGIN = "small_margin"
BELOW_CLASS_THRESHOLD = "below_class_threshold"


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Rescale probabilities as if their logits were divided by ``temperature`` (> 1 softens, < 1 sharpens)."""
    logp = np.log(np.clip(proba, 1e-12, 1.0))
    return softmax(logp / temperature)


def fit_temperature(proba: np.ndarray, y: np.ndarray, bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """The temperature minimising the negative log-likelihood of the true labels (indices into columns)."""
    from scipy.optimize import minimize_scalar

    y = np.asarray(y)
    logp = np.log(np.clip(proba, 1e-12, 1.0))

    def nll(log_t: float) -> float:
        p = softmax(logp / np.exp(log_t))
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))))

    res = minimize_scalar(nll, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded")
    return float(np.exp(res.x))


def expected_calibration_error(proba: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins."""
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(y)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - conf[in_bin].mean())
    return float(ece)


def class_thresholds(proba: np.ndarray, y: np.ndarray, target_precision: float, min_support: int = 5
                     ) -> np.ndarray:
    """Per class, the lowest confidence at which predictions of that class reach ``target_precision``.

    Classes with too few held-out predictions keep threshold 0 (the global rules still apply).
    """
    pred = proba.argmax(axis=1)
    conf = proba.max(axis=1)
    y = np.asarray(y)
    out = np.zeros(proba.shape[1])
    for c in range(proba.shape[1]):
        mine = pred == c
        if mine.sum() < min_support:
            continue
        order = np.argsort(-conf[mine], kind="stable")
        hits = (y[mine][order] == c).astype(float)
        precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
        ok = np.flatnonzero(precision >= target_precision)
        out[c] = conf[mine][order][ok[-1]] if len(ok) else 1.01  # never precise enough: always review
    return out


@dataclass
class AbstainPolicy:
    """When to send an item to the review queue instead of trusting its tag."""

    min_confidence: float = 0.5
    min_margin: float = 0.1
    class_thresholds: list[float] = field(default_factory=list)

    def decide(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A boolean abstain mask and a reason per item ('' when not abstained)."""
        top2 = np.sort(proba, axis=1)[:, -2:] if proba.shape[1] > 1 else np.hstack([np.zeros_like(proba), proba])
        conf, margin = top2[:, 1], top2[:, 1] - top2[:, 0]
        reason = np.full(len(proba), "", dtype=object)
        if self.class_thresholds:
            thr = np.asarray(self.class_thresholds)[proba.argmax(axis=1)]
            reason[conf < thr] = BELOW_CLASS_THRESHOLD
        reason[margin < self.min_margin] = SMALL_MARGIN
        reason[conf < self.min_confidence] = LOW_CONFIDENCE
        return reason != "", reason


def coverage_report(proba: np.ndarray, y: np.ndarray, policy: AbstainPolicy) -> dict[str, float]:
    """Accuracy, ECE, the share of items not abstained and the accuracy on those."""
    y = np.asarray(y)
    abstain, _ = policy.decide(proba)
    correct = proba.argmax(axis=1) == y
    kept = ~abstain
    return {
        "accuracy": float(correct.mean()) if len(y) else 0.0,
        "ece": expected_calibration_error(proba, y) if len(y) else 0.0,
        "coverage": float(kept.mean()) if len(y) else 0.0,
        "precision_at_coverage": float(correct[kept].mean()) if kept.any() else 0.0,
    }
