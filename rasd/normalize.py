"""Model normalisation of Arabic text, with an exact map back to the raw string.

The encoder sees normalised text (no tashkeel or tatweel, ASCII digits,
optionally folded letters, AraBERT-v0.2-style spaces around punctuation); the
caller sees spans on the raw text. :class:`NormalizedText` keeps, for every
normalised character, the raw range it came from, so any span found on the
normalised text maps back exactly onto the raw string.

Example:
    >>> from rasd.normalize import normalize
    >>> raw = "قُتِلَ ٣ في «درعـــا»"
    >>> norm = normalize(raw)
    >>> norm.text
    'قتل 3 في « درعا »'
    >>> s = norm.text.index("درعا")
    >>> a, b = norm.to_raw(s, s + 4)
    >>> raw[a:b]
    'درعـــا'
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

TATWEEL = "\u0640"
# Arabic diacritics: harakat, tanwin, shadda, sukun, superscript alef, Quranic marks.
_TASHKEEL = frozenset(
    [chr(c) for c in range(0x0610, 0x061B)]
    + [chr(c) for c in range(0x064B, 0x0660)]
    + ["\u0670"]
    + [chr(c) for c in range(0x06D6, 0x06DD)]
    + [chr(c) for c in range(0x06DF, 0x06E5)]
    + [chr(c) for c in range(0x06E7, 0x06E9)]
    + [chr(c) for c in range(0x06EA, 0x06EE)]
)
_DIGITS = {**{chr(0x0660 + i): str(i) for i in range(10)},   # Arabic-Indic ٠-٩
           **{chr(0x06F0 + i): str(i) for i in range(10)}}   # Extended (Persian) ۰-۹
_ALEF = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا"}
_YAA = {"ى": "ي"}
_TAA_MARBUTA = {"ة": "ه"}


@dataclass(frozen=True)
class NormalizationConfig:
    """Which normalisations the model's input goes through (stored in the model config).

    Defaults follow AraBERT v0.2: strip tashkeel and tatweel, map Hindi digits to
    ASCII, space punctuation, no letter folding.
    """

    strip_tashkeel: bool = True
    strip_tatweel: bool = True
    ascii_digits: bool = True
    fold_alef: bool = False
    fold_yaa: bool = False
    fold_taa_marbuta: bool = False
    presentation_forms: bool = True
    space_punctuation: bool = True

    def to_dict(self) -> dict[str, bool]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, bool]) -> NormalizationConfig:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown normalisation option(s): {', '.join(sorted(unknown))}")
        return cls(**data)


@lru_cache(maxsize=8192)
def _map_char(ch: str, config: NormalizationConfig) -> str:
    """The normalised form of one raw character ('' when it is dropped)."""
    if config.strip_tashkeel and ch in _TASHKEEL:
        return ""
    if config.strip_tatweel and ch == TATWEEL:
        return ""
    if config.presentation_forms and ("\ufb50" <= ch <= "\ufdff" or "\ufe70" <= ch <= "\ufeff"):
        # Presentation forms (ﻻ, ﷲ…) come from PDFs and old encoders: NFKC gives the
        # letters, which are normalised in turn.
        folded = unicodedata.normalize("NFKC", ch).strip()
        if folded != ch:
            return "".join(_map_char(c, config) for c in folded)
        return ch
    if config.ascii_digits and ch in _DIGITS:
        return _DIGITS[ch]
    if config.fold_alef and ch in _ALEF:
        return _ALEF[ch]
    if config.fold_yaa and ch in _YAA:
        return _YAA[ch]
    if config.fold_taa_marbuta and ch in _TAA_MARBUTA:
        return _TAA_MARBUTA[ch]
    return ch


def _is_punct(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "PS"


@dataclass(frozen=True)
class NormalizedText:
    """Normalised text plus, per normalised character, the raw range it stands for.

    ``raw_starts[i]``/``raw_ends[i]`` bound the raw characters behind character
    ``i``; a dropped raw character (tashkeel, tatweel) is folded into the range
    of the character before it, so a span never leaves its diacritics behind.
    Spaces inserted around punctuation have an empty raw range.
    """

    text: str
    raw: str
    raw_starts: tuple[int, ...]
    raw_ends: tuple[int, ...]

    def to_raw(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised span ``[start, end)`` to the raw span it came from.

        Example:
            >>> n = normalize("الـمُدُن")
            >>> n.to_raw(0, len(n.text))
            (0, 8)
        """
        if not 0 <= start <= end <= len(self.text):
            raise IndexError(f"span ({start}, {end}) outside normalised text of length {len(self.text)}")
        if start == end:
            pos = self.raw_starts[start] if start < len(self.text) else len(self.raw)
            return pos, pos
        return self.raw_starts[start], self.raw_ends[end - 1]


def normalize(text: str, config: NormalizationConfig | None = None) -> NormalizedText:
    """Normalise ``text`` for the model and keep the offset map back to it.

    Example:
        >>> normalize("٢٠٢٢/١٠").text
        '2022 / 10'
    """
    config = config or NormalizationConfig()
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def emit(chunk: str, a: int, b: int) -> None:
        for c in chunk:
            out.append(c)
            starts.append(a)
            ends.append(b)

    for i, ch in enumerate(text):
        mapped = _map_char(ch, config)
        if not mapped:
            # Dropped character: extend the previous character's raw range over it,
            # unless white space or an inserted space stands in between.
            if ends and ends[-1] == i and out[-1] != " ":
                ends[-1] = i + 1
            continue
        if config.space_punctuation and len(mapped) == 1 and _is_punct(mapped):
            if out and out[-1] != " " and not out[-1].isspace():
                emit(" ", i, i)
            emit(mapped, i, i + 1)
            if i + 1 < len(text) and not text[i + 1].isspace():
                emit(" ", i + 1, i + 1)
            continue
        emit(mapped, i, i + 1)
    return NormalizedText("".join(out), text, tuple(starts), tuple(ends))


def normalize_word(word: str, config: NormalizationConfig | None = None) -> str:
    """Normalise one word for the encoder (no punctuation spacing).

    A word that normalises to nothing (a lone tatweel) is returned unchanged, so
    every word still reaches the model and keeps its place in the sequence.

    Example:
        >>> normalize_word("الـمُدُنِ")
        'المدن'
    """
    config = config or NormalizationConfig()
    mapped = "".join(_map_char(c, config) for c in word)
    return mapped or word
