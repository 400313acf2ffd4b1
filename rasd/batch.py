"""Batch runs for ``rasd predict``: documents streamed in, results streamed out, runs that resume.

Inputs are text files (one document each), folders (their ``*.txt``), JSON Lines (one
``{"id", "text", "date"}`` object per line), Parquet files (``text`` and optional ``id`` and
``date`` columns) and standard input. They are read lazily, a line or a Parquet batch at a time,
so memory is bounded by :data:`CHUNK` documents however large the input.

Outputs are written a chunk at a time too. ``--resume`` continues an interrupted run: the
documents already in the output are checked against the inputs, in order, and skipped, so every
document is written exactly once.

Example:
    >>> failures = Failures()
    >>> [d.id for d in iter_documents([], failures)]
    []
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from rasd.errors import InputError
from rasd.extractor import parse_document_date

if TYPE_CHECKING:
    from rasd.results import Document

CHUNK = 64  # documents per engine run: batches across documents, bounded memory for huge inputs
PART_DOCS = 8192  # documents per Parquet part file: each part is complete (readable) once closed
PARQUET_EXTRA = 'Parquet needs pyarrow: pip install "rasd[parquet]"'


@dataclass(frozen=True)
class InputDocument:
    """One document to extract from: its id, text and publication date (if known)."""

    id: str
    text: str
    date: date | None = None


@dataclass
class Failures:
    """What could not be read, counted per kind, each reported on standard error as it happens."""

    files: int = 0
    lines: int = 0
    on_line: Callable[[], None] = field(default=lambda: None, repr=False)

    def report(self, where: str, exc: BaseException, line: bool = False) -> None:
        if line:
            self.lines += 1
            self.on_line()
        else:
            self.files += 1
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"error: {where}: {type(exc).__name__}: {reason}", file=sys.stderr)

    def summary(self, written: int) -> str:
        counts = ((self.files, "input file(s)"), (self.lines, "JSONL line(s) or Parquet row(s)"))
        parts = [f"{n} {what}" for n, what in counts if n]
        return f"{' and '.join(parts)} failed; {written} document(s) written"

    def __bool__(self) -> bool:
        return bool(self.files or self.lines)


def expand_inputs(paths: Sequence[str]) -> list[tuple[str, Path | None]]:
    """(document id, path) for each input; '-' is standard input; folders give their *.txt, recursively."""
    out: list[tuple[str, Path | None]] = []
    for p in paths:
        if p == "-":
            out.append(("<stdin>", None))
            continue
        path = Path(p)
        if path.is_dir():
            out.extend((str(f), f) for f in sorted(path.rglob("*.txt")))
        else:
            out.append((str(path), path))
    return out


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401  (the submodule is what the callers use)
    except ImportError:
        raise InputError(PARQUET_EXTRA) from None
    return pyarrow


def _record(obj: Any, where: str, default_date: date | None) -> InputDocument:
    """An input document from one JSON object or Parquet row; ValueError (an InputError) when malformed."""
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise ValueError("expected an object with a 'text' string")
    raw_date = obj.get("date")
    doc_date = parse_document_date(raw_date, f"{where}: date") if raw_date is not None else default_date
    doc_id = obj.get("id")
    return InputDocument(where if doc_id is None else str(doc_id), obj["text"], doc_date)


def _jsonl_documents(doc_id: str, path: Path, failures: Failures,
                     default_date: date | None) -> Iterator[InputDocument]:
    """The documents of a JSON Lines file, one line at a time; a bad line is reported and counted."""
    from rasd.lines import iter_text_lines

    for n, line in iter_text_lines(path):
        where = f"{doc_id}:{n}"
        if isinstance(line, UnicodeDecodeError):
            failures.report(where, line, line=True)
            continue
        if not line.strip():
            continue
        try:
            yield _record(json.loads(line), where, default_date)
        except ValueError as exc:  # json.JSONDecodeError and InputError are ValueErrors
            failures.report(where, exc, line=True)


def _parquet_documents(doc_id: str, path: Path, failures: Failures,
                       default_date: date | None) -> Iterator[InputDocument]:
    """The rows of a Parquet file, a record batch at a time; rows are numbered from 1 in messages."""
    pa = _pyarrow()
    try:
        reader = pa.parquet.ParquetFile(path)
    except pa.ArrowException as exc:
        raise OSError(0, f"not a readable Parquet file ({exc})") from None
    columns = [c for c in ("id", "text", "date") if c in reader.schema_arrow.names]
    if "text" not in columns:
        raise OSError(0, f"no 'text' column (columns: {', '.join(reader.schema_arrow.names)})")
    row = 0
    for batch in reader.iter_batches(batch_size=CHUNK, columns=columns):
        for obj in batch.to_pylist():
            row += 1
            try:
                yield _record(obj, f"{doc_id}:row {row}", default_date)
            except ValueError as exc:
                failures.report(f"{doc_id}:row {row}", exc, line=True)


def iter_documents(inputs: Sequence[tuple[str, Path | None]], failures: Failures,
                   default_date: date | None = None) -> Iterator[InputDocument]:
    """Every input document in order: text files whole, JSON Lines line by line, Parquet by batches, stdin.

    ``default_date`` is the publication date of documents that do not carry their own ``date``.
    A file that cannot be read is reported (counted in ``failures``) and the rest still come.
    """
    for doc_id, path in inputs:
        try:
            if path is None:
                yield InputDocument(doc_id, sys.stdin.buffer.read().decode("utf-8"), default_date)
            elif path.suffix == ".jsonl":
                yield from _jsonl_documents(doc_id, path, failures, default_date)
            elif path.suffix == ".parquet":
                yield from _parquet_documents(doc_id, path, failures, default_date)
            else:
                yield InputDocument(doc_id, path.read_bytes().decode("utf-8"), default_date)
        except (OSError, UnicodeDecodeError) as exc:
            failures.report(doc_id, exc)


def count_documents(inputs: Sequence[tuple[str, Path | None]]) -> int | None:
    """How many documents the inputs hold (non-blank JSONL lines, Parquet rows), for a progress bar's ETA.

    ``None`` when it cannot be known in advance (standard input). Unreadable files count as one:
    they are reported when they are read.
    """
    total = 0
    for _, path in inputs:
        if path is None:
            return None
        try:
            if path.suffix == ".jsonl":
                with open(path, "rb") as f:  # bytes: a quick pass, no decoding
                    total += sum(1 for line in f if line.strip())
            elif path.suffix == ".parquet":
                total += _pyarrow().parquet.ParquetFile(path).metadata.num_rows
            else:
                total += 1
        except (OSError, Exception):  # noqa: B014  (any failure here is reported properly by iter_documents)
            total += 1
    return total


def chunks(items: Iterable[InputDocument], size: int | None = None) -> Iterator[list[InputDocument]]:
    """Lists of up to ``size`` items (default :data:`CHUNK`, read at call time), in order."""
    size = size or CHUNK
    chunk: list[InputDocument] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def skip_done(documents: Iterable[InputDocument], done_ids: Iterable[str]) -> Iterator[InputDocument]:
    """The documents after those already written, checking in order that they are the same ones.

    A resumed run must see the same inputs in the same order: a mismatch is an error, never a
    silent duplicate or gap.
    """
    it = iter(documents)
    for k, done in enumerate(done_ids, 1):
        doc = next(it, None)
        if doc is None:
            raise InputError(f"--resume: the output has more documents than the inputs ({k - 1} input documents); "
                             "is it the output of another run?")
        if doc.id != done:
            raise InputError(f"--resume: document {k} of the output is {done!r} but input document {k} is "
                             f"{doc.id!r}: resume with the same inputs, in the same order")
    yield from it


# ---------------------------------------------------------------- writers


class Writer(Protocol):
    """Writes documents a chunk at a time; ``close`` finishes the output (array ends, file footers)."""

    def write(self, docs: Sequence[Document]) -> None: ...

    def close(self) -> None: ...


class JsonlWriter:
    """One JSON object per line, flushed per chunk so that an interrupted run loses at most a chunk."""

    def __init__(self, out: TextIO, to_obj: Callable[[Document], Any] = lambda d: d.to_dict()) -> None:
        self.out, self.to_obj = out, to_obj

    def write(self, docs: Sequence[Document]) -> None:
        for d in docs:
            self.out.write(json.dumps(self.to_obj(d), ensure_ascii=False) + "\n")
        self.out.flush()

    def close(self) -> None:
        pass


class JsonArrayWriter:
    """One JSON array, streamed element by element (so it too needs no more memory than a chunk)."""

    def __init__(self, out: TextIO, to_obj: Callable[[Document], Any] = lambda d: d.to_dict()) -> None:
        self.out, self.to_obj, self.count = out, to_obj, 0

    def write(self, docs: Sequence[Document]) -> None:
        for d in docs:
            self.out.write(("[\n" if self.count == 0 else ",\n") + json.dumps(self.to_obj(d), ensure_ascii=False,
                                                                              indent=2))
            self.count += 1

    def close(self) -> None:
        self.out.write("\n]\n" if self.count else "[]\n")


class ConllWriter:
    """Token-per-line CoNLL: word, IOB2 tag and the word's character offsets; a blank line per sentence."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, docs: Sequence[Document]) -> None:
        from rasd.iob import spans_to_tags
        from rasd.text import segment

        for d in docs:
            self.out.write(f"# id = {d.id}\n")
            spans = [(e.start, e.end, e.label) for e in d.entities]
            for sent in segment(d.text):
                inside = [s for s in spans if sent.start <= s[0] < sent.end]
                for (a, b), tag in zip(sent.words, spans_to_tags(sent.words, inside)):
                    self.out.write(f"{d.text[a:b]}\t{tag}\t{a}\t{b}\n")
                self.out.write("\n")

    def close(self) -> None:
        pass


