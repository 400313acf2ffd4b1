"""Windows over whole documents: sentences packed up to the model's length, nothing truncated.

Training (:mod:`training.features`) and inference (:mod:`rasd.inference`) cut, frame and
pad documents through the functions of this module alone, so they cannot drift apart:
:func:`plan_windows` cuts, :func:`frame` lays a window's tokens out, :func:`pad` pads a batch.
Each sentence's words are
sub-tokenised; a sentence longer than a window is split on word boundaries into
pieces that overlap by ``stride`` sub-tokens; consecutive pieces/sentences are
packed greedily into windows of at most ``max_length`` tokens (specials
included); at inference a window can also carry up to ``context`` sub-tokens of
the sentences before it, whose predictions are averaged with their own window's.

Example:
    >>> units = make_units([[[5], [6, 7]], [[8]]], budget=8, stride=2)
    >>> [(u.sentence, u.token_ids, u.token_words) for u in units]
    [(0, (5, 6, 7), (0, 1, 1)), (1, (8,), (2,))]
    >>> [(w.context, w.core) for w in pack(units, budget=3)]
    [((), (0,)), ((), (1,))]
    >>> units, plans = plan_windows([[[5], [6, 7]], [[8]]], max_length=6, stride=1)
    >>> frame(units, plans[0], cls_id=2, sep_id=3)
    ([2, 5, 6, 7, 8, 3], [-1, 0, 0, 0, 1, -1])
    >>> pad([[2, 5, 3], [2, 3]], 0)
    [[2, 5, 3], [2, 3, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """A sentence, or a piece of a sentence longer than a window, as sub-tokens.

    ``token_words`` gives, per sub-token, the document-level index of its word;
    ``first`` marks each word's first sub-token.
    """

    sentence: int
    token_ids: tuple[int, ...]
    token_words: tuple[int, ...]
    first: tuple[bool, ...]

    def __len__(self) -> int:
        return len(self.token_ids)


@dataclass(frozen=True)
class WindowPlan:
    """Which units a window holds: ``context`` (before) and ``core``, as unit indices."""

    context: tuple[int, ...]
    core: tuple[int, ...]

    @property
    def units(self) -> tuple[int, ...]:
        return self.context + self.core


def make_units(sentences: Sequence[Sequence[Sequence[int]]], budget: int, stride: int) -> list[Unit]:
    """Units from sub-token ids per word per sentence; words are numbered across the document.

    A sentence over ``budget`` sub-tokens is split on word boundaries into pieces
    of at most ``budget``, each starting ``stride`` or fewer sub-tokens before the
    previous one ended (never inside a word). A single word longer than ``budget``
    is itself cut into consecutive pieces: the only way to keep every sub-token.
    """
    if budget < 1 or stride < 0 or stride >= budget:
        raise ValueError(f"need budget >= 1 and 0 <= stride < budget, got budget={budget}, stride={stride}")
    units: list[Unit] = []
    word = 0
    for s, words in enumerate(sentences):
        flat: list[tuple[int, int, bool]] = []  # (token id, word index, first sub-token)
        word_starts: list[int] = []
        for pieces in words:
            word_starts.append(len(flat))
            flat.extend((tid, word, k == 0) for k, tid in enumerate(pieces))
            word += 1
        if not flat:
            continue
        start = 0
        while True:
            end = min(start + budget, len(flat))
            if end < len(flat):
                # Back off to a word boundary, unless one word fills the whole window.
                boundary = max((b for b in word_starts if start < b <= end), default=None)
                end = boundary if boundary is not None else end
            chunk = flat[start:end]
            units.append(Unit(s, tuple(t for t, _, _ in chunk), tuple(w for _, w, _ in chunk),
                              tuple(f for _, _, f in chunk)))
            if end >= len(flat):
                break
            # Next piece starts at the word boundary nearest to `end - stride`, after `start`.
            target = end - stride
            nxt = min((b for b in word_starts if target <= b < end and b > start), default=end)
            start = nxt
    return units


def pack(units: Sequence[Unit], budget: int, context: int = 0) -> list[WindowPlan]:
    """Greedily pack consecutive units into windows of at most ``budget`` sub-tokens.

    With ``context`` > 0, each window first takes whole preceding units (nearest
    first) whose total length fits in ``context`` and in what is left of the
    budget after its core units.
    """
    plans: list[WindowPlan] = []
    i = 0
    while i < len(units):
        core = [i]
        used = len(units[i])
        while i + len(core) < len(units) and used + len(units[i + len(core)]) <= budget:
            used += len(units[i + len(core)])
            core.append(i + len(core))
        ctx: list[int] = []
        room = min(context, budget - used)
        j = i - 1
        while j >= 0 and len(units[j]) <= room:
            room -= len(units[j])
            ctx.insert(0, j)
            j -= 1
        plans.append(WindowPlan(tuple(ctx), tuple(core)))
        i += len(core)
    return plans


def plan_windows(sentences: Sequence[Sequence[Sequence[int]]], max_length: int, stride: int,
                 context: int = 0) -> tuple[list[Unit], list[WindowPlan]]:
    """Units and window plans of one document, given sub-token ids per word per sentence.

    ``max_length`` counts the two special tokens; a ``stride`` of a window or more is
    reduced to fit (a long sentence's pieces must move forward). Training plans with
    ``context=0``; inference adds context from the preceding sentences.
    """
    budget = max_length - 2
    if budget < 1:
        raise ValueError(f"max_length {max_length} leaves no room between the two special tokens")
    units = make_units(sentences, budget, min(stride, budget - 1))
    return units, pack(units, budget, context)


def frame(units: Sequence[Unit], plan: WindowPlan, cls_id: int, sep_id: int) -> tuple[list[int], list[int]]:
    """A window's token ids (``[CLS]`` units… ``[SEP]``) and each token's sentence slot in it.

    Slot ``k`` is the window's ``k``-th unit (context units first); specials get -1. Labels
    and predictions follow the same order: ``plan.units``, each unit's tokens in turn.
    """
    ids, slots = [cls_id], [-1]
    for slot, u in enumerate(plan.units):
        ids.extend(units[u].token_ids)
        slots.extend([slot] * len(units[u]))
    ids.append(sep_id)
    slots.append(-1)
    return ids, slots


def pad(rows: Sequence[Sequence[int]], value: int, length: int | None = None) -> list[list[int]]:
    """Rows padded at the end with ``value`` to ``length`` (default: the longest row)."""
    longest = max((len(r) for r in rows), default=0) if length is None else length
    return [list(r) + [value] * (longest - len(r)) for r in rows]

