"""What the conflict rules read of a claim's record, and its *known interval*
(docs/belief-model-plan.md, section b, rules 1 and 2).

The known interval is :mod:`geokb.times`'s, the answers' own: the projection's conflicts
and the read side's cannot disagree on when a claim holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from pyoxigraph import DefaultGraph, Literal, NamedNode, Store

from geokb.log.schemas import date_bounds
from geokb.times import ClaimTimes as WorldTimes
from geokb.times import Reported
from geokb.times import known_interval as world_interval
from geokb.vocab import DCTERMS, GK, MODALITY, PROV, RDF, term_value

Interval = tuple[date | None, date]  # (None = no known start, last day)

DEFAULT = DefaultGraph()
_DENIED = MODALITY.denied.value
LINK_NAMES = {GK.denies.value: "denies", GK.confirms.value: "confirms",
              GK.contradicts.value: "contradicts"}
_NEEDED = frozenset({RDF.subject.value, RDF.predicate.value, RDF.object.value,
                     GK.modality.value, PROV.wasDerivedFrom.value, GK.speaker.value,
                     GK.validStart.value, GK.validEnd.value, GK.validFrom.value,
                     GK.saidStart.value, GK.saidEnd.value, GK.knownFromPosition.value,
                     *LINK_NAMES})


@dataclass
class ClaimTimes:
    """What the rules read of one claim's record."""

    iri: str
    subject: str = ""
    predicate: str = ""
    object: NamedNode | Literal | None = None
    modality: str = ""
    source: str = ""
    speakers: frozenset[str] = frozenset()
    valid_start: date | None = None
    valid_end: date | None = None
    valid_from_end: date | None = None  # the last day of gk:validFrom's own period
    reported: tuple[date, date] | None = None
    position: int = 0
    links: dict[str, set[str]] = field(default_factory=dict)
    #: a denial, or it links a claim as denied or contradicted (:func:`disputing`)
    disputes: bool = False

    @property
    def origin(self) -> tuple[str, frozenset[str]]:
        return self.source, self.speakers

    @property
    def dated(self) -> bool:
        return self.valid_start is not None or self.valid_end is not None

    @property
    def negated(self) -> bool:
        return self.modality == _DENIED

    def linked(self, kind: str) -> set[str]:
        return self.links.get(kind, set())

    @cached_property
    def known(self) -> Interval | None:
        """:func:`known_interval`, worked out once (a record is read whole, then only
        read: the projection's model of the live claims keeps it across batches)."""
        return _known_interval(self)


def known_interval(c: ClaimTimes) -> Interval | None:
    """The claim's known interval (``c.known``), or ``None`` if undated:
    :func:`geokb.times.known_interval` (the one definition the answers use too), with
    ``None`` for an open start.

    A claim reported before its valid start (a forecast: "from September 2013", said in
    2010) is known on its start's day at least, not over an empty interval:

    >>> known_interval(ClaimTimes("c", valid_start=date(2013, 9, 1),
    ...                           reported=(date(2010, 9, 16), date(2010, 9, 16))))
    (datetime.date(2013, 9, 1), datetime.date(2013, 9, 1))
    """
    return c.known


def _known_interval(c: ClaimTimes) -> Interval | None:
    known = world_interval(WorldTimes(
        valid_start=c.valid_start, valid_end=c.valid_end, valid_start_last=c.valid_from_end,
        reported=Reported(*c.reported) if c.reported is not None else None))
    if known is None:
        return None
    return (None if known.first == date.min else known.first), known.last


def overlap(a: Interval | None, b: Interval | None) -> bool:
    if a is None or b is None:
        return False
    return (a[0] is None or a[0] <= b[1]) and (b[0] is None or b[0] <= a[1])


def _day(term: object) -> date:
    return date.fromisoformat(term_value(term))  # type: ignore[arg-type]


