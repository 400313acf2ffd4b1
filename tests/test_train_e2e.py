"""A tiny end-to-end run: build → train a few steps → evaluate → export → reload → same logits.

Also the export's card metadata and the Hub push (dry run, a bad repo id, and the upload path
against a patched HfApi: no test reaches the network).
"""

import json
from pathlib import Path

import pytest
import torch

from rasd.loading import load_model_and_tokenizer
from training.card import validate_card_text
from training.cli import main as training_main
from training.push import PushError, plan_upload, push


@pytest.fixture(scope="module")
def trained(tmp_path_factory, root):
    """The run folder and what ``train()`` returned for it (caught on its way to the command line)."""
    import training.trainer

    out = tmp_path_factory.mktemp("run")
    results = []
    real = training.trainer.train

    def spy(*args, **kwargs):
        results.append(real(*args, **kwargs))
        return results[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(training.trainer, "train", spy)
        code = training_main(["train", str(root / "configs" / "tiny.yaml"), "--output-dir", str(out),
                              "--set", "training.num_train_epochs=3", "--set", "training.logging_steps=1"])
    assert code == 0
    return out, results[0]


@pytest.fixture(scope="module")
def run(trained):
    return trained[0]


def test_train_returns_a_frozen_result_with_test_headlines(trained, capsys):
    import dataclasses

    from training.evaluate import headline
    from training.trainer import TrainResult

    run, result = trained
    assert isinstance(result, TrainResult)
    assert result.model_dir == run / "model" and result.final_dir == run / "final"
    report = json.loads((run / "eval" / "seeds.json").read_text(encoding="utf-8"))
    assert result.test == {"seeds": headline(report)}
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.model_dir = run  # type: ignore[misc]
    assert str(result) == str(run / "model")  # what `print(f"model exported to {out}")` shows


def test_training_arguments_are_recorded_and_carried_to_the_card(run):
    args = json.loads((run / "training_args.json").read_text(encoding="utf-8"))
    assert args["learning_rate"] == 0.001 and args["num_train_epochs"] == 3 and args["logging_steps"] == 1
    assert args["seed"] == 42 and args["eval_strategy"] == "epoch" and args["hub_token"] in (None, "<HUB_TOKEN>")
    assert json.loads((run / "model" / "training_args.json").read_text(encoding="utf-8")) == args
    card = (run / "model" / "README.md").read_text(encoding="utf-8")
    assert "- `learning_rate`: 0.001" in card and "- `logging_steps`: 1" in card
    details = card.split("<details>")[1].split("</details>")[0]
    assert "`adam_beta1`" in details and "`per_device_train_batch_size`" in details
    # The data source's own description and licence, from training/data_sources.yaml.
    assert "Daraa" in card and "project annotations (Apache-2.0)" in card


def test_run_folder_has_everything(run):
    for name in ("config.resolved.yaml", "train.log", "train_log.jsonl", "run_summary.json", "final/config.json",
                 "data/seeds/summary.json", "eval/seeds.json", "eval/seeds.md", "eval/seeds_f1.png"):
        assert (run / name).exists(), name
    summary = json.loads((run / "run_summary.json").read_text())
    assert summary["windows"]["train"] > 0 and summary["epochs_run"] == 3
    assert "--set training.num_train_epochs=3" in summary["command"]


def test_export_reloads_with_identical_logits(run):
    model, tokenizer = load_model_and_tokenizer(run / "model")
    final, _ = load_model_and_tokenizer(run / "final")
    enc = tokenizer(["اشتباكات عنيفة في مدينة جاسم بريف درعا"], return_tensors="pt")
    with torch.inference_mode():
        a = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        b = final(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    assert torch.equal(a.token_logits, b.token_logits) and torch.equal(a.incident_logits, b.incident_logits)
    assert model.config.incident_thresholds == final.config.incident_thresholds
    # Thresholds come from dev only where dev supports them; the run summary says which did.
    choice = json.loads((run / "run_summary.json").read_text())["thresholds"]
    assert choice["thresholds"] == model.config.incident_thresholds
    assert len(choice["sources"]) == 25 and set(choice["sources"]) <= {"class", "shared", "default"}
    assert min(model.config.incident_thresholds) >= choice["floor"]
    assert model.config.incident_threshold_sources == choice["sources"]


def test_token_classification_export_loads_with_plain_transformers(run):
    from transformers import AutoModelForTokenClassification

    model, tokenizer = load_model_and_tokenizer(run / "model")
    plain = AutoModelForTokenClassification.from_pretrained(run / "model" / "token-classification")
    assert plain.config.id2label[1] == "B-PER"
    enc = tokenizer(["قصفت قوات النظام درعا"], return_tensors="pt")
    with torch.inference_mode():
        assert torch.allclose(plain(**enc).logits, model(input_ids=enc["input_ids"]).token_logits, atol=1e-5)


def test_model_card_metadata_is_valid(run):
    card = (run / "model" / "README.md").read_text(encoding="utf-8")
    assert validate_card_text(card) == []
    assert "model-index" in card and "python -m training train" in card
    assert "language: ar" in card and "pipeline_tag: token-classification" in card


def test_evaluate_command_writes_report(run, root, tmp_path, capsys):
    out = tmp_path / "report.json"
    assert training_main(["evaluate", "--model", str(run / "model"), "--data",
                          str(root / "seeds" / "annotations.jsonl"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "entity_micro_f1" in printed and "incident_document_event_type_micro_f1" in printed
    report = json.loads(out.read_text())
    assert report["documents"] == 5 and report["entity_types_scored"] == ["PER", "ORG", "LOC", "DATE", "WEAPON"]
    assert out.with_suffix(".md").exists() and (tmp_path / "report_f1.png").exists()


def test_push_dry_run_and_bad_repo_id(run, capsys):
    assert training_main(["push", str(run / "model"), "--repo-id", "someone/rasd-test", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "model.safetensors" in printed and "nothing uploaded" in printed
    assert training_main(["push", str(run / "model"), "--repo-id", "not a repo", "--dry-run"]) == 2
    assert "must be of the form owner/name" in capsys.readouterr().err
    with pytest.raises(PushError, match="not valid"):
        plan_upload(run / "model", "someone/bad..name")


def test_push_uploads_through_hfapi_without_printing_the_token(run, monkeypatch, capsys):
    calls = []

    class FakeApi:
        def __init__(self, token):
            calls.append(("init", token))

        def create_repo(self, repo_id, **kw):
            calls.append(("create_repo", repo_id, kw))

        def upload_folder(self, folder_path, repo_id, **kw):
            calls.append(("upload_folder", Path(folder_path).name, repo_id))
            return type("Info", (), {"commit_url": f"https://hub.example/{repo_id}/commit/1"})()

    monkeypatch.setattr("huggingface_hub.HfApi", FakeApi)
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_value")
    assert training_main(["push", str(run / "model"), "--repo-id", "someone/rasd-test", "--private"]) == 0
    assert calls[0] == ("init", "hf_secret_token_value")
    assert calls[1] == ("create_repo", "someone/rasd-test", {"repo_type": "model", "private": True, "exist_ok": True})
    assert calls[2] == ("upload_folder", "model", "someone/rasd-test")
    captured = capsys.readouterr()
    assert "hf_secret_token_value" not in captured.out + captured.err


def test_push_without_token_is_a_clear_error(run, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(PushError, match="no Hugging Face token"):
        push(run / "model", "someone/rasd-test")


def test_a_prediction_file_scores_like_the_model(run, root, tmp_path, capsys):
    from rasd.cli import main as rasd_main

    preds = tmp_path / "pred.jsonl"
    assert rasd_main(["predict", "--model", str(run / "model"), str(root / "seeds"), "--out", str(preds),
                      "--quiet"]) == 0
    gold = str(root / "seeds" / "annotations.jsonl")
    capsys.readouterr()
    assert training_main(["evaluate", "--predictions", str(preds), "--data", gold]) == 0
    from_file = capsys.readouterr().out
    assert training_main(["evaluate", "--model", str(run / "model"), "--data", gold]) == 0
    from_model = capsys.readouterr().out
    assert from_file == from_model and "entity_micro_f1" in from_file
    assert training_main(["evaluate", "--data", gold]) == 2


def test_resume_continues_from_the_last_checkpoint(run, root, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    assert training_main(["train", str(root / "configs" / "tiny.yaml"), "--output-dir", str(copy), "--resume",
                          "--set", "training.num_train_epochs=4"]) == 0
    summary = json.loads((copy / "run_summary.json").read_text())
    assert summary["epochs_run"] == 4
    # One trajectory: lines past the checkpoint it resumed from were replaced, not duplicated.
    steps = [json.loads(line)["step"] for line in (copy / "train_log.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and max(steps) > max(json.loads(line)["step"] for line in
                                                       (run / "train_log.jsonl").read_text().splitlines())


def test_incident_rates_and_head_learning_rate(root):
    from transformers import TrainingArguments

    from training.builder import InputSpec, build
    from training.optim import build_optimizer
    from training.sources import PreparedSource, incident_rates

    result = build([InputSpec(root / "seeds" / "annotations.jsonl")])
    rates = incident_rates([PreparedSource("seeds", result.dataset, 1.0, result.summary)])
    train = result.dataset["train"]
    n = sum(train["incidents_annotated"])
    armed = sum(row[0] for row in train["incident_labels"])
    assert rates[0] == pytest.approx((armed + 1) / (n + 2))
    from transformers import BertConfig

    from rasd.modeling import RasdConfig, RasdModel

    model = RasdModel(RasdConfig(encoder=BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1,
                                                    num_attention_heads=1, intermediate_size=16)))
    args = TrainingArguments(output_dir="unused", learning_rate=1e-4, weight_decay=0.01, report_to="none")
    opt = build_optimizer(model, args, 1e-3)
    lrs = sorted({g["lr"] for g in opt.param_groups})
    assert lrs == [1e-4, 1e-3]
    assert build_optimizer(model, args, None) is None
