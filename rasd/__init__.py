"""rasd (رصد): Arabic news → conflict incidents (ACLED taxonomy) and named entities.

Heavy modules (torch, transformers) load on first use, so ``import rasd`` is cheap.

Example:
    >>> import rasd
    >>> rasd.SCHEMA_VERSION
    '1'
"""

from __future__ import annotations

from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

from rasd.schema import SCHEMA_VERSION

if TYPE_CHECKING:
    from rasd.extractor import Extractor
    from rasd.results import Document, Entity, Event, Incident, IncidentScore, Sentence, Windowing

try:  # one source of truth: the version in pyproject.toml, as installed
    __version__ = _metadata.version("rasd")
except _metadata.PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"
__all__ = ["SCHEMA_VERSION", "Document", "Entity", "Event", "Extractor", "Incident", "IncidentScore",
           "Sentence", "Windowing", "__version__"]

_LAZY = {"Extractor": "rasd.extractor", "Document": "rasd.results", "Entity": "rasd.results",
         "Event": "rasd.results", "Incident": "rasd.results", "IncidentScore": "rasd.results",
         "Sentence": "rasd.results", "Windowing": "rasd.results"}


def __getattr__(name: str) -> Any:
    # torch and transformers load on first use of the extractor, not at `import rasd`.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rasd' has no attribute {name!r}")
