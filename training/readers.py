"""Readers: SPEC JSONL, CoNLL/BIO column files and Label Studio exports → documents.

Each reader maps labels through a :class:`~training.label_maps.LabelMap` and
records every problem in a :class:`~training.documents.Problems` log with the
file and line (or task) it comes from, invalid UTF-8 included, and reads on. Text
files are read line by line through one reader, :func:`iter_text_lines`. Offsets
are checked later, in one place (:mod:`training.validation`).

Example:
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "toy_train.txt"
    >>> _ = f.write_text("قصف O\\nدرعا B-LOC\\n\\n", encoding="utf-8")
    >>> p = Problems()
    >>> [d] = read_conll(f, load_label_map("anercorp"), p)
    >>> d.text, d.entities, d.split
    ('قصف درعا', [LabelledSpan(start=4, end=8, label='LOC')], 'train')
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rasd.errors import InputError
from rasd.lines import describe_decode_error, iter_text_lines
from rasd.schema import ENTITY_LABELS
from rasd.text import Segment
from training.documents import AnnotatedDocument, LabelledSpan, Problems
from training.label_maps import LabelMap, UnknownLabelError, load_label_map

_SPLIT_WORDS = {"train": "train", "trn": "train", "training": "train",
                "dev": "validation", "val": "validation", "valid": "validation",
                "validation": "validation", "test": "test", "tst": "test"}


def split_from_name(path: Path) -> str | None:
    """The split a file's name declares (``ANERcorp_camel_train.txt`` → ``train``), if any."""
    for word in re.split(r"[^a-z]+", path.stem.lower()):
        if word in _SPLIT_WORDS:
            return _SPLIT_WORDS[word]
    return None


def _map_span(start: int, end: int, label: str, lmap: LabelMap, where: str, problems: Problems,
              layer: str | None = None) -> LabelledSpan | None:
    """The span in schema labels; None (with the reason logged) when unknown or ignored."""
    try:
        mapped = lmap.map_label(label)
    except UnknownLabelError as exc:
        problems.error(f"{where}: {exc} (span {start}-{end})")
        return None
    if mapped is None:
        problems.warn(f"ignored_label:{label}", f"{where}: span {start}-{end} labelled {label!r}")
        return None
    # A label must sit in its own layer: an incident type under "entities" is a mistake,
    # not something to move silently.
    if layer == "entities" and mapped not in ENTITY_LABELS:
        problems.error(f"{where}: incident label {label!r} under 'entities' (span {start}-{end})")
        return None
    if layer == "events" and mapped in ENTITY_LABELS:
        problems.error(f"{where}: entity label {label!r} under 'events' (span {start}-{end})")
        return None
    return LabelledSpan(start, end, mapped)


def _append(spans: tuple[list[LabelledSpan], list[LabelledSpan]], span: LabelledSpan | None) -> None:
    if span is not None:
        (spans[0] if span.label in ENTITY_LABELS else spans[1]).append(span)


# ---------------------------------------------------------------- SPEC JSONL

_DOC_KEYS = {"id", "text", "entities", "events", "meta"}


def _parse_spec_span(raw: Any, text: str, where: str, problems: Problems) -> tuple[int, int, str] | None:
    if not isinstance(raw, dict) or not {"start", "end", "label"} <= set(raw):
        problems.error(f"{where}: a span must be an object with start, end and label, got {raw!r}")
        return None
    start, end, label = raw["start"], raw["end"], raw["label"]
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)) or not isinstance(label, str):
        problems.error(f"{where}: span {raw!r} needs integer start/end and a string label")
        return None
    extra = set(raw) - {"start", "end", "label", "text"}
    if extra:
        problems.error(f"{where}: span {start}-{end} has unknown key(s) {sorted(extra)}")
        return None
    if "text" in raw and 0 <= start <= end <= len(text) and raw["text"] != text[start:end]:
        problems.error(f"{where}: span {start}-{end} says {raw['text']!r} but the text there is "
                       f"{text[start:end]!r} (offsets computed on another text?)")
        return None
    return start, end, label


def describe_file_decode_error(exc: UnicodeDecodeError) -> str:
    """``line N: invalid UTF-8 (…)`` for an error from decoding a whole file's bytes at once."""
    line = exc.object.count(b"\n", 0, exc.start) + 1
    return f"line {line}: {describe_decode_error(exc, 'the file')}"


