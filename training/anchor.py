"""Anchor surface-form annotations to exact character offsets (an annotation aid).

Annotators write what they see, not offsets: each document lists its entities
and incident mentions as ``[surface, label]`` or ``[surface, label, selector]``,
and this module finds the offsets, following the SPEC's word rules (a span
starts at a word start or after proclitics and ends at a word end). The output
is SPEC JSONL, ready for the builder.

Input, one JSON object a line::

    {"id": "asnd-123", "text": "...",            # or "text_file": "seeds/x.txt"
     "entities": [["درعا", "LOC"], ["الجيش", "ORG", "بمساندة الجيش،"]],
     "events": [["اشتباكات", "armed_clash", 2]],
     "meta": {"source": "asnd"}}

Selectors: none → every occurrence not inside a longer span of the same layer;
an int k or a list of ints → the k-th occurrences (1-based); a string → every
occurrence inside that context snippet, which must itself occur in the text.

Example:
    >>> doc = {"id": "d", "text": "قصفت قوات النظام درعا ومدينة درعا البلد",
    ...        "entities": [["درعا", "LOC"], ["درعا البلد", "LOC"], ["قوات النظام", "ORG"]],
    ...        "events": [["قصفت", "shelling_artillery_missile_attack"]]}
    >>> [(s["start"], s["end"], s["label"]) for s in anchor_document(doc)["entities"]]
    [(5, 16, 'ORG'), (17, 21, 'LOC'), (29, 39, 'LOC')]
"""

from __future__ import annotations

import bisect
import json
import re
from pathlib import Path
from typing import Any

from rasd.errors import InputError
from rasd.iob import is_proclitic
from rasd.schema import ENTITY_LABELS, SUB_EVENT_LABELS
from rasd.text import tokenize
from training.readers import describe_file_decode_error, iter_json_lines


class AnchorError(InputError):
    """A surface annotation that cannot be placed; the message names document and surface."""


_GAP = r"[\s\u00a0\u200b-\u200f\u2066-\u2069\ufeff]+"


def surface_pattern(surface: str) -> re.Pattern[str]:
    """A pattern for ``surface`` in which each space matches any run of (invisible) white space.

    Annotators type ordinary spaces; the text may hold a no-break space or a
    zero-width character between the same words.
    """
    return re.compile(_GAP.join(re.escape(part) for part in surface.split()))


