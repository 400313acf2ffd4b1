"""Label maps: how a corpus's labels map onto the rasd schema, and what it annotates.

A label map is a small YAML file (see ``training/label_maps/``). Built-in maps
cover the SPEC's own format and the public corpora of SPEC §2 (ANERcorp,
CLEANANERCorp, AQMAR, Wojood); ``--label-map FILE`` brings any other corpus.

Example:
    >>> m = load_label_map("anercorp")
    >>> m.entity_types, m.map_label("PERS"), m.map_label("MISC")
    (('PER', 'ORG', 'LOC'), 'PER', None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rasd.schema import ENTITY_LABELS, SUB_EVENT_LABELS
from training.dataclass_io import ConfigError, load_yaml

BUILTIN_DIR = Path(__file__).parent / "label_maps"
_DOCUMENTS_RE = re.compile(r"^(file|docstart|block:[1-9][0-9]*)$")


class UnknownLabelError(ValueError):
    """A label that the map neither maps nor ignores."""


@dataclass(frozen=True)
class LabelMap:
    """How one source's labels map onto the schema (loaded from YAML, unknown keys rejected).

    Schema labels always map to themselves; ``labels`` adds foreign names;
    ``ignore`` lists labels deliberately left out (their tokens count as not
    annotated, and every use is counted). ``entity_types`` are the schema types
    the source annotates: the others are *unknown* in it, never O. ``description``,
    ``license`` and ``citation`` are what the model card says of the corpus (sources that
    share a map, like the SPEC format's, are described in ``training/data_sources.yaml``).
    """

    name: str
    entity_types: tuple[str, ...] = ENTITY_LABELS
    incidents: bool = True
    labels: dict[str, str] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    tag_fixes: dict[str, str] = field(default_factory=dict)
    drop_tokens: tuple[str, ...] = ()
    documents: str = "file"
    description: str = ""
    license: str = ""
    citation: str = ""

    def __post_init__(self) -> None:
        bad = [t for t in self.entity_types if t not in ENTITY_LABELS]
        if bad:
            raise ValueError(f"entity_types: {bad[0]!r} is not a schema entity type ({', '.join(ENTITY_LABELS)})")
        for src, dst in self.labels.items():
            if dst not in ENTITY_LABELS and dst not in SUB_EVENT_LABELS:
                raise ValueError(f"labels: {src!r} maps to {dst!r}, which is not a schema label")
            if dst in ENTITY_LABELS and dst not in self.entity_types:
                raise ValueError(f"labels: {src!r} maps to {dst!r}, which is not in entity_types")
            if dst in SUB_EVENT_LABELS and not self.incidents:
                raise ValueError(f"labels: {src!r} maps to incident {dst!r} but incidents is false")
        if not _DOCUMENTS_RE.match(self.documents):
            raise ValueError(f"documents: {self.documents!r} is not 'file', 'docstart' or 'block:N'")

    @property
    def block_size(self) -> int | None:
        """Sentences per pseudo-document for ``documents: block:N``, else None."""
        return int(self.documents.split(":")[1]) if self.documents.startswith("block:") else None

    def map_label(self, label: str) -> str | None:
        """The schema label for a source label; None when the label is ignored.

        Raises:
            UnknownLabelError: when the label is neither mapped nor ignored.
        """
        if label in self.labels:
            return self.labels[label]
        if label in self.ignore:
            return None
        if (label in ENTITY_LABELS and label in self.entity_types) or (
                label in SUB_EVENT_LABELS and self.incidents):
            return label
        raise UnknownLabelError(f"unknown label {label!r} for label map '{self.name}'")


def builtin_names() -> list[str]:
    """Names of the label maps shipped in ``training/label_maps``."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def load_label_map(name_or_path: str | Path) -> LabelMap:
    """A built-in label map by name, or one from a YAML file."""
    path = Path(name_or_path)
    if not path.suffix and str(name_or_path) in builtin_names():
        path = BUILTIN_DIR / f"{name_or_path}.yaml"
    elif not path.exists():
        raise ConfigError(f"label map {str(name_or_path)!r}: no such file and not a built-in "
                          f"({', '.join(builtin_names())})")
    return load_yaml(LabelMap, path)


def detect_label_map(path: str | Path) -> str | None:
    """The built-in map a corpus path names (``…/anercorp/…`` → ``anercorp``), if any."""
    low = str(path).lower()
    for name in ("cleananercorp", "anercorp", "aqmar", "wojood"):
        if name in low:
            return name
    return None