def iter_json_lines(path: Path, problems: Problems | None = None) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed object)`` for each non-blank line of a JSON Lines file.

    Without ``problems`` a line that is not UTF-8 or not JSON is fatal (an :class:`InputError`
    naming file and line), for tools that read one file whole (evaluation, anchoring). With
    it, each such line is logged there and skipped, so the corpus builder collects every
    problem of a corpus before stopping.

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"
        >>> _ = f.write_text('{"id": 1}\\n\\n{oops\\n[2]\\n', encoding="utf-8")
        >>> p = Problems()
        >>> list(iter_json_lines(f, p)), [e.split(": ", 1)[1] for e in p.errors]
        ([(1, {'id': 1}), (4, [2])], ['invalid JSON (Expecting property name enclosed in double quotes at column 2)'])
    """
    for lineno, line in iter_text_lines(path):
        where = f"{path}:{lineno}"
        if isinstance(line, UnicodeDecodeError):
            message = f"{where}: {describe_decode_error(line)}"
        elif not line.strip():
            continue
        else:
            try:
                yield lineno, json.loads(line)
                continue
            except json.JSONDecodeError as exc:
                message = f"{where}: invalid JSON ({exc.msg} at column {exc.colno})"
        if problems is None:
            raise InputError(message)
        problems.error(message)


def read_jsonl(path: Path, lmap: LabelMap, problems: Problems) -> list[AnnotatedDocument]:
    """Read SPEC §1 JSON Lines (one annotated document a line)."""
    docs = []
    for lineno, raw in iter_json_lines(path, problems):
        where = f"{path}:{lineno}"
        if not isinstance(raw, dict):
            problems.error(f"{where}: expected a JSON object, got {type(raw).__name__}")
            continue
        unknown = set(raw) - _DOC_KEYS
        missing = {"id", "text"} - set(raw)
        if unknown or missing:
            what = f"unknown key(s) {sorted(unknown)}" if unknown else f"missing key(s) {sorted(missing)}"
            problems.error(f"{where}: {what}")
            continue
        doc_id, text = raw["id"], raw["text"]
        if not isinstance(doc_id, str) or not doc_id or not isinstance(text, str):
            problems.error(f"{where}: 'id' must be a non-empty string and 'text' a string")
            continue
        where = f"{where} (document {doc_id})"
        spans: tuple[list[LabelledSpan], list[LabelledSpan]] = ([], [])
        for layer in ("entities", "events"):
            items = raw.get(layer, [])
            if not isinstance(items, list):
                problems.error(f"{where}: '{layer}' must be a list")
                continue
            for item in items:
                parsed = _parse_spec_span(item, text, f"{where} {layer}", problems)
                if parsed is not None:
                    _append(spans, _map_span(*parsed, lmap, f"{where} {layer}", problems, layer))
        meta = raw.get("meta", {})
        if not isinstance(meta, dict):
            problems.error(f"{where}: 'meta' must be an object")
            meta = {}
        docs.append(AnnotatedDocument(doc_id, text, spans[0], spans[1],
                                      source=str(meta.get("source", lmap.name)), origin=where, meta=meta))
    return docs


# ---------------------------------------------------------------- Label Studio


def _read_json_file(path: Path, problems: Problems) -> Any | None:
    """A whole JSON file, or None with the reason (bad UTF-8 with its line and byte, bad JSON) logged."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.error(f"{path}: {describe_file_decode_error(exc)}")
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problems.error(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})")
        return None


