"""Arabic date expressions resolved to ACLED's ``event_date`` and ``time_precision``.

ACLED codes each event on one day with a precision: 1 the day itself, 2 a week or a few
days (the period's middle day), 3 only the month (its 15th). :func:`resolve_date` reads one
date expression (typically a DATE entity's text); :func:`find_dates` finds them in free text.
Offsets always index the caller's string; matching runs on a folded copy (no tashkeel or
tatweel, ASCII digits, ا for أ/إ/آ, ي for ى, ه for ة) kept aligned by :mod:`rasd.normalize`.

Relative expressions («أمس», «يوم الخميس الماضي», «الشهر الماضي», a day and month without
a year) are resolved against the document's date; a weekday or a year-less date is the most
recent one on or before it, as news reports the past. Without a document date they stay
unresolved and say so; so does anything this module cannot place on ACLED's scale (a bare
year, a time of day, a Hijri date, «اليوم الثاني» counted from another event), and an
impossible date («31 شباط»). No call raises on text: only a wrong argument type does.

Why hand-written rules rather than ``dateparser``: on the 48 expressions of ``tests/test_dates.py``
(``python benchmarks/event_fields.py dateparser``, document dated 2022-10-25) dateparser 1.5.0 gets
18 right, these rules 48; the cases were chosen by people who knew the rules, so 48/48 is no held-out
score. dateparser missed every Levantine/Iraqi and Maghrebi month name, the day parts («فجر اليوم»),
«منتصف», «أواخر» and «يوم الخميس الماضي»; and it reports no offsets or precision.

Example:
    >>> import datetime
    >>> r = resolve_date("يوم الخميس الماضي", datetime.date(2022, 10, 25))
    >>> r.value, r.precision, r.relative
    (datetime.date(2022, 10, 20), 1, True)
    >>> resolve_date("أمس", None).reason
    'relative expression: needs the document date'
    >>> text = "قُتل ثلاثة في ١٥ آب ٢٠٢٢ بدرعا"
    >>> [(text[m.start:m.end], m.value.isoformat()) for m in find_dates(text, None)]
    [('١٥ آب ٢٠٢٢', '2022-08-15')]
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rasd.errors import InputError
from rasd.normalize import NormalizationConfig, normalize, normalize_word

#: ACLED ``time_precision`` codes.
DAY, WEEK, MONTH = 1, 2, 3

# Reasons an expression stays unresolved (value None).
NEEDS_DOCUMENT_DATE = "relative expression: needs the document date"
NEEDS_YEAR = "no year given, and no document date to infer it from"
ONLY_YEAR = "only a year: coarser than ACLED's coarsest precision (a month)"
ONLY_TIME = "a time of day without a day"
EVENT_RELATIVE = "counted from another event in the text, not from the document date"
VAGUE_PERIOD = "a vague period («أشهر», «سنوات»): no day, week or month to code"
HIJRI = "a Hijri (lunar) calendar date: not converted to the Gregorian calendar"
NOT_RECOGNISED = "no date expression recognised"

# The folding used for matching (alignment with the raw text is kept by normalize()).
_FOLD = NormalizationConfig(fold_alef=True, fold_yaa=True, fold_taa_marbuta=True, space_punctuation=False)


def _f(word: str) -> str:
    return normalize_word(word, _FOLD)


def _alt(words: list[str] | dict[str, Any]) -> str:
    """A regex alternation of folded phrases, longest first (spaces match any white space)."""
    folded = sorted({_f(w) for w in words}, key=len, reverse=True)
    return "|".join(r"\s+".join(map(re.escape, w.split())) for w in folded)


def _key(phrase: str) -> str:
    return " ".join(phrase.split())


_MONTH_NAMES = {
    1: ["يناير", "كانون الثاني", "كانون ثاني", "جانفي"],
    2: ["فبراير", "شباط", "فيفري", "فبرير"],
    3: ["مارس", "آذار"],
    4: ["أبريل", "إبريل", "نيسان", "أفريل"],
    5: ["مايو", "أيار", "ماي"],
    6: ["يونيو", "يونيه", "حزيران", "جوان"],
    7: ["يوليو", "يوليه", "تموز", "جويلية", "يوليوز"],
    8: ["أغسطس", "آب", "أوت", "غشت"],
    9: ["سبتمبر", "أيلول", "شتنبر"],
    10: ["أكتوبر", "تشرين الأول", "تشرين أول"],
    11: ["نوفمبر", "تشرين الثاني", "تشرين ثاني", "نونبر"],
    12: ["ديسمبر", "كانون الأول", "كانون أول", "دجنبر"],
}
_MONTHS = {_f(name): month for month, names in _MONTH_NAMES.items() for name in names}
_WEEKDAYS = {_f(w): i for i, w in enumerate(["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"])}
_WEEKDAYS[_f("الإثنين")] = 0
_HIJRI = ["محرم", "صفر", "ربيع الأول", "ربيع الثاني", "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة", "جمادى الثانية",
          "رجب", "شعبان", "رمضان", "شوال", "ذو القعدة", "ذو الحجة", "ذي القعدة", "ذي الحجة"]
_ORD_UNITS = {"الأول": 1, "الحادي": 1, "الثاني": 2, "الثالث": 3, "الرابع": 4, "الخامس": 5, "السادس": 6,
              "السابع": 7, "الثامن": 8, "التاسع": 9}
_ORDINALS = {**{_f(w): n for w, n in _ORD_UNITS.items() if w != "الحادي"}, _f("العاشر"): 10,
             **{_f(f"{w} عشر"): n + 10 for w, n in _ORD_UNITS.items() if w != "الأول"},
             _f("العشرين"): 20, _f("الثلاثين"): 30,
             **{_f(f"{w} والعشرين"): n + 20 for w, n in _ORD_UNITS.items() if w != "الأول"},
             _f("الحادي والثلاثين"): 31}
_NUM_WORDS = {_f(w): n for w, n in [("ثلاثة", 3), ("أربعة", 4), ("خمسة", 5), ("ستة", 6), ("سبعة", 7), ("ثمانية", 8),
                                    ("تسعة", 9), ("عشرة", 10), ("عشر", 10), ("ثلاث", 3), ("أربع", 4), ("خمس", 5)]}
# Day parts: they keep the day's precision («فجر اليوم» is today).
_DAYPARTS = ["فجر", "صباح", "صبيحة", "ظهر", "ظهيرة", "عصر", "مساء", "عشية", "ليلة", "ليل"]
_PAST = ["الماضي", "الماضية", "الفائت", "الفائتة", "المنصرم", "المنصرمة", "السابق", "المنقضي",
         "الفارط", "الفارطة"]  # الفارط: Tunisian
_FUTURE = ["المقبل", "المقبلة", "القادم", "القادمة"]
_CURRENT = ["الجاري", "الجارية", "الحالي", "الحالية"]
# Parts of a month: (day coded, precision): ACLED codes a period by its middle day.
_PARTS = {**dict.fromkeys(map(_f, ["مطلع", "بداية", "أوائل", "مستهل", "أول"]), (5, WEEK)),
          **dict.fromkeys(map(_f, ["منتصف", "أواسط", "وسط"]), (15, WEEK)),
          **dict.fromkeys(map(_f, ["أواخر", "نهاية", "آخر", "أخر"]), (25, WEEK))}
# Days counted from the document date.
_REL_DAYS = {_f(w): d for w, d in [("اليوم", 0), ("أمس", -1), ("الأمس", -1), ("البارحة", -1), ("أول أمس", -2),
                                   ("أول من أمس", -2), ("أمس الأول", -2), ("الليلة الماضية", -1), ("غدا", 1),
                                   ("غداً", 1), ("الغد", 1), ("غد", 1)]}

_L = r"[^\W\d_]"                                  # a letter
_B = rf"(?<!{_L})(?:[وف]?[بل]|[وف])?"             # word start, with an optional proclitic left outside the span
_E = rf"(?!{_L})"                                 # word end
_MONTH = _alt(_MONTHS)
_MONTH_PAIR = rf"(?P<m1>{_MONTH})(?:\s*[/\\(-]\s*(?P<m2>{_MONTH})\s*\)?)?"
_YEAR = r"(?P<year>(?:1[6-9]|20)\d\d)(?!\d)(?:\s*م" + _E + ")?"
_YEAR_TAIL = rf"(?:\s*[،,]?\s*(?:من\s+)?(?:(?:عام|العام|سنه|السنه)\s+)?{_YEAR})"
_DAYNUM = r"(?<![\d/.:-])(?P<day>\d{1,2})(?!\d)"
_DP = rf"(?:(?P<dp>{_alt(_DAYPARTS)})\s+)"
_WD = rf"(?P<wd>{_alt(_WEEKDAYS)})"
_DIR = rf"(?P<dir>{_alt(_PAST + _FUTURE + _CURRENT)})"
_WD_PREFIX = rf"(?:(?:يوم\s+)?{_WD}\s*[،,]?\s*)"

_AGO_UNITS = ["يوم", "يوما", "يومين", "أيام", "أسبوع", "أسبوعا", "أسبوعين", "أسابيع", "شهر", "شهرا", "شهرين", "أشهر",
              "شهور", "سنة", "سنتين", "سنوات", "عام", "عاما", "عامين", "أعوام", "عقد", "عقدين", "عقود", "قرن", "قرون",
              "ساعة", "ساعتين", "ساعات"]
_YEAR_UNITS = {_f(u) for u in ["سنة", "سنتين", "سنوات", "عام", "عاما", "عامين", "أعوام", "عقد", "عقدين", "عقود",
                               "قرن", "قرون"]}
_EIDS = ["الأضحى", "الفطر", "أضحى", "فطر"]
_EVENT_DAYS = [*_ORD_UNITS, "العاشر", "الموالي", "التالي"]

_PATTERNS: dict[str, str] = {
    # «مساء الاثنين 3 أكتوبر» · «15 آب 2022» · «الخامس من يونيو 1967» · «4 أبريل/نيسان الجاري»
    "day_month": rf"{_B}(?P<body>{_DP}?{_WD_PREFIX}?(?:{_DAYNUM}|(?P<ord>{_alt(_ORDINALS)})\s+من)\s*(?:من\s+)?"
                 rf"(?:شهر\s+)?{_MONTH_PAIR}{_E}{_YEAR_TAIL}?(?:\s+{_DIR}{_E})?)",
    # «تموز 2018» · «منتصف شهر أيلول» · «سبتمبر الماضي» · «شهر آب/أغسطس 2018»
    "month": rf"{_B}(?P<body>(?:(?P<part>{_alt(_PARTS)})\s+)?(?:(?P<shahr>شهر)\s+)?{_MONTH_PAIR}{_E}"
             rf"{_YEAR_TAIL}?(?:\s+{_DIR}{_E})?)",
    # «العاشر من الشهر الجاري» · «15 من هذا الشهر»
    "day_of_month": rf"{_B}(?P<body>(?:{_DAYNUM}|(?P<ord>{_alt(_ORDINALS)}))\s+من\s+"
                    rf"(?:(?P<this>هذا)\s+الشهر|الشهر\s+{_DIR}){_E})",
    "dmy": r"(?<![\d/.:-])(?P<body>(?P<day>\d{1,2})\s*(?P<sep>[/.-])\s*(?P<month>\d{1,2})\s*(?P=sep)\s*"
           r"(?P<year>\d{4}))(?![\d]|[/.:-]\d)",
    "ymd": r"(?<![\d/.:-])(?P<body>(?P<year>\d{4})(?P<sep>[/.-])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2}))"
           r"(?![\d]|[/.:-]\d)",
    # «اليوم الثاني» · «لليوم الثاني» · «بعد يومين» · «في اليوم التالي»
    "event_relative": rf"{_B}(?P<body>(?:ال|ل)?يوم\s+(?:{_alt(_EVENT_DAYS)}|نفسه|ذاته){_E}"
                      rf"|بعد\s+(?:(?:نحو|حوالي|اكثر\s+من)\s+)?(?:(?:\d{{1,4}}|{_alt(_NUM_WORDS)})\s+)?"
                      rf"(?:{_alt(_AGO_UNITS)}){_E})",
    # «فجر اليوم» · «يوم أمس الأحد» · «عصر اليوم الإثنين» · «الليلة الماضية»
    "relative_day": rf"{_B}(?P<body>{_DP}?(?:يوم\s+)?(?P<rel>{_alt(_REL_DAYS)}){_E}(?:\s*[،,]?\s*{_WD}{_E})?)",
    # «يوم الخميس الماضي» · «الثلاثاء» · «ليلة الجمعة»
    "weekday": rf"{_B}(?P<body>{_DP}?(?:يوم\s+)?{_WD}{_E}(?:\s+{_DIR}{_E})?)",
    # «الأسبوع الماضي» · «منتصف الشهر الجاري» · «هذا الشهر» · «الأيام الماضية»
    "period": rf"{_B}(?P<body>(?:(?P<part>{_alt(_PARTS)})\s+)?(?P<unit>الاسبوع|الشهر|العام|السنه)\s+{_DIR}{_E}"
              rf"|(?:هذا|هذه)\s+(?P<unit2>الاسبوع|الشهر|العام|السنه){_E}"
              rf"|(?P<few>الايام|الساعات)\s+(?:القليله\s+)?(?:الماضيه|الاخيره|المنصرمه|الفائته){_E})",
    # «قبل يومين» · «منذ 3 أيام» · «قبل أسبوع» · «قبل شهر»
    "ago": rf"{_B}(?P<body>(?:قبل|منذ)\s+(?:(?:نحو|حوالي|قرابه|اكثر\s+من)\s+)?"
           rf"(?:(?P<n>\d{{1,4}}|{_alt(_NUM_WORDS)})\s+)?"
           rf"(?P<unit>{_alt(_AGO_UNITS)}){_E})",
    # «عام 2018» · «مطلع العام 2020»
    "year": rf"{_B}(?P<body>(?:(?:{_alt(_PARTS)})\s+)?(?:عام|العام|سنه|السنه)\s+{_YEAR}"
            rf"|(?:{_alt(_PARTS)})\s+(?:1[6-9]|20)\d\d(?!\d))",
    "hijri": rf"{_B}(?P<body>(?:{_DAYNUM}\s+(?:من\s+)?)?(?:(?P<shahr>شهر)\s+)?(?P<hm>{_alt(_HIJRI)}){_E}"
             rf"(?:\s+(?P<year>1[34]\d\d)(?:\s*هـ?{_E})?)?|عيد\s+(?:{_alt(_EIDS)}){_E})",
}
# Only read inside a DATE entity's text (resolve_date): out of context they are too often no date.
_LENIENT_PATTERNS: dict[str, str] = {
    "time": rf"(?<![\d.:/])(?P<body>(?:الساعه\s+)?\d{{1,2}}[:.]\d{{2}}(?!\d)|الساعه\s+\d{{1,2}}(?!\d)|منتصف\s+الليل{_E}"
            rf"|(?:فجرا|صباحا|ظهرا|عصرا|مساء|ليلا){_E})",
    "bare_year": r"^\s*(?P<body>(?:1[6-9]|20)\d\d)\s*$",
}
_COMPILED = {k: re.compile(v) for k, v in _PATTERNS.items()}
_COMPILED_LENIENT = {k: re.compile(v) for k, v in _LENIENT_PATTERNS.items()}


@dataclass(frozen=True)
class DateMention:
    """A date expression: its offsets, the day ACLED would code and the precision (1 day, 2 week, 3 month).

    ``value``/``precision`` are None when the expression cannot be placed on ACLED's scale;
    ``reason`` then says why. ``relative`` is True when the value depends on the document date.
    ``reason`` may also flag a doubt on a resolved value (a weekday that does not match it).
    """

    text: str
    start: int
    end: int
    value: datetime.date | None
    precision: int | None
    relative: bool
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end,
                "value": self.value.isoformat() if self.value else None, "precision": self.precision,
                "relative": self.relative, "reason": self.reason}


def month_number(word: str) -> int | None:
    """The Gregorian month a month name stands for (any spelling this module reads), else None.

    Example:
        >>> month_number("آب"), month_number("جوان"), month_number("درعا")
        (8, 6, None)
    """
    return _MONTHS.get(_key(_f(word)))


#: What :func:`resolve_date` returns: the same record as a found mention.
DateResolution = DateMention

# What a handler returns: (value, precision, relative, reason).
_Parsed = tuple[datetime.date | None, int | None, bool, str | None]


def _unresolved(reason: str, relative: bool = False) -> _Parsed:
    return None, None, relative, reason


def _month_of(m: re.Match[str]) -> tuple[int, str | None]:
    """The month of a «آب/أغسطس» pair; a pair that disagrees is flagged."""
    first = _MONTHS[_key(m.group("m1"))]
    second = m.group("m2")
    if second and _MONTHS[_key(second)] != first:
        return first, f"the two month names disagree ({m.group('m1')} / {second}): the first is used"
    return first, None


def _clamp(value: datetime.date, doc: datetime.date | None) -> datetime.date:
    """A period's middle day, but never after the report that describes it."""
    return min(value, doc) if doc is not None else value


