"""Incident decision thresholds chosen on the dev split, only where dev can support the choice.

A per-class threshold is tuned only for a class with at least ``min_positives`` dev
positives: with three, F1 is a step function of one or two sentences, and the tuned
value lands anywhere (``attack`` at 0.05 on the tiny model, which then flagged every
sentence of English and emoji-only text). Classes with less support share one threshold
tuned on all of them pooled (micro-F1), and without enough pooled support they keep the
default. No threshold goes below ``floor``: a dev split of conflict news has few quiet
sentences, so a low threshold that fits it fires on everyday text.

Example:
    >>> import numpy as np
    >>> gold = np.array([[1, 0]] * 12 + [[0, 1]] + [[0, 0]] * 12)
    >>> prob = np.array([[0.7, 0.1]] * 12 + [[0.2, 0.06]] + [[0.3, 0.05]] * 12)
    >>> choice = tune_thresholds(gold, prob, min_positives=10)
    >>> choice.thresholds, choice.sources
    ([0.5, 0.5], ['class', 'default'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The one grid every threshold search uses (tuning, checkpoint selection, PR curves).
THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


@dataclass(frozen=True)
class ThresholdChoice:
    """Per-class thresholds and where each came from: ``class`` (tuned on its own dev positives),
    ``shared`` (the pooled threshold of the low-support classes) or ``default``."""

    thresholds: list[float]
    sources: list[str]
    shared: float | None
    min_positives: int
    floor: float

    @property
    def tuned(self) -> list[bool]:
        """Per class, whether its threshold was tuned on its own dev positives."""
        return [s == "class" for s in self.sources]

    def to_dict(self) -> dict[str, object]:
        return {"thresholds": self.thresholds, "sources": self.sources, "shared": self.shared,
                "min_positives": self.min_positives, "floor": self.floor}


def best_threshold(gold: np.ndarray, prob: np.ndarray, default: float = 0.5, floor: float = 0.0) -> float:
    """The grid threshold (at least ``floor``) with the best F1 of ``prob >= t`` against ``gold``.

    Ties go to the threshold nearest ``default``, so a flat F1 curve does not drift to an extreme.
    """
    from sklearn.metrics import f1_score

    gold = np.asarray(gold).astype(bool).ravel()
    prob = np.asarray(prob).ravel()
    best = (-1.0, 0.0, default)
    for t in THRESHOLD_GRID:
        if t < floor:
            continue
        f1 = float(f1_score(gold, prob >= t, zero_division=0.0))
        key = (f1, -abs(float(t) - default), float(t))
        best = max(best, key)
    return best[2]


def tune_thresholds(gold: np.ndarray, prob: np.ndarray, min_positives: int = 10, default: float = 0.5,
                    floor: float = 0.2) -> ThresholdChoice:
    """Thresholds per class from dev ``gold`` (N, C) multi-hots and ``prob`` (N, C) probabilities."""
    gold = np.asarray(gold).astype(bool)
    prob = np.asarray(prob, dtype=float)
    support = gold.sum(axis=0)
    thresholds: list[float] = [default] * gold.shape[1]
    sources = ["default"] * gold.shape[1]
    for k in np.flatnonzero(support >= min_positives):
        thresholds[k] = best_threshold(gold[:, k], prob[:, k], default, floor)
        sources[k] = "class"
    low = np.flatnonzero(support < min_positives)
    shared = None
    if len(low) and support[low].sum() >= min_positives:
        shared = best_threshold(gold[:, low].ravel(), prob[:, low].ravel(), default, floor)
        for k in low:
            thresholds[k] = shared
            sources[k] = "shared"
    return ThresholdChoice([float(t) for t in thresholds], sources, shared, min_positives, floor)
