"""rasd (رصد): Arabic news → conflict incidents (ACLED taxonomy) and named entities.

Heavy modules (torch, transformers) load on first use, so ``import rasd`` is cheap.

Example:
    >>> import rasd
    >>> rasd.SCHEMA_VERSION
    '1'
"""

from __future__ import annotations

from rasd.schema import SCHEMA_VERSION

__version__ = "0.1.0"
__all__ = ["SCHEMA_VERSION", "__version__"]
