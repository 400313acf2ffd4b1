"""The joint model: config validation, save/load round trip, heads, priors, optimizer groups."""

import pytest
import torch
from transformers import BertConfig

from rasd.modeling import RasdConfig, RasdModel


def tiny_config(**kw):
    return RasdConfig(encoder=BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                         intermediate_size=32), base_model="test", **kw)


def test_save_load_round_trip_in_safetensors(tmp_path):
    torch.manual_seed(0)
    model = RasdModel(tiny_config(incident_thresholds=[0.3] * 25)).eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists() and not list(tmp_path.glob("*.bin"))
    again = RasdModel.from_pretrained(tmp_path).eval()
    x = torch.tensor([[2, 5, 6, 7, 3]])
    sent = torch.tensor([[-1, 0, 0, 1, -1]])
    a, b = model(input_ids=x, sentence_ids=sent), again(input_ids=x, sentence_ids=sent)
    assert torch.equal(a.token_logits, b.token_logits) and torch.equal(a.incident_logits, b.incident_logits)
    assert again.config.incident_thresholds == [0.3] * 25 and again.config.schema_version == "1"


def test_loss_after_loading_a_checkpoint(tmp_path):
    # transformers 5 leaves non-persistent buffers uninitialised on load: the loss must not use one.
    RasdModel(tiny_config()).save_pretrained(tmp_path)
    model = RasdModel.from_pretrained(tmp_path)
    labels = torch.tensor([[-100, 1, 2, 0, -100]])
    out = model(input_ids=torch.tensor([[2, 5, 6, 7, 3]]), labels=labels,
                entity_types_annotated=torch.tensor([[True, True, True, False, False]]))
    assert torch.isfinite(out.loss)


def test_one_pooled_incident_row_per_sentence():
    model = RasdModel(tiny_config()).eval()
    out = model(input_ids=torch.tensor([[2, 5, 6, 7, 8, 3]]), sentence_ids=torch.tensor([[-1, 0, 0, 1, 2, -1]]))
    assert out.incident_logits.shape == (1, 3, 25)
    # The second sentence's row depends only on its own tokens' states (mean pooling).
    hidden = model.encoder(input_ids=torch.tensor([[2, 5, 6, 7, 8, 3]])).last_hidden_state
    expected = model.incident_classifier(hidden[0, 3])
    assert torch.allclose(out.incident_logits[0, 1], expected, atol=1e-5)


def test_incident_prior_sets_log_odds():
    model = RasdModel(tiny_config())
    model.init_incident_prior([0.5] + [0.01] * 24)
    bias = model.incident_classifier.bias
    assert abs(bias[0].item()) < 1e-6 and bias[1].item() == pytest.approx(torch.log(torch.tensor(0.01 / 0.99)).item())


@pytest.mark.parametrize("bad", [{"tags": ["B-PER", "O"]}, {"incident_thresholds": [0.5] * 3}])
def test_config_rejects_inconsistent_labels(bad):
    with pytest.raises(ValueError):
        tiny_config(**bad)
