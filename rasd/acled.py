"""ACLED event records: one row per event per document, in the codebook's columns, with evidence.

The extractor finds incident *mentions* (a sentence and one of its sub-event types). A record
merges the mentions of one incident in one document (headline, lead, a later recap) and fills
ACLED's fields from the text: the event date resolved against the document's date, the place
geocoded against the offline gazetteer, the actors, the fatalities. Every field keeps the
offsets of the text it came from, so a coder can check it. ``docs/events.md`` gives each
field's rules.

Example:
    >>> rec = EventRecord(source="d1", sub_event_type="armed_clash", event_type="battles", score=0.9)
    >>> acled_row(rec)["event_type"], acled_row(rec)["disorder_type"]
    ('Battles', 'Political violence')
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TextIO

from rasd.fatalities import event_fatalities, find_fatalities
from rasd.schema import EVENT_TYPES, SUB_EVENT_TYPES

if TYPE_CHECKING:
    from rasd.gazetteer import Gazetteer, GeoResolution
    from rasd.results import Document, Entity, Event

#: ACLED's names for rasd's ids, as the codebook writes them in its CSV.
EVENT_TYPE_NAMES = {t.id: t.name_en for t in EVENT_TYPES}
SUB_EVENT_TYPE_NAMES = {t.id: t.name_en for t in SUB_EVENT_TYPES}

# ACLED's disorder types (codebook 2023): mob violence and excessive force against protesters are
# both political violence and demonstrations.
_DISORDER = {"battles": "Political violence", "explosions_remote_violence": "Political violence",
             "violence_against_civilians": "Political violence", "protests": "Demonstrations",
             "riots": "Demonstrations", "strategic_developments": "Strategic developments"}
_BOTH = {"mob_violence", "excessive_force_against_protesters"}

# Civilians as the target of a remote-violence event: ACLED marks such events "Civilian targeting".
_CIVILIANS = re.compile(r"مدني|مواطن|أطفال|اطفال|طفل|نساء|امرأة|سيدة|مصلين|مدرسة|مستشفى|سوق")
# A word right before an actor that marks it as the one acted upon, not the one acting.
_TARGET_CUE = re.compile(r"(?:ضد|على|بحق|استهدف\S*|استهداف|اعتقال|اعتقلت?|اختطاف|اختطفت?|اغتيال|مقتل|إصابة|"
                         r"عناصر من|عنصر من|من عناصر|قياديا? في|قيادي في)\s*$")
# A killing, arrest or abduction a few words before a person: that person is its victim
# («قتل الرهينة الياباني الثاني كينجي غوتو»), even with words between.
_VICTIM_CUE = re.compile(r"(?:قتل|مقتل|اغتيال|اغتال\S*|إعدام|أعدم\S*|تصفية|ذبح|اعتقال|توقيف|خطف|اختطاف|احتجاز)"
                         r"(?:\s+\S+){0,4}\s*$")
# The killing verbs among the victim cues (an arrest or abduction is no toll).
_KILLED_PERSON = re.compile(r"(?:قتل|مقتل|اغتيال|اغتال\S*|إعدام|أعدم\S*|تصفية|ذبح|استشهاد)(?:\s+\S+){0,4}\s*$")
# News media and reporting phrases: who tells of an event is not a party to it.
_MEDIUM = re.compile(r"(?:^|\s|^ل)(?:ال)?(?:جزيرة|رويترز|فرانس\s*برس|أسوشيتد|اسوشيتد|سانا|بي\s*بي\s*سي|العربية|"
                     r"سكاي\s*نيوز|الأناضول|الاناضول|وكالة|قناة|صحيفة|تلفزيون|التلفزيون|إذاعة|موقع|أ\.?\s?ف\.?\s?ب|"
                     r"شبيغل|نيوزويك|نيويورك\s*تايمز|واشنطن\s*بوست|غارديان|سي\s*إن\s*إن)")
# Bodies that count, condemn or investigate (the UN, ministries of health, rights groups, prosecutors):
# they are named in incident reports but are not ACLED actors of the incident.
_OBSERVER = re.compile(r"^ل?(?:ال)?(?:أمم\s+المتحدة|امم\s+المتحدة|مجلس\s+الأمن|وزارة\s+الصحة|منظمة|هيومن|"
                       r"العفو\s+الدولية|مرصد|المرصد|مكتب\s+المدعي|المدعي\s+العام|الصليب\s+الأحمر|مفوضية|"
                       r"اليونيسف|يونيسف|لجنة|البنتاغون)")
_REPORTING_CUE = re.compile(r"(?:بحسب|حسب|وفق|وفقا\s+ل|نقلا\s+عن|قال\S*|أفاد\S*|ذكر\S*|مصدر\S*|مراسل\S*)"
                            r"(?:\s+\S+){0,2}\s*$")
# The unambiguous target cues may stand a word or two before the target («استهداف منشآت أرامكو»).
_NEAR_TARGET_CUE = re.compile(r"(?:ضد|بحق|استهدف\S*|استهداف|هجوم\s+على|هجمات\s+على|اعتقال|اختطاف|اغتيال|مقتل)"
                              r"(?:\s+\S+){0,2}\s*$")
# «من قبل X», «على يد X»: a passive sentence names its agent after the verb.
_AGENT_CUE = re.compile(r"(?:من قبل|على يد|على أيدي|بواسطة)\s*$")
_DAY_GAP = 1  # mentions whose resolved dates differ by more days than this are different events

#: The CSV's columns: ACLED's, in the codebook's order, then rasd's evidence columns.
ACLED_COLUMNS = ("event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
                 "sub_event_type", "actor1", "assoc_actor_1", "actor2", "assoc_actor_2", "civilian_targeting",
                 "country", "admin1", "admin2", "location", "latitude", "longitude", "geo_precision",
                 "source", "notes", "fatalities")
EVIDENCE_COLUMNS = ("score", "mentions", "country_code", "geonameid", "event_date_text", "event_date_offsets",
                    "date_reason", "location_text",
                    "location_offsets", "geo_reason", "actor1_offsets", "actor2_offsets", "fatalities_text",
                    "fatalities_offsets")


@dataclass(frozen=True)
class Evidence:
    """Where a field's value came from: the text and its offsets into the document."""

    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class EventRecord:
    """One event as ACLED codes it; ``mentions`` are the offsets of every supporting sentence.

    ``sources`` lists the documents that report it (one, unless records were merged across
    documents with :func:`merge_records`).
    """

    source: str
    sub_event_type: str
    event_type: str
    score: float
    mentions: tuple[tuple[int, int], ...] = ()
    notes: str = ""
    event_date: datetime.date | None = None
    time_precision: int | None = None
    date_reason: str | None = None
    date_evidence: Evidence | None = None
    actor1: str | None = None
    assoc_actor_1: tuple[str, ...] = ()
    actor2: str | None = None
    assoc_actor_2: tuple[str, ...] = ()
    actor1_evidence: Evidence | None = None
    actor2_evidence: Evidence | None = None
    civilian_targeting: bool = False
    country: str | None = None
    iso: str | None = None
    admin1: str | None = None
    admin2: str | None = None
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    geo_precision: int | None = None
    geonameid: int | None = None
    geo_reason: str | None = None
    location_evidence: Evidence | None = None
    fatalities: int | None = None
    fatalities_evidence: tuple[Evidence, ...] = ()
    sources: tuple[str, ...] = field(default=())

    @property
    def disorder_type(self) -> str:
        if self.sub_event_type in _BOTH:
            return "Political violence; Demonstrations"
        return _DISORDER.get(self.event_type, "")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            if isinstance(v, Evidence):
                v = v.to_dict()
            elif isinstance(v, datetime.date):
                v = v.isoformat()
            elif isinstance(v, tuple):
                v = [x.to_dict() if isinstance(x, Evidence) else list(x) if isinstance(x, tuple) else x for x in v]
            out[k] = v
        out["disorder_type"] = self.disorder_type
        out["sources"] = list(self.sources or (self.source,))
        return out


