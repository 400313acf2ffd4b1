"""Readers on small fixtures: SPEC JSONL, CoNLL (nested, typos, markers), Label Studio, label maps."""

import json

import pytest

from training.documents import LabelledSpan, Problems
from training.label_maps import load_label_map
from training.readers import read_conll, read_jsonl, read_labelstudio, split_from_name


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_reader_maps_layers_and_keeps_meta(tmp_path):
    doc = {"id": "d1", "text": "قصفت قوات النظام درعا", "entities": [{"start": 5, "end": 16, "label": "ORG"}],
           "events": [{"start": 0, "end": 4, "label": "shelling_artillery_missile_attack", "text": "قصفت"}],
           "meta": {"source": "seeds", "url": "x"}}
    p = Problems()
    [d] = read_jsonl(write(tmp_path / "a.jsonl", json.dumps(doc, ensure_ascii=False) + "\n"),
                     load_label_map("spec"), p)
    assert d.entities == [LabelledSpan(5, 16, "ORG")]
    assert d.events == [LabelledSpan(0, 4, "shelling_artillery_missile_attack")]
    assert d.source == "seeds" and d.meta["url"] == "x" and not p.errors


@pytest.mark.parametrize("line,message", [
    ("{not json", "invalid JSON"),
    ('{"id": "d", "text": "x", "entites": []}', "unknown key(s) ['entites']"),
    ('{"text": "x"}', "missing key(s) ['id']"),
    ('{"id": "d", "text": "درعا", "entities": [{"start": 0, "end": 4, "label": "CITY"}]}', "unknown label 'CITY'"),
    ('{"id": "d", "text": "درعا", "entities": [{"start": 0, "end": 4, "label": "arrests"}]}',
     "incident label 'arrests' under 'entities'"),
    ('{"id": "d", "text": "درعا", "entities": [{"start": 0, "end": 4, "label": "LOC", "text": "جاسم"}]}',
     "says 'جاسم' but the text there is 'درعا'"),
])
def test_jsonl_reader_errors_name_file_and_line(tmp_path, line, message):
    p = Problems()
    path = write(tmp_path / "bad.jsonl", "\n" + line + "\n")
    read_jsonl(path, load_label_map("spec"), p)
    assert len(p.errors) == 1
    assert f"{path}:2" in p.errors[0] and message in p.errors[0]


def test_conll_nested_columns_typos_and_markers(tmp_path):
    conll = ("مجلس B-ORG\nالأمن I-ORG\nفي O\nنابلس I-OCC B-GPE\n$#$ O\n\n"
             "يوم B-DATE\nالخميس I-DATE\nقال O\nعمر B-PERS\nوزير O B-OCC\n\n")
    p = Problems()
    docs = read_conll(write(tmp_path / "wojood_val.txt", conll), load_label_map("wojood"), p)
    [d] = docs
    assert d.split == "validation"
    assert d.text == "مجلس الأمن في نابلس\nيوم الخميس قال عمر وزير"
    assert [(d.text[s.start:s.end], s.label) for s in d.entities] == [
        ("مجلس الأمن", "ORG"), ("نابلس", "LOC"), ("يوم الخميس", "DATE"), ("عمر", "PER")]
    assert [len(s.words) for s in d.segmentation] == [4, 5]
    assert p.fixed["dropped_marker_token:$#$"] == 1
    assert p.fixed["iob2_repaired"] == 1  # the lone I-OCC
    assert p.warned["ignored_label:OCC"] == 2 and not p.errors


def test_conll_unknown_tag_and_missing_column_are_errors(tmp_path):
    p = Problems()
    path = write(tmp_path / "x.txt", "درعا B-CITY\nجاسم\n\n")
    read_conll(path, load_label_map("anercorp"), p)
    assert any(f"{path}:1" in e and "unknown label 'CITY'" in e for e in p.errors)
    assert any(f"{path}:2" in e and "no tag column" in e for e in p.errors)


def test_conll_blocks_make_pseudo_documents(tmp_path):
    text = "".join(f"كلمة{i} O\n\n" for i in range(45))
    docs = read_conll(write(tmp_path / "ANER_train.txt", text), load_label_map("anercorp"), Problems())
    assert [len(d.segmentation) for d in docs] == [20, 20, 5]
    assert [d.id for d in docs] == ["ANER_train-00000", "ANER_train-00001", "ANER_train-00002"]


def test_labelstudio_export(tmp_path):
    tasks = [{"id": 7, "data": {"text": "اعتقال أحمد في درعا"}, "annotations": [
        {"result": [
            {"type": "labels", "value": {"start": 7, "end": 11, "text": "أحمد", "labels": ["PER"]}},
            {"type": "labels", "value": {"start": 15, "end": 19, "labels": ["LOC"]}},
            {"type": "labels", "value": {"start": 0, "end": 6, "labels": ["arrests"]}},
            {"type": "choices", "value": {"choices": ["x"]}}]},
        {"result": []}]}]
    p = Problems()
    [d] = read_labelstudio(write(tmp_path / "export.json", json.dumps(tasks, ensure_ascii=False)),
                           load_label_map("spec"), p)
    assert d.id == "ls-7"
    assert d.entities == [LabelledSpan(7, 11, "PER"), LabelledSpan(15, 19, "LOC")]
    assert d.events == [LabelledSpan(0, 6, "arrests")]
    assert p.warned["labelstudio_extra_annotations_unused"] == 1


