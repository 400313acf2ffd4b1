"""Validation of annotated documents: fatal problems are reported, fixable ones fixed and counted.

Fatal (the build stops, naming document and span): empty text, duplicate ids,
offsets out of range, unknown labels, an entity type the source does not
annotate, overlapping entity spans. Fixed and counted: white space around a
span (trimmed), a span that cuts a word other than after a proclitic
(widened to the word), exact duplicate spans (one kept). Warned: text with no
Arabic letters, duplicate texts under different ids.

Example:
    >>> from training.documents import AnnotatedDocument, Problems, LabelledSpan
    >>> p = Problems()
    >>> d = AnnotatedDocument("d1", "قصف درعا", [LabelledSpan(3, 8, "LOC")], [], "spec", "x.jsonl:1")
    >>> validate_document(d, ("LOC",), p).entities, dict(p.fixed)
    ([LabelledSpan(start=4, end=8, label='LOC')], {'trimmed_whitespace': 1})
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from rasd.iob import is_proclitic
from rasd.schema import SUB_EVENT_LABELS
from rasd.text import Segment, has_arabic_letters, segment
from training.documents import AnnotatedDocument, LabelledSpan, Problems


def _words_of(doc: AnnotatedDocument) -> list[tuple[int, int]]:
    return [w for s in doc.segmentation for w in s.words] if doc.segmentation else \
        [w for s in segment(doc.text) for w in s.words]


def _to_word_boundaries(span: LabelledSpan, words: Sequence[tuple[int, int]], starts: list[int],
                        text: str) -> LabelledSpan:
    """Widen ``span`` to whole words; a start just after a proclitic run stays where it is."""
    start, end = span.start, span.end
    i = bisect.bisect_right(starts, start) - 1
    if i >= 0 and words[i][0] < start < words[i][1] and not is_proclitic(text[words[i][0]:start]):
        start = words[i][0]
    j = bisect.bisect_right(starts, end - 1) - 1
    if j >= 0 and words[j][0] < end < words[j][1]:
        end = words[j][1]
    return LabelledSpan(start, end, span.label)


def _check_layer(doc: AnnotatedDocument, spans: list[LabelledSpan], layer: str, allowed: Iterable[str],
                 words: Sequence[tuple[int, int]], starts: list[int], problems: Problems) -> list[LabelledSpan] | None:
    text, n, ok = doc.text, len(doc.text), True
    allowed = set(allowed)
    out: list[LabelledSpan] = []
    for span in spans:
        kind = "entity" if layer == "entities" else "event"
        where = f"{doc.origin}: {kind} span ({span.start}, {span.end}, {span.label})"
        if not 0 <= span.start < span.end <= n:
            problems.error(f"{where} is out of range for a text of length {n}")
            ok = False
            continue
        if span.label not in allowed:
            problems.error(f"{where}: label {span.label!r} is not annotated by source "
                           f"'{doc.source}' (it annotates {', '.join(sorted(allowed)) or 'nothing'})")
            ok = False
            continue
        surface = text[span.start:span.end]
        stripped = surface.strip()
        if not stripped:
            problems.error(f"{where} covers only white space")
            ok = False
            continue
        if stripped != surface:
            lead = len(surface) - len(surface.lstrip())
            fixed = LabelledSpan(span.start + lead, span.start + lead + len(stripped), span.label)
            problems.fix("trimmed_whitespace", f"{where} trimmed to ({fixed.start}, {fixed.end})")
            span = fixed
        widened = _to_word_boundaries(span, words, starts, text)
        if widened != span:
            problems.fix("widened_to_word", f"{where} {text[span.start:span.end]!r} cut a word; "
                                            f"widened to {text[widened.start:widened.end]!r}")
            span = widened
        out.append(span)
    if not ok:
        return None
    unique = sorted(set(out))
    if len(unique) < len(out):
        problems.fix("duplicate_span_removed", f"{doc.origin}: {len(out) - len(unique)} in {layer}",
                     len(out) - len(unique))
    return unique


def validate_document(doc: AnnotatedDocument, entity_types: Sequence[str],
                      problems: Problems) -> AnnotatedDocument | None:
    """Check and fix one document; None when it has a fatal problem (logged in ``problems``)."""
    if not doc.text.strip():
        problems.error(f"{doc.origin}: empty text")
        return None
    if not has_arabic_letters(doc.text):
        problems.warn("no_arabic_letters", f"{doc.origin}: no Arabic letters in the text")
    words = _words_of(doc)
    starts = [a for a, _ in words]
    entities = _check_layer(doc, doc.entities, "entities", entity_types, words, starts, problems)
    events = _check_layer(doc, doc.events, "events", SUB_EVENT_LABELS, words, starts, problems)
    if entities is None or events is None:
        return None
    for prev, cur in zip(entities, entities[1:]):
        if cur.start < prev.end:
            problems.error(f"{doc.origin}: entity spans overlap: ({prev.start}, {prev.end}, {prev.label}) "
                           f"{doc.text[prev.start:prev.end]!r} and ({cur.start}, {cur.end}, {cur.label}) "
                           f"{doc.text[cur.start:cur.end]!r}")
            return None
    doc.entities, doc.events = entities, events
    return doc


def validate_corpus(docs: Iterable[AnnotatedDocument], entity_types_of: dict[str, Sequence[str]],
                    problems: Problems) -> list[AnnotatedDocument]:
    """Validate every document; also reject duplicate ids and warn on duplicate texts."""
    seen_ids: dict[str, str] = {}
    seen_texts: dict[str, str] = {}
    valid = []
    for doc in docs:
        if doc.id in seen_ids:
            problems.error(f"{doc.origin}: duplicate document id {doc.id!r} (first at {seen_ids[doc.id]})")
            continue
        seen_ids[doc.id] = doc.origin
        if doc.text in seen_texts:
            problems.warn("duplicate_text", f"{doc.origin}: same text as {seen_texts[doc.text]}")
        seen_texts.setdefault(doc.text, doc.origin)
        checked = validate_document(doc, entity_types_of[doc.source], problems)
        if checked is not None:
            valid.append(checked)
    return valid


def assign_sentences(doc: AnnotatedDocument, problems: Problems) -> list[Segment]:
    """The document's sentences, merging neighbours that an entity span straddles.

    A name cut by the sentence splitter («د. محمد» is protected, but not every
    abbreviation is) would otherwise be split across two examples.
    """
    sentences = list(doc.segmentation) if doc.segmentation else segment(doc.text)
    merged: list[Segment] = []
    for sent in sentences:
        if merged and any(s.start < merged[-1].end and s.end > sent.start for s in doc.entities):
            prev = merged.pop()
            problems.fix("sentences_merged_for_span", f"{doc.origin}: sentences at {prev.start} and "
                                                      f"{sent.start} joined: an entity crosses them")
            sent = Segment(prev.start, sent.end, prev.words + sent.words)
        merged.append(sent)
    return merged