# ---------------------------------------------------------------- mentions → records


@dataclass(frozen=True)
class _Mention:
    event: Event
    date: Any  # rasd.dates.DateMention | None: the date stated in the sentence itself
    place: GeoResolution | None
    place_entity: Entity | None


def _sentence_dates(doc: Document, ev: Event) -> Any:
    """The most precise date stated in a mention's sentence: its DATE entities first, else any expression."""
    from rasd.dates import find_dates, resolve_date

    found = []
    for e in ev.dates:
        r = resolve_date(e.text, doc.date)
        found.append(replace(r, start=e.start + r.start, end=e.start + r.end) if r.value else r)
    resolved = [r for r in found if r.value is not None]
    if not resolved:
        resolved = [m for m in find_dates(doc.text, doc.date, ev.start, ev.end) if m.value is not None]
    if resolved:
        return min(resolved, key=lambda r: (r.precision, r.start))
    return found[0] if found else None


def _place(doc: Document, ev: Event, gazetteer: Gazetteer) -> tuple[GeoResolution | None, Entity | None]:
    if not ev.locations:
        return None, None
    context = [e.text for e in doc.entities if e.label == "LOC" and not (ev.start <= e.start < ev.end)]
    res = gazetteer.geocode([e.text for e in ev.locations], context=context)
    entity = next((e for e in ev.locations if e.text == res.mention), ev.locations[0])
    return res, entity