_P_SUBJECT, _P_PREDICATE, _P_OBJECT = RDF.subject.value, RDF.predicate.value, RDF.object.value
_P_MODALITY, _P_SOURCE, _P_SPEAKER = (GK.modality.value, PROV.wasDerivedFrom.value,
                                      GK.speaker.value)
_P_VALID_START, _P_VALID_END, _P_VALID_FROM = (GK.validStart.value, GK.validEnd.value,
                                               GK.validFrom.value)
_P_DISPUTING = frozenset({GK.denies.value, GK.contradicts.value})
_P_SAID_START, _P_SAID_END, _P_KNOWN_FROM = (GK.saidStart.value, GK.saidEnd.value,
                                             GK.knownFromPosition.value)


def read_claim(store: Store, claim: str, sources: dict[str, tuple[date, date] | None]
               ) -> ClaimTimes:
    """The record of ``claim`` (default graph) as :class:`ClaimTimes`."""
    c = ClaimTimes(claim)
    speakers: set[str] = set()
    said: list[date | None] = [None, None]
    for q in store.quads_for_pattern(NamedNode(claim), None, None, DEFAULT):
        p = q.predicate.value
        if p not in _NEEDED:
            continue
        o = q.object
        if p == _P_SUBJECT:
            c.subject = term_value(o)
        elif p == _P_PREDICATE:
            c.predicate = term_value(o)
        elif p == _P_OBJECT:
            c.object = o  # type: ignore[assignment]
        elif p == _P_MODALITY:
            c.modality = term_value(o)
            c.disputes |= c.modality == _DENIED
        elif p == _P_SOURCE:
            c.source = term_value(o)
        elif p == _P_SPEAKER:
            speakers.add(term_value(o))
        elif p == _P_VALID_START:
            c.valid_start = _day(o)
        elif p == _P_VALID_END:
            c.valid_end = _day(o)
        elif p == _P_VALID_FROM:
            c.valid_from_end = date_bounds(term_value(o))[1]
        elif p == _P_SAID_START:
            said[0] = _day(o)
        elif p == _P_SAID_END:
            said[1] = _day(o)
        elif p == _P_KNOWN_FROM:
            c.position = int(term_value(o))
        else:
            c.links.setdefault(LINK_NAMES[p], set()).add(term_value(o))
            c.disputes |= p in _P_DISPUTING
    c.speakers = frozenset(speakers)
    if said[0] is not None and said[1] is not None:
        c.reported = (said[0], said[1])
    elif c.source:
        if c.source not in sources:
            sources[c.source] = _published(store, c.source)
        c.reported = sources[c.source]
    return c


def _published(store: Store, source: str) -> tuple[date, date] | None:
    node = NamedNode(source)
    start = next(store.quads_for_pattern(node, GK.publishedStart, None, DEFAULT), None)
    end = next(store.quads_for_pattern(node, GK.publishedEnd, None, DEFAULT), None)
    if start is None:
        return None
    first = _day(start.object)
    # a source projected before gk:publishedEnd existed: the end of gk:issued's period
    if end is not None:
        return first, _day(end.object)
    issued = next(store.quads_for_pattern(node, DCTERMS.issued,
                                          None, DEFAULT), None)
    return first, date_bounds(term_value(issued.object))[1] if issued else first


_DISPUTING = (GK.denies, GK.contradicts)
_MODALITY_P, _DENIED_NODE = GK.modality, MODALITY.denied


def disputing(store: Store, claim: str) -> bool:
    """Whether ``claim`` is a denial or links a claim as denied or contradicted: what a key
    of a property that is not single-valued needs for a conflict (three lookups, not the
    whole record)."""
    node = NamedNode(claim)
    if next(store.quads_for_pattern(node, _MODALITY_P, _DENIED_NODE, DEFAULT),
            None) is not None:
        return True
    return any(next(store.quads_for_pattern(node, p, None, DEFAULT), None) is not None
               for p in _DISPUTING)
