"""Inter-annotator agreement between two annotation passes of the same documents (SPEC JSONL).

Entities: exact span-and-label F1 (one pass as reference; F1 is symmetric), per
label, and unlabelled span F1. Incidents: exact mention F1, and label agreement
at sentence level (F1 over (sentence, label) pairs and Cohen's kappa over every
sentence × label decision) and at document level, for sub-event and event types.

Example:
    >>> a = [{"id": "d", "text": "قصف درعا", "entities": [{"start": 4, "end": 8, "label": "LOC"}],
    ...       "events": [{"start": 0, "end": 3, "label": "shelling_artillery_missile_attack"}]}]
    >>> agreement(a, a)["entities"]["f1"]
    1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rasd.errors import InputError
from rasd.schema import ENTITY_LABELS, SUB_EVENT_LABELS, event_type_of
from rasd.text import split_sentences


def _f1(a: set[Any], b: set[Any]) -> dict[str, float]:
    tp = len(a & b)
    p = tp / len(b) if b else 1.0
    r = tp / len(a) if a else 1.0
    return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "precision": p, "recall": r,
            "first": len(a), "second": len(b), "both": tp}


def _kappa(pairs: Sequence[tuple[bool, bool]]) -> float:
    """Cohen's kappa of two passes' yes/no decisions (scikit-learn).

    Where it is undefined (no decisions, or both passes give one and the same answer
    throughout, so chance agreement is 1) the passes agree perfectly: 1.0.
    """
    from sklearn.metrics import cohen_kappa_score

    first, second = [x for x, _ in pairs], [y for _, y in pairs]
    if first == second:
        return 1.0
    return float(cohen_kappa_score(first, second, labels=[False, True]))


def _sentence_labels(doc: dict[str, Any], coarse: bool) -> list[set[str]]:
    out = []
    for a, b in split_sentences(doc["text"]):
        labels = {e["label"] for e in doc["events"] if e["start"] < b and a < e["end"]}
        out.append({event_type_of(x) for x in labels} if coarse else labels)
    return out


def agreement(first: Iterable[dict[str, Any]], second: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Agreement figures over the documents both passes share (texts must be identical)."""
    a_docs = {d["id"]: d for d in first}
    b_docs = {d["id"]: d for d in second}
    shared = sorted(set(a_docs) & set(b_docs))
    for doc_id in shared:
        if a_docs[doc_id]["text"] != b_docs[doc_id]["text"]:
            raise InputError(f"document {doc_id}: the two passes annotate different texts")
    ents = {k: (set(), set()) for k in ("all", "unlabelled", *ENTITY_LABELS)}
    mentions: tuple[set[Any], set[Any]] = (set(), set())
    result: dict[str, Any] = {"documents": len(shared)}
    for doc_id in shared:
        for side, doc in enumerate((a_docs[doc_id], b_docs[doc_id])):
            for e in doc["entities"]:
                ents["all"][side].add((doc_id, e["start"], e["end"], e["label"]))
                ents["unlabelled"][side].add((doc_id, e["start"], e["end"]))
                ents[e["label"]][side].add((doc_id, e["start"], e["end"]))
            for e in doc["events"]:
                mentions[side].add((doc_id, e["start"], e["end"], e["label"]))
    result["entities"] = _f1(*ents["all"])
    result["entities"]["unlabelled_f1"] = _f1(*ents["unlabelled"])["f1"]
    result["entities"]["per_label"] = {k: _f1(*ents[k]) for k in ENTITY_LABELS}
    result["incident_mentions"] = _f1(*mentions)
    for name, coarse in (("sub_event", False), ("event_type", True)):
        labels = sorted({event_type_of(x) for x in SUB_EVENT_LABELS}) if coarse else list(SUB_EVENT_LABELS)
        sent_pairs: tuple[set[Any], set[Any]] = (set(), set())
        doc_pairs: tuple[set[Any], set[Any]] = (set(), set())
        decisions = []
        for doc_id in shared:
            sa, sb = _sentence_labels(a_docs[doc_id], coarse), _sentence_labels(b_docs[doc_id], coarse)
            for k, (la, lb) in enumerate(zip(sa, sb)):
                sent_pairs[0].update((doc_id, k, x) for x in la)
                sent_pairs[1].update((doc_id, k, x) for x in lb)
                decisions.extend((x in la, x in lb) for x in labels)
            doc_pairs[0].update((doc_id, x) for s in sa for x in s)
            doc_pairs[1].update((doc_id, x) for s in sb for x in s)
        result[f"incidents_{name}"] = {"sentence": _f1(*sent_pairs) | {"kappa": _kappa(decisions)},
                                       "document": _f1(*doc_pairs)}
    return result


def format_agreement(result: dict[str, Any]) -> str:
    """A short plain-text report of :func:`agreement`'s figures."""
    e = result["entities"]
    lines = [f"documents compared: {result['documents']}",
             f"entities: exact span+label F1 {e['f1']:.3f} (unlabelled span F1 {e['unlabelled_f1']:.3f}; "
             f"{e['first']} vs {e['second']} spans, {e['both']} identical)"]
    lines += [f"  {k}: F1 {v['f1']:.3f} ({v['first']} vs {v['second']})" for k, v in e["per_label"].items()]
    m = result["incident_mentions"]
    lines.append(f"incident mentions: exact span+label F1 {m['f1']:.3f} ({m['first']} vs {m['second']})")
    for name in ("sub_event", "event_type"):
        r = result[f"incidents_{name}"]
        lines.append(f"incident labels ({name.replace('_', '-')}): sentence-level F1 {r['sentence']['f1']:.3f}, "
                     f"kappa {r['sentence']['kappa']:.3f}; document-level F1 {r['document']['f1']:.3f}")
    return "\n".join(lines)