def _conflict(a: _Mention, b: _Mention) -> bool:
    """Two mentions of one type are different incidents when they are placed or dated apart."""
    if a.date is not None and b.date is not None and a.date.value and b.date.value:
        if abs((a.date.value - b.date.value).days) > _DAY_GAP:
            return True
    if a.place is not None and b.place is not None and a.place.resolved and b.place.resolved:
        pa, pb = a.place, b.place
        if pa.geonameid != pb.geonameid and pa.geo_precision == 1 and pb.geo_precision == 1:
            return True  # two distinct towns
        if pa.admin1 and pb.admin1 and pa.admin1 != pb.admin1:
            return True  # two provinces
    return False


def _actors(ev: Event, text: str) -> tuple[list[Entity], list[Entity]]:
    """Split a sentence's actor entities into those acting and those acted upon (rules, see docs/events.md)."""
    acting, target = [], []
    for e in ev.actors:
        before = text[max(ev.start, e.start - 30):e.start]
        if _MEDIUM.search(e.text) or _OBSERVER.search(e.text) or _REPORTING_CUE.search(before):
            continue  # a source or an observer, not a party
        if _AGENT_CUE.search(before):
            acting.insert(0, e)
        elif (_TARGET_CUE.search(before) or _NEAR_TARGET_CUE.search(text[max(ev.start, e.start - 40):e.start])
              or (e.label == "PER" and _VICTIM_CUE.search(text[max(ev.start, e.start - 40):e.start]))):
            target.append(e)
        else:
            acting.append(e)
    return acting, target


def _fill(doc: Document, group: list[_Mention], only_event: bool = False) -> EventRecord:
    first = group[0].event
    rec = EventRecord(source=str(doc.id), sub_event_type=first.sub_event_type, event_type=first.event_type,
                      score=max(m.event.score for m in group), mentions=tuple((m.event.start, m.event.end)
                                                                               for m in group),
                      notes=" … ".join(doc.text[m.event.start:m.event.end].strip() for m in group))
    # Date: the most precise stated in the mentions; else the lead's; else the document's own date.
    dated = [m.date for m in group if m.date is not None and m.date.value is not None]
    where = "stated in the event's sentences"
    if not dated and doc.sentences:  # a news item often dates its story once, in the lead
        from rasd.dates import find_dates

        lead = doc.sentences[0]
        dated, where = [d for d in find_dates(doc.text, doc.date, lead.start, lead.end) if d.value], "the lead's date"
    if dated:
        d = min(dated, key=lambda r: (r.precision, r.start))
        how = "relative to the document's date" if d.relative else "absolute"
        rec = replace(rec, event_date=d.value, time_precision=d.precision,
                      date_evidence=Evidence(d.text, d.start, d.end),
                      date_reason=f"{where}, {how}" + (f"; {d.reason}" if d.reason else ""))
    elif doc.date is not None:
        rec = replace(rec, event_date=doc.date, time_precision=2,
                      date_reason="no date in the event's sentences: the document's date, within a week")
    else:
        unresolved = next((m.date for m in group if m.date is not None), None)
        rec = replace(rec, date_reason=(unresolved.reason if unresolved else "no date in the event's sentences")
                      + "; no document date given")
    # Place: the most precise resolved mention; an unresolved one keeps its text and reason.
    placed = [m for m in group if m.place is not None]
    if placed:
        best = min(placed, key=lambda m: (not m.place.resolved, m.place.geo_precision or 9))
        p, ent = best.place, best.place_entity
        rec = replace(rec, country=p.country, iso=p.country_code, admin1=p.admin1, admin2=p.admin2,
                      location=p.location, latitude=p.latitude, longitude=p.longitude, geo_precision=p.geo_precision,
                      geonameid=p.geonameid, geo_reason=p.reason,
                      location_evidence=Evidence(ent.text, ent.start, ent.end) if ent else None)
    else:
        rec = replace(rec, geo_reason="no place named in the event's sentences")
    # Actors: acting ones → actor1 (+ associated), acted-upon ones → actor2 (+ associated).
    acting, target = [], []
    for m in group:
        a, t = _actors(m.event, doc.text)
        acting += [e for e in a if e.text not in {x.text for x in acting}]
        target += [e for e in t if e.text not in {x.text for x in target}]
    target = [e for e in target if e.text not in {x.text for x in acting[:1]}]
    if len(acting) > 1 and not target and first.event_type in ("battles", "explosions_remote_violence"):
        target = [acting.pop(1)]  # two sides named, no cue: the second is the one attacked
    if acting:
        rec = replace(rec, actor1=acting[0].text, assoc_actor_1=tuple(e.text for e in acting[1:]),
                      actor1_evidence=Evidence(acting[0].text, acting[0].start, acting[0].end))
    if target:
        rec = replace(rec, actor2=target[0].text, assoc_actor_2=tuple(e.text for e in target[1:]),
                      actor2_evidence=Evidence(target[0].text, target[0].start, target[0].end))
    # Fatalities: the figure the mentions state (not a sum over repeats of the same figure); in a
    # document with this one event, a toll anywhere in it (a wire item states it in its own clause).
    found = [f for m in group for f in find_fatalities(doc.text, m.event.start, m.event.end)]
    if not found and only_event:
        found = list(find_fatalities(doc.text))
    fatalities = event_fatalities(found)
    if fatalities is None:
        # «اغتيال خاشقجي», «مقتل سليماني»: a named person killed is a toll of one each.
        killed = {e.text for e in target if e.label == "PER"
                  and _KILLED_PERSON.search(doc.text[max(first.start, e.start - 40):e.start])}
        fatalities = len(killed) or None
    rec = replace(rec, fatalities=fatalities,
                  fatalities_evidence=tuple(Evidence(f.text, f.start, f.end) for f in found))
    civilians = first.event_type == "violence_against_civilians" or first.sub_event_type == \
        "excessive_force_against_protesters" or (first.event_type == "explosions_remote_violence" and any(
            _CIVILIANS.search(doc.text[m.event.start:m.event.end]) for m in group))
    return replace(rec, civilian_targeting=civilians)


