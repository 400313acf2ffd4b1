"""``rasd ray``: extraction with Ray Data, on the local machine or a multi-node cluster.

The documents are read on the driver with :mod:`rasd.batch` (the same ids, dates and error
messages as ``rasd predict``), handed to Ray Data in blocks of :data:`rasd.batch.CHUNK`, a window
of :data:`WINDOW_BLOCKS` blocks at a time (so the driver's memory is bounded), and
extracted by a pool of actors, each holding the model once (:class:`RasdPredictor`). Results
come back in input order and are written by the driver: the JSONL lines are byte for byte
those of ``rasd predict --format jsonl``, the Parquet parts those of ``--format parquet``.

Ray, torch and transformers load when a command runs, never at ``import rasd.distributed``.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> add_arguments(p)
    >>> p.parse_args(["a.jsonl", "--model", "m", "--out", "o.jsonl", "--workers", "2"]).workers
    2
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rasd.errors import InputError
from rasd.options import add_model_arguments, check_out_file, check_out_folder, positive

if TYPE_CHECKING:
    import numpy as np

RAY_EXTRA = "Ray Data is not installed: pip install 'rasd[ray]'"
#: Blocks (of rasd.batch.CHUNK documents) per Ray Data run: the driver holds one window of text, and each
#: window starts its actors afresh (seconds), which 256 × 64 = 16,384 documents make negligible.
WINDOW_BLOCKS = 256


def import_ray() -> Any:
    """The ``ray`` module with ``ray.data``; an :class:`InputError` naming the extra when it is missing."""
    try:
        import ray
        import ray.data  # noqa: F401  (the submodule is what the callers use)
    except ImportError:
        raise InputError(RAY_EXTRA) from None
    return ray


def _document_date(value: Any) -> date | None:
    """A publication date from a batch cell: ISO string, ``date``, ``numpy.datetime64``, or missing."""
    from rasd.extractor import parse_document_date

    if value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value):
        return None
    if type(value).__name__ == "datetime64":  # a Parquet date32 or timestamp column, as numpy gives it
        import numpy as np

        return None if np.isnat(value) else value.astype("datetime64[D]").item()
    return parse_document_date(value)


class RasdPredictor:
    """A callable class for ``ray.data.Dataset.map_batches``: loads the model once per actor.

    Takes batches with a ``text`` column and optional ``id`` and ``date`` columns (ISO string,
    date or datetime64); returns one row per document: its ``id`` and ``json``, the line that
    ``rasd predict --format jsonl`` writes for it (``json.loads`` gives ``Document.to_dict()``).

    Example:
        >>> ds = ray.data.read_parquet("archive/")  # doctest: +SKIP
        >>> out = ds.map_batches(RasdPredictor, fn_constructor_kwargs={"model": "runs/tiny/model"},
        ...                      batch_size=64, compute=ray.data.ActorPoolStrategy(size=4))  # doctest: +SKIP
    """

    def __init__(self, model: str, device: str | None = None, dtype: str | None = None, revision: str | None = None,
                 batch_size: int | None = None, context: int | None = None, num_threads: int | None = None) -> None:
        from rasd.extractor import Extractor

        self.extractor = Extractor.from_pretrained(model, device=device, dtype=dtype, revision=revision,
                                                   batch_size=batch_size, context=context, num_threads=num_threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        texts = [str(t) for t in batch["text"]]
        ids = [None if v is None else str(v) for v in batch["id"]] if "id" in batch else None
        dates = [_document_date(v) for v in batch["date"]] if "date" in batch else None
        docs = self.extractor(texts, ids=ids, dates=dates)
        return {"id": [d.id for d in docs], "json": [json.dumps(d.to_dict(), ensure_ascii=False) for d in docs]}


@dataclass(frozen=True)
class _JsonDocument:
    """What :class:`rasd.batch.ParquetWriter` reads of a Document (``to_dict()`` and ``date``), from its JSON line."""

    row: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.row

    @property
    def date(self) -> date | None:
        return date.fromisoformat(self.row["date"]) if self.row["date"] else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``rasd ray``."""
    parser.add_argument("inputs", nargs="+", help="files (.txt, .jsonl, .parquet), folders of *.txt or '-'")
    add_model_arguments(parser)
    parser.add_argument("--out", required=True, help="output file (jsonl) or folder (parquet)")
    parser.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
    parser.add_argument("--workers", type=positive, default=1, help="model actors, each holding the model once")
    parser.add_argument("--cpus-per-worker", type=positive, help="CPUs (and torch threads) per actor (default: a "
                        "local cluster's CPUs shared between the workers; 1 on a remote cluster)")
    parser.add_argument("--gpus-per-worker", type=float, default=1.0, help="GPUs per actor with --device cuda "
                        "(a fraction packs several actors on one GPU)")
    parser.add_argument("--address", help="a running Ray cluster ('auto', or HOST:PORT); default: start a local one")
    parser.add_argument("--date", help="publication date (YYYY-MM-DD) of documents that carry no 'date'")
    parser.add_argument("--quiet", action="store_true", help="no Ray Data progress bars")


def _check_out(fmt: str, out: str) -> Path:
    """The output path, refused before Ray starts when it cannot be written (the checks of ``rasd predict``)."""
    if fmt == "parquet":
        return check_out_folder(out, can_resume=False)  # rasd ray has no --resume
    check_out_file(out)
    return Path(out)


def _model_path(model: str) -> str:
    """A local folder as an absolute path (actors may run in another directory); a Hub id unchanged."""
    return str(Path(model).resolve()) if Path(model).is_dir() else model


