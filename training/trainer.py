"""Config-driven training: ``python -m training train CONFIG [--set k=v ...] [--output-dir DIR] [--resume]``.

:func:`train` runs the whole job with the stock Hugging Face ``Trainer`` (early stopping,
checkpoints, resume, mixed precision on GPUs); its parts live in their own modules:
``training.sources`` (building and mixing the data), ``training.model_factory`` (the model),
``training.arguments`` (``TrainingArguments``), ``training.optim`` (the optimizer),
``training.dev_metrics`` (checkpoint metrics, threshold tuning) and ``training.run_log``.

Run directory layout::

    config.resolved.yaml   the config as run (after --set)
    training_args.json     TrainingArguments.to_dict() as the Trainer used them
    data/<source>/         built DatasetDicts, each with summary.json
    checkpoints/           Trainer checkpoints (resume from here)
    final/                 the best model + tokenizer, thresholds tuned
    eval/<source>.json|md|png   test-split reports
    train.log, train_log.jsonl, run_summary.json
    model/                 the export (see training.export)

Example:
    >>> result = train(load_config("configs/tiny.yaml"), Path("runs/tiny"))  # doctest: +SKIP
    >>> result.test["seeds"]["entity_micro_f1"]  # doctest: +SKIP
    0.41
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rasd.errors import InputError
from rasd.normalize import NormalizationConfig
from training.arguments import save_training_args, training_arguments
from training.config import TrainConfig
from training.dev_metrics import compute_metrics, dev_incidents, preprocess_logits, tune_incident_thresholds
from training.features import WindowCollator, encode_split
from training.model_factory import build_model
from training.optim import build_optimizer
from training.run_log import LogFileCallback, run_logging, truncate_log
from training.sources import PreparedSource, incident_rates, mix_windows, prepare_sources, train_rows

logger = logging.getLogger("training")
_COLUMNS = ("input_ids", "sentence_ids", "labels", "incident_labels", "entity_types_annotated")


class TrainError(InputError):
    """A run that cannot go ahead as asked; the message names the folder or option at fault."""


@dataclass(frozen=True)
class TrainResult:
    """What a finished run produced.

    ``model_dir`` is the export (``<run>/model``), or ``final_dir`` when ``output.export`` is
    false; ``test`` maps each source with a test split to
    :func:`training.evaluate.headline` of its report (``{"entity_micro_f1": …, …}``).
    ``str()`` of a result is ``model_dir``.
    """

    model_dir: Path
    final_dir: Path
    test: dict[str, dict[str, float]]

    def __str__(self) -> str:
        return str(self.model_dir)


def _checkpoint_to_resume(run_dir: Path) -> Path:
    from transformers.trainer_utils import get_last_checkpoint

    folder = run_dir / "checkpoints"
    found = get_last_checkpoint(str(folder)) if folder.is_dir() else None
    if found is None:
        raise TrainError(f"--resume: no checkpoint in {folder} (start the run without --resume)")
    return Path(found)


def train(config: TrainConfig, run_dir: Path, resume: bool = False, command: str = "") -> TrainResult:
    """Run the whole training job in ``run_dir``: data, training, thresholds, test reports, export.

    Raises:
        TrainError: ``--resume`` without a checkpoint, or no training data at all.
        ConfigError: a setting the encoder cannot take (``model.max_length`` beyond its positions).
    """
    started = time.time()
    run_dir.mkdir(parents=True, exist_ok=True)
    if not resume:  # a fresh run starts fresh logs; a resumed one appends to its own
        (run_dir / "train_log.jsonl").unlink(missing_ok=True)
    with run_logging(run_dir / "train.log", append=resume):
        logger.info("run %s%s", run_dir, " (resumed)" if resume else "")
        return _run(config, run_dir, resume, command, started)


def _run(config: TrainConfig, run_dir: Path, resume: bool, command: str, started: float) -> TrainResult:
    import datasets
    from transformers import EarlyStoppingCallback, Trainer, set_seed

    (run_dir / "config.resolved.yaml").write_text(yaml.safe_dump(config.to_dict(), allow_unicode=True,
                                                                 sort_keys=False), encoding="utf-8")
    set_seed(config.seed)  # before the model is built: head initialisation is seeded too

    sources = prepare_sources(config, run_dir)
    if not train_rows(sources):
        raise TrainError("no training sentences: every source's train split is empty (see data.sources: "
                         "limit_train_documents, dev_ratio and test_ratio)")
    checkpoint = None
    if resume:
        checkpoint = _checkpoint_to_resume(run_dir)
        logger.info("resuming from %s", checkpoint)
        truncate_log(run_dir / "train_log.jsonl", checkpoint)
    words = (row for s in sources if "train" in s.dataset for row in s.dataset["train"]["tokens"])
    model, tokenizer = build_model(config, words, checkpoint)
    rates = incident_rates(sources)
    if rates is not None and not resume:
        model.init_incident_prior(rates)
    norm = NormalizationConfig.from_dict(model.config.normalization)
    windowing: Counter[str] = Counter()
    encode = lambda rows: encode_split(rows, tokenizer, config.model.max_length, config.model.stride,  # noqa: E731
                                       norm, config.model.label_all_subtokens, windowing)
    train_windows = mix_windows([(encode(s.dataset["train"]), s.weight) for s in sources if "train" in s.dataset],
                                config.seed)
    dev_windows = [w for s in sources if "validation" in s.dataset for w in encode(s.dataset["validation"])]
    if not train_windows:
        raise TrainError("no training windows: the train sentences of data.sources gave the tokenizer nothing")
    # Nothing is truncated: long sentences are split into overlapping pieces, and said so.
    logger.info("windows: %d train (mixed), %d dev; %d sentences longer than a window split into pieces "
                "(stride %d); %d words the tokenizer turned into nothing (unlabelled)", len(train_windows),
                len(dev_windows), windowing["sentences_split"], config.model.stride, windowing["words_without_tokens"])
    to_ds = lambda ws: datasets.Dataset.from_list([{k: w[k] for k in _COLUMNS} for w in ws])  # noqa: E731
    train_ds, dev_ds = to_ds(train_windows), (to_ds(dev_windows) if dev_windows else None)

    args = training_arguments(config, run_dir, dev_ds is not None)
    callbacks: list[Any] = [LogFileCallback(run_dir / "train_log.jsonl")]
    if dev_ds is not None and config.early_stopping.patience:
        callbacks.append(EarlyStoppingCallback(config.early_stopping.patience, config.early_stopping.threshold))
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=dev_ds,
                      data_collator=WindowCollator(tokenizer.pad_token_id), processing_class=tokenizer,
                      compute_metrics=compute_metrics if dev_ds is not None else None,
                      preprocess_logits_for_metrics=preprocess_logits, callbacks=callbacks,
                      optimizers=(build_optimizer(model, args, config.model.head_learning_rate), None))
    # After the Trainer has set itself up on them: the values it trains with, defaults included.
    save_training_args(trainer.args, run_dir / "training_args.json")
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    gold, prob = dev_incidents(trainer, dev_ds, len(trainer.model.config.incident_labels))
    thresholds = tune_incident_thresholds(trainer.model.config, gold, prob)

    final = run_dir / "final"
    trainer.model.config.base_model = model.config.base_model
    trainer.model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    summary = {
        "command": command, "wall_time_s": round(time.time() - started, 1), "train_metrics": result.metrics,
        "best_metric": trainer.state.best_metric, "best_checkpoint": trainer.state.best_model_checkpoint,
        "windows": {"train": len(train_windows), "dev": len(dev_windows), **windowing},
        "epochs_run": trainer.state.epoch, "thresholds": thresholds,
        "sources": {s.name: {"weight": s.weight, "summary": s.summary.get("splits", {})} for s in sources},
    }
    (run_dir / "run_summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    test = evaluate_sources(final, sources, run_dir / "eval")
    model_dir = final
    if config.output.export:
        from training.export import export_run

        model_dir = export_run(run_dir, run_dir / "model")
    return TrainResult(model_dir=model_dir, final_dir=final, test=test)


def evaluate_sources(model_dir: Path, sources: list[PreparedSource], out_dir: Path) -> dict[str, dict[str, float]]:
    """Score the model on each source's test split; reports land in ``out_dir/<source>.*``.

    Returns each scored source's headline numbers (:func:`training.evaluate.headline`).
    """
    from rasd.inference import Engine
    from rasd.loading import load_model_and_tokenizer
    from training.evaluate import headline, predict_rows, score_rows, write_report

    model, tokenizer = load_model_and_tokenizer(model_dir)
    engine = Engine(model, tokenizer)
    scores = {}
    for s in sources:
        if "test" not in s.dataset or not len(s.dataset["test"]):
            continue
        rows = s.dataset["test"].to_dict()
        tags, probs, groups = predict_rows(engine, rows)
        report = score_rows(rows, tags, probs, groups, model.config.incident_thresholds)
        report["data"] = f"{s.name} (test split)"
        write_report(report, out_dir / f"{s.name}.json")
        scores[s.name] = headline(report)
        logger.info("test %s: %s", s.name, json.dumps({k: round(v, 4) for k, v in scores[s.name].items()}))
    return scores
