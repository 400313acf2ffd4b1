"""Validation: each fatal error names document and span; fixable problems are fixed and counted."""

import json

import pytest

from training.cli import main as training_main
from training.documents import AnnotatedDocument, LabelledSpan, Problems
from training.validation import assign_sentences, validate_corpus, validate_document

TEXT = "قصفت قوات النظام مدينة جاسم بالدبابات"


def doc(entities=(), events=(), text=TEXT, doc_id="d1"):
    return AnnotatedDocument(doc_id, text, list(entities), list(events), "spec", f"f.jsonl:1 (document {doc_id})")


ALL = ("PER", "ORG", "LOC", "DATE", "WEAPON")


@pytest.mark.parametrize("entities,message", [
    ([LabelledSpan(5, 16, "ORG"), LabelledSpan(10, 20, "LOC")], "entity spans overlap: (5, 16, ORG)"),
    ([LabelledSpan(30, 80, "LOC")], "entity span (30, 80, LOC) is out of range for a text of length 37"),
    ([LabelledSpan(-1, 3, "LOC")], "entity span (-1, 3, LOC) is out of range"),
    ([LabelledSpan(4, 5, "LOC")], "entity span (4, 5, LOC) covers only white space"),
])
def test_fatal_span_problems(entities, message):
    p = Problems()
    assert validate_document(doc(entities), ALL, p) is None
    assert len(p.errors) == 1 and message in p.errors[0] and "document d1" in p.errors[0]


def test_type_not_annotated_by_source_is_fatal():
    p = Problems()
    assert validate_document(doc([LabelledSpan(29, 37, "WEAPON")]), ("PER", "ORG", "LOC"), p) is None
    assert "label 'WEAPON' is not annotated by source 'spec'" in p.errors[0]


def test_empty_text_and_duplicate_ids():
    p = Problems()
    validate_corpus([doc(text="  \n"), doc(doc_id="x"), doc(doc_id="x"), doc(doc_id="y")], {"spec": ALL}, p)
    assert any("empty text" in e for e in p.errors)
    assert any("duplicate document id 'x'" in e for e in p.errors)
    assert p.warned["duplicate_text"] == 1


def test_fixes_are_counted_not_silent():
    p = Problems()
    cut = TEXT.index("جاسم") + 2  # a span that stops inside «جاسم»
    d = validate_document(doc([LabelledSpan(4, 16, "ORG"), LabelledSpan(TEXT.index("جاسم"), cut, "LOC"),
                               LabelledSpan(TEXT.index("الدبابات"), len(TEXT), "WEAPON")],
                              [LabelledSpan(0, 4, "shelling_artillery_missile_attack")] * 2), ALL, p)
    surfaces = [TEXT[s.start:s.end] for s in d.entities]
    assert surfaces == ["قوات النظام", "جاسم", "الدبابات"]  # trimmed, widened, proclitic start kept
    assert p.fixed == {"trimmed_whitespace": 1, "widened_to_word": 1, "duplicate_span_removed": 1}


def test_non_arabic_text_is_warned_not_dropped():
    p = Problems()
    assert validate_document(doc(text="Clashes in Daraa."), ALL, p) is not None
    assert p.warned["no_arabic_letters"] == 1


def test_sentences_are_merged_when_an_entity_straddles_them():
    text = "قال المسؤول أبو. محمد الحوراني"
    p = Problems()
    d = doc([LabelledSpan(text.index("أبو"), len(text), "PER")], text=text)
    assert len(assign_sentences(d, p)) == 1 and p.fixed["sentences_merged_for_span"] == 1


@pytest.mark.parametrize("entity,needle", [
    ({"start": 5, "end": 16, "label": "ORG"}, None),
    ({"start": 5, "end": 99, "label": "ORG"}, "(document d1): entity span (5, 99, ORG) is out of range"),
    ({"start": 5, "end": 16, "label": "GROUP"}, "document d1) entities: unknown label 'GROUP'"),
])
def test_build_cli_exit_code_and_message(tmp_path, capsys, entity, needle):
    overlap = {"start": 10, "end": 16, "label": "ORG"} if needle is None else None
    ents = [entity] + ([overlap] if overlap else [])
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "d1", "text": TEXT, "entities": ents}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    code = training_main(["build", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert (needle or "entity spans overlap: (5, 16, ORG) 'قوات النظام' and (10, 16, ORG)") in err
    assert str(path) in err
