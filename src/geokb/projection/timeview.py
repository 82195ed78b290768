"""The projection seen at a time: which log position (transaction time) and which world
date (valid time) an answer stands at.

*As of* a log position is what the KB held then: the event at each position carries its
transaction time (``gk:recordedAt``), which never decreases along the log, so a time maps
to a position by binary search. *Valid at* a world date of day, month or year precision is
what was true then: a claim is valid unless its valid time (``gk:validStart`` …
``gk:validEnd``, the bounds of its dates) lies wholly before or after that date; a claim
whose valid time is unknown is taken to hold at any date (:func:`valid_during`, the claim
lists' filter; the SPARQL view at a date is stricter: :mod:`geokb.read.validity`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pyoxigraph import Literal, NamedNode

from geokb.errors import BadTime, InvalidEvent
from geokb.log.schemas import date_bounds
from geokb.projection.quads import SYSTEM_GRAPH
from geokb.projection.store import ProjectionStore
from geokb.vocab import GK, XSD

_VALID_START, _VALID_END = GK.validStart, GK.validEnd
_POSITION = GK.position


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
