"""Uncertainty sampling with a diversity term: which unlabelled documents to annotate next.

Each document of the pool is run through the model once (:class:`rasd.inference.Engine`, the
full probabilities, not only what passes the thresholds) and gets an uncertainty in [0, 1]:

- **incidents**: per sentence, the closest call among the incident types. With ``margin`` a
  type's uncertainty is ``1 - |p - t| / (t if p < t else 1 - t)`` (1 at its threshold ``t``, 0 at
  a certain 0 or 1); with ``entropy`` it is the binary entropy of ``p`` in bits. A sentence
  takes the maximum over types.
- **entities**: per word, over the tag distribution ``q``: ``margin`` is ``1 - (q1 - q2)`` (the
  two most probable tags), ``entropy`` is ``H(q) / ln(number of tags)``.
- **document**: ``U = a * top_k_mean(sentences) + (1 - a) * top_k_mean(words)``, where
  ``top_k_mean`` is the mean of the ``k`` largest values (all of them when fewer): a document is
  as uncertain as its few hardest parts, not diluted by its length (``a = 0.5``, ``k = 5``).

Then a greedy pick: the next document maximises ``U_i - lam * max_{c chosen} cos(x_i, x_c)``,
where ``x`` is the document's TF-IDF vector over word unigrams and bigrams (sublinear term
frequency, L2-normalised) and ``lam = 0.5``. Bigrams keep articles that merely share a topic
apart (the five seed articles, all on the same Daraa fighting, score 0.09–0.24 with each other)
while a near-duplicate (a re-post, a wire copy) scores near 1 and so loses about half a unit, more
than uncertainties usually differ. Ties go to the earlier document of the pool, so a run is
deterministic.

Example:
    >>> choose(np.array([0.9, 0.89, 0.5]), np.array([[1.0, 0], [1.0, 0], [0, 1.0]]), n=2, diversity=0.5)
    [(0, 0.0, 0.9), (2, 0.0, 0.5)]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from rasd.errors import InputError

MEASURES = ("margin", "entropy")


@dataclass(frozen=True)
class SelectConfig:
    """How documents are scored and picked (see the module docstring for the formula)."""

    n: int = 100
    measure: str = "margin"
    incident_weight: float = 0.5   # a: incidents vs entities in U
    top_k: int = 5                 # k: the hardest sentences / words a document is judged by
    diversity: float = 0.5         # lam: weight of the cosine penalty; 0 = pure uncertainty ranking

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or self.n < 1:
            raise InputError(f"n must be a positive integer, got {self.n!r}")
        if self.measure not in MEASURES:
            raise InputError(f"measure must be one of {', '.join(MEASURES)}, got {self.measure!r}")
        if not 0.0 <= self.incident_weight <= 1.0:
            raise InputError(f"incident_weight must be in [0, 1], got {self.incident_weight}")
        if not isinstance(self.top_k, int) or self.top_k < 1:
            raise InputError(f"top_k must be a positive integer, got {self.top_k!r}")
        if self.diversity < 0:
            raise InputError(f"diversity must be 0 or more, got {self.diversity}")


@dataclass(frozen=True)
class Uncertainty:
    """A document's uncertainty: the combined value and its two parts, each in [0, 1]."""

    total: float
    incidents: float
    entities: float


@dataclass(frozen=True)
class Selected:
    """One chosen document: its pool position, rank (1 = annotate first) and why it was chosen."""

    index: int
    id: str
    rank: int
    uncertainty: Uncertainty
    redundancy: float        # max cosine similarity to the documents chosen before it
    selection_score: float   # uncertainty.total - diversity * redundancy


def word_uncertainty(word_probs: np.ndarray, measure: str = "margin") -> np.ndarray:
    """Per-word uncertainty in [0, 1] from the tag distributions ``(words, tags)``.

    Example:
        >>> word_uncertainty(np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])).tolist()
        [0.0, 1.0]
    """
    if measure not in MEASURES:
        raise InputError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    if word_probs.shape[0] == 0 or word_probs.shape[1] < 2:
        # No words, or a single tag: nothing to hesitate between.
        return np.zeros(word_probs.shape[0])
    if measure == "margin":
        top2 = -np.sort(-word_probs, axis=1)[:, :2]
        return np.clip(1.0 - (top2[:, 0] - top2[:, 1]), 0.0, 1.0)
    q = np.clip(word_probs, 1e-12, 1.0)
    return np.clip(-(word_probs * np.log(q)).sum(axis=1) / np.log(word_probs.shape[1]), 0.0, 1.0)


