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
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, overload

import numpy as np
import torch

from rasd.decoding import viterbi
from rasd.errors import InputError
from rasd.inference import Engine, EngineOutput, check_int
from rasd.iob import tags_to_spans, word_spans_to_chars
from rasd.loading import load_model_and_tokenizer
from rasd.precision import prepare_model, resolve_device, resolve_dtype
from rasd.results import EVENT_ROLES, Document, Entity, Event, Incident, IncidentScore, Sentence, Windowing
from rasd.text import Segment, has_arabic_letters, segment

if TYPE_CHECKING:  # real types for checkers, without importing transformers at `import rasd`
    from transformers import PreTrainedTokenizerBase

    from rasd.modeling import RasdModel

DateInput = str | date | Sequence[str | date | None] | None  # publication date(s): one for all, or one per text
_ROLE_OF = {label: role for role, labels in EVENT_ROLES.items() for label in labels}
EMPTY = "empty text: nothing to extract"
NO_ARABIC = "no Arabic letters in the text: the model reads Arabic, so its predictions here mean little"


def parse_document_date(value: object, where: str = "date") -> date | None:
    """A document's publication date from ``None``, a ``date``/``datetime`` or an ISO string.

    Relative dates in the text («أمس», «يوم الخميس الماضي») are resolved against it; an ISO
    timestamp keeps only its calendar day, as a news item's date line does.

    Example:
        >>> parse_document_date("2017-02-16T09:09:00+01:00")
        datetime.date(2017, 2, 16)
    """
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, str):
        raise InputError(f"{where}: expected an ISO date (YYYY-MM-DD), got {type(value).__name__}")
    try:
        return (datetime.fromisoformat(value.strip()).date() if "T" in value or " " in value.strip()
                else date.fromisoformat(value.strip()))
    except ValueError as exc:
        raise InputError(f"{where}: {value!r} is not a valid ISO date (YYYY-MM-DD): {exc}") from None


def _check_dates(dates: object, n: int) -> list[date | None]:
    """One publication date (or None) per text: a single value applies to every text."""
    if dates is None or isinstance(dates, (str, date)):
        return [parse_document_date(dates)] * n
    if not isinstance(dates, Sequence):
        raise InputError(f"dates: expected a date, an ISO string or a list of them, got {type(dates).__name__}")
    if len(dates) != n:
        raise InputError(f"{len(dates)} dates for {n} texts")
    return [parse_document_date(d, f"dates[{k}]") for k, d in enumerate(dates)]


def _check_texts(texts: object) -> tuple[list[str], bool]:
    """The texts as a list, and whether a single string was given; a clear error for anything else."""
    if isinstance(texts, str):
        return [texts], True
    if isinstance(texts, (bytes, bytearray)):
        raise InputError("got bytes, not text: decode it first (data.decode('utf-8'))")
    if texts is None or not isinstance(texts, Sequence):
        raise InputError(f"expected a string or a list of strings, got {type(texts).__name__}")
    batch = list(texts)
    for k, t in enumerate(batch):
        if not isinstance(t, str):
            hint = " (decode it first)" if isinstance(t, (bytes, bytearray)) else ""
            raise InputError(f"text #{k} is {type(t).__name__}, not str{hint}")
    return batch, False