def valid_occurrences(text: str, surface: str, words: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans where ``surface`` sits on word boundaries (proclitics allowed before its start)."""
    starts = [a for a, _ in words]
    ends = {b for _, b in words}
    found = []
    for m in surface_pattern(surface).finditer(text):
        pos, end = m.span()
        if end in ends:
            i = bisect.bisect_right(starts, pos) - 1  # the word that contains pos
            if i >= 0 and words[i][0] <= pos < words[i][1]:
                # At a word start, or inside a word after a proclitic run («بالضفة» → «الضفة»).
                if words[i][0] == pos or is_proclitic(text[words[i][0]:pos]):
                    found.append((pos, end))
    return found


def _anchor_layer(doc_id: str, text: str, items: list[Any], labels: tuple[str, ...],
                  layer: str, words: list[tuple[int, int]]) -> list[dict]:
    explicit: list[tuple[int, int, str]] = []
    implicit: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, list) or len(item) not in (2, 3) or not all(isinstance(x, str) for x in item[:2]):
            raise AnchorError(f"{doc_id}: {layer} item {item!r} is not [surface, label(, selector)]")
        surface, label = item[0], item[1]
        if label not in labels:
            raise AnchorError(f"{doc_id}: unknown {layer} label {label!r} for {surface!r}")
        if surface != surface.strip() or not surface:
            raise AnchorError(f"{doc_id}: {layer} surface {surface!r} is empty or has surrounding space")
        occ = valid_occurrences(text, surface, words)
        if not occ:
            where = "not found" if not surface_pattern(surface).search(text) else "found only inside other words"
            raise AnchorError(f"{doc_id}: {layer} surface {surface!r} ({label}) {where}")
        if len(item) == 2:
            implicit.append((surface, label))
            continue
        sel = item[2]
        if isinstance(sel, int) and not isinstance(sel, bool):
            sel = [sel]
        if isinstance(sel, list) and all(isinstance(k, int) for k in sel):
            for k in sel:
                if not 1 <= k <= len(occ):
                    raise AnchorError(f"{doc_id}: {layer} {surface!r} has {len(occ)} occurrence(s), "
                                      f"not a #{k}")
                explicit.append((*occ[k - 1], label))
        elif isinstance(sel, str):
            if not surface_pattern(sel).search(text):
                raise AnchorError(f"{doc_id}: context {sel!r} for {surface!r} not found")
            ctx_spans = [m.span() for m in surface_pattern(sel).finditer(text)]
            hits = [(p, q) for p, q in occ if any(c <= p and q <= d for c, d in ctx_spans)]
            if not hits:
                raise AnchorError(f"{doc_id}: {surface!r} does not occur on word boundaries in context {sel!r}")
            explicit.extend((p, q, label) for p, q in hits)
        else:
            raise AnchorError(f"{doc_id}: bad selector {sel!r} for {surface!r}")

    if layer == "entities":
        seen: dict[str, str] = {}
        for surface, label in implicit:
            if seen.setdefault(surface, label) != label:
                raise AnchorError(f"{doc_id}: entity surface {surface!r} is listed as {seen[surface]} and as "
                                  f"{label} for every occurrence; use selectors to say which is which")
    spans = sorted(set(explicit))
    # Every-occurrence items fill in longest first, skipping places already covered, so
    # «درعا» inside an annotated «ريف درعا الغربي» is not tagged again.
    # Incident triggers may carry two labels (one span naming two means of attack): an
    # occurrence is skipped only where a *different* span already covers it.
    covered = [(a, b) for a, b, _ in spans]
    for surface, label in sorted(implicit, key=lambda x: -len(x[0])):
        for p, q in valid_occurrences(text, surface, words):
            same = layer == "events" and (p, q) in covered and (p, q, label) not in spans
            if not same and any(a < q and p < b for a, b in covered):
                continue
            spans.append((p, q, label))
            covered.append((p, q))
    spans.sort()
    if layer == "entities":
        for (a1, b1, l1), (a2, b2, l2) in zip(spans, spans[1:]):
            if a2 < b1:
                raise AnchorError(f"{doc_id}: entity spans overlap: {text[a1:b1]!r} ({l1}) at {a1} "
                                  f"and {text[a2:b2]!r} ({l2}) at {a2}")
    return [{"start": a, "end": b, "label": lab} for a, b, lab in spans]


def anchor_document(doc: dict[str, Any], base_dir: Path | None = None) -> dict[str, Any]:
    """Turn one surface-annotated document into a SPEC document with offsets."""
    doc_id = str(doc.get("id", "?"))
    if "text" in doc:
        text = doc["text"]
    elif "text_file" in doc:
        path = (base_dir or Path.cwd()) / str(doc["text_file"])
        try:
            # Bytes, not read_text: a decoding error then names the line and byte at fault.
            text = path.read_bytes().decode("utf-8")
        except OSError as exc:
            raise AnchorError(f"{doc_id}: text_file {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise AnchorError(f"{doc_id}: text_file {path}: {describe_file_decode_error(exc)}") from None
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as read_text gives
    else:
        raise AnchorError(f"{doc_id}: needs 'text' or 'text_file'")
    words = tokenize(text)
    return {
        "id": doc_id,
        "text": text,
        "entities": _anchor_layer(doc_id, text, doc.get("entities", []), ENTITY_LABELS,
                                  "entities", words),
        "events": _anchor_layer(doc_id, text, doc.get("events", []), SUB_EVENT_LABELS,
                                "events", words),
        "meta": doc.get("meta", {}),
    }


def anchor_file(path: Path, out: Path) -> int:
    """Anchor every document of ``path`` (JSONL) into ``out``; returns the document count."""
    docs = []
    for lineno, raw in iter_json_lines(path):
        try:
            docs.append(anchor_document(raw, path.parent))
        except AnchorError as exc:
            raise AnchorError(f"{path}:{lineno}: {exc}") from None
    with out.open("w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    return len(docs)
