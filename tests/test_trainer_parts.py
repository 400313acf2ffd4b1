"""The trainer's parts without a full training run: its user errors, its logging, the push's.

Each user error reaches the command line as an ``error:`` line with exit status 2 (no
traceback), and a run's log handlers leave with the run, even when it fails.
"""

import logging
import shutil
from pathlib import Path

import pytest

from training.cli import main as training_main


def train_cli(root: Path, run_dir: Path, *extra: str) -> list[str]:
    return ["train", str(root / "configs" / "tiny.yaml"), "--output-dir", str(run_dir), *extra]


def error_line(err: str) -> str:
    """The one ``error: …`` line among stderr's progress bars; there is no traceback."""
    assert "Traceback" not in err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


def handler_counts() -> tuple[int, int]:
    return len(logging.getLogger("training").handlers), len(logging.getLogger("transformers").handlers)


def test_resume_without_checkpoint_is_an_error_line(root, tmp_path, capsys):
    assert training_main(train_cli(root, tmp_path / "run", "--resume")) == 2
    err = error_line(capsys.readouterr().err)
    assert err.startswith("error: --resume") and str(tmp_path / "run" / "checkpoints") in err


def test_each_run_logs_to_its_own_file_and_releases_it(root, tmp_path):
    from training.config import load_config
    from training.trainer import train

    config = load_config(root / "configs" / "tiny.yaml")
    baseline = handler_counts()
    first, second = tmp_path / "first", tmp_path / "second"
    # Both runs fail (nothing to resume) after they have built their data and logged it.
    with pytest.raises(Exception, match="--resume"):
        train(config, first, resume=True)
    assert handler_counts() == baseline
    with pytest.raises(Exception, match="--resume"):
        train(config, second, resume=True)
    assert handler_counts() == baseline
    first_log = (first / "train.log").read_text(encoding="utf-8")
    assert first_log.count("source seeds") == 1 and str(second) not in first_log
    assert "source seeds" in (second / "train.log").read_text(encoding="utf-8")


def test_no_training_windows_is_an_error_line(root, tmp_path, capsys):
    argv = train_cli(root, tmp_path / "run", "--set", "data.sources.0.limit_train_documents=0")
    assert training_main(argv) == 2
    err = error_line(capsys.readouterr().err)
    assert err.startswith("error: no training") and "data.sources" in err


def test_max_length_beyond_the_encoders_positions_is_an_error_line(root, random_model_dir, tmp_path, capsys):
    from transformers import AutoTokenizer, BertConfig, BertModel

    encoder_dir = tmp_path / "encoder"
    tokenizer = AutoTokenizer.from_pretrained(random_model_dir)
    BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32, max_position_embeddings=64)).save_pretrained(encoder_dir)
    tokenizer.save_pretrained(encoder_dir)
    argv = ["train", str(root / "configs" / "tiny.yaml"), "--output-dir", str(tmp_path / "run"),
            "--set", "model.scratch=null", "--set", f"model.base_model={encoder_dir}", "--set", "model.max_length=128"]
    assert training_main(argv) == 2
    err = error_line(capsys.readouterr().err)
    assert err.startswith("error: ") and "model.max_length 128" in err and "64 positions" in err


@pytest.fixture
def exported(random_model_dir, tmp_path) -> Path:
    """A folder that passes the push's checks: the random model and a valid card."""
    from training.card import card_data, render

    folder = tmp_path / "model"
    shutil.copytree(random_model_dir, folder)
    text = render(card_data("rasd-test", "random-test", "apache-2.0", [], []), model_name="rasd-test")
    (folder / "README.md").write_text(text, encoding="utf-8")
    return folder


def _raise(exc: Exception):
    def fail(*args, **kwargs):
        raise exc
    return fail


def _http():
    """The HTTP library huggingface_hub raises from (httpx, or its fork in newer releases)."""
    import importlib

    from huggingface_hub.errors import HTTPError

    return importlib.import_module(HTTPError.__module__)


def _offline() -> Exception:
    # What an upload raises with no network: the name lookup of huggingface.co fails.
    return _http().ConnectError("[Errno -2] Name or service not known")


def _answered() -> Exception:
    from huggingface_hub.errors import HfHubHTTPError

    http = _http()
    request = http.Request("POST", "https://huggingface.co/api/repos/create")
    response = http.Response(403, request=request, json={"error": "You don't have the rights"})
    return HfHubHTTPError("403 Forbidden: You don't have the rights", response=response)


@pytest.mark.parametrize("kind,message", [("offline", "could not reach the Hugging Face Hub"),
                                          ("answered", "the Hugging Face Hub answered")])
def test_push_turns_hub_errors_into_error_lines(exported, monkeypatch, capsys, kind, message):
    exc = _offline() if kind == "offline" else _answered()

    class Api:
        def __init__(self, token):
            pass

        create_repo = staticmethod(_raise(exc))
        upload_folder = staticmethod(_raise(exc))

    monkeypatch.setattr("huggingface_hub.HfApi", Api)
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_value")
    assert training_main(["push", str(exported), "--repo-id", "someone/rasd-test"]) == 2
    captured = capsys.readouterr()
    err = error_line(captured.err)
    assert message in err and "someone/rasd-test" in err
    assert "hf_secret_token_value" not in captured.out + captured.err
