"""Death tolls stated in Arabic news, coded as ACLED codes ``fatalities``.

A toll is a number or number word next to a casualty word («مقتل ثلاثة عناصر», «سقوط 5 قتلى»,
«لقي 3 أشخاص حتفهم»); vague counts («عشرات القتلى») take ACLED's conventional figures
(:data:`VAGUE_COUNTS`, see ``docs/events.md``). Injuries are not counted. Offsets index the
caller's string; matching runs on the folded text of :mod:`rasd.dates`.

Example:
    >>> [(m.text, m.count) for m in find_fatalities("سقوط 5 قتلى في درعا")]
    [('5 قتلى', 5)]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: ACLED's figure for a plural toll with no number («سقوط قتلى»): the same as "several".
PLURAL_COUNT = 10
#: ACLED's codes for vague counts (codebook, "Reported fatalities"): see docs/events.md.
VAGUE_COUNTS = {"عشرات": 12, "مئات": 100, "عدة": 10, "عدد من": 10, "العديد من": 10, "العشرات": 12, "المئات": 100}
_UNITS = {"واحد": 1, "اثنان": 2, "اثنين": 2, "ثلاثة": 3, "ثلاث": 3, "أربعة": 4, "أربع": 4, "خمسة": 5, "خمس": 5,
          "ستة": 6, "ست": 6, "سبعة": 7, "سبع": 7, "ثمانية": 8, "ثماني": 8, "ثمان": 8, "تسعة": 9, "تسع": 9,
          "عشرة": 10, "عشر": 10}
_TENS = {"عشرين": 20, "عشرون": 20, "ثلاثين": 30, "ثلاثون": 30, "أربعين": 40, "أربعون": 40, "خمسين": 50,
         "خمسون": 50, "ستين": 60, "ستون": 60, "سبعين": 70, "سبعون": 70, "ثمانين": 80, "ثمانون": 80, "تسعين": 90,
         "تسعون": 90, "مئة": 100, "مائة": 100}
_TEENS = {"أحد عشر": 11, "إحدى عشرة": 11, "اثنا عشر": 12, "اثني عشر": 12, "اثنتا عشرة": 12, "اثنتي عشرة": 12,
          **{f"{w} عشر": n + 10 for w, n in _UNITS.items() if 3 <= n <= 9},
          **{f"{w} عشرة": n + 10 for w, n in _UNITS.items() if 3 <= n <= 9}}
_DUALS = {"شخصين": 2, "عنصرين": 2, "مدنيين اثنين": 2, "جنديين": 2, "قتيلين": 2, "شهيدين": 2, "طفلين": 2}
_SINGLE = ["شخص", "عنصر", "جندي", "مدني", "طفل", "مواطن", "امرأة", "سيدة", "شاب", "رجل", "مقاتل", "مسلح", "ضابط",
           "شرطي", "قيادي", "قتيل", "شهيد", "قتيلا", "شهيدا"]
_KILLED = ["مقتل", "مصرع", "استشهاد", "وفاة", "قتل", "قُتل", "ارتفاع حصيلة القتلى إلى",
           "ارتفع عدد القتلى إلى", "ارتفعت حصيلة القتلى إلى", "حصيلة القتلى"]
_DEAD = ["قتلى", "قتيلا", "قتيل", "شهداء", "شهيدا", "شهيد", "ضحايا", "ضحية", "حتفهم", "حتفه", "أشخاص", "عناصر",
         "مدنيين", "جنود", "مسلحين", "مقاتلين", "أطفال", "مواطنين"]
# Words a number may carry before it: «ما لا يقل عن», «نحو», «أكثر من» (ACLED keeps the stated figure).
_QUAL = ["على الأقل", "ما لا يقل عن", "نحو", "حوالي", "قرابة", "أكثر من", "أزيد من", "زهاء", "ما يزيد عن"]


def _fold(word: str) -> str:
    from rasd.dates import _f  # the same folding the date rules match on

    return _f(word)


def _alts(words: Sequence[str] | dict[str, int]) -> str:
    folded = sorted({_fold(w) for w in words}, key=len, reverse=True)
    return "|".join(r"\s+".join(map(re.escape, w.split())) for w in folded)


_NUMBER_VALUES: dict[str, int] = {}
_VAGUE_VALUES: dict[str, int] = {}
_FAT_RE: re.Pattern[str] | None = None


def _fatality_pattern() -> re.Pattern[str]:
    """Compiled on first use: the folding comes from rasd.dates, which ``import rasd.acled`` need not load."""
    global _FAT_RE
    if _FAT_RE is None:
        for table in (_UNITS, _TENS, _TEENS):
            _NUMBER_VALUES.update({_fold(w): n for w, n in table.items()})
        _VAGUE_VALUES.update({_fold(w): n for w, n in VAGUE_COUNTS.items()})
        word_num = rf"(?:(?:{_alts(_UNITS)})\s+و\s*)?(?:{_alts({**_TEENS, **_TENS, **_UNITS})})"
        qual = rf"(?:(?:{_alts(_QUAL)})\s+)?"
        letter = r"[^\W\d_]"

        def count(k: str) -> str:  # a figure or a vague count; group names differ per alternative
            return rf"(?:(?P<num{k}>\d{{1,5}}|{word_num})|(?P<vague{k}>{_alts(VAGUE_COUNTS)}))"

        _FAT_RE = re.compile(
            rf"(?<!{letter})(?:[وف]?ب?)?(?P<body>"
            # «مقتل ثلاثة عناصر» · «سقوط 5 قتلى» · «مصرع شخصين» · «مقتل العشرات»
            rf"(?:{_alts(_KILLED)})\s+{qual}(?:{count('')}|(?P<dual>{_alts(_DUALS)})|(?P<one>{_alts(_SINGLE)}))"
            rf"(?!{letter})(?:\s+(?:{_alts(_DEAD)})(?!{letter}))?"
            # «12 قتيلا» · «عشرات القتلى» · «عدد من القتلى»
            rf"|{qual}{count('2')}\s+(?:من\s+)?(?:{_alts(['قتلى', 'قتيلا', 'شهداء', 'شهيدا', 'القتلى'])})(?!{letter})"
            # «لقي 3 أشخاص حتفهم»: the number is a toll only with «حتف»
            rf"|لقي\s+{qual}{count('3')}\s+(?:{letter}+\s+)?حتف{letter}*"
            # «أكثر من 80 شخصا قتلوا»: a figure, its noun, then the passive verb
            rf"|{qual}{count('4')}\s+(?:{letter}+\s+)?(?:قتلوا|قتل|لقوا\s+حتفهم)(?!{letter})"
            rf"|(?P<dual2>{_alts(['قتيلين', 'شهيدين'])})(?!{letter})"
            # «سقوط قتلى», «قتلى وجرحى»: a plural with no figure is ACLED's vague plural (10)
            rf"|(?P<plural>{_alts(['قتلى', 'ضحايا'])})(?!{letter}))")
    return _FAT_RE


@dataclass(frozen=True)
class FatalityMention:
    """A stated death toll: its text and offsets, the figure ACLED would code, and whether it was vague."""

    text: str
    start: int
    end: int
    count: int
    vague: bool = False


def find_fatalities(text: str, start: int = 0, end: int | None = None) -> tuple[FatalityMention, ...]:
    """Death tolls stated in ``text[start:end]``, with offsets into ``text``; injuries are not counted.

    Example:
        >>> t = "مقتل ثلاثة عناصر وسقوط ١٢ قتيلا وعشرات القتلى"
        >>> [(m.text, m.count, m.vague) for m in find_fatalities(t)]
        [('مقتل ثلاثة عناصر', 3, False), ('١٢ قتيلا', 12, False), ('عشرات القتلى', 12, True)]
    """
    from rasd.dates import _FOLD
    from rasd.normalize import normalize

    end = len(text) if end is None else end
    norm = normalize(text[start:end], _FOLD)
    found = []
    for m in _fatality_pattern().finditer(norm.text):
        num = m.group("num") or m.group("num2") or m.group("num3") or m.group("num4")
        vague_text = m.group("vague") or m.group("vague2") or m.group("vague3") or m.group("vague4")
        if num:
            n_text = " ".join(num.split())
            if n_text.isdigit():
                count = int(n_text)
            else:  # «خمسة وعشرين»: units and tens add up
                count = sum(_NUMBER_VALUES.get(p.strip(), 0) for p in re.split(r"\s+و\s*", n_text)) \
                    if n_text not in _NUMBER_VALUES else _NUMBER_VALUES[n_text]
            vague = False
        elif vague_text:
            count, vague = _VAGUE_VALUES[" ".join(vague_text.split())], True
        elif m.group("plural"):
            count, vague = PLURAL_COUNT, True
        elif m.group("dual") or m.group("dual2"):
            count, vague = 2, False
        else:
            count, vague = 1, False
        a, b = norm.to_raw(*m.span("body"))
        found.append(FatalityMention(text[start + a:start + b], start + a, start + b, count, vague))
    return tuple(found)


def event_fatalities(found: Sequence[FatalityMention]) -> int | None:
    """The event's figure: the largest precise toll stated, else the largest vague one, else None.

    The largest, not the sum: a report repeats its toll (headline, lead) and updates it upward
    («ارتفع عدد القتلى إلى 7»); its parts («3 جنود و4 مسلحين») are each below the total.

    Example:
        >>> event_fatalities([FatalityMention("x", 0, 1, 3), FatalityMention("y", 2, 3, 12, vague=True)])
        3
    """
    precise = [f.count for f in found if not f.vague]
    vague = [f.count for f in found if f.vague]
    return max(precise or vague, default=None)