def _check_day(year: int, month: int, day: int) -> str | None:
    if not 1 <= month <= 12:
        return f"impossible date: there is no month {month}"
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return f"impossible date: month {month} of {year} has {last} days, not {day}"
    return None


def _infer_year(month: int, day: int, doc: datetime.date, direction: str) -> int:
    """The year of the most recent such day not after ``doc`` (after it for «المقبل»)."""
    year = doc.year
    if direction == "future":
        while _check_day(year, month, day) or datetime.date(year, month, day) <= doc:
            year += 1
        return year
    strict = direction == "past"  # «15 آب الماضي»: the August before the current month
    for _ in range(9):  # 29 February: at most eight years back to a leap year
        if not _check_day(year, month, day):
            d = datetime.date(year, month, day)
            if d <= doc and not (strict and (year, month) == (doc.year, doc.month)):
                return year
        year -= 1
    raise AssertionError("unreachable: a valid day recurs within nine years")


def _direction(m: re.Match[str]) -> str | None:
    word = m.groupdict().get("dir")
    if not word:
        return None
    if _key(word) in {_f(w) for w in _PAST}:
        return "past"
    if _key(word) in {_f(w) for w in _FUTURE}:
        return "future"
    return "current"


def _weekday_note(value: datetime.date, m: re.Match[str]) -> str | None:
    wd = m.groupdict().get("wd")
    if wd and _WEEKDAYS[_key(wd)] != value.weekday():
        return f"the weekday named ({wd}) is not that of {value.isoformat()}: check the document date"
    return None