def incident_uncertainty(sentence_probs: np.ndarray, thresholds: np.ndarray, measure: str = "margin") -> np.ndarray:
    """Per-sentence uncertainty in [0, 1]: the closest call among the incident types.

    Example:
        >>> incident_uncertainty(np.array([[0.5, 0.0], [0.75, 1.0]]), np.array([0.5, 0.5])).tolist()
        [1.0, 0.5]
    """
    if measure not in MEASURES:
        raise InputError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    if sentence_probs.shape[0] == 0 or sentence_probs.shape[1] == 0:
        return np.zeros(sentence_probs.shape[0])
    p = np.asarray(sentence_probs, dtype=np.float64)
    if measure == "margin":
        t = np.clip(np.asarray(thresholds, dtype=np.float64), 1e-6, 1 - 1e-6)
        # Distance to the threshold, as a share of the room on that side of it.
        distance = np.where(p >= t, (p - t) / (1 - t), (t - p) / t)
        per_type = 1.0 - np.clip(distance, 0.0, 1.0)
    else:
        q = np.clip(p, 1e-12, 1 - 1e-12)
        # Exactly 0 at a certain 0 or 1 (the clip alone would leave ~4e-11).
        per_type = np.where((p <= 0) | (p >= 1), 0.0, -(q * np.log2(q) + (1 - q) * np.log2(1 - q)))
    return per_type.max(axis=1)


def top_k_mean(values: np.ndarray, k: int) -> float:
    """The mean of the ``k`` largest values (of all when fewer); 0 for none.

    Example:
        >>> top_k_mean(np.array([0.1, 0.9, 0.5]), 2)
        0.7
    """
    if values.size == 0:
        return 0.0
    return float(np.sort(values)[::-1][:k].mean())


def document_uncertainty(word_probs: np.ndarray, sentence_probs: np.ndarray, thresholds: np.ndarray,
                         config: SelectConfig) -> Uncertainty:
    """A document's :class:`Uncertainty` from the engine's probabilities (``EngineOutput``)."""
    inc = top_k_mean(incident_uncertainty(sentence_probs, thresholds, config.measure), config.top_k)
    ent = top_k_mean(word_uncertainty(word_probs, config.measure), config.top_k)
    a = config.incident_weight
    return Uncertainty(round(a * inc + (1 - a) * ent, 6), round(inc, 6), round(ent, 6))


def tfidf_vectors(texts: Sequence[str]) -> Any:
    """L2-normalised TF-IDF rows over word unigrams and bigrams: a dot product is a cosine.

    Example:
        >>> x = tfidf_vectors(["قصف مدفعي على درعا", "قصف مدفعي على درعا اليوم", "اتفاق تسوية في جاسم"])
        >>> [round(float((x[0] @ x[k].T).toarray()[0, 0]), 2) for k in (1, 2)]
        [0.82, 0.0]
    """
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        return TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    except ValueError:
        # No word of two letters or more anywhere ("empty vocabulary"): nothing to tell apart.
        return csr_matrix((len(texts), 1))


def choose(uncertainty: np.ndarray, vectors: Any, n: int, diversity: float) -> list[tuple[int, float, float]]:
    """Greedy pick of ``n`` rows: ``(index, redundancy, score)`` in the order chosen.

    ``vectors`` are L2-normalised rows (dense or scipy sparse); each step takes the row with the
    highest ``uncertainty - diversity * (max cosine to the rows already chosen)``, the earliest on ties.
    """
    m = len(uncertainty)
    redundancy = np.zeros(m)
    taken = np.zeros(m, dtype=bool)
    picks: list[tuple[int, float, float]] = []
    for _ in range(min(n, m)):
        score = np.where(taken, -np.inf, uncertainty - diversity * redundancy)
        best = int(np.argmax(score))  # argmax returns the first maximum: ties go to the earlier row
        picks.append((best, round(float(redundancy[best]), 6), round(float(score[best]), 6)))
        taken[best] = True
        if diversity > 0:
            sims = vectors @ vectors[best].T
            sims = np.asarray(sims.todense() if hasattr(sims, "todense") else sims).ravel()
            redundancy = np.maximum(redundancy, np.clip(sims, 0.0, 1.0))
    return picks


