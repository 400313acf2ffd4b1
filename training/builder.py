"""The dataset builder: annotated documents → a Hugging Face ``DatasetDict`` of sentences.

Every input goes through one path: read (:mod:`training.readers`), validate and
fix (:mod:`training.validation`), split by document, segment with the shared
text layer, and turn spans into word-level IOB2 tags and sentence-level
incident multi-hots. The result records, per example, which entity types its
source annotates, so the trainer can treat the others as unknown rather than O.

Example:
    >>> result = build([InputSpec(Path("seeds/annotations.jsonl"))])  # doctest: +SKIP
    >>> result.dataset["train"].features["ner_tags"].feature.names[:3]  # doctest: +SKIP
    ['O', 'B-PER', 'I-PER']
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasd.errors import InputError
from rasd.iob import SpanConflictError, spans_to_tags
from rasd.schema import ENTITY_LABELS, EVENT_LABELS, IOB2_TAGS, SCHEMA_VERSION, SUB_EVENT_LABELS, event_type_of
from rasd.text import Segment
from training.documents import AnnotatedDocument, DataError, Problems
from training.label_maps import LabelMap, detect_label_map, load_label_map
from training.readers import READERS, detect_format
from training.validation import assign_sentences, validate_corpus

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class InputSpec:
    """One input: a file or folder, its format and label map (None: detected from the path)."""

    path: Path
    format: str | None = None
    label_map: str | None = None


@dataclass(frozen=True)
class BuildOptions:
    """How documents without a split of their own are divided (by document, seeded)."""

    dev_ratio: float = 0.1
    test_ratio: float = 0.1
    seed: int = 13

    def __post_init__(self) -> None:
        if not (0 <= self.dev_ratio < 1 and 0 <= self.test_ratio < 1 and self.dev_ratio + self.test_ratio < 1):
            raise InputError(f"dev_ratio {self.dev_ratio} and test_ratio {self.test_ratio} must be in [0, 1) "
                             "and sum to less than 1")


@dataclass(frozen=True)
class BuildResult:
    """The built dataset, its summary (counts, sources, problems) and the problem log."""

    dataset: Any  # datasets.DatasetDict (imported lazily)
    summary: dict[str, Any]
    problems: Problems


def features() -> Any:
    """The explicit ``datasets.Features`` of a built dataset."""
    import datasets as ds

    return ds.Features({
        "id": ds.Value("string"),
        "doc_id": ds.Value("string"),
        "sentence_index": ds.Value("int32"),
        "source": ds.Value("string"),
        "text": ds.Value("string"),
        "sentence_start": ds.Value("int64"),
        "tokens": ds.Sequence(ds.Value("string")),
        "token_starts": ds.Sequence(ds.Value("int32")),
        "token_ends": ds.Sequence(ds.Value("int32")),
        "ner_tags": ds.Sequence(ds.ClassLabel(names=list(IOB2_TAGS))),
        "entity_types_annotated": ds.Sequence(ds.Value("bool"), length=len(ENTITY_LABELS)),
        "incidents_annotated": ds.Value("bool"),
        "incident_labels": ds.Sequence(ds.Value("int8"), length=len(SUB_EVENT_LABELS)),
        "event_type_labels": ds.Sequence(ds.Value("int8"), length=len(EVENT_LABELS)),
    })


_EXTENSIONS = {"jsonl": (".jsonl",), "labelstudio": (".json",),
               "conll": (".txt", ".conll", ".conllu", ".tsv", ".bio", ".iob", ".iob2")}


def _expand(spec: InputSpec, problems: Problems) -> list[Path]:
    """The data files an input names; a folder's other files (licences, READMEs) are skipped, counted."""
    if not spec.path.exists():
        raise DataError(f"{spec.path}: no such file or directory")
    if not spec.path.is_dir():
        return [spec.path]
    wanted = _EXTENSIONS[spec.format] if spec.format else tuple(e for v in _EXTENSIONS.values() for e in v)
    files = []
    for p in sorted(spec.path.rglob("*")):
        if not p.is_file() or p.name.startswith("."):
            continue
        if p.suffix.lower() in wanted:
            files.append(p)
        else:
            problems.warn("skipped_non_data_file", f"{p}: not a {'/'.join(wanted)} file")
    if not files:
        raise DataError(f"{spec.path}: no data files ({', '.join(wanted)}) in this folder")
    return files


