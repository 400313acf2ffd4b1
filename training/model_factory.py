"""The model a run trains: a pretrained encoder with both heads, or a scratch BERT with a learnt vocabulary.

Example:
    >>> model, tokenizer = build_model(load_config("configs/tiny.yaml"), [["درعا"]])  # doctest: +SKIP
    >>> model.config.base_model  # doctest: +SKIP
    'scratch-wordpiece-bert'
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rasd.modeling import RasdConfig, RasdModel
from rasd.normalize import NormalizationConfig
from training.config import TrainConfig
from training.dataclass_io import ConfigError
from training.scratch_tokenizer import train_scratch_tokenizer


def _head_settings(config: TrainConfig) -> dict[str, Any]:
    m = config.model
    return dict(max_length=m.max_length, stride=m.stride,
                normalization=NormalizationConfig.from_dict(m.normalization).to_dict(),
                label_all_subtokens=m.label_all_subtokens, classifier_dropout=m.classifier_dropout,
                entity_loss_weight=m.entity_loss_weight, incident_loss_weight=m.incident_loss_weight)


def build_model(config: TrainConfig, train_sentences: Iterable[list[str]],
                checkpoint: Path | None = None) -> tuple[RasdModel, Any]:
    """The model and its tokenizer; ``train_sentences`` (lists of words) teach a scratch vocabulary.

    ``checkpoint`` is the one a resumed run continues from: a scratch vocabulary is read back from
    it rather than learnt again (WordPiece training breaks frequency ties differently from run to
    run, and the checkpoint's embedding matrix fits only the vocabulary it was trained with).

    Raises:
        ConfigError: when ``model.max_length`` exceeds the pretrained encoder's positions.
    """
    from transformers import AutoConfig, AutoTokenizer

    m = config.model
    if m.scratch is not None:
        from transformers import BertConfig

        if checkpoint is not None:
            tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        else:
            norm = NormalizationConfig.from_dict(m.normalization)
            tokenizer = train_scratch_tokenizer(train_sentences, m.scratch, norm)
        encoder = BertConfig(vocab_size=len(tokenizer), hidden_size=m.scratch.hidden_size,
                             num_hidden_layers=m.scratch.num_hidden_layers,
                             num_attention_heads=m.scratch.num_attention_heads,
                             intermediate_size=m.scratch.intermediate_size,
                             max_position_embeddings=m.scratch.max_position_embeddings,
                             pad_token_id=tokenizer.pad_token_id)
        model = RasdModel(RasdConfig(encoder=encoder, base_model="scratch-wordpiece-bert", **_head_settings(config)))
        return model, tokenizer
    # The encoder's config alone says how many positions it has: check before reading any weights.
    try:
        encoder_config = AutoConfig.from_pretrained(m.base_model, revision=m.revision,
                                                    trust_remote_code=m.trust_remote_code)
    except OSError as exc:  # no such folder, or a Hub id that cannot be fetched
        raise ConfigError(f"model.base_model {m.base_model!r}: cannot load its config ({exc})") from None
    positions = getattr(encoder_config, "max_position_embeddings", None)
    if positions is not None and m.max_length > positions:
        raise ConfigError(f"model.max_length {m.max_length} exceeds the {positions} positions of the encoder "
                          f"{m.base_model}: set model.max_length to at most {positions}")
    tokenizer = AutoTokenizer.from_pretrained(m.base_model, revision=m.revision, trust_remote_code=m.trust_remote_code)
    model = RasdModel.from_encoder(m.base_model, revision=m.revision, trust_remote_code=m.trust_remote_code,
                                   **_head_settings(config))
    return model, tokenizer