def score_pool(extractor: Any, texts: Sequence[str], config: SelectConfig, batch_size: int | None = None,
               progress: Any = None, chunk: int = 64) -> list[Uncertainty]:
    """The uncertainty of each text, ``chunk`` documents per engine run (memory stays bounded)."""
    from rasd.text import segment

    thresholds = np.asarray(extractor.config.incident_thresholds, dtype=np.float64)
    out: list[Uncertainty] = []
    for i in range(0, len(texts), chunk):
        part = texts[i:i + chunk]
        words = [[[t[a:b] for a, b in s.words] for s in segment(t)] for t in part]
        for res in extractor.engine.run(words, batch_size=batch_size):
            out.append(document_uncertainty(res.word_probs, res.sentence_probs, thresholds, config))
        if progress is not None:
            progress(len(part))
    return out


def select(extractor: Any, ids: Sequence[str], texts: Sequence[str], config: SelectConfig,
           batch_size: int | None = None, progress: Any = None) -> list[Selected]:
    """Rank a pool and pick ``config.n`` documents to annotate next (all of them when the pool is smaller).

    Example:
        >>> batch = select(extractor, ["a", "b"], ["نص أول", "نص ثان"], SelectConfig(n=1))  # doctest: +SKIP
        >>> batch[0].rank, batch[0].uncertainty.total  # doctest: +SKIP
        (1, 0.83)
    """
    if len(ids) != len(texts):
        raise InputError(f"{len(ids)} ids for {len(texts)} texts")
    if not texts:
        raise InputError("the pool is empty: nothing to select")
    scores = score_pool(extractor, texts, config, batch_size, progress)
    total = np.array([u.total for u in scores])
    vectors = tfidf_vectors(texts) if config.diversity > 0 else None
    picks = choose(total, vectors, config.n, config.diversity)
    return [Selected(i, ids[i], rank, scores[i], red, sc) for rank, (i, red, sc) in enumerate(picks, start=1)]


# ---------------------------------------------------------------- command line


def _pool(paths: Sequence[str], date: str | None) -> tuple[list[Any], int]:
    """The pool's documents (rasd predict's input rules) and how many could not be read (reported)."""
    from rasd import batch
    from rasd.extractor import parse_document_date

    for p in paths:
        if not Path(p).exists():
            raise InputError(f"--pool {p}: no such file or directory")
    failures = batch.Failures()
    docs = list(batch.iter_documents(batch.expand_inputs(list(paths)), failures,
                                     parse_document_date(date, "--date")))
    seen: dict[str, int] = {}
    for k, d in enumerate(docs):
        if d.id in seen:
            raise InputError(f"--pool: document id {d.id!r} occurs twice (documents #{seen[d.id] + 1} and #{k + 1}); "
                             "ids must be unique for the batch to be annotated and built")
        seen[d.id] = k
    return docs, failures.files + failures.lines


def _record(sel: Selected, doc: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"id": doc.id, "text": doc.text}
    if doc.date is not None:
        row["date"] = doc.date.isoformat()
    return row | {"rank": sel.rank, "uncertainty": sel.uncertainty.total,
                  "incident_uncertainty": sel.uncertainty.incidents, "entity_uncertainty": sel.uncertainty.entities,
                  "redundancy": sel.redundancy, "selection_score": sel.selection_score}


def write_batch(out: TextIO, chosen: Sequence[Selected], docs: Sequence[Any], fmt: str, extractor: Any = None,
                model_version: str = "") -> None:
    """Write the chosen documents in rank order: JSON Lines, or a JSON list of Label Studio tasks.

    Tasks carry the model's pre-annotations and ``score = 1 - uncertainty``, so Label Studio's
    "prediction score" ascending is the same order.
    """
    picked = [docs[s.index] for s in chosen]
    if fmt == "jsonl":
        for sel, doc in zip(chosen, picked):
            out.write(json.dumps(_record(sel, doc), ensure_ascii=False) + "\n")
        return
    from rasd.labelstudio import to_task

    results = extractor([d.text for d in picked], ids=[d.id for d in picked], dates=[d.date for d in picked])
    tasks = [to_task(doc, model_version, score=round(1.0 - sel.uncertainty.total, 6))
             for sel, doc in zip(chosen, results)]
    json.dump(tasks, out, ensure_ascii=False, indent=1)
    out.write("\n")