class Extractor:
    """Extracts entities, per-sentence incidents and ACLED-style events from Arabic text.

    Build it with :meth:`from_pretrained`; call it on a string or a list of strings.
    """

    def __init__(self, model: RasdModel, tokenizer: PreTrainedTokenizerBase, device: torch.device,
                 dtype: str, batch_size: int = 16, context: int | None = None, stride: int | None = None,
                 max_length: int | None = None) -> None:
        if not hasattr(getattr(model, "config", None), "incident_labels"):
            raise InputError(f"Extractor needs a loaded rasd model, got {type(model).__name__}: "
                             "use Extractor.from_pretrained(path_or_hub_id)")
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.dtype = dtype
        self.config = model.config
        self.engine = Engine(model, tokenizer, max_length=max_length, stride=stride, context=context,
                             batch_size=batch_size)
        self.thresholds = np.asarray(model.config.incident_thresholds)

    @classmethod
    def from_pretrained(cls, path_or_hub_id: str | Path, device: str | torch.device | None = None,
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
        if not isinstance(path_or_hub_id, (str, Path)) or not str(path_or_hub_id).strip():
            raise InputError(f"path_or_hub_id must be a model folder or a Hub id (owner/name), got {path_or_hub_id!r}")
        # Checked here as well as in the Engine: before the weights are read, not after.
        for name, value, low in (("batch_size", batch_size, 1), ("num_threads", num_threads, 1),
                                 ("context", context, 0)):
            if value is not None:
                check_int(name, value, low)
        if num_threads:
            torch.set_num_threads(num_threads)
        dev = resolve_device(device)
        resolve_dtype(dtype, dev)  # a bad dtype fails before the weights are read
        model, tokenizer = load_model_and_tokenizer(path_or_hub_id, revision=revision,
                                                    trust_remote_code=trust_remote_code)
        model, precision = prepare_model(model, dev, dtype, onednn=onednn)
        batch_size = batch_size or (4 if dev.type == "cpu" else 32)
        return cls(model, tokenizer, dev, precision, batch_size=batch_size, context=context)

    @overload
    def __call__(self, texts: str, batch_size: int | None = None, ids: Sequence[str] | None = None,
                 progress: Callable[[int], None] | None = None,
                 dates: DateInput = None) -> Document: ...

    @overload
    def __call__(self, texts: Sequence[str], batch_size: int | None = None, ids: Sequence[str] | None = None,
                 progress: Callable[[int], None] | None = None,
                 dates: DateInput = None) -> list[Document]: ...

    def __call__(self, texts: str | Sequence[str], batch_size: int | None = None, ids: Sequence[str] | None = None,
                 progress: Callable[[int], None] | None = None,
                 dates: DateInput = None) -> Document | list[Document]:
        """Extract from one text (returns a Document) or many (returns a list, same order).

        ``batch_size`` (windows per forward pass) applies to this call only. ``dates`` is each
        document's publication date (one for all, or one per text; ``date`` or ISO string),
        kept in ``Document.date`` for resolving the text's relative dates.

        Example:
            >>> docs = extractor(["نص أول", "نص ثان"], batch_size=32, dates="2022-08-01")  # doctest: +SKIP
        """
        batch, single = _check_texts(texts)
        if ids is not None and len(ids) != len(batch):
            raise InputError(f"{len(ids)} ids for {len(batch)} texts")
        doc_dates = _check_dates(dates, len(batch))
        segmented = [segment(t) for t in batch]
        words = [[[t[a:b] for a, b in s.words] for s in sents] for t, sents in zip(batch, segmented)]
        outputs = self.engine.run(words, progress=progress, batch_size=batch_size)
        docs = [self._document(ids[k] if ids else None, t, sents, out, doc_dates[k])
                for k, (t, sents, out) in enumerate(zip(batch, segmented, outputs))]
        return docs[0] if single else docs

    def _document(self, doc_id: str | None, text: str, sents: list[Segment], out: EngineOutput,
                  doc_date: date | None = None) -> Document:
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
            roles: dict[str, list[Entity]] = {role: [] for role in EVENT_ROLES}
            for e in entities:
                if s.start <= e.start < s.end:
                    # A label of a custom model beyond the five has no ACLED role: kept, not dropped.
                    roles[_ROLE_OF.get(e.label, "other_entities")].append(e)
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
        warnings = (EMPTY,) if not text.strip() else () if has_arabic_letters(text) else (NO_ARABIC,)
        return Document(doc_id, text, tuple(entities), tuple(sentences), incidents, tuple(events), windowing,
                        warnings, doc_date)
