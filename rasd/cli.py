"""The ``rasd`` command line: ``predict``, ``info`` and ``schema``.

Example:
    rasd predict --model runs/tiny/model seeds/*.txt > predictions.jsonl
    rasd predict --model runs/tiny/model seeds/ --format html --out seeds.html
    rasd info --model runs/tiny/model
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from rasd import __version__, schema
from rasd.errors import InputError

CHUNK = 64  # documents per engine run: batches across documents, bounded memory for huge inputs


def _cmd_schema(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps({
            "schema_version": schema.SCHEMA_VERSION,
            "entity_types": [t.__dict__ for t in schema.ENTITY_TYPES],
            "event_types": [t.__dict__ for t in schema.EVENT_TYPES],
            "sub_event_types": [t.__dict__ for t in schema.SUB_EVENT_TYPES],
        }, ensure_ascii=False, indent=2))
        return 0
    print(f"rasd label schema v{schema.SCHEMA_VERSION}\n\nentity types:")
    for t in schema.ENTITY_TYPES:
        print(f"  {t.id:<7} {t.name_ar:<8} {t.definition}")
    print("\nincident types (ACLED event type → sub-event types):")
    for ev in schema.EVENT_TYPES:
        print(f"  {ev.id} ({ev.name_ar})")
        for sub in schema.SUB_EVENT_TYPES:
            if sub.event_type == ev.id:
                print(f"    {sub.id:<36} {sub.name_ar}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from rasd.loading import read_config
    from rasd.modeling import THRESHOLD_SOURCES

    config = read_config(args.model, args.revision)
    info = {
        "model": args.model, "schema_version": config.schema_version, "base_model": config.base_model,
        "encoder": config.encoder.model_type, "max_length": config.max_length, "stride": config.stride,
        "entity_labels": config.entity_labels, "tags": config.tags, "normalization": config.normalization,
        "incident_thresholds": dict(zip(config.incident_labels, config.incident_thresholds)),
        "incident_threshold_sources": (dict(zip(config.incident_labels, config.incident_threshold_sources))
                                       if config.incident_threshold_sources else None),
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    for key in ("model", "schema_version", "base_model", "encoder", "max_length", "stride"):
        print(f"{key}: {info[key]}")
    print(f"entity labels: {', '.join(config.entity_labels)}")
    print(f"tags: {' '.join(config.tags)}")
    print("normalization: " + ", ".join(f"{k}={v}" for k, v in config.normalization.items()))
    sources = config.incident_threshold_sources or ["not recorded"] * len(config.incident_labels)
    print("incident types (event type, threshold, where the threshold came from):")
    for label, event, th, src in zip(config.incident_labels, config.incident_event_types, config.incident_thresholds,
                                     sources):
        print(f"  {label:<36} {event:<28} {th:.2f}  {THRESHOLD_SOURCES.get(src, src)}")
    return 0


def _inputs(paths: Sequence[str]) -> Iterator[tuple[str, Path | None]]:
    """(document id, path) for each input; '-' is standard input; folders give their *.txt, recursively."""
    for p in paths:
        if p == "-":
            yield "<stdin>", None
            continue
        path = Path(p)
        if path.is_dir():
            for f in sorted(path.rglob("*.txt")):
                yield str(f), f
        else:
            yield str(path), path


@dataclass
class _Failures:
    """What could not be read, counted per kind, each reported on standard error as it happens."""

    files: int = 0
    lines: int = 0

    def report(self, where: str, exc: BaseException, line: bool = False) -> None:
        if line:
            self.lines += 1
        else:
            self.files += 1
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"error: {where}: {type(exc).__name__}: {reason}", file=sys.stderr)

    def __bool__(self) -> bool:
        return bool(self.files or self.lines)


def _jsonl_documents(doc_id: str, path: Path, failures: _Failures) -> Iterator[tuple[str, str]]:
    """The documents of a JSON Lines file, one line at a time: memory is bounded by a line.

    A bad line is reported with its own number and skipped (counted); the rest still come.
    """
    from rasd.lines import iter_text_lines

    for n, line in iter_text_lines(path):
        where = f"{doc_id}:{n}"
        if isinstance(line, UnicodeDecodeError):
            failures.report(where, line, line=True)
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise ValueError("expected an object with a 'text' string")
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            failures.report(where, exc, line=True)
            continue
        yield str(obj.get("id", where)), obj["text"]


def _documents(inputs: Sequence[tuple[str, Path | None]], failures: _Failures,
               advance: Callable[[], None]) -> Iterator[tuple[str, str]]:
    """(id, text) of every input in order: text files whole, JSON Lines line by line, stdin."""
    for doc_id, path in inputs:
        try:
            if path is None:
                yield doc_id, sys.stdin.buffer.read().decode("utf-8")
            elif path.suffix == ".jsonl":
                yield from _jsonl_documents(doc_id, path, failures)
            else:
                yield doc_id, path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            failures.report(doc_id, exc)
        advance()


def _chunks(items: Iterator[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    chunk: list[tuple[str, str]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _write(fmt: str, docs: list[Any], out: TextIO, first: bool) -> None:
    """Write one chunk of documents; ``first`` says whether any came before (JSON array commas)."""
    if fmt == "jsonl":
        for d in docs:
            out.write(json.dumps(d.to_dict(), ensure_ascii=False) + "\n")
    elif fmt == "json":  # streamed as one array, so it too needs no more memory than a chunk
        for k, d in enumerate(docs):
            out.write(("[\n" if first and k == 0 else ",\n") + json.dumps(d.to_dict(), ensure_ascii=False, indent=2))
    elif fmt == "conll":
        from rasd.iob import spans_to_tags
        from rasd.text import segment

        for d in docs:
            out.write(f"# id = {d.id}\n")
            spans = [(e.start, e.end, e.label) for e in d.entities]
            for sent in segment(d.text):
                inside = [s for s in spans if sent.start <= s[0] < sent.end]
                for (a, b), tag in zip(sent.words, spans_to_tags(sent.words, inside)):
                    out.write(f"{d.text[a:b]}\t{tag}\t{a}\t{b}\n")
                out.write("\n")


def _check_out(path: str | None) -> None:
    """An InputError naming ``--out`` when it cannot be a file to write."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise InputError(f"--out {path}: is a folder; give a file name")
    if not target.parent.is_dir():
        raise InputError(f"--out {path}: the folder {target.parent} does not exist")


