"""Select the ASND posts to annotate: a fixed-seed sample, conflict posts plus negatives.

ASND (Chowdhury et al. 2020, CC BY 4.0) labels social-media news posts with 12 topics.
We take distinct posts from its train and dev files, rank them by a seeded hash of their
id (stable whatever the file order) and keep the first N of class crime-war-conflict and
the first M of the other classes, whose incidents (mostly none) are annotated too.

    python data/scripts/select_asnd.py --conflict 420 --other 110 \
        --out data/annotated/asnd_selection.jsonl
    # the second, training-only batch: the next posts in the same ranking
    python data/scripts/select_asnd.py --skip-conflict 420 --conflict 350 --skip-other 110 --other 50 \
        --out data/annotated/asnd_extra_selection.jsonl
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
from pathlib import Path

ASND = Path(__file__).resolve().parents[3] / "shared" / "data" / "asnd"


def dedup_key(text: str) -> str:
    # Retweets repeat a post behind "RT @user:"; white space differs between copies.
    text = re.sub(r"^RT @\w+:\s*", "", text.strip())
    return re.sub(r"\s+", " ", text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--asnd", type=Path, default=ASND)
    ap.add_argument("--conflict", type=int, default=420)
    ap.add_argument("--other", type=int, default=110)
    ap.add_argument("--skip-conflict", type=int, default=0, help="conflict posts already taken (ranking order)")
    ap.add_argument("--skip-other", type=int, default=0, help="other posts already taken (ranking order)")
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    posts, seen, dropped = [], set(), 0
    for split, name in (("trn", "sm_news_ar_trn.csv"), ("dev", "sm_news_ar_dev.csv")):
        with (args.asnd / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                key = dedup_key(row["Content"])
                if key in seen or not key:
                    dropped += 1
                    continue
                seen.add(key)
                posts.append((split, row))
    rank = lambda p: hashlib.sha256(f"{args.seed}:{p[1]['ID']}".encode()).hexdigest()  # noqa: E731
    posts.sort(key=rank)
    conflict = [p for p in posts if p[1]["Class"] == "crime-war-conflict"]
    conflict = conflict[args.skip_conflict: args.skip_conflict + args.conflict]
    other = [p for p in posts if p[1]["Class"] != "crime-war-conflict"][args.skip_other: args.skip_other + args.other]
    with args.out.open("w", encoding="utf-8") as fh:
        for split, row in sorted(conflict + other, key=rank):
            fh.write(json.dumps({
                "id": f"asnd-{row['ID']}", "text": row["Content"],
                "meta": {"source": "asnd", "lang": "ar", "asnd_class": row["Class"],
                         "asnd_split": split, "platform": row["Platform"]},
            }, ensure_ascii=False) + "\n")
    print(f"{len(posts)} distinct posts ({dropped} duplicates or empty skipped); "
          f"wrote {len(conflict)} conflict + {len(other)} other to {args.out}")


if __name__ == "__main__":
    main()