def load_documents(inputs: Sequence[InputSpec],
                   problems: Problems) -> tuple[list[AnnotatedDocument], dict[str, LabelMap]]:
    """Read every input; returns documents and, per source name, its label map.

    Every input named must give documents: a file that gives none (empty, only blank lines)
    is an error naming it, and so is a folder none of whose files gives any. Inside a folder
    that gives some, a file without documents is only warned about (``file_without_documents``,
    each named), since a corpus folder may hold an empty split or placeholder.
    """
    docs: list[AnnotatedDocument] = []
    maps: dict[str, LabelMap] = {}
    for spec in inputs:
        paths = _expand(spec, problems)
        errors_before, read = len(problems.errors), 0
        for path in paths:
            fmt = spec.format or detect_format(path)
            if fmt not in READERS:
                raise DataError(f"{path}: unknown format {fmt!r} (choose from {', '.join(READERS)})")
            name = spec.label_map or (detect_label_map(path) if fmt == "conll" else "spec")
            if name is None:
                raise DataError(f"{path}: CoNLL input needs --label-map (a YAML file, or one of the "
                                "built-in maps for known corpora)")
            lmap = load_label_map(name)
            file_errors, n = len(problems.errors), 0
            for doc in READERS[fmt](path, lmap, problems):
                known = maps.setdefault(doc.source, lmap)
                if known != lmap:
                    raise DataError(f"{doc.origin}: source '{doc.source}' is read with label map "
                                    f"'{lmap.name}' here and '{known.name}' elsewhere")
                docs.append(doc)
                n += 1
            read += n
            # A file whose every line was bad has its errors already; this is for the silent case.
            if n == 0 and len(problems.errors) == file_errors:
                empty = f"{path}: no documents in this {fmt} file (it is empty or holds only blank lines)"
                if len(paths) > 1:
                    problems.warn("file_without_documents", empty)
                else:
                    problems.error(empty)
        if read == 0 and len(paths) > 1 and len(problems.errors) == errors_before:
            problems.error(f"{spec.path}: no documents in any of its {len(paths)} data files")
    return docs, maps


def _rank(seed: int, doc_id: str) -> str:
    # A hash, not a shuffled list: a document's split does not depend on input order.
    return hashlib.sha256(f"{seed}:{doc_id}".encode()).hexdigest()


def _count(n: int, ratio: float) -> int:
    if ratio <= 0:
        return 0
    return max(1, round(n * ratio)) if n >= 3 else 0


def assign_splits(docs: Sequence[AnnotatedDocument], options: BuildOptions, problems: Problems) -> dict[str, str]:
    """AnnotatedDocument id → split. A corpus's own split is kept; the rest is divided by document.

    A source that has its own train/test files but no validation file lends
    ``dev_ratio`` of its train documents to validation (its test stays untouched).
    """
    by_source: dict[str, list[AnnotatedDocument]] = {}
    for d in docs:
        by_source.setdefault(d.source, []).append(d)
    split_of: dict[str, str] = {}
    for source, group in sorted(by_source.items()):
        own = [d for d in group if d.split]
        rest = sorted((d for d in group if not d.split), key=lambda d: _rank(options.seed, d.id))
        for d in own:
            split_of[d.id] = d.split  # type: ignore[assignment]
        if own and not any(d.split == "validation" for d in own) and options.dev_ratio > 0:
            train = sorted((d for d in own if d.split == "train"), key=lambda d: _rank(options.seed, d.id))
            carved = train[:_count(len(train), options.dev_ratio)]
            for d in carved:
                split_of[d.id] = "validation"
            if carved:
                problems.warn("validation_carved_from_train",
                              f"source '{source}': {len(carved)} of {len(train)} train documents "
                              "moved to validation (it has no validation file)", len(carved))
        n_test, n_dev = _count(len(rest), options.test_ratio), _count(len(rest), options.dev_ratio)
        for i, d in enumerate(rest):
            split_of[d.id] = "test" if i < n_test else "validation" if i < n_test + n_dev else "train"
    return split_of


def document_examples(doc: AnnotatedDocument, lmap: LabelMap, problems: Problems,
                      sentences: Sequence[Segment] | None = None) -> list[dict[str, Any]]:
    """The sentence examples of one validated document.

    ``sentences`` (default: :func:`~training.validation.assign_sentences` of ``doc``) lets a
    prediction be cut exactly as its gold document was, so that example i of one is example
    i of the other; its entities must then lie each within one of them.
    """
    mask = [t in lmap.entity_types for t in ENTITY_LABELS]
    tag_id = {t: i for i, t in enumerate(IOB2_TAGS)}
    examples = []
    if sentences is None:
        sentences = assign_sentences(doc, problems)
    for index, sent in enumerate(sentences):
        ents = [s for s in doc.entities if sent.start <= s.start < sent.end]
        try:
            tags = spans_to_tags(sent.words, ents)
        except SpanConflictError as exc:
            problems.error(f"{doc.origin}: {exc}")
            continue
        multi_hot = [0] * len(SUB_EVENT_LABELS)
        for ev in doc.events:
            if ev.start < sent.end and sent.start < ev.end:
                multi_hot[SUB_EVENT_LABELS.index(ev.label)] = 1
        coarse = [0] * len(EVENT_LABELS)
        for label, on in zip(SUB_EVENT_LABELS, multi_hot):
            if on:
                coarse[EVENT_LABELS.index(event_type_of(label))] = 1
        examples.append({
            "id": f"{doc.id}#{index}", "doc_id": doc.id, "sentence_index": index, "source": doc.source,
            "text": doc.text[sent.start:sent.end], "sentence_start": sent.start,
            "tokens": [doc.text[a:b] for a, b in sent.words],
            "token_starts": [a - sent.start for a, _ in sent.words],
            "token_ends": [b - sent.start for _, b in sent.words],
            "ner_tags": [tag_id[t] for t in tags],
            "entity_types_annotated": mask, "incidents_annotated": lmap.incidents,
            "incident_labels": multi_hot, "event_type_labels": coarse,
        })
    return examples