def _labelstudio_spans(results: list[Any], text: str, lmap: LabelMap, where: str,
                       problems: Problems) -> tuple[list[LabelledSpan], list[LabelledSpan]]:
    """Entities and incidents of one annotation's ``result`` list; malformed items are logged."""
    spans: tuple[list[LabelledSpan], list[LabelledSpan]] = ([], [])
    for k, result in enumerate(results):
        if not isinstance(result, dict):
            problems.error(f"{where}: result #{k} is not an object ({result!r})")
            continue
        name = f"#{k}" if "id" not in result else repr(result["id"])
        if result.get("type") != "labels":
            continue
        value = result.get("value")
        if not isinstance(value, dict):
            problems.error(f"{where}: result {name}: 'value' is not an object ({value!r})")
            continue
        labels = value.get("labels")
        start, end = value.get("start"), value.get("end")
        if (not isinstance(start, int) or not isinstance(end, int) or not isinstance(labels, list)
                or len(labels) != 1 or not isinstance(labels[0], str)):
            problems.error(f"{where}: result {name} needs integer start/end and exactly one label, got {value!r}")
            continue
        # Compared with white space collapsed: Label Studio's browser collapses runs of spaces in a
        # region's `text` while its offsets stay right (label-studio#3078), and offsets are what we keep.
        if ("text" in value and 0 <= start <= end <= len(text) and isinstance(value["text"], str)
                and value["text"].split() != text[start:end].split()):
            problems.error(f"{where}: result at {start}-{end} says {value['text']!r} but the "
                           f"text there is {text[start:end]!r}")
            continue
        _append(spans, _map_span(start, end, labels[0], lmap, where, problems))
    return spans


def read_labelstudio(path: Path, lmap: LabelMap, problems: Problems) -> list[AnnotatedDocument]:
    """Read a Label Studio JSON export: ``labels`` results become entities or incidents."""
    tasks = _read_json_file(path, problems)
    if tasks is None:
        return []
    if not isinstance(tasks, list):
        problems.error(f"{path}: expected a list of tasks (Label Studio 'JSON' export)")
        return []
    docs = []
    for n, task in enumerate(tasks):
        where = f"{path} task #{n}"
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            problems.error(f"{where}: no data.text string")
            continue
        text = data["text"]
        doc_id = str(data.get("id", f"ls-{task.get('id', n)}"))
        where = f"{where} (document {doc_id})"
        annotations = task.get("annotations", [])
        if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
            problems.error(f"{where}: 'annotations' must be a list of objects, got {annotations!r:.80}")
            continue
        annotations = [a for a in annotations if not a.get("was_cancelled")]
        if not annotations:
            problems.warn("labelstudio_task_without_annotation", where)
            continue
        if len(annotations) > 1:
            # Several annotators on one task: the first completed annotation is used.
            problems.warn("labelstudio_extra_annotations_unused", where, len(annotations) - 1)
        results = annotations[0].get("result", [])
        if not isinstance(results, list):
            problems.error(f"{where}: the annotation's 'result' must be a list, got {results!r:.80}")
            continue
        entities, events = _labelstudio_spans(results, text, lmap, where, problems)
        docs.append(AnnotatedDocument(doc_id, text, entities, events, source=lmap.name, origin=where,
                                      meta={k: v for k, v in data.items() if k not in ("text", "id")}))
    return docs


# ---------------------------------------------------------------- CoNLL


def _tag_spans(tags: list[str], where: list[str], column: int, problems: Problems) -> list[tuple[int, int, str]]:
    """Token-index spans of one IOB column; an ``I-`` that continues nothing opens a span."""
    spans, start, label = [], -1, ""
    for i, tag in enumerate(tags + ["O"]):
        prefix, _, typ = tag.partition("-")
        if tag != "O" and (prefix not in ("B", "I") or not typ):
            problems.error(f"{where[i]}: malformed tag {tag!r} in column {column + 1}")
            prefix, typ = "O", ""
        if prefix == "I" and not (start >= 0 and typ == label):
            problems.fix("iob2_repaired", f"{where[i]}: {tag} after {'O' if start < 0 else label} read as B-{typ}")
            prefix = "B"
        if prefix != "I" and start >= 0:
            spans.append((start, i, label))
            start = -1
        if prefix == "B":
            start, label = i, typ
    return spans


