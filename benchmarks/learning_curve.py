"""Learning curve: incident F1 on the held-out ASND posts against the number of annotated training posts.

Trains ``configs/e5-small-incidents.yaml`` (the offline e5-small encoder on the seed articles
and the ASND annotations only, so that a point takes minutes) once per size, keeping only that
many ASND training posts (a seeded choice, nested: the 100 include the 50). A size ``A+B`` keeps
``A`` training posts of the first 530 (``data/annotated/asnd.jsonl``, 344 in its train split) and
``B`` of the 400 training-only posts (``asnd_extra.jsonl``); a plain ``A`` uses none of the
latter. Every point is scored on the same held-out ASND test posts.

    python benchmarks/learning_curve.py --sizes 100,200,344,344+400 --out docs/learning_curve

writes ``docs/learning_curve.json`` and ``docs/learning_curve.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `training` is run from a checkout, not installed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "configs" / "e5-small-incidents.yaml"))
    ap.add_argument("--sizes", default="100,200,344,344+400")
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "learning-curve")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "learning_curve")
    ap.add_argument("--set", action="append", default=[], help="extra config overrides for every run")
    args = ap.parse_args()

    from training.config import load_config
    from training.trainer import train

    points = []
    for spec in args.sizes.split(","):
        first, _, extra = spec.partition("+")
        size = int(first) + int(extra or 0)
        overrides = [f"data.sources.1.limit_train_documents={int(first)}",
                     f"data.sources.2.limit_train_documents={int(extra or 0)}", "output.export=false", *args.set]
        config = load_config(args.config, overrides)
        run_dir = args.runs / f"n{size}"
        started = time.time()
        train(config, run_dir, command=f"python -m training train {args.config} --set " + " --set ".join(overrides))
        report = json.loads((run_dir / "eval" / "asnd.json").read_text())
        inc = report["incidents"]
        points.append({
            "asnd_train_posts": size,
            "of_which_training_only_posts": int(extra or 0),
            "sub_event_micro_f1": inc["sentence"]["sub_event"]["micro"]["f1"],
            "sub_event_macro_f1": inc["sentence"]["sub_event"]["macro"]["f1"],
            "event_type_micro_f1": inc["sentence"]["event_type"]["micro"]["f1"],
            "document_event_type_micro_f1": inc["document"]["event_type"]["micro"]["f1"],
            "entity_micro_f1": report["entities"]["micro"]["f1"],
            "wall_time_s": round(time.time() - started, 1),
        })
        print(json.dumps(points[-1]), flush=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(points, indent=2) + "\n", encoding="utf-8")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    x = [p["asnd_train_posts"] for p in points]
    for key, label in (("event_type_micro_f1", "event type, micro-F1"),
                       ("sub_event_micro_f1", "sub-event, micro-F1"),
                       ("sub_event_macro_f1", "sub-event, macro-F1")):
        ax.plot(x, [p[key] for p in points], marker="o", label=label)
    ax.set_xlabel("annotated ASND training posts (+ 3 seed articles)")
    ax.set_ylabel("incident F1, held-out ASND posts (sentence level)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out.with_suffix(".png"), dpi=120)
    print(f"wrote {args.out.with_suffix('.json')} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
