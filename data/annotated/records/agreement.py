"""Agreement between the first pass (rec-NN.jsonl) and the blind second pass (rec-NN.blind.jsonl).

    python data/annotated/records/agreement.py

Records are paired across the passes by their mentions (the same sub-event type and at least one
shared mention; mentions either pass added are compared by offsets). Per field, agreement is the
share of paired records on which the two passes give the same value; actors are compared as
(side, entity offsets) sets, with F1 between the passes.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _spans(item: dict, ann: dict, key: str) -> dict[int, tuple[int, int]]:
    all_spans = list(item[key]) + [{**s, "n": len(item[key]) + k} for k, s in enumerate(ann.get(f"{key}_added", []))]
    return {s["n"]: (s["start"], s["end"]) for s in all_spans}


def main() -> None:
    stats = {"documents": 0, "records_first": 0, "records_blind": 0, "paired": 0}
    same = {f: 0 for f in ("sub_event_type", "location_offsets", "geonameid", "admin1", "event_date", "fatalities")}
    tp = fp = fn = 0
    for blind_path in sorted(HERE.glob("rec-*.blind.jsonl")):
        name = blind_path.name.split(".")[0]
        inputs = {json.loads(x)["id"]: json.loads(x) for x in (HERE / "batches" / f"{name}.input.jsonl").open()}
        first = {json.loads(x)["id"]: json.loads(x) for x in (HERE / f"{name}.jsonl").open()}
        for line in blind_path.open(encoding="utf-8"):
            b = json.loads(line)
            a, item = first[b["id"]], inputs[b["id"]]
            stats["documents"] += 1
            stats["records_first"] += len(a["records"])
            stats["records_blind"] += len(b["records"])
            ma, mb = _spans(item, a, "mentions"), _spans(item, b, "mentions")
            ea, eb = _spans(item, a, "entities"), _spans(item, b, "entities")
            taken: set[int] = set()
            for ra in a["records"]:
                own = {ma[n] for n in ra["mentions"]}
                k = next((k for k, rb in enumerate(b["records"]) if k not in taken
                          and rb["sub_event_type"] == ra["sub_event_type"] and own & {mb[n] for n in rb["mentions"]}),
                         None)
                if k is None:
                    k = next((k for k, rb in enumerate(b["records"]) if k not in taken
                              and own & {mb[n] for n in rb["mentions"]}), None)
                if k is None:
                    continue
                taken.add(k)
                rb = b["records"][k]
                stats["paired"] += 1
                same["sub_event_type"] += ra["sub_event_type"] == rb["sub_event_type"]
                same["location_offsets"] += (ea.get(ra["location"]) if ra["location"] is not None else None) == \
                    (eb.get(rb["location"]) if rb["location"] is not None else None)
                for f in ("geonameid", "admin1", "event_date", "fatalities"):
                    same[f] += ra[f] == rb[f]
                actors_a = {(1, ea[e]) for e in ra["actor1"]} | {(2, ea[e]) for e in ra["actor2"]}
                actors_b = {(1, eb[e]) for e in rb["actor1"]} | {(2, eb[e]) for e in rb["actor2"]}
                tp += len(actors_a & actors_b)
                fp += len(actors_b - actors_a)
                fn += len(actors_a - actors_b)
    paired = stats["paired"] or 1
    out = {**stats, "agreement": {f: round(v / paired, 3) for f, v in same.items()},
           "actors_f1": round(2 * tp / (2 * tp + fp + fn), 3) if tp + fp + fn else None}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