def _split_summary(docs: Sequence[AnnotatedDocument], examples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    ents = Counter(s.label for d in docs for s in d.entities)
    evs = Counter(s.label for d in docs for s in d.events)
    by_source: dict[str, Counter[str]] = {}
    for d in docs:
        by_source.setdefault(d.source, Counter())["documents"] += 1
    for ex in examples:
        c = by_source[ex["source"]]
        c["sentences"] += 1
        c["tokens"] += len(ex["tokens"])
    return {
        "documents": len(docs), "sentences": len(examples), "tokens": sum(len(e["tokens"]) for e in examples),
        "entities": {t: ents[t] for t in ENTITY_LABELS},
        "events": {t: evs[t] for t in SUB_EVENT_LABELS if evs[t]},
        "event_mentions": sum(evs.values()),
        "sentences_with_incidents": sum(1 for e in examples if any(e["incident_labels"])),
        "by_source": {k: dict(v) for k, v in sorted(by_source.items())},
    }


def build(inputs: Sequence[InputSpec], options: BuildOptions = BuildOptions()) -> BuildResult:
    """Read, validate, split and convert ``inputs`` into a DatasetDict.

    Raises:
        DataError: listing every fatal problem, each with its file, line or document and span
            (an input that gives no documents at all is one, see :func:`load_documents`).
    """
    import datasets as ds

    problems = Problems()
    raw_docs, maps = load_documents(inputs, problems)
    docs = validate_corpus(raw_docs, {k: m.entity_types for k, m in maps.items()}, problems)
    problems.raise_if_errors()
    split_of = assign_splits(docs, options, problems)
    per_split: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    docs_per_split: dict[str, list[AnnotatedDocument]] = {s: [] for s in SPLITS}
    for doc in sorted(docs, key=lambda d: (d.source, d.id)):
        split = split_of[doc.id]
        docs_per_split[split].append(doc)
        per_split[split].extend(document_examples(doc, maps[doc.source], problems))
    problems.raise_if_errors()
    feats = features()
    info = ds.DatasetInfo(description=f"rasd annotated sentences, schema v{SCHEMA_VERSION}", features=feats)
    # Column-wise, so that an empty split (a test file built alone has no train rows) still
    # gets its explicit features.
    dataset = ds.DatasetDict({
        split: ds.Dataset.from_dict({k: [r[k] for r in rows] for k in feats}, features=feats, info=info.copy(),
                                    split=split)
        for split, rows in per_split.items() if rows or split == "train"
    })
    summary = {
        "schema_version": SCHEMA_VERSION,
        "inputs": [{"path": str(i.path), "format": i.format, "label_map": i.label_map} for i in inputs],
        "options": {"dev_ratio": options.dev_ratio, "test_ratio": options.test_ratio, "seed": options.seed},
        "sources": {name: {"label_map": m.name, "entity_types": list(m.entity_types), "incidents": m.incidents,
                           "license": m.license, "citation": m.citation,
                           "description": m.description} for name, m in sorted(maps.items())},
        "splits": {s: _split_summary(docs_per_split[s], per_split[s]) for s in SPLITS},
        "problems": problems.to_dict(),
    }
    return BuildResult(dataset, summary, problems)


def save(dataset: Any, summary: dict[str, Any], out: Path) -> None:
    """Save a DatasetDict with ``save_to_disk`` and its ``summary.json`` beside it."""
    dataset.save_to_disk(str(out))
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True)
                                      + "\n", encoding="utf-8")


def format_summary(summary: dict[str, Any]) -> str:
    """A plain-text table of the summary's counts, per split, then fixes and warnings."""
    splits = [s for s in SPLITS if summary["splits"][s]["documents"]]
    rows: list[tuple[str, ...]] = [("", *splits, "total")]

    def row(name: str, values: list[int]) -> None:
        rows.append((name, *(f"{v:,}" for v in values), f"{sum(values):,}"))

    for key in ("documents", "sentences", "tokens"):
        row(key, [summary["splits"][s][key] for s in splits])
    for label in ENTITY_LABELS:
        row(f"entity {label}", [summary["splits"][s]["entities"][label] for s in splits])
    row("event mentions", [summary["splits"][s]["event_mentions"] for s in splits])
    for label in SUB_EVENT_LABELS:
        values = [summary["splits"][s]["events"].get(label, 0) for s in splits]
        if any(values):
            row(f"  {label}", values)
    row("sentences with incidents", [summary["splits"][s]["sentences_with_incidents"] for s in splits])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    sources = summary["sources"]
    lines.append("sources: " + "; ".join(
        f"{n} (types {','.join(s['entity_types'])}{', incidents' if s['incidents'] else ''})"
        for n, s in sources.items()))
    for title, key in (("fixed", "fixed"), ("warnings", "warnings")):
        items = summary["problems"][key]
        lines.append(f"{title}: " + (", ".join(f"{k}={v:,}" for k, v in items.items()) or "none"))
    return "\n".join(lines)