def build_records(doc: Document, gazetteer: Gazetteer | None = None) -> tuple[EventRecord, ...]:
    """The document's event records: mentions of one incident merged, fields filled from the text.

    Mentions of the same sub-event type are merged unless they are dated more than a day apart
    or placed in different towns or provinces.

    Example:
        >>> records = build_records(extractor("…", dates="2022-08-01"))  # doctest: +SKIP
    """
    if gazetteer is None:
        from rasd.gazetteer import default_gazetteer

        gazetteer = default_gazetteer()
    mentions = []
    for ev in doc.events:
        place, entity = _place(doc, ev, gazetteer)
        mentions.append(_Mention(ev, _sentence_dates(doc, ev), place, entity))
    groups: list[list[_Mention]] = []
    for m in mentions:
        home = next((g for g in groups if g[0].event.sub_event_type == m.event.sub_event_type
                     and not any(_conflict(m, o) for o in g)), None)
        if home is None:
            groups.append([m])
        else:
            home.append(m)
    return tuple(_fill(doc, g, only_event=len(groups) == 1) for g in groups)


# ---------------------------------------------------------------- across documents


def _same_event(a: EventRecord, b: EventRecord) -> bool:
    if a.sub_event_type != b.sub_event_type or a.event_date is None or b.event_date is None:
        return False
    if abs((a.event_date - b.event_date).days) > _DAY_GAP:
        return False
    if a.geonameid is not None and b.geonameid is not None:
        return a.geonameid == b.geonameid
    return a.location is not None and a.location == b.location


def merge_records(records: Sequence[EventRecord]) -> list[EventRecord]:
    """The same event reported by several documents (same type, dates within a day, same place) as one record.

    The merged record keeps the first report's fields, the most precise date and place among the
    reports, the largest stated fatality figure, and every source in ``sources``.

    Example:
        >>> a = EventRecord("d1", "armed_clash", "battles", 0.9, event_date=datetime.date(2022, 8, 1), geonameid=7)
        >>> b = replace(a, source="d2", event_date=datetime.date(2022, 8, 2))
        >>> [r.sources for r in merge_records([a, b])]
        [('d1', 'd2')]
    """
    merged: list[EventRecord] = []
    for r in records:
        r = replace(r, sources=r.sources or (r.source,))
        k = next((i for i, m in enumerate(merged) if _same_event(m, r)), None)
        if k is None:
            merged.append(r)
            continue
        m = merged[k]
        if r.time_precision is not None and (m.time_precision is None or r.time_precision < m.time_precision):
            m = replace(m, event_date=r.event_date, time_precision=r.time_precision, date_reason=r.date_reason)
        if r.geo_precision is not None and (m.geo_precision is None or r.geo_precision < m.geo_precision):
            m = replace(m, admin2=r.admin2, location=r.location, latitude=r.latitude, longitude=r.longitude,
                        geo_precision=r.geo_precision, geonameid=r.geonameid)
        fatalities = max((x for x in (m.fatalities, r.fatalities) if x is not None), default=None)
        merged[k] = replace(m, fatalities=fatalities, score=max(m.score, r.score),
                            sources=m.sources + tuple(s for s in r.sources if s not in m.sources))
    return merged


