"""The inference engine: word-segmented documents in, per-word tag and per-sentence incident probabilities out.

Shared by :class:`rasd.Extractor` and the evaluator, so what is scored is what
users get. Windows from every document are batched together, sorted by length
and padded per batch; a word seen by several windows (context overlap, stride
of a long sentence) gets the mean of its probabilities; a sentence split into
pieces gets the highest incident probability of its pieces.

Example:
    >>> engine = Engine(model, tokenizer)  # doctest: +SKIP
    >>> [out] = engine.run([[["اشتباكات", "في", "درعا"]]])  # doctest: +SKIP
    >>> out.word_probs.shape, out.sentence_probs.shape  # doctest: +SKIP
    ((3, 11), (1, 25))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from rasd.errors import InputError
from rasd.normalize import NormalizationConfig, normalize_word
from rasd.windows import Unit, WindowPlan, frame, pad, plan_windows

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from rasd.modeling import RasdModel


@dataclass(frozen=True)
class EngineOutput:
    """Probabilities for one document, and how it was windowed."""

    word_probs: np.ndarray       # (words, tags), softmax
    sentence_probs: np.ndarray   # (sentences, incident types), sigmoid
    windows: int
    split_sentences: int         # sentences longer than a window, split with a stride
    words_without_tokens: int    # words the tokenizer turned into nothing (scored O)


@dataclass(frozen=True)
class FramedWindow:
    """One model input: its document, token ids, sentence slots and the units it holds."""

    doc: int
    ids: list[int]
    sentence_ids: list[int]
    units: list[int]


def subtokenize(tokenizer: Any, sentences: Sequence[Sequence[str]], normalization: NormalizationConfig,
                batch_size: int = 512) -> list[list[list[int]]]:
    """Sub-token ids per word per sentence: normalised words, no special tokens."""
    out: list[list[list[int]]] = []
    for i in range(0, len(sentences), batch_size):
        batch = [[normalize_word(w, normalization) for w in s] for s in sentences[i:i + batch_size]]
        # verbose=False: a long sentence is fine here (it is split into windows later), so the
        # tokenizer's "longer than the maximum length" warning would only mislead.
        enc = tokenizer(batch, is_split_into_words=True, add_special_tokens=False, verbose=False)
        for k, words in enumerate(batch):
            pieces: list[list[int]] = [[] for _ in words]
            for tid, wid in zip(enc["input_ids"][k], enc.word_ids(k)):
                if wid is not None:
                    pieces[wid].append(tid)
            out.append(pieces)
    return out


def batch_inputs(input_ids: Sequence[Sequence[int]], sentence_ids: Sequence[Sequence[int]], pad_id: int,
                 device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
    """Model inputs of a batch of framed windows: ids padded with ``pad_id``, mask, sentence slots padded with -1.

    The one padding path of training (the collator) and inference (the engine).

    Example:
        >>> batch = batch_inputs([[2, 5, 3], [2, 3]], [[-1, 0, -1], [-1, -1]], pad_id=0)
        >>> batch["attention_mask"].tolist()
        [[1, 1, 1], [1, 1, 0]]
    """
    longest = max(len(r) for r in input_ids)
    return {
        "input_ids": torch.tensor(pad(input_ids, pad_id, longest), device=device),
        "attention_mask": torch.tensor(pad([[1] * len(r) for r in input_ids], 0, longest), device=device),
        "sentence_ids": torch.tensor(pad(sentence_ids, -1, longest), device=device),
    }


def check_int(name: str, value: object, low: int, high: int | None = None, why: str = "") -> int:
    """``value`` if it is an integer in ``[low, high)``, else an InputError naming the setting.

    Example:
        >>> check_int("batch_size", 0, 1)
        Traceback (most recent call last):
        ...
        rasd.errors.InputError: batch_size must be an integer of at least 1, got 0
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value >= high):
        bounds = f"of at least {low}" if high is None else f"in [{low}, {high})"
        raise InputError(f"{name} must be an integer {bounds}, got {value!r}" + (f" ({why})" if why else ""))
    return value


def special_ids(tokenizer: Any) -> tuple[int, int, int]:
    """(cls, sep, pad) ids; a tokenizer without them cannot frame a window."""
    ids = (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id)
    if None in ids:
        raise InputError(f"tokenizer {type(tokenizer).__name__} lacks a cls, sep or pad token")
    return ids  # type: ignore[return-value]


