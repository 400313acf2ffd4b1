"""Export: ``python -m training export RUN_DIR --out DIR`` → a self-contained, documented model folder.

The folder holds the weights (safetensors), the config with labels and tuned
thresholds, the tokenizer, the resolved training config and ``training_args.json``,
the evaluation reports and ``README.md`` (the model card rendered from ``model_card.md``),
plus ``token-classification/``: the entity part as a stock transformers model.

What ``--out`` may be: a new folder, an empty one, or a previous rasd export (a folder
with a ``config.json`` of ``model_type: rasd`` beside ``training_config.yaml``, which every
export writes), which is then replaced. Anything else is refused, and so is any folder that
is, contains, or lies inside what the export reads (the run folder itself, its ``final/``,
``eval/``, ``data/``, ``checkpoints/`` and record files); ``RUN_DIR/model`` is fine. The
export is written to a hidden staging folder beside ``--out`` first, and only a complete,
valid export replaces the old one.

Example:
    >>> export_run(Path("runs/tiny"), Path("runs/tiny/model"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rasd.errors import InputError
from training.card import card_data, entity_rows, incident_rows, render, threshold_note, validate_card_text
from training.data_sources import source_info
from training.dataclass_io import read_yaml_mapping

#: What the export reads from a run folder: ``--out`` may neither hold nor lie inside any of these.
RUN_INPUTS = ("final", "eval", "data", "checkpoints", "config.resolved.yaml", "run_summary.json",
              "training_args.json", "train.log", "train_log.jsonl")
#: Keys of training_args.json the card leaves out: paths of the training machine, redacted tokens.
_CARD_SKIPS = ("output_dir", "logging_dir")


class ExportError(InputError):
    """A run that cannot be exported, or an ``--out`` that must not be written; the message says which."""


def is_export(folder: Path) -> bool:
    """Whether ``folder`` looks like a previous rasd export (so that replacing it loses nothing of the user's)."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    rasd = isinstance(config, dict) and config.get("model_type") == "rasd"
    return rasd and (folder / "training_config.yaml").is_file()


def check_out(run_dir: Path, out: Path) -> None:
    """Raise :class:`ExportError` unless writing (and replacing) ``out`` is safe for the run and for the user."""
    run, target = run_dir.resolve(), out.resolve()
    if target == run or run.is_relative_to(target):
        raise ExportError(f"--out {out}: the export would replace the run folder {run_dir} that it reads; "
                          f"choose a folder outside it, or {run_dir / 'model'}")
    if target.is_relative_to(run):
        first = target.relative_to(run).parts[0]
        if first in RUN_INPUTS:
            raise ExportError(f"--out {out}: is the run's {first} or inside it, which the export reads; "
                              f"choose {run_dir / 'model'} or a folder outside the run")
    if target.exists():
        empty = target.is_dir() and not any(target.iterdir())
        if not empty and not is_export(target):
            raise ExportError(f"--out {out}: exists and is not a rasd export (no config.json with model_type "
                              "'rasd' beside training_config.yaml), so it is not replaced; remove it yourself or "
                              "choose another folder")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"{path}: cannot read ({exc})") from None


