"""Label Studio pre-annotation: the tasks and config rasd writes, read back by the builder, on a real Label Studio.

The last test starts a real Label Studio (see ``tests/labelstudio_server.py``): the first run
installs it into its own virtualenv, which takes minutes; it is skipped only when that install or
the server's start fails.
"""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from rasd.cli import main as rasd_main
from rasd.errors import InputError
from rasd.labelstudio import (
    ENTITY_CONTROL,
    INCIDENT_CONTROL,
    TEXT_OBJECT,
    labelling_config,
    model_version,
    prediction_results,
    to_task,
)
from rasd.results import Document, Entity, IncidentScore, Sentence, Windowing
from rasd.schema import ENTITY_LABELS, SUB_EVENT_LABELS
from training.cli import main as training_main
from training.documents import Problems
from training.label_maps import load_label_map
from training.readers import read_labelstudio

TEXT = "قصفت قوات النظام مدينة جاسم.\nواعتقلت دورية شابين في نوى."
WINDOWING = Windowing(1, 64, 8, 8, 0, 0)


def _doc(**kw):
    s1, s2 = TEXT.index("قصفت"), TEXT.index("واعتقلت")
    entities = (Entity("قوات النظام", "ORG", 5, 16, 0.91), Entity("جاسم", "LOC", 23, 27, 0.8),
                Entity("نوى", "LOC", TEXT.index("نوى"), TEXT.index("نوى") + 3, 0.55))
    sentences = (Sentence(s1, TEXT.index("\n"), (IncidentScore("shelling_artillery_missile_attack",
                                                                "explosions_remote_violence", 0.97),)),
                 Sentence(s2, len(TEXT), (IncidentScore("arrests", "strategic_developments", 0.6),
                                          IncidentScore("abduction_forced_disappearance",
                                                        "violence_against_civilians", 0.41))))
    return Document(kw.get("id", "d1"), TEXT, entities, sentences, (), (), WINDOWING, date=kw.get("date"))


