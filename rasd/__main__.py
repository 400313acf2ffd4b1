"""``python -m rasd`` is the ``rasd`` command (useful where the script is not on PATH)."""

import sys

from rasd.cli import main

if __name__ == "__main__":
    sys.exit(main())
