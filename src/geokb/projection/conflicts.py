"""Conflicts between live claims (docs/belief-model-plan.md, section c.1-c.2): one pure
entry point, :func:`find`, and what the projection writes of it into ``graph/conflicts``.

A *key* names what one conflict is about: ``("sp", subject, property)`` for the claims of
one subject and statement property, or ``("pair", a, b)`` for a contradiction between two
claims of different subjects or properties (``a < b``). The rules:

1. **single-valued**: two asserted or quoted claims of a ``gk:SingleValuedProperty``, with
   different objects, from different origins (source, speakers), whose known intervals
   overlap (undated claims never take part);
2. **denial**: ``D gk:denies X``; or a denied claim and an asserted or quoted claim of the
   same statement from different origins whose known intervals overlap (a denial without
   a valid time of its own speaks of the denied claim's time);
3. **contradiction**: ``A gk:contradicts B`` (either direction).

Every rule looks only at the claims ``live(claim)`` accepts: the projection passes "not
ended" (:func:`projection_live`) and keeps the conflicts of the head; the read side passes
"known at ``as_of``" and answers earlier states without a replay.

>>> conflict_iri(("sp", "https://w3id.org/geokb/id/tartus-naval-base",
...               "https://w3id.org/geokb/ontology#status"))
'https://w3id.org/geokb/conflict/a20b681396573863'
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import combinations

from pyoxigraph import DefaultGraph, Literal, NamedNode, Store

from geokb.log.codec import date_bounds
from geokb.ontology import load_ontology
from geokb.projection.quads import iri, literal, to_conflicts
from geokb.vocab import (
    ASSESSMENT,
    CONFLICT,
    CONFLICTS_GRAPH,
    GK,
    MODALITY,
    PROV,
    RDF,
    RULE,
    XSD,
    term_value,
)

Key = tuple[str, str, str]
Interval = tuple[date | None, date]  # (None = no known start, last day)

DEFAULT = DefaultGraph()
_ASSERTED_OR_QUOTED = frozenset({MODALITY.asserted.value, MODALITY.quoted.value})
_DENIED = MODALITY.denied.value
_LINKS = {GK.denies.value: "denies", GK.confirms.value: "confirms",
          GK.contradicts.value: "contradicts"}
_NEEDED = frozenset({RDF.subject.value, RDF.predicate.value, RDF.object.value,
                     GK.modality.value, PROV.wasDerivedFrom.value, GK.speaker.value,
                     GK.validStart.value, GK.validEnd.value, GK.validFrom.value,
                     GK.saidStart.value, GK.saidEnd.value, GK.knownFromPosition.value,
                     *_LINKS})


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


def known_interval(c: ClaimTimes) -> Interval | None:
    """The claim's known interval (plan, section b, rules 1 and 2), or ``None`` if undated.

    Written here until the shared time module (``geokb.times``) is on main; the rule is the
    plan's: a dated claim holds over ``[vs or -inf, ve or E]``, ``E`` its reported end if
    known, else the last day of ``vs``'s own period; a claim with only a reported time
    over its reported interval.
    """
    if c.dated:
        end = c.valid_end
        if end is None:
            end = c.reported[1] if c.reported is not None else c.valid_from_end
        assert end is not None  # dated: a valid end, or a valid start with its period
        return c.valid_start, end
    if c.reported is not None:
        return c.reported
    return None


def overlap(a: Interval | None, b: Interval | None) -> bool:
    if a is None or b is None:
        return False
    return (a[0] is None or a[0] <= b[1]) and (b[0] is None or b[0] <= a[1])


@dataclass(frozen=True)
class Side:
    value: NamedNode | Literal | None
    negated: bool
    claims: tuple[str, ...]


@dataclass(frozen=True)
class Conflict:
    key: Key
    iri: str
    on: tuple[str, ...]
    property: str | None
    rules: tuple[str, ...]
    contested_since: date | None
    sides: tuple[Side, ...]


@lru_cache(maxsize=1)
def single_valued_properties() -> frozenset[str]:
    """The ontology's ``gk:SingleValuedProperty`` properties (today: ``gk:status``)."""
    graph = load_ontology().graph
    import rdflib

    return frozenset(str(p) for p in graph.subjects(rdflib.RDF.type,
                                                     rdflib.URIRef(GK.SingleValuedProperty.value)))


