"""ACLED event records: building, merging mentions, fatalities and the CSV writer (hand-built documents)."""

from __future__ import annotations

import csv
import datetime
import io

import pytest

from rasd.acled import (
    ACLED_COLUMNS,
    COLUMNS,
    AcledCsvWriter,
    EventRecord,
    acled_row,
    build_records,
    event_fatalities,
    find_fatalities,
)
from rasd.gazetteer import default_gazetteer
from rasd.results import Document, Entity, Event, Sentence, Windowing

S1 = ("اندلعت اشتباكات عنيفة فجر أمس بين الجيش السوري وفصائل المعارضة في مدينة جاسم بريف درعا، "
      "ما أسفر عن مقتل ثلاثة عناصر.")
S2 = " وقال \"المرصد\" إن الاشتباكات في جاسم استمرت حتى الصباح، مع سقوط 5 قتلى."
TEXT = S1 + S2
DATE = datetime.date(2022, 10, 25)


def _ent(text: str, label: str, after: int = 0) -> Entity:
    start = TEXT.index(text, after)
    return Entity(text, label, start, start + len(text), 0.9)


def _doc(date: datetime.date | None = DATE, doc_id: str = "d1", text: str = TEXT) -> Document:
    army, rebels = _ent("الجيش السوري", "ORG"), _ent("فصائل المعارضة", "ORG")
    jasim1, daraa, jasim2 = _ent("جاسم", "LOC"), _ent("درعا", "LOC"), _ent("جاسم", "LOC", len(S1))
    when = _ent("فجر أمس", "DATE")
    s1, s2 = (0, len(S1)), (len(S1), len(TEXT))
    events = (Event("armed_clash", "battles", 0.9, *s1, dates=(when,), locations=(jasim1, daraa),
                    actors=(army, rebels)),
              Event("armed_clash", "battles", 0.7, *s2, locations=(jasim2,)))
    sentences = (Sentence(*s1, ()), Sentence(*s2, ()))
    return Document(doc_id, text, (army, rebels, jasim1, daraa, jasim2, when), sentences, (), events,
                    Windowing(1, 64, 8, 8, 0, 0), date=date)


@pytest.fixture(scope="module")
def gaz():
    return default_gazetteer()


def test_mentions_of_one_incident_are_merged_keeping_every_offset(gaz):
    (rec,) = build_records(_doc(), gaz)
    assert rec.mentions == ((0, len(S1)), (len(S1), len(TEXT)))
    assert rec.score == 0.9 and rec.sub_event_type == "armed_clash"
    assert (rec.event_date, rec.time_precision) == (datetime.date(2022, 10, 24), 1)
    assert TEXT[rec.date_evidence.start:rec.date_evidence.end] == "فجر أمس"
    assert (rec.country, rec.admin1, rec.location, rec.geo_precision) == ("Syria", "Daraa", "Jasim", 1)
    assert rec.latitude == pytest.approx(32.99, abs=0.05) and rec.longitude == pytest.approx(36.06, abs=0.05)
    assert TEXT[rec.location_evidence.start:rec.location_evidence.end] == "جاسم"
    assert (rec.actor1, rec.actor2) == ("الجيش السوري", "فصائل المعارضة")
    # Two tolls (3 in the lead, 5 in the recap): the larger, both kept as evidence.
    assert rec.fatalities == 5
    assert [TEXT[e.start:e.end] for e in rec.fatalities_evidence] == ["مقتل ثلاثة عناصر", "5 قتلى"]


def test_without_a_document_date_the_relative_date_stays_unresolved_and_says_why(gaz):
    (rec,) = build_records(_doc(date=None), gaz)
    assert rec.event_date is None and rec.time_precision is None
    assert "needs the document date" in rec.date_reason and "no document date" in rec.date_reason


def test_mentions_dated_apart_are_different_events(gaz):
    doc = _doc()
    far = Entity("3 أكتوبر", "DATE", 0, 0, 0.9)  # offsets unused by the date rules: only the text is read
    second = Event("armed_clash", "battles", 0.7, doc.events[1].start, doc.events[1].end, dates=(far,),
                   locations=doc.events[1].locations)
    doc = Document(doc.id, doc.text, doc.entities, doc.sentences, (), (doc.events[0], second), doc.windowing,
                   date=DATE)
    records = build_records(doc, gaz)
    assert [r.event_date for r in records] == [datetime.date(2022, 10, 24), datetime.date(2022, 10, 3)]


