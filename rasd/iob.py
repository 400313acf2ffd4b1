"""Character spans ↔ word-level IOB2 tags (SPEC §2, proclitic rule).

A word carries a span's tag when the span covers it wholly or from a proclitic
on («بالضفة» is LOC for the span «الضفة»). Going back, a tagged word run becomes
a character span; a leading proclitic before the article «ال» is left outside,
as the annotation rule asks.

Example:
    >>> from rasd.iob import spans_to_tags, tags_to_spans
    >>> words = [(0, 4), (5, 11)]            # «قصفٌ بالضفة»
    >>> spans_to_tags(words, [(6, 11, "LOC")])
    ['O', 'B-LOC']
    >>> tags_to_spans(["O", "B-LOC"])
    [(1, 2, 'LOC')]
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from rasd.text import Offsets

# Proclitic letters (و ف ب ك ل) allowed before a span inside a whitespace word:
# an optional conjunction then an optional preposition («و», «ب», «وب», «فل»…).
PROCLITIC_RE = re.compile(r"^[وف]?[بكل]?$")
# A proclitic run we strip when decoding: before the article «ال», or «ل» before «ل»
# («للنظام» → «لنظام», the preposition's lam absorbed the article's alef).
_DECODE_PROCLITIC_RE = re.compile(r"^(?:[وف]?[بك]?(?=ال..)|[وف]?ل(?=ل..))")


class SpanConflictError(ValueError):
    """Two spans claim the same word."""


def is_proclitic(prefix: str) -> bool:
    """True when ``prefix`` is a run of attached proclitics a span may start after.

    Example:
        >>> is_proclitic("وب"), is_proclitic("ال")
        (True, False)
    """
    return bool(prefix) and PROCLITIC_RE.match(prefix) is not None


def proclitic_length(word: str) -> int:
    """Length of the proclitic run to leave outside an entity starting at ``word``.

    Only the unambiguous cases are stripped: proclitics before the article
    («والجيش» → «الجيش», «بالضفة» → «الضفة», «للنظام» → «لنظام»). A bare «و» before a
    name is kept, since it may be part of the name («وليد»).

    Example:
        >>> proclitic_length("وبالضفة"), proclitic_length("وليد")
        (2, 0)
    """
    m = _DECODE_PROCLITIC_RE.match(word)
    return m.end() if m else 0


def spans_to_tags(words: Sequence[Offsets], spans: Sequence[tuple[int, int, str]]) -> list[str]:
    """IOB2 tags for ``words`` given labelled character spans.

    Raises:
        SpanConflictError: if two spans cover the same word.
    """
    tags = ["O"] * len(words)
    owner: list[int] = [-1] * len(words)
    starts = [w[0] for w in words]
    for k, (start, end, label) in enumerate(sorted(spans)):
        i = _first_word_ending_after(words, start, starts)
        first = True
        while i < len(words) and words[i][0] < end:
            if owner[i] != -1:
                raise SpanConflictError(
                    f"spans {sorted(spans)[owner[i]][:2]} and {(start, end)} both cover word {words[i]}")
            owner[i] = k
            tags[i] = ("B-" if first else "I-") + label
            first = False
            i += 1
    return tags


def _first_word_ending_after(words: Sequence[Offsets], pos: int, starts: list[int]) -> int:
    i = bisect.bisect_right(starts, pos) - 1
    if i < 0:
        return 0
    return i if words[i][1] > pos else i + 1


def tags_to_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Word-index spans ``(first, last + 1, label)`` from IOB2 tags.

    A stray ``I-X`` (after ``O`` or another type) opens a new entity, the usual
    lenient decoding for model output.

    Example:
        >>> tags_to_spans(["B-PER", "I-PER", "I-ORG", "O"])
        [(0, 2, 'PER'), (2, 3, 'ORG')]
    """
    spans: list[tuple[int, int, str]] = []
    start, label = -1, ""
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, typ = tag.partition("-")
        continues = prefix == "I" and typ == label and start >= 0
        if not continues and start >= 0:
            spans.append((start, i, label))
            start, label = -1, ""
        if prefix in ("B", "I") and not continues:
            start, label = i, typ
    return spans


def word_spans_to_chars(text: str, words: Sequence[Offsets],
                        spans: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Character spans for word-index spans, leaving a leading proclitic outside.

    Example:
        >>> t = "قصف بالضفة"
        >>> word_spans_to_chars(t, [(0, 3), (4, 10)], [(1, 2, "LOC")])
        [(5, 10, 'LOC')]
    """
    out = []
    for first, last, label in spans:
        a, b = words[first][0], words[last - 1][1]
        a += proclitic_length(text[a:words[first][1]])
        out.append((a, b, label))
    return out
