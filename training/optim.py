"""The optimizer: AdamW with the freshly initialised heads at their own learning rate.

Example:
    >>> from transformers import BertConfig, TrainingArguments
    >>> from rasd.modeling import RasdConfig, RasdModel
    >>> model = RasdModel(RasdConfig(encoder=BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1,
    ...                                                 num_attention_heads=1, intermediate_size=16)))
    >>> args = TrainingArguments(output_dir="unused", learning_rate=1e-4, report_to="none")
    >>> sorted({g["lr"] for g in build_optimizer(model, args, 1e-3).param_groups})
    [0.0001, 0.001]
"""

from __future__ import annotations

from typing import Any

from rasd.modeling import RasdModel

HEAD_PREFIXES = ("token_classifier.", "incident_classifier.")


def build_optimizer(model: RasdModel, args: Any, head_learning_rate: float | None) -> Any:
    """AdamW with the two heads at ``head_learning_rate``; None when none is given (the Trainer's own).

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
        head = name.startswith(HEAD_PREFIXES)
        decay = param.ndim > 1 and "LayerNorm" not in name and "layer_norm" not in name
        groups.setdefault((head, decay), []).append(param)
    return torch.optim.AdamW(
        [{"params": params, "lr": head_learning_rate if head else args.learning_rate,
          "weight_decay": args.weight_decay if decay else 0.0} for (head, decay), params in groups.items()],
        lr=args.learning_rate, betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon)