def _day_month(m: re.Match[str], doc: datetime.date | None) -> _Parsed:
    month, note = _month_of(m)
    day = int(m.group("day")) if m.group("day") else _ORDINALS[_key(m.group("ord"))]
    direction = _direction(m)
    if m.group("year"):
        year = int(m.group("year"))
        bad = _check_day(year, month, day)
        if bad:
            return _unresolved(bad)
        value = datetime.date(year, month, day)
        return value, DAY, False, note or _weekday_note(value, m)
    if day < 1 or day > calendar.monthrange(2000, month)[1]:  # 2000 is a leap year: the longest month
        return _unresolved(f"impossible date: month {month} never has day {day}")
    if doc is None:
        return _unresolved(NEEDS_YEAR, relative=True)
    if direction == "current":
        year = doc.year
        bad = _check_day(year, month, day)
        if bad:
            return _unresolved(bad, relative=True)
    else:
        year = _infer_year(month, day, doc, direction or "recent")
    value = datetime.date(year, month, day)
    return value, DAY, True, note or _weekday_note(value, m)


def _month(m: re.Match[str], doc: datetime.date | None, lenient: bool) -> _Parsed | None:
    part, shahr, direction = m.group("part"), m.group("shahr"), _direction(m)
    if not (lenient or part or shahr or m.group("year") or m.group("m2") or direction):
        return None  # a bare «آب» or «مارس» in running text is too often a word, not a month
    month, note = _month_of(m)
    day, precision = _PARTS[_key(part)] if part else (15, MONTH)
    if m.group("year"):
        return datetime.date(int(m.group("year")), month, day), precision, False, note
    if doc is None:
        return _unresolved(NEEDS_YEAR, relative=True)
    if direction == "future":
        year = doc.year if month > doc.month else doc.year + 1
        return datetime.date(year, month, day), precision, True, note
    if direction == "past":
        year = doc.year if month < doc.month else doc.year - 1
    elif direction == "current":
        year = doc.year
    else:
        year = doc.year if month <= doc.month else doc.year - 1
    return _clamp(datetime.date(year, month, day), doc), precision, True, note


