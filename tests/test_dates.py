"""Arabic date expressions → ACLED event_date/time_precision (rasd.dates)."""

from __future__ import annotations

import datetime

import pytest

from rasd.dates import DAY, MONTH, NEEDS_DOCUMENT_DATE, NEEDS_YEAR, WEEK, find_dates, month_number, resolve_date
from rasd.errors import InputError

DOC = datetime.date(2022, 10, 25)  # a Tuesday

#: (expression, expected day or None, expected precision) with the document dated DOC.
#: Also the benchmark's test set (benchmarks/event_fields.py): change both together.
CASES: list[tuple[str, str | None, int | None]] = [
    # Gregorian (Egyptian/Gulf) month names, ASCII and Hindi digits
    ("15 أغسطس 2022", "2022-08-15", DAY), ("١٥ أغسطس ٢٠٢٢", "2022-08-15", DAY), ("3 يناير 2021", "2021-01-03", DAY),
    ("الخامس من يونيو 1967", "1967-06-05", DAY), ("سبتمبر 2019", "2019-09-15", MONTH),
    ("1 مارس 2020", "2020-03-01", DAY), ("30 ديسمبر 2018", "2018-12-30", DAY),
    # Levantine/Iraqi month names
    ("3 كانون الثاني 2021", "2021-01-03", DAY), ("12 شباط 2022", "2022-02-12", DAY), ("٧ آذار ٢٠٢٠", "2020-03-07", DAY),
    ("20 نيسان 2019", "2019-04-20", DAY), ("9 أيار 2022", "2022-05-09", DAY), ("حزيران 2014", "2014-06-15", MONTH),
    ("تموز 2018", "2018-07-15", MONTH), ("15 آب 2022", "2022-08-15", DAY), ("2 أيلول 2022", "2022-09-02", DAY),
    ("تشرين الأول 2020", "2020-10-15", MONTH), ("11 تشرين الثاني 2021", "2021-11-11", DAY),
    ("25 كانون الأول 2021", "2021-12-25", DAY), ("4 أبريل/نيسان 2022", "2022-04-04", DAY),
    # Maghrebi month names
    ("15 جوان 2021", "2021-06-15", DAY), ("فيفري 2022", "2022-02-15", MONTH), ("2 غشت 2019", "2019-08-02", DAY),
    ("10 جويلية 2020", "2020-07-10", DAY), ("أوت 2021", "2021-08-15", MONTH), ("5 أفريل 2022", "2022-04-05", DAY),
    # Numeric dates
    ("15/08/2022", "2022-08-15", DAY), ("٢٠٢٢/٨/١٥", "2022-08-15", DAY),
    # Relative to the document date
    ("أمس", "2022-10-24", DAY), ("فجر اليوم", "2022-10-25", DAY), ("مساء أمس", "2022-10-24", DAY),
    ("يوم الخميس الماضي", "2022-10-20", DAY), ("الخميس", "2022-10-20", DAY), ("مساء الثلاثاء", "2022-10-25", DAY),
    ("الليلة الماضية", "2022-10-24", DAY), ("أول أمس", "2022-10-23", DAY), ("قبل يومين", "2022-10-23", DAY),
    ("منذ 3 أيام", "2022-10-22", DAY), ("الأسبوع الماضي", "2022-10-18", WEEK),
    ("منتصف الشهر الجاري", "2022-10-15", WEEK), ("الشهر الماضي", "2022-09-15", MONTH),
    ("الاثنين 3 أكتوبر", "2022-10-03", DAY), ("5 تشرين الثاني", "2021-11-05", DAY),
    ("منتصف شهر أيلول", "2022-09-15", WEEK), ("أواخر آذار الماضي", "2022-03-25", WEEK),
    # Not placeable on ACLED's scale
    ("31 شباط", None, None), ("عام 2018", None, None), ("اليوم الثاني", None, None),
]


@pytest.mark.parametrize("text, value, precision", CASES)
def test_resolve_with_document_date(text, value, precision):
    r = resolve_date(text, DOC)
    assert (r.value.isoformat() if r.value else None, r.precision) == (value, precision)
    assert text[r.start:r.end] == r.text
    if value is None:
        assert r.reason


def test_there_are_48_cases():
    assert len(CASES) == 48  # the number the module docstring and docs/events.md quote


@pytest.mark.parametrize("text, reason", [
    ("أمس", NEEDS_DOCUMENT_DATE), ("فجر اليوم", NEEDS_DOCUMENT_DATE), ("يوم الخميس الماضي", NEEDS_DOCUMENT_DATE),
    ("15 آب", NEEDS_YEAR), ("الأسبوع الماضي", NEEDS_DOCUMENT_DATE),
])
def test_relative_expressions_without_document_date_are_unresolved_and_say_why(text, reason):
    r = resolve_date(text, None)
    assert r.value is None and r.precision is None and r.relative and r.reason == reason


def test_absolute_dates_need_no_document_date():
    r = resolve_date("١٥ آب ٢٠٢٢", None)
    assert (r.value, r.precision, r.relative) == (datetime.date(2022, 8, 15), DAY, False)


def test_unrecognised_text_keeps_its_span_and_a_reason():
    r = resolve_date("  درعا ", DOC)
    assert (r.text, r.start, r.end, r.value) == ("درعا", 2, 6, None)
    assert r.reason == "no date expression recognised"


def test_impossible_date_says_so():
    assert resolve_date("31 شباط 2022", None).reason.startswith("impossible date")


def test_find_dates_offsets_index_the_callers_string():
    text = "قُتِلَ ثلاثة في ١٥ آب ٢٠٢٢ بدرعا، وقال المرصد إن القصف تجدد فجرَ اليوم وبـيوم الخميس الماضي"
    found = find_dates(text, DOC)
    assert [text[m.start:m.end] for m in found] == [m.text for m in found]
    assert [(m.text, m.value.isoformat()) for m in found] == [
        ("١٥ آب ٢٠٢٢", "2022-08-15"), ("فجرَ اليوم", "2022-10-25"), ("يوم الخميس الماضي", "2022-10-20")]


def test_find_dates_within_a_span():
    text = "أمس. وفي 3 تموز 2019 قصف."
    (m,) = find_dates(text, DOC, 4, len(text))
    assert (m.text, m.start) == ("3 تموز 2019", text.index("3 تموز"))


def test_a_bare_month_word_is_not_a_date():
    assert find_dates("مارس الضغط على الحكومة", DOC) == ()


def test_month_number():
    assert [month_number(w) for w in ("كانون الثاني", "تشرين الأول", "جانفي", "غشت", "درعا")] == [1, 10, 1, 8, None]


def test_bad_arguments_raise_input_error():
    with pytest.raises(InputError, match="document_date"):
        resolve_date("أمس", "2022-10-25")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="outside the text"):
        find_dates("أمس", DOC, 0, 10)
