"""Export: ``python -m training export RUN_DIR --out DIR`` → a self-contained, documented model folder.

The folder holds the weights (safetensors), the config with labels and tuned
thresholds, the tokenizer, the resolved training config, the evaluation reports
and ``README.md`` (the model card rendered from ``model_card.md``), plus
``token-classification/``: the entity part as a stock transformers model.

Example:
    >>> export_run(Path("runs/tiny"), Path("runs/tiny/model"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from rasd.schema import SUB_EVENT_TYPES
from training.card import card_data, render, validate_card_text

_LABEL_MAP_DIR = Path(__file__).parent / "label_maps"


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
    out = []
    for name, info in run_summary.get("sources", {}).items():
        summary_path = run_dir / "data" / name / "summary.json"
        built = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        for src_name, src in (built.get("sources") or {name: {}}).items():
            splits = info.get("summary", {})
            counts = " / ".join(str(splits.get(s, {}).get("documents", 0)) for s in ("train", "validation", "test"))
            out.append({"name": src_name, "license": src.get("license") or _seed_license(src_name),
                        "entity_types": ", ".join(src.get("entity_types", [])),
                        "incidents": "yes" if src.get("incidents") else "no", "counts": counts,
                        "citation": src.get("citation", "")})
    return out


# What each known source brings, for the card's "coverage and bias" section.
SOURCE_NOTES = {
    "seeds": "Syrian local news about ISIS cells and local factions in Daraa (2022–2024), all types and incidents",
    "asnd": "Arab news outlets' social-media posts (ASND, 2019–2020; mostly Yemen, Syria, Iraq, Palestine, "
            "Libya), all types and incidents",
    "asnd_extra": "400 more ASND posts of the same kind, training only, all types and incidents",
    "anercorp": "2000s Arabic newswire (ANERcorp), PER/ORG/LOC only",
    "cleananercorp": "2000s Arabic newswire with corrected labels (CLEANANERCorp), PER/ORG/LOC only",
    "aqmar": "Arabic Wikipedia articles on history, science, technology and sport (AQMAR), PER/ORG/LOC only",
    "wojood": "Arabic news and other genres (Wojood sample), PER/ORG/LOC/DATE",
}


def _seed_license(name: str) -> str:
    asnd = "CC BY 4.0 (ASND, Chowdhury et al. 2020); annotations Apache-2.0"
    return {"seeds": "project annotations (Apache-2.0); article texts © their publishers",
            "asnd": asnd, "asnd_extra": asnd}.get(name, "see data/README.md")


def _hyperparameters(config: dict[str, Any], summary: dict[str, Any]) -> str:
    m, t = config.get("model", {}), config.get("training", {})
    encoder = (f"a BERT trained from scratch ({', '.join(f'{k} {v}' for k, v in m['scratch'].items())}) with a "
               "WordPiece vocabulary learnt from the training text" if m.get("scratch")
               else f"`{m.get('base_model')}`")
    lines = [f"- encoder: {encoder}",
             f"- windows of {m.get('max_length')} sub-tokens, stride {m.get('stride')}, first sub-token labelled"
             + (" (all sub-tokens labelled)" if m.get("label_all_subtokens") else ""),
             f"- loss weights: entities {m.get('entity_loss_weight')}, incidents {m.get('incident_loss_weight')}; "
             "partial-annotation token loss, masked incident BCE"]
    lines += [f"- `{k}`: {v}" for k, v in sorted(t.items())]
    best = summary.get("best_metric")
    lines.append(f"- seed {config.get('seed')}; epochs run {summary.get('epochs_run')}; best dev combined F1 "
                 + (f"{best:.4f}" if isinstance(best, float) else "n/a (no dev split)"))
    return "\n".join(lines)


def export_run(run_dir: Path, out: Path, repo_id: str | None = None) -> Path:
    """Write the export folder for a finished run; returns ``out``."""
    import transformers

    from rasd.loading import load_model_and_tokenizer
    from rasd.schema import SCHEMA_VERSION

    final = run_dir / "final"
    model, tokenizer = load_model_and_tokenizer(final)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    config = yaml.safe_load((run_dir / "config.resolved.yaml").read_text(encoding="utf-8"))
    shutil.copy(run_dir / "config.resolved.yaml", out / "training_config.yaml")
    summary = json.loads((run_dir / "run_summary.json").read_text()) if (run_dir / "run_summary.json").exists() else {}
    reports = {p.stem: json.loads(p.read_text()) for p in sorted((run_dir / "eval").glob("*.json"))}
    if reports:
        shutil.copytree(run_dir / "eval", out / "eval")
    (out / "eval_report.json").write_text(json.dumps(reports, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    tc = model.to_token_classification()
    tc.save_pretrained(out / "token-classification")
    tokenizer.save_pretrained(out / "token-classification")

    entries, table = _results(reports)
    from training.evaluate import to_markdown

    per_class = "\n".join(f"### {name}: per class\n\n{to_markdown(rep)}" for name, rep in sorted(reports.items())
                          if "incidents" in rep)
    sources = _sources(summary, run_dir)
    thresholds = model.config.incident_thresholds
    tuned = summary.get("thresholds", {}).get("tuned", [False] * len(thresholds))
    name = config.get("output", {}).get("model_name", "rasd")
    repo = repo_id or f"<owner>/{name}"
    data = card_data(name, model.config.base_model or "", config.get("output", {}).get("license", "apache-2.0"),
                     entries, [])
    coverage = "; ".join(SOURCE_NOTES.get(s["name"], f"{s['name']} ({s['entity_types']})") for s in sources)
    text = render(
        data, model_name=name, repo_id=repo, base_model=model.config.base_model,
        schema_version=SCHEMA_VERSION, transformers_version=transformers.__version__,
        results_table=table, per_class=per_class, coverage=coverage, sources=sources,
        incident_types=[{"id": t.id, "event_type": t.event_type, "name_ar": t.name_ar,
                         "threshold": f"{th:.2f}" + ("" if ok else " (default)")}
                        for t, th, ok in zip(SUB_EVENT_TYPES, thresholds, tuned)],
        tuned_count=sum(bool(x) for x in tuned), hyperparameters=_hyperparameters(config, summary),
        wall_time=f"{summary.get('wall_time_s', '?')} s (building the data, training, tuning thresholds)",
        command=summary.get("command") or "(not recorded)")
    problems = validate_card_text(text)
    if problems:
        raise ValueError("model card is invalid: " + "; ".join(problems))
    (out / "README.md").write_text(text, encoding="utf-8")
    (out / "token-classification" / "README.md").write_text(_tc_card(name, repo), encoding="utf-8")
    return out


def _tc_card(name: str, repo: str) -> str:
    return f"""---
language: ar
library_name: transformers
pipeline_tag: token-classification
tags: [arabic, ner, rasd]
---

# {name}: entity part

The token-classification half of the rasd model `{repo}`, as a stock `transformers` model (IOB2
tags over PER, ORG, LOC, DATE, WEAPON). It loads with plain transformers:

```python
from transformers import pipeline
ner = pipeline("token-classification", model="path/to/this/folder", aggregation_strategy="simple")
```

rasd itself adds what this folder cannot: the same Arabic normalisation and word segmentation as
training, whole-article windowing without truncation, exact offsets, and incident classification.
"""