def _day_of_month(m: re.Match[str], doc: datetime.date | None) -> _Parsed:
    if doc is None:
        return _unresolved(NEEDS_DOCUMENT_DATE, relative=True)
    day = int(m.group("day")) if m.group("day") else _ORDINALS[_key(m.group("ord"))]
    shift = {"past": -1, "future": 1, "current": 0}[_direction(m) or "current"]
    year, month = doc.year + (doc.month - 1 + shift) // 12, (doc.month - 1 + shift) % 12 + 1
    bad = _check_day(year, month, day)
    if bad:
        return _unresolved(bad, relative=True)
    return datetime.date(year, month, day), DAY, True, None


def _numeric(m: re.Match[str], doc: datetime.date | None) -> _Parsed:
    year, month, day = int(m.group("year")), int(m.group("month")), int(m.group("day"))
    bad = _check_day(year, month, day)
    if bad:
        return _unresolved(bad)
    return datetime.date(year, month, day), DAY, False, None


def _relative_day(m: re.Match[str], doc: datetime.date | None) -> _Parsed:
    if doc is None:
        return _unresolved(NEEDS_DOCUMENT_DATE, relative=True)
    value = doc + datetime.timedelta(days=_REL_DAYS[_key(m.group("rel"))])
    return value, DAY, True, _weekday_note(value, m)


