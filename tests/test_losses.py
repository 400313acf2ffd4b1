"""The partial-annotation token loss and the masked incident loss."""

import torch
import torch.nn.functional as F

from rasd.losses import masked_incident_loss, partial_token_loss
from rasd.schema import ENTITY_LABELS, IOB2_TAGS

TAG_TYPES = torch.tensor([-1] + [ENTITY_LABELS.index(t[2:]) for t in IOB2_TAGS[1:]])
DATE_TAGS = [IOB2_TAGS.index("B-DATE"), IOB2_TAGS.index("I-DATE")]
WEAPON_TAGS = [IOB2_TAGS.index("B-WEAPON"), IOB2_TAGS.index("I-WEAPON")]


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, 6, len(IOB2_TAGS), generator=g, requires_grad=True)
    labels = torch.tensor([[0, 1, 2, 0, -100, 5], [0, 0, 3, 4, 0, -100]])
    return logits, labels


def test_equals_cross_entropy_when_every_type_is_annotated():
    logits, labels = batch()
    annotated = torch.ones(2, len(ENTITY_LABELS), dtype=torch.bool)
    expected = F.cross_entropy(logits.reshape(-1, len(IOB2_TAGS)), labels.reshape(-1), ignore_index=-100)
    assert torch.allclose(partial_token_loss(logits, labels, annotated, TAG_TYPES), expected)


def test_no_gradient_between_o_and_unannotated_types():
    logits, labels = batch(1)
    annotated = torch.tensor([[True, True, True, False, False]] * 2)  # ANERcorp: no DATE, no WEAPON
    partial_token_loss(logits, labels, annotated, TAG_TYPES).backward()
    probs = logits.softmax(-1).detach()
    grad = logits.grad
    for b, t in ((0, 0), (0, 3), (1, 0), (1, 1), (1, 4)):  # tokens tagged O
        allowed = [0] + DATE_TAGS + WEAPON_TAGS
        ratio = grad[b, t, allowed] / probs[b, t, allowed]
        # Same relative push on O and on every unannotated tag: their ratios are untouched.
        assert torch.allclose(ratio, ratio[0].expand_as(ratio), atol=1e-6)
    # With plain CE the same O tokens are pushed away from DATE (positive gradient on its logit).
    logits2, _ = batch(1)
    F.cross_entropy(logits2.reshape(-1, len(IOB2_TAGS)), labels.reshape(-1), ignore_index=-100).backward()
    assert logits2.grad[0, 0, DATE_TAGS[0]] > 0


def test_loss_is_invariant_to_moving_mass_between_o_and_unannotated_tags():
    logits, labels = batch(2)
    annotated = torch.tensor([[True, True, True, False, True]] * 2)  # DATE unannotated
    base = partial_token_loss(logits, labels, annotated, TAG_TYPES)
    moved = logits.detach().clone()
    # Swap O and B-DATE logits of an O token: p(O) + p(B-DATE) is unchanged.
    moved[0, 0, 0], moved[0, 0, DATE_TAGS[0]] = logits[0, 0, DATE_TAGS[0]], logits[0, 0, 0]
    assert torch.allclose(partial_token_loss(moved, labels, annotated, TAG_TYPES), base)
    # ...while an annotated type's tag (B-PER) is still pushed down on that token.
    moved[0, 0, 1] += 3.0
    assert partial_token_loss(moved, labels, annotated, TAG_TYPES) > base


def test_incident_loss_ignores_unannotated_sentences():
    logits = torch.zeros(2, 3, 25)
    targets = torch.zeros(2, 3, 25)
    targets[0, 0, 4] = 1
    mask = torch.tensor([[True, False, False], [False, False, False]])
    loss = masked_incident_loss(logits, targets, mask)
    # Summed over the 25 types, averaged over the one annotated sentence.
    assert torch.isclose(loss, F.binary_cross_entropy_with_logits(logits[0, 0], targets[0, 0], reduction="sum"))
    none = masked_incident_loss(logits.requires_grad_(), targets, torch.zeros(2, 3, dtype=torch.bool))
    assert none.item() == 0.0 and none.requires_grad
