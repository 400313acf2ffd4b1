"""Check event-record annotation files against their input batch (docs/record-annotation.md).

    python data/annotated/records/check.py data/annotated/records/rec-01.jsonl [more.jsonl ...]

The input batch is found by name (``rec-01.jsonl`` and ``rec-01.blind.jsonl`` → ``batches/rec-01.input.jsonl``).
Every problem is printed with the file, line and document id; the exit code is 1 if there is any.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from rasd.gazetteer import default_gazetteer  # noqa: E402
from rasd.schema import ENTITY_LABELS, SUB_EVENT_LABELS  # noqa: E402

FIELDS = {"mentions", "sub_event_type", "actor1", "actor2", "location", "geonameid", "country", "admin1",
          "event_date", "time_precision", "fatalities"}
TOP = {"id", "split", "schema", "entities_added", "mentions_added", "records", "not_events", "comment"}


def spans(item: dict, added: list, key: str, labels: tuple[str, ...], problems: list[str]) -> list[dict]:
    out = list(item[key])
    for k, s in enumerate(added):
        if not isinstance(s, dict) or set(s) - {"start", "end", "label", "text"}:
            problems.append(f"{key}_added[{k}]: expected {{start, end, label, text}}, got {s!r}")
            continue
        if s.get("label") not in labels:
            problems.append(f"{key}_added[{k}]: unknown label {s.get('label')!r}")
        a, b = s.get("start"), s.get("end")
        if not (isinstance(a, int) and isinstance(b, int) and 0 <= a < b <= len(item["text"])):
            problems.append(f"{key}_added[{k}]: bad offsets {a}-{b}")
        elif item["text"][a:b] != s.get("text"):
            problems.append(f"{key}_added[{k}]: text at {a}-{b} is {item['text'][a:b]!r}, not {s.get('text')!r}")
        out.append({**s, "n": len(out)})
    return out


def check_line(item: dict, ann: dict, gazetteer) -> list[str]:
    problems: list[str] = []
    if set(ann) - TOP or not {"id", "records"} <= set(ann):
        problems.append(f"keys {sorted(ann)}: expected {sorted(TOP)}")
    entities = spans(item, ann.get("entities_added", []), "entities", ENTITY_LABELS, problems)
    mentions = spans(item, ann.get("mentions_added", []), "mentions", SUB_EVENT_LABELS, problems)
    used: set[int] = set()
    for k, rec in enumerate(ann.get("records", [])):
        where = f"records[{k}]"
        if not isinstance(rec, dict) or set(rec) != FIELDS:
            problems.append(f"{where}: expected exactly the fields {sorted(FIELDS)}")
            continue
        if not rec["mentions"] or any(not isinstance(m, int) or not 0 <= m < len(mentions) for m in rec["mentions"]):
            problems.append(f"{where}.mentions: {rec['mentions']!r} are not mention numbers (0-{len(mentions) - 1})")
        if used & set(rec["mentions"]):
            problems.append(f"{where}.mentions: {sorted(used & set(rec['mentions']))} already in another record")
        used |= set(rec["mentions"])
        if rec["sub_event_type"] not in SUB_EVENT_LABELS:
            problems.append(f"{where}.sub_event_type: unknown {rec['sub_event_type']!r}")
        for role in ("actor1", "actor2"):
            ids = rec[role]
            if not isinstance(ids, list) or any(not isinstance(e, int) or not 0 <= e < len(entities) for e in ids):
                problems.append(f"{where}.{role}: {ids!r} are not entity numbers")
            elif any(entities[e]["label"] not in ("ORG", "PER") for e in ids):
                problems.append(f"{where}.{role}: actors are ORG or PER entities")
        loc = rec["location"]
        if loc is not None and (not isinstance(loc, int) or not 0 <= loc < len(entities)
                                or entities[loc]["label"] != "LOC"):
            problems.append(f"{where}.location: {loc!r} is not a LOC entity number")
        if rec["geonameid"] is not None:
            if loc is None:
                problems.append(f"{where}.geonameid: given without a location")
            else:
                ids = {p.geonameid for p in gazetteer.match(entities[loc]["text"]).candidates}
                if rec["geonameid"] not in ids:
                    problems.append(f"{where}.geonameid: {rec['geonameid']} is not a candidate of "
                                    f"{entities[loc]['text']!r} ({sorted(ids)})")
        date, precision = rec["event_date"], rec["time_precision"]
        if (date is None) != (precision is None) or precision not in (None, 1, 2, 3):
            problems.append(f"{where}: event_date {date!r} and time_precision {precision!r} go together (1, 2, 3)")
        if date is not None:
            try:
                datetime.date.fromisoformat(date)
            except (TypeError, ValueError):
                problems.append(f"{where}.event_date: {date!r} is not YYYY-MM-DD")
        f = rec["fatalities"]
        if f is not None and (not isinstance(f, int) or isinstance(f, bool) or f < 0):
            problems.append(f"{where}.fatalities: {f!r} is not a count")
    for m in ann.get("not_events", []):
        if not isinstance(m, int) or not 0 <= m < len(mentions) or m in used:
            problems.append(f"not_events: {m!r} is not a mention number outside the records")
    return problems


def check_file(path: Path) -> int:
    batch = path.parent / "batches" / f"{path.name.split('.')[0]}.input.jsonl"
    inputs = {json.loads(line)["id"]: json.loads(line) for line in batch.open(encoding="utf-8")}
    gazetteer = default_gazetteer()
    bad = 0
    for lineno, line in enumerate(path.open(encoding="utf-8"), 1):
        try:
            ann = json.loads(line)
        except json.JSONDecodeError as exc:
            print(f"{path}:{lineno}: not JSON ({exc.msg})")
            bad += 1
            continue
        item = inputs.get(ann.get("id"))
        if item is None:
            print(f"{path}:{lineno}: id {ann.get('id')!r} is not in {batch.name}")
            bad += 1
            continue
        for problem in check_line(item, ann, gazetteer):
            print(f"{path}:{lineno} ({ann['id']}): {problem}")
            bad += 1
    return bad


if __name__ == "__main__":
    total = sum(check_file(Path(p)) for p in sys.argv[1:])
    print(f"{total} problem(s)")
    sys.exit(1 if total else 0)
