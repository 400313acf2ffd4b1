"""The training-side command line: ``python -m training <command> ...``.

Commands: ``build`` (annotated data → DatasetDict), ``anchor`` and
``consistency`` (annotation aids). Each command imports its heavy modules only
when it runs, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path


def _cmd_anchor(args: argparse.Namespace) -> int:
    from training.anchor import AnchorError, anchor_file

    try:
        n = anchor_file(Path(args.input), Path(args.out))
    except AnchorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"anchored {n} documents → {args.out}")
    return 0


def _cmd_consistency(args: argparse.Namespace) -> int:
    from training.consistency import check_consistency, format_findings

    docs = []
    for path in args.inputs:
        with open(path, encoding="utf-8") as fh:
            docs += [json.loads(line) for line in fh if line.strip()]
    findings = check_consistency(docs)
    print(format_findings(findings, docs))
    return 1 if findings and args.strict else 0


def _cmd_build(args: argparse.Namespace) -> int:
    from training.builder import BuildOptions, InputSpec, build, format_summary, save
    from training.dataclass_io import ConfigError
    from training.documents import DataError

    inputs = [InputSpec(Path(p), args.format, args.label_map) for p in args.inputs]
    try:
        result = build(inputs, BuildOptions(args.dev_ratio, args.test_ratio, args.seed))
    except (DataError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    save(result, Path(args.out))
    print(format_summary(result.summary))
    print(f"saved DatasetDict to {args.out} (summary in {Path(args.out) / 'summary.json'})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="annotated documents → a Hugging Face DatasetDict")
    p.add_argument("inputs", nargs="+", help="files or folders (folders are read recursively)")
    p.add_argument("--out", required=True, help="output folder (save_to_disk + summary.json)")
    p.add_argument("--format", choices=["jsonl", "conll", "labelstudio"],
                   help="input format (default: from the extension: .jsonl, .json → labelstudio, else conll)")
    p.add_argument("--label-map", help="a label-map YAML file or a built-in name "
                                       "(spec, anercorp, cleananercorp, aqmar, wojood); "
                                       "default: detected from the path")
    p.add_argument("--dev-ratio", type=float, default=0.1, help="share of documents for validation")
    p.add_argument("--test-ratio", type=float, default=0.1, help="share of documents for test")
    p.add_argument("--seed", type=int, default=13, help="seed of the document split")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("anchor", help="turn surface-form annotations into SPEC JSONL with offsets")
    p.add_argument("input", help="JSONL with [surface, label(, selector)] annotations")
    p.add_argument("--out", required=True, help="SPEC JSONL to write")
    p.set_defaults(func=_cmd_anchor)

    p = sub.add_parser("consistency", help="list annotation inconsistencies in SPEC JSONL files")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--strict", action="store_true", help="exit 1 when anything is found")
    p.set_defaults(func=_cmd_consistency)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
