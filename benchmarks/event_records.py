"""Score rasd's ACLED record rules (``rasd.acled.build_records``) against the event-record annotations.

The record rules are measured on their own: each annotated document is turned into the
``Document`` a perfect extractor would give (its gold entities, and one ``Event`` per gold
incident mention, on the mention's sentence, with that sentence's entities by role), with the
document's publication ``date``; ``build_records`` then makes the records, which are paired
with the gold ones (same sub-event type, a gold mention inside one of the record's sentences).
What the model gets wrong on top (missed entities, wrong types) is the incident model's
score, measured elsewhere.

    python benchmarks/event_records.py --split dev            # what rules are tuned on
    python benchmarks/event_records.py --split test           # reported once
    python benchmarks/event_records.py --split dev --show 20  # the disagreements, to read

Metrics (see docs/record-annotation.md for the gold fields):
- roles: precision/recall/F1 of (record, actor text, side) over paired records, side 1 =
  actor1 + assoc_actor_1, side 2 = actor2 + assoc_actor_2;
- event_date: exact-day accuracy over paired records whose document has a date and whose gold
  date is known;
- admin1 / location: over paired records whose gold place was geocoded (a gold geonameid):
  the record's admin1 equals gold's, and its geonameid equals gold's;
- fatalities: exact over paired records with a stated gold figure;
- merging: pairwise precision/recall of "these two mentions are one event" within documents.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasd.acled import EventRecord, build_records  # noqa: E402
from rasd.gazetteer import Gazetteer, default_gazetteer  # noqa: E402
from rasd.results import EVENT_ROLES, Document, Entity, Event, Sentence, Windowing  # noqa: E402
from rasd.schema import SUB_EVENT_TYPES  # noqa: E402
from rasd.text import segment  # noqa: E402

RECORDS = ROOT / "data" / "annotated" / "records"
EVENT_TYPE_OF = {t.id: t.event_type for t in SUB_EVENT_TYPES}
_ROLE_OF = {label: role for role, labels in EVENT_ROLES.items() for label in labels}


def annotated(split: str, folder: Path = RECORDS) -> Iterator[tuple[dict, dict]]:
    """(input item, first-pass annotation) of every annotated document of ``split`` (``all`` for both)."""
    for path in sorted(folder.glob("rec-[0-9][0-9].jsonl")):
        batch = folder / "batches" / f"{path.stem}.input.jsonl"
        inputs = {json.loads(line)["id"]: json.loads(line) for line in batch.open(encoding="utf-8")}
        for line in path.open(encoding="utf-8"):
            ann = json.loads(line)
            item = inputs[ann["id"]]
            if split in ("all", item["split"]):
                yield item, ann


def spans(item: dict, ann: dict, key: str) -> list[dict]:
    return list(item[key]) + [{**s, "n": len(item[key]) + k} for k, s in enumerate(ann.get(f"{key}_added", []))]


def oracle_document(item: dict, entities: list[dict], mentions: list[dict]) -> tuple[Document, dict[int, int]]:
    """The Document a perfect extractor gives, and each mention's sentence index."""
    import datetime

    text = item["text"]
    sents = segment(text)
    ents = sorted((Entity(e["text"], e["label"], e["start"], e["end"], 1.0) for e in entities),
                  key=lambda e: e.start)
    sentence_of = {m["n"]: next((k for k, s in enumerate(sents) if s.start <= m["start"] < s.end), len(sents) - 1)
                   for m in mentions}
    events, sentences = [], []
    for k, s in enumerate(sents):
        roles: dict[str, list[Entity]] = {role: [] for role in EVENT_ROLES}
        for e in ents:
            if s.start <= e.start < s.end:
                roles[_ROLE_OF.get(e.label, "other_entities")].append(e)
        labels = sorted({m["label"] for m in mentions if sentence_of[m["n"]] == k})
        sentences.append(Sentence(s.start, s.end, ()))
        events += [Event(label, EVENT_TYPE_OF[label], 1.0, s.start, s.end, **{r: tuple(v) for r, v in roles.items()})
                   for label in labels]
    date = datetime.date.fromisoformat(item["date"][:10]) if item.get("date") else None
    doc = Document(item["id"], text, tuple(ents), tuple(sentences), (), tuple(events),
                   Windowing(1, 0, 0, 0, 0, 0), (), date)
    return doc, sentence_of


def _inside(g: dict, rec: EventRecord, mentions: dict[int, dict]) -> int:
    """How many of gold record ``g``'s mentions fall in one of ``rec``'s sentences."""
    return sum(any(a <= mentions[n]["start"] < b for a, b in rec.mentions) for n in g["mentions"])


