"""Shared fixtures: paths to the project's data and the shared corpora."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "data").is_dir():
        pytest.skip(f"the shared corpora are not at {SHARED}")
    return SHARED


def make_random_model(folder: Path, max_length: int = 64, seed: int = 0) -> Path:
    """A tiny random rasd model with a WordPiece vocabulary learnt from the seed articles.

    Its predictions are arbitrary, which is what offset and windowing tests want: many
    entities and incidents in unexpected places, produced by the real model code.
    """
    import torch
    from transformers import BertConfig

    from rasd.modeling import RasdConfig, RasdModel
    from rasd.normalize import NormalizationConfig
    from rasd.text import segment
    from training.config import ScratchEncoder
    from training.scratch_tokenizer import train_scratch_tokenizer

    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    words = [[t[a:b] for a, b in s.words] for t in texts for s in segment(t)]
    tokenizer = train_scratch_tokenizer(words, ScratchEncoder(vocab_size=2000), NormalizationConfig())
    torch.manual_seed(seed)
    encoder = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=max_length,
                         pad_token_id=tokenizer.pad_token_id)
    model = RasdModel(RasdConfig(encoder=encoder, base_model="random-test", max_length=max_length, stride=8))
    with torch.no_grad():  # sharper random logits: more entities and incidents to check
        model.token_classifier.weight.mul_(40.0)
        model.incident_classifier.weight.mul_(40.0)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def random_model_dir(tmp_path_factory) -> Path:
    return make_random_model(tmp_path_factory.mktemp("random-model"))


@pytest.fixture()
def no_hub(monkeypatch):
    """Loading any model or config fails at once: a test that means a missing local folder must
    never turn into a Hub lookup, which would need the network this machine does not have."""
    from rasd.modeling import RasdConfig, RasdModel

    def refuse(cls, name, *args, **kwargs):
        raise AssertionError(f"a test reached for {name!r} as a Hub id")

    monkeypatch.setattr(RasdModel, "from_pretrained", classmethod(refuse))
    monkeypatch.setattr(RasdConfig, "from_pretrained", classmethod(refuse))
