"""Scoring a prediction file against gold: sentence pairing for CoNLL gold and merged sentences, PR curve."""

import json

import numpy as np
import pytest

from rasd.errors import InputError
from rasd.text import segment
from training.evaluate import _pr_curve, score_prediction_file
from training.thresholds import THRESHOLD_GRID


def write_jsonl(path, docs):
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    return path


def span(text, surface, label, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return {"start": start, "end": start + len(surface), "label": label}


# One CoNLL sentence that the rasd splitter cuts in two (a "." token inside it), then a second one.
CONLL = "اشتباكات O\nفي O\nدرعا B-LOC\n. O\nوقصف O\nعلى O\nحمص B-LOC\n\nقال O\nأحمد B-PER\nالعلي I-PER\n\n"


def conll_gold(tmp_path):
    folder = tmp_path / "anercorp"  # the path names the corpus, so its label map is detected
    folder.mkdir()
    path = folder / "sample_test.txt"
    path.write_text(CONLL, encoding="utf-8")
    return path


def test_conll_gold_pairs_sentences_with_the_prediction(tmp_path):
    gold = conll_gold(tmp_path)
    # The CoNLL reader's text: tokens joined by a space, sentences by a newline; `rasd predict`
    # runs on that text and cuts the first line at its full stop (three sentences, not two).
    text = "اشتباكات في درعا . وقصف على حمص\nقال أحمد العلي"
    assert len(segment(text)) == 3
    pred = {"id": "sample_test", "text": text,
            "entities": [span(text, "درعا", "LOC"), span(text, "حمص", "LOC"), span(text, "أحمد العلي", "PER")],
            "events": []}
    report = score_prediction_file(write_jsonl(tmp_path / "pred.jsonl", [pred]), gold)
    assert report["sentences"] == 2 and report["documents"] == 1
    assert report["entities"]["micro"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 3}
    assert report["prediction_spans_split"] == {"entities": 0, "examples": []}


def test_conll_gold_missed_entity_is_scored_not_shifted(tmp_path):
    gold = conll_gold(tmp_path)
    text = "اشتباكات في درعا . وقصف على حمص\nقال أحمد العلي"
    pred = {"id": "sample_test", "text": text, "entities": [span(text, "أحمد العلي", "PER")], "events": []}
    report = score_prediction_file(write_jsonl(tmp_path / "pred.jsonl", [pred]), gold)
    assert report["entities"]["per_type"]["PER"]["f1"] == 1.0
    assert report["entities"]["per_type"]["LOC"]["recall"] == 0.0
    assert report["entities"]["micro"]["precision"] == 1.0


# «أبو.» is no one-letter initial: the splitter cuts after it, inside the gold PER span.
CROSS_TEXT = "قال المسؤول أبو. محمد الحوراني إن الهجوم فشل. واشتباكات في درعا."


def cross_gold(tmp_path):
    text = CROSS_TEXT
    assert len(segment(text)) == 3
    doc = {"id": "g1", "text": text,
           "entities": [span(text, "أبو. محمد الحوراني", "PER"), span(text, "درعا", "LOC")],
           "events": [span(text, "الهجوم", "attack"), span(text, "اشتباكات", "armed_clash")]}
    return write_jsonl(tmp_path / "gold.jsonl", [doc])


def test_jsonl_gold_with_merged_sentences_pairs_rows(tmp_path):
    gold = cross_gold(tmp_path)
    text = CROSS_TEXT
    # The prediction misses the PER span, so on its own its first two sentences would stay apart.
    sentences = segment(text)
    pred = {"id": "g1", "text": text, "entities": [span(text, "درعا", "LOC")],
            # rasd predict's event records (sub_event_type) and SPEC spans (label) are both read.
            "events": [{"start": sentences[1].start, "end": sentences[1].end, "sub_event_type": "attack",
                        "event_type": "violence_against_civilians"},
                       {"start": sentences[2].start, "end": sentences[2].end, "label": "armed_clash"}]}
    report = score_prediction_file(write_jsonl(tmp_path / "pred.jsonl", [pred]), gold)
    assert report["sentences"] == 2
    ents = report["entities"]
    assert ents["per_type"]["LOC"]["f1"] == 1.0 and ents["per_type"]["PER"]["recall"] == 0.0
    sub = report["incidents"]["sentence"]["sub_event"]
    assert sub["micro"]["f1"] == 1.0 and sub["micro"]["support"] == 2


def test_predicted_entity_across_a_gold_sentence_cut_is_split_and_counted(tmp_path):
    gold = cross_gold(tmp_path)
    text = CROSS_TEXT
    # An entity from another tool that runs over the cut between gold sentences 1 and 2.
    crossing = {"start": text.index("فشل"), "end": text.index("واشتباكات") + len("واشتباكات"), "label": "LOC"}
    pred = {"id": "g1", "text": text,
            "entities": [span(text, "أبو. محمد الحوراني", "PER"), span(text, "درعا", "LOC"), crossing], "events": []}
    report = score_prediction_file(write_jsonl(tmp_path / "pred.jsonl", [pred]), gold)
    assert report["sentences"] == 2
    assert report["prediction_spans_split"]["entities"] == 1
    assert "pred.jsonl:1" in report["prediction_spans_split"]["examples"][0]
    loc = report["entities"]["per_type"]["LOC"]
    # Its two pieces are scored as two wrong LOC predictions, beside the right one.
    assert loc["recall"] == 1.0 and loc["precision"] == pytest.approx(1 / 3)
    assert report["entities"]["per_type"]["PER"]["f1"] == 1.0


@pytest.mark.parametrize("entity,message", [
    ({"start": 0, "label": "LOC"}, "needs integer 'start' and 'end'"),
    ({"start": 0, "end": 999, "label": "LOC"}, "out of range"),
    ({"start": 0, "end": 3, "label": "CITY"}, "unknown label 'CITY'"),
])
def test_bad_prediction_spans_name_file_and_line(tmp_path, entity, message):
    gold = cross_gold(tmp_path)
    pred = {"id": "g1", "text": CROSS_TEXT, "entities": [entity], "events": []}
    path = write_jsonl(tmp_path / "pred.jsonl", [pred])
    with pytest.raises(InputError, match=message) as info:
        score_prediction_file(path, gold)
    assert f"{path}:1" in str(info.value)


def test_pr_curve_over_the_threshold_grid():
    gold = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    prob = np.array([[0.9, 0.2], [0.3, 0.6], [0.55, 0.4], [0.1, 0.97]])
    curve = _pr_curve(gold, prob)
    assert curve["threshold"] == [float(t) for t in THRESHOLD_GRID]
    at = {t: (p, r) for t, p, r in zip(curve["threshold"], curve["precision"], curve["recall"])}
    assert at[0.5] == (pytest.approx(3 / 4), pytest.approx(3 / 4))  # 0.9, 0.55, 0.6 right; 0.97 wrong
    assert at[0.95] == (0.0, 0.0)  # only 0.97 is predicted, and it is wrong
    assert at[0.05][1] == 1.0 and at[0.05][0] == pytest.approx(4 / 8)
    gold0 = np.zeros((2, 2), dtype=int)
    flat = _pr_curve(gold0, np.zeros((2, 2)))
    assert set(flat["precision"]) == {1.0} and set(flat["recall"]) == {0.0}  # nothing to find, nothing predicted
