"""The typed training config: unknown keys rejected by name, types coerced, overrides."""

import pytest

from training.config import load_config
from training.dataclass_io import ConfigError

BASE = """
model: {max_length: 64}
data:
  sources: [{path: seeds/annotations.jsonl}]
training: {learning_rate: 5e-5, num_train_epochs: 2}
"""


def write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_and_coerces(tmp_path):
    cfg = load_config(write(tmp_path, BASE), ["model.stride=8", "data.sources.0.weight=2", "seed=7"])
    assert cfg.training["learning_rate"] == 5e-5 and isinstance(cfg.training["learning_rate"], float)
    assert cfg.model.stride == 8 and cfg.data.sources[0].weight == 2.0 and cfg.seed == 7


@pytest.mark.parametrize("text,message", [
    (BASE.replace("max_length", "max_lenght"), "c.yaml.model: unknown key 'max_lenght'"),
    (BASE.replace("learning_rate", "learning_rte"), "unknown TrainingArguments key 'learning_rte'"),
    (BASE.replace("max_length: 64", "max_length: lots"), "c.yaml.model.max_length: expected int, got 'lots'"),
    (BASE.replace("sources: [{path: seeds/annotations.jsonl}]", "sources: []"), "data.sources is empty"),
    (BASE + "\nextra: 1\n", "c.yaml: unknown key 'extra'"),
    (BASE.replace("max_length: 64", "max_length: 4"), "max_length 4 is out of range"),
    ("[1, 2]", "expected a mapping at the top level"),
])
def test_errors_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=None) as exc:
        load_config(write(tmp_path, text))
    assert message in str(exc.value)


def test_bad_override(tmp_path):
    with pytest.raises(ConfigError, match="expected key=value"):
        load_config(write(tmp_path, BASE), ["model.stride"])
    with pytest.raises(ConfigError, match="no such place"):
        load_config(write(tmp_path, BASE), ["data.sources.5.weight=2"])


def test_shipped_configs_load(root):
    for name in ("tiny", "e5-small-offline", "arabert-base"):
        cfg = load_config(root / "configs" / f"{name}.yaml")
        assert cfg.data.sources


def test_scratch_window_longer_than_its_positions(tmp_path):
    text = BASE.replace("model: {max_length: 64}", "model: {max_length: 128, scratch: {max_position_embeddings: 64}}")
    with pytest.raises(ConfigError, match=r"model: max_length 128 exceeds scratch.max_position_embeddings 64"):
        load_config(write(tmp_path, text))


def test_one_yaml_reader_for_configs_and_label_maps(tmp_path):
    from training.label_maps import load_label_map

    for bad, message in (("a: [1", "invalid YAML"), ("- 1\n", "expected a mapping at the top level")):
        path = tmp_path / "x.yaml"
        path.write_text(bad, encoding="utf-8")
        for load in (load_config, load_label_map):
            with pytest.raises(ConfigError, match=message):
                load(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_label_map(tmp_path)  # exists, but a folder