class HtmlWriter:
    """One self-contained page: the only format that keeps every document until the end."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.docs, self.records = out, [], []

    def write(self, docs: Sequence[Document]) -> None:
        from rasd.acled import build_records
        from rasd.gazetteer import default_gazetteer

        self.docs.extend(docs)
        # The page's summary table is the ACLED rows; the gazetteer loads only once a document has events.
        self.records.extend(build_records(d, default_gazetteer()) if d.events else () for d in docs)

    def close(self) -> None:
        from rasd.html_view import render_html

        self.out.write(render_html(self.docs, records=self.records))


def parquet_schema() -> Any:
    """The Arrow schema of rasd's Parquet output: ``Document.to_dict()`` as typed, nested columns.

    Typed columns (not a JSON string) so that DuckDB, pandas or Spark can query entities and
    events directly.
    """
    pa = _pyarrow()
    entity = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string()), ("text", pa.string()),
                        ("score", pa.float64())])
    score = pa.struct([("label", pa.string()), ("event_type", pa.string()), ("score", pa.float64())])
    from rasd.results import EVENT_ROLES

    event = pa.struct([("sub_event_type", pa.string()), ("event_type", pa.string()), ("score", pa.float64()),
                       ("start", pa.int64()), ("end", pa.int64())]
                      + [(role, pa.list_(entity)) for role in EVENT_ROLES])
    incident = pa.struct([("label", pa.string()), ("event_type", pa.string()), ("score", pa.float64()),
                          ("sentences", pa.list_(pa.list_(pa.int64())))])
    sentence = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("incidents", pa.list_(score))])
    windowing = pa.struct([(k, pa.int64()) for k in ("windows", "max_length", "context", "stride",
                                                      "split_sentences", "words_without_tokens")])
    return pa.schema([("id", pa.string()), ("date", pa.date32()), ("text", pa.string()),
                      ("entities", pa.list_(entity)), ("events", pa.list_(event)),
                      ("incidents", pa.list_(incident)), ("sentences", pa.list_(sentence)),
                      ("windowing", windowing), ("warnings", pa.list_(pa.string()))])


def parquet_row(doc: Document) -> dict[str, Any]:
    """One Parquet row: ``Document.to_dict()`` with the date as a date (not a string)."""
    return doc.to_dict() | {"date": doc.date}


class ParquetWriter:
    """A folder of Parquet parts, ``part-00000.parquet``…, each a complete file of up to ``part_docs`` rows
    (default :data:`PART_DOCS`).

    A part is written as ``*.parquet.tmp`` and renamed when closed, so an interrupted run leaves
    only complete parts (and a ``.tmp`` that a resume removes): Parquet cannot be appended to.
    """

    def __init__(self, folder: Path, first_part: int = 0, part_docs: int | None = None) -> None:
        self.pa = _pyarrow()
        self.folder, self.part, self.part_docs = folder, first_part, part_docs or PART_DOCS
        self.schema = parquet_schema()
        self.writer: Any = None
        self.rows = 0

    def _path(self) -> Path:
        return self.folder / f"part-{self.part:05d}.parquet"

    def write(self, docs: Sequence[Document]) -> None:
        docs = list(docs)
        while docs:
            if self.writer is None:
                self.writer = self.pa.parquet.ParquetWriter(str(self._path()) + ".tmp", self.schema)
            take, docs = docs[:self.part_docs - self.rows], docs[self.part_docs - self.rows:]
            self.writer.write_table(self.pa.Table.from_pylist([parquet_row(d) for d in take], schema=self.schema))
            self.rows += len(take)
            if self.rows == self.part_docs:
                self._finish_part()

    def _finish_part(self) -> None:
        self.writer.close()
        Path(str(self._path()) + ".tmp").rename(self._path())
        self.writer, self.rows, self.part = None, 0, self.part + 1

    def close(self) -> None:
        if self.writer is not None:
            self._finish_part()


# ---------------------------------------------------------------- resuming


@dataclass(frozen=True)
class ResumePoint:
    """Where an interrupted run stopped: how many documents it wrote, and what was cleaned up."""

    done: int
    note: str | None = None


def jsonl_done_ids(path: Path) -> tuple[list[str], str | None]:
    """The ids written to a JSONL output, in order; an incomplete last line is cut off (and said so).

    The ids are held in a list: a few bytes per document, not the documents themselves.
    """
    note = None
    with open(path, "rb+") as f:
        f.seek(0, 2)
        size = f.tell()
        if size:
            # An interrupted write leaves a last line without its newline: cut back to the last one.
            back = min(size, 1 << 20)
            while True:
                f.seek(size - back)
                tail = f.read(back)
                cut = tail.rfind(b"\n")
                if cut >= 0 or back == size:
                    break
                back = min(size, back * 2)
            keep = size - back + cut + 1 if cut >= 0 else 0
            if keep < size:
                f.truncate(keep)
                note = f"removed an incomplete last line ({size - keep} bytes); that document is redone"
    ids = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                ids.append(str(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                raise InputError(f"--resume: {path}:{n} is not a rasd prediction line; "
                                 "resume only onto the output of an earlier run") from None
    return ids, note


def parquet_done_ids(folder: Path) -> tuple[list[str], int, str | None]:
    """The ids in a Parquet output folder's complete parts, the next part number, and what was removed."""
    pa = _pyarrow()
    note = None
    stale = sorted(folder.glob("part-*.parquet.tmp"))
    for tmp in stale:  # an interrupted part: never complete, so redone
        tmp.unlink()
    if stale:
        names = ", ".join(p.name for p in stale)
        note = f"removed {len(stale)} incomplete part(s) ({names}); their documents are redone"
    ids: list[str] = []
    parts = sorted(folder.glob("part-*.parquet"))
    for k, part in enumerate(parts):
        if part.name != f"part-{k:05d}.parquet":
            raise InputError(f"--resume: {folder} has {part.name} where part-{k:05d}.parquet was expected")
        try:
            ids.extend(pa.parquet.read_table(part, columns=["id"]).column("id").to_pylist())
        except (pa.ArrowException, KeyError) as exc:
            raise InputError(f"--resume: {part} is not a readable rasd Parquet part ({exc})") from None
    return ids, len(parts), note
