"""The dataset builder: features, IOB2 and incident labels, splits by document, determinism."""

import hashlib
import json
from pathlib import Path

from rasd.schema import IOB2_TAGS, SUB_EVENT_LABELS
from training.builder import BuildOptions, InputSpec, build, save
from training.cli import main as training_main


def corpus(n=12):
    docs = []
    for i in range(n):
        text = f"اشتباكات في درعا يوم {i + 1} تموز.\nواعتقلت قوات النظام أحمد العلي."
        docs.append({
            "id": f"doc-{i:02d}", "text": text,
            "entities": [{"start": text.index("درعا"), "end": text.index("درعا") + 4, "label": "LOC"},
                         {"start": text.index("يوم"), "end": text.index(" تموز") + 5, "label": "DATE"},
                         {"start": text.index("قوات"), "end": text.index("النظام") + 6, "label": "ORG"},
                         {"start": text.index("أحمد"), "end": text.index("العلي") + 5, "label": "PER"}],
            "events": [{"start": 0, "end": 8, "label": "armed_clash"},
                       {"start": text.index("اعتقلت"), "end": text.index("اعتقلت") + 6, "label": "arrests"}],
            "meta": {"source": "toy"}})
    return docs


def write_jsonl(path: Path, docs) -> Path:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    return path


def test_examples_carry_tags_masks_and_incidents(tmp_path):
    result = build([InputSpec(write_jsonl(tmp_path / "toy.jsonl", corpus()))])
    ds = result.dataset
    assert set(ds) == {"train", "validation", "test"}
    ex = ds["train"][0]
    tags = [IOB2_TAGS[t] for t in ex["ner_tags"]]
    assert ex["tokens"][:3] == ["اشتباكات", "في", "درعا"] and tags[:3] == ["O", "O", "B-LOC"]
    assert tags[3:6] == ["B-DATE", "I-DATE", "I-DATE"]
    assert ex["incident_labels"][SUB_EVENT_LABELS.index("armed_clash")] == 1 and sum(ex["incident_labels"]) == 1
    assert ex["event_type_labels"] == [1, 0, 0, 0, 0, 0]
    assert ex["entity_types_annotated"] == [True] * 5 and ex["incidents_annotated"] is True
    second = ds["train"][1]
    assert [IOB2_TAGS[t] for t in second["ner_tags"]] == ["O", "B-ORG", "I-ORG", "B-PER", "I-PER", "O"]
    assert second["tokens"][0] == "واعتقلت" and second["sentence_start"] == ex["text"].__len__() + 1
    for split in ds.values():
        for row in split:
            for tok, a, b in zip(row["tokens"], row["token_starts"], row["token_ends"]):
                assert row["text"][a:b] == tok


def test_split_is_by_document_and_counts_add_up(tmp_path):
    result = build([InputSpec(write_jsonl(tmp_path / "toy.jsonl", corpus(20)))], BuildOptions(0.1, 0.2, seed=3))
    docs = {s: set(result.dataset[s]["doc_id"]) for s in result.dataset}
    assert [len(docs[s]) for s in ("train", "validation", "test")] == [14, 2, 4]
    assert not (docs["train"] & docs["test"]) and not (docs["train"] & docs["validation"])
    summary = result.summary["splits"]
    assert sum(summary[s]["documents"] for s in summary) == 20
    assert summary["train"]["entities"]["PER"] == 14 and summary["train"]["events"]["arrests"] == 14


def test_output_is_byte_identical_and_order_independent(tmp_path):
    docs = corpus()
    outs = []
    for k, order in enumerate((docs, list(reversed(docs)))):
        src = write_jsonl(tmp_path / f"in{k}" / "toy.jsonl", order) if (tmp_path / f"in{k}").mkdir() is None else None
        out = tmp_path / f"out{k}"
        result = build([InputSpec(src)])
        save(result.dataset, result.summary, out)
        outs.append({p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                     for p in sorted(out.rglob("*")) if p.is_file()})
    # summary.json names its input path, which differs here; everything else must match.
    assert {k: v for k, v in outs[0].items() if k != "summary.json"} == \
        {k: v for k, v in outs[1].items() if k != "summary.json"}
    assert len(outs[0]) >= 8


def test_anercorp_counts(shared, tmp_path, capsys):
    path = shared / "data" / "anercorp" / "ANERcorp_camel_train.txt"
    assert training_main(["build", str(path), "--format", "conll", "--out", str(tmp_path / "y")]) == 0
    summary = json.loads((tmp_path / "y" / "summary.json").read_text())
    assert sum(s["sentences"] for s in summary["splits"].values()) == 3963
    assert sum(s["tokens"] for s in summary["splits"].values()) == 125084
    assert summary["sources"]["anercorp"]["entity_types"] == ["PER", "ORG", "LOC"]
    assert "125,084" in capsys.readouterr().out


def test_seed_annotations_build(root):
    result = build([InputSpec(root / "seeds" / "annotations.jsonl")])
    splits = result.summary["splits"]
    total = lambda key: sum(s[key] for s in splits.values())  # noqa: E731
    assert total("documents") == 5 and total("sentences") == 95 and total("tokens") == 2627
    entities = {t: sum(s["entities"][t] for s in splits.values()) for t in ("PER", "ORG", "LOC", "DATE", "WEAPON")}
    assert entities == {"PER": 23, "ORG": 90, "LOC": 94, "DATE": 35, "WEAPON": 11}
    assert total("event_mentions") == 152
    assert result.summary["problems"]["fixed"] == {} and not result.problems.errors


def test_an_empty_input_file_is_an_error_naming_it(tmp_path):
    import pytest

    from training.documents import DataError

    for name, content in (("empty.jsonl", ""), ("blank.jsonl", "\n  \n\n"), ("x_train.txt", "-DOCSTART- O\n\n")):
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(DataError, match="no documents") as info:
            build([InputSpec(path, label_map="anercorp" if name.endswith(".txt") else None)])
        assert str(path) in str(info.value)


def test_a_folder_with_some_empty_files_warns_per_file(tmp_path):
    import pytest

    from training.documents import DataError

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_empty.jsonl").write_text("", encoding="utf-8")
    (folder / "b_blank.jsonl").write_text("\n\n", encoding="utf-8")
    write_jsonl(folder / "c.jsonl", corpus(3))
    result = build([InputSpec(folder)])
    assert result.summary["problems"]["warnings"]["file_without_documents"] == 2
    shown = result.summary["problems"]["examples"]["file_without_documents"]
    assert any("a_empty.jsonl" in x for x in shown) and any("b_blank.jsonl" in x for x in shown)
    (folder / "c.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=f"{folder}: no documents in any of its 3 data files"):
        build([InputSpec(folder)])


def test_invalid_utf8_stops_the_build_naming_file_and_line(tmp_path):
    import pytest

    from training.documents import DataError

    path = write_jsonl(tmp_path / "toy.jsonl", corpus(3))
    path.write_bytes(path.read_bytes() + b'{"id": "x", "text": "\xe2\x28\xa1"}\n')
    with pytest.raises(DataError, match=f"{path}:4: invalid UTF-8"):
        build([InputSpec(path)])
