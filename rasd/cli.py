"""The ``rasd`` command line: ``predict``, ``serve``, ``ray``, ``events merge``, ``info`` and ``schema``.

Example:
    rasd predict --model runs/tiny/model seeds/*.txt > predictions.jsonl
    rasd predict --model runs/tiny/model seeds/ --format html --out seeds.html
    rasd info --model runs/tiny/model
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from rasd import __version__, schema
from rasd.errors import InputError
from rasd.options import add_model_arguments, check_out_file, check_out_folder


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
    from rasd.options import model_info

    config = read_config(args.model, args.revision)
    info = model_info(args.model, config)
    info["auto_dtype"] = _auto_dtype()
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
    auto = info["auto_dtype"]
    print(f"--dtype auto on this machine ({auto['device']}): {auto['dtype']}, because {auto['reason']}")
    return 0


def _auto_dtype() -> dict[str, str]:
    """What ``--dtype auto`` would run in on this machine's default device, and why."""

    from rasd.precision import auto_precision, resolve_device

    device = resolve_device(None)
    dtype, reason = auto_precision(device)
    return {"device": str(device), "dtype": dtype, "reason": reason}


def _open_out(path: str | None, newline: str | None = None) -> TextIO:
    """The output stream: standard output without ``--out``."""
    if path is None:
        return sys.stdout
    check_out_file(path)
    try:
        return open(path, "w", encoding="utf-8", newline=newline)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write ({exc.strerror})") from None


_TEXT_FORMATS = ("jsonl", "json", "conll", "html", "labelstudio", "acled")
_RESUMABLE = ("jsonl", "parquet")


def _writer(fmt: str, out: TextIO | None, folder: Path | None, args: argparse.Namespace,
            first_part: int) -> Any:
    from rasd import batch

    if fmt == "parquet":
        assert folder is not None
        return batch.ParquetWriter(folder, first_part=first_part)
    assert out is not None
    if fmt in ("jsonl", "json"):
        to_obj = _with_records if args.records else (lambda d: d.to_dict())
        return batch.JsonlWriter(out, to_obj) if fmt == "jsonl" else batch.JsonArrayWriter(out, to_obj)
    if fmt == "labelstudio":
        from rasd.labelstudio import model_version, to_task

        version = model_version(args.model)  # one name per model, however its path is written
        return batch.JsonArrayWriter(out, lambda d: to_task(d, model_version=version))
    if fmt == "conll":
        return batch.ConllWriter(out)
    if fmt == "acled":
        from rasd.acled import AcledCsvWriter

        return AcledCsvWriter(out)
    return batch.HtmlWriter(out)


def _with_records(doc: Any) -> dict[str, Any]:
    """The document's JSON with its ACLED event records (``--records``): what ``--format acled`` writes, as JSON."""
    from rasd.acled import build_records
    from rasd.gazetteer import default_gazetteer

    records = build_records(doc, default_gazetteer()) if doc.events else ()
    return {**doc.to_dict(), "records": [r.to_dict() for r in records]}


def _check_predict_options(args: argparse.Namespace) -> None:
    """Option combinations that cannot work, refused before the model loads."""
    if args.records and args.format not in ("jsonl", "json"):
        raise InputError(f"--records adds the event records to --format jsonl or json; --format {args.format} "
                         + ("has them as its rows" if args.format == "acled" else "cannot carry them"))
    if args.format == "parquet":
        if args.out is None:
            raise InputError("--format parquet needs --out FOLDER (it writes part-00000.parquet, … there)")
        check_out_folder(args.out, args.resume)
    else:
        check_out_file(args.out)
    if args.resume:
        if args.format not in _RESUMABLE:
            raise InputError(f"--resume works with --format {' or '.join(_RESUMABLE)}, not {args.format}")
        if args.out is None:
            raise InputError("--resume needs --out: the output of the interrupted run")