def _weekday(m: re.Match[str], doc: datetime.date | None) -> _Parsed:
    if doc is None:
        return _unresolved(NEEDS_DOCUMENT_DATE, relative=True)
    target = _WEEKDAYS[_key(m.group("wd"))]
    direction = _direction(m)
    if direction == "future":
        return doc + datetime.timedelta(days=(target - doc.weekday() - 1) % 7 + 1), DAY, True, None
    # «الخميس» is the latest Thursday on or before the report; «الخميس الماضي» one strictly before it.
    back = (doc.weekday() - target) % 7
    if back == 0 and direction == "past":
        back = 7
    return doc - datetime.timedelta(days=back), DAY, True, None


def _period(m: re.Match[str], doc: datetime.date | None) -> _Parsed:
    unit = m.group("unit") or m.group("unit2")
    if unit in ("العام", "السنه"):
        return _unresolved(ONLY_YEAR, relative=True)
    if doc is None:
        return _unresolved(NEEDS_DOCUMENT_DATE, relative=True)
    direction = _direction(m) or "current"  # «هذا الأسبوع»
    if m.group("few") == "الساعات":
        return doc, DAY, True, None
    if m.group("few"):  # «الأيام الماضية»: a few days before the report
        return doc - datetime.timedelta(days=3), WEEK, True, None
    if unit == "الاسبوع":
        shift = {"past": -7, "future": 7, "current": 0}[direction]
        return doc + datetime.timedelta(days=shift), WEEK, True, None
    year, month = doc.year, doc.month + {"past": -1, "future": 1, "current": 0}[direction]
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    day, precision = _PARTS[_key(m.group("part"))] if m.group("part") else (15, MONTH)
    value = datetime.date(year, month, day)
    return (value if direction == "future" else _clamp(value, doc)), precision, True, None


