"""The one base class of every error caused by the user's input rather than by a bug.

Each names the file, line, document or setting at fault; the command lines print it as
``error: …`` and exit with status 2 instead of a traceback.

Example:
    >>> issubclass(InputError, ValueError)
    True
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: a malformed file, an unknown label, a broken model folder, a bad setting."""
