"""Command-line options shared by every command that loads a model (predict, serve, ray, select).

One definition, so ``--dtype`` or ``--batch-size`` mean the same everywhere and a new option
reaches every command at once.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> add_model_arguments(p)
    >>> p.parse_args(["--model", "m", "--batch-size", "8"]).batch_size
    8
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rasd.errors import InputError

if TYPE_CHECKING:
    from rasd.extractor import Extractor
    from rasd.modeling import RasdConfig


def positive(value: str) -> int:
    """argparse type: an integer ≥ 1."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return number


def non_negative(value: str) -> int:
    """argparse type: an integer ≥ 0."""
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return number


def add_model_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """``--model --revision --device --dtype --batch-size --context --num-threads``."""
    parser.add_argument("--model", required=required, help="a rasd model folder or Hub id")
    parser.add_argument("--revision", help="Hub revision of --model")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 … (default: CUDA when available)")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16", "int8", "auto"], default=None,
                        help="precision (default float32; int8 = dynamic quantisation on CPU; auto = the fastest "
                             "this CPU or GPU runs well)")
    parser.add_argument("--batch-size", type=positive, help="windows per forward pass (default: 4 on CPU, 32 on GPU)")
    parser.add_argument("--context", type=non_negative, help="sub-tokens of preceding context per window "
                                                             "(default: an eighth of the model's window)")
    parser.add_argument("--num-threads", type=positive, help="CPU threads for torch (default: torch's choice)")


def check_out_file(path: str | None) -> None:
    """An InputError naming ``--out`` when it cannot be a file to write (checked before any work starts)."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise InputError(f"--out {path}: is a folder; give a file name")
    if not target.parent.is_dir():
        raise InputError(f"--out {path}: the folder {target.parent} does not exist")


def check_out_folder(path: str, resume: bool = False, can_resume: bool = True) -> Path:
    """An InputError naming ``--out`` when it cannot be the folder of Parquet parts to write.

    A folder that already holds parts is refused unless the run resumes, so two runs are never mixed.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {path}: is a file; --format parquet writes a folder of parts")
    if not folder.parent.is_dir():
        raise InputError(f"--out {path}: the folder {folder.parent} does not exist")
    if not resume and folder.is_dir() and any(folder.glob("part-*.parquet*")):
        raise InputError(f"--out {path}: already holds Parquet parts; "
                         + ("add --resume to continue that run, or remove them" if can_resume else "remove them first"))
    return folder


def load_extractor(args: argparse.Namespace) -> Extractor:
    """The Extractor that :func:`add_model_arguments`'s options describe."""
    from rasd.extractor import Extractor

    return Extractor.from_pretrained(args.model, device=args.device, dtype=args.dtype, revision=args.revision,
                                     batch_size=args.batch_size, context=args.context, num_threads=args.num_threads)


def model_info(model: str | None, config: RasdConfig) -> dict[str, Any]:
    """What ``rasd info --json`` and ``GET /info`` report about a model, from its config."""
    return {
        "model": model, "schema_version": config.schema_version, "base_model": config.base_model,
        "encoder": config.encoder.model_type, "max_length": config.max_length, "stride": config.stride,
        "entity_labels": config.entity_labels, "tags": config.tags, "normalization": config.normalization,
        "incident_thresholds": dict(zip(config.incident_labels, config.incident_thresholds)),
        "incident_threshold_sources": (dict(zip(config.incident_labels, config.incident_threshold_sources))
                                       if config.incident_threshold_sources else None),
    }
