"""``rasd events merge``: the same event reported by several documents as one ACLED record.

Reads ``rasd predict`` JSON Lines (each line a ``Document.to_dict()``), builds each document's
records (:func:`rasd.acled.build_records`: one per incident, date resolved against the
document's ``date``, place geocoded) and merges across documents with
:func:`rasd.acled.merge_records` (same sub-event type, dates within a day, same place). Each
merged row lists every source document in ``source``; its evidence columns point into the first
one. A line that is not a prediction is reported with its file and line number and counted; the
rest go on.

Example:
    rasd predict --model M wire/ --date 2022-08-01 --out preds.jsonl
    rasd events merge preds.jsonl --out events.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rasd.options import check_out_file

if TYPE_CHECKING:
    from rasd.acled import EventRecord
    from rasd.gazetteer import Gazetteer


def read_records(paths: Sequence[str], gazetteer: Gazetteer, failures: list[str]) -> Iterator[EventRecord]:
    """Every record of every document in the prediction files, in file and line order.

    Bad lines (not JSON, not a ``rasd predict`` document, invalid UTF-8) are described in ``failures``.
    """
    from rasd.acled import build_records
    from rasd.lines import describe_decode_error, iter_text_lines
    from rasd.results import Document

    for name in paths:
        path = Path(name)
        if not path.is_file():
            failures.append(f"{name}: no such file")
            continue
        for lineno, line in iter_text_lines(path):
            if isinstance(line, UnicodeDecodeError):
                failures.append(f"{name}:{lineno}: {describe_decode_error(line)}")
                continue
            if not line.strip():
                continue
            try:
                doc = Document.from_dict(json.loads(line))
            except json.JSONDecodeError as exc:
                failures.append(f"{name}:{lineno}: not JSON ({exc.msg})")
                continue
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                failures.append(f"{name}:{lineno}: not a rasd predict document ({type(exc).__name__}: {exc}); "
                                "give the JSON Lines that rasd predict writes")
                continue
            if doc.id is None:  # a record's source must say which report it came from
                doc = replace(doc, id=f"{name}:{lineno}")
            yield from build_records(doc, gazetteer)


def write_csv(records: Sequence[EventRecord], out: str | None) -> None:
    """ACLED's columns, then the evidence columns, one row per (merged) record; standard output without ``out``."""
    from rasd.acled import AcledCsvWriter

    stream = sys.stdout if out is None else open(out, "w", encoding="utf-8", newline="")
    try:
        writer = AcledCsvWriter(stream)
        writer.write_records(records)
        writer.close()
    finally:
        if stream is not sys.stdout:
            stream.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``rasd events merge``."""
    parser.add_argument("predictions", nargs="+", help="JSON Lines written by rasd predict (--format jsonl)")
    parser.add_argument("--out", help="the CSV to write (default: standard output)")


def run(args: argparse.Namespace) -> int:
    """Run ``rasd events merge``; exit code 1 when a line or file could not be read."""
    from rasd.acled import merge_records
    from rasd.gazetteer import default_gazetteer

    check_out_file(args.out)
    failures: list[str] = []
    records = list(read_records(args.predictions, default_gazetteer(), failures))
    merged = merge_records(records)
    write_csv(merged, args.out)
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"{len(records)} record(s) from the documents, {len(merged)} event(s) after merging"
          + (f"; {len(failures)} line(s) or file(s) could not be read" if failures else ""), file=sys.stderr)
    return 1 if failures else 0
