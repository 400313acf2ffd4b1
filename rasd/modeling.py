"""The joint model: one encoder, an IOB2 entity head and a multi-label incident head.

One forward pass yields both: token logits over the IOB2 tags, and incident
logits for every sentence of the window, from the mean of that sentence's token
states (a window may hold several sentences, so incidents stay per sentence).

Example:
    >>> from transformers import BertConfig
    >>> config = RasdConfig(encoder=BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
    ...                                        num_attention_heads=2, intermediate_size=32))
    >>> model = RasdModel(config).eval()
    >>> import torch
    >>> out = model(input_ids=torch.tensor([[2, 7, 8, 9, 3]]), sentence_ids=torch.tensor([[-1, 0, 0, 1, -1]]))
    >>> tuple(out.token_logits.shape), tuple(out.incident_logits.shape)
    ((1, 5, 11), (1, 2, 25))
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from transformers import (
    MODEL_MAPPING,
    AutoConfig,
    AutoModel,
    AutoModelForTokenClassification,
    PreTrainedConfig,
    PreTrainedModel,
)
from transformers.configuration_utils import SubConfigSpec
from transformers.utils import ModelOutput

from rasd.losses import masked_incident_loss, partial_token_loss
from rasd.normalize import NormalizationConfig
from rasd.schema import ENTITY_LABELS, IOB2_TAGS, SCHEMA_VERSION, SUB_EVENT_LABELS, event_type_of

#: How ``RasdConfig.incident_threshold_sources`` reads in words (the card, ``rasd info``).
THRESHOLD_SOURCES = {"class": "own dev tuning", "shared": "shared by low-support types",
                     "default": "default, too few dev examples"}


class RasdConfig(PreTrainedConfig):
    """Configuration of :class:`RasdModel`: the encoder's config plus both label sets.

    Besides the encoder, it records the schema version, the base model id, the
    maximum window length, the text normalisation the model was trained with and
    the per-class incident decision thresholds tuned on the dev split.
    """

    model_type = "rasd"
    sub_configs_defaults = {"encoder": SubConfigSpec(config_class=AutoConfig, model_type="bert")}

    encoder: PreTrainedConfig | dict | None = None
    schema_version: str = SCHEMA_VERSION
    base_model: str | None = None
    entity_labels: list[str] | None = None
    tags: list[str] | None = None
    incident_labels: list[str] | None = None
    incident_event_types: list[str] | None = None
    incident_thresholds: list[float] | None = None
    # Where each threshold came from ("class": tuned on its own dev positives, "shared", "default").
    incident_threshold_sources: list[str] | None = None
    max_length: int = 512
    stride: int = 32
    normalization: dict | None = None
    label_all_subtokens: bool = False
    classifier_dropout: float = 0.1
    entity_loss_weight: float = 1.0
    incident_loss_weight: float = 1.0

    def __post_init__(self, **kwargs: Any) -> None:
        self.entity_labels = list(self.entity_labels or ENTITY_LABELS)
        self.tags = list(self.tags or IOB2_TAGS)
        self.incident_labels = list(self.incident_labels or SUB_EVENT_LABELS)
        self.incident_event_types = list(self.incident_event_types or
                                         [event_type_of(t) for t in self.incident_labels])
        if self.incident_thresholds is None:
            self.incident_thresholds = [0.5] * len(self.incident_labels)
        self.normalization = NormalizationConfig.from_dict(self.normalization or {}).to_dict()
        kwargs.setdefault("id2label", dict(enumerate(self.tags)))
        super().__post_init__(**kwargs)
        self._check()

    def _check(self) -> None:
        if self.tags[0] != "O" or any(t[2:] not in self.entity_labels for t in self.tags[1:]):
            raise ValueError(f"tags must be 'O' then B-/I- tags of entity_labels, got {self.tags}")
        if len(self.incident_thresholds) != len(self.incident_labels):
            raise ValueError(f"{len(self.incident_thresholds)} incident thresholds for "
                             f"{len(self.incident_labels)} incident labels")
        sources = self.incident_threshold_sources
        if sources is not None and len(sources) != len(self.incident_labels):
            raise ValueError(f"{len(sources)} threshold sources for {len(self.incident_labels)} incident labels")
        if len(self.incident_event_types) != len(self.incident_labels):
            raise ValueError("incident_event_types must give one event type per incident label")

    @property
    def tag_entity_types(self) -> list[int]:
        """For each tag, the index of its entity type in ``entity_labels`` (-1 for ``O``)."""
        return [-1] + [self.entity_labels.index(t[2:]) for t in self.tags[1:]]


@dataclass
class RasdOutput(ModelOutput):
    """Output of :class:`RasdModel`: loss (when labels are given) and both heads' logits."""

    loss: torch.Tensor | None = None
    token_logits: torch.Tensor | None = None
    incident_logits: torch.Tensor | None = None


