"""What the model card says of each data source: a description, a licence and a citation.

Two places hold it, one per kind of source. A corpus with its own label map (ANERcorp,
AQMAR, …) is described in that map (``training/label_maps/<name>.yaml``). Sources that share
the SPEC format's ``spec`` map are told apart by their documents' ``meta.source`` and are
described by that name in ``training/data_sources.yaml``. A source in neither gets its name
and entity types, and a pointer to the data card.

Example:
    >>> source_info("seeds", {"label_map": "spec"}).license
    'project annotations (Apache-2.0); article texts © their publishers'
    >>> source_info("anercorp", {"label_map": "anercorp"}).description
    '2000s Arabic newswire (ANERcorp), PER/ORG/LOC only'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from training.dataclass_io import coerce, read_yaml_mapping
from training.label_maps import builtin_names, load_label_map

REGISTRY = Path(__file__).parent / "data_sources.yaml"
UNKNOWN_LICENSE = "see data/README.md"


@dataclass(frozen=True)
class SourceInfo:
    """One source as the model card describes it."""

    description: str = ""
    license: str = ""
    citation: str = ""


@cache
def registered_sources(path: Path = REGISTRY) -> dict[str, SourceInfo]:
    """The sources described in ``data_sources.yaml``, by name (unknown keys rejected)."""
    return {str(name): coerce(entry, SourceInfo, f"{path}.{name}") for name, entry in read_yaml_mapping(path).items()}


def source_info(name: str, built: dict[str, Any]) -> SourceInfo:
    """How to describe source ``name``; ``built`` is its entry in a build summary's ``sources``.

    The registry wins field by field; then the build summary's description, licence and citation
    (a custom label map's reach the card this way), then the
    built-in label map's; the fallbacks name the source and its entity types.
    """
    registered = registered_sources().get(name, SourceInfo())
    label_map = built.get("label_map")
    lmap = load_label_map(label_map) if label_map in builtin_names() else None
    description = registered.description or built.get("description") or (lmap.description if lmap else "")
    if not description:
        types = ", ".join(built.get("entity_types") or (lmap.entity_types if lmap else ()))
        description = f"{name} ({types})" if types else name
    return SourceInfo(
        description=description,
        license=registered.license or built.get("license") or (lmap.license if lmap else "") or UNKNOWN_LICENSE,
        citation=registered.citation or built.get("citation") or (lmap.citation if lmap else ""))