def _start_ray(ray: Any, address: str | None, quiet: bool) -> bool:
    """Connect to ``address`` or start a local cluster; whether this call started (so must stop) Ray."""
    if ray.is_initialized():  # a caller's cluster (a notebook, the tests): used as it is, and left running
        return False
    level = logging.WARNING if quiet else logging.INFO
    if address:
        ray.init(address=address, log_to_driver=False, logging_level=level)
    else:
        ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False, logging_level=level)
    return True


def run(args: argparse.Namespace) -> int:
    """Run ``rasd ray``; returns the exit status (1 when some input failed, as ``rasd predict``).

    Example:
        rasd ray archive.jsonl --model runs/tiny/model --out predictions.jsonl --workers 2
    """
    from rasd import batch
    from rasd.extractor import parse_document_date
    from rasd.loading import read_config

    ray = import_ray()
    import pyarrow as pa  # a dependency of ray[data]
    # Everything that can be refused is refused before Ray starts: a cluster takes seconds to come up.
    default_date = parse_document_date(args.date, "--date")
    out = _check_out(args.format, args.out)
    read_config(args.model, args.revision)  # a missing or broken model: a clear error here, not an actor crash
    if not args.address:  # the actors run on this machine: its device and dtype can be checked here
        from rasd.precision import resolve_device, resolve_dtype

        resolve_dtype(args.dtype, resolve_device(args.device))
    failures = batch.Failures()
    # Read on the driver with rasd.batch: ids, dates and messages are those of `rasd predict`, in its order.
    documents = batch.iter_documents(batch.expand_inputs(args.inputs), failures, default_date)
    # One Arrow table per `rasd predict` chunk: each becomes one Ray block, one actor call. The input is
    # read a window of blocks at a time, so the driver's memory is bounded by a window, not the archive.
    windows = _windows((pa.table({"id": [d.id for d in chunk], "text": [d.text for d in chunk],
                                  "date": [d.date.isoformat() if d.date else "" for d in chunk]})
                        for chunk in batch.chunks(documents)), WINDOW_BLOCKS)
    first = next(windows, None)
    written = 0
    if first is None:  # nothing to extract: the (empty) output of `rasd predict`, without starting a cluster
        if args.format == "parquet":
            out.mkdir(exist_ok=True)
        else:
            out.write_text("", encoding="utf-8")
    else:
        started = _start_ray(ray, args.address, args.quiet)
        try:
            written = _extract(ray, args, itertools.chain([first], windows), out)
        finally:
            if started:
                ray.shutdown()
    if failures:
        print(failures.summary(written), file=sys.stderr)
    return 1 if failures else 0


def _windows(blocks: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """``blocks`` in lists of ``size``: each list is one Ray Data run, read only when the last is written."""
    while window := list(itertools.islice(blocks, size)):
        yield window


def _extract(ray: Any, args: argparse.Namespace, windows: Iterable[list[Any]], out: Path) -> int:
    """Run the actors over each window of blocks (Arrow tables), write their results to ``out`` in input
    order; the count."""
    from rasd import batch

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # output in input order, whichever actor finishes first
    ctx.enable_progress_bars = not args.quiet
    if args.quiet:
        logging.getLogger("ray.data").setLevel(logging.WARNING)
    gpu = (args.device or "").startswith("cuda")
    total = int(ray.cluster_resources().get("CPU", 0))
    cpus = args.cpus_per_worker or (1 if args.address else max(1, total // args.workers))
    if not args.address and args.workers * cpus > total:  # actors that can never be placed would hang the run
        raise InputError(f"--workers {args.workers} with {cpus} CPU(s) each needs {args.workers * cpus} CPUs; "
                         f"this Ray cluster has {total}")
    # Ray shows each GPU actor only its own GPU(s), so "cuda:1" would name a GPU the actor cannot see.
    predictor = {"model": _model_path(args.model), "device": "cuda" if gpu else args.device, "dtype": args.dtype,
                 "revision": args.revision, "batch_size": args.batch_size, "context": args.context,
                 # One torch thread per reserved CPU: actors sharing a machine must not oversubscribe it.
                 "num_threads": args.num_threads or (None if gpu else cpus)}

    def results(blocks: list[Any]) -> Iterator[Any]:
        # Blocks of CHUNK documents, as `rasd predict`'s chunks: the unit an actor takes, and the same batches
        # of windows (so the same floating-point sums) as `rasd predict`. No more actors than blocks.
        ds = ray.data.from_arrow(blocks).map_batches(
            RasdPredictor, fn_constructor_kwargs=predictor, batch_size=batch.CHUNK,
            compute=ray.data.ActorPoolStrategy(size=min(args.workers, len(blocks))), num_cpus=cpus,
            num_gpus=args.gpus_per_worker if gpu else None)
        return ds.iter_batches(batch_size=None, batch_format="numpy")

    written = 0
    if args.format == "parquet":
        out.mkdir(exist_ok=True)
        writer: Any = batch.ParquetWriter(out)
        for blocks in windows:
            for b in results(blocks):
                writer.write([_JsonDocument(json.loads(line)) for line in b["json"]])
                written += len(b["json"])
        writer.close()
        return written
    with open(out, "w", encoding="utf-8") as f:
        for blocks in windows:
            for b in results(blocks):
                f.write("".join(f"{line}\n" for line in b["json"]))
                f.flush()  # as `rasd predict`: an interrupted run keeps what it wrote
                written += len(b["json"])
    return written
