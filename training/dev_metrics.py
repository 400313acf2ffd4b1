"""What the dev split says during and after training: checkpoint metrics and incident thresholds.

The ``Trainer`` hands over logits and labels window by window; :func:`preprocess_logits`
keeps only tag ids and incident probabilities, :func:`gather` turns them into word-tag
sequences and sentence multi-hots, :func:`compute_metrics` scores a checkpoint, and
:func:`tune_incident_thresholds` sets the model's thresholds from the best one.

Example:
    >>> import numpy as np
    >>> from rasd.modeling import RasdConfig
    >>> config = RasdConfig()
    >>> n = len(config.incident_labels)
    >>> summary = tune_incident_thresholds(config, np.zeros((0, n)), np.zeros((0, n)))
    >>> summary["dev_sentences"], set(summary["sources"]), summary["floor"]
    (0, {'default'}, 0.2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rasd.schema import ENTITY_LABELS, IOB2_TAGS
from training.metrics import entity_scores, incident_scores, mask_unannotated
from training.thresholds import THRESHOLD_GRID, tune_thresholds


def preprocess_logits(logits: Any, labels: Any) -> tuple[Any, Any]:
    """Tag ids and incident probabilities: all the metrics need (the full logits would fill eval memory)."""
    import torch

    token_logits, incident_logits = logits[0], logits[1]
    return token_logits.argmax(-1), torch.sigmoid(incident_logits.float())


def gather(eval_pred: Any) -> tuple[list[list[str]], list[list[str]], np.ndarray, np.ndarray]:
    """Gold and predicted word tags (unannotated types masked) and incident gold/probabilities per sentence."""
    tags, probs = eval_pred.predictions
    labels, incident_labels, annotated = eval_pred.label_ids
    gold_seqs, pred_seqs = [], []
    for t_row, l_row, a_row in zip(tags, labels, annotated):
        keep = l_row != -100
        types = [e for e, on in zip(ENTITY_LABELS, a_row) if on]
        gold_seqs.append([IOB2_TAGS[i] for i in l_row[keep]])
        pred_seqs.append(mask_unannotated([IOB2_TAGS[i] for i in t_row[keep]], types))
    rows = incident_labels[..., 0] >= 0
    gold = incident_labels[rows].astype(np.int64)
    prob = probs[:, :incident_labels.shape[1]][rows]
    return gold_seqs, pred_seqs, gold, prob


def compute_metrics(eval_pred: Any) -> dict[str, float]:
    """Dev metrics: entity micro-F1, incident micro-F1 at the best single threshold, their mean."""
    gold_seqs, pred_seqs, gold, prob = gather(eval_pred)
    out = {"entity_f1": entity_scores(gold_seqs, pred_seqs)["micro"]["f1"]}
    if len(gold):
        # Per-class thresholds are tuned after training, so select the checkpoint on the best
        # micro-F1 any single threshold reaches: 0.5 would hide a well-ranking but shy model.
        scored = [(incident_scores(gold, prob, [t] * gold.shape[1]), float(t)) for t in THRESHOLD_GRID]
        best, threshold = max(scored, key=lambda st: st[0]["sub_event"]["micro"]["f1"])
        out["incident_f1"] = best["sub_event"]["micro"]["f1"]
        out["incident_event_type_f1"] = best["event_type"]["micro"]["f1"]
        out["incident_threshold"] = threshold
    out["combined_f1"] = float(np.mean([out["entity_f1"]] + ([out["incident_f1"]] if "incident_f1" in out else [])))
    return out


def dev_incidents(trainer: Any, dev: Any | None, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Incident gold multi-hots and probabilities of the dev sentences (none without a dev split)."""
    if dev is None:
        return np.zeros((0, n_labels), dtype=np.int64), np.zeros((0, n_labels))
    _, _, gold, prob = gather(trainer.predict(dev))
    return gold, prob


def tune_incident_thresholds(config: Any, gold: np.ndarray, prob: np.ndarray) -> dict[str, Any]:
    """Set ``config.incident_thresholds`` from dev; returns the run summary's record of the choice.

    The record always holds ``thresholds``, ``sources`` (class/shared/default per class),
    ``shared``, ``floor``, ``min_positives`` and ``tuned``; with dev sentences also the dev
    micro-F1 at 0.5 and at the tuned thresholds.
    """
    n = len(config.incident_labels)
    gold, prob = np.asarray(gold).reshape(-1, n), np.asarray(prob, dtype=float).reshape(-1, n)
    choice = tune_thresholds(gold, prob)  # no dev sentences: every class keeps the default
    config.incident_thresholds = [float(t) for t in choice.thresholds]
    config.incident_threshold_sources = list(choice.sources)
    summary: dict[str, Any] = {**choice.to_dict(), "tuned": choice.tuned, "dev_sentences": int(len(gold))}
    if len(gold):
        summary["dev_micro_f1_at_0.5"] = incident_scores(gold, prob, [0.5] * n)["sub_event"]["micro"]["f1"]
        summary["dev_micro_f1_tuned"] = incident_scores(gold, prob, choice.thresholds)["sub_event"]["micro"]["f1"]
    return summary
