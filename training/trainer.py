"""Config-driven training: ``python -m training train CONFIG [--set k=v ...] [--output-dir DIR] [--resume]``.

Builds every data source, mixes their training windows with sampling weights,
fine-tunes a :class:`~rasd.modeling.RasdModel` with the stock Hugging Face
``Trainer`` (early stopping, checkpoints, resume, mixed precision on GPUs),
tunes per-class incident thresholds on the dev split, evaluates each source's
test split and exports ``<run dir>/model``.

Run directory layout::

    config.resolved.yaml   the config as run (after --set)
    data/<source>/         built DatasetDicts, each with summary.json
    checkpoints/           Trainer checkpoints (resume from here)
    final/                 the best model + tokenizer, thresholds tuned
    eval/<source>.json|md|png   test-split reports
    train.log, train_log.jsonl, run_summary.json
    model/                 the export (see training.export)
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rasd.modeling import RasdConfig, RasdModel
from rasd.normalize import NormalizationConfig, normalize_word
from rasd.schema import ENTITY_LABELS, IOB2_TAGS
from training.config import ScratchEncoder, TrainConfig
from training.features import WindowCollator, encode_split
from training.metrics import entity_scores, incident_scores, mask_unannotated
from training.thresholds import THRESHOLD_GRID, tune_thresholds

logger = logging.getLogger("training")


@dataclass
class PreparedSource:
    """A built data source: its name, DatasetDict, sampling weight and build summary."""

    name: str
    dataset: Any
    weight: float
    summary: dict[str, Any]


def prepare_sources(config: TrainConfig, run_dir: Path) -> list[PreparedSource]:
    """Build (or load) every source of ``config.data``, saved under ``run_dir/data``."""
    import datasets

    from training.builder import BuildOptions, InputSpec, build, format_summary, save

    prepared: list[PreparedSource] = []
    for k, src in enumerate(config.data.sources):
        path = Path(src.path)
        if (path / "dataset_dict.json").exists():
            dataset = datasets.load_from_disk(str(path))
            summary = json.loads((path / "summary.json").read_text()) if (path / "summary.json").exists() else {}
            name = path.name
        else:
            ratios = (config.data.dev_ratio if src.dev_ratio is None else src.dev_ratio,
                      config.data.test_ratio if src.test_ratio is None else src.test_ratio)
            result = build([InputSpec(path, src.format, src.label_map)], BuildOptions(*ratios, config.data.split_seed))
            dataset, summary = result.dataset, result.summary
            name = "+".join(summary["sources"]) or path.stem
        if any(p.name == name for p in prepared):
            name = f"{name}-{k}"
        if src.limit_train_documents is not None:
            dataset = _limit_documents(dataset, src.limit_train_documents, config.data.split_seed)
        out = run_dir / "data" / name
        if not (path / "dataset_dict.json").exists():
            save(dataset, summary, out)
            logger.info("source %s (%s):\n%s", name, path, format_summary(summary))
        prepared.append(PreparedSource(name, dataset, src.weight, summary))
    return prepared


def _limit_documents(dataset: Any, n: int, seed: int) -> Any:
    """Keep ``n`` training documents (a seeded choice), for learning curves."""
    docs = sorted(set(dataset["train"]["doc_id"]), key=lambda d: hashlib.sha256(f"{seed}:{d}".encode()).hexdigest())
    keep = set(docs[:n])
    dataset["train"] = dataset["train"].filter(lambda r: r["doc_id"] in keep)
    return dataset


def train_scratch_tokenizer(sentences: Iterable[list[str]], scratch: ScratchEncoder,
                            normalization: NormalizationConfig) -> Any:
    """A WordPiece tokenizer learnt from the training words (for the offline tiny model)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=False, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=scratch.vocab_size, special_tokens=specials, min_frequency=1)
    tok.train_from_iterator((" ".join(normalize_word(w, normalization) for w in s) for s in sentences), trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                                       special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    # transformers 5 ignores vocab_file= silently (PLATFORM-NOTES): hand over the object itself.
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]",
                                   model_max_length=scratch.max_position_embeddings)


