"""Constrained IOB2 decoding: the most probable tag sequence that is valid IOB2.

Per-word argmax can yield ``I-LOC`` after ``O`` or ``B-PER``; Viterbi over the
word probabilities with the IOB2 transition constraints never does, and picks
the best valid sequence instead of patching an invalid one.

Example:
    >>> import numpy as np
    >>> tags = ("O", "B-LOC", "I-LOC")
    >>> probs = np.array([[0.4, 0.35, 0.25], [0.1, 0.1, 0.8]])  # argmax would give O, I-LOC
    >>> [tags[i] for i in viterbi(probs, tags)]
    ['B-LOC', 'I-LOC']
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=8)
def _allowed(tags: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(start allowed (tags,), transition allowed (tags, tags)) for IOB2."""
    n = len(tags)
    start = np.array([not t.startswith("I-") for t in tags])
    trans = np.ones((n, n), dtype=bool)
    for j, t in enumerate(tags):
        if t.startswith("I-"):
            for i, prev in enumerate(tags):
                trans[i, j] = prev[2:] == t[2:] and prev != "O"
    return start, trans


def viterbi(probs: np.ndarray, tags: Sequence[str]) -> list[int]:
    """Tag ids of the most probable valid IOB2 sequence for per-word probabilities ``(words, tags)``."""
    if len(probs) == 0:
        return []
    start, trans = _allowed(tuple(tags))
    logp = np.log(np.clip(probs, 1e-12, 1.0))
    penalty = np.where(trans, 0.0, -np.inf)
    score = np.where(start, logp[0], -np.inf)
    back = np.zeros((len(probs), len(tags)), dtype=np.int64)
    for w in range(1, len(probs)):
        cand = score[:, None] + penalty  # (prev, cur)
        back[w] = cand.argmax(0)
        score = cand.max(0) + logp[w]
    path = [int(score.argmax())]
    for w in range(len(probs) - 1, 0, -1):
        path.append(int(back[w, path[-1]]))
    return path[::-1]
