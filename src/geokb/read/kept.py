"""The head's conflicts as the projection keeps them (``graph/conflicts``), read without
working any out: each subject-property conflict's key, ``contestedSince`` and its sides'
ends, so that a page of ``geokb conflicts`` works out only its own conflicts.

At the head the projection's engine and :mod:`geokb.read.disputes` find the same
conflicts, with the same claims on the same sides and the same ``contestedSince``
(``tests/read/test_conflict_engines_agree.py``), so whether a conflict covers a world time
T can be read here: T's last day is on or after ``contestedSince``, and no side has ended
before T (``gk:sideEnd``: the latest ``gk:validEnd`` of its claims, absent while one has
none). O(conflicts) scans of the conflicts graph, not O(claims).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pyoxigraph import NamedNode

from geokb.read.reader import Reader
from geokb.times import Span, covers
from geokb.vocab import CONFLICTS_GRAPH, GK, term_value

_ON, _PROPERTY, _SINCE, _END = (GK.conflictOn, GK.conflictProperty, GK.contestedSince,
                               GK.sideEnd)


@dataclass
class Kept:
    """One subject-property conflict of ``graph/conflicts``."""

    iri: str
    on: NamedNode
    property: NamedNode
    since: date | None
    side_ends: list[date | None]

    def covers(self, t: Span) -> bool:
        """As :meth:`geokb.read.disputes.Conflict.covers`."""
        return self.since is None or covers(self.since, self.side_ends, t)


def kept_conflicts(r: Reader) -> list[Kept]:
    """Every subject-property conflict the projection keeps, in the order
    :func:`geokb.read.disputes.find` gives them at the head (by subject, then property
    IRI). A conflict with two subjects (a contradiction across keys) is not here.

    Four scans of the conflicts graph: a side with an open claim has no ``gk:sideEnd``
    and never stops a conflict from covering T, so only the ended sides are read.
    """
    store, graph = r.store, CONFLICTS_GRAPH
    on: dict[str, list[NamedNode]] = {}
    for q in store.quads(None, _ON, None, graph):
        if isinstance(q.object, NamedNode):
            on.setdefault(term_value(q.subject), []).append(q.object)
    prop = {term_value(q.subject): q.object
            for q in store.quads(None, _PROPERTY, None, graph) if isinstance(q.object, NamedNode)}
    since = {term_value(q.subject): _day(q.object)
             for q in store.quads(None, _SINCE, None, graph)}
    ended: dict[str, list[date | None]] = {}
    for q in store.quads(None, _END, None, graph):
        ended.setdefault(term_value(q.subject).partition("#")[0], []).append(_day(q.object))
    out = []
    for iri, subjects in on.items():
        p = prop.get(iri)
        if p is None or len(subjects) != 1:
            continue  # no property, or two subjects: the read side finds these itself
        out.append(Kept(iri, subjects[0], p, since.get(iri), ended.get(iri, [])))
    out.sort(key=lambda k: (k.on.value, k.property.value))
    return out


def _day(term: object) -> date | None:
    value = getattr(term, "value", None)
    return date.fromisoformat(value) if isinstance(value, str) else None