def build_model(config: TrainConfig, sources: list[PreparedSource],
                checkpoint: Path | None = None) -> tuple[RasdModel, Any]:
    """The model and tokenizer: a pretrained encoder, or a scratch BERT with a learnt vocabulary.

    ``checkpoint`` is the one a resumed run continues from: a scratch vocabulary is read back from
    it rather than learnt again (WordPiece training breaks frequency ties differently from run to
    run, and the checkpoint's embedding matrix fits only the vocabulary it was trained with).
    """
    m = config.model
    head = dict(max_length=m.max_length, stride=m.stride,
                normalization=NormalizationConfig.from_dict(m.normalization).to_dict(),
                label_all_subtokens=m.label_all_subtokens, classifier_dropout=m.classifier_dropout,
                entity_loss_weight=m.entity_loss_weight, incident_loss_weight=m.incident_loss_weight)
    if m.scratch is not None:
        from transformers import BertConfig

        norm = NormalizationConfig.from_dict(m.normalization)
        words = (row for s in sources for row in s.dataset["train"]["tokens"])
        if checkpoint is not None:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        else:
            tokenizer = train_scratch_tokenizer(words, m.scratch, norm)
        encoder = BertConfig(vocab_size=len(tokenizer), hidden_size=m.scratch.hidden_size,
                             num_hidden_layers=m.scratch.num_hidden_layers,
                             num_attention_heads=m.scratch.num_attention_heads,
                             intermediate_size=m.scratch.intermediate_size,
                             max_position_embeddings=m.scratch.max_position_embeddings,
                             pad_token_id=tokenizer.pad_token_id)
        model = RasdModel(RasdConfig(encoder=encoder, base_model="scratch-wordpiece-bert", **head))
        return model, tokenizer
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(m.base_model, revision=m.revision, trust_remote_code=m.trust_remote_code)
    model = RasdModel.from_encoder(m.base_model, revision=m.revision, trust_remote_code=m.trust_remote_code, **head)
    if m.max_length > model.config.encoder.max_position_embeddings:
        raise ValueError(f"model.max_length {m.max_length} exceeds the encoder's "
                         f"{model.config.encoder.max_position_embeddings} positions")
    return model, tokenizer


def incident_rates(sources: list[PreparedSource]) -> list[float] | None:
    """Per-type share of training sentences with that incident (add-one smoothed), or None."""
    counts, n = None, 0
    for s in sources:
        train = s.dataset["train"] if "train" in s.dataset else None
        if train is None:
            continue
        for on, labels in zip(train["incidents_annotated"], train["incident_labels"]):
            if on:
                counts = list(labels) if counts is None else [c + x for c, x in zip(counts, labels)]
                n += 1
    if counts is None:
        return None
    return [(c + 1) / (n + 2) for c in counts]


def mix_windows(per_source: list[tuple[list[dict[str, Any]], float]], seed: int) -> list[dict[str, Any]]:
    """Training windows with each source's count scaled by its weight (seeded, whole copies first).

    A weight of 2 takes every window twice; 0.5 takes a seeded half.
    """
    rng = np.random.default_rng(seed)
    mixed: list[dict[str, Any]] = []
    for windows, weight in per_source:
        whole, frac = divmod(weight, 1.0)
        mixed.extend(windows * int(whole))
        extra = round(frac * len(windows))
        if extra:
            mixed.extend(windows[i] for i in sorted(rng.choice(len(windows), extra, replace=False)))
    return mixed


def _preprocess_logits(logits: Any, labels: Any) -> tuple[Any, Any]:
    # Keep only what the metrics need: tag ids and incident probabilities (saves eval memory).
    import torch

    token_logits, incident_logits = logits[0], logits[1]
    return token_logits.argmax(-1), torch.sigmoid(incident_logits.float())


def _gather(eval_pred: Any) -> tuple[list[list[str]], list[list[str]], np.ndarray, np.ndarray]:
    tags, probs = eval_pred.predictions
    labels, incident_labels, annotated = eval_pred.label_ids
    gold_seqs, pred_seqs = [], []
    for t_row, l_row, a_row in zip(tags, labels, annotated):
        keep = l_row != -100
        types = [e for e, on in zip(ENTITY_LABELS, a_row) if on]
        gold_seqs.append([IOB2_TAGS[i] for i in l_row[keep]])
        pred_seqs.append(mask_unannotated([IOB2_TAGS[i] for i in t_row[keep]], types))
    rows = incident_labels[..., 0] >= 0
    gold = incident_labels[rows].astype(np.int64)
    prob = probs[:, :incident_labels.shape[1]][rows]
    return gold_seqs, pred_seqs, gold, prob


