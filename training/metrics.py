"""Entity (seqeval, strict IOB2) and incident (multi-label) scores.

Example:
    >>> s = entity_scores([["B-LOC", "O", "B-PER", "I-PER"]], [["B-LOC", "O", "B-PER", "O"]])
    >>> round(s["micro"]["f1"], 3), s["per_type"]["LOC"]["f1"]
    (0.5, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rasd.schema import EVENT_LABELS, SUB_EVENT_LABELS, event_type_of


def entity_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, Any]:
    """seqeval precision/recall/F1 in strict IOB2 mode: micro, macro and per type."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    if not any(t != "O" for s in gold for t in s) and not any(t != "O" for s in pred for t in s):
        return {"micro": _prf(0, 0, 0), "macro": _prf(0, 0, 0), "per_type": {}}
    report = classification_report(list(map(list, gold)), list(map(list, pred)), mode="strict",
                                   scheme=IOB2, output_dict=True, zero_division=0)
    per_type = {k: _clean(v) for k, v in report.items() if not k.endswith(" avg")}
    return {"micro": _clean(report["micro avg"]), "macro": _clean(report["macro avg"]), "per_type": per_type}


def _clean(row: dict[str, Any]) -> dict[str, float]:
    return {"precision": float(row["precision"]), "recall": float(row["recall"]),
            "f1": float(row["f1-score"]), "support": int(row["support"])}


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "support": tp + fn}


def mask_unannotated(tags: Sequence[str], annotated: Sequence[str]) -> list[str]:
    """Tags of types the gold source does not annotate become O: they cannot be scored there."""
    return [t if t == "O" or t[2:] in annotated else "O" for t in tags]


def _multilabel(gold: np.ndarray, pred: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    per = {}
    for k, label in enumerate(labels):
        tp = int(((gold[:, k] == 1) & (pred[:, k] == 1)).sum())
        fp = int(((gold[:, k] == 0) & (pred[:, k] == 1)).sum())
        fn = int(((gold[:, k] == 1) & (pred[:, k] == 0)).sum())
        per[label] = _prf(tp, fp, fn) | {"predicted": tp + fp}
    tp = int(((gold == 1) & (pred == 1)).sum())
    fp = int(((gold == 0) & (pred == 1)).sum())
    fn = int(((gold == 1) & (pred == 0)).sum())
    present = [v for v in per.values() if v["support"] > 0]
    macro = {m: float(np.mean([v[m] for v in present])) if present else 0.0 for m in ("precision", "recall", "f1")}
    return {"micro": _prf(tp, fp, fn), "macro": macro | {"classes": len(present)}, "per_class": per}


def to_event_types(multi_hot: np.ndarray, labels: Sequence[str] = SUB_EVENT_LABELS) -> np.ndarray:
    """Sub-event multi-hot (N, 25) → event-type multi-hot (N, 6)."""
    out = np.zeros((multi_hot.shape[0], len(EVENT_LABELS)), dtype=np.int64)
    for k, label in enumerate(labels):
        out[:, EVENT_LABELS.index(event_type_of(label))] |= multi_hot[:, k].astype(np.int64)
    return out


def incident_scores(gold: np.ndarray, prob: np.ndarray, thresholds: Sequence[float]) -> dict[str, Any]:
    """Multi-label scores at the sub-event and at the event-type level.

    Macro averages run over the classes present in ``gold`` (their number is reported).
    """
    pred = (prob >= np.asarray(thresholds)[None, :]).astype(np.int64)
    gold = gold.astype(np.int64)
    return {"sub_event": _multilabel(gold, pred, SUB_EVENT_LABELS),
            "event_type": _multilabel(to_event_types(gold), to_event_types(pred), EVENT_LABELS),
            "examples": int(gold.shape[0])}