def conflict_iri(key: Key) -> str:
    """``conflict:`` + the first 16 hex digits of SHA-256 of the key's two IRIs, joined by
    a space (subject and property; or the two claims, sorted)."""
    text = f"{key[1]} {key[2]}"
    return CONFLICT.base + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def projection_live(store: Store) -> Callable[[str], bool]:
    """``live`` for the head: the claim has not ended (no ``gk:knownUntilPosition``)."""
    until = GK.knownUntilPosition

    def live(claim: str) -> bool:
        return next(store.quads_for_pattern(NamedNode(claim), until, None, DEFAULT),
                    None) is None

    return live


# -- reading claims ---------------------------------------------------------------------


def _day(term: object) -> date:
    return date.fromisoformat(term_value(term))  # type: ignore[arg-type]


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
        if p == RDF.subject.value:
            c.subject = term_value(o)
        elif p == RDF.predicate.value:
            c.predicate = term_value(o)
        elif p == RDF.object.value:
            c.object = o  # type: ignore[assignment]
        elif p == GK.modality.value:
            c.modality = term_value(o)
        elif p == PROV.wasDerivedFrom.value:
            c.source = term_value(o)
        elif p == GK.speaker.value:
            speakers.add(term_value(o))
        elif p == GK.validStart.value:
            c.valid_start = _day(o)
        elif p == GK.validEnd.value:
            c.valid_end = _day(o)
        elif p == GK.validFrom.value:
            c.valid_from_end = date_bounds(term_value(o))[1]
        elif p == GK.saidStart.value:
            said[0] = _day(o)
        elif p == GK.saidEnd.value:
            said[1] = _day(o)
        elif p == GK.knownFromPosition.value:
            c.position = int(term_value(o))
        else:
            c.links.setdefault(_LINKS[p], set()).add(term_value(o))
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
    issued = next(store.quads_for_pattern(node, NamedNode("http://purl.org/dc/terms/issued"),
                                          None, DEFAULT), None)
    return first, date_bounds(term_value(issued.object))[1] if issued else first


def _claims_of(store: Store, subject: str, prop: str) -> list[str]:
    with_subject = {term_value(q.subject) for q in store.quads_for_pattern(
        None, RDF.subject, NamedNode(subject), DEFAULT)}
    return sorted(term_value(q.subject) for q in store.quads_for_pattern(
        None, RDF.predicate, NamedNode(prop), DEFAULT) if term_value(q.subject) in with_subject)


def keys_for_claims(store: Store, claims: Iterable[str]) -> set[Key]:
    """The keys whose conflicts can change when ``claims`` do: each claim's subject and
    property, those of the claims it links to or that link to it, and its cross-key
    contradictions."""
    keys: set[Key] = set()
    sources: dict[str, tuple[date, date] | None] = {}
    cache: dict[str, ClaimTimes] = {}

    def rec(claim: str) -> ClaimTimes:
        if claim not in cache:
            cache[claim] = read_claim(store, claim, sources)
        return cache[claim]

    for claim in set(claims):
        c = rec(claim)
        if not c.subject:
            continue
        keys.add(("sp", c.subject, c.predicate))
        linked = {t for targets in c.links.values() for t in targets}
        for pred in (GK.denies, GK.confirms, GK.contradicts):
            linked |= {term_value(q.subject) for q in store.quads_for_pattern(
                None, pred, NamedNode(claim), DEFAULT)}
        for other in linked:
            o = rec(other)
            if not o.subject:
                continue
            keys.add(("sp", o.subject, o.predicate))
            if (o.subject, o.predicate) != (c.subject, c.predicate):
                a, b = sorted((claim, other))
                keys.add(("pair", a, b))
    return keys