def compute_metrics(eval_pred: Any) -> dict[str, float]:
    """Dev metrics: entity micro-F1, incident micro-F1 at the best single threshold, their mean."""
    gold_seqs, pred_seqs, gold, prob = _gather(eval_pred)
    out = {"entity_f1": entity_scores(gold_seqs, pred_seqs)["micro"]["f1"]}
    if len(gold):
        # Per-class thresholds are tuned after training, so select the checkpoint on the best
        # micro-F1 any single threshold reaches: 0.5 would hide a well-ranking but shy model.
        scored = [(incident_scores(gold, prob, [t] * gold.shape[1]), float(t)) for t in THRESHOLD_GRID]
        best, threshold = max(scored, key=lambda st: st[0]["sub_event"]["micro"]["f1"])
        out["incident_f1"] = best["sub_event"]["micro"]["f1"]
        out["incident_event_type_f1"] = best["event_type"]["micro"]["f1"]
        out["incident_threshold"] = threshold
    out["combined_f1"] = float(np.mean([out["entity_f1"]] + ([out["incident_f1"]] if "incident_f1" in out else [])))
    return out


def _log_callback(path: Path) -> Any:
    from transformers import TrainerCallback

    class LogFileCallback(TrainerCallback):
        """Appends every Trainer log record to a JSON Lines file and the run log."""

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
            if logs:
                record = {"step": state.global_step, "epoch": state.epoch, **logs}
                with path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record) + "\n")
                logger.info("step %s: %s", state.global_step, json.dumps(logs))

    return LogFileCallback()


def _training_arguments(config: TrainConfig, run_dir: Path, has_dev: bool) -> Any:
    import torch
    from transformers import TrainingArguments

    values: dict[str, Any] = {
        "output_dir": str(run_dir / "checkpoints"), "per_device_train_batch_size": 16,
        "per_device_eval_batch_size": 32, "learning_rate": 5e-5, "num_train_epochs": 3, "weight_decay": 0.01,
        "warmup_steps": 0.1, "logging_strategy": "steps", "logging_steps": 10, "save_total_limit": 2,
        "report_to": "none", "train_sampling_strategy": "group_by_length", "seed": config.seed,
        "data_seed": config.seed, "label_names": ["labels", "incident_labels", "entity_types_annotated"],
        "eval_strategy": "epoch" if has_dev else "no", "save_strategy": "epoch",
        "load_best_model_at_end": has_dev, "metric_for_best_model": "combined_f1", "greater_is_better": True,
    }
    if torch.cuda.is_available():  # mixed precision where the GPU has it; CPUs train in fp32
        values["bf16" if torch.cuda.is_bf16_supported() else "fp16"] = True
    else:
        values["dataloader_pin_memory"] = False
    values.update(config.training)
    return TrainingArguments(**values)


def build_optimizer(model: RasdModel, args: Any, head_learning_rate: float | None) -> Any:
    """AdamW with the two heads at their own learning rate (None: none given, Trainer's own).

    The heads start from scratch while the encoder is pretrained: a small encoder rate leaves
    the freshly initialised heads crawling. Weight decay skips biases and LayerNorm weights, as
    in the Trainer's default optimizer.
    """
    import torch

    if head_learning_rate is None:
        return None
    groups: dict[tuple[bool, bool], list[Any]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        head = name.startswith(("token_classifier.", "incident_classifier."))
        decay = param.ndim > 1 and "LayerNorm" not in name and "layer_norm" not in name
        groups.setdefault((head, decay), []).append(param)
    return torch.optim.AdamW(
        [{"params": params, "lr": head_learning_rate if head else args.learning_rate,
          "weight_decay": args.weight_decay if decay else 0.0} for (head, decay), params in groups.items()],
        lr=args.learning_rate, betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon)


def tune_incident_thresholds(trainer: Any, dev: Any) -> dict[str, Any]:
    """Per-class thresholds maximising dev F1; returned with which classes were tuned."""
    pred = trainer.predict(dev)
    _, _, gold, prob = _gather(pred)
    model = trainer.model
    if not len(gold):
        return {"tuned": [False] * len(model.config.incident_labels), "dev_sentences": 0}
    choice = tune_thresholds(gold, prob)
    thresholds, tuned = choice.thresholds, choice.tuned
    model.config.incident_thresholds = [float(t) for t in thresholds]
    before = incident_scores(gold, prob, [0.5] * len(thresholds))["sub_event"]["micro"]["f1"]
    after = incident_scores(gold, prob, thresholds)["sub_event"]["micro"]["f1"]
    return {"tuned": tuned, **choice.to_dict(), "dev_sentences": int(len(gold)), "dev_micro_f1_at_0.5": before,
            "dev_micro_f1_tuned": after}


def _truncate_log(log: Path, checkpoint: Path) -> None:
    """Drop the log lines past the checkpoint a run resumes from, so the log is one trajectory.

    The checkpoint kept may be older than the last logged step (``save_total_limit`` keeps the
    best one); the steps after it are trained again and logged again.
    """
    if not log.exists():
        return
    step = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))["global_step"]
    lines = log.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if json.loads(line)["step"] <= step]
    if len(kept) < len(lines):
        logger.info("train_log.jsonl: %d lines past step %d dropped (trained again from the checkpoint)",
                    len(lines) - len(kept), step)
    log.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