class Engine:
    """Runs a :class:`~rasd.modeling.RasdModel` over whole documents, window by window."""

    def __init__(self, model: RasdModel, tokenizer: PreTrainedTokenizerBase, max_length: int | None = None,
                 stride: int | None = None, context: int | None = None, batch_size: int = 16) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length or model.config.max_length
        # The model's own stride, unless it does not fit a shorter window asked for here.
        self.stride = min(model.config.stride, max(self.max_length - 3, 0)) if stride is None else stride
        # Context: an eighth of the window (64 sub-tokens for 512) of the preceding sentences.
        self.context = self.max_length // 8 if context is None else context
        self.batch_size = batch_size
        self._check(getattr(model.config.encoder, "max_position_embeddings", None))
        self.normalization = NormalizationConfig.from_dict(model.config.normalization or {})
        self.cls_id, self.sep_id, self.pad_id = special_ids(tokenizer)

    def _check(self, positions: int | None) -> None:
        # Settings come from users (CLI flags, keyword arguments): a negative context or a zero
        # batch would otherwise run and return nothing, with no word of why.
        check_int("max_length", self.max_length, 3, None if positions is None else positions + 1,
                  f"the encoder has {positions} positions")
        budget = self.max_length - 2
        window = f"windows of {self.max_length} sub-tokens"
        check_int("stride", self.stride, 0, budget, window)
        check_int("context", self.context, 0, budget, window)
        check_int("batch_size", self.batch_size, 1)

    def plan(self, pieces: Sequence[Sequence[Sequence[int]]]) -> tuple[list[Unit], list[WindowPlan]]:
        """Units and window plans of one document (sub-token ids per word per sentence)."""
        return plan_windows(pieces, self.max_length, self.stride, self.context)

    def windows(self, docs: Sequence[Sequence[Sequence[str]]]) -> tuple[list[list[Unit]], list[FramedWindow]]:
        """Every document's units, and the framed windows of all documents (in document order)."""
        flat = [list(s) for d in docs for s in d]
        pieces = subtokenize(self.tokenizer, flat, self.normalization) if flat else []
        per_doc_units: list[list[Unit]] = []
        windows: list[FramedWindow] = []
        pos = 0
        for d, doc in enumerate(docs):
            units, plans = self.plan(pieces[pos:pos + len(doc)])
            pos += len(doc)
            per_doc_units.append(units)
            for plan in plans:
                ids, slots = frame(units, plan, self.cls_id, self.sep_id)
                windows.append(FramedWindow(d, ids, slots, list(plan.units)))
        return per_doc_units, windows

    def run(self, docs: Sequence[Sequence[Sequence[str]]], progress: Callable[[int], None] | None = None,
            batch_size: int | None = None) -> list[EngineOutput]:
        """Probabilities for each document, given as sentences of word strings.

        ``batch_size`` (windows per forward pass) applies to this call only; default: the engine's.
        """
        batch_size = self.batch_size if batch_size is None else check_int("batch_size", batch_size, 1)
        per_doc_units, windows = self.windows(docs)
        n_tags = len(self.model.config.tags)
        n_inc = len(self.model.config.incident_labels)
        word_sum = [np.zeros((sum(len(s) for s in doc), n_tags), dtype=np.float64) for doc in docs]
        word_n = [np.zeros(len(w), dtype=np.int64) for w in word_sum]
        unit_sum = [np.zeros((len(u), n_inc)) for u in per_doc_units]
        unit_n = [np.zeros(len(u), dtype=np.int64) for u in per_doc_units]

        order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
        device = next(self.model.parameters()).device
        with torch.inference_mode():
            for b in range(0, len(order), batch_size):
                batch = [windows[i] for i in order[b:b + batch_size]]
                inputs = batch_inputs([w.ids for w in batch], [w.sentence_ids for w in batch], self.pad_id, device)
                out = self.model(**inputs)
                tag_p = torch.softmax(out.token_logits.float(), dim=-1).cpu().numpy()
                inc_p = torch.sigmoid(out.incident_logits.float()).cpu().numpy()
                for k, w in enumerate(batch):
                    units = per_doc_units[w.doc]
                    t = 1  # after the cls token
                    for local, u in enumerate(w.units):
                        unit = units[u]
                        for j, (word, first) in enumerate(zip(unit.token_words, unit.first)):
                            if first:
                                word_sum[w.doc][word] += tag_p[k, t + j]
                                word_n[w.doc][word] += 1
                        t += len(unit)
                        unit_sum[w.doc][u] += inc_p[k, local]
                        unit_n[w.doc][u] += 1
                if progress is not None:
                    progress(len(batch))

        windows_per_doc = np.bincount([w.doc for w in windows], minlength=len(docs))
        outputs = []
        for d, doc in enumerate(docs):
            n_words = len(word_sum[d])
            missing = word_n[d] == 0
            probs = word_sum[d] / np.maximum(word_n[d], 1)[:, None]
            probs[missing] = np.eye(n_tags)[0]  # a word with no sub-token cannot be tagged: O
            unit_p = unit_sum[d] / np.maximum(unit_n[d], 1)[:, None]
            sent_p = np.zeros((len(doc), n_inc))
            pieces_per_sentence = np.zeros(len(doc), dtype=np.int64)
            for u, unit in enumerate(per_doc_units[d]):
                sent_p[unit.sentence] = np.maximum(sent_p[unit.sentence], unit_p[u])
                pieces_per_sentence[unit.sentence] += 1
            outputs.append(EngineOutput(
                word_probs=probs if n_words else np.zeros((0, n_tags)), sentence_probs=sent_p,
                windows=int(windows_per_doc[d]),
                split_sentences=int((pieces_per_sentence > 1).sum()),
                words_without_tokens=int(missing.sum())))
        return outputs
