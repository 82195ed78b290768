"""Conflicts between the claims known at a log position (belief model, section c).

Found from the claim records of the default graph (statement parts, modality, speakers,
sources, times, ``gk:denies`` / ``gk:confirms`` / ``gk:contradicts`` links) for the claims
live at ``as_of``, so an as-of answer needs no replay and agrees with the conflicts graph the
projection keeps for the head. Rules: *single-valued* (two affirmed claims of a
``gk:SingleValuedProperty`` from different origins give different values for overlapping
times), *denial* (a live denial of a live claim) and *contradiction* (a ``gk:contradicts``
link). Claims are grouped into sides by what they say (value, and whether they deny it).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pyoxigraph import NamedNode

from geokb.projection.conflicts import single_valued_properties
from geokb.projection.quads import DEFAULT
from geokb.read.beliefs import (
    judged_times,
)
from geokb.read.memo import REMEMBERED_ENTITIES
from geokb.read.reader import Reader, as_int
from geokb.times import Span, covers, known_interval
from geokb.vocab import BASE, CONFLICTS_GRAPH, GK, MODALITY, PROV, RDF

# The terms of the hot path, made once (``GK.x`` builds a new term at each use).
_AFFILIATION = GK.affiliation
_CONFIRMS = GK.confirms
_CONTRADICTS = GK.contradicts
_DENIES = GK.denies
_DESCRIPTION = GK.description
_KNOWN_FROM_POSITION = GK.knownFromPosition
_KNOWN_UNTIL_POSITION = GK.knownUntilPosition
_MODALITY = GK.modality
_SPEAKER = GK.speaker
_STATUS = GK.status

#: The single-valued properties when the caller does not say (the ontology's today).
SINGLE_VALUED = frozenset({_STATUS.value})
_AFFIRMING = frozenset({MODALITY.asserted.value, MODALITY.quoted.value})
_DENIED = MODALITY.denied.value
RULES = ("single-valued", "denial", "contradiction")
CONFLICT_BASE = BASE + "conflict/"


def live_at(r: Reader, claim: NamedNode, as_of: int | None) -> bool:
    """Whether ``claim`` was live at ``as_of`` (the head when ``None``)."""
    start = as_int(r.store.one(claim, _KNOWN_FROM_POSITION))
    if start is None:
        return False
    until = as_int(r.store.one(claim, _KNOWN_UNTIL_POSITION))
    if as_of is None:
        return until is None
    return start <= as_of and (until is None or until > as_of)


@dataclass
class _Claim:
    iri: NamedNode
    subject: Any
    predicate: Any
    object: Any
    modality: str
    negated: bool
    origin: tuple[str, frozenset[str]]
    interval: Span | None
    valid_end: date | None
    dated: bool
    known_from: int


def _origin(r: Reader, claim: NamedNode) -> tuple[str, frozenset[str]]:
    src = r.store.one(claim, PROV.wasDerivedFrom)
    speakers = set()
    for q in r.store.quads(claim, _SPEAKER, None, DEFAULT):
        node = q.object
        if not isinstance(node, NamedNode):
            continue
        description = r.store.one(node, _DESCRIPTION)
        if description is None:
            speakers.add(node.value)
        else:  # two anonymous speakers are the same origin only if described alike
            affiliation = r.store.one(node, _AFFILIATION)
            speakers.add(f"{description.value}|{affiliation.value if affiliation else ''}")
    return (src.value if src is not None else "", frozenset(speakers))


def _claim(r: Reader, iri: NamedNode) -> _Claim:
    times = judged_times(r, iri)
    modality = r.store.one(iri, _MODALITY)
    m = modality.value if modality is not None else ""
    return _Claim(iri, r.store.one(iri, RDF.subject), r.store.one(iri, RDF.predicate),
                  r.store.one(iri, RDF.object), m, m == _DENIED, _origin(r, iri),
                  known_interval(times), times.valid_end, times.dated,
                  as_int(r.store.one(iri, _KNOWN_FROM_POSITION)) or 0)


def _linked(r: Reader, claim: NamedNode, p: NamedNode) -> list[NamedNode]:
    return [q.object for q in r.store.quads(claim, p, None, DEFAULT)
            if isinstance(q.object, NamedNode)]


@dataclass
class Conflict:
    """A conflict found at ``as_of``: its key, rules, sides (lists of claims), and time."""

    iri: str
    on: Any
    property: Any
    rules: set[str] = field(default_factory=set)
    sides: list[tuple[tuple[str, bool], list[_Claim]]] = field(default_factory=list)
    since: date | None = None
    side_ends: list[date | None] = field(default_factory=list)

    def covers(self, t: Span) -> bool:
        return self.since is None or covers(self.since, self.side_ends, t)

    def claims(self) -> list[str]:
        return [c.iri.value for _, side in self.sides for c in side]


def _iri(*parts: str) -> str:
    return CONFLICT_BASE + hashlib.sha256(" ".join(parts).encode()).hexdigest()[:16]


def _group(r: Reader, iri: str, on: Any, prop: Any, claims: dict[str, _Claim],
           pairs: list[tuple[str, str, str]]) -> Conflict | None:
    """Sides of the claims the ``pairs`` involve (plus the claims confirming them)."""
    if not pairs:
        return None
    involved = {x for a, b, _ in pairs for x in (a, b)}
    position: dict[str, tuple[str, bool]] = {
        k: (claims[k].object.value if claims[k].object is not None else "", claims[k].negated)
        for k in involved}
    for k, c in claims.items():  # a confirming claim of the same key joins that side
        if k in position:
            continue
        for target in _linked(r, c.iri, _CONFIRMS):
            if target.value in position:
                position[k] = position[target.value]
                break
    by_side: dict[tuple[str, bool], list[_Claim]] = {}
    for k in sorted(position, key=lambda k: (claims[k].known_from, k)):
        by_side.setdefault(position[k], []).append(claims[k])
    if len(by_side) < 2:
        return None
    sides = sorted(by_side.items(), key=lambda s: min(c.known_from for c in s[1]))
    starts = [min((i.first for c in side if (i := _side_interval(c, claims)) is not None),
                  default=None) for _, side in sides]
    dated_starts = [s for s in starts if s is not None and s != date.min]
    ends = [None if any(c.valid_end is None for c in side)
            else max(c.valid_end for c in side if c.valid_end is not None)
            for _, side in sides]
    return Conflict(iri, on, prop, {r for _, _, r in pairs}, sides,
                    max(dated_starts) if dated_starts else None, ends)


def _side_interval(c: _Claim, claims: dict[str, _Claim]) -> Span | None:
    """The interval a claim gives its side's start (``contestedSince``: plan, c.2): a
    denial with no valid time and no claim named speaks of the time of the statement it
    denies — that of the first claim of it in the log (the projection's rule too)."""
    if not c.negated or c.dated:
        return c.interval
    same = [x for x in claims.values() if not x.negated and x.object == c.object]
    return min(same, key=lambda x: x.known_from).interval if same else c.interval


def _key_claims(r: Reader, subject: Any, prop: Any,
                as_of: int | None) -> dict[str, _Claim]:
    out: dict[str, _Claim] = {}
    for q in r.store.quads(None, RDF.subject, subject, DEFAULT):
        c = q.subject
        if not isinstance(c, NamedNode) or c.value in out:
            continue
        if r.store.one(c, RDF.predicate) != prop or not live_at(r, c, as_of):
            continue
        out[c.value] = _claim(r, c)
    return out


class _Groups:
    """Affirming claims grouped by (object, origin), each group's intervals sorted, so
    "is there a claim of another value / another origin overlapping this one" costs a
    binary search per group, not a scan of every pair."""

    def __init__(self, claims: Iterable[_Claim]) -> None:
        groups: dict[tuple[Any, Any], list[_Claim]] = {}
        for c in claims:
            if c.modality in _AFFIRMING and c.interval is not None:
                groups.setdefault((c.object, c.origin), []).append(c)
        self.groups = []
        for (obj, origin), members in groups.items():
            members.sort(key=lambda c: c.interval.first if c.interval else date.min)
            firsts = [c.interval.first for c in members if c.interval is not None]
            reach, top = [], date.min
            for c in members:
                assert c.interval is not None
                top = max(top, c.interval.last)
                reach.append(top)
            self.groups.append((obj, origin, members, firsts, reach))

    def other_origins(self, c: _Claim, *, same_object: bool) -> Iterator[_Claim]:
        """Every dated affirming claim of other origins (and, unless ``same_object``, other
        objects), whatever its time."""
        for obj, origin, members, _firsts, _reach in self.groups:
            if origin != c.origin and (obj == c.object) is same_object:
                yield from members

    def overlapping(self, c: _Claim, *, same_object: bool) -> Iterator[_Claim]:
        """Claims of other origins (and, unless ``same_object``, other objects) whose
        known interval overlaps ``c``'s, group by group, the first of each group first."""
        if c.interval is None:
            return
        for obj, origin, members, firsts, reach in self.groups:
            if origin == c.origin or (obj == c.object) is not same_object:
                continue
            end = bisect_right(firsts, c.interval.last)  # members starting by c's end
            if end == 0 or reach[end - 1] < c.interval.first:
                continue
            for m in members[:end]:
                if m.interval is not None and m.interval.last >= c.interval.first:
                    yield m


def conflict_on(r: Reader, subject: Any, prop: Any, as_of: int | None,
                single_valued: frozenset[str] = SINGLE_VALUED) -> Conflict | None:
    """The conflict on (``subject``, ``prop``) among the claims live at ``as_of``, if any
    (remembered for the projection's log position)."""
    memo = r.remembered().conflicts
    key = (subject.value, prop.value, as_of, single_valued)
    if key not in memo:
        if len(memo) >= REMEMBERED_ENTITIES:
            memo.clear()
        memo[key] = _conflict_on(r, subject, prop, as_of, single_valued)
    found: Conflict | None = memo[key]
    return found


def _conflict_on(r: Reader, subject: Any, prop: Any, as_of: int | None,
                 single_valued: frozenset[str]) -> Conflict | None:
    claims = _key_claims(r, subject, prop, as_of)
    pairs: list[tuple[str, str, str]] = []
    values = list(claims.values())
    groups = _Groups(values)
    if prop is not None and prop.value in single_valued:
        for a in values:
            if a.modality in _AFFIRMING:
                partner = next(groups.overlapping(a, same_object=False), None)
                if partner is not None:  # a is involved; its partner finds it in turn
                    pairs.append((a.iri.value, partner.iri.value, "single-valued"))
    for d in values:
        for target in _linked(r, d.iri, _DENIES):
            if target.value in claims:
                pairs.append((d.iri.value, target.value, "denial"))
        if d.negated and not d.dated and not _linked(r, d.iri, _DENIES):
            # no valid time and no claim named: it speaks of each affirming claim's time
            pairs.extend((d.iri.value, x.iri.value, "denial")
                         for x in groups.other_origins(d, same_object=True))
        elif d.negated:
            pairs.extend((d.iri.value, x.iri.value, "denial")
                         for x in groups.overlapping(d, same_object=True))
        for other in _linked(r, d.iri, _CONTRADICTS):
            if other.value in claims:
                pairs.append((d.iri.value, other.value, "contradiction"))
    return _group(r, _iri(subject.value, prop.value), subject, prop, claims, pairs)


def cross_contradictions(r: Reader, as_of: int | None) -> list[Conflict]:
    """Contradictions between claims of different (subject, property) keys."""
    out = []
    for q in r.store.quads(None, _CONTRADICTS, None, DEFAULT):
        a, b = q.subject, q.object
        if not (isinstance(a, NamedNode) and isinstance(b, NamedNode)):
            continue
        if not (live_at(r, a, as_of) and live_at(r, b, as_of)):
            continue
        ca, cb = _claim(r, a), _claim(r, b)
        if (ca.subject, ca.predicate) == (cb.subject, cb.predicate):
            continue
        first, second = sorted((a.value, b.value))
        found = _group(r, _iri(first, second), ca.subject, None,
                       {a.value: ca, b.value: cb}, [(a.value, b.value, "contradiction")])
        if found is not None:
            out.append(found)
    return out


def _keys(r: Reader, claims: Iterable[NamedNode],
          single_valued: frozenset[str]) -> set[tuple[Any, Any]]:
    keys = set()
    for c in claims:
        s, p = r.store.one(c, RDF.subject), r.store.one(c, RDF.predicate)
        if s is None or p is None:
            continue
        if p.value in single_valued or r.store.one(c, _DENIES) is not None \
                or r.store.one(c, _CONTRADICTS) is not None \
                or r.store.one(c, _MODALITY) == MODALITY.denied:
            keys.add((s, p))
    return keys


def at_head(r: Reader, as_of: int | None, single_valued: frozenset[str]) -> bool:
    """Whether ``graph/conflicts`` holds the conflicts asked for: those of the head, by
    the ontology's single-valued properties."""
    return (as_of is None or as_of >= r.store.position) \
        and single_valued == single_valued_properties()


def find(r: Reader, *, as_of: int | None, entity: NamedNode | None = None,
         single_valued: frozenset[str] = SINGLE_VALUED,
         every_key: bool = False) -> list[Conflict]:
    """Every conflict among the claims live at ``as_of`` (on or mentioning ``entity``), in
    the order of their subjects' and properties' IRIs. ``every_key``: try every key a rule
    could apply to even at the head, rather than the keys of the conflicts graph (the
    tests compare the two)."""
    if entity is not None:
        about = {q.subject.value: q.subject for pred in (RDF.subject, RDF.object)
                 for q in r.store.quads(None, pred, entity, DEFAULT)
                 if isinstance(q.subject, NamedNode)}
        candidates: Iterable[NamedNode] = about.values()
    elif at_head(r, as_of, single_valued) and not every_key:
        # at the head the projection keeps every conflict already (graph/conflicts, by the
        # same rules: tests/read/test_conflict_engines_agree.py): only their keys are worked
        # out again, not every key a rule could apply to (O(conflicts), not O(claims))
        return _head_conflicts(r, single_valued)
    else:
        found: dict[str, NamedNode] = {}
        for p in single_valued:
            for q in r.store.quads(None, RDF.predicate, NamedNode(p), DEFAULT):
                if isinstance(q.subject, NamedNode):
                    found[q.subject.value] = q.subject
        for link, o in ((_DENIES, None), (_MODALITY, MODALITY.denied)):
            for q in r.store.quads(None, link, o, DEFAULT):
                if isinstance(q.subject, NamedNode):
                    found[q.subject.value] = q.subject
        candidates = found.values()
    conflicts = [c for s, p in sorted(_keys(r, candidates, single_valued),
                                      key=lambda k: (k[0].value, k[1].value))
                 if (c := conflict_on(r, s, p, as_of, single_valued)) is not None]
    for c in cross_contradictions(r, as_of):
        if entity is None or entity.value in _mentioned(c):
            conflicts.append(c)
    if entity is not None:
        conflicts = [c for c in conflicts if entity.value in _mentioned(c)]
    return conflicts


def _head_conflicts(r: Reader, single_valued: frozenset[str]) -> list[Conflict]:
    """Every conflict at the head, from the keys of the projection's conflicts graph."""
    keys = set()
    for q in r.store.quads(None, RDF.type, GK.Conflict, CONFLICTS_GRAPH):
        node = q.subject
        if not isinstance(node, NamedNode):
            continue
        on = [t for t in r.store.objects(node, GK.conflictOn, graph=CONFLICTS_GRAPH)
              if isinstance(t, NamedNode)]
        prop = [t for t in r.store.objects(node, GK.conflictProperty, graph=CONFLICTS_GRAPH)
                if isinstance(t, NamedNode)]
        if len(on) == 1 and len(prop) == 1:  # pair contradictions: found below
            keys.add((on[0], prop[0]))
    conflicts = [c for s, p in sorted(keys, key=lambda k: (k[0].value, k[1].value))
                 if (c := conflict_on(r, s, p, None, single_valued)) is not None]
    return conflicts + cross_contradictions(r, None)


def _mentioned(conflict: Conflict) -> set[str]:
    out = {conflict.on.value} if conflict.on is not None else set()
    for _, side in conflict.sides:
        for c in side:
            out.update(t.value for t in (c.subject, c.object) if isinstance(t, NamedNode))
    return out
