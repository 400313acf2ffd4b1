"""Training losses of the joint model: partial-annotation token CE and masked incident BCE.

Example:
    >>> import torch
    >>> logits = torch.zeros(1, 2, 5)                        # tags: O, B-PER, I-PER, B-DATE, I-DATE
    >>> labels = torch.tensor([[0, 1]])
    >>> tag_types = torch.tensor([-1, 0, 0, 1, 1])           # entity-type index per tag (-1: O)
    >>> full = partial_token_loss(logits, labels, torch.tensor([[True, True]]), tag_types)
    >>> partial = partial_token_loss(logits, labels, torch.tensor([[True, False]]), tag_types)
    >>> round(full.item(), 4), round(partial.item(), 4)      # O may also be an unannotated DATE
    (1.6094, 1.0601)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def partial_token_loss(logits: torch.Tensor, labels: torch.Tensor, annotated: torch.Tensor,
                       tag_types: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Token cross-entropy where an ``O`` from a partially annotated source is a set of tags.

    For a source that does not annotate some entity types, a token tagged ``O``
    means "O or a tag of an unannotated type", so its loss is
    ``-log(p(O) + Σ p(t) for t of unannotated types)`` (a log-sum-exp over the
    allowed tags). Moving probability between ``O`` and those tags changes
    nothing: ANERcorp, which has no DATE, never teaches that dates are O. When
    every type is annotated this is exactly the usual cross-entropy.

    Args:
        logits: ``(batch, seq, tags)`` token logits; tag 0 is ``O``.
        labels: ``(batch, seq)`` gold tag ids, ``ignore_index`` where unlabelled.
        annotated: ``(batch, entity_types)`` bool, which types the example's source annotates.
        tag_types: ``(tags,)`` long, the entity-type index of each tag, -1 for ``O``.
    """
    valid = labels != ignore_index
    if not valid.any():
        return logits.sum() * 0.0
    safe = labels.clamp(min=0)
    allowed = F.one_hot(safe, logits.size(-1)).bool()
    # (batch, tags): tags whose entity type the example's source leaves unannotated.
    typed = tag_types >= 0
    unannotated = torch.zeros(annotated.size(0), tag_types.numel(), dtype=torch.bool, device=logits.device)
    unannotated[:, typed] = ~annotated[:, tag_types[typed]]
    allowed |= (safe == 0).unsqueeze(-1) & unannotated.unsqueeze(1)
    log_z = torch.logsumexp(logits, dim=-1)
    log_allowed = torch.logsumexp(logits.masked_fill(~allowed, float("-inf")), dim=-1)
    return (log_z - log_allowed)[valid].mean()


def masked_incident_loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor,
                         pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Binary cross-entropy over incident types, only for sentences whose source annotates incidents.

    Summed over the types and averaged over sentences: one sentence's multi-label decision
    weighs like one token's tag decision. (A mean over the 25 types would scale the incident
    signal down 25-fold against the token loss; the shared encoder then learns only entities.)

    Args:
        logits: ``(batch, sentences, types)``.
        targets: same shape, 0/1.
        mask: ``(batch, sentences)`` bool, True where the sentence exists and is annotated.
    """
    if not mask.any():
        return logits.sum() * 0.0
    per_type = F.binary_cross_entropy_with_logits(logits[mask], targets[mask].to(logits.dtype),
                                                  pos_weight=pos_weight, reduction="none")
    return per_type.sum(-1).mean()
