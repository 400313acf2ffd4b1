"""The model card: rendered from the top-level ``model_card.md`` template, validated offline.

Front matter comes from huggingface_hub's ``ModelCardData`` (language, licence,
library, pipeline tag, tags, base model, datasets and a ``model-index`` with the
measured results); the body from the run's evaluation reports, data summaries
and resolved config.

Example:
    >>> problems = validate_card_text("---\\nlanguage: ar\\n---\\n# x")
    >>> problems[0]
    'front matter: license is missing'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rasd import __version__
from rasd.modeling import THRESHOLD_SOURCES
from rasd.schema import ENTITY_TYPES, EVENT_TYPES, SUB_EVENT_TYPES

TEMPLATE = Path(__file__).resolve().parents[1] / "model_card.md"
# Licence ids the Hub accepts that our data and models may carry.
HUB_LICENSES = {"apache-2.0", "mit", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-sa-3.0", "cc-by-nc-4.0",
                "cc-by-nc-sa-4.0", "gpl-3.0", "other", "unknown", "openrail", "bsd-3-clause"}
REQUIRED = ("language", "license", "library_name", "pipeline_tag", "tags")


def card_data(model_name: str, base_model: str, license: str, results: list[dict[str, Any]],
              datasets: list[str]) -> Any:
    """``ModelCardData`` with the model-index built from measured results."""
    from huggingface_hub import EvalResult, ModelCardData

    evals = [EvalResult(task_type=r["task_type"], task_name=r["task_name"], dataset_type=r["dataset_type"],
                        dataset_name=r["dataset_name"], dataset_split="test", metric_type=r["metric_type"],
                        metric_name=r["metric_name"], metric_value=round(float(r["value"]), 4))
             for r in results]
    base = base_model if "/" in base_model and not base_model.startswith((".", "/")) else None
    return ModelCardData(language="ar", license=license, library_name="rasd", pipeline_tag="token-classification",
                         tags=["arabic", "ner", "token-classification", "text-classification", "acled",
                               "conflict", "event-extraction", "rasd"],
                         base_model=base, datasets=datasets or None, model_name=model_name,
                         eval_results=evals or None)




def entity_rows(entity_labels: list[str]) -> list[dict[str, str]]:
    """The card's entity table for a model's own labels: the schema's words where it has the label.

    Example:
        >>> [r["definition"] for r in entity_rows(["PER", "VEHICLE"])][1]
        'A label of this model outside the rasd schema (no definition there).'
    """
    known = {t.id: t for t in ENTITY_TYPES}
    return [{"id": label, "name_ar": known[label].name_ar, "definition": known[label].definition} if label in known
            else {"id": label, "name_ar": "–", "definition": "A label of this model outside the rasd schema "
                                                              "(no definition there)."}
            for label in entity_labels]


def incident_rows(labels: list[str], event_types: list[str], thresholds: list[float],
                  sources: list[str] | None) -> list[dict[str, str]]:
    """The card's incident table: each label of the model with its threshold and where that came from.

    Example:
        >>> incident_rows(["armed_clash"], ["battles"], [0.35], ["class"])[0]["threshold"]
        '0.35 (own dev tuning)'
    """
    known = {t.id: t for t in SUB_EVENT_TYPES}
    sources = sources if sources is not None and len(sources) == len(labels) else [None] * len(labels)
    return [{"id": label, "event_type": event, "name_ar": known[label].name_ar if label in known else "–",
             "threshold": f"{th:.2f}" + (f" ({THRESHOLD_SOURCES.get(src, src)})" if src else "")}
            for label, event, th, src in zip(labels, event_types, thresholds, sources)]


def threshold_note(sources: list[str] | None, choice: dict[str, Any]) -> str:
    """One paragraph on how the incident thresholds were chosen, from the run summary's record."""
    if sources is None:
        return "How these thresholds were chosen was not recorded with this model."
    count = {kind: sources.count(kind) for kind in THRESHOLD_SOURCES}
    positives = choice.get("min_positives")
    parts = [f"{count['class']} of {len(sources)} classes had enough dev examples"
             + (f" (at least {positives})" if positives else "") + " for a threshold of their own "
             "(F1-maximising on the dev split)"]
    if count["shared"]:
        shared = choice.get("shared")
        parts.append(f"{count['shared']} share one threshold" + (f" ({shared:.2f})" if shared is not None else "")
                     + " tuned on their dev examples pooled")
    parts.append(f"{count['default']} keep the default 0.5")
    floor = choice.get("floor")
    return ("Where each threshold comes from: " + "; ".join(parts) + "."
            + (f" No tuned threshold is below {floor}." if floor is not None else ""))


def render(data: Any, template: Path = TEMPLATE, **variables: Any) -> str:
    """The card text: ``template`` rendered with ``data`` as front matter and ``variables``."""
    from huggingface_hub import ModelCard

    variables.setdefault("entity_types", ENTITY_TYPES)
    variables.setdefault("entity_list", ", ".join(t.id for t in ENTITY_TYPES))
    variables.setdefault("event_count", len(EVENT_TYPES))
    variables.setdefault("incident_count", len(SUB_EVENT_TYPES))
    variables.setdefault("rasd_version", __version__)
    card = ModelCard.from_template(data, template_path=str(template), **variables)
    return str(card)


def validate_card_text(text: str) -> list[str]:
    """Problems with a card's front matter, checked offline (the Hub's own check needs the network)."""
    if not text.startswith("---\n"):
        return ["front matter: missing (the card must start with '---')"]
    try:
        _, front, _ = text.split("---\n", 2)
        meta = yaml.safe_load(front) or {}
    except (ValueError, yaml.YAMLError) as exc:
        return [f"front matter: not valid YAML ({exc})"]
    problems = [f"front matter: {key} is missing" for key in REQUIRED if not meta.get(key)]
    if meta.get("license") and meta["license"] not in HUB_LICENSES:
        problems.append(f"front matter: license {meta['license']!r} is not a Hub licence id")
    if meta.get("language") not in (None, "ar") and "ar" not in (meta.get("language") or []):
        problems.append("front matter: language does not include 'ar'")
    for entry in meta.get("model-index", []) or []:
        for result in entry.get("results", []):
            for metric in result.get("metrics", []):
                if not isinstance(metric.get("value"), (int, float)):
                    problems.append(f"model-index: metric {metric.get('name')!r} has no numeric value")
    if "{{" in text or "{%" in text:
        problems.append("body: unrendered template markup")
    return problems