def test_custom_label_map_yaml(tmp_path):
    path = write(tmp_path / "m.yaml", "name: mycorpus\nentity_types: [PER, LOC]\nincidents: false\n"
                                      "labels: {PERSON: PER, CITY: LOC}\nignore: [MISC]\n")
    m = load_label_map(path)
    assert m.map_label("CITY") == "LOC" and m.map_label("MISC") is None
    bad = write(tmp_path / "bad.yaml", "name: x\nentity_type: [PER]\n")
    with pytest.raises(ValueError, match="unknown key 'entity_type'"):
        load_label_map(bad)
    bad = write(tmp_path / "bad2.yaml", "name: x\nentity_types: [PER]\nlabels: {CITY: LOC}\n")
    with pytest.raises(ValueError, match="not in entity_types"):
        load_label_map(bad)


@pytest.mark.parametrize("name,split", [("ANERcorp_camel_train.txt", "train"), ("test.txt", "test"),
                                        ("val.txt", "validation"), ("sm_news_ar_dev.csv", "validation"),
                                        ("annotations.jsonl", None)])
def test_split_from_name(tmp_path, name, split):
    assert split_from_name(tmp_path / name) == split


BAD_BYTES = "قصف".encode() + b"\xff\xfe" + " درعا".encode()


def test_invalid_utf8_in_jsonl_names_the_line_and_reading_goes_on(tmp_path):
    good = json.dumps({"id": "d2", "text": "قصف درعا"}, ensure_ascii=False).encode()
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"id": "d1", "text": "' + BAD_BYTES + b'"}\n' + good + b"\n")
    p = Problems()
    docs = read_jsonl(path, load_label_map("spec"), p)
    assert [d.id for d in docs] == ["d2"]
    assert len(p.errors) == 1 and f"{path}:1" in p.errors[0] and "invalid UTF-8" in p.errors[0]
    assert "0xff at byte offset 28 of the line" in p.errors[0]


def test_invalid_utf8_in_conll_names_the_line(tmp_path):
    path = tmp_path / "x_train.txt"
    path.write_bytes("قصف O\n".encode() + BAD_BYTES + b" B-LOC\n\n" + "درعا B-LOC\n\n".encode())
    p = Problems()
    read_conll(path, load_label_map("anercorp"), p)
    assert len(p.errors) == 1 and f"{path}:2" in p.errors[0] and "invalid UTF-8" in p.errors[0]


def test_invalid_utf8_in_labelstudio_names_line_and_byte(tmp_path):
    path = tmp_path / "export.json"
    path.write_bytes(b'[\n{"data": {"text": "' + BAD_BYTES + b'"}}\n]')
    p = Problems()
    assert read_labelstudio(path, load_label_map("spec"), p) == []
    assert len(p.errors) == 1 and str(path) in p.errors[0] and "invalid UTF-8" in p.errors[0]
    assert "line 2" in p.errors[0] and "byte offset 27" in p.errors[0]


def test_iter_json_lines_is_fatal_on_invalid_utf8_or_collects_into_problems(tmp_path):
    from rasd.errors import InputError
    from training.readers import iter_json_lines

    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{"b": "' + b"\xc3" + b'"}\n{oops\n[2]\n')
    with pytest.raises(InputError, match=f"{path}:3: invalid UTF-8"):
        list(iter_json_lines(path))
    p = Problems()
    assert list(iter_json_lines(path, p)) == [(1, {"a": 1}), (5, [2])]
    assert [e.split(": ")[0] for e in p.errors] == [f"{path}:3", f"{path}:4"]


def test_crlf_and_bom_are_read_as_text(tmp_path):
    path = tmp_path / "x_train.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "قصف O\r\nدرعا B-LOC\r\n\r\n".encode())
    [d] = read_conll(path, load_label_map("anercorp"), Problems())
    assert d.text == "قصف درعا" and d.entities == [LabelledSpan(4, 8, "LOC")]


@pytest.mark.parametrize("task,message", [
    ({"data": {"text": "درعا"}, "annotations": {"result": []}}, "'annotations' must be a list of objects"),
    ({"data": {"text": "درعا"}, "annotations": ["x"]}, "'annotations' must be a list of objects"),
    ({"data": {"text": "درعا"}, "annotations": [{"result": {"type": "labels"}}]}, "'result' must be a list"),
    ({"data": {"text": "درعا"}, "annotations": [{"result": ["labels"]}]}, "result #0 is not an object"),
    ({"data": {"text": "درعا"}, "annotations": [{"result": [{"type": "labels", "value": [0, 4]}]}]},
     "result #0: 'value' is not an object"),
    ({"data": {"text": "درعا"}, "annotations": [{"result": [{"type": "labels", "value": {
        "start": 0, "end": 4, "labels": [7]}}]}]}, "exactly one label"),
])
def test_labelstudio_malformed_tasks_are_clear_errors(tmp_path, task, message):
    path = write(tmp_path / "export.json", json.dumps([{"data": {"text": "قصف"}, "annotations": []}, task],
                                                      ensure_ascii=False))
    p = Problems()
    read_labelstudio(path, load_label_map("spec"), p)
    assert len(p.errors) == 1 and f"{path} task #1" in p.errors[0] and message in p.errors[0]


def test_anchor_names_file_and_line_of_invalid_utf8(tmp_path):
    from training.anchor import AnchorError, anchor_file

    (tmp_path / "a.txt").write_bytes("قصف\r\n".encode() + b"\xff")
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps({"id": "a", "text_file": "a.txt"}) + "\n", encoding="utf-8")
    with pytest.raises(AnchorError, match=r"s.jsonl:1: a: text_file .*a.txt: line 2: invalid UTF-8"):
        anchor_file(src, tmp_path / "out.jsonl")
    (tmp_path / "a.txt").write_bytes("قصف درعا\r\n".encode())
    assert anchor_file(src, tmp_path / "out.jsonl") == 1
    assert json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))["text"] == "قصف درعا\n"
