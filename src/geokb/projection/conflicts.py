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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from pyoxigraph import Literal, NamedNode, Store

from geokb.ontology import load_ontology
from geokb.projection.claimtimes import (
    ClaimTimes,
    Interval,
    disputing,
    known_interval,
    overlap,
    read_claim,
)
from geokb.projection.keys import (
    MANY_KEYS,
    AnyStore,
    ClaimsOfKeys,
    Key,
    all_keys,
    disputed,
    is_live,
    keys_for_claims,
    raw,
)
from geokb.projection.liveclaims import LiveClaims
from geokb.projection.quads import iri, literal, sparql_data, to_conflicts
from geokb.projection.singlevalued import single_valued
from geokb.vocab import (
    ASSESSMENT,
    CONFLICT,
    CONFLICTS_GRAPH,
    GK,
    MODALITY,
    RDF,
    RULE,
    XSD,
)

_ASSERTED_OR_QUOTED = frozenset({MODALITY.asserted.value, MODALITY.quoted.value})


@dataclass(frozen=True)
class Side:
    value: NamedNode | Literal | None
    negated: bool
    claims: tuple[str, ...]
    end: date | None = None  # the latest valid end of its claims; None: one has none


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


def projection_live(store: AnyStore) -> Callable[[str], bool]:
    """``live`` for the head: the claim has not ended (:func:`~geokb.projection.keys.is_live`)."""
    store = raw(store)
    return lambda claim: is_live(store, claim)


# -- the rules ----------------------------------------------------------------------------


def find(store: AnyStore, keys: Iterable[Key], *, live: Callable[[str], bool],
         model: LiveClaims | None = None) -> list[Conflict]:
    """The conflicts of ``keys`` among the claims ``live`` accepts, in key order (pure: reads
    ``store``, writes nothing). The read side passes its :class:`ProjectionStore` and "known
    at ``as_of``"; the projection, "not ended" (:func:`projection_live`) and its ``model``
    of the head, which holds the live claims of the keys it was asked about
    (:mod:`geokb.projection.liveclaims`)."""
    store = raw(store)
    sources: dict[str, tuple[date, date] | None] = {}
    out: list[Conflict] = []
    single = single_valued_properties()
    keys = sorted(set(keys))
    disputes = disputed(store) if len(keys) >= MANY_KEYS else None
    claims_of = ClaimsOfKeys(store)
    for key in keys:
        if key[0] == "sp":
            if disputes is not None and key[2] not in single \
                    and (key[1], key[2]) not in disputes:
                continue  # no claim of the key disputes: only rule 1 could apply
            if model is not None:
                claims = model.records(key[1], key[2], claims_of)
                if key[2] not in single and not any(c.disputes for c in claims):
                    continue
            else:
                names = [c for c in claims_of(key[1], key[2]) if live(c)]
                if key[2] not in single and not any(disputing(store, c) for c in names):
                    continue  # rules 2 and 3 need a denial or a link, rule 1 a single value
                claims = [read_claim(store, c, sources) for c in names]
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
    statement from another origin at an overlapping time. A denial with no valid time and
    no ``gk:denies`` link speaks of the time of the claim it is set against: ``x``'s."""
    if x.iri in d.linked("denies"):
        return True
    if not (d.negated and x.modality in _ASSERTED_OR_QUOTED and d.object == x.object
            and d.origin != x.origin):
        return False
    linked = any(t in by_iri for t in d.linked("denies"))
    theirs = d.dated or linked
    return overlap(_denial_interval(d, by_iri) if theirs else known_interval(x),
                   known_interval(x))


