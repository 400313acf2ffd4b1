"""The training-side command line: ``python -m training <command> ...``.

Commands: ``build`` (annotated data → DatasetDict), ``train`` (config-driven
fine-tuning), ``evaluate``, ``export`` (model folder + card), ``push`` (Hub
upload), the annotation aids ``anchor``, ``agreement`` and ``consistency``, and the
annotation loop's ``labelstudio-config`` and ``select``. Each command
imports its heavy modules only when it runs, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path


def _cmd_anchor(args: argparse.Namespace) -> int:
    from training.anchor import anchor_file

    n = anchor_file(Path(args.input), Path(args.out))
    print(f"anchored {n} documents → {args.out}")
    return 0


def _cmd_consistency(args: argparse.Namespace) -> int:
    from training.consistency import check_consistency, format_findings
    from training.readers import iter_json_lines

    docs = [obj for path in args.inputs for _, obj in iter_json_lines(Path(path))]
    findings = check_consistency(docs)
    print(format_findings(findings, docs))
    return 1 if findings and args.strict else 0


def _cmd_build(args: argparse.Namespace) -> int:
    from training.builder import BuildOptions, InputSpec, build, format_summary, save

    inputs = [InputSpec(Path(p), args.format, args.label_map) for p in args.inputs]
    result = build(inputs, BuildOptions(args.dev_ratio, args.test_ratio, args.seed))
    save(result.dataset, result.summary, Path(args.out))
    print(format_summary(result.summary))
    print(f"saved DatasetDict to {args.out} (summary in {Path(args.out) / 'summary.json'})")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    import shlex

    from training.config import load_config
    from training.trainer import train

    config = load_config(args.config, args.set)
    run_dir = Path(args.output_dir or config.output.dir)
    command = "python -m training " + " ".join(shlex.quote(a) for a in args.argv)
    result = train(config, run_dir, resume=args.resume, command=command)
    # The headline a user waits for: each source's test scores (reports in <run>/eval/).
    for source, scores in sorted(result.test.items()):
        print(f"test {source}: " + ", ".join(f"{key} {value:.4f}" for key, value in scores.items()))
    if not result.test:
        print("no test split: nothing was scored (set data.test_ratio above 0 to hold documents out)")
    print(f"model exported to {result.model_dir}" if result.model_dir != result.final_dir
          else f"model saved to {result.model_dir} (output.export is false)")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from rasd.errors import InputError
    from training.evaluate import evaluate_model, headline, score_prediction_file, write_report

    if (args.model is None) == (args.predictions is None):
        raise InputError("give either --model (run a model) or --predictions (score a rasd predict file)")
    if args.predictions:
        report = score_prediction_file(args.predictions, args.data)
    else:
        report = evaluate_model(args.model, args.data, args.split, args.batch_size, args.dtype)
    for key, value in headline(report).items():
        print(f"{key}: {value:.4f}")
    if args.out:
        for path in write_report(report, Path(args.out)):
            print(f"wrote {path}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from training.export import export_run

    out = export_run(Path(args.run_dir), Path(args.out), args.repo_id)
    print(f"exported {args.run_dir} → {out}")
    return 0


def _cmd_push(args: argparse.Namespace) -> int:
    from training.push import plan_upload, push

    if args.dry_run:
        print(plan_upload(Path(args.folder), args.repo_id).describe())
        print("card metadata valid; dry run: nothing uploaded")
        return 0
    url = push(Path(args.folder), args.repo_id, private=args.private)
    print(f"uploaded: {url}")
    return 0


def _cmd_agreement(args: argparse.Namespace) -> int:
    from training.agreement import agreement, format_agreement
    from training.readers import iter_json_lines

    passes = [[obj for _, obj in iter_json_lines(Path(path))] for path in (args.first, args.second)]
    result = agreement(*passes)
    print(format_agreement(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


def _cmd_labelstudio_config(args: argparse.Namespace) -> int:
    from rasd.labelstudio import labelling_config

    if args.model:
        from rasd.loading import read_config

        config = read_config(args.model)
        print(labelling_config(config.entity_labels, config.incident_labels), end="")
    else:
        print(labelling_config(), end="")
    return 0


def _cmd_select(args: argparse.Namespace) -> int:
    from training.select import run

    return run(args)


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

    p = sub.add_parser("train", help="fine-tune a joint model from a YAML config")
    p.add_argument("config", help="YAML config (see configs/)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. training.learning_rate=3e-5 (repeatable)")
    p.add_argument("--output-dir", help="run folder (default: output.dir of the config)")
    p.add_argument("--resume", action="store_true", help="resume from the last checkpoint in the run folder")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="score a model, or a rasd prediction file, on annotated data")
    p.add_argument("--model", help="a rasd model folder")
    p.add_argument("--predictions", help="a `rasd predict` JSON Lines file to score instead of running a model")
    p.add_argument("--data", required=True, help="SPEC JSONL, CoNLL, Label Studio JSON, or a built dataset folder")
    p.add_argument("--split", help="split of a built dataset folder (default: test)")
    p.add_argument("--out", help="report JSON path (Markdown and PNG plots are written beside it)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--dtype", choices=["float32", "bfloat16", "int8"], help="run the model in this precision")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("export", help="write a self-contained model folder with its model card")
    p.add_argument("run_dir", help="a training run folder")
    p.add_argument("--out", required=True, help="export folder (replaced only if it holds a previous rasd export)")
    p.add_argument("--repo-id", help="Hub id to show in the card's usage example")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("push", help="upload an exported model folder to the Hugging Face Hub")
    p.add_argument("folder")
    p.add_argument("--repo-id", required=True, help="owner/name")
    p.add_argument("--private", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="validate and list the files; upload nothing")
    p.set_defaults(func=_cmd_push)

    p = sub.add_parser("anchor", help="turn surface-form annotations into SPEC JSONL with offsets")
    p.add_argument("input", help="JSONL with [surface, label(, selector)] annotations")
    p.add_argument("--out", required=True, help="SPEC JSONL to write")
    p.set_defaults(func=_cmd_anchor)

    p = sub.add_parser("agreement", help="inter-annotator agreement between two passes (SPEC JSONL)")
    p.add_argument("first")
    p.add_argument("second")
    p.add_argument("--out", help="write the figures as JSON")
    p.set_defaults(func=_cmd_agreement)

    p = sub.add_parser("consistency", help="list annotation inconsistencies in SPEC JSONL files")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--strict", action="store_true", help="exit 1 when anything is found")
    p.set_defaults(func=_cmd_consistency)

    p = sub.add_parser("labelstudio-config", help="print the Label Studio labelling config for rasd tasks")
    p.add_argument("--model", help="take the entity and incident labels from this rasd model "
                                   "(default: the SPEC's labels)")
    p.set_defaults(func=_cmd_labelstudio_config)

    p = sub.add_parser("select", help="rank unlabelled documents by uncertainty (with diversity) and write "
                                      "the batch to annotate next")
    from training.select import add_arguments as _select_arguments  # argparse only: the model loads when it runs

    _select_arguments(p)
    p.set_defaults(func=_cmd_select)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from rasd.errors import run_command

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    return run_command(lambda: args.func(args))
