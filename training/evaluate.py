"""Evaluation: entity and incident scores of a model on annotated data, as JSON, Markdown and PNG.

Predictions come from :class:`rasd.inference.Engine`, the code path users get,
on whole documents. Entities are scored with seqeval (strict IOB2) on word tags;
predicted types that a gold source does not annotate are not counted against it.
Incidents are scored per sub-event and per event type, at sentence and at
document level, with the model's tuned per-class thresholds.

Example:
    >>> report = evaluate_model("runs/tiny/model", "seeds/annotations.jsonl")  # doctest: +SKIP
    >>> report["entities"]["micro"]["f1"]  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rasd.decoding import viterbi
from rasd.errors import InputError
from rasd.inference import Engine
from rasd.schema import ENTITY_LABELS, EVENT_LABELS, IOB2_TAGS, SUB_EVENT_LABELS
from training.metrics import entity_scores, incident_scores, mask_unannotated
from training.readers import iter_json_lines
from training.thresholds import THRESHOLD_GRID


def group_documents(rows: Any) -> list[list[int]]:
    """Row indices per document, in sentence order (rows of one document are contiguous or not)."""
    docs: dict[str, list[int]] = {}
    for i, doc_id in enumerate(rows["doc_id"]):
        docs.setdefault(doc_id, []).append(i)
    index = rows["sentence_index"]
    return [sorted(v, key=lambda i: index[i]) for _, v in sorted(docs.items())]


def predict_rows(engine: Engine, rows: dict[str, list[Any]]) -> tuple[list[list[str]], np.ndarray, list[list[int]]]:
    """Predicted word tags per row and incident probabilities per row, via the engine."""
    groups = group_documents(rows)
    outputs = engine.run([[rows["tokens"][i] for i in g] for g in groups])
    tags: list[list[str]] = [[] for _ in rows["doc_id"]]
    probs = np.zeros((len(rows["doc_id"]), len(engine.model.config.incident_labels)))
    labels = engine.model.config.tags
    for group, out in zip(groups, outputs):
        w = 0
        for k, i in enumerate(group):
            n = len(rows["tokens"][i])
            tags[i] = [labels[j] for j in viterbi(out.word_probs[w:w + n], labels)]
            probs[i] = out.sentence_probs[k]
            w += n
    return tags, probs, groups


def score_rows(rows: dict[str, list[Any]], tags: Sequence[Sequence[str]], probs: np.ndarray,
               groups: list[list[int]], thresholds: Sequence[float]) -> dict[str, Any]:
    """Entity and incident scores of predictions against built rows."""
    gold_tags, pred_tags, scored_types = [], [], set()
    for i, gold_ids in enumerate(rows["ner_tags"]):
        annotated = [t for t, on in zip(ENTITY_LABELS, rows["entity_types_annotated"][i]) if on]
        scored_types.update(annotated)
        gold_tags.append([IOB2_TAGS[t] for t in gold_ids])
        pred_tags.append(mask_unannotated(tags[i], annotated))
    report: dict[str, Any] = {
        "documents": len(groups), "sentences": len(rows["doc_id"]),
        "entity_types_scored": [t for t in ENTITY_LABELS if t in scored_types],
        "entities": entity_scores(gold_tags, pred_tags),
    }
    inc_rows = [i for i, on in enumerate(rows["incidents_annotated"]) if on]
    if inc_rows:
        gold = np.array([rows["incident_labels"][i] for i in inc_rows])
        report["incidents"] = {"sentence": incident_scores(gold, probs[inc_rows], thresholds)}
        inc_set = set(inc_rows)
        doc_groups = [g for g in groups if g[0] in inc_set]
        doc_gold = np.array([np.max([rows["incident_labels"][i] for i in g], axis=0) for g in doc_groups])
        doc_prob = np.array([probs[g].max(axis=0) for g in doc_groups])
        report["incidents"]["document"] = incident_scores(doc_gold, doc_prob, thresholds)
        report["incidents"]["pr_curve"] = _pr_curve(gold, probs[inc_rows])
        report["incidents"]["confusion"] = confusion(gold, probs[inc_rows], thresholds)
    return report


def confusion(gold: np.ndarray, prob: np.ndarray, thresholds: Sequence[float]) -> dict[str, dict[str, int]]:
    """Sentence-level confusions: gold type → predicted type counts ("none" on either side).

    A gold type that is predicted counts on the diagonal; one that is missed counts
    against each wrong type predicted for that sentence, or "none".
    """
    pred = prob >= np.asarray(thresholds)[None, :]
    table: dict[str, dict[str, int]] = {}

    def add(g: str, p: str) -> None:
        table.setdefault(g, {})
        table[g][p] = table[g].get(p, 0) + 1

    for g_row, p_row in zip(gold.astype(bool), pred):
        gold_types = [SUB_EVENT_LABELS[k] for k in np.flatnonzero(g_row)]
        wrong = [SUB_EVENT_LABELS[k] for k in np.flatnonzero(p_row & ~g_row)]
        for g in gold_types:
            if p_row[SUB_EVENT_LABELS.index(g)]:
                add(g, g)
            else:
                for p in wrong or ["none"]:
                    add(g, p)
        if not gold_types:
            for p in wrong:
                add("none", p)
    return table


def _pr_curve(gold: np.ndarray, prob: np.ndarray) -> dict[str, list[float]]:
    """Micro-averaged sentence-level precision/recall at each global threshold of ``THRESHOLD_GRID``.

    The same grid the thresholds are tuned on, rather than every distinct score
    (``sklearn.metrics.precision_recall_curve``): the points are the choices one can make.
    With nothing predicted precision is 1; with nothing to find recall is 0.
    """
    from sklearn.metrics import precision_score, recall_score

    points: dict[str, list[float]] = {"threshold": [], "precision": [], "recall": []}
    gold = np.asarray(gold).astype(np.int64)
    for t in THRESHOLD_GRID:
        pred = (prob >= t).astype(np.int64)
        points["threshold"].append(float(t))
        points["precision"].append(float(precision_score(gold, pred, average="micro", zero_division=1.0)))
        points["recall"].append(float(recall_score(gold, pred, average="micro", zero_division=0.0)))
    return points


def load_rows(data: str | Path, split: str | None = None) -> dict[str, list[Any]]:
    """Rows to score: a saved DatasetDict (one split, default ``test``) or any builder input."""
    import datasets

    data = Path(data)
    if (data / "dataset_dict.json").exists():
        dd = datasets.load_from_disk(str(data))
        name = split or ("test" if "test" in dd else "validation")
        if name not in dd:
            raise InputError(f"{data}: no split {name!r} (has {', '.join(dd)})")
        return dd[name].to_dict()
    from training.builder import BuildOptions, InputSpec, build

    result = build([InputSpec(data)], BuildOptions(dev_ratio=0.0, test_ratio=0.0))
    parts = [result.dataset[s].to_dict() for s in result.dataset if len(result.dataset[s])]
    return {k: [v for p in parts for v in p[k]] for k in parts[0]}


def evaluate_model(model_dir: str | Path, data: str | Path, split: str | None = None,
                   batch_size: int = 16, dtype: str | None = None) -> dict[str, Any]:
    """Score the model in ``model_dir`` on ``data``; returns the report (see :func:`score_rows`).

    ``dtype`` runs the model as the extractor would in that precision (``bfloat16``,
    ``int8``…), to measure what reduced precision costs in accuracy.
    """
    import torch

    from rasd.loading import load_model_and_tokenizer
    from rasd.precision import prepare_model

    model, tokenizer = load_model_and_tokenizer(model_dir)
    model, precision = prepare_model(model, torch.device("cpu"), dtype)
    rows = load_rows(data, split)
    engine = Engine(model, tokenizer, batch_size=batch_size)
    tags, probs, groups = predict_rows(engine, rows)
    report = score_rows(rows, tags, probs, groups, model.config.incident_thresholds)
    report["data"] = str(data)
    report["model"] = str(model_dir)
    report["dtype"] = precision
    return report


def _prediction_spans(pred: dict[str, Any], layer: str, labels: Sequence[str], text: str,
                      where: str) -> list[tuple[int, int, str]]:
    """The ``entities`` or ``events`` of one prediction, checked: a bad item is an error naming its line."""
    items = pred.get(layer, [])
    if not isinstance(items, list):
        raise InputError(f"{where}: '{layer}' must be a list")
    spans = []
    for item in items:
        start, end = (item.get("start"), item.get("end")) if isinstance(item, dict) else (None, None)
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
            raise InputError(f"{where}: {layer} item {item!r:.120} needs integer 'start' and 'end'")
        # rasd predict's event records name their type in ACLED's terms; SPEC spans say "label".
        label = item.get("sub_event_type", item.get("label")) if layer == "events" else item.get("label")
        if label not in labels:
            raise InputError(f"{where}: {layer} item ({start}, {end}) has unknown label {label!r}")
        if not 0 <= start < end <= len(text):
            raise InputError(f"{where}: {layer} span ({start}, {end}) is out of range for a text of length "
                             f"{len(text)}")
        spans.append((start, end, label))
    return spans


def _cut_at_sentences(spans: Sequence[tuple[int, int, str]], sentences: Sequence[Any],
                      where: str) -> tuple[list[Any], list[str]]:
    """Entity spans cut into their pieces inside ``sentences``; also a note per span that was cut.

    A predicted entity that runs over a gold sentence cut cannot be one example's entity:
    each piece is scored in its own sentence, as a model run scores word tags per sentence
    (so a wrong crossing prediction costs precision instead of vanishing), and the span is
    counted in the report.
    """
    from training.documents import LabelledSpan

    pieces, cut = [], []
    for start, end, label in spans:
        inside = [LabelledSpan(max(start, s.start), min(end, s.end), label) for s in sentences
                  if any(a < end and start < b for a, b in s.words)]
        if not inside:
            raise InputError(f"{where}: entity span ({start}, {end}, {label}) covers no word of the text")
        if len(inside) > 1:
            cut.append(f"{where}: entity ({start}, {end}, {label}) crosses {len(inside) - 1} sentence cut(s)")
        pieces.extend(inside)
    return pieces, cut


def score_prediction_file(predictions: str | Path, gold: str | Path) -> dict[str, Any]:
    """Score a ``rasd predict`` JSON Lines file against gold annotations (any builder input).

    A prediction matches a gold document by id, by file stem (``rasd predict`` ids are paths)
    or by identical text. Predicted entities and incident sentences are cut into the gold
    document's own sentences (a CoNLL corpus's, or those the builder merged around a gold
    span) and converted to IOB2 the same way, so that row i of the predictions is row i of
    the gold; then they are scored as a model run is. A predicted entity that crosses a gold
    sentence cut is scored as its pieces and counted under ``prediction_spans_split``.
    """
    from training.builder import InputSpec as Spec
    from training.builder import document_examples, load_documents
    from training.documents import AnnotatedDocument, LabelledSpan, Problems
    from training.validation import assign_sentences, validate_corpus

    problems = Problems()
    gold_docs, maps = load_documents([Spec(Path(gold))], problems)
    gold_docs = validate_corpus(gold_docs, {k: m.entity_types for k, m in maps.items()}, problems)
    problems.raise_if_errors()
    by_key: dict[str, dict[str, Any]] = {}
    for lineno, obj in iter_json_lines(Path(predictions)):
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise InputError(f"{predictions}:{lineno}: not a rasd prediction (needs 'text')")
        obj["_where"] = f"{predictions}:{lineno}"
        for key in {str(obj.get("id")), Path(str(obj.get("id"))).stem, "text:" + obj["text"]}:
            by_key.setdefault(key, obj)
    rows: dict[str, list[Any]] = {}
    pred_rows: dict[str, list[Any]] = {}
    missing, cut = [], []
    for doc in gold_docs:
        pred = by_key.get(doc.id) or by_key.get("text:" + doc.text)
        if pred is None:
            missing.append(doc.id)
            continue
        where = pred["_where"]
        if pred["text"] != doc.text:
            raise InputError(f"{where}: prediction for document {doc.id} has a different text")
        sentences = assign_sentences(doc, problems)
        entities, doc_cut = _cut_at_sentences(_prediction_spans(pred, "entities", ENTITY_LABELS, doc.text, where),
                                              sentences, where)
        cut += doc_cut
        events = [LabelledSpan(*e) for e in _prediction_spans(pred, "events", SUB_EVENT_LABELS, doc.text, where)]
        as_doc = AnnotatedDocument(doc.id, doc.text, entities, events, doc.source, where)
        for target, d in ((rows, doc), (pred_rows, as_doc)):
            for ex in document_examples(d, maps[doc.source], problems, sentences):
                for k, v in ex.items():
                    target.setdefault(k, []).append(v)
    if missing:
        raise InputError(f"{predictions}: no prediction for {len(missing)} gold document(s), e.g. {missing[:3]}")
    problems.raise_if_errors()
    tags = [[IOB2_TAGS[t] for t in r] for r in pred_rows["ner_tags"]]
    probs = np.array(pred_rows["incident_labels"], dtype=float)
    report = score_rows(rows, tags, probs, group_documents(rows), [0.5] * probs.shape[1])
    report["data"], report["predictions"] = str(gold), str(predictions)
    report["prediction_spans_split"] = {"entities": len(cut), "examples": cut[:5]}
    return report


def headline(report: dict[str, Any]) -> dict[str, float]:
    """The few numbers worth printing: entity micro-F1 and incident micro-F1 (sub-event, event type)."""
    out = {"entity_micro_f1": report["entities"]["micro"]["f1"]}
    if "incidents" in report:
        for level in ("sentence", "document"):
            inc = report["incidents"][level]
            out[f"incident_{level}_sub_event_micro_f1"] = inc["sub_event"]["micro"]["f1"]
            out[f"incident_{level}_event_type_micro_f1"] = inc["event_type"]["micro"]["f1"]
    return out


def to_markdown(report: dict[str, Any]) -> str:
    """Markdown tables of a report: entities per type, incidents per event and sub-event type."""
    ent = report["entities"]
    lines = [f"Data: `{report.get('data', '?')}` ({report['documents']} documents, {report['sentences']} "
             f"sentences); entity types scored: {', '.join(report['entity_types_scored'])}."]
    split = report.get("prediction_spans_split", {}).get("entities", 0)
    if split:
        lines.append(f"{split} predicted entit{'y' if split == 1 else 'ies'} crossed a gold sentence cut and "
                     "were scored as their pieces.")
    lines += ["", "| entities | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, row in [*sorted(ent["per_type"].items()), ("micro", ent["micro"]), ("macro", ent["macro"])]:
        lines.append(f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | "
                     f"{row.get('support', '')} |")
    if "incidents" in report:
        for level in ("sentence", "document"):
            inc = report["incidents"][level]
            lines += ["", f"| incidents ({level} level, {inc['examples']} {level}s) | precision | recall | F1 "
                          "| support | predicted |", "|---|---|---|---|---|---|"]
            for key, labels in (("event_type", EVENT_LABELS), ("sub_event", SUB_EVENT_LABELS)):
                for name in labels:
                    row = inc[key]["per_class"][name]
                    if row["support"] or row["predicted"]:
                        indent = "" if key == "event_type" else "↳ "
                        lines.append(f"| {indent}{name} | {row['precision']:.3f} | {row['recall']:.3f} | "
                                     f"{row['f1']:.3f} | {row['support']} | {row['predicted']} |")
                for avg in ("micro", "macro"):
                    row = inc[key][avg]
                    lines.append(f"| **{key.replace('_', '-')} {avg}** | {row['precision']:.3f} | "
                                 f"{row['recall']:.3f} | {row['f1']:.3f} | | |")
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], out: Path) -> list[Path]:
    """Write ``out`` (JSON), ``out`` with .md, and PNG plots beside it; returns the paths written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md = out.with_suffix(".md")
    md.write_text(to_markdown(report), encoding="utf-8")
    return [out, md, *plot_report(report, out.with_suffix(""))]