def _candidate_pairs(claims: list[ClaimTimes], by_iri: dict[str, ClaimTimes]
                     ) -> list[tuple[ClaimTimes, ClaimTimes]]:
    """The pairs rules 2 and 3 can apply to, in a stable order: a denial and a claim of its
    object; claims linked by ``denies`` or ``contradicts``. (Not every pair: a key can have
    many claims.)"""
    pairs: set[tuple[str, str]] = set()

    def add(a: str, b: str) -> None:
        if a != b:
            pairs.add((a, b) if a < b else (b, a))

    by_object: dict[str, list[ClaimTimes]] = {}
    for c in claims:
        by_object.setdefault(str(c.object), []).append(c)
    for d in claims:
        if d.negated:
            for x in by_object[str(d.object)]:
                add(d.iri, x.iri)
        for target in d.linked("denies") | d.linked("contradicts"):
            if target in by_iri:
                add(d.iri, target)
    return [(by_iri[a], by_iri[b]) for a, b in sorted(pairs)]


def _subject_property_conflict(key: Key, claims: list[ClaimTimes]) -> Conflict | None:
    by_iri = {c.iri: c for c in claims}
    members = single_valued(claims) if key[2] in single_valued_properties() else set()
    rules: set[str] = {"single-valued"} if members else set()
    for a, b in _candidate_pairs(claims, by_iri):  # every pair rules 2 and 3 apply to
        found: set[str] = set()
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
    sides = tuple(Side(cs[0].object, cs[0].negated, tuple(c.iri for c in cs), _side_end(cs))
                  for cs in groups)
    return Conflict(key, conflict_iri(key), (key[1],), key[2], tuple(sorted(rules)),
                    _latest(starts), sides)


def _pair_conflict(key: Key, a: ClaimTimes, b: ClaimTimes) -> Conflict | None:
    if not (b.iri in a.linked("contradicts") or a.iri in b.linked("contradicts")):
        return None
    pair = sorted((a, b), key=lambda c: c.position)
    sides = tuple(Side(None, c.negated, (c.iri,), c.valid_end) for c in pair)
    on = tuple(dict.fromkeys(c.subject for c in pair))
    starts = [_side_start([known_interval(c)]) for c in pair]
    return Conflict(key, conflict_iri(key), on, None, ("contradiction",), _latest(starts),
                    sides)


def _side_end(claims: list[ClaimTimes]) -> date | None:
    """A side's end: the latest valid end of its claims, none while one has none."""
    ends = [c.valid_end for c in claims]
    return None if any(e is None for e in ends) else max(e for e in ends if e is not None)


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
        if side.end is not None:
            lines.append(f"{s} {t}sideEnd> {literal(side.end.isoformat(), datatype=_X_DATE)} .")
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


def changes(store: Store, keys: Iterable[Key], model: LiveClaims | None = None
            ) -> tuple[list[str], list[str]]:
    """What recomputing ``keys`` at the head changes in ``graph/conflicts``: the lines to
    delete and the lines to insert."""
    keys = set(keys)
    old: set[str] = set()
    for key in keys:
        kept = model.conflict_lines(key) if model is not None else None
        old.update(kept if kept is not None else stored_lines(store, key))
    by_key: dict[Key, tuple[str, ...]] = dict.fromkeys(keys, ())
    for c in find(store, keys, live=projection_live(store), model=model):
        by_key[c.key] = tuple(conflict_lines(c))
    if model is not None:
        model.wrote_conflicts(by_key)
    new = {line for lines in by_key.values() for line in lines}
    return sorted(old - new), sorted(new - old)


def keys_of(store: Store, touched: set[str] | None) -> set[Key]:
    """The keys of the ``touched`` claims (``None``: every key of the store)."""
    return all_keys(store) if touched is None else keys_for_claims(store, touched)


def update(store: Store, keys: Iterable[Key], removed: Sequence[str], block: str,
           model: LiveClaims | None = None) -> str:
    """A SPARQL update that removes ``removed`` (N-Quads lines) and ``block`` (a ``GRAPH``
    block of data) and replaces the conflicts of ``keys``, computed from ``store`` as it is
    (before the removals: the rules read only the claims' records, never the statements the
    removals take out of the views)."""
    old, new = changes(store, keys, model)
    text = f"DELETE DATA {{ {sparql_data([*removed, *old])}\n{block} }}"
    if new:
        text += f" ;\nINSERT DATA {{ {sparql_data(new)} }}"
    return text
