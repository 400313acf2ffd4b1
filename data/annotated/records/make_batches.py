"""Make the input batches of the event-record annotation (docs/record-annotation.md).

Deterministic: documents are ordered by a hash of their id, so rerunning gives the same batches.
Each input line carries the document, its annotated entities and incident mentions (numbered, with
their surface text) so annotators refer to spans that exist. Split: ``test`` for a third of the
documents (by hash), ``dev`` for the rest; rules are tuned on dev only.

    python data/annotated/records/make_batches.py
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
OUT = Path(__file__).resolve().parent / "batches"
ASND = [ROOT / "data/annotated/asnd.jsonl", ROOT / "data/annotated/asnd_extra.jsonl"]
SEEDS = ROOT / "seeds/annotations.jsonl"
ANT = ROOT.parent / "shared/data/ant_corpus/articles.jsonl"
ASND_BATCHES = ((0, 130), (130, 260))  # rec-01, rec-02
ANT_DOCS = 30
# ANT items whose title reports an incident (the keyword selection also holds politics and economy).
ANT_TITLE = re.compile(r"مقتل|اشتباك|إيقاف|القبض|تفجير|هجوم|كمين|اختطاف|قصف|انفجار|اغتيال|إصابة|غارة|استهداف")
ANT_MAX_CHARS = 2500


def _hash(doc_id: str) -> int:
    return int(hashlib.sha1(doc_id.encode()).hexdigest()[:8], 16)


def split_of(doc_id: str) -> str:
    return "test" if _hash(doc_id) % 3 == 0 else "dev"


def _item(doc: dict, source: str) -> dict:
    text = doc["text"]
    return {"id": doc["id"], "source": source, "split": split_of(doc["id"]), "date": doc.get("date"),
            "text": text,
            "entities": [{"n": k, "start": e["start"], "end": e["end"], "label": e["label"],
                          "text": text[e["start"]:e["end"]]} for k, e in enumerate(doc.get("entities", []))],
            "mentions": [{"n": k, "start": e["start"], "end": e["end"], "label": e["label"],
                          "text": text[e["start"]:e["end"]]} for k, e in enumerate(doc.get("events", []))]}


def main() -> None:
    asnd = [json.loads(line) for path in ASND for line in path.open(encoding="utf-8")]
    asnd = sorted((d for d in asnd if d["events"]), key=lambda d: _hash(d["id"]))
    OUT.mkdir(parents=True, exist_ok=True)
    for k, (lo, hi) in enumerate(ASND_BATCHES, 1):
        with (OUT / f"rec-{k:02d}.input.jsonl").open("w", encoding="utf-8") as f:
            for doc in asnd[lo:hi]:
                f.write(json.dumps(_item(doc, "asnd"), ensure_ascii=False) + "\n")
    seeds = [json.loads(line) for line in SEEDS.open(encoding="utf-8")]
    # Security news with a publication date: what the date rules need and ASND posts lack.
    ant = [json.loads(line) for line in ANT.open(encoding="utf-8")]
    ant = sorted((d for d in ant if d.get("date") and ANT_TITLE.search(d.get("title") or "")
                  and len(d["text"]) <= ANT_MAX_CHARS), key=lambda d: _hash(d["id"]))
    with (OUT / "rec-03.input.jsonl").open("w", encoding="utf-8") as f:
        for doc in seeds:
            f.write(json.dumps(_item(doc, "seeds"), ensure_ascii=False) + "\n")
        for doc in ant[:ANT_DOCS]:
            f.write(json.dumps(_item(doc, "ant"), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
