"""Incident multi-label scores, entity scores and Cohen's kappa, against numbers worked out by hand."""

import numpy as np
import pytest

from rasd.schema import EVENT_LABELS, SUB_EVENT_LABELS
from training.agreement import agreement
from training.metrics import entity_scores, incident_scores, mask_unannotated


def multi_hot(*labels):
    row = [0] * len(SUB_EVENT_LABELS)
    for label in labels:
        row[SUB_EVENT_LABELS.index(label)] = 1
    return row


def test_incident_scores_per_class_micro_and_macro():
    gold = np.array([multi_hot("armed_clash"), multi_hot("armed_clash", "arrests"), multi_hot(), multi_hot("arrests")])
    pred = np.array([multi_hot("armed_clash"), multi_hot("arrests"), multi_hot("armed_clash"), multi_hot()],
                    dtype=float)
    s = incident_scores(gold, pred, [0.5] * len(SUB_EVENT_LABELS))
    sub = s["sub_event"]
    assert s["examples"] == 4
    # armed_clash: tp 1, fp 1, fn 1; arrests: tp 1, fp 0, fn 1.
    assert sub["per_class"]["armed_clash"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2,
                                               "predicted": 2}
    assert sub["per_class"]["arrests"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3),
                                           "support": 2, "predicted": 1}
    assert sub["per_class"]["attack"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "predicted": 0}
    assert sub["micro"] == {"precision": pytest.approx(2 / 3), "recall": 0.5, "f1": pytest.approx(4 / 7),
                            "support": 4}
    # Macro runs over the two classes present in gold, not all 25.
    assert sub["macro"] == {"precision": 0.75, "recall": 0.5, "f1": pytest.approx(7 / 12), "classes": 2}
    assert set(sub["per_class"]) == set(SUB_EVENT_LABELS)
    assert set(s["event_type"]["per_class"]) == set(EVENT_LABELS)


def test_incident_scores_without_gold_positives():
    gold = np.zeros((2, len(SUB_EVENT_LABELS)), dtype=int)
    s = incident_scores(gold, np.zeros(gold.shape), [0.5] * len(SUB_EVENT_LABELS))
    assert s["sub_event"]["micro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert s["sub_event"]["macro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "classes": 0}


def test_entity_scores_and_masking():
    gold = [["B-LOC", "O", "B-PER", "I-PER"], ["B-ORG"]]
    pred = [mask_unannotated(["B-LOC", "B-WEAPON", "B-PER", "O"], ["LOC", "PER", "ORG"]), ["B-ORG"]]
    assert pred[0] == ["B-LOC", "O", "B-PER", "O"]
    s = entity_scores(gold, pred)
    assert s["micro"]["precision"] == pytest.approx(2 / 3) and s["micro"]["support"] == 3
    assert s["per_type"]["PER"]["f1"] == 0.0 and s["per_type"]["ORG"]["f1"] == 1.0
    empty = entity_scores([["O"]], [["O"]])
    assert empty["micro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0} and empty["per_type"] == {}


def doc(events):
    text = "اشتباكات في درعا. اعتقال شخصين. قصف حمص."
    spans = [(0, 8), (18, 24), (32, 35)]
    return {"id": "d", "text": text, "entities": [],
            "events": [{"start": spans[k][0], "end": spans[k][1], "label": label} for k, label in events]}


def test_kappa_over_sentence_label_decisions():
    a = doc([(0, "armed_clash"), (1, "arrests")])
    b = doc([(0, "armed_clash"), (2, "arrests")])
    kappa = agreement([a], [b])["incidents_sub_event"]["sentence"]["kappa"]
    # 3 sentences × 25 labels = 75 decisions: 73 agree, each pass says yes twice.
    po, pe = 73 / 75, (2 / 75) ** 2 + (73 / 75) ** 2
    assert kappa == pytest.approx((po - pe) / (1 - pe))
    # Identical passes with no incident at all: no decision differs, kappa is 1 (not undefined).
    assert agreement([doc([])], [doc([])])["incidents_sub_event"]["sentence"]["kappa"] == 1.0
    # One pass says yes once, the other never: no agreement beyond chance.
    assert agreement([doc([])], [doc([(0, "armed_clash")])])["incidents_sub_event"]["sentence"]["kappa"] == \
        pytest.approx(0.0)