def pair(gold: list[dict], system: tuple[EventRecord, ...],
         mentions: dict[int, dict]) -> list[tuple[dict, EventRecord]]:
    """Gold records paired with system records: same type, most gold mentions inside the record's sentences."""
    pairs, taken = [], set()
    for g in gold:
        best = max((k for k, r in enumerate(system) if k not in taken and r.sub_event_type == g["sub_event_type"]
                    and _inside(g, r, mentions)), key=lambda k: _inside(g, system[k], mentions), default=None)
        if best is not None:
            taken.add(best)
            pairs.append((g, system[best]))
    return pairs


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def score(split: str, gazetteer: Gazetteer, show: int = 0, folder: Path = RECORDS) -> dict:
    role_tp = role_fp = role_fn = 0
    n = {"documents": 0, "gold_records": 0, "system_records": 0, "paired": 0}
    date_ok = date_n = admin1_ok = loc_ok = geo_n = geo_resolved = fat_ok = fat_n = 0
    merge_tp = merge_fp = merge_fn = 0
    shown: list[str] = []
    for item, ann in annotated(split, folder):
        entities, mentions = spans(item, ann, "entities"), spans(item, ann, "mentions")
        by_n = {m["n"]: m for m in mentions}
        ent_by_n = {e["n"]: e for e in entities}
        doc, sentence_of = oracle_document(item, entities, mentions)
        system = build_records(doc, gazetteer)
        gold = ann["records"]
        n["documents"] += 1
        n["gold_records"] += len(gold)
        n["system_records"] += len(system)
        pairs = pair(gold, system, by_n)
        n["paired"] += len(pairs)
        for g, r in pairs:
            want = {(1, _norm(ent_by_n[e]["text"])) for e in g["actor1"]} | \
                   {(2, _norm(ent_by_n[e]["text"])) for e in g["actor2"]}
            got = {(1, _norm(a)) for a in (r.actor1, *r.assoc_actor_1) if a} | \
                  {(2, _norm(a)) for a in (r.actor2, *r.assoc_actor_2) if a}
            role_tp += len(want & got)
            role_fp += len(got - want)
            role_fn += len(want - got)
            problems = []
            if want != got:
                problems.append(f"actors gold {sorted(want)} system {sorted(got)}")
            if doc.date is not None and g["event_date"] is not None:
                date_n += 1
                ok = r.event_date is not None and r.event_date.isoformat() == g["event_date"]
                date_ok += ok
                if not ok:
                    problems.append(f"date gold {g['event_date']} system {r.event_date} ({r.date_reason})")
            if g["geonameid"] is not None:
                geo_n += 1
                geo_resolved += r.geonameid is not None
                admin1_ok += _norm(r.admin1).lower() == _norm(g["admin1"]).lower()
                loc_ok += r.geonameid == g["geonameid"]
                if r.geonameid != g["geonameid"]:
                    problems.append(f"place gold {g['geonameid']} {g['admin1']} system {r.geonameid} {r.admin1} "
                                    f"({r.geo_reason})")
            if g["fatalities"] is not None:
                fat_n += 1
                got_f = r.fatalities if r.fatalities is not None else 0
                fat_ok += got_f == g["fatalities"]
                if got_f != g["fatalities"]:
                    problems.append(f"fatalities gold {g['fatalities']} system {r.fatalities}")
            if problems and len(shown) < show:
                shown.append(f"{item['id']} [{g['sub_event_type']}]: " + "; ".join(problems))
        # Merging within the document: which pairs of (event) mentions each side puts in one record.
        real = [m for m in mentions if any(m["n"] in g["mentions"] for g in gold)]
        gold_same = {frozenset((a["n"], b["n"])) for g in gold for a, b in combinations(
            [by_n[x] for x in g["mentions"]], 2)}
        for a, b in combinations(real, 2):
            if a["label"] != b["label"]:
                continue
            together = any(any(s <= a["start"] < e for s, e in r.mentions) and any(s <= b["start"] < e
                                                                                  for s, e in r.mentions)
                           for r in system if r.sub_event_type == a["label"])
            same = frozenset((a["n"], b["n"])) in gold_same
            merge_tp += together and same
            merge_fp += together and not same
            merge_fn += same and not together

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    p, r = ratio(role_tp, role_tp + role_fp), ratio(role_tp, role_tp + role_fn)
    return {"split": split, **n,
            "roles": {"precision": p, "recall": r, "f1": round(2 * p * r / (p + r), 3) if p and r else None,
                      "tp": role_tp, "fp": role_fp, "fn": role_fn},
            "event_date_exact": {"accuracy": ratio(date_ok, date_n), "n": date_n},
            "admin1": {"accuracy": ratio(admin1_ok, geo_n), "n": geo_n},
            "location": {"accuracy": ratio(loc_ok, geo_n), "n": geo_n, "system_geocoded": geo_resolved},
            "fatalities_exact": {"accuracy": ratio(fat_ok, fat_n), "n": fat_n},
            "merging_pairs": {"precision": ratio(merge_tp, merge_tp + merge_fp),
                              "recall": ratio(merge_tp, merge_tp + merge_fn), "gold_pairs": merge_tp + merge_fn},
            "disagreements": shown}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test", "all"], default="dev")
    parser.add_argument("--show", type=int, default=0, help="print up to N records where rules and gold disagree")
    parser.add_argument("--dir", type=Path, default=RECORDS, help="annotations (rec-NN.jsonl) with batches/ inside")
    args = parser.parse_args()
    print(json.dumps(score(args.split, default_gazetteer(), args.show, args.dir), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
