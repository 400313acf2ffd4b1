"""The public API: ``rasd.Extractor`` — whole Arabic articles in, incidents, entities and events out.

Example:
    >>> import rasd
    >>> extractor = rasd.Extractor.from_pretrained("runs/tiny/model")  # doctest: +SKIP
    >>> doc = extractor("قصفت قوات النظام بلدة جاسم في ريف درعا اليوم الإثنين")  # doctest: +SKIP
    >>> [(e.text, e.label) for e in doc.entities]  # doctest: +SKIP
    [('قوات النظام', 'ORG'), ('جاسم', 'LOC'), ('ريف درعا', 'LOC'), ('اليوم الإثنين', 'DATE')]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from rasd.decoding import viterbi
from rasd.errors import InputError
from rasd.inference import Engine, EngineOutput
from rasd.iob import tags_to_spans, word_spans_to_chars
from rasd.loading import load_model_and_tokenizer
from rasd.precision import prepare_model, resolve_device, resolve_dtype
from rasd.results import Document, Entity, Event, Incident, IncidentScore, Sentence, Windowing
from rasd.text import segment

_ROLES = {"DATE": "dates", "LOC": "locations", "ORG": "actors", "PER": "actors", "WEAPON": "weapons"}


class Extractor:
    """Extracts entities, per-sentence incidents and ACLED-style events from Arabic text.

    Build it with :meth:`from_pretrained`; call it on a string or a list of strings.
    """

    def __init__(self, model: Any, tokenizer: Any, device: torch.device, dtype: str, batch_size: int = 16,
                 context: int | None = None, stride: int | None = None, max_length: int | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.dtype = dtype
        self.config = model.config
        self.engine = Engine(model, tokenizer, max_length=max_length, stride=stride, context=context,
                             batch_size=batch_size)
        self.thresholds = np.asarray(model.config.incident_thresholds)

    @classmethod
    def from_pretrained(cls, path_or_hub_id: str, device: str | torch.device | None = None,
                        dtype: str | torch.dtype | None = None, revision: str | None = None,
                        batch_size: int | None = None, context: int | None = None, num_threads: int | None = None,
                        onednn: bool = True, trust_remote_code: bool = False) -> Extractor:
        """Load a rasd model folder or Hub id.

        Args:
            device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``…; default: CUDA when available.
            dtype: ``None`` (float32), ``"bfloat16"``, ``"float16"`` (GPU), ``"int8"`` (CPU,
                dynamic quantisation) or ``"auto"``.
            batch_size: windows per forward pass (default 4 on a CPU, where larger batches only
                add memory, and 32 on a GPU).
            context: sub-tokens of preceding sentences each window carries as context
                (default: an eighth of the model's window).
            num_threads: CPU threads for torch (default: torch's choice, the physical cores).
            onednn: on a CPU in float32, run Linear layers through oneDNN (same results,
                faster where the default BLAS is slow; see :func:`use_onednn_linear`).

        Example:
            >>> extractor = Extractor.from_pretrained("runs/tiny/model", dtype="int8")  # doctest: +SKIP
        """
        if num_threads:
            torch.set_num_threads(num_threads)
        dev = resolve_device(device)
        resolve_dtype(dtype, dev)  # a bad dtype fails before the weights are read
        model, tokenizer = load_model_and_tokenizer(path_or_hub_id, revision=revision,
                                                    trust_remote_code=trust_remote_code)
        model, precision = prepare_model(model, dev, dtype, onednn=onednn)
        batch_size = batch_size or (4 if dev.type == "cpu" else 32)
        return cls(model, tokenizer, dev, precision, batch_size=batch_size, context=context)

    def __call__(self, texts: str | Sequence[str], batch_size: int | None = None, ids: Sequence[str] | None = None,
                 progress: Callable[[int], None] | None = None) -> Document | list[Document]:
        """Extract from one text (returns a Document) or many (returns a list, same order).

        Example:
            >>> docs = extractor(["نص أول", "نص ثان"], batch_size=32)  # doctest: +SKIP
        """
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        for k, t in enumerate(batch):
            if not isinstance(t, str):
                raise TypeError(f"text #{k} is {type(t).__name__}, not str")
        if ids is not None and len(ids) != len(batch):
            raise InputError(f"{len(ids)} ids for {len(batch)} texts")
        if batch_size is not None:
            self.engine.batch_size = batch_size
        segmented = [segment(t) for t in batch]
        words = [[[t[a:b] for a, b in s.words] for s in sents] for t, sents in zip(batch, segmented)]
        outputs = self.engine.run(words, progress=progress)
        docs = [self._document(ids[k] if ids else None, t, sents, out)
                for k, (t, sents, out) in enumerate(zip(batch, segmented, outputs))]
        return docs[0] if single else docs

    def _document(self, doc_id: str | None, text: str, sents: list[Any], out: EngineOutput) -> Document:
        tags = self.config.tags
        flat_words = [w for s in sents for w in s.words]
        # Decode sentence by sentence: an entity never runs across a sentence boundary.
        path: list[int] = []
        for s in sents:
            path += viterbi(out.word_probs[len(path):len(path) + len(s.words)], tags)
        word_scores = out.word_probs[np.arange(len(path)), path] if path else np.zeros(0)
        word_spans = tags_to_spans([tags[i] for i in path])
        entities = [Entity(text[a:b], label, a, b, float(word_scores[first:last].mean()))
                    for (first, last, _), (a, b, label) in zip(word_spans,
                                                               word_spans_to_chars(text, flat_words, word_spans))]
        labels, events_of = self.config.incident_labels, self.config.incident_event_types
        sentences, events, best = [], [], {}
        for k, s in enumerate(sents):
            probs = out.sentence_probs[k]
            hits = sorted((j for j in range(len(labels)) if probs[j] >= self.thresholds[j]), key=lambda j: -probs[j])
            scores = tuple(IncidentScore(labels[j], events_of[j], float(probs[j])) for j in hits)
            sentences.append(Sentence(s.start, s.end, scores))
            inside = [e for e in entities if s.start <= e.start < s.end]
            roles: dict[str, list[Entity]] = {"dates": [], "locations": [], "actors": [], "weapons": []}
            for e in inside:
                roles[_ROLES[e.label]].append(e)
            for inc in scores:
                events.append(Event(inc.label, inc.event_type, inc.score, s.start, s.end,
                                    **{r: tuple(v) for r, v in roles.items()}))
                prev = best.get(inc.label)
                best[inc.label] = (max(prev[0], inc.score) if prev else inc.score,
                                   (prev[1] if prev else ()) + ((s.start, s.end),))
        incidents = tuple(Incident(label, events_of[labels.index(label)], score, spans)
                          for label, (score, spans) in sorted(best.items(), key=lambda kv: -kv[1][0]))
        windowing = Windowing(out.windows, self.engine.max_length, self.engine.context, self.engine.stride,
                              out.split_sentences, out.words_without_tokens)
        return Document(doc_id, text, tuple(entities), tuple(sentences), incidents, tuple(events), windowing)