def _encoder_from_config(config: PreTrainedConfig) -> PreTrainedModel:
    model_class = MODEL_MAPPING[type(config)]  # the public mapping behind AutoModel
    # The pooler is unused (incidents pool their sentence's tokens): leave it out when we can.
    if "add_pooling_layer" in inspect.signature(model_class.__init__).parameters:
        return model_class(config, add_pooling_layer=False)
    return model_class(config)


class RasdModel(PreTrainedModel):
    """Encoder + token-classification head + per-sentence multi-label incident head.

    Example:
        >>> model = RasdModel.from_pretrained("path/to/model")  # doctest: +SKIP
    """

    config_class = RasdConfig
    config: RasdConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True
    _supports_sdpa = True

    def __init__(self, config: RasdConfig) -> None:
        super().__init__(config)
        self.encoder = _encoder_from_config(config.encoder)
        hidden = config.encoder.hidden_size
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.token_classifier = nn.Linear(hidden, len(config.tags))
        self.incident_classifier = nn.Linear(hidden, len(config.incident_labels))
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if module in (getattr(self, "token_classifier", None), getattr(self, "incident_classifier", None)):
            std = getattr(self.config.encoder, "initializer_range", 0.02)
            nn.init.normal_(module.weight, mean=0.0, std=std)
            nn.init.zeros_(module.bias)
        elif isinstance(module, PreTrainedModel) and module is not self:
            module._init_weights(module)

    def init_incident_prior(self, rates: list[float] | torch.Tensor) -> None:
        """Start each incident logit at the log-odds of its training frequency.

        Incidents are sparse (a type is in a few percent of sentences at most): from a zero
        bias the head would spend thousands of small optimiser steps only learning to say
        "no", while its 25 confident "maybe"s swamp the shared encoder's gradient.

        Example:
            >>> model.init_incident_prior([0.02] * 25)  # doctest: +SKIP
        """
        p = torch.as_tensor(rates, dtype=torch.float32).clamp(1e-3, 0.5)
        with torch.no_grad():
            self.incident_classifier.bias.copy_(torch.log(p / (1 - p)))

    @classmethod
    def from_encoder(cls, name_or_path: str, revision: str | None = None, trust_remote_code: bool = False,
                     **config_kwargs: Any) -> RasdModel:
        """A new joint model around a pretrained encoder (heads freshly initialised).

        Example:
            >>> model = RasdModel.from_encoder("aubmindlab/bert-base-arabertv02")  # doctest: +SKIP
        """
        encoder = AutoModel.from_pretrained(name_or_path, revision=revision, dtype=torch.float32,
                                            trust_remote_code=trust_remote_code)
        config = RasdConfig(encoder=encoder.config.to_dict(), base_model=name_or_path, **config_kwargs)
        model = cls(config)
        missing, unexpected = model.encoder.load_state_dict(encoder.state_dict(), strict=False)
        missing = [k for k in missing if not k.startswith("pooler.")]
        if missing:
            raise ValueError(f"{name_or_path}: encoder weights missing for {missing[:5]}")
        return model

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        sentence_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        entity_types_annotated: torch.Tensor | None = None,
        incident_labels: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> RasdOutput:
        """Both heads in one pass; the loss when ``labels`` and/or ``incident_labels`` are given.

        Args:
            sentence_ids: ``(batch, seq)`` index of each token's sentence in its window,
                -1 for special and padding tokens; None means one sentence per window.
            labels: ``(batch, seq)`` IOB2 tag ids, -100 where not scored.
            entity_types_annotated: ``(batch, entity_types)`` bool; default all annotated.
            incident_labels: ``(batch, sentences, incident types)`` 0/1, or -100 for a whole
                sentence that is padding or whose source does not annotate incidents.
        """
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              inputs_embeds=inputs_embeds, return_dict=True).last_hidden_state
        token_logits = self.token_classifier(self.dropout(hidden))
        if sentence_ids is None:
            mask = attention_mask if attention_mask is not None else torch.ones(hidden.shape[:2], device=hidden.device)
            sentence_ids = torch.where(mask.bool(), 0, -1)
        n_sent = max(int(sentence_ids.max().item()) + 1, 1)
        # (batch, seq, sentences) membership, then the mean of each sentence's token states.
        member = (sentence_ids.unsqueeze(-1) == torch.arange(n_sent, device=hidden.device)).to(hidden.dtype)
        pooled = torch.einsum("bts,bth->bsh", member, hidden) / member.sum(1).clamp(min=1).unsqueeze(-1)
        incident_logits = self.incident_classifier(self.dropout(pooled))

        loss = None
        if labels is not None:
            annotated = entity_types_annotated
            if annotated is None:
                annotated = torch.ones(labels.size(0), len(self.config.entity_labels), dtype=torch.bool,
                                       device=labels.device)
            # Built from the config, not kept as a buffer: transformers 5 leaves non-persistent
            # buffers uninitialised when it loads a checkpoint.
            tag_types = torch.tensor(self.config.tag_entity_types, device=labels.device)
            loss = self.config.entity_loss_weight * partial_token_loss(
                token_logits.float(), labels, annotated.bool(), tag_types)
        if incident_labels is not None:
            inc_logits = incident_logits[:, :incident_labels.size(1)].float()
            inc_mask = incident_labels[..., 0] >= 0
            inc_loss = self.config.incident_loss_weight * masked_incident_loss(
                inc_logits, incident_labels.clamp(min=0), inc_mask)
            loss = inc_loss if loss is None else loss + inc_loss
        return RasdOutput(loss=loss, token_logits=token_logits, incident_logits=incident_logits)

    def to_token_classification(self) -> PreTrainedModel:
        """The entity part as a stock ``AutoModelForTokenClassification`` (same token logits).

        Plain ``transformers`` (and the Hub widget) can load what this returns,
        once saved with ``save_pretrained``; rasd is not needed.
        """
        config = self.config.encoder.__class__.from_dict(self.config.encoder.to_dict())
        config.id2label = dict(enumerate(self.config.tags))
        config.label2id = {t: i for i, t in enumerate(self.config.tags)}
        config.num_labels = len(self.config.tags)
        model = AutoModelForTokenClassification.from_config(config)
        base = getattr(model, model.base_model_prefix)
        missing, unexpected = base.load_state_dict(self.encoder.state_dict(), strict=False)
        if missing or [k for k in unexpected if not k.startswith("pooler.")]:
            raise ValueError(f"encoder weights do not fit {type(model).__name__}: missing {missing[:5]}")
        head = getattr(model, "classifier", None)
        if not isinstance(head, nn.Linear) or head.weight.shape != self.token_classifier.weight.shape:
            raise ValueError(f"{type(model).__name__} has no linear 'classifier' head to receive the entity head")
        head.load_state_dict(self.token_classifier.state_dict())
        return model.eval()


AutoConfig.register("rasd", RasdConfig)
AutoModel.register(RasdConfig, RasdModel)