def _cmd_predict(args: argparse.Namespace) -> int:
    from transformers.utils import logging as hf_logging

    from rasd import batch
    from rasd.extractor import parse_document_date
    from rasd.options import load_extractor

    hf_logging.disable_progress_bar()
    default_date = parse_document_date(args.date, "--date")
    inputs = batch.expand_inputs(args.inputs or ["-"])
    _check_predict_options(args)  # before the model loads: a bad option fails at once, not after it
    done_ids: list[str] = []
    first_part = 0
    if args.resume and Path(args.out).exists():
        if args.format == "parquet":
            done_ids, first_part, note = batch.parquet_done_ids(Path(args.out))
        else:
            done_ids, note = batch.jsonl_done_ids(Path(args.out))
        if note:
            print(f"--resume: {note}", file=sys.stderr)
        print(f"--resume: {len(done_ids)} document(s) already written; continuing after them", file=sys.stderr)
    extractor = load_extractor(args)
    out: TextIO | None = None
    if args.format == "parquet":
        Path(args.out).mkdir(exist_ok=True)
    elif args.resume:
        out = open(args.out, "a", encoding="utf-8")
    else:  # CSV writes its own line ends: a quoted newline inside a field must stay as written
        out = _open_out(args.out, newline="" if args.format == "acled" else None)
    writer = _writer(args.format, out, Path(args.out) if args.out else None, args, first_part)
    bar = None
    try:
        total = None if args.quiet else batch.count_documents(inputs)
        if not args.quiet and total != 1:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, initial=len(done_ids), unit="doc", file=sys.stderr, dynamic_ncols=True)
        failures = batch.Failures(on_line=bar.update if bar else lambda: None)
        documents = batch.skip_done(batch.iter_documents(inputs, failures, default_date), done_ids)
        written = 0
        for chunk in batch.chunks(documents):
            docs = extractor([d.text for d in chunk], ids=[d.id for d in chunk], dates=[d.date for d in chunk])
            writer.write(docs)
            written += len(docs)
            if bar is not None:
                bar.update(len(chunk))
        writer.close()
    finally:
        if bar is not None:
            bar.close()
        if out is not None and out is not sys.stdout:
            out.close()
    if failures:
        print(failures.summary(written), file=sys.stderr)
    return 1 if failures else 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from rasd.serve import run

    return run(args)


def _cmd_events_merge(args: argparse.Namespace) -> int:
    from rasd.event_merge import run

    return run(args)


def _cmd_ray(args: argparse.Namespace) -> int:
    from rasd.distributed import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rasd", description="Arabic news → incidents, entities and events.")
    parser.add_argument("--version", action="version", version=f"rasd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="extract from text files, folders (*.txt), JSONL, Parquet or standard input")
    p.add_argument("inputs", nargs="*", help="files (.txt, .jsonl, .parquet), folders of *.txt or '-' "
                                             "(default: standard input)")
    add_model_arguments(p)
    p.add_argument("--format", choices=[*_TEXT_FORMATS, "parquet"], default="jsonl",
                   help="jsonl (default), json, conll, html (one page), labelstudio (tasks with pre-annotations), "
                        "acled (CSV, one row per event in ACLED's columns) or parquet (a folder of parts; needs --out)")
    p.add_argument("--out", help="output file, or folder for parquet (default: standard output)")
    p.add_argument("--date", help="publication date (YYYY-MM-DD) of documents that do not carry their own "
                                  "'date' (JSONL field or Parquet column)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run into the same --out "
                                                         "(jsonl or parquet): finished documents are skipped")
    p.add_argument("--records", action="store_true", help="add each document's ACLED event records (date, "
                                                          "geocoded place, actors, fatalities) to jsonl/json output")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("serve", help="serve the model over HTTP (extra: pip install 'rasd[serve]')")
    from rasd.serve import add_arguments as _serve_arguments  # argparse only: FastAPI loads when it runs

    _serve_arguments(p)
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("ray", help="extract with Ray Data on a local or multi-node cluster (extra: rasd[ray])")
    from rasd.distributed import add_arguments as _ray_arguments  # argparse only: Ray loads when it runs

    _ray_arguments(p)
    p.set_defaults(func=_cmd_ray)

    p = sub.add_parser("events", help="ACLED event records across documents")
    events = p.add_subparsers(dest="events_command", required=True)
    p = events.add_parser("merge", help="one record per event reported by several documents (same type, dates "
                                        "within a day, same place), as ACLED CSV")
    from rasd.event_merge import add_arguments as _merge_arguments

    _merge_arguments(p)
    p.set_defaults(func=_cmd_events_merge)

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
