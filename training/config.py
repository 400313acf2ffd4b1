"""The training configuration: typed dataclasses loaded from YAML, unknown keys rejected.

Sections: ``model`` (encoder, lengths, losses), ``data`` (sources mixed with
sampling weights), ``training`` (passed through to ``transformers.TrainingArguments``,
every key checked against it), ``early_stopping`` and ``output``.
``--set section.key=value`` overrides any value (YAML syntax for the value).

Example:
    >>> cfg = load_config("configs/tiny.yaml", ["training.num_train_epochs=1"])  # doctest: +SKIP
    >>> cfg.training["num_train_epochs"]  # doctest: +SKIP
    1
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from training.dataclass_io import ConfigError, coerce, from_dict, read_yaml_mapping, to_dict


@dataclass
class ScratchEncoder:
    """A small BERT trained from scratch, with a WordPiece vocabulary learnt from the training text."""

    vocab_size: int = 8000
    hidden_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    intermediate_size: int = 256
    max_position_embeddings: int = 512


@dataclass
class ModelSection:
    """The encoder and the joint heads."""

    base_model: str = "aubmindlab/bert-base-arabertv02"
    revision: str | None = None
    scratch: ScratchEncoder | None = None
    max_length: int = 256
    stride: int = 32
    label_all_subtokens: bool = False
    classifier_dropout: float = 0.1
    entity_loss_weight: float = 1.0
    incident_loss_weight: float = 1.0
    head_learning_rate: float | None = None
    normalization: dict[str, bool] = field(default_factory=dict)
    trust_remote_code: bool = False

    def __post_init__(self) -> None:
        if not 8 <= self.max_length <= 8192:
            raise ValueError(f"max_length {self.max_length} is out of range [8, 8192]")
        if not 0 <= self.stride < self.max_length - 2:
            raise ValueError(f"stride {self.stride} must be in [0, max_length - 2)")
        # A pretrained encoder's positions are checked when it is loaded (training.model_factory).
        if self.scratch is not None and self.max_length > self.scratch.max_position_embeddings:
            raise ValueError(f"max_length {self.max_length} exceeds scratch.max_position_embeddings "
                             f"{self.scratch.max_position_embeddings}")


@dataclass
class SourceSection:
    """One training source: a file or folder for the builder, or a built dataset folder.

    ``dev_ratio``/``test_ratio`` override the data section's split for this source (0 and 0
    make a training-only source).
    """

    path: str
    format: Literal["jsonl", "conll", "labelstudio"] | None = None
    label_map: str | None = None
    weight: float = 1.0
    limit_train_documents: int | None = None
    dev_ratio: float | None = None
    test_ratio: float | None = None

    def __post_init__(self) -> None:
        if self.weight <= 0:
            raise ValueError(f"weight of {self.path} must be positive, got {self.weight}")


@dataclass
class DataSection:
    """Sources mixed with sampling weights, and how documents are split."""

    sources: list[SourceSection] = field(default_factory=list)
    dev_ratio: float = 0.1
    test_ratio: float = 0.1
    split_seed: int = 13

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("data.sources is empty: name at least one annotated source")


@dataclass
class EarlyStopping:
    patience: int | None = 3
    threshold: float = 0.0


@dataclass
class OutputSection:
    dir: str = "runs/rasd"
    export: bool = True
    model_name: str = "rasd"
    license: str = "apache-2.0"


@dataclass
class TrainConfig:
    """The whole training configuration."""

    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    training: dict[str, Any] = field(default_factory=dict)
    early_stopping: EarlyStopping = field(default_factory=EarlyStopping)
    output: OutputSection = field(default_factory=OutputSection)
    seed: int = 42

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


def _training_arguments_fields() -> dict[str, Any]:
    from transformers import TrainingArguments

    hints = typing.get_type_hints(TrainingArguments)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(TrainingArguments) if f.init}


def check_training_arguments(values: dict[str, Any], where: str) -> dict[str, Any]:
    """Reject keys TrainingArguments does not have, by name; coerce values to its field types."""
    known = _training_arguments_fields()
    out = {}
    for key, value in values.items():
        if key not in known:
            close = [k for k in known if key.replace("_", "") in k.replace("_", "")][:3]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(f"{where}.training: unknown TrainingArguments key {key!r}{hint}")
        out[key] = coerce(value, known[key], f"{where}.training.{key}")
    return out


def _apply_override(data: dict[str, Any], assignment: str) -> None:
    if "=" not in assignment:
        raise ConfigError(f"--set {assignment!r}: expected key=value")
    key, raw = assignment.split("=", 1)
    value = yaml.safe_load(raw) if raw.strip() else ""
    node: Any = data
    parts = key.strip().split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            node = node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    """Load a YAML config, apply ``key=value`` overrides, validate every section."""
    data = read_yaml_mapping(path)
    for assignment in overrides or []:
        try:
            _apply_override(data, assignment)
        except ConfigError:
            raise
        except (IndexError, ValueError, TypeError, AttributeError):
            raise ConfigError(f"--set {assignment!r}: no such place in the config") from None
    config = from_dict(TrainConfig, data, str(path))
    config.training = check_training_arguments(config.training, str(path))
    return config
