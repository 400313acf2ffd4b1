"""Measure rasd.dates against dateparser on the date expressions of tests/test_dates.py (CASES).

    pip install dateparser        # for this benchmark only: never a rasd dependency
    python benchmarks/event_fields.py [dateparser]

A case counts as correct for rasd when the day and ACLED precision both match. dateparser gives no
precision, so it is judged more leniently: the day must match, except that for a month-precision
case the year and month suffice; an expression that is no date on ACLED's scale must give None.
Both read the expression with the document dated 2022-10-25 (``RELATIVE_BASE``, past preferred).
"""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_dates import CASES, DOC  # noqa: E402

from rasd.dates import MONTH, resolve_date  # noqa: E402


def rasd_ok(text: str, value: str | None, precision: int | None) -> bool:
    r = resolve_date(text, DOC)
    return (r.value.isoformat() if r.value else None, r.precision) == (value, precision)


def dateparser_ok(text: str, value: str | None, precision: int | None) -> bool:
    import dateparser

    got = dateparser.parse(text, languages=["ar"], settings={
        "RELATIVE_BASE": datetime.datetime.combine(DOC, datetime.time()), "PREFER_DATES_FROM": "past"})
    if value is None:
        return got is None
    if got is None:
        return False
    if precision == MONTH:
        return got.strftime("%Y-%m") == value[:7]
    return got.date().isoformat() == value


def main(argv: list[str]) -> int:
    judges = {"rasd": rasd_ok}
    if "dateparser" in argv:
        import dateparser

        judges[f"dateparser {dateparser.__version__}"] = dateparser_ok
    for name, judge in judges.items():
        t = time.perf_counter()
        misses = [c[0] for c in CASES if not judge(*c)]
        ms = (time.perf_counter() - t) * 1000
        print(f"{name}: {len(CASES) - len(misses)}/{len(CASES)} correct ({ms:.0f} ms)")
        if misses:
            print("  missed: " + " · ".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