def test_acled_row_uses_the_codebook_names():
    rec = EventRecord("d1", "excessive_force_against_protesters", "protests", 0.5)
    row = acled_row(rec)
    assert list(row)[:len(ACLED_COLUMNS)] == list(ACLED_COLUMNS)
    assert row["event_type"] == "Protests" and row["sub_event_type"] == "Excessive force against protesters"
    assert row["disorder_type"] == "Political violence; Demonstrations" and row["fatalities"] == "0"
    assert row["latitude"] == "" and row["event_date"] == ""
    for col in ("event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "actor1", "assoc_actor_1",
                "actor2", "assoc_actor_2", "civilian_targeting", "country", "admin1", "admin2", "location", "latitude",
                "longitude", "geo_precision", "source", "notes", "fatalities"):
        assert col in ACLED_COLUMNS


def test_csv_writer_round_trips_through_dictreader(gaz):
    # A comma, quotes and a newline in the notes (the text grows: the second mention loses its end, no matter).
    tricky = TEXT.replace("المرصد", "المرصد، \"السوري\"\nلحقوق")
    doc = _doc(text=tricky, doc_id='a,"b"')
    out = io.StringIO()
    writer = AcledCsvWriter(out, gazetteer=gaz)
    writer.write([doc])
    writer.write([_doc(doc_id="d2"), Document("empty", "لا شيء", (), (), (), (), doc.windowing)])
    writer.close()
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    expected = [acled_row(r, n) for d in (doc, _doc(doc_id="d2")) for n, r in enumerate(build_records(d, gaz), 1)]
    assert rows == expected
    assert out.getvalue().count("event_id_cnty") == 1  # header once
    assert rows[0]["notes"].count("\n") == 1 and '"السوري"' in rows[0]["notes"]
    assert rows[0]["source"] == 'a,"b"' and rows[0]["event_date"] == "2022-10-24"
    assert rows[1]["event_id_cnty"] == "SY-d2-1" and rows[1]["fatalities"] == "5" and rows[1]["admin1"] == "Daraa"
    assert list(rows[0]) == list(COLUMNS)


def test_csv_writer_loads_the_gazetteer_lazily_and_writes_a_header_when_empty():
    out = io.StringIO()
    writer = AcledCsvWriter(out)
    writer.write([Document("x", "نص", (), (), (), (), Windowing(1, 64, 8, 8, 0, 0))])
    assert writer._gazetteer is None  # no events, no gazetteer
    writer.close()
    assert out.getvalue() == ",".join(COLUMNS) + "\n"


@pytest.mark.parametrize("text, counts", [
    ("مقتل ثلاثة عناصر من الجيش", [(3, False)]),
    ("سقوط 5 قتلى", [(5, False)]),
    ("سقوط ٥ قتلى", [(5, False)]),
    ("عشرات القتلى", [(12, True)]),
    ("مئات القتلى", [(100, True)]),
    ("مقتل عدد من العناصر", [(10, True)]),
    ("مقتل شخصين", [(2, False)]),
    ("مقتل خمسة وعشرين مدنيا", [(25, False)]),
    ("لقي 3 أشخاص حتفهم", [(3, False)]),
    ("إصابة 4 أشخاص", []),  # injuries are not fatalities
    ("سقوط 5 جرحى", []),
])
def test_fatalities(text, counts):
    assert [(m.count, m.vague) for m in find_fatalities(text)] == counts


def test_fatality_offsets_index_the_callers_string():
    text = "قال مصدر: وقُتل ثلاثة مدنيين"
    (m,) = find_fatalities(text, 5)
    assert text[m.start:m.end] == m.text == "قُتل ثلاثة مدنيين"


def test_event_fatalities_prefers_a_stated_figure_over_a_vague_one():
    assert event_fatalities(find_fatalities("عشرات القتلى بينهم مقتل 7 أطفال")) == 7
    assert event_fatalities(find_fatalities("عشرات القتلى")) == 12
    assert event_fatalities(()) is None