def all_keys(store: Store) -> set[Key]:
    """Every key of the store's claims (a rebuild of the whole conflicts graph)."""
    claims = {term_value(q.subject) for q in store.quads_for_pattern(
        None, RDF.type, GK.Claim, DEFAULT)}
    return keys_for_claims(store, claims)


# -- the rules ----------------------------------------------------------------------------


def find(store: Store, keys: Iterable[Key], *, live: Callable[[str], bool]) -> list[Conflict]:
    """The conflicts of ``keys`` among the claims ``live`` accepts, in key order (pure: reads
    ``store``, writes nothing)."""
    sources: dict[str, tuple[date, date] | None] = {}
    out: list[Conflict] = []
    for key in sorted(set(keys)):
        if key[0] == "sp":
            claims = [read_claim(store, c, sources) for c in _claims_of(store, key[1], key[2])
                      if live(c)]
            found = _subject_property_conflict(key, claims)
        else:
            if not (live(key[1]) and live(key[2])):
                continue
            found = _pair_conflict(key, read_claim(store, key[1], sources),
                                   read_claim(store, key[2], sources))
        if found is not None:
            out.append(found)
    return out


def _denial_interval(d: ClaimTimes, by_iri: dict[str, ClaimTimes]) -> Interval | None:
    """A denial speaks of the denied claim's time unless it has a valid time of its own."""
    if d.dated or not d.negated:
        return known_interval(d)
    targets = [by_iri[t] for t in sorted(d.linked("denies")) if t in by_iri]
    targets = targets or sorted((c for c in by_iri.values() if not c.negated
                                 and c.object == d.object), key=lambda c: c.position)
    return known_interval(targets[0]) if targets else known_interval(d)


def _denies(d: ClaimTimes, x: ClaimTimes, by_iri: dict[str, ClaimTimes]) -> bool:
    """Rule 2 for the pair: ``d`` links ``x`` as denied, or is a denial of the same
    statement from another origin at an overlapping time."""
    if x.iri in d.linked("denies"):
        return True
    return (d.negated and x.modality in _ASSERTED_OR_QUOTED and d.object == x.object
            and d.origin != x.origin
            and overlap(_denial_interval(d, by_iri), known_interval(x)))


def _subject_property_conflict(key: Key, claims: list[ClaimTimes]) -> Conflict | None:
    by_iri = {c.iri: c for c in claims}
    single = key[2] in single_valued_properties()
    rules: set[str] = set()
    members: set[str] = set()
    for a, b in combinations(claims, 2):
        found: set[str] = set()
        if (single and a.modality in _ASSERTED_OR_QUOTED and b.modality in _ASSERTED_OR_QUOTED
                and a.object != b.object and a.origin != b.origin
                and overlap(known_interval(a), known_interval(b))):
            found.add("single-valued")
        if _denies(a, b, by_iri) or _denies(b, a, by_iri):
            found.add("denial")
        if b.iri in a.linked("contradicts") or a.iri in b.linked("contradicts"):
            found.add("contradiction")
        if found:
            rules |= found
            members |= {a.iri, b.iri}
    if not members:
        return None
    positions: dict[tuple[str, bool], list[ClaimTimes]] = {}
    where: dict[str, tuple[str, bool]] = {}
    for c in sorted((by_iri[m] for m in members), key=lambda c: c.position):
        pos = (str(c.object), c.negated)
        positions.setdefault(pos, []).append(c)
        where[c.iri] = pos
    for c in sorted(claims, key=lambda c: c.position):  # confirmations join their side
        if c.iri in where:
            continue
        for target in sorted(c.linked("confirms")):
            if target in where:
                positions[where[target]].append(c)
                where[c.iri] = where[target]
                break
    if len(positions) < 2:
        return None
    groups = sorted(positions.values(), key=lambda cs: min(c.position for c in cs))
    starts = [_side_start([_denial_interval(c, by_iri) for c in cs]) for cs in groups]
    sides = tuple(Side(cs[0].object, cs[0].negated, tuple(c.iri for c in cs)) for cs in groups)
    return Conflict(key, conflict_iri(key), (key[1],), key[2], tuple(sorted(rules)),
                    _latest(starts), sides)


