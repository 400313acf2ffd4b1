"""The builder's document model and its log of problems found in the input.

Every reader turns its input into :class:`AnnotatedDocument` objects with schema labels
and character offsets; :class:`Problems` collects what was fatal, what was fixed
and what is worth a warning, so that nothing is dropped or changed silently.

Example:
    >>> p = Problems()
    >>> p.fix("trimmed_whitespace", "doc-1: span (3, 9) trimmed to (4, 9)")
    >>> dict(p.fixed)
    {'trimmed_whitespace': 1}
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from rasd.errors import InputError
from rasd.text import Segment


class LabelledSpan(NamedTuple):
    """A labelled character span ``[start, end)`` of a document's text."""

    start: int
    end: int
    label: str


@dataclass
class AnnotatedDocument:
    """One annotated document, in schema labels, with where it came from.

    ``segmentation`` is set by readers of pre-tokenised corpora (CoNLL), whose
    own sentences and tokens are kept; otherwise the builder segments the text
    with :func:`rasd.text.segment`, exactly as inference will.
    """

    id: str
    text: str
    entities: list[LabelledSpan]
    events: list[LabelledSpan]
    source: str
    origin: str
    split: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    segmentation: list[Segment] | None = None


class DataError(InputError):
    """Input that cannot be built; the message lists every fatal problem found."""


@dataclass
class Problems:
    """What the builder found: fatal errors, fixes and warnings, with examples."""

    errors: list[str] = field(default_factory=list)
    fixed: Counter[str] = field(default_factory=Counter)
    warned: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    max_examples: int = 5

    def error(self, message: str) -> None:
        self.errors.append(message)

    def fix(self, kind: str, example: str, count: int = 1) -> None:
        self.fixed[kind] += count
        self._example(kind, example)

    def warn(self, kind: str, example: str, count: int = 1) -> None:
        self.warned[kind] += count
        self._example(kind, example)

    def _example(self, kind: str, example: str) -> None:
        shown = self.examples.setdefault(kind, [])
        if len(shown) < self.max_examples:
            shown.append(example)

    def raise_if_errors(self, limit: int = 25) -> None:
        """Raise :class:`DataError` listing the errors (first ``limit``) if there are any."""
        if self.errors:
            shown = self.errors[:limit]
            more = len(self.errors) - len(shown)
            tail = f"\n… and {more} more" if more else ""
            raise DataError(f"{len(self.errors)} fatal problem(s) in the input:\n  "
                            + "\n  ".join(shown) + tail)

    def to_dict(self) -> dict[str, Any]:
        return {"fixed": dict(sorted(self.fixed.items())), "warnings": dict(sorted(self.warned.items())),
                "examples": {k: v for k, v in sorted(self.examples.items())}}
