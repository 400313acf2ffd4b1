"""Export without a training run: a tiny random model in a hand-made run folder.

The export must never delete the run it reads, must not replace a folder that is not one of
its own exports, must report a broken run folder as an ``error:`` line, and must describe the
model's own labels and where each incident threshold came from.
"""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from training.cli import main as training_main
from training.config import load_config


@pytest.fixture(scope="module")
def base_run(random_model_dir, tmp_path_factory, root) -> Path:
    run = tmp_path_factory.mktemp("base") / "run"
    shutil.copytree(random_model_dir, run / "final")
    config = load_config(root / "configs" / "tiny.yaml").to_dict()
    (run / "config.resolved.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                                              encoding="utf-8")
    return run


@pytest.fixture
def run(base_run, tmp_path) -> Path:
    out = tmp_path / "runs" / "run"
    shutil.copytree(base_run, out)
    return out


def error_line(err: str) -> str:
    """The one ``error: …`` line among stderr's progress bars; there is no traceback."""
    assert "Traceback" not in err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


def export(run: Path, out: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = training_main(["export", str(run), "--out", str(out)])
    err = capsys.readouterr().err
    return code, (error_line(err) if code else err)


@pytest.mark.parametrize("where", ["run", "parent", "final", "inside final"])
def test_export_refuses_to_delete_the_run(run, capsys, where):
    out = {"run": run, "parent": run.parent, "final": run / "final", "inside final": run / "final" / "x"}[where]
    before = sorted(p.relative_to(run.parent) for p in run.parent.rglob("*"))
    code, err = export(run, out, capsys)
    assert code == 2 and err.startswith("error: ") and "--out" in err
    assert sorted(p.relative_to(run.parent) for p in run.parent.rglob("*")) == before


def test_export_refuses_to_replace_a_folder_that_is_not_an_export(run, tmp_path, capsys):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine", encoding="utf-8")
    code, err = export(run, other, capsys)
    assert code == 2 and "not a rasd export" in err
    assert (other / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_export_replaces_its_own_previous_export(run, tmp_path, capsys):
    out = tmp_path / "exported"
    assert export(run, out, capsys)[0] == 0
    (out / "stale.txt").write_text("from an older export", encoding="utf-8")
    assert export(run, out, capsys)[0] == 0
    assert not (out / "stale.txt").exists() and (out / "README.md").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind


@pytest.mark.parametrize("broken,message", [
    ("no run folder", "no such run folder"),
    ("no final", "has no final/"),
    ("no config", "config.resolved.yaml"),
    ("bad licence", "license 'proprietary' is not a Hub licence id"),
])
def test_a_broken_run_is_an_error_line(run, tmp_path, capsys, broken, message):
    if broken == "no run folder":
        shutil.rmtree(run)
    elif broken == "no final":
        shutil.rmtree(run / "final")
    elif broken == "no config":
        (run / "config.resolved.yaml").unlink()
    else:
        config = yaml.safe_load((run / "config.resolved.yaml").read_text(encoding="utf-8"))
        config["output"]["license"] = "proprietary"
        (run / "config.resolved.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    out = tmp_path / "exported"
    code, err = export(run, out, capsys)
    assert code == 2 and err.startswith("error: ") and message in err
    assert not out.exists()  # nothing half-written


def _model_with_labels(folder: Path, tokenizer_dir: Path, entity_labels: list[str]) -> None:
    from transformers import AutoTokenizer, BertConfig

    from rasd.modeling import RasdConfig, RasdModel
    from rasd.schema import iob2_tags

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    encoder = BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32, max_position_embeddings=64, pad_token_id=tokenizer.pad_token_id)
    config = RasdConfig(encoder=encoder, base_model="random-test", max_length=64, stride=8,
                        entity_labels=entity_labels, tags=list(iob2_tags(tuple(entity_labels))))
    shutil.rmtree(folder)
    RasdModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def test_export_describes_the_models_own_entity_labels(run, tmp_path, capsys):
    labels = ["PER", "ORG", "LOC", "DATE", "WEAPON", "VEHICLE"]
    _model_with_labels(run / "final", run / "final", labels)
    out = tmp_path / "exported"
    assert export(run, out, capsys)[0] == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "| `VEHICLE` |" in card and "PER, ORG, LOC, DATE, WEAPON, VEHICLE" in card
    assert "VEHICLE" in (out / "token-classification" / "README.md").read_text(encoding="utf-8")
    tc = json.loads((out / "token-classification" / "config.json").read_text(encoding="utf-8"))
    assert "B-VEHICLE" in tc["id2label"].values()


def test_card_shows_where_each_threshold_came_from(run, tmp_path, capsys):
    from rasd.loading import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(run / "final")
    n = len(model.config.incident_labels)
    thresholds = [0.35] + [0.3] * 2 + [0.5] * (n - 3)
    sources = ["class"] + ["shared"] * 2 + ["default"] * (n - 3)
    model.config.incident_thresholds = thresholds
    model.save_pretrained(run / "final")
    summary = {"thresholds": {"thresholds": thresholds, "sources": sources, "shared": 0.3, "floor": 0.2,
                              "min_positives": 10, "tuned": [s == "class" for s in sources]}}
    (run / "run_summary.json").write_text(json.dumps(summary), encoding="utf-8")
    out = tmp_path / "exported"
    assert export(run, out, capsys)[0] == 0
    rows = [line for line in (out / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and line.count("|") == 5 and "`" in line]
    cells = {line.split("`")[1]: line.rsplit("|", 2)[1].strip() for line in rows}
    labels = model.config.incident_labels
    assert cells[labels[0]] == "0.35 (own dev tuning)"
    assert cells[labels[1]] == cells[labels[2]] == "0.30 (shared by low-support types)"
    assert cells[labels[3]] == "0.50 (default, too few dev examples)"


def test_every_source_the_card_names_has_its_prose_in_yaml():
    from training.dataclass_io import ConfigError, from_dict
    from training.label_maps import LabelMap, builtin_names, load_label_map

    for name in builtin_names():
        if name != "spec":  # spec is a format, not a corpus: its sources are registered by name
            assert load_label_map(name).description, name
    with pytest.raises(ConfigError, match="unknown key 'descripton'"):
        from_dict(LabelMap, {"name": "x", "descripton": "typo"})
    from training.data_sources import source_info

    seeds = source_info("seeds", {"label_map": "spec"})
    assert "Daraa" in seeds.description and "Apache-2.0" in seeds.license
    anercorp = source_info("anercorp", {"label_map": "anercorp", "license": "CC BY-SA 4.0"})
    assert "ANERcorp" in anercorp.description and anercorp.license == "CC BY-SA 4.0"
    unknown = source_info("mine", {"label_map": "custom", "entity_types": ["PER"]})
    assert unknown.description == "mine (PER)" and unknown.license == "see data/README.md"