def _pair_conflict(key: Key, a: ClaimTimes, b: ClaimTimes) -> Conflict | None:
    if not (b.iri in a.linked("contradicts") or a.iri in b.linked("contradicts")):
        return None
    pair = sorted((a, b), key=lambda c: c.position)
    sides = tuple(Side(None, c.negated, (c.iri,)) for c in pair)
    on = tuple(dict.fromkeys(c.subject for c in pair))
    starts = [_side_start([known_interval(c)]) for c in pair]
    return Conflict(key, conflict_iri(key), on, None, ("contradiction",), _latest(starts),
                    sides)


def _side_start(intervals: list[Interval | None]) -> date | None:
    """The first day of a side's time (``None``: no known start)."""
    known = [i for i in intervals if i is not None]
    if not known or any(i[0] is None for i in known):
        return None
    return min(i[0] for i in known if i[0] is not None)


def _latest(starts: list[date | None]) -> date | None:
    known = [s for s in starts if s is not None]
    return max(known) if known else None


# -- the conflicts graph ----------------------------------------------------------------

_A = f"<{RDF.type.value}>"
_X_DATE, _X_BOOLEAN = XSD.date.value, XSD.boolean.value


def _term(t: NamedNode | Literal) -> str:
    if isinstance(t, NamedNode):
        return iri(t.value)
    return literal(t.value, datatype=t.datatype.value, lang=t.language)


def conflict_lines(c: Conflict) -> list[str]:
    """The conflict as N-Quads lines of ``graph/conflicts``."""
    node = iri(c.iri)
    t = f"<{GK.base}"
    lines = [f"{node} {_A} {t}Conflict> ."]
    lines += [f"{node} {t}conflictOn> {iri(s)} ." for s in c.on]
    if c.property is not None:
        lines.append(f"{node} {t}conflictProperty> {iri(c.property)} .")
    lines += [f"{node} {t}conflictRule> {iri(RULE.base + r)} ." for r in c.rules]
    lines.append(f"{node} {t}assessmentValue> {iri(ASSESSMENT.contested.value)} .")
    if c.contested_since is not None:
        lines.append(f"{node} {t}contestedSince> "
                     f"{literal(c.contested_since.isoformat(), datatype=_X_DATE)} .")
    for n, side in enumerate(c.sides, start=1):
        s = iri(f"{c.iri}#side-{n}")
        lines += [f"{node} {t}conflictSide> {s} .", f"{s} {_A} {t}ConflictSide> .",
                  f"{s} {t}sideNegated> "
                  f"{literal('true' if side.negated else 'false', datatype=_X_BOOLEAN)} ."]
        if side.value is not None:
            lines.append(f"{s} {t}sideValue> {_term(side.value)} .")
        lines += [f"{s} {t}sideClaim> {iri(claim)} ." for claim in side.claims]
    return [to_conflicts(line) for line in lines]


def stored_lines(store: Store, key: Key) -> list[str]:
    """The lines ``graph/conflicts`` holds now for ``key``."""
    node = NamedNode(conflict_iri(key))
    quads = list(store.quads_for_pattern(node, None, None, CONFLICTS_GRAPH))
    for q in list(quads):
        if q.predicate == GK.conflictSide and isinstance(q.object, NamedNode):
            quads += store.quads_for_pattern(q.object, None, None, CONFLICTS_GRAPH)
    return [f"{q} ." for q in quads]


def changes(store: Store, keys: Iterable[Key]) -> tuple[list[str], list[str]]:
    """What recomputing ``keys`` at the head changes in ``graph/conflicts``: the lines to
    delete and the lines to insert."""
    keys = set(keys)
    old = {line for key in keys for line in stored_lines(store, key)}
    new = {line for c in find(store, keys, live=projection_live(store))
           for line in conflict_lines(c)}
    return sorted(old - new), sorted(new - old)
