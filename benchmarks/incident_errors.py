"""List the incident errors of a model on a held-out split, sentence by sentence, for error analysis.

    python benchmarks/incident_errors.py --model runs/e5-small/model --data runs/e5-small/data/asnd \\
        --documents data/annotated/asnd.jsonl --out docs/incident_errors_asnd_test.md

For every test sentence whose predicted sub-event types differ from the gold ones, writes the
sentence, the gold types and the predicted types with their scores; then counts, per type, the
false positives and false negatives. Uses the model's tuned thresholds, as `evaluate` does.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `training` is run from a checkout, not installed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True, help="a built dataset folder")
    ap.add_argument("--documents", type=Path, required=True, help="the SPEC JSONL the dataset was built from")
    ap.add_argument("--split", default="test")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    import json

    import datasets

    import rasd
    from rasd.schema import SUB_EVENT_LABELS

    rows = datasets.load_from_disk(args.data)[args.split]
    texts = {d["id"]: d["text"] for d in map(json.loads, args.documents.read_text(encoding="utf-8").splitlines())}
    extractor = rasd.Extractor.from_pretrained(args.model)
    by_doc: dict[str, list[dict]] = {}
    for row in rows:
        by_doc.setdefault(row["doc_id"], []).append(row)
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    lines = [f"# Incident errors: `{args.model}` on `{args.data}` ({args.split})", ""]
    for doc_id, sentences in by_doc.items():
        if doc_id not in texts:
            raise SystemExit(f"{args.documents}: no document {doc_id!r}")
        text = texts[doc_id]
        doc = extractor(text)
        predicted = {(s.start, s.end): {i.label: i.score for i in s.incidents} for s in doc.sentences}
        for row in sentences:
            gold = {SUB_EVENT_LABELS[k] for k, v in enumerate(row["incident_labels"]) if v == 1}
            span = (row["sentence_start"], row["sentence_start"] + len(row["text"]))
            if span not in predicted:  # the same text layer segments both: a miss is a bug, not noise
                raise SystemExit(f"{doc_id}: sentence {span} not among the extractor's sentences")
            pred = predicted[span]
            if gold == set(pred):
                continue
            fp.update(set(pred) - gold)
            fn.update(gold - set(pred))
            shown = ", ".join(f"{k} {v:.2f}" for k, v in sorted(pred.items(), key=lambda kv: -kv[1])) or "none"
            lines += [f"- `{doc_id}`: {row['text'].strip()}",
                      f"  - gold: {', '.join(sorted(gold)) or 'none'}; predicted: {shown}"]
    lines += ["", "| type | false positives | false negatives |", "|---|---|---|"]
    lines += [f"| {t} | {fp[t]} | {fn[t]} |" for t in SUB_EVENT_LABELS if fp[t] or fn[t]]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {sum(fp.values())} false positives, {sum(fn.values())} false negatives")


if __name__ == "__main__":
    main()
