"""Offset-preserving Arabic sentence segmentation and word tokenisation.

One implementation serves the dataset builder and the inference library, so a
sentence or a word is cut the same way at training time and at run time. Every
span is a pair of Python string offsets ``(start, end)`` into the caller's text,
end exclusive: ``text[start:end]`` is always the exact surface.

Example:
    >>> from rasd.text import segment
    >>> text = "قصفت قوات النظام بلدة جاسم.\\nوقُتل 3 مدنيين"
    >>> [text[s.start:s.end] for s in segment(text)]
    ['قصفت قوات النظام بلدة جاسم.', 'وقُتل 3 مدنيين']
    >>> [text[a:b] for a, b in segment(text)[1].words]
    ['وقُتل', '3', 'مدنيين']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

Offsets = tuple[int, int]

# Character classes used by the tokeniser.
_SPACE, _LETTER, _DIGIT, _PUNCT, _MARK = 0, 1, 2, 3, 4

# Separators inside a number that keep it one token: 2022.10.25 · 12:48 · 1,000 · 3٫5 · 25/10/2022.
_NUMBER_JOINERS = frozenset(".,:/٫٬")
# Sentence-final punctuation (Arabic full stop U+06D4 included).
_TERMINATORS = frozenset(".!?؟…۔")
# Closing quotes and brackets that belong to the sentence they close.
_CLOSERS = frozenset("\"'»”’)]}›")
# Line separators: a line break always ends a sentence (headlines carry no punctuation).
_LINE_BREAKS = frozenset("\n\r\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85")
# URLs and e-mail addresses stay one token: shredding them helps neither NER nor offsets.
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s\u200b-\u200f\u202a-\u202e\u2066-\u2069]+"
                     r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII | re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}»\"'”’،؛؟"


@lru_cache(maxsize=4096)
def _char_class(ch: str) -> int:
    """Classify one character (cached: news text reuses a small alphabet)."""
    if ch.isspace():
        return _SPACE
    cat = unicodedata.category(ch)
    # Format characters (zero-width spaces, joiners, bidi controls, BOM) separate words
    # like white space: they are invisible and never part of a name.
    if cat == "Cf":
        return _SPACE
    if cat[0] == "L":  # includes tatweel (Lm), which elongates the word it sits in
        return _LETTER
    if cat[0] == "M":
        return _MARK
    if cat[0] == "N":
        return _DIGIT
    return _PUNCT


@dataclass(frozen=True)
class Segment:
    """A sentence of a text: its offsets and the offsets of its words."""

    start: int
    end: int
    words: tuple[Offsets, ...]


def _url_spans(text: str, start: int, end: int) -> list[Offsets]:
    spans = []
    for m in _URL_RE.finditer(text, start, end):
        a, b = m.span()
        while b > a and text[b - 1] in _URL_TRAILING:
            b -= 1
        if b > a:
            spans.append((a, b))
    return spans


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Offsets]:
    """Split ``text[start:end]`` into word spans with offsets into ``text``.

    White space (including NBSP, zero-width and bidi controls) separates words and
    belongs to none; punctuation and symbols are one-character words; digits are
    split from letters; a number keeps its inner ``. , : / ٫ ٬`` separators;
    diacritics and tatweel stay in the word they sit in; URLs and e-mail
    addresses are single words.

    Example:
        >>> t = "بالضفة، في 2022م (12:48)"
        >>> [t[a:b] for a, b in tokenize(t)]
        ['بالضفة', '،', 'في', '2022', 'م', '(', '12:48', ')']
    """
    end = len(text) if end is None else end
    urls = _url_spans(text, start, end) if ("/" in text[start:end] or "@" in text[start:end]) else []
    url_iter = iter(urls)
    next_url = next(url_iter, None)
    words: list[Offsets] = []
    i = start
    while i < end:
        if next_url is not None and i == next_url[0]:
            words.append(next_url)
            i = next_url[1]
            next_url = next(url_iter, None)
            continue
        if next_url is not None and i > next_url[0]:  # a URL that began inside a skipped run
            next_url = next(url_iter, None)
            continue
        cls = _char_class(text[i])
        if cls == _SPACE:
            i += 1
            continue
        limit = end if next_url is None else next_url[0]
        j = i + 1
        if cls == _PUNCT:
            # Marks after a symbol belong to it: the emoji variation selector in «▶️» must
            # not glue onto the next word.
            while j < limit and _char_class(text[j]) == _MARK:
                j += 1
            words.append((i, j))
            i = j
            continue
        if cls == _MARK:  # a stray combining mark after white space starts a word of its own
            cls = _LETTER
        while j < limit:
            c = _char_class(text[j])
            if c == cls or c == _MARK:
                j += 1
            elif (cls == _DIGIT and text[j] in _NUMBER_JOINERS and j + 1 < limit
                  and _char_class(text[j + 1]) == _DIGIT):
                j += 2
            else:
                break
        words.append((i, j))
        i = j
    return words


def _is_initial(text: str, dot: int, line_start: int) -> bool:
    """True when the '.' at ``dot`` ends a one-letter initial («د. محمد», «J. Smith»)."""
    if dot - 1 < line_start or _char_class(text[dot - 1]) != _LETTER:
        return False
    return dot - 2 < line_start or _char_class(text[dot - 2]) in (_SPACE, _PUNCT)


def _sentence_ends(text: str, start: int, end: int) -> list[int]:
    """Offsets where sentences end inside one line ``text[start:end]``."""
    ends = []
    protected = _url_spans(text, start, end) if ("/" in text[start:end] or "@" in text[start:end]) else []
    i = start
    while i < end:
        if text[i] not in _TERMINATORS or any(a <= i < b for a, b in protected):
            i += 1
            continue
        j = i
        while j < end and text[j] in _TERMINATORS:
            j += 1
        while j < end and text[j] in _CLOSERS:
            j += 1
        if j < end:
            nxt = text[j]
            cls = _char_class(nxt)
            # A sentence ends before white space, or before an Arabic letter glued to
            # the stop («المدينة.وقال»); a Latin letter, digit or symbol after it means
            # an abbreviation, a domain or a number (U.S.A · 2022.10.25 · 3.5).
            glued_arabic = cls == _LETTER and "\u0600" <= nxt <= "\u06ff"
            if cls != _SPACE and not glued_arabic:
                i = j
                continue
        if j - i == 1 and text[i] == "." and _is_initial(text, i, start):
            i = j
            continue
        ends.append(j)
        i = j
    return ends


def _trim(text: str, start: int, end: int) -> Offsets:
    while start < end and _char_class(text[start]) == _SPACE:
        start += 1
    while end > start and _char_class(text[end - 1]) == _SPACE:
        end -= 1
    return start, end


def split_sentences(text: str) -> list[Offsets]:
    """Sentence spans of ``text``: cut at sentence punctuation and at every line break.

    Spans are trimmed of white space and never empty; together they cover every
    character of ``text`` that is not white space. There is no split inside
    ``2022.10.25``, ``12:48``, decimals, URLs or one-letter initials.

    Example:
        >>> t = "العنوان بلا نقطة\\nقال د. أحمد إن الهجوم وقع في 2022.10.25. وانتهى؟"
        >>> [t[a:b] for a, b in split_sentences(t)]
        ['العنوان بلا نقطة', 'قال د. أحمد إن الهجوم وقع في 2022.10.25.', 'وانتهى؟']
    """
    spans: list[Offsets] = []
    line_start = 0
    n = len(text)
    while line_start <= n:
        line_end = line_start
        while line_end < n and text[line_end] not in _LINE_BREAKS:
            line_end += 1
        cut = line_start
        for stop in _sentence_ends(text, line_start, line_end) + [line_end]:
            a, b = _trim(text, cut, stop)
            if a < b:
                spans.append((a, b))
            cut = stop
        line_start = line_end + 1
    return spans


def segment(text: str) -> list[Segment]:
    """Sentences of ``text``, each with its word spans (offsets into ``text``).

    Example:
        >>> [len(s.words) for s in segment("هجوم في درعا. اعتقال شخصين")]
        [4, 2]
    """
    return [Segment(a, b, tuple(tokenize(text, a, b))) for a, b in split_sentences(text)]


# Arabic letters proper (hamza to yeh, the Quranic/Persian/Urdu extensions): not digits,
# punctuation or diacritics, which Latin-script text can carry too.
_ARABIC_LETTER_RE = re.compile(r"[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]")


def has_arabic_letters(text: str) -> bool:
    """Whether ``text`` contains at least one Arabic letter (Hindi digits and ، alone do not count).

    Example:
        >>> has_arabic_letters("Clashes in Daraa ٢٠٢٢"), has_arabic_letters("اشتباكات")
        (False, True)
    """
    return _ARABIC_LETTER_RE.search(text) is not None
