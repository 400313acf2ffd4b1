"""A self-contained right-to-left HTML view of extracted documents (displaCy-like, for Arabic).

Entities are highlighted by type, incident badges sit on their sentences, and tables
open each document: the ACLED event records (one row per event: date, geocoded place,
actors, fatalities; when given) and the incident mentions.

Example:
    >>> from rasd.results import Document, Windowing
    >>> empty = Document("d", "", (), (), (), (), Windowing(0, 512, 64, 32, 0, 0))
    >>> "<html" in render_html([empty])
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from rasd.results import Document, Entity, Event
from rasd.schema import ENTITY_TYPES, SUB_EVENT_TYPES

if TYPE_CHECKING:
    from rasd.acled import EventRecord

COLOURS = {"PER": "#f6c1c1", "ORG": "#c6dbf7", "LOC": "#c9ecc4", "DATE": "#f3e2b3", "WEAPON": "#e0c8f0"}
_AR_SUB = {t.id: t.name_ar for t in SUB_EVENT_TYPES}
_AR_ENT = {t.id: t.name_ar for t in ENTITY_TYPES}

_CSS = """
body{font-family:"Noto Naskh Arabic","Amiri","Segoe UI",Tahoma,sans-serif;margin:2rem auto;max-width:60rem;
line-height:2.1;color:#222;background:#fdfdfb}
h1{font-size:1.4rem}h2{font-size:1.15rem;border-bottom:1px solid #ddd;margin-top:2.5rem}
.legend span,.ent{border-radius:.3rem;padding:.05rem .3rem}
.ent .lab{font-size:.62rem;font-weight:bold;margin-inline-start:.25rem;color:#333;font-family:sans-serif}
.sent{display:inline}.badge{display:inline-block;font-size:.7rem;line-height:1.3;background:#8b1e1e;color:#fff;
border-radius:.6rem;padding:.05rem .45rem;margin-inline-start:.25rem;font-family:sans-serif;vertical-align:middle}
.sent.hit{background:#fff4f0;border-bottom:2px solid #e5a89a}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0 1rem;line-height:1.4}
td,th{border:1px solid #ddd;padding:.2rem .4rem;text-align:start;vertical-align:top}th{background:#f1f1ee}
.meta{color:#777;font-size:.8rem;font-family:sans-serif}
.warning{color:#8a5a00;background:#fff6dd;font-size:.85rem;font-family:sans-serif;padding:.2rem .5rem}
"""


def _entity_html(text: str, e: Entity) -> str:
    return (f'<mark class="ent" data-label="{e.label}" style="background:{COLOURS.get(e.label, "#eee")}" '
            f'title="{e.label} {e.score:.2f}">{escape(text[e.start:e.end])}<span class="lab">{e.label}</span></mark>')


def _events_table(doc: Document) -> str:
    if not doc.events:
        return '<p class="meta">لا حوادث مرصودة (no incidents above threshold).</p>'

    others = any(ev.other_entities for ev in doc.events)

    def cell(items: Sequence[Entity]) -> str:
        return "، ".join(escape(e.text) for e in items) or "—"

    rows = "".join(
        f"<tr><td>{escape(_AR_SUB.get(ev.sub_event_type, ev.sub_event_type))}<br>"
        f"<span class=meta>{ev.sub_event_type}</span></td>"
        f"<td>{ev.score:.2f}</td><td>{cell(ev.dates)}</td><td>{cell(ev.locations)}</td><td>{cell(ev.actors)}</td>"
        f"<td>{cell(ev.weapons)}</td>" + (f"<td>{cell(ev.other_entities)}</td>" if others else "")
        + f'<td class=meta dir="ltr">{ev.start}–{ev.end}</td></tr>'
        for ev in _sorted(doc.events))
    # A custom model's extra entity labels get their own column, only where there are any.
    return ("<table class=events><thead><tr><th>الحادثة</th><th>الثقة</th><th>التاريخ</th><th>المكان</th>"
            "<th>الأطراف</th><th>السلاح</th>" + ("<th>كيانات أخرى</th>" if others else "")
            + "<th>الموضع</th></tr></thead><tbody>" + rows + "</tbody></table>")


def _records_table(records: Sequence[EventRecord]) -> str:
    """ACLED's row for each event: what a coder would enter, with where each value came from on hover."""
    if not records:
        return ""
    _precision = {1: "يوم", 2: "أسبوع", 3: "شهر"}

    def place(r: EventRecord) -> str:
        if r.latitude is None:
            return escape(r.location or "—") + (f'<br><span class=meta>{escape(r.geo_reason or "")}</span>'
                                                if r.location else "")
        parts = [p for p in (r.location, r.admin2, r.admin1, r.country) if p]
        return (f'<span title="{escape(r.geo_reason or "")}">{escape(", ".join(dict.fromkeys(parts)))}</span>'
                f'<br><span class=meta dir="ltr">{r.latitude:.4f}, {r.longitude:.4f} · geo {r.geo_precision}</span>')

    def actors(main: str | None, assoc: Sequence[str]) -> str:
        return escape("، ".join(a for a in (main, *assoc) if a)) or "—"

    rows = "".join(
        f"<tr><td>{escape(_AR_SUB.get(r.sub_event_type, r.sub_event_type))}<br>"
        f"<span class=meta>{r.sub_event_type}</span></td>"
        f'<td dir="ltr" title="{escape(r.date_evidence.text if r.date_evidence else (r.date_reason or ""))}">'
        f"{r.event_date or '—'}" + (f" <span class=meta>({_precision.get(r.time_precision, '')})</span>"
                                    if r.time_precision else "") + "</td>"
        f"<td>{place(r)}</td><td>{actors(r.actor1, r.assoc_actor_1)}</td><td>{actors(r.actor2, r.assoc_actor_2)}</td>"
        f"<td>{r.fatalities if r.fatalities is not None else 0}</td>"
        f'<td class=meta dir="ltr">{"; ".join(f"{a}–{b}" for a, b in r.mentions)}</td></tr>'
        for r in records)
    return ("<table class=records><thead><tr><th>الحدث (ACLED)</th><th>التاريخ</th><th>المكان</th>"
            "<th>الطرف الأول</th><th>الطرف الثاني</th><th>القتلى</th><th>المواضع</th></tr></thead><tbody>"
            + rows + "</tbody></table>")


def _sorted(events: Sequence[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.start, -e.score))


def _body(doc: Document) -> str:
    """The text with sentences wrapped, badges added and entities marked; offsets drive everything."""
    text, out, pos = doc.text, [], 0
    entities = list(doc.entities)
    for sent in doc.sentences:
        out.append(escape(text[pos:sent.start]).replace("\n", "<br>"))
        cls = "sent hit" if sent.incidents else "sent"
        out.append(f'<span class="{cls}" data-start="{sent.start}" data-end="{sent.end}">')
        cur = sent.start
        for e in (e for e in entities if sent.start <= e.start < sent.end):
            out.append(escape(text[cur:e.start]).replace("\n", "<br>"))
            out.append(_entity_html(text, e))
            cur = e.end
        out.append(escape(text[cur:sent.end]).replace("\n", "<br>"))
        for inc in sent.incidents:
            out.append(f'<span class="badge" data-label="{inc.label}" title="{inc.label} {inc.score:.2f}">'
                       f"{escape(_AR_SUB.get(inc.label, inc.label))}</span>")
        out.append("</span>")
        pos = sent.end
    out.append(escape(text[pos:]).replace("\n", "<br>"))
    return "".join(out)


def render_html(docs: Sequence[Document], title: str = "rasd — رصد",
                records: Sequence[Sequence[EventRecord]] | None = None) -> str:
    """One page for all documents: a legend, then per document its tables and its text.

    ``records`` (one sequence per document, from :func:`rasd.acled.build_records`) adds the
    ACLED records table above the incident mentions.
    """
    legend = " ".join(f'<span style="background:{c}">{escape(_AR_ENT[k])} {k}</span>' for k, c in COLOURS.items())
    parts = []
    for k, doc in enumerate(docs):
        name = escape(doc.id or f"document {k + 1}")
        table = _records_table(records[k]) if records is not None else ""
        parts.append(f'<section class="doc" data-id="{name}"><h2>{name}</h2>{table}{_events_table(doc)}'
                     f'<p class="meta" dir="ltr">{len(doc.entities)} entities · {len(doc.events)} incident mentions · '
                     f"{doc.windowing.windows} windows</p>"
                     + "".join(f'<p class="warning" dir="ltr">⚠ {escape(w)}</p>' for w in doc.warnings)
                     + f"<div class=text>{_body(doc)}</div></section>")
    return (f'<!DOCTYPE html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
            f"<style>{_CSS}</style></head><body><h1>{escape(title)}</h1><p class=legend>{legend}</p>"
            + "".join(parts) + "</body></html>\n")
