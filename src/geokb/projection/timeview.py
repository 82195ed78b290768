"""The projection seen at a time: which log position (transaction time) and which world
date (valid time) an answer stands at, and the views those give.

*As of* a log position is what the KB held then: the event at each position carries its
transaction time (``gk:recordedAt``), which never decreases along the log, so a time maps
to a position by binary search. *Valid at* a world date of day, month or year precision is
what was true then: a claim is valid unless its valid time (``gk:validStart`` …
``gk:validEnd``, the bounds of its dates) lies wholly before or after that date; a claim
whose valid time is unknown is taken to hold at any date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pyoxigraph import DefaultGraph, Literal, NamedNode

from geokb.errors import BadTime, InvalidEvent
from geokb.log.schemas import date_bounds
from geokb.projection.quads import DEFAULT, SYSTEM_GRAPH, SYSTEM_NODE
from geokb.projection.store import ProjectionStore
from geokb.vocab import FACTUAL_MODALITIES, GK, RDF, XSD, term_value

_VALID_START, _VALID_END = GK.validStart, GK.validEnd
_KNOWN_UNTIL, _MODALITY, _POSITION = GK.knownUntilPosition, GK.modality, GK.position


@dataclass(frozen=True)
class TimeFilter:
    """Where in the two times an answer stands: log position and world date range."""

    as_of: int | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    valid_at_text: str | None = None

    @classmethod
    def make(cls, as_of: int | None, valid_at: str | None) -> TimeFilter:
        """Raises :class:`~geokb.errors.InvalidEvent` for a ``valid_at`` that is no date."""
        if valid_at is None:
            return cls(as_of=as_of)
        try:
            first, last, _ = date_bounds(valid_at)
        except InvalidEvent as exc:  # a date in a request, not in an event: BadTime
            raise BadTime(f"valid_at: {exc}") from exc
        return cls(as_of=as_of, valid_from=first, valid_until=last, valid_at_text=valid_at)


# -- valid time ----------------------------------------------------------------------------


def valid_during(store: ProjectionStore, claim: NamedNode, when: TimeFilter) -> bool:
    """Whether ``claim``'s valid time meets ``when``'s date range (always, without one)."""
    if when.valid_from is None or when.valid_until is None:
        return True
    start = store.one(claim, _VALID_START)
    end = store.one(claim, _VALID_END)
    if start is not None and date.fromisoformat(start.value) > when.valid_until:
        return False
    return not (end is not None and date.fromisoformat(end.value) < when.valid_from)


def valid_view(store: ProjectionStore, when: TimeFilter) -> ProjectionStore:
    """A copy of ``store`` whose default graph holds only statements valid ``when``.

    A statement stays if a live claim reported as fact states it and is valid ``when``, or
    if no claim states it (what SPARQL updates wrote); the named graphs are kept whole.
    """
    statements: set[tuple[str, str, str]] = set()
    keep: set[tuple[str, str, str]] = set()
    for q in store.quads(None, RDF.type, GK.Claim, DEFAULT):
        claim = q.subject
        if not isinstance(claim, NamedNode):
            continue
        live = store.one(claim, _KNOWN_UNTIL) is None
        modality = store.one(claim, _MODALITY)
        factual = modality is not None and term_value(modality) in FACTUAL_MODALITIES
        for s in store.quads(None, None, None, claim):
            key = (str(s.subject), str(s.predicate), str(s.object))
            statements.add(key)
            if live and factual and valid_during(store, claim, when):
                keep.add(key)
    quads = []
    for q in store.quads():
        if isinstance(q.graph_name, DefaultGraph):
            key = (str(q.subject), str(q.predicate), str(q.object))
            if key in statements and key not in keep:
                continue
        quads.append(q)
    quads += [q for q in store.quads(graph=SYSTEM_GRAPH) if q.subject != SYSTEM_NODE]  # events
    return ProjectionStore.of(quads, position=store.position, head_hash=store.head_hash)


# -- transaction time ----------------------------------------------------------------------


def event_at(store: ProjectionStore, position: int) -> NamedNode | None:
    """The event node recorded at ``position``, or ``None``."""
    q = next(store.quads(None, _POSITION, Literal(str(position), datatype=XSD.integer),
                         SYSTEM_GRAPH), None)
    return q.subject if q is not None and isinstance(q.subject, NamedNode) else None


def recorded_at(store: ProjectionStore, position: int) -> str | None:
    """The transaction time of the event at ``position``."""
    ev = event_at(store, position)
    if ev is None:
        return None
    t = store.one(ev, GK.recordedAt, graph=SYSTEM_GRAPH)
    return str(t.value) if t is not None else None


def position_at(store: ProjectionStore, when: str) -> int:
    """The position of the last event recorded at or before ``when`` (0 if none).

    Transaction times never decrease along the log, so this is a binary search.
    """
    low, high = 0, store.position
    while low < high:
        mid = (low + high + 1) // 2
        t = recorded_at(store, mid)
        if t is not None and t <= when:
            low = mid
        else:
            high = mid - 1
    return low
