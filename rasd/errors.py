"""The one base class of every error caused by the user's input rather than by a bug.

Each names the file, line, document or setting at fault; the command lines print it as
``error: …`` and exit with status 2 instead of a traceback.

Example:
    >>> issubclass(InputError, ValueError)
    True
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class InputError(ValueError):
    """Bad input: a malformed file, an unknown label, a broken model folder, a bad setting."""


def run_command(command: Callable[[], int]) -> int:
    """Run one command-line command; the user's errors become an ``error:`` line and exit status 2.

    Shared by ``rasd`` and ``python -m training``, so both report bad input the same way.

    Example:
        >>> def bad() -> int:
        ...     raise InputError("runs/x: no such folder")
        >>> import contextlib, io
        >>> with contextlib.redirect_stderr(io.StringIO()) as err:
        ...     code = run_command(bad)
        >>> code, err.getvalue()
        (2, 'error: runs/x: no such folder\\n')
    """
    try:
        return int(command())
    except InputError as exc:  # the user's input is at fault: say where, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `rasd predict … | head`: the reader left, not an error of ours
        try:
            sys.stderr.close()
        except OSError:
            pass
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