def _spans(results):
    """(start, end, label) of entity and incident regions, sorted: what the builder must read back."""
    ent = sorted((r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in results
                 if r["value"]["labels"][0] in ENTITY_LABELS)
    inc = sorted((r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in results
                 if r["value"]["labels"][0] not in ENTITY_LABELS)
    return ent, inc


def _read(path):
    problems = Problems()
    docs = read_labelstudio(path, load_label_map("spec"), problems)
    assert not problems.errors, problems.errors
    return docs


def _as_export(tasks):
    """A Label Studio JSON export in which every prediction was accepted as it is."""
    return [{"id": k + 1, "data": t["data"], "predictions": t["predictions"],
             "annotations": [{"id": k + 1, "was_cancelled": False, "result": t["predictions"][0]["result"]}]}
            for k, t in enumerate(tasks)]


# ---------------------------------------------------------------- the config


def test_config_is_xml_with_every_label_in_its_control():
    root = ET.fromstring(labelling_config())
    controls = {el.get("name"): el for el in root.iter("Labels")}
    assert set(controls) == {ENTITY_CONTROL, INCIDENT_CONTROL}
    assert all(el.get("toName") == TEXT_OBJECT for el in controls.values())
    assert [x.get("value") for x in controls[ENTITY_CONTROL]] == list(ENTITY_LABELS)
    assert [x.get("value") for x in controls[INCIDENT_CONTROL]] == list(SUB_EVENT_LABELS)
    assert all(x.get("hint") and x.get("background") for c in controls.values() for x in c)
    [text] = root.iter("Text")
    assert (text.get("name"), text.get("value")) == (TEXT_OBJECT, "$text")
    # Character granularity: a span may start after a proclitic inside a word.
    assert text.get("granularity") in (None, "symbol")


def test_config_command_prints_the_config(capsys, random_model_dir):
    assert training_main(["labelstudio-config"]) == 0
    assert capsys.readouterr().out == labelling_config()
    assert training_main(["labelstudio-config", "--model", str(random_model_dir)]) == 0
    assert ET.fromstring(capsys.readouterr().out).tag == "View"


def test_config_escapes_and_subsets():
    config = labelling_config(['A"B', "LOC"], [])
    root = ET.fromstring(config)
    assert [x.get("value") for x in root.iter("Label")] == ['A"B', "LOC"]
    assert not [el for el in root.iter("Labels") if el.get("name") == INCIDENT_CONTROL]


@pytest.mark.parametrize("entities, incidents, message", [
    (["LOC", "LOC"], [], "more than once"),
    (["LOC"], ["LOC"], "both an entity and an incident label"),
    ([], [], "at least one"),
    ([""], [], "non-empty strings"),
])
def test_config_refuses_bad_label_lists(entities, incidents, message):
    with pytest.raises(InputError, match=message):
        labelling_config(entities, incidents)


# ---------------------------------------------------------------- the tasks


def test_regions_have_label_studio_shape_and_exact_offsets():
    results = prediction_results(_doc())
    assert len(results) == 3 + 3
    assert len({r["id"] for r in results}) == len(results)
    for r in results:
        assert set(r) == {"id", "from_name", "to_name", "type", "value", "score"}
        assert r["type"] == "labels" and r["to_name"] == TEXT_OBJECT
        assert set(r["value"]) == {"start", "end", "text", "labels"}
        assert TEXT[r["value"]["start"]:r["value"]["end"]] == r["value"]["text"]
        assert 0 <= r["score"] <= 1
        control = ENTITY_CONTROL if r["value"]["labels"][0] in ENTITY_LABELS else INCIDENT_CONTROL
        assert r["from_name"] == control
    # One region per (sentence, incident type), spanning the sentence.
    incidents = [r["value"] for r in results if r["from_name"] == INCIDENT_CONTROL]
    assert [(v["start"], v["labels"]) for v in incidents] == [
        (0, ["shelling_artillery_missile_attack"]), (TEXT.index("واعتقلت"), ["arrests"]),
        (TEXT.index("واعتقلت"), ["abduction_forced_disappearance"])]


def test_task_data_and_prediction():
    import datetime

    task = to_task(_doc(date=datetime.date(2022, 10, 25)), model_version="m-1")
    assert task["data"] == {"text": TEXT, "id": "d1", "date": "2022-10-25"}
    [prediction] = task["predictions"]
    assert prediction["model_version"] == "m-1"
    assert prediction["score"] == 0.41          # the weakest region: review first
    assert to_task(_doc(), "m", score=0.25)["predictions"][0]["score"] == 0.25
    json.dumps(task)                             # plain JSON all the way down


def test_task_without_id_or_predictions():
    doc = Document(None, "نص", (), (), (), (), WINDOWING)
    task = to_task(doc, "m")
    assert task == {"data": {"text": "نص"}, "predictions": [{"model_version": "m", "result": []}]}


@pytest.mark.parametrize("score", [-0.1, 1.5, float("nan")])
def test_task_refuses_scores_outside_zero_one(score):
    with pytest.raises(InputError, match="score"):
        to_task(_doc(), "m", score=score)


def test_task_refuses_what_is_not_a_document():
    with pytest.raises(InputError, match="Document"):
        to_task({"text": "x"}, "m")


def test_model_version_is_stable_for_one_model_and_new_for_another(tmp_path, random_model_dir):
    import shutil

    v = model_version(random_model_dir)
    assert v.startswith(random_model_dir.name + "-")
    assert model_version(str(random_model_dir) + "/") == v
    assert model_version(random_model_dir / ".." / random_model_dir.name) == v
    copy = shutil.copytree(random_model_dir, tmp_path / random_model_dir.name)
    assert model_version(copy) == v
    (copy / "config.json").write_text((copy / "config.json").read_text() + " ", encoding="utf-8")
    assert model_version(copy) != v
    assert model_version("someone/rasd-base") == "someone/rasd-base"


def test_accepted_predictions_read_back_unchanged(tmp_path):
    task = to_task(_doc(), "m")
    path = tmp_path / "export.json"
    path.write_text(json.dumps(_as_export([task]), ensure_ascii=False), encoding="utf-8")
    [doc] = _read(path)
    ent, inc = _spans(task["predictions"][0]["result"])
    assert (doc.id, doc.text) == ("d1", TEXT)
    assert [(s.start, s.end, s.label) for s in doc.entities] == ent
    assert sorted((s.start, s.end, s.label) for s in doc.events) == inc


def test_predict_labelstudio_reads_back_and_builds(random_model_dir, root, tmp_path, capsys):
    seeds = sorted((root / "seeds").glob("*.txt"))
    out = tmp_path / "tasks.json"
    assert rasd_main(["predict", "--model", str(random_model_dir), "--format", "labelstudio", "--out", str(out),
                      "--date", "2022-10-25", "--quiet", *map(str, seeds)]) == 0
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert [t["data"]["id"] for t in tasks] == [str(p) for p in seeds]
    assert all(t["data"]["date"] == "2022-10-25" for t in tasks)
    assert all(t["data"]["text"] == p.read_text(encoding="utf-8") for t, p in zip(tasks, seeds))
    export = tmp_path / "export.json"
    export.write_text(json.dumps(_as_export(tasks), ensure_ascii=False), encoding="utf-8")
    docs = _read(export)
    for task, doc in zip(tasks, docs):
        ent, inc = _spans(task["predictions"][0]["result"])
        assert [(s.start, s.end, s.label) for s in doc.entities] == ent
        assert sorted((s.start, s.end, s.label) for s in doc.events) == inc
        assert doc.meta == {"date": "2022-10-25"}
    assert training_main(["build", str(export), "--label-map", "spec", "--out", str(tmp_path / "built")]) == 0


# ---------------------------------------------------------------- a real Label Studio


@pytest.fixture(scope="module")
def labelstudio_exe():
    from labelstudio_server import Unavailable, ensure_venv

    try:
        return ensure_venv()
    except Unavailable as exc:
        pytest.skip(f"label-studio cannot be installed: {exc}")


def test_round_trip_through_a_real_label_studio(labelstudio_exe, random_model_dir, root, tmp_path):
    """predict → import → annotate (one region corrected, one deleted) → export → reader and builder."""
    from labelstudio_server import LabelStudio, Unavailable, correct, installed_version, roundtrip, validate_predictions

    seeds = sorted((root / "seeds").glob("*.txt"))
    tasks_path = tmp_path / "tasks.json"
    # As a user runs it: a separate process, the command line.
    subprocess.run([sys.executable, "-m", "rasd", "predict", "--model", str(random_model_dir), "--format",
                    "labelstudio", "--out", str(tasks_path), "--date", "2022-10-25", "--quiet", *map(str, seeds)],
                   check=True, cwd=root)
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    config = labelling_config()
    assert validate_predictions(labelstudio_exe, config, tasks) == []
    try:
        server = LabelStudio.from_template(labelstudio_exe)
        server.start()
    except Unavailable as exc:
        pytest.skip(f"label-studio {installed_version(labelstudio_exe)} cannot be started: {exc}")
    try:
        out = roundtrip(server, config, tasks, tmp_path)
    except Exception:
        print(server.log()[-5000:])
        raise
    finally:
        server.stop()

    sent = {t["data"]["id"]: t for t in tasks}
    assert set(out["stored_predictions"]) == set(sent)
    for doc_id, stored in out["stored_predictions"].items():
        # Label Studio keeps the pre-annotations as sent: regions, scores, model version.
        [prediction] = sent[doc_id]["predictions"]
        assert stored["result"] == prediction["result"]
        assert stored["model_version"] == prediction["model_version"]
        assert stored["score"] == pytest.approx(prediction["score"])
        # The submitted annotation is the prediction corrected.
        assert out["submitted"][doc_id] == correct(prediction["result"], sent[doc_id]["data"]["text"])

    docs = {d.id: d for d in _read(out["export_path"])}
    assert set(docs) == set(sent)
    for doc_id, doc in docs.items():
        assert doc.text == sent[doc_id]["data"]["text"]
        assert doc.meta.get("date") == "2022-10-25"
        ent, inc = _spans(out["submitted"][doc_id])
        assert [(s.start, s.end, s.label) for s in doc.entities] == ent
        assert sorted((s.start, s.end, s.label) for s in doc.events) == inc
        assert all(doc.text[s.start:s.end] for s in doc.entities)
    assert training_main(["build", str(out["export_path"]), "--label-map", "spec",
                          "--out", str(tmp_path / "built")]) == 0
    summary = json.loads((tmp_path / "built" / "summary.json").read_text(encoding="utf-8"))
    assert sum(split["documents"] for split in summary["splits"].values()) == len(seeds)
