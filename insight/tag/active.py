"""Learning from reviewers: which items a reviewer should label first, and how their labels change the tags.

The review queue is ordered by what a reviewer's label is worth, not by confidence alone:

- **uncertainty**: one minus the margin between the two most probable causes (a label settles a close call);
- **impact**: complaints first, where an item's impact is given (a wrong cause on a complaint misroutes an action);
- **diversity**: each pick lowers the value of items that its label will reach (ten labels on the same remark
  teach one thing).

Labels then reach the zero-shot tagger as a memory (``LabelMemory``): a remark close to a reviewer-labelled one
leans towards that label, the more the closer (nothing below ``REACH`` cosine, 0.7: near-copies and rephrasings of
a labelled remark, which is where one label is safe to generalise; a lower gate made the development set worse).
The queue's diversity penalty starts at the same cosine: a remark merely on a related subject is not taught by an
earlier label, so it keeps its full value (a penalty from any cosine cost 1-2 points of accuracy at 800 labels on
Banking77 and CLINC150; ``docs/evaluation.md``).
It needs no retraining and keeps the taxonomy's prototypes. ``insight eval tagging --mode active`` simulates the
loop; ``docs/evaluation.md`` has the learning curve and what the memory adds (little on 421 varied remarks).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

REACH = 0.7  # cosine from which a reviewer's label reaches a remark (the memory's gate, the queue's penalty)
DIVERSITY = 0.5  # the most an earlier pick's reach lowers a value (a copy of a pick: all of it)
GREEDY_LIMIT = 2000  # items ordered one by one (with diversity); the rest follow by value alone


def review_order(proba: np.ndarray, X: np.ndarray, impact: Sequence[float] | None = None,
                 diversity: float = DIVERSITY, limit: int = GREEDY_LIMIT) -> np.ndarray:
    """Row indices, most valuable label first: uncertainty x impact, picked greedily with a diversity penalty.

    The penalty is ``diversity`` times how far into an earlier pick's reach an item is: 0 at cosine ``REACH`` and
    below, the full ``diversity`` for a copy. ``impact`` per item in 0..1 (None: all equal). Only the ``limit``
    most valuable items are ordered greedily (the penalty needs their pairwise cosines); the rest follow by value.
    """
    n = len(proba)
    if n == 0:
        return np.zeros(0, dtype=int)
    top2 = np.sort(proba, axis=1)[:, -2:] if proba.shape[1] > 1 else np.hstack([np.zeros_like(proba), proba])
    value = 1.0 - (top2[:, 1] - top2[:, 0])
    if impact is not None:
        value = value * (0.5 + 0.5 * np.clip(np.asarray(impact, dtype=float), 0, 1))
    by_value = np.argsort(-value, kind="stable")
    head = by_value[:limit]
    V = np.asarray(X, dtype=np.float32)[head]
    closest = np.full(len(head), -1.0, dtype=np.float32)
    taken = np.zeros(len(head), dtype=bool)
    order = []
    for _ in range(len(head)):
        reached = np.clip((closest - REACH) / (1 - REACH), 0, 1)
        score = np.where(taken, -np.inf, value[head] - diversity * reached)
        pick = int(np.argmax(score))
        taken[pick] = True
        order.append(head[pick])
        closest = np.maximum(closest, V @ V[pick])
    return np.concatenate([np.asarray(order, dtype=int), by_value[limit:]])


class LabelMemory:
    """Reviewer-labelled vectors; ``blend`` leans each remark towards the labels of its nearest labelled ones.

    For a remark whose nearest labelled neighbour is at cosine ``s``, the weight of the memory's vote is
    ``weight * (s - gate) / (1 - gate)`` (0 below ``gate``); the vote is a softmax-weighted count of its ``k``
    nearest labels.
    """

    def __init__(self, keys: Sequence[str], k: int = 3, gate: float = REACH, weight: float = 0.8,
                 temperature: float = 0.05) -> None:
        self.keys = list(keys)
        self.k, self.gate, self.weight, self.temperature = k, gate, weight, temperature
        self.X = np.zeros((0, 0), dtype=np.float32)
        self.y = np.zeros(0, dtype=int)

    def add(self, X: np.ndarray, labels: Sequence[str]) -> LabelMemory:
        unknown = sorted(set(labels) - set(self.keys))
        if unknown:
            raise ValueError(f"labels {unknown} are not causes of the taxonomy")
        X = np.asarray(X, dtype=np.float32)
        self.X = X if not len(self.X) else np.vstack([self.X, X])
        self.y = np.concatenate([self.y, [self.keys.index(v) for v in labels]]).astype(int)
        return self

    def __len__(self) -> int:
        return len(self.y)

    def blend(self, proba: np.ndarray, X: np.ndarray) -> np.ndarray:
        if not len(self) or not len(proba):
            return proba
        sims = np.asarray(X, dtype=np.float32) @ self.X.T
        k = min(self.k, len(self))
        nearest = np.argsort(-sims, axis=1)[:, :k]
        near_sims = np.take_along_axis(sims, nearest, axis=1)
        votes = np.zeros_like(proba)
        strength = np.exp((near_sims - near_sims[:, :1]) / self.temperature)
        np.add.at(votes, (np.repeat(np.arange(len(proba)), k), self.y[nearest].ravel()), strength.ravel())
        votes /= votes.sum(axis=1, keepdims=True)
        lean = self.weight * np.clip((near_sims[:, :1] - self.gate) / (1 - self.gate), 0, 1)
        return (1 - lean) * proba + lean * votes