def plot_report(report: dict[str, Any], stem: Path) -> list[Path]:
    """Per-class F1 bars (entities, incident sub-events), the incident PR curve and confusions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, axes = plt.subplots(1, 2 if "incidents" in report else 1, figsize=(13, 5), squeeze=False)
    per_type = report["entities"]["per_type"]
    names = [t for t in ENTITY_LABELS if t in per_type]
    axes[0][0].barh(names, [per_type[t]["f1"] for t in names], color="#4c72b0")
    axes[0][0].set_xlim(0, 1)
    axes[0][0].set_title("entity F1 per type")
    if "incidents" in report:
        per = report["incidents"]["sentence"]["sub_event"]["per_class"]
        present = [t for t in SUB_EVENT_LABELS if per[t]["support"]]
        axes[0][1].barh(present, [per[t]["f1"] for t in present], color="#dd8452")
        axes[0][1].set_xlim(0, 1)
        axes[0][1].set_title("incident F1 per sub-event type (sentence level)")
        axes[0][1].tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    paths.append(stem.with_name(stem.name + "_f1.png"))
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    if "incidents" in report:
        pr = report["incidents"]["pr_curve"]
        fig, ax = plt.subplots(figsize=(5, 5))
        ax.plot(pr["recall"], pr["precision"], marker="o")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_title("incidents: micro PR curve (one global threshold)")
        fig.tight_layout()
        paths.append(stem.with_name(stem.name + "_pr.png"))
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
        table = report["incidents"]["confusion"]
        names = [t for t in SUB_EVENT_LABELS if t in table or any(t in row for row in table.values())] + ["none"]
        grid = np.array([[table.get(g, {}).get(p, 0) for p in names] for g in names])
        fig, ax = plt.subplots(figsize=(9, 8))
        ax.imshow(np.log1p(grid), cmap="Blues")
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        for i in range(len(names)):
            for j in range(len(names)):
                if grid[i, j]:
                    ax.text(j, i, str(grid[i, j]), ha="center", va="center", fontsize=6)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title("incident confusions (sentence level)")
        fig.tight_layout()
        paths.append(stem.with_name(stem.name + "_confusion.png"))
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths
