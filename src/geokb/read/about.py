"""The claims about an entity, in the order status and timeline answers show them.

Every claim ever made about an entity is found with one index scan and remembered for
the projection's log position (:mod:`geokb.read.memo`), so status, as-of status, timeline
and later pages share it; what is kept for an answer is filtered by the two times
(:class:`~geokb.projection.timeview.TimeFilter`) and put in order.
"""

from __future__ import annotations

from typing import NamedTuple

from pyoxigraph import NamedNode

from geokb.projection.quads import DEFAULT
from geokb.projection.timeview import TimeFilter, valid_during
from geokb.read.memo import REMEMBERED_ENTITIES, Found
from geokb.read.reader import (
    KNOWN_FROM,
    KNOWN_UNTIL,
    OBJECT,
    PREDICATE,
    STATUS,
    SUBJECT,
    VALID_FROM,
    VALID_UNTIL,
    Reader,
    as_int,
)


class Ranked(NamedTuple):
    """A claim of a status or timeline answer, in the answer's order."""

    claim: NamedNode
    status: bool  # a gk:status claim with the entity as subject (its statement's form)


def _found(r: Reader, entity: NamedNode) -> list[Found]:
    """Every claim ever made about ``entity`` (as subject or object), remembered for the
    store's position: status, as-of status, timeline and later pages share one scan."""
    store, memo = r.store, r.remembered()
    remembered = memo.found.get(entity.value)
    if remembered is not None:
        memo.found.move_to_end(entity.value)
        return remembered
    seen: set[str] = set()
    out: list[Found] = []
    for pred in (SUBJECT, OBJECT):
        for q in store.quads(None, pred, entity, DEFAULT):
            c = q.subject
            if not isinstance(c, NamedNode) or c.value in seen:
                continue
            seen.add(c.value)
            start = store.one(c, KNOWN_FROM)
            if start is None:
                continue
            world = store.one(c, VALID_FROM)
            if world is None:
                world = store.one(c, VALID_UNTIL)
            out.append(Found(c, int(start.value), as_int(store.one(c, KNOWN_UNTIL)),
                             world.value if world is not None else "9999",
                             pred is SUBJECT and store.one(c, PREDICATE) == STATUS))
    memo.found[entity.value] = out
    while len(memo.found) > REMEMBERED_ENTITIES:
        memo.found.popitem(last=False)
    return out


def claims_about(r: Reader, entity: NamedNode, when: TimeFilter) -> list[Ranked]:
    """Claims whose statement has ``entity`` as subject or object, known and valid
    ``when``, in the answers' order: by valid time (unknown last), then log position."""
    kept: list[Found] = []
    for f in _found(r, entity):
        if when.as_of is None:
            if f.known_until is not None:
                continue
        elif f.known_from > when.as_of or (f.known_until is not None
                                           and f.known_until <= when.as_of):
            continue
        if when.valid_from is not None and not valid_during(r.store, f.claim, when):
            continue
        kept.append(f)
    kept.sort(key=lambda f: (f.world, f.known_from))
    return [Ranked(f.claim, f.status) for f in kept]