def _open_out(path: str | None) -> TextIO:
    """The output stream: standard output without ``--out``."""
    if path is None:
        return sys.stdout
    _check_out(path)
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write ({exc.strerror})") from None


def _cmd_predict(args: argparse.Namespace) -> int:
    from transformers.utils import logging as hf_logging

    from rasd.extractor import Extractor

    hf_logging.disable_progress_bar()
    inputs = list(_inputs(args.inputs or ["-"]))
    _check_out(args.out)  # before the model loads: a bad --out fails at once, not after it
    extractor = Extractor.from_pretrained(args.model, device=args.device, dtype=args.dtype,
                                          batch_size=args.batch_size, context=args.context)
    out = _open_out(args.out)
    try:
        failures = _Failures()
        bar = None
        if len(inputs) > 1 and not args.quiet:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(inputs), unit="file", file=sys.stderr)
        written, collected = 0, []
        try:
            for chunk in _chunks(_documents(inputs, failures, bar.update if bar else lambda: None), CHUNK):
                docs = extractor([t for _, t in chunk], ids=[i for i, _ in chunk])
                if args.format == "html":  # one page: the documents are kept until it is written
                    collected.extend(docs)
                else:
                    _write(args.format, docs, out, first=written == 0)
                written += len(docs)
        finally:
            if bar is not None:
                bar.close()
        if args.format == "json":
            out.write("\n]\n" if written else "[]\n")
        elif args.format == "html":
            from rasd.html_view import render_html

            out.write(render_html(collected))
    finally:
        if out is not sys.stdout:
            out.close()
    if failures:
        parts = [f"{n} {what}" for n, what in ((failures.files, "input file(s)"), (failures.lines, "JSONL line(s)"))
                 if n]
        print(f"{' and '.join(parts)} failed; {written} document(s) written", file=sys.stderr)
    return 1 if failures else 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return number


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rasd", description="Arabic news → incidents, entities and events.")
    parser.add_argument("--version", action="version", version=f"rasd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="extract from text files, folders (*.txt), JSONL or standard input")
    p.add_argument("inputs", nargs="*", help="files, folders or '-' (default: standard input)")
    p.add_argument("--model", required=True, help="a rasd model folder or Hub id")
    p.add_argument("--format", choices=["jsonl", "json", "conll", "html"], default="jsonl")
    p.add_argument("--out", help="output file (default: standard output)")
    p.add_argument("--batch-size", type=_positive, help="windows per forward pass (default: 4 on CPU, 32 on GPU)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 … (default: CUDA when available)")
    p.add_argument("--dtype", choices=["float32", "bfloat16", "float16", "int8", "auto"], default=None,
                   help="precision (default float32; int8 = dynamic quantisation on CPU)")
    p.add_argument("--context", type=_non_negative, help="sub-tokens of preceding context per window "
                                               "(default: an eighth of the model's window)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("info", help="print a model's labels, schema version, base model and thresholds")
    p.add_argument("--model", required=True)
    p.add_argument("--revision")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("schema", help="print the entity types and the ACLED incident taxonomy")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=_cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from rasd.errors import run_command

    args = build_parser().parse_args(argv)
    return run_command(lambda: args.func(args))
