"""Entity (seqeval, strict IOB2) and incident (multi-label, scikit-learn) scores.

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
        return {"micro": dict(_ZERO, support=0), "macro": dict(_ZERO, support=0), "per_type": {}}
    report = classification_report(list(map(list, gold)), list(map(list, pred)), mode="strict",
                                   scheme=IOB2, output_dict=True, zero_division=0)
    per_type = {k: _clean(v) for k, v in report.items() if not k.endswith(" avg")}
    return {"micro": _clean(report["micro avg"]), "macro": _clean(report["macro avg"]), "per_type": per_type}


def _clean(row: dict[str, Any]) -> dict[str, float]:
    return {"precision": float(row["precision"]), "recall": float(row["recall"]),
            "f1": float(row["f1-score"]), "support": int(row["support"])}


_ZERO = {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def mask_unannotated(tags: Sequence[str], annotated: Sequence[str]) -> list[str]:
    """Tags of types the gold source does not annotate become O: they cannot be scored there."""
    return [t if t == "O" or t[2:] in annotated else "O" for t in tags]


def _multilabel(gold: np.ndarray, pred: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """Per-class, micro and macro precision/recall/F1 of multi-hot ``pred`` against ``gold``.

    A class or average with nothing to divide by scores 0 (``zero_division=0``); macro runs
    over the classes present in ``gold`` only, whose number is reported as ``classes``.
    """
    from sklearn.metrics import precision_recall_fscore_support

    if gold.shape[0] == 0:  # scikit-learn refuses empty input; nothing was scored
        return {"micro": dict(_ZERO, support=0), "macro": dict(_ZERO, classes=0),
                "per_class": {label: dict(_ZERO, support=0, predicted=0) for label in labels}}
    support = gold.sum(axis=0)
    p, r, f, _ = precision_recall_fscore_support(gold, pred, average=None, zero_division=0)
    per = {label: {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f[k]), "support": int(support[k]),
                   "predicted": int(pred[:, k].sum())} for k, label in enumerate(labels)}
    mp, mr, mf, _ = precision_recall_fscore_support(gold, pred, average="micro", zero_division=0)
    present = [int(k) for k in np.flatnonzero(support)]
    macro = dict(_ZERO)
    if present:
        ap, ar, af, _ = precision_recall_fscore_support(gold, pred, labels=present, average="macro", zero_division=0)
        macro = {"precision": float(ap), "recall": float(ar), "f1": float(af)}
    return {"micro": {"precision": float(mp), "recall": float(mr), "f1": float(mf), "support": int(support.sum())},
            "macro": macro | {"classes": len(present)}, "per_class": per}


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
