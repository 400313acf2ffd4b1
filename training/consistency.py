"""Consistency checks over an annotated corpus (SPEC JSONL), for annotation passes.

Lists what a careful second annotator would look at:

(a) a surface tagged somewhere and left untagged elsewhere (entities and incidents);
(b) the same surface tagged with different labels;
(c) incident trigger words that no event span covers.

Example:
    >>> docs = [{"id": "a", "text": "اشتباكات في درعا وقصف درعا",
    ...          "entities": [{"start": 12, "end": 16, "label": "LOC"}], "events": []}]
    >>> [f.kind for f in check_consistency(docs)]
    ['trigger', 'trigger', 'untagged']
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rasd.normalize import NormalizationConfig, normalize
from rasd.text import tokenize
from training.anchor import valid_occurrences

# Stems of words that usually report an incident in Arabic conflict news (SPEC §1, §3).
# Matched on text without diacritics, so «قُتل» is found as «قتل».
TRIGGER_STEMS: tuple[str, ...] = (
    "اشتباك", "اشتبك", "قتال", "اقتتال", "معارك", "معركة", "مواجه", "قصف", "تفجير", "فجر", "انفجار",
    "تفخيخ", "مفخخ", "اغتيال", "اغتال", "خطف", "اختطاف", "اعتقال", "اعتقل", "توقيف", "مداهم", "داهم",
    "ستهدف", "استهداف", "هجوم", "هجمات", "هاجم", "غارة", "غارات", "ضربة", "ضربات", "كمين", "عبوة",
    "عبوات", "لغم", "ألغام", "قنص(?!ل)", "أسر(?![ةهتى])", "إعدام", "أعدم", "اقتحام", "اقتحم", "قتل",
    "مقتل", "مقتول", "أصيب", "إصاب", "سيطر", "تظاهر", "مظاهرة", "احتجاج", "اعتصام", "حملة", "حظر تجول",
    "حظر التجول", "حظر التجوال", "استشهاد", "استشهد", "مذبحة", "مجزرة", "طعن", "هدم", "تجريف", "مصادرة",
    "أحرق", "تعذيب", "اغتصاب", "إسقاط", "دمر", "تدمير", "نهب", "سرقة", "انسحاب", "انسحب", "هدنة",
    "وقف إطلاق النار", "تسوية",
)
# Stems are regular expressions (a lookahead keeps «قنص» out of «القنصلية», «أسر» out of «الأسرة»);
# a space in a stem matches any white space.
_TRIGGER_RE = re.compile("|".join(s.replace(" ", r"\s+") for s in sorted(TRIGGER_STEMS, key=len, reverse=True)))


@dataclass(frozen=True)
class Finding:
    """One thing to look at: its kind, document, offsets, surface and a message."""

    kind: str  # "untagged" (a), "label_conflict" (b), "trigger" (c)
    doc_id: str
    start: int
    end: int
    surface: str
    message: str


def check_consistency(docs: Iterable[dict[str, Any]]) -> list[Finding]:
    """Run checks (a), (b) and (c) over SPEC documents; returns the findings, sorted."""
    docs = list(docs)
    findings: list[Finding] = []
    for layer in ("entities", "events"):
        labels_of: dict[str, set[str]] = defaultdict(set)
        where: dict[str, list[str]] = defaultdict(list)
        for d in docs:
            for s in d[layer]:
                surface = d["text"][s["start"]:s["end"]]
                labels_of[surface].add(s["label"])
                where[surface].append(d["id"])
        for surface, labels in sorted(labels_of.items()):
            if len(labels) > 1:
                findings.append(Finding("label_conflict", ",".join(sorted(set(where[surface]))), -1, -1,
                                        surface, f"{layer}: {surface!r} has labels {sorted(labels)}"))
        for d in docs:
            text, words = d["text"], tokenize(d["text"])
            covered = [(s["start"], s["end"]) for s in d[layer]]
            for surface, labels in labels_of.items():
                for p, q in valid_occurrences(text, surface, words):
                    if not any(a < q and p < b for a, b in covered):
                        findings.append(Finding("untagged", d["id"], p, q, surface,
                                                f"{layer}: {surface!r} is tagged {sorted(labels)} "
                                                f"elsewhere but not here"))
    for d in docs:
        norm = normalize(d["text"], NormalizationConfig(space_punctuation=False))
        events = [(s["start"], s["end"]) for s in d["events"]]
        words = tokenize(d["text"])
        starts = [a for a, _ in words]
        for m in _TRIGGER_RE.finditer(norm.text):
            a, b = norm.to_raw(*m.span())
            # Widen to the words the stem sits in: a trigger is reported as whole words.
            i = max(bisect.bisect_right(starts, a) - 1, 0)
            j = max(bisect.bisect_right(starts, b - 1) - 1, 0)
            a, b = words[i][0], words[j][1]
            if not any(x < b and a < y for x, y in events):
                findings.append(Finding("trigger", d["id"], a, b, d["text"][a:b],
                                        f"trigger word {d['text'][a:b]!r} is in no event span"))
    return sorted(findings, key=lambda f: (f.kind != "label_conflict", f.doc_id, f.start, f.kind))


def format_findings(findings: list[Finding], docs: list[dict[str, Any]]) -> str:
    """A readable report: one line per finding with a little context."""
    texts = {d["id"]: d["text"] for d in docs}
    lines = []
    for f in findings:
        ctx = ""
        if f.start >= 0:
            t = texts[f.doc_id]
            ctx = " … " + t[max(0, f.start - 30):f.end + 30].replace("\n", " ") + " …"
        lines.append(f"[{f.kind}] {f.doc_id}:{f.start}-{f.end} {f.message}{ctx}")
    counts = defaultdict(int)
    for f in findings:
        counts[f.kind] += 1
    lines.append("summary: " + (", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no findings"))
    return "\n".join(lines)
