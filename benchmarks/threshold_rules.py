"""Incident thresholds chosen on dev by two rules, scored on dev and test: what the support rule changes.

The old rule tuned every class with at least 3 dev positives on its own, down to 0.05; the
current one (:mod:`training.thresholds`) tunes a class alone only with 10+ dev positives,
lets the others share one pooled threshold and never goes below 0.2. Both are chosen on dev
alone; test is only reported.

    python benchmarks/threshold_rules.py --model runs/e5-full/model --data runs/e5-full/data/asnd \
        --out docs/threshold_rules_asnd.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `training` runs from a checkout

RULES = {"old: own threshold from 3 dev positives, floor 0.05": {"min_positives": 3, "floor": 0.0, "pooled": False},
         "current: own from 10, shared pooled below, floor 0.2": {"min_positives": 10, "floor": 0.2, "pooled": True}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True, help="a built dataset folder with validation and test")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    from rasd.inference import Engine
    from rasd.loading import load_model_and_tokenizer
    from training.evaluate import load_rows, predict_rows
    from training.metrics import incident_scores
    from training.thresholds import best_threshold, tune_thresholds

    model, tokenizer = load_model_and_tokenizer(args.model)
    engine = Engine(model, tokenizer)
    split = {}
    for name in ("validation", "test"):
        rows = load_rows(args.data, name)
        _, probs, _ = predict_rows(engine, rows)
        keep = [i for i, on in enumerate(rows["incidents_annotated"]) if on]
        split[name] = (np.array([rows["incident_labels"][i] for i in keep]), probs[keep])
    gold, prob = split["validation"]
    results = {}
    for name, rule in RULES.items():
        if rule["pooled"]:
            thresholds = tune_thresholds(gold, prob, rule["min_positives"], floor=rule["floor"]).thresholds
        else:  # the old per-class rule: alone from min_positives, else the default
            thresholds = [best_threshold(gold[:, k], prob[:, k], floor=rule["floor"])
                          if gold[:, k].sum() >= rule["min_positives"] else 0.5 for k in range(gold.shape[1])]
        row = {"thresholds": [float(t) for t in thresholds]}
        for split_name, (g, p) in split.items():
            scores = incident_scores(g, p, thresholds)
            predicted = int((p >= np.asarray(thresholds)).sum())
            row[split_name] = {"sub_event_micro_f1": scores["sub_event"]["micro"]["f1"],
                               "sub_event_micro_precision": scores["sub_event"]["micro"]["precision"],
                               "sub_event_macro_f1": scores["sub_event"]["macro"]["f1"],
                               "event_type_micro_f1": scores["event_type"]["micro"]["f1"],
                               "predicted_labels": predicted, "sentences": int(len(g))}
        results[name] = row
        print(name, json.dumps({k: v for k, v in row.items() if k != "thresholds"}))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