def run(args: argparse.Namespace) -> int:
    """``python -m training select``: read the pool, rank it, write the batch; 1 when some input failed."""
    from transformers.utils import logging as hf_logging

    from rasd.extractor import Extractor
    from rasd.labelstudio import model_version

    hf_logging.disable_progress_bar()
    fmt = args.format or ("labelstudio" if args.out and args.out.endswith(".json") else "jsonl")
    if args.out and not Path(args.out).parent.is_dir():
        raise InputError(f"--out {args.out}: the folder {Path(args.out).parent} does not exist")
    if args.n < 1:
        raise InputError(f"--n must be a positive number of documents, got {args.n}")
    config = SelectConfig(n=args.n, measure=args.measure, incident_weight=args.incident_weight, top_k=args.top_k,
                          diversity=args.diversity)
    docs, failed = _pool(args.pool, args.date)
    empty = [d for d in docs if not d.text.strip()]
    if empty:
        print(f"select: {len(empty)} empty document(s) not ranked (first: {empty[0].id})", file=sys.stderr)
    docs = [d for d in docs if d.text.strip()]
    if not docs:
        raise InputError(f"--pool {' '.join(args.pool)}: no documents to rank"
                         + (f" ({failed} could not be read)" if failed else ""))
    extractor = Extractor.from_pretrained(args.model, device=args.device, dtype=args.dtype,
                                          batch_size=args.batch_size)
    bar = None
    if not args.quiet:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(docs), unit="doc", file=sys.stderr, desc="scoring", dynamic_ncols=True)
    try:
        chosen = select(extractor, [d.id for d in docs], [d.text for d in docs], config,
                        progress=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    if args.n > len(docs):
        print(f"select: --n {args.n} but the pool holds {len(docs)} document(s): all of them, ranked",
              file=sys.stderr)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    try:
        write_batch(out, chosen, docs, fmt, extractor, model_version(args.model))
    finally:
        if out is not sys.stdout:
            out.close()
    where = f" → {args.out}" if args.out else ""
    print(f"select: {len(chosen)} of {len(docs)} document(s) chosen ({fmt}){where}", file=sys.stderr)
    if failed:
        print(f"select: {failed} input file(s) or line(s) could not be read (reported above)", file=sys.stderr)
    return 1 if failed else 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``select`` subcommand's options."""
    p.add_argument("--model", required=True, help="a rasd model folder or Hub id")
    p.add_argument("--pool", required=True, nargs="+", help="unlabelled documents: JSONL ({id, text[, date]}), "
                                                          ".txt files or folders of them, Parquet")
    p.add_argument("--n", type=int, required=True, help="how many documents to choose")
    p.add_argument("--out", help="output file (default: standard output)")
    p.add_argument("--format", choices=["jsonl", "labelstudio"],
                   help="jsonl (id, text, date, rank and scores) or labelstudio (tasks with pre-annotations); "
                        "default: labelstudio for an --out ending in .json, else jsonl")
    p.add_argument("--measure", choices=MEASURES, default="margin", help="uncertainty measure (default margin)")
    p.add_argument("--diversity", type=float, default=0.5,
                   help="weight of the TF-IDF cosine penalty to documents already chosen (default 0.5; 0: off)")
    p.add_argument("--incident-weight", type=float, default=0.5,
                   help="share of incident vs entity uncertainty in a document's score (default 0.5)")
    p.add_argument("--top-k", type=int, default=5, help="a document is judged by its k most uncertain sentences "
                                                        "and words (default 5)")
    p.add_argument("--date", help="publication date (YYYY-MM-DD) of documents without their own")
    p.add_argument("--batch-size", type=int, help="windows per forward pass")
    p.add_argument("--device", help="cpu, cuda … (default: CUDA when available)")
    p.add_argument("--dtype", choices=["float32", "bfloat16", "float16", "int8", "auto"])
    p.add_argument("--quiet", action="store_true", help="no progress bar")
