"""Built sentences → model windows with labels, and the collator that pads them.

Sentences of a document are sub-tokenised (normalised words, the encoder's
tokenizer), split when longer than a window, packed with their neighbours, framed and
padded by :mod:`rasd.windows` and :func:`rasd.inference.batch_inputs`: the functions
inference uses, so training and inference cut the same way by construction. Each window carries word-level
IOB2 labels on first sub-tokens, one incident multi-hot per sentence (-100 rows
where the source does not annotate incidents) and the mask of entity types its
source annotates.

Example:
    >>> windows = encode_split(dataset["train"], tokenizer, max_length=256, stride=32)  # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import torch

from rasd.inference import batch_inputs, special_ids, subtokenize
from rasd.normalize import NormalizationConfig
from rasd.schema import IOB2_TAGS
from rasd.windows import frame, pad, plan_windows

_I_OF_B = {i: IOB2_TAGS.index("I-" + t[2:]) for i, t in enumerate(IOB2_TAGS) if t.startswith("B-")}


def encode_split(rows: Any, tokenizer: Any, max_length: int, stride: int,
                 normalization: NormalizationConfig | None = None, label_all_subtokens: bool = False,
                 stats: Counter[str] | None = None) -> list[dict[str, Any]]:
    """Window examples for one split of a built dataset (rows sorted by doc and sentence).

    ``stats`` (if given) counts what windowing did: sentences split because they are longer
    than a window, words the tokenizer turned into nothing (they get no label), windows.
    """
    stats = Counter() if stats is None else stats
    normalization = normalization or NormalizationConfig()
    cls_id, sep_id, _ = special_ids(tokenizer)
    columns = rows.to_dict() if hasattr(rows, "to_dict") else rows
    n = len(columns["doc_id"])
    pieces = subtokenize(tokenizer, columns["tokens"], normalization)
    examples: list[dict[str, Any]] = []
    start = 0
    while start < n:
        end = start
        while end < n and columns["doc_id"][end] == columns["doc_id"][start]:
            end += 1
        order = sorted(range(start, end), key=lambda r: columns["sentence_index"][r])
        tags = [t for r in order for t in columns["ner_tags"][r]]
        units, plans = plan_windows([pieces[r] for r in order], max_length, stride)
        per_sentence = Counter(u.sentence for u in units)
        stats["sentences_split"] += sum(1 for n in per_sentence.values() if n > 1)
        stats["words_without_tokens"] += sum(1 for r in order for p in pieces[r] if not p)
        for plan in plans:
            stats["windows"] += 1
            ids, sent_ids = frame(units, plan, cls_id, sep_id)
            labels = [-100]  # the cls token; then the units' tokens in frame order
            incident_rows = []
            for u in plan.units:
                unit = units[u]
                for word, first in zip(unit.token_words, unit.first):
                    tag = tags[word]
                    labels.append(tag if first else (_I_OF_B.get(tag, tag) if label_all_subtokens else -100))
                row = order[unit.sentence]
                incident_rows.append(list(columns["incident_labels"][row]) if columns["incidents_annotated"][row]
                                     else [-100] * len(columns["incident_labels"][row]))
            labels.append(-100)  # the sep token
            examples.append({
                "input_ids": ids, "sentence_ids": sent_ids, "labels": labels,
                "incident_labels": incident_rows,
                "entity_types_annotated": list(columns["entity_types_annotated"][start]),
                "source": columns["source"][start], "length": len(ids),
            })
        start = end
    return examples


@dataclass
class WindowCollator:
    """Pads a batch of windows: ids with pad, sentence ids with -1, labels and incident rows with -100."""

    pad_token_id: int

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        longest = max(len(f["input_ids"]) for f in features)
        sentences = max(len(f["incident_labels"]) for f in features)
        n_types = len(features[0]["incident_labels"][0])
        batch = batch_inputs([f["input_ids"] for f in features], [f["sentence_ids"] for f in features],
                             self.pad_token_id)
        batch["labels"] = torch.tensor(pad([f["labels"] for f in features], -100, longest))
        batch["incident_labels"] = torch.tensor(
            [f["incident_labels"] + [[-100] * n_types] * (sentences - len(f["incident_labels"])) for f in features],
            dtype=torch.long)
        batch["entity_types_annotated"] = torch.tensor([f["entity_types_annotated"] for f in features])
        return batch