def _results(reports: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """model-index entries and a Markdown results table from per-source test reports."""
    entries, rows = [], ["| test data | entity types | entity micro-F1 | incident sub-event micro-F1 | "
                         "incident event-type micro-F1 | documents |", "|---|---|---|---|---|---|"]
    for name, rep in sorted(reports.items()):
        ent = rep["entities"]["micro"]["f1"]
        entries.append({"task_type": "token-classification", "task_name": "Named entity recognition",
                        "dataset_type": name, "dataset_name": rep.get("data", name), "metric_type": "f1",
                        "metric_name": f"entity micro-F1 ({', '.join(rep['entity_types_scored'])})", "value": ent})
        sub = evt = "–"
        if "incidents" in rep:
            s = rep["incidents"]["sentence"]
            sub, evt = f"{s['sub_event']['micro']['f1']:.3f}", f"{s['event_type']['micro']['f1']:.3f}"
            for level, key in (("sub-event", "sub_event"), ("event-type", "event_type")):
                entries.append({"task_type": "text-classification", "task_name": "Incident classification",
                                "dataset_type": name, "dataset_name": rep.get("data", name), "metric_type": "f1",
                                "metric_name": f"incident {level} micro-F1 (sentence level)",
                                "value": s[key]["micro"]["f1"]})
        rows.append(f"| {rep.get('data', name)} | {', '.join(rep['entity_types_scored'])} | {ent:.3f} | {sub} | "
                    f"{evt} | {rep['documents']} |")
    table = "\n".join(rows) if entries else "No test split was evaluated for this model."
    return entries, table


def _sources(run_summary: dict[str, Any], run_dir: Path) -> list[dict[str, Any]]:
    """The card's training-data rows: each built source with its description, licence and citation."""
    out = []
    for name, info in run_summary.get("sources", {}).items():
        summary_path = run_dir / "data" / name / "summary.json"
        built = _read_json(summary_path) if summary_path.exists() else {}
        for src_name, src in (built.get("sources") or {name: {}}).items():
            splits = info.get("summary", {})
            counts = " / ".join(str(splits.get(s, {}).get("documents", 0)) for s in ("train", "validation", "test"))
            described = source_info(src_name, src)
            out.append({"name": src_name, "license": described.license, "description": described.description,
                        "entity_types": ", ".join(src.get("entity_types", [])),
                        "incidents": "yes" if src.get("incidents") else "no", "counts": counts,
                        "citation": described.citation})
    return out


def _value(value: Any) -> str:
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    if isinstance(value, (list, dict)):
        return f"`{json.dumps(value, ensure_ascii=False)}`"
    return json.dumps(value)


def _hyperparameters(config: dict[str, Any], summary: dict[str, Any], args: dict[str, Any] | None) -> str:
    """The card's training procedure: the model settings, then the TrainingArguments as run."""
    m, t = config.get("model", {}), config.get("training", {})
    encoder = (f"a BERT trained from scratch ({', '.join(f'{k} {v}' for k, v in m['scratch'].items())}) with a "
               "WordPiece vocabulary learnt from the training text" if m.get("scratch")
               else f"`{m.get('base_model')}`")
    lines = [f"- encoder: {encoder}",
             f"- windows of {m.get('max_length')} sub-tokens, stride {m.get('stride')}, first sub-token labelled"
             + (" (all sub-tokens labelled)" if m.get("label_all_subtokens") else ""),
             f"- loss weights: entities {m.get('entity_loss_weight')}, incidents {m.get('incident_loss_weight')}; "
             "partial-annotation token loss, masked incident BCE"]
    if m.get("head_learning_rate") is not None:
        lines.append(f"- heads' learning rate {m['head_learning_rate']} (the encoder's is `learning_rate`)")
    best = summary.get("best_metric")
    lines.append(f"- seed {config.get('seed')}; epochs run {summary.get('epochs_run')}; best dev combined F1 "
                 + (f"{best:.4f}" if isinstance(best, float) else "n/a (no dev split)"))
    if args is None:  # a run from before training_args.json was recorded: what its config set
        return "\n".join(lines + ["", "`TrainingArguments` set by the config (the rest: rasd's and transformers' "
                                  "defaults of the time):", ""]
                         + [f"- `{k}`: {_value(v)}" for k, v in sorted(t.items())])
    from training.arguments import non_default_arguments

    shown = lambda values: [f"- `{k}`: {_value(v)}" for k, v in sorted(values.items())  # noqa: E731
                            if k not in _CARD_SKIPS and not k.endswith("_token")]
    return "\n".join(lines + [
        "", "`TrainingArguments` that differ from the transformers defaults (every value is in "
        "`training_args.json`):", "", *shown(non_default_arguments(args)), "",
        "<details>", "<summary>All TrainingArguments of the run</summary>", "", *shown(args), "", "</details>"])


def export_run(run_dir: Path, out: Path, repo_id: str | None = None) -> Path:
    """Write the export folder for a finished run; returns ``out``.

    Raises:
        ExportError: a run folder without its model or config, an ``--out`` that must not be
            written (see the module docstring), or a model card that would be invalid.
    """
    if not run_dir.is_dir():
        raise ExportError(f"{run_dir}: no such run folder")
    final = run_dir / "final"
    if not final.is_dir():
        raise ExportError(f"{run_dir} has no final/ (the model a finished run saves): has its training finished?")
    config_path = run_dir / "config.resolved.yaml"
    if not config_path.is_file():
        raise ExportError(f"{config_path}: missing (every run writes it first: is {run_dir} a run folder?)")
    check_out(run_dir, out)
    config = read_yaml_mapping(config_path)
    from rasd.loading import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(final)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.export-", dir=out.parent))
    try:
        _write(run_dir, stage, config, model, tokenizer, repo_id)
        if out.exists():
            shutil.rmtree(out)
        stage.rename(out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return out


def _write(run_dir: Path, out: Path, config: dict[str, Any], model: Any, tokenizer: Any, repo_id: str | None) -> None:
    import transformers

    from rasd.schema import SCHEMA_VERSION
    from training.evaluate import to_markdown

    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    shutil.copy(run_dir / "config.resolved.yaml", out / "training_config.yaml")
    args = _read_json(run_dir / "training_args.json") if (run_dir / "training_args.json").is_file() else None
    if args is not None:
        shutil.copy(run_dir / "training_args.json", out / "training_args.json")
    summary = _read_json(run_dir / "run_summary.json") if (run_dir / "run_summary.json").exists() else {}
    reports = {p.stem: _read_json(p) for p in sorted((run_dir / "eval").glob("*.json"))}
    if reports:
        shutil.copytree(run_dir / "eval", out / "eval")
    (out / "eval_report.json").write_text(json.dumps(reports, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    tc = model.to_token_classification()
    tc.save_pretrained(out / "token-classification")
    tokenizer.save_pretrained(out / "token-classification")

    entries, table = _results(reports)
    per_class = "\n".join(f"### {name}: per class\n\n{to_markdown(rep)}" for name, rep in sorted(reports.items())
                          if "incidents" in rep)
    sources = _sources(summary, run_dir)
    mc = model.config
    choice = summary.get("thresholds") or {}
    # The model's own record first; runs from before it was kept say only which classes were tuned.
    threshold_sources = mc.incident_threshold_sources or choice.get("sources") or (
        ["class" if ok else "default" for ok in choice["tuned"]] if "tuned" in choice else None)
    name = config.get("output", {}).get("model_name", "rasd")
    repo = repo_id or f"<owner>/{name}"
    data = card_data(name, mc.base_model or "", config.get("output", {}).get("license", "apache-2.0"), entries, [])
    text = render(
        data, model_name=name, repo_id=repo, base_model=mc.base_model,
        schema_version=SCHEMA_VERSION, transformers_version=transformers.__version__,
        results_table=table, per_class=per_class, sources=sources,
        coverage="; ".join(s["description"] for s in sources) or "not recorded (the run has no run_summary.json)",
        entity_types=entity_rows(mc.entity_labels), entity_list=", ".join(mc.entity_labels),
        event_count=len(set(mc.incident_event_types)), incident_count=len(mc.incident_labels),
        incident_types=incident_rows(mc.incident_labels, mc.incident_event_types, mc.incident_thresholds,
                                     threshold_sources),
        threshold_note=threshold_note(threshold_sources, choice),
        hyperparameters=_hyperparameters(config, summary, args),
        wall_time=f"{summary.get('wall_time_s', '?')} s (building the data, training, tuning thresholds)",
        command=summary.get("command") or "(not recorded)")
    problems = validate_card_text(text)
    if problems:
        raise ExportError(f"{run_dir}: the model card would be invalid ({'; '.join(problems)}); "
                          "fix the run's config.resolved.yaml (output.license, output.model_name)")
    (out / "README.md").write_text(text, encoding="utf-8")
    (out / "token-classification" / "README.md").write_text(_tc_card(name, repo, mc.entity_labels), encoding="utf-8")


def _tc_card(name: str, repo: str, entity_labels: list[str]) -> str:
    return f"""---
language: ar
library_name: transformers
pipeline_tag: token-classification
tags: [arabic, ner, rasd]
---

# {name}: entity part

The token-classification half of the rasd model `{repo}`, as a stock `transformers` model (IOB2
tags over {", ".join(entity_labels)}). It loads with plain transformers:

```python
from transformers import pipeline
ner = pipeline("token-classification", model="path/to/this/folder", aggregation_strategy="simple")
```

rasd itself adds what this folder cannot: the same Arabic normalisation and word segmentation as
training, whole-article windowing without truncation, exact offsets, and incident classification.
"""