def _conll_blocks(path: Path, lmap: LabelMap,
                  problems: Problems) -> Iterator[tuple[bool, list[tuple[str, list[str], str]]]]:
    """Yield (is_docstart, [(token, [tags], where)]) sentences of a CoNLL file."""
    sentence: list[tuple[str, list[str], str]] = []
    for lineno, line in iter_text_lines(path):
        where = f"{path}:{lineno}"
        if isinstance(line, UnicodeDecodeError):
            problems.error(f"{where}: {describe_decode_error(line)}")
            continue
        cols = line.split()
        if not cols:
            if sentence:
                yield False, sentence
            sentence = []
            continue
        if cols[0] == "-DOCSTART-":
            if sentence:
                yield False, sentence
            sentence = []
            yield True, []
            continue
        if len(cols) < 2:
            problems.error(f"{where}: token {cols[0]!r} has no tag column")
            continue
        if cols[0] in lmap.drop_tokens:
            problems.fix(f"dropped_marker_token:{cols[0]}", where)
            continue
        tags = []
        for tag in cols[1:]:
            if tag in lmap.tag_fixes:
                problems.fix(f"tag_typo:{tag}", f"{where}: {tag} → {lmap.tag_fixes[tag]}")
                tag = lmap.tag_fixes[tag]
            tags.append(tag)
        sentence.append((cols[0], tags, where))
    if sentence:
        yield False, sentence


def read_conll(path: Path, lmap: LabelMap, problems: Problems) -> list[AnnotatedDocument]:
    """Read a CoNLL/BIO file (``token TAG [TAG…]``, blank line between sentences).

    The corpus's own sentences and tokens are kept. With several tag columns
    (nested NER) every column is read and the outermost span whose type maps onto
    the schema wins; inner spans it hides are counted.
    """
    groups: list[list[list[tuple[str, list[str], str]]]] = [[]]
    for is_docstart, sentence in _conll_blocks(path, lmap, problems):
        if is_docstart:
            if groups[-1]:
                groups.append([])
            continue
        if lmap.block_size and len(groups[-1]) == lmap.block_size:
            groups.append([])
        groups[-1].append(sentence)
    groups = [g for g in groups if g]
    split = split_from_name(path)
    docs = []
    for k, group in enumerate(groups):
        doc_id = path.stem if len(groups) == 1 else f"{path.stem}-{k:05d}"
        segmentation: list[Segment] = []
        entities: list[LabelledSpan] = []
        events: list[LabelledSpan] = []
        pos = 0
        for sentence in group:
            offsets = []
            for token, _, _ in sentence:
                offsets.append((pos, pos + len(token)))
                pos += len(token) + 1
            segmentation.append(Segment(offsets[0][0], offsets[-1][1], tuple(offsets)))
            where = [w for _, _, w in sentence]
            ncols = max(len(t) for _, t, _ in sentence)
            candidates = []
            for col in range(ncols):
                tags = [t[col] if col < len(t) else "O" for _, t, _ in sentence]
                for a, b, label in _tag_spans(tags, where, col, problems):
                    span = _map_span(offsets[a][0], offsets[b - 1][1], label, lmap, where[a], problems)
                    if span is not None:
                        candidates.append((col, span, where[a]))
            # Outermost (longest, then shallowest column) first; a span overlapping one
            # already kept is a nested entity this flat schema cannot hold.
            kept: list[LabelledSpan] = []
            for _, span, w in sorted(candidates, key=lambda c: (c[1].start - c[1].end, c[0], c[1].start)):
                if any(s.start < span.end and span.start < s.end for s in kept):
                    problems.fix("nested_span_dropped", f"{w}: {span.label} span inside another entity")
                    continue
                kept.append(span)
            for span in sorted(kept):
                (entities if span.label in ENTITY_LABELS else events).append(span)
        # Tokens joined by a space, sentences by a newline: one character each, as counted above.
        text = "\n".join(" ".join(tok for tok, _, _ in sentence) for sentence in group)
        docs.append(AnnotatedDocument(doc_id, text, entities, events, source=lmap.name,
                             origin=f"{path} (document {doc_id})", split=split,
                             segmentation=segmentation))
    return docs


READERS = {"jsonl": read_jsonl, "labelstudio": read_labelstudio, "conll": read_conll}


def detect_format(path: Path) -> str:
    """The input format a path suggests: ``.jsonl`` → jsonl, ``.json`` → labelstudio, else conll."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return "jsonl"
    if suffix == ".json":
        return "labelstudio"
    return "conll"


__all__ = ["READERS", "describe_decode_error", "describe_file_decode_error", "detect_format", "iter_json_lines",
           "iter_text_lines", "load_label_map", "read_conll", "read_jsonl", "read_labelstudio", "split_from_name"]
