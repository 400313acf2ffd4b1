"""Label Studio pre-annotation: rasd documents → import tasks, and the labelling config they fit.

A task's ``data`` holds the text, the document id and its date; its one ``predictions`` entry
holds a ``labels`` region per entity (control :data:`ENTITY_CONTROL`) and per sentence-level
incident type (control :data:`INCIDENT_CONTROL`, the region spanning the whole sentence). Label
values are the schema ids, so the builder's Label Studio reader
(:func:`training.readers.read_labelstudio`, label map ``spec``) reads an export back unchanged:
an accepted entity region is that entity, an incident region marks the sentence it overlaps.

Pass :func:`model_version` of the model as the predictions' ``model_version``: Label Studio takes
the project's model version from the first import and pre-fills the labelling screen only with
predictions of that version, so one model must always be named the same way.

Offsets are Python code points into ``data.text``, as everywhere in rasd. Label Studio's ``Text``
tag counts the same for Arabic (one UTF-16 unit per letter); only characters outside the Basic
Multilingual Plane (emoji) count twice in its browser, so regions after one are shown shifted.

Example:
    >>> from rasd.results import Document, Entity, Windowing
    >>> doc = Document("d1", "قصف درعا", (Entity("درعا", "LOC", 4, 8, 0.9),), (), (), (),
    ...                Windowing(1, 64, 8, 8, 0, 0))
    >>> task = to_task(doc, model_version="tiny")
    >>> task["data"], task["predictions"][0]["result"][0]["value"]
    ({'text': 'قصف درعا', 'id': 'd1'}, {'start': 4, 'end': 8, 'text': 'درعا', 'labels': ['LOC']})
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from rasd.errors import InputError
from rasd.results import Document
from rasd.schema import ENTITY_LABELS, ENTITY_TYPES, SUB_EVENT_LABELS, SUB_EVENT_TYPES

#: Names of the labelling config's controls and object tag (``from_name``/``to_name`` of a region).
ENTITY_CONTROL = "entity"
INCIDENT_CONTROL = "incident"
TEXT_OBJECT = "text"

# Distinct, readable backgrounds; incidents get lighter ones so entity regions stay visible on top.
_ENTITY_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c")
_INCIDENT_COLOURS = ("#ffd8b1", "#aaffc3", "#fffac8", "#dcbeff", "#c9e4f5", "#fabed4", "#e0e0e0")
_HINTS = {t.id: f"{t.name_ar} · {t.definition}" for t in ENTITY_TYPES} | \
         {t.id: f"{t.name_ar} · {t.name_en} ({t.event_type})" for t in SUB_EVENT_TYPES}


def _check_labels(entity_labels: Sequence[str], incident_labels: Sequence[str]) -> None:
    for name, labels in (("entity_labels", entity_labels), ("incident_labels", incident_labels)):
        bad = [x for x in labels if not isinstance(x, str) or not x.strip()]
        if bad:
            raise InputError(f"{name}: labels must be non-empty strings, got {bad[0]!r}")
        dupes = sorted({x for x in labels if list(labels).count(x) > 1})
        if dupes:
            raise InputError(f"{name}: {', '.join(dupes)} listed more than once")
    if not entity_labels and not incident_labels:
        raise InputError("a labelling config needs at least one entity or incident label")
    # The reader tells entities from incidents by the label alone: one name in both would be ambiguous.
    both = sorted(set(entity_labels) & set(incident_labels))
    if both:
        raise InputError(f"{', '.join(both)}: both an entity and an incident label")


def labelling_config(entity_labels: Sequence[str] = ENTITY_LABELS,
                     incident_labels: Sequence[str] = SUB_EVENT_LABELS) -> str:
    """Label Studio labelling config (XML) for rasd tasks: entity and incident span labels on one text.

    The text is shown right to left; incident regions are meant to cover a sentence (or a phrase
    in it: the sentence it overlaps takes the type). Hover a label for its Arabic name and definition.

    Example:
        >>> print(labelling_config(["LOC"], ["armed_clash"]).splitlines()[1])
          <Labels name="entity" toName="text" showInline="true">
    """
    _check_labels(entity_labels, incident_labels)

    def block(name: str, labels: Sequence[str], colours: Sequence[str]) -> list[str]:
        lines = [f'  <Labels name="{name}" toName="{TEXT_OBJECT}" showInline="true">']
        for k, label in enumerate(labels):
            hint = f" hint={quoteattr(_HINTS[label])}" if label in _HINTS else ""
            lines.append(f"    <Label value={quoteattr(label)} background={quoteattr(colours[k % len(colours)])}"
                         f"{hint}/>")
        return [*lines, "  </Labels>"]

    lines = ["<View>"]
    if entity_labels:
        lines += block(ENTITY_CONTROL, entity_labels, _ENTITY_COLOURS)
    if incident_labels:
        lines += ['  <Header value="incident types (mark the sentence)" size="6"/>']
        lines += block(INCIDENT_CONTROL, incident_labels, _INCIDENT_COLOURS)
    lines += ['  <View style="direction: rtl; text-align: right; line-height: 2">',
              f'    <Text name="{TEXT_OBJECT}" value="$text"/>', "  </View>", "</View>"]
    return "\n".join(lines) + "\n"


def model_version(model: str | Path) -> str:
    """A stable ``model_version`` for a model: ``<folder name>-<hash of its config and weights>``, or a Hub id as is.

    Label Studio sets a project's model version from the first predictions imported and shows as
    pre-annotations only predictions of that version, so the same model must always give the same
    string: ``runs/x/model``, ``./runs/x/model`` and its absolute path, or a copy of the folder,
    must not look like three models (the later batches' pre-annotations would be hidden), while a
    retrained model in the same folder must look new.

    Example:
        >>> model_version("someone/rasd-base")
        'someone/rasd-base'
    """
    folder = Path(model)
    if not folder.is_dir():
        return str(model)
    files = sorted(f for f in folder.iterdir() if f.suffix in (".json", ".safetensors", ".bin") and f.is_file())
    key = tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns, f) for f in files)
    return f"{folder.resolve().name}-{_digest(key)}"


@lru_cache(maxsize=8)
def _digest(files: tuple[tuple[str, int, int, Path], ...]) -> str:
    # Keyed by size and mtime too, so a folder rewritten in place is hashed again.
    h = hashlib.sha256()
    for name, _, _, path in files:
        h.update(name.encode("utf-8") + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:12]


def _region(rid: str, control: str, text: str, start: int, end: int, label: str, score: float) -> dict[str, Any]:
    return {"id": rid, "from_name": control, "to_name": TEXT_OBJECT, "type": "labels",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
            "score": round(float(score), 4)}


def prediction_results(doc: Document) -> list[dict[str, Any]]:
    """The ``labels`` regions of a document: its entities, then one region per (sentence, incident type).

    Example:
        >>> from rasd.results import Document, IncidentScore, Sentence, Windowing
        >>> s = Sentence(0, 8, (IncidentScore("armed_clash", "battles", 0.8),))
        >>> doc = Document("d1", "اشتباكات", (), (s,), (), (), Windowing(1, 64, 8, 8, 0, 0))
        >>> [(r["from_name"], r["value"]["labels"], r["score"]) for r in prediction_results(doc)]
        [('incident', ['armed_clash'], 0.8)]
    """
    results = [_region(f"e{k}", ENTITY_CONTROL, doc.text, e.start, e.end, e.label, e.score)
               for k, e in enumerate(doc.entities)]
    k = 0
    for sent in doc.sentences:
        for inc in sent.incidents:
            results.append(_region(f"i{k}", INCIDENT_CONTROL, doc.text, sent.start, sent.end, inc.label, inc.score))
            k += 1
    return results


def to_task(doc: Document, model_version: str, score: float | None = None) -> dict[str, Any]:
    """One Label Studio import task with the document's predictions as pre-annotations.

    ``data`` holds ``text``, ``id`` and ``date`` (ISO; both left out when the document has none),
    which the builder keeps as the document's id and meta. ``score`` is the prediction's
    confidence for Label Studio to sort by (low first = review first); by default the weakest
    region's score (an entity's mean word probability, an incident's probability), left out
    when nothing was predicted. ``python -m training select`` passes ``1 - uncertainty`` from the
    full probabilities instead. ``model_version`` should come from :func:`model_version`.

    Example:
        >>> task = to_task(extractor("قصف درعا", ids=["d1"]), "runs/tiny/model")  # doctest: +SKIP
    """
    if not isinstance(doc, Document):
        raise InputError(f"to_task needs a rasd.results.Document, got {type(doc).__name__}")
    data: dict[str, Any] = {"text": doc.text}
    if doc.id is not None:
        data["id"] = doc.id
    if doc.date is not None:
        data["date"] = doc.date.isoformat()
    results = prediction_results(doc)
    prediction: dict[str, Any] = {"model_version": str(model_version), "result": results}
    if score is None and results:
        score = min(r["score"] for r in results)
    if score is not None:
        if not 0.0 <= score <= 1.0:
            raise InputError(f"document {doc.id}: a prediction score must be in [0, 1], got {score}")
        prediction["score"] = round(float(score), 4)
    return {"data": data, "predictions": [prediction]}


__all__ = ["ENTITY_CONTROL", "INCIDENT_CONTROL", "TEXT_OBJECT", "labelling_config", "model_version",
           "prediction_results", "to_task"]