def _ago(m: re.Match[str], doc: datetime.date | None) -> _Parsed:
    unit = _key(m.group("unit"))
    n_text = m.group("n")
    n = (int(n_text) if n_text.isdigit() else _NUM_WORDS[_key(n_text)]) if n_text else None
    dual = {"يومين": 2, "اسبوعين": 2, "شهرين": 2, "ساعتين": 2}
    if unit in _YEAR_UNITS:
        return _unresolved(ONLY_YEAR, relative=True)
    if n is None and unit in ("اسابيع", "اشهر", "شهور"):
        return _unresolved(VAGUE_PERIOD, relative=True)
    if doc is None:
        return _unresolved(NEEDS_DOCUMENT_DATE, relative=True)
    count = n if n is not None else dual.get(unit, 1)
    if unit.startswith("ساع"):
        return doc, DAY, True, None
    if unit in ("يوم", "يوما", "يومين", "ايام"):
        if unit == "ايام" and n is None:  # «قبل أيام»: a few days
            return doc - datetime.timedelta(days=3), WEEK, True, None
        return doc - datetime.timedelta(days=count), DAY, True, None
    if unit in ("اسبوع", "اسبوعا", "اسبوعين", "اسابيع"):
        return doc - datetime.timedelta(days=7 * count), WEEK, True, None
    back = doc - datetime.timedelta(days=30 * count)
    return datetime.date(back.year, back.month, 15), MONTH, True, None


