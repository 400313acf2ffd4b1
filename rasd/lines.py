"""Text files read line by line, with invalid UTF-8 reported per line instead of ending the file.

The one line reader of the project: ``rasd predict`` streams JSON Lines through it, and the
training side's readers (SPEC JSONL, CoNLL) build on it, so a bad byte is reported the same
way everywhere, with its line and byte offset, and the rest of the file is still read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

# Invalid bytes come through ``surrogateescape`` as lone surrogates, which valid UTF-8 never decodes to.
_ESCAPED_BYTE_RE = re.compile("[\udc80-\udcff]")


def iter_text_lines(path: Path) -> Iterator[tuple[int, str | UnicodeDecodeError]]:
    """``(line number, line)`` for every line of a UTF-8 text file, the one line reader of the builder.

    A line that is not valid UTF-8 comes as its :class:`UnicodeDecodeError` (offsets into that
    line's bytes) instead of ending the file, so a caller can report it with the line number
    and read on. Newlines are universal (``\\r\\n`` is one) and a leading byte-order mark is
    not part of the text.

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
        >>> _ = f.write_bytes(b"ok\\n\\xff\\n")
        >>> [(n, line if isinstance(line, str) else describe_decode_error(line)) for n, line in iter_text_lines(f)]
        [(1, 'ok\\n'), (2, 'invalid UTF-8 (invalid start byte 0xff at byte offset 0 of the line)')]
    """
    with path.open(encoding="utf-8-sig", errors="surrogateescape") as fh:
        for lineno, line in enumerate(fh, 1):
            if _ESCAPED_BYTE_RE.search(line):
                try:  # the line's own bytes again, to get the real error with its byte offset
                    line.encode("utf-8", "surrogateescape").decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield lineno, exc
                    continue
            yield lineno, line


def describe_decode_error(exc: UnicodeDecodeError, of: str = "the line") -> str:
    """``invalid UTF-8 (…)`` with the offending byte and its offset in ``of``."""
    return f"invalid UTF-8 ({exc.reason} 0x{exc.object[exc.start]:02x} at byte offset {exc.start} of {of})"