def train(config: TrainConfig, run_dir: Path, resume: bool = False, command: str = "") -> Path:
    """Run the whole training job; returns the exported model folder (or ``final/``)."""
    import datasets
    from transformers import EarlyStoppingCallback, Trainer, set_seed

    started = time.time()
    run_dir.mkdir(parents=True, exist_ok=True)
    if not resume:  # a fresh run starts fresh logs; a resumed one appends to its own
        (run_dir / "train_log.jsonl").unlink(missing_ok=True)
    handler = logging.FileHandler(run_dir / "train.log", mode="a" if resume else "w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("training", "transformers"):
        logging.getLogger(name).addHandler(handler)
    logger.setLevel(logging.INFO)
    (run_dir / "config.resolved.yaml").write_text(yaml.safe_dump(config.to_dict(), allow_unicode=True,
                                                                 sort_keys=False), encoding="utf-8")
    set_seed(config.seed)  # before the model is built: head initialisation is seeded too

    sources = prepare_sources(config, run_dir)
    checkpoint = None
    if resume:
        from transformers.trainer_utils import get_last_checkpoint

        found = get_last_checkpoint(str(run_dir / "checkpoints")) if (run_dir / "checkpoints").is_dir() else None
        if found is None:
            raise FileNotFoundError(f"--resume: no checkpoint in {run_dir / 'checkpoints'}")
        checkpoint = Path(found)
        logger.info("resuming from %s", checkpoint)
        _truncate_log(run_dir / "train_log.jsonl", checkpoint)
    model, tokenizer = build_model(config, sources, checkpoint)
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
        raise ValueError("no training windows: every source's train split is empty")
    # Nothing is truncated: long sentences are split into overlapping pieces, and said so.
    logger.info("windows: %d train (mixed), %d dev; %d sentences longer than a window split into pieces "
                "(stride %d); %d words the tokenizer turned into nothing (unlabelled)", len(train_windows),
                len(dev_windows), windowing["sentences_split"], config.model.stride, windowing["words_without_tokens"])
    columns = ["input_ids", "sentence_ids", "labels", "incident_labels", "entity_types_annotated"]
    to_ds = lambda ws: datasets.Dataset.from_list([{k: w[k] for k in columns} for w in ws])  # noqa: E731
    train_ds, dev_ds = to_ds(train_windows), (to_ds(dev_windows) if dev_windows else None)

    args = _training_arguments(config, run_dir, dev_ds is not None)
    callbacks = [_log_callback(run_dir / "train_log.jsonl")]
    if dev_ds is not None and config.early_stopping.patience:
        callbacks.append(EarlyStoppingCallback(config.early_stopping.patience, config.early_stopping.threshold))
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=dev_ds,
                      data_collator=WindowCollator(tokenizer.pad_token_id), processing_class=tokenizer,
                      compute_metrics=compute_metrics if dev_ds is not None else None,
                      preprocess_logits_for_metrics=_preprocess_logits, callbacks=callbacks,
                      optimizers=(build_optimizer(model, args, config.model.head_learning_rate), None))
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    thresholds = tune_incident_thresholds(trainer, dev_ds) if dev_ds is not None else {}

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
    evaluate_sources(final, sources, run_dir / "eval")
    if config.output.export:
        from training.export import export_run

        return export_run(run_dir, run_dir / "model")
    return final


def evaluate_sources(model_dir: Path, sources: list[PreparedSource], out_dir: Path) -> dict[str, Any]:
    """Score the model on each source's test split; reports land in ``out_dir/<source>.*``."""
    from rasd.inference import Engine
    from rasd.loading import load_model_and_tokenizer
    from training.evaluate import headline, predict_rows, score_rows, write_report

    model, tokenizer = load_model_and_tokenizer(model_dir)
    engine = Engine(model, tokenizer)
    reports = {}
    for s in sources:
        if "test" not in s.dataset or not len(s.dataset["test"]):
            continue
        rows = s.dataset["test"].to_dict()
        tags, probs, groups = predict_rows(engine, rows)
        report = score_rows(rows, tags, probs, groups, model.config.incident_thresholds)
        report["data"] = f"{s.name} (test split)"
        write_report(report, out_dir / f"{s.name}.json")
        reports[s.name] = report
        logger.info("test %s: %s", s.name, json.dumps({k: round(v, 4) for k, v in headline(report).items()}))
    return reports

