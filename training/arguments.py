"""The ``TrainingArguments`` of a run: our defaults under the config's ``training`` section, recorded as run.

``<run>/training_args.json`` holds ``TrainingArguments.to_dict()`` as the Trainer used them
(every field, with the defaults transformers filled in; tokens redacted by transformers), so
a card or a rerun never has to guess a value that the config left out.

Example:
    >>> values = {"output_dir": "runs/x/checkpoints", "learning_rate": 0.001, "adam_beta1": 0.9}
    >>> non_default_arguments(values)
    {'learning_rate': 0.001}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training.config import TrainConfig

#: What we change from the transformers defaults before the config's own ``training`` values.
RASD_DEFAULTS: dict[str, Any] = {
    "per_device_train_batch_size": 16, "per_device_eval_batch_size": 32, "learning_rate": 5e-5,
    "num_train_epochs": 3, "weight_decay": 0.01, "warmup_steps": 0.1, "logging_strategy": "steps",
    "logging_steps": 10, "save_total_limit": 2, "report_to": "none", "train_sampling_strategy": "group_by_length",
    "metric_for_best_model": "combined_f1", "greater_is_better": True, "save_strategy": "epoch",
    "label_names": ["labels", "incident_labels", "entity_types_annotated"],
}


def training_arguments(config: TrainConfig, run_dir: Path, has_dev: bool) -> Any:
    """``TrainingArguments`` for a run: :data:`RASD_DEFAULTS`, the seed, dev evaluation, then ``config.training``."""
    import torch
    from transformers import TrainingArguments

    values: dict[str, Any] = {
        "output_dir": str(run_dir / "checkpoints"), **RASD_DEFAULTS, "seed": config.seed, "data_seed": config.seed,
        "eval_strategy": "epoch" if has_dev else "no", "load_best_model_at_end": has_dev,
    }
    if torch.cuda.is_available():  # mixed precision where the GPU has it; CPUs train in fp32
        values["bf16" if torch.cuda.is_bf16_supported() else "fp16"] = True
    else:
        values["dataloader_pin_memory"] = False
    values.update(config.training)
    return TrainingArguments(**values)


def save_training_args(args: Any, path: Path) -> dict[str, Any]:
    """Write ``args.to_dict()`` (the arguments as the Trainer holds them) to ``path``; returns it."""
    values = args.to_dict()
    path.write_text(json.dumps(values, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return values


def non_default_arguments(values: dict[str, Any]) -> dict[str, Any]:
    """The entries of a recorded ``to_dict()`` that differ from fresh ``TrainingArguments`` (same output_dir).

    Compared after ``__post_init__`` on both sides, so values transformers derives (``do_eval``
    from ``eval_strategy``, say) count only when the run's settings changed them.
    """
    from transformers import TrainingArguments

    # Through JSON, as the recorded values went: tuples become lists, paths and enums strings.
    defaults = json.loads(json.dumps(TrainingArguments(output_dir=values.get("output_dir") or "unused").to_dict(),
                                     default=str))
    return {k: v for k, v in sorted(values.items()) if k not in defaults or defaults[k] != v}
