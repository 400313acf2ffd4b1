"""What the extractor returns: frozen, JSON-serialisable dataclasses with offsets into the input.

Every ``start``/``end`` indexes the caller's original string: ``text[start:end]``
is the entity's ``text``. Entity and incident keys follow the SPEC annotation
format (``start``, ``end``, ``label``), so a prediction file can be scored
against a gold file.

Example:
    >>> e = Entity(text="درعا", label="LOC", start=5, end=9, score=0.97)
    >>> e.to_dict()
    {'start': 5, 'end': 9, 'label': 'LOC', 'text': 'درعا', 'score': 0.97}
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entity:
    """A named entity: its surface, label, offsets and mean word probability."""

    text: str
    label: str
    start: int
    end: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label, "text": self.text,
                "score": round(self.score, 4)}


@dataclass(frozen=True)
class IncidentScore:
    """One incident type predicted for a sentence."""

    label: str
    event_type: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "event_type": self.event_type, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Sentence:
    """A sentence: offsets and the incident types predicted for it (above their thresholds)."""

    start: int
    end: int
    incidents: tuple[IncidentScore, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "incidents": [i.to_dict() for i in self.incidents]}


@dataclass(frozen=True)
class Incident:
    """A document-level incident type: best score and the sentences that support it."""

    label: str
    event_type: str
    score: float
    sentences: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "event_type": self.event_type, "score": round(self.score, 4),
                "sentences": [list(s) for s in self.sentences]}


@dataclass(frozen=True)
class Event:
    """An ACLED-style record for one incident mention (a sentence and one of its incident types).

    Fields are named after ACLED's columns (``sub_event_type``, ``event_type``); ``start``/``end``
    are the sentence's offsets; the arguments are the entities of that sentence by role, each a
    tuple: dates, locations, actors (ORG and PER), weapons, and ``other_entities`` for labels a
    custom model adds beyond the five.
    """

    sub_event_type: str
    event_type: str
    score: float
    start: int
    end: int
    dates: tuple[Entity, ...] = ()
    locations: tuple[Entity, ...] = ()
    actors: tuple[Entity, ...] = ()
    weapons: tuple[Entity, ...] = ()
    other_entities: tuple[Entity, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"sub_event_type": self.sub_event_type, "event_type": self.event_type, "score": round(self.score, 4),
                "start": self.start, "end": self.end,
                **{role: [e.to_dict() for e in getattr(self, role)] for role in EVENT_ROLES}}


#: The argument roles of an :class:`Event`, in output order, and the entity labels each takes.
EVENT_ROLES = {"dates": ("DATE",), "locations": ("LOC",), "actors": ("ORG", "PER"), "weapons": ("WEAPON",),
               "other_entities": ()}


@dataclass(frozen=True)
class Windowing:
    """How a document was cut for the model (nothing is ever truncated)."""

    windows: int
    max_length: int
    context: int
    stride: int
    split_sentences: int
    words_without_tokens: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Document:
    """Everything extracted from one text; ``warnings`` says when the text is not one the model reads."""

    id: str | None
    text: str
    entities: tuple[Entity, ...]
    sentences: tuple[Sentence, ...]
    incidents: tuple[Incident, ...]
    events: tuple[Event, ...]
    windowing: Windowing
    warnings: tuple[str, ...] = ()
    date: datetime.date | None = None  # the publication date given with the text, if any

    def to_dict(self, include_text: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "date": self.date.isoformat() if self.date else None}
        if include_text:
            out["text"] = self.text
        out |= {"entities": [e.to_dict() for e in self.entities],
                "events": [e.to_dict() for e in self.events],
                "incidents": [i.to_dict() for i in self.incidents],
                "sentences": [s.to_dict() for s in self.sentences],
                "windowing": self.windowing.to_dict(), "warnings": list(self.warnings)}
        return out

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> Document:
        """The Document that :meth:`to_dict` wrote (a line of ``rasd predict``'s JSON Lines), with its text.

        Raises ``KeyError``/``TypeError``/``ValueError`` on anything else; callers name the line.

        Example:
            >>> doc = Document("d1", "قصف درعا", (Entity("درعا", "LOC", 4, 8, 0.9),), (), (), (),
            ...                Windowing(1, 64, 8, 8, 0, 0), date=datetime.date(2022, 8, 1))
            >>> Document.from_dict(doc.to_dict()) == Document.from_dict(doc.to_dict())
            True
            >>> Document.from_dict(doc.to_dict()).entities[0].text
            'درعا'
        """
        def entity(e: dict[str, Any]) -> Entity:
            return Entity(e["text"], e["label"], e["start"], e["end"], e["score"])

        def incident_score(i: dict[str, Any]) -> IncidentScore:
            return IncidentScore(i["label"], i["event_type"], i["score"])

        events = tuple(Event(e["sub_event_type"], e["event_type"], e["score"], e["start"], e["end"],
                             **{role: tuple(entity(x) for x in e.get(role, ())) for role in EVENT_ROLES})
                       for e in obj["events"])
        date = obj.get("date")
        return cls(obj.get("id"), obj["text"], tuple(entity(e) for e in obj["entities"]),
                   tuple(Sentence(s["start"], s["end"], tuple(incident_score(i) for i in s["incidents"]))
                         for s in obj["sentences"]),
                   tuple(Incident(i["label"], i["event_type"], i["score"], tuple(tuple(x) for x in i["sentences"]))
                         for i in obj["incidents"]),
                   events, Windowing(**obj["windowing"]), tuple(obj.get("warnings", ())),
                   datetime.date.fromisoformat(date) if date else None)
