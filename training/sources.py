"""The training data of a run: each source of ``config.data`` built, limited and weighted.

A source is a file or folder the builder reads (saved under ``<run>/data/<name>``) or an
already built dataset folder. Their training windows are mixed by sampling weight, and
their incident rates seed the incident head's bias.

Example:
    >>> windows = [{"id": i} for i in range(4)]
    >>> [w["id"] for w in mix_windows([(windows, 1.5)], seed=0)][:4]
    [0, 1, 2, 3]
    >>> len(mix_windows([(windows, 1.5)], seed=0)), len(mix_windows([(windows, 0.5)], seed=0))
    (6, 2)
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.config import TrainConfig

logger = logging.getLogger("training")


@dataclass(frozen=True)
class PreparedSource:
    """A built data source: its name, DatasetDict, sampling weight and build summary."""

    name: str
    dataset: Any
    weight: float
    summary: dict[str, Any]


def prepare_sources(config: TrainConfig, run_dir: Path) -> list[PreparedSource]:
    """Build (or load) every source of ``config.data``, saved under ``run_dir/data``.

    Example:
        >>> sources = prepare_sources(load_config("configs/tiny.yaml"), Path("runs/x"))  # doctest: +SKIP
        >>> [s.name for s in sources]  # doctest: +SKIP
        ['seeds']
    """
    import datasets

    from training.builder import BuildOptions, InputSpec, build, format_summary, save

    prepared: list[PreparedSource] = []
    for k, src in enumerate(config.data.sources):
        path = Path(src.path)
        if (path / "dataset_dict.json").exists():
            dataset = datasets.load_from_disk(str(path))
            summary = json.loads((path / "summary.json").read_text()) if (path / "summary.json").exists() else {}
            name = path.name
        else:
            ratios = (config.data.dev_ratio if src.dev_ratio is None else src.dev_ratio,
                      config.data.test_ratio if src.test_ratio is None else src.test_ratio)
            result = build([InputSpec(path, src.format, src.label_map)], BuildOptions(*ratios, config.data.split_seed))
            dataset, summary = result.dataset, result.summary
            name = "+".join(summary["sources"]) or path.stem
        if any(p.name == name for p in prepared):
            name = f"{name}-{k}"
        if src.limit_train_documents is not None:
            dataset = limit_documents(dataset, src.limit_train_documents, config.data.split_seed)
        out = run_dir / "data" / name
        if not (path / "dataset_dict.json").exists():
            save(dataset, summary, out)
            logger.info("source %s (%s):\n%s", name, path, format_summary(summary))
        prepared.append(PreparedSource(name, dataset, src.weight, summary))
    return prepared


def limit_documents(dataset: Any, n: int, seed: int) -> Any:
    """Keep ``n`` training documents (a seeded choice), for learning curves."""
    docs = sorted(set(dataset["train"]["doc_id"]), key=lambda d: hashlib.sha256(f"{seed}:{d}".encode()).hexdigest())
    keep = set(docs[:n])
    dataset["train"] = dataset["train"].filter(lambda r: r["doc_id"] in keep)
    return dataset


def train_rows(sources: list[PreparedSource]) -> int:
    """How many training sentences the sources hold together."""
    return sum(len(s.dataset["train"]) for s in sources if "train" in s.dataset)


def incident_rates(sources: list[PreparedSource]) -> list[float] | None:
    """Per-type share of training sentences with that incident (add-one smoothed), or None."""
    counts, n = None, 0
    for s in sources:
        train = s.dataset["train"] if "train" in s.dataset else None
        if train is None:
            continue
        for on, labels in zip(train["incidents_annotated"], train["incident_labels"]):
            if on:
                counts = list(labels) if counts is None else [c + x for c, x in zip(counts, labels)]
                n += 1
    if counts is None:
        return None
    return [(c + 1) / (n + 2) for c in counts]


def mix_windows(per_source: list[tuple[list[dict[str, Any]], float]], seed: int) -> list[dict[str, Any]]:
    """Training windows with each source's count scaled by its weight (seeded, whole copies first).

    A weight of 2 takes every window twice; 0.5 takes a seeded half.
    """
    rng = np.random.default_rng(seed)
    mixed: list[dict[str, Any]] = []
    for windows, weight in per_source:
        whole, frac = divmod(weight, 1.0)
        mixed.extend(windows * int(whole))
        extra = round(frac * len(windows))
        if extra:
            mixed.extend(windows[i] for i in sorted(rng.choice(len(windows), extra, replace=False)))
    return mixed