# ---------------------------------------------------------------- CSV rows


def _offsets(e: Evidence | None) -> str:
    return f"{e.start}-{e.end}" if e else ""


def acled_row(rec: EventRecord, number: int = 1) -> dict[str, str]:
    """The record as one CSV row: ACLED's columns (its names for types), then the evidence columns."""
    def s(v: object) -> str:
        return "" if v is None else str(v)

    return {
        "event_id_cnty": f"{rec.iso or 'XX'}-{rec.source}-{number}", "event_date": s(rec.event_date),
        "year": s(rec.event_date.year if rec.event_date else None), "time_precision": s(rec.time_precision),
        "disorder_type": rec.disorder_type, "event_type": EVENT_TYPE_NAMES.get(rec.event_type, rec.event_type),
        "sub_event_type": SUB_EVENT_TYPE_NAMES.get(rec.sub_event_type, rec.sub_event_type),
        "actor1": s(rec.actor1), "assoc_actor_1": "; ".join(rec.assoc_actor_1), "actor2": s(rec.actor2),
        "assoc_actor_2": "; ".join(rec.assoc_actor_2),
        "civilian_targeting": "Civilian targeting" if rec.civilian_targeting else "",
        "country": s(rec.country), "admin1": s(rec.admin1), "admin2": s(rec.admin2),
        "location": s(rec.location), "latitude": s(rec.latitude), "longitude": s(rec.longitude),
        "geo_precision": s(rec.geo_precision), "source": "; ".join(rec.sources or (rec.source,)), "notes": rec.notes,
        "fatalities": s(rec.fatalities if rec.fatalities is not None else 0),
        "score": f"{rec.score:.4f}", "mentions": "; ".join(f"{a}-{b}" for a, b in rec.mentions),
        "country_code": s(rec.iso), "geonameid": s(rec.geonameid),
        "event_date_text": rec.date_evidence.text if rec.date_evidence else "",
        "event_date_offsets": _offsets(rec.date_evidence), "date_reason": s(rec.date_reason),
        "location_text": rec.location_evidence.text if rec.location_evidence else "",
        "location_offsets": _offsets(rec.location_evidence), "geo_reason": s(rec.geo_reason),
        "actor1_offsets": _offsets(rec.actor1_evidence), "actor2_offsets": _offsets(rec.actor2_evidence),
        "fatalities_text": " | ".join(e.text for e in rec.fatalities_evidence),
        "fatalities_offsets": "; ".join(_offsets(e) for e in rec.fatalities_evidence),
    }


#: Every column of the CSV, in order.
COLUMNS = ACLED_COLUMNS + EVIDENCE_COLUMNS


class AcledCsvWriter:
    """ACLED-style CSV: a header, then one row per event record (same protocol as rasd.batch's writers).

    The gazetteer is loaded on the first document with events, once per process (see
    :func:`rasd.gazetteer.default_gazetteer`); pass ``gazetteer`` to use another. Rows end in ``\\n``;
    open a file with ``newline=""`` and ``encoding="utf-8"``.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> w = AcledCsvWriter(out)
        >>> w.write([])
        >>> w.close()
        >>> out.getvalue().split(",")[:3]
        ['event_id_cnty', 'event_date', 'year']
    """

    def __init__(self, out: TextIO, gazetteer: Gazetteer | None = None) -> None:
        self.out = out
        self._gazetteer = gazetteer
        self._csv = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        self._header = False

    def _start(self) -> None:
        if not self._header:
            self._csv.writeheader()
            self._header = True

    def write(self, docs: Sequence[Document]) -> None:
        self._start()
        for doc in docs:
            if not doc.events:
                continue
            if self._gazetteer is None:
                from rasd.gazetteer import default_gazetteer

                self._gazetteer = default_gazetteer()
            self.write_records(build_records(doc, self._gazetteer))
        self.out.flush()

    def write_records(self, records: Sequence[EventRecord]) -> None:
        """Rows for records already built (``rasd events merge`` writes merged ones); numbered from 1."""
        self._start()
        for n, rec in enumerate(records, 1):
            self._csv.writerow(acled_row(rec, n))

    def close(self) -> None:
        self._start()  # an empty run still gives a valid CSV: the header alone
        self.out.flush()
