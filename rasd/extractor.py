"""The public API: ``rasd.Extractor`` — whole Arabic articles in, incidents, entities and events out.

Example:
    >>> import rasd
    >>> extractor = rasd.Extractor.from_pretrained("runs/tiny/model")  # doctest: +SKIP
    >>> doc = extractor("قصفت قوات النظام بلدة جاسم في ريف درعا اليوم الإثنين")  # doctest: +SKIP
    >>> [(e.text, e.label) for e in doc.entities]  # doctest: +SKIP
    [('قوات النظام', 'ORG'), ('جاسم', 'LOC'), ('ريف درعا', 'LOC'), ('اليوم الإثنين', 'DATE')]
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from rasd.decoding import viterbi
from rasd.errors import InputError
from rasd.inference import Engine, EngineOutput
from rasd.iob import tags_to_spans, word_spans_to_chars
from rasd.loading import load_model_and_tokenizer
from rasd.results import Document, Entity, Event, Incident, IncidentScore, Sentence, Windowing
from rasd.text import segment

DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
          "float16": torch.float16, "fp16": torch.float16}
_ROLES = {"DATE": "dates", "LOC": "locations", "ORG": "actors", "PER": "actors", "WEAPON": "weapons"}


def cpu_supports_bf16() -> bool:
    """True when this CPU has native bf16 matrix instructions (AVX-512 BF16 or AMX)."""
    capability = torch.backends.cpu.get_cpu_capability()
    if capability not in ("AVX512", "AMX"):
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = fh.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> str:
    """The precision to run in: a name among float32, bfloat16, float16, int8.

    ``None`` keeps float32 (exact); ``"auto"`` picks bf16 where the hardware has
    it (GPUs with bf16, CPUs with AVX-512 BF16/AMX), fp16 on other GPUs, else fp32.
    """
    if dtype is None:
        return "float32"
    if isinstance(dtype, torch.dtype):
        dtype = {v: k for k, v in DTYPES.items() if len(k) > 4}[dtype]
    if dtype == "auto":
        if device.type == "cuda":
            return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        return "bfloat16" if cpu_supports_bf16() else "float32"
    if dtype == "int8":
        if device.type != "cpu":
            raise InputError("int8 (dynamic quantisation) runs on the CPU only")
        return "int8"
    if dtype not in DTYPES:
        raise InputError(f"unknown dtype {dtype!r}: choose float32, bfloat16, float16, int8 or auto")
    name = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}.get(dtype, dtype)
    if name == "float16" and device.type == "cpu":
        raise InputError("float16 is for GPUs; on a CPU use bfloat16 or int8")
    return name


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantisation of the encoder's Linear layers (weights per output channel).

    The feed-forward down-projections (more inputs than outputs: 3072 → 768 in a base model)
    stay in fp32, through oneDNN: their inputs carry the activation outliers that per-tensor
    8-bit activations cannot hold (measured on the e5-small model: entity F1 -10.4 points with
    every layer quantised, -0.5 with these kept; docs/benchmarks.md). The output heads stay fp32.
    """
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao, which is not a dependency;
        # the API still works and is what dynamic int8 on a CPU needs (PLATFORM-NOTES).
        warnings.simplefilter("ignore")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        encoder = getattr(model, "encoder", model)
        names = {name for name, m in encoder.named_modules()
                 if type(m) is torch.nn.Linear and m.in_features <= m.out_features}
        # In place: a copy would hold the fp32 model and its int8 twin in memory at once.
        quantize_dynamic(encoder, {name: per_channel_dynamic_qconfig for name in names}, dtype=torch.qint8,
                         inplace=True)
    use_onednn_linear(model)
    release_free_memory()
    return model


def release_free_memory() -> None:
    """Give memory freed by a conversion back to the OS (glibc keeps it otherwise).

    The fp32 weights a conversion replaces are mid-heap allocations that glibc would keep
    mapped; ``malloc_trim`` returns them. A no-op where glibc is not the C library.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name and "libc" in name:
        try:
            ctypes.CDLL(name).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
            pass


class OneDNNLinear(torch.nn.Module):
    """A Linear layer whose fp32 weight is prepacked for oneDNN (inference only).

    Uses the same oneDNN kernel PyTorch's own compiler emits for CPU linear layers.
    """

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("weight", torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach()),
                             persistent=False)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(x, self.weight, self.bias, "none", [], "")


def _onednn_works() -> bool:
    """The prepacked oneDNN linear exists in this torch build and matches nn.Linear."""
    try:
        lin = torch.nn.Linear(8, 4)
        x = torch.randn(2, 3, 8)
        with torch.inference_mode():
            return bool(torch.allclose(OneDNNLinear(lin)(x), lin(x), atol=1e-5))
    except (AttributeError, RuntimeError):
        return False


def use_onednn_linear(model: torch.nn.Module) -> int:
    """Run every fp32 Linear layer through oneDNN instead of the default BLAS; returns how many.

    Same fp32 arithmetic, different kernel: PyTorch's CPU wheels multiply fp32 matrices with
    MKL, which takes a slow code path on AMD CPUs (measured 167 vs 346 GFLOPS for BERT-base's
    intermediate layer on a 2-core Zen 4; docs/benchmarks.md). Outputs agree to ~1e-6. Weights
    are repacked in place of the originals (no second copy), for inference only. Returns 0 and
    changes nothing where this torch build lacks the kernel.
    """
    if not torch.backends.mkldnn.is_available() or not _onednn_works():
        return 0
    # (parent, name) pairs only, so each original layer is freed as soon as it is replaced.
    places = [(parent, name) for parent in model.modules() for name, child in parent.named_children()
              if type(child) is torch.nn.Linear and child.weight.dtype == torch.float32]
    for parent, name in places:
        setattr(parent, name, OneDNNLinear(getattr(parent, name)))
    release_free_memory()
    return len(places)


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
        dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available()
                                                                            else "cpu")
        precision = resolve_dtype(dtype, dev)
        model, tokenizer = load_model_and_tokenizer(path_or_hub_id, revision=revision,
                                                    trust_remote_code=trust_remote_code)
        if precision == "int8":
            model = quantize_int8(model)
        else:
            model = model.to(device=dev, dtype=DTYPES[precision])
            if onednn and dev.type == "cpu" and precision == "float32":
                use_onednn_linear(model)
        batch_size = batch_size or (4 if dev.type == "cpu" else 32)
        return cls(model.eval(), tokenizer, dev, precision, batch_size=batch_size, context=context)

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