_HANDLERS: dict[str, Callable[[re.Match[str], datetime.date | None], _Parsed]] = {
    "day_month": _day_month, "day_of_month": _day_of_month, "dmy": _numeric, "ymd": _numeric,
    "relative_day": _relative_day,
    "weekday": _weekday, "period": _period, "ago": _ago,
    "event_relative": lambda m, doc: _unresolved(EVENT_RELATIVE),
    "year": lambda m, doc: _unresolved(ONLY_YEAR),
    "hijri": lambda m, doc: _unresolved(HIJRI),
    "time": lambda m, doc: _unresolved(ONLY_TIME),
    "bare_year": lambda m, doc: _unresolved(ONLY_YEAR),
}


def _check_args(text: object, document_date: object, start: object = 0, end: object = None) -> tuple[
        str, datetime.date | None, int, int]:
    if not isinstance(text, str):
        raise InputError(f"date text must be a str, got {type(text).__name__}")
    if isinstance(document_date, datetime.datetime):
        document_date = document_date.date()
    elif document_date is not None and not isinstance(document_date, datetime.date):
        raise InputError(f"document_date must be a datetime.date or None, got {type(document_date).__name__} "
                         f"{document_date!r} (parse a string with datetime.date.fromisoformat)")
    end = len(text) if end is None else end
    for name, v in (("start", start), ("end", end)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise InputError(f"{name} must be an int, got {type(v).__name__}")
    if not 0 <= start <= end <= len(text):  # type: ignore[operator]
        raise InputError(f"span ({start}, {end}) is outside the text of length {len(text)}")
    return text, document_date, start, end  # type: ignore[return-value]


def _scan(text: str, doc: datetime.date | None, start: int, end: int, lenient: bool) -> list[tuple[DateMention, int]]:
    """Every candidate mention in ``text[start:end]`` with its pattern's rank (overlaps included)."""
    norm = normalize(text[start:end], _FOLD)
    patterns = list(_COMPILED.items()) + (list(_COMPILED_LENIENT.items()) if lenient else [])
    found: list[tuple[DateMention, int]] = []
    for rank, (kind, pattern) in enumerate(patterns):
        for m in pattern.finditer(norm.text):
            a, b = m.span("body")
            if a == b:
                continue
            if kind == "hijri" and not (lenient or m.group("day") or m.group("shahr") or m.group("year")
                                        or m.group("body").startswith("عيد")):
                continue  # «رمضان», «رجب», «صفر» alone are names and words too
            parsed = _month(m, doc, lenient) if kind == "month" else _HANDLERS[kind](m, doc)
            if parsed is None:
                continue
            ra, rb = norm.to_raw(a, b)
            ra, rb = ra + start, rb + start
            found.append((DateMention(text[ra:rb], ra, rb, *parsed), rank))
    return found


def find_dates(text: str, document_date: datetime.date | None, start: int = 0,
               end: int | None = None) -> tuple[DateMention, ...]:
    """Date expressions in ``text[start:end]``, in text order, with offsets into ``text``.

    Overlapping candidates keep the longest («مساء الاثنين 3 أكتوبر» over «الاثنين»). A bare
    month name with no day, year, «شهر» or qualifier is not taken: «آب» and «مارس» are also
    words («أب», «مارَس»).

    Example:
        >>> import datetime
        >>> t = "وقال المرصد إن الاشتباكات بدأت فجر أمس، بعد هجوم يوم الخميس الماضي"
        >>> [(m.text, str(m.value)) for m in find_dates(t, datetime.date(2022, 10, 25))]
        [('فجر أمس', '2022-10-24'), ('يوم الخميس الماضي', '2022-10-20')]
    """
    text, doc, start, end = _check_args(text, document_date, start, end)
    candidates = sorted(_scan(text, doc, start, end, lenient=False),
                        key=lambda c: (c[0].start, -(c[0].end - c[0].start), c[1]))
    chosen: list[DateMention] = []
    for mention, _ in sorted(candidates, key=lambda c: (-(c[0].end - c[0].start), c[0].start, c[1])):
        if all(mention.end <= o.start or mention.start >= o.end for o in chosen):
            chosen.append(mention)
    return tuple(sorted(chosen, key=lambda m: m.start))


def resolve_date(text: str, document_date: datetime.date | None) -> DateResolution:
    """Resolve one date expression (e.g. a DATE entity's text) to ACLED's day and precision.

    The result's offsets are those of the part of ``text`` that was read («ليلة أمس» in
    «ساعات متأخرة من ليلة أمس»); where several expressions are present the most precise
    resolved one wins. Nothing recognised: the whole (stripped) text, value None and a reason.

    Example:
        >>> import datetime
        >>> r = resolve_date("منتصف شهر أيلول", datetime.date(2022, 8, 1))
        >>> r.value, r.precision
        (datetime.date(2021, 9, 15), 2)
        >>> resolve_date("31 شباط", None).reason
        'impossible date: month 2 never has day 31'
    """
    text, doc, _, _ = _check_args(text, document_date)
    found = [c for c, _ in sorted(_scan(text, doc, 0, len(text), lenient=True), key=lambda c: c[1])]
    # A candidate inside a longer one is part of it: «شباط 2022» in «31 شباط 2022», «اليوم» in «اليوم الثاني».
    candidates = [c for c in found if not any(o.start <= c.start and c.end <= o.end
                                              and o.end - o.start > c.end - c.start for o in found)]
    if candidates:
        resolved = [c for c in candidates if c.value is not None]
        pool = resolved or candidates
        return min(pool, key=lambda c: (c.precision or 9, -(c.end - c.start), c.start))
    a = len(text) - len(text.lstrip())
    b = len(text.rstrip())
    return DateMention(text[a:b], a, max(a, b), None, None, False, NOT_RECOGNISED)
