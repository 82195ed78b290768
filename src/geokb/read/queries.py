"""Read models over the projection: entity lookup, status, timeline and claim details.

Each answer is a plain dictionary in the documented JSON shape (``docs/json-schema.md``)
that the CLI prints and the HTTP API returns. Time travel: ``as_of`` is a log position
(what the KB held then) and ``valid_at`` a world date of day, month or year precision
(what was true then); a claim whose valid time is unknown is taken to hold at any date.

Status and timeline answers come a page at a time (:data:`PAGE_SIZE` claims by default):
an entity with thousands of claims costs one page, plus a few index lookups per claim to
put them in order. Each node of a claim is read with one pattern lookup. What answers
share (labels, sources, the ordered claims of an entity) is remembered for the store's
current log position only; every change of the projection moves the position, so nothing
remembered outlives what it describes. The name index (label or alias → entities) follows
the projection event by event instead of being rebuilt.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from geokb.errors import Ambiguous, InvalidEvent, NotFound
from geokb.log.codec import date_bounds
from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    ENTITY_DECLARED,
    SOURCE_REGISTERED,
)
from geokb.projection.quads import DEFAULT
from geokb.projection.store import ProjectionStore
from geokb.read.namekey import name_key
from geokb.vocab import (
    DCTERMS,
    GK,
    ID,
    OA,
    OWL,
    PROV,
    RDF,
    RDFS,
    SKOS,
    XSD,
    compact,
    expand,
    is_slug,
    term_value,
)

#: Claims per page of a status or timeline answer, unless the caller asks otherwise.
PAGE_SIZE = 50
#: Entities whose ordered claims are remembered per log position.
REMEMBERED_ENTITIES = 256
#: Labels and sources remembered per log position (forgotten all at once past this).
REMEMBERED_TERMS = 100_000
#: Past this many new events, the name index is rebuilt rather than brought up to date.
NAME_INDEX_CATCH_UP = 5000

# The terms of the hot path, made once (``GK.x`` builds a new term at each use).
_TYPE, _SUBJECT, _PREDICATE, _OBJECT = RDF.type, RDF.subject, RDF.predicate, RDF.object
_LABEL, _PREF_LABEL, _ALT_LABEL = RDFS.label, SKOS.prefLabel, SKOS.altLabel
_KNOWN_FROM, _KNOWN_UNTIL = GK.knownFromPosition, GK.knownUntilPosition
_VALID_FROM, _VALID_UNTIL = GK.validFrom, GK.validUntil
_VALID_START, _VALID_END = GK.validStart, GK.validEnd
_STATUS, _MODALITY, _DECLARED_IN = GK.status, GK.modality, GK.declaredIn
_POSITION, _EVENT_TYPE, _SHA256 = GK.position, GK.eventType, GK.sha256
_ASSERTED_IN, _RETRACTED_IN, _SUPERSEDED_IN = GK.assertedIn, GK.retractedIn, GK.supersededIn
_SAME_AS = OWL.sameAs
_LABEL_PREDICATES = frozenset({_LABEL.value, _ALT_LABEL.value})


class _P:
    """Predicate IRIs as strings: the keys of :func:`props` dictionaries."""

    subject, predicate, object = _SUBJECT.value, _PREDICATE.value, _OBJECT.value
    modality, derived, asserted = _MODALITY.value, PROV.wasDerivedFrom.value, _ASSERTED_IN.value
    retracted, superseded = _RETRACTED_IN.value, _SUPERSEDED_IN.value
    retraction_reason, supersession_reason = (GK.retractionReason.value,
                                              GK.supersessionReason.value)
    superseded_by, known_until = GK.supersededBy.value, _KNOWN_UNTIL.value
    step, step_index, agent = GK.attributionStep.value, GK.stepIndex.value, PROV.agent.value
    valid_from, valid_from_precision = _VALID_FROM.value, GK.validFromPrecision.value
    valid_until, valid_until_precision = _VALID_UNTIL.value, GK.validUntilPrecision.value
    speaker, confidence, comment = GK.speaker.value, GK.confidence.value, RDFS.comment.value
    position, recorded_at, recorded_by = _POSITION.value, GK.recordedAt.value, \
        GK.recordedBy.value
    exact, prefix, suffix = OA.exact.value, OA.prefix.value, OA.suffix.value
    start, end = OA.start.value, OA.end.value


@dataclass(frozen=True)
class TimeFilter:
    """Where in the two times an answer stands: log position and world date range."""

    as_of: int | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    valid_at_text: str | None = None

    @classmethod
    def make(cls, as_of: int | None, valid_at: str | None) -> TimeFilter:
        if valid_at is None:
            return cls(as_of=as_of)
        first, last, _ = date_bounds(valid_at)
        return cls(as_of=as_of, valid_from=first, valid_until=last, valid_at_text=valid_at)


# -- lookups ---------------------------------------------------------------------------


def one(store: ProjectionStore, s: NamedNode | BlankNode | Triple, p: NamedNode) -> Any:
    """The object of one ``s p ?o`` triple of the current view, or ``None``."""
    q = next(store.store.quads_for_pattern(s, p, None, DEFAULT), None)
    return q.object if q is not None else None


def _all(store: ProjectionStore, s: NamedNode, p: NamedNode) -> list[Any]:
    return [q.object for q in store.store.quads_for_pattern(s, p, None, DEFAULT)]


def props(store: ProjectionStore, node: NamedNode) -> dict[str, list[Any]]:
    """Every ``node ?p ?o`` of the current view in one lookup: predicate IRI → objects.

    The objects of a predicate come in the order :func:`one` sees them, so
    ``_first(props(s), p)`` is ``one(s, p)``.
    """
    out: dict[str, list[Any]] = {}
    for q in store.store.quads_for_pattern(node, None, None, DEFAULT):
        p = q.predicate.value
        values = out.get(p)
        if values is None:
            out[p] = [q.object]
        else:
            values.append(q.object)
    return out


def _first(node: dict[str, list[Any]], p: str) -> Any:
    values = node.get(p)
    return values[0] if values else None


def as_int(term: Any) -> int | None:
    """The integer value of a literal, or ``None`` for ``None``."""
    return int(term.value) if term is not None else None


# -- what is remembered per store and log position -----------------------------------------


@dataclass
class _Memo:
    """Facts shared by the answers read at one log position."""

    position: int
    labels: dict[str, str | None] = field(default_factory=dict)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)
    found: OrderedDict[str, list[_Found]] = field(default_factory=OrderedDict)


@dataclass
class _Reads:
    """Everything remembered about one store: the memo of its position, its name index."""

    memo: _Memo
    names: _NameIndex | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


# Keyed by the store object itself, so a store's memory goes when the store goes and two
# stores (two KBs, a KB and its snapshots) never share anything.
_READS: weakref.WeakKeyDictionary[ProjectionStore, _Reads] = weakref.WeakKeyDictionary()
_READS_LOCK = threading.Lock()


def _reads(store: ProjectionStore) -> _Reads:
    reads = _READS.get(store)
    if reads is None:
        with _READS_LOCK:
            reads = _READS.get(store)
            if reads is None:
                reads = _READS[store] = _Reads(_Memo(store.position))
    return reads


def _memo(store: ProjectionStore) -> _Memo:
    reads = _reads(store)
    memo = reads.memo
    if memo.position != store.position:
        memo = reads.memo = _Memo(store.position)
    return memo


def label_of(store: ProjectionStore, iri: NamedNode, labels: dict[str, str]) -> str:
    """The ``rdfs:label`` (or ``skos:prefLabel``) of ``iri``, the ontology's label for it,
    or its compact form."""
    memo = _memo(store)
    key = iri.value
    if key in memo.labels:
        found = memo.labels[key]
    else:
        if len(memo.labels) >= REMEMBERED_TERMS:
            memo.labels.clear()
        term = one(store, iri, _LABEL) or one(store, iri, _PREF_LABEL)
        found = memo.labels[key] = str(term.value) if term is not None else None
    if found is not None:
        return found
    return labels.get(key, compact(key))


def term_json(store: ProjectionStore, term: Any, labels: dict[str, str]) -> dict[str, Any]:
    if isinstance(term, NamedNode):
        return {"iri": term.value, "label": label_of(store, term, labels)}
    assert isinstance(term, Literal)
    out: dict[str, Any] = {"value": term.value}
    if term.language:
        out["lang"] = term.language
    else:
        out["datatype"] = term.datatype.value
    return out


# -- claims ------------------------------------------------------------------------------


def _event_json(store: ProjectionStore, ev: Any) -> dict[str, Any] | None:
    if ev is None:
        return None
    node = props(store, ev)
    return {
        "event": ev.value.rsplit("/", 1)[-1],
        "position": as_int(_first(node, _P.position)),
        "recorded_at": str(_first(node, _P.recorded_at).value),
        "recorded_by": str(_first(node, _P.recorded_by).value),
    }


def _source_json(store: ProjectionStore, src: NamedNode) -> dict[str, str]:
    memo = _memo(store)
    known = memo.sources.get(src.value)
    if known is None:
        if len(memo.sources) >= REMEMBERED_TERMS:
            memo.sources.clear()
        known = memo.sources[src.value] = (str(one(store, src, DCTERMS.title).value),
                                           str(one(store, src, _SHA256).value))
    return {"iri": src.value, "title": known[0], "sha256": known[1]}


def claim_json(store: ProjectionStore, claim: NamedNode, labels: dict[str, str],
               as_of: int | None = None) -> dict[str, Any]:
    """Everything about one claim: statement, modality, evidence, time, lifecycle.

    Raises :class:`NotFound` if ``claim`` was never asserted.
    """
    c = props(store, claim)
    asserted = _first(c, _P.asserted)
    if asserted is None:
        raise NotFound(f"no claim {claim.value}")
    quote = props(store, NamedNode(claim.value + "#quote"))
    span = props(store, NamedNode(claim.value + "#position"))
    evidence_sha = one(store, NamedNode(claim.value + "#evidence"), _SHA256)
    steps = []
    for step in c.get(_P.step, ()):
        node = props(store, step)
        steps.append((as_int(_first(node, _P.step_index)) or 0,
                      term_json(store, _first(node, _P.agent), labels)))
    until = as_int(_first(c, _P.known_until))
    ended = until is not None and (as_of is None or until <= as_of)
    retracted = _first(c, _P.retracted) if ended else None
    superseded_in = _first(c, _P.superseded) if ended else None
    state = "retracted" if retracted is not None else \
        "superseded" if superseded_in is not None else "live"

    def when(value_p: str, prec_p: str) -> dict[str, str] | None:
        value = _first(c, value_p)
        if value is None:
            return None
        return {"value": value.value, "precision": _first(c, prec_p).value.rsplit("/", 1)[-1]}

    speaker = _first(c, _P.speaker)
    confidence = _first(c, _P.confidence)
    note = _first(c, _P.comment)
    lifecycle: dict[str, Any] = {"state": state, "asserted": _event_json(store, asserted)}
    if retracted is not None:
        lifecycle["retracted"] = {**(_event_json(store, retracted) or {}),
                                  "reason": _first(c, _P.retraction_reason).value}
    if superseded_in is not None:
        lifecycle["superseded"] = {**(_event_json(store, superseded_in) or {}),
                                   "by": _first(c, _P.superseded_by).value,
                                   "reason": _first(c, _P.supersession_reason).value}
    return {
        "claim": claim.value,
        "id": claim.value.rsplit("/", 1)[-1],
        "statement": {
            "subject": term_json(store, _first(c, _P.subject), labels),
            "predicate": term_json(store, _first(c, _P.predicate), labels),
            "object": term_json(store, _first(c, _P.object), labels),
        },
        "modality": _first(c, _P.modality).value.rsplit("/", 1)[-1],
        "source": _source_json(store, _first(c, _P.derived)),
        "evidence": {
            "quote": _first(quote, _P.exact).value,
            "start": as_int(_first(span, _P.start)),
            "end": as_int(_first(span, _P.end)),
            "prefix": _first(quote, _P.prefix).value,
            "suffix": _first(quote, _P.suffix).value,
            "sha256": evidence_sha.value,
        },
        "speaker": term_json(store, speaker, labels) if speaker is not None else None,
        "reported_via": [agent for _, agent in sorted(steps, key=lambda s: s[0])],
        "valid_time": {"from": when(_P.valid_from, _P.valid_from_precision),
                       "until": when(_P.valid_until, _P.valid_until_precision)},
        "confidence": confidence.value if confidence is not None else None,
        "note": note.value if note is not None else None,
        "lifecycle": lifecycle,
    }


# -- the claims about an entity, in order ------------------------------------------------


class _Found(NamedTuple):
    """A claim about an entity with what the time filters and the order need."""

    claim: NamedNode
    known_from: int
    known_until: int | None
    world: str  # its valid-time start (else end) as written, "9999" if unknown
    status: bool  # the entity is its subject and gk:status its predicate


class Ranked(NamedTuple):
    """A claim of a status or timeline answer, in the answer's order."""

    claim: NamedNode
    status: bool  # a gk:status claim with the entity as subject (its statement's form)


def _valid(store: ProjectionStore, claim: NamedNode, when: TimeFilter) -> bool:
    if when.valid_from is None or when.valid_until is None:
        return True
    start = one(store, claim, _VALID_START)
    end = one(store, claim, _VALID_END)
    if start is not None and date.fromisoformat(start.value) > when.valid_until:
        return False
    return not (end is not None and date.fromisoformat(end.value) < when.valid_from)


def _found(store: ProjectionStore, entity: NamedNode) -> list[_Found]:
    """Every claim ever made about ``entity`` (as subject or object), remembered for the
    store's position: status, as-of status, timeline and later pages share one scan."""
    memo = _memo(store)
    remembered = memo.found.get(entity.value)
    if remembered is not None:
        memo.found.move_to_end(entity.value)
        return remembered
    seen: set[str] = set()
    out: list[_Found] = []
    for pred in (_SUBJECT, _OBJECT):
        for q in store.store.quads_for_pattern(None, pred, entity, DEFAULT):
            c = q.subject
            if not isinstance(c, NamedNode) or c.value in seen:
                continue
            seen.add(c.value)
            start = one(store, c, _KNOWN_FROM)
            if start is None:
                continue
            world = one(store, c, _VALID_FROM)
            if world is None:
                world = one(store, c, _VALID_UNTIL)
            out.append(_Found(c, int(start.value), as_int(one(store, c, _KNOWN_UNTIL)),
                              world.value if world is not None else "9999",
                              pred is _SUBJECT and one(store, c, _PREDICATE) == _STATUS))
    memo.found[entity.value] = out
    while len(memo.found) > REMEMBERED_ENTITIES:
        memo.found.popitem(last=False)
    return out


def claims_about(store: ProjectionStore, entity: NamedNode, when: TimeFilter) -> list[Ranked]:
    """Claims whose statement has ``entity`` as subject or object, known and valid
    ``when``, in the answers' order: by valid time (unknown last), then log position."""
    kept: list[_Found] = []
    for f in _found(store, entity):
        if when.as_of is None:
            if f.known_until is not None:
                continue
        elif f.known_from > when.as_of or (f.known_until is not None
                                           and f.known_until <= when.as_of):
            continue
        if when.valid_from is not None and not _valid(store, f.claim, when):
            continue
        kept.append(f)
    kept.sort(key=lambda f: (f.world, f.known_from))
    return [Ranked(f.claim, f.status) for f in kept]


def entity_json(store: ProjectionStore, entity: NamedNode,
                labels: dict[str, str]) -> dict[str, Any]:
    return {
        "iri": entity.value,
        "label": label_of(store, entity, labels),
        "types": sorted(compact(t.value) for t in _all(store, entity, _TYPE)),
        "aliases": sorted(str(a.value) for a in _all(store, entity, _ALT_LABEL)),
        "same_as": sorted(t.value for t in _all(store, entity, _SAME_AS)),
    }


def _page(store: ProjectionStore, ranked: list[Ranked], when: TimeFilter, limit: int | None,
          offset: int) -> tuple[list[Ranked], dict[str, Any]]:
    """The window of ``ranked`` to show, and the answer's ``page``: where the window is,
    how many claims there are, and the arguments that fetch the next window (``None`` at
    the end), which pin ``as_of`` so that later pages come from the same state."""
    if limit is not None and limit < 1:
        raise InvalidEvent(f"limit {limit}: give 1 or more claims per page")
    if offset < 0:
        raise InvalidEvent(f"offset {offset}: give 0 or more")
    end = len(ranked) if limit is None else offset + limit
    window = ranked[offset:end]
    more = end < len(ranked)
    following = {"as_of": when.as_of if when.as_of is not None else store.position,
                 "valid_at": when.valid_at_text, "offset": end, "limit": limit}
    return window, {"offset": offset, "limit": limit, "total": len(ranked),
                    "next": following if more else None}


def _answer(store: ProjectionStore, entity: NamedNode, when: TimeFilter,
            labels: dict[str, str], limit: int | None,
            offset: int) -> tuple[list[Ranked], list[dict[str, Any]], dict[str, Any]]:
    ranked = claims_about(store, entity, when)
    window, page = _page(store, ranked, when, limit, offset)
    return ranked, [claim_json(store, r.claim, labels, when.as_of) for r in window], page


def _status_value(store: ProjectionStore, claim: NamedNode, entity: NamedNode,
                  shown: dict[str, dict[str, Any]],
                  labels: dict[str, str]) -> dict[str, Any] | None:
    """The status a gk:status claim gives ``entity``, or ``None`` if it is not one (its
    subject is another entity, or its object a literal)."""
    c = shown.get(claim.value)
    if c is not None:
        s, p, o = c["statement"]["subject"], c["statement"]["predicate"], \
            c["statement"]["object"]
        if p["iri"] != _STATUS.value or s["iri"] != entity.value or "iri" not in o:
            return None
        return {"value": o["iri"], "label": o["label"], "modality": c["modality"],
                "claim": c["claim"]}
    node = props(store, claim)
    subject, obj = _first(node, _P.subject), _first(node, _P.object)
    if _first(node, _P.predicate) != _STATUS or subject != entity \
            or not isinstance(obj, NamedNode):
        return None
    return {"value": obj.value, "label": label_of(store, obj, labels),
            "modality": _first(node, _P.modality).value.rsplit("/", 1)[-1],
            "claim": claim.value}


def status(store: ProjectionStore, entity: NamedNode, when: TimeFilter,
           labels: dict[str, str], *, limit: int | None = PAGE_SIZE,
           offset: int = 0) -> dict[str, Any]:
    """The status claims of ``entity`` (all of them) and a page of every claim about it,
    with evidence. ``limit=None`` gives every claim on one page.

    Raises :class:`InvalidEvent` for a ``limit`` under 1 or a negative ``offset``.
    """
    ranked, claims, page = _answer(store, entity, when, labels, limit, offset)
    shown = {c["claim"]: c for c in claims}
    status_values = [v for r in ranked if r.status
                     for v in [_status_value(store, r.claim, entity, shown, labels)]
                     if v is not None]
    return {"entity": entity_json(store, entity, labels), "as_of": when.as_of,
            "valid_at": when.valid_at_text, "status": status_values, "claims": claims,
            "page": page}


def timeline(store: ProjectionStore, entity: NamedNode, when: TimeFilter,
             labels: dict[str, str], *, limit: int | None = PAGE_SIZE,
             offset: int = 0) -> dict[str, Any]:
    """A page of the claims about ``entity`` in world-time order (unknown dates last).

    Raises :class:`InvalidEvent` for a ``limit`` under 1 or a negative ``offset``.
    """
    _, claims, page = _answer(store, entity, when, labels, limit, offset)
    return {"entity": entity_json(store, entity, labels), "as_of": when.as_of,
            "valid_at": when.valid_at_text, "claims": claims, "page": page}


# -- names ------------------------------------------------------------------------------


@dataclass
class _NameIndex:
    """Labelled IRIs by lower-cased label and alias, as of the store's ``position``.

    Whether an IRI is a declared entity (and was at ``as_of``) is checked on lookup.
    """

    position: int
    by_name: dict[str, set[str]] = field(default_factory=dict)
    names_of: dict[str, set[str]] = field(default_factory=dict)

    def put(self, iri: str, names: set[str]) -> None:
        for name in self.names_of.pop(iri, set()):
            holders = self.by_name.get(name)
            if holders is not None:
                holders.discard(iri)
                if not holders:
                    del self.by_name[name]
        if names:
            self.names_of[iri] = names
            for name in names:
                self.by_name.setdefault(name, set()).add(iri)


def _name(term: Any) -> str | None:
    """A label as the name index keys it (:func:`~geokb.read.namekey.name_key`)."""
    return name_key(term.value) if isinstance(term, NamedNode | Literal) else None


def _names_of(store: ProjectionStore, node: NamedNode) -> set[str]:
    """The lower-cased labels and aliases of ``node`` (none if it has no label)."""
    labels = _all(store, node, _LABEL)
    if not labels:
        return set()
    return {n for t in [*labels, *_all(store, node, _ALT_LABEL)] if (n := _name(t)) is not None}


def _build_names(store: ProjectionStore, position: int) -> _NameIndex:
    names: dict[str, set[str]] = {}
    for q in store.store.quads_for_pattern(None, _LABEL, None, DEFAULT):
        name = _name(q.object)
        if isinstance(q.subject, NamedNode):
            found = names.setdefault(q.subject.value, set())
            if name is not None:
                found.add(name)
    for q in store.store.quads_for_pattern(None, _ALT_LABEL, None, DEFAULT):
        name = _name(q.object)
        known = names.get(q.subject.value) if isinstance(q.subject, NamedNode) else None
        if known is not None and name is not None:  # an alias counts beside a label only
            known.add(name)
    index = _NameIndex(position)
    for iri, found in names.items():
        index.put(iri, found)
    return index


def _event_at(store: ProjectionStore, position: int) -> NamedNode | None:
    q = next(store.store.quads_for_pattern(
        None, _POSITION, Literal(str(position), datatype=XSD.integer), DEFAULT), None)
    return q.subject if q is not None and isinstance(q.subject, NamedNode) else None


def _catch_up_names(store: ProjectionStore, index: _NameIndex, position: int) -> bool:
    """Bring ``index`` from its position to ``position`` by looking at the events between
    in the projection; ``False`` if it must be rebuilt (an update, or an event not found)."""
    for pos in range(index.position + 1, position + 1):
        ev = _event_at(store, pos)
        kind = one(store, ev, _EVENT_TYPE) if ev is not None else None
        if kind is None:
            return False
        if kind.value == ENTITY_DECLARED:
            for q in store.store.quads_for_pattern(None, _DECLARED_IN, ev, DEFAULT):
                if isinstance(q.subject, NamedNode):
                    index.put(q.subject.value, _names_of(store, q.subject))
        elif kind.value in (CLAIM_ASSERTED, CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            # a live claim "x rdfs:label y" puts the label in the current view
            link = {CLAIM_ASSERTED: _ASSERTED_IN, CLAIM_RETRACTED: _RETRACTED_IN,
                    CLAIM_SUPERSEDED: _SUPERSEDED_IN}[kind.value]
            for q in store.store.quads_for_pattern(None, link, ev, DEFAULT):
                pred, subject = one(store, q.subject, _PREDICATE), one(store, q.subject,
                                                                       _SUBJECT)
                if isinstance(pred, NamedNode) and pred.value in _LABEL_PREDICATES \
                        and isinstance(subject, NamedNode):
                    index.put(subject.value, _names_of(store, subject))
        elif kind.value != SOURCE_REGISTERED:  # GraphUpdated, or a type we do not know
            return False
    index.position = position
    return True


def _named(store: ProjectionStore, name: str) -> list[str]:
    """The IRIs labelled or also known as ``name`` (any case), declared or not."""
    reads = _reads(store)
    with reads.lock:
        position = store.position
        index = reads.names
        if index is None or index.position > position or \
                position - index.position > NAME_INDEX_CATCH_UP or \
                (index.position < position and not _catch_up_names(store, index, position)):
            index = reads.names = _build_names(store, position)
        return sorted(index.by_name.get(name_key(name), ()))


def resolve_entity(store: ProjectionStore, name: str, as_of: int | None = None) -> NamedNode:
    """The entity named ``name`` (label or alias, any case; or slug, prefixed name, IRI).

    Raises :class:`NotFound`, or :class:`Ambiguous` listing the candidates.
    """
    direct: str | None = None
    if is_slug(name):
        direct = ID[name].value
    elif ":" in name:
        try:
            direct = NamedNode(expand(name)).value  # NamedNode: "http://x y" is no IRI
        except ValueError:
            direct = None
    if direct is not None and one(store, NamedNode(direct), _DECLARED_IN) is not None \
            and (as_of is None or (as_int(one(store, NamedNode(direct), _KNOWN_FROM))
                                   or 0) <= as_of):
        return NamedNode(direct)
    candidates: list[tuple[str, str]] = []
    for iri in _named(store, name):
        entity = NamedNode(iri)
        start = as_int(one(store, entity, _KNOWN_FROM))
        if start is None or (as_of is not None and start > as_of) \
                or one(store, entity, _DECLARED_IN) is None:
            continue
        candidates.append((iri, str(one(store, entity, _LABEL).value)))
    if not candidates:
        raise NotFound(f"no entity is named {name!r} (try a label, an alias or a slug)")
    if len(candidates) > 1:
        raise Ambiguous(name, candidates)
    return NamedNode(candidates[0][0])


def recorded_at(store: ProjectionStore, position: int) -> str | None:
    """The transaction time of the event at ``position``."""
    ev = _event_at(store, position)
    if ev is None:
        return None
    t = one(store, ev, GK.recordedAt)
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


def iter_claims(store: ProjectionStore) -> Iterable[NamedNode]:
    for q in store.store.quads_for_pattern(None, _TYPE, GK.Claim, DEFAULT):
        if isinstance(q.subject, NamedNode):
            yield q.subject


def source_json(store: ProjectionStore, source: NamedNode, texts: Any) -> dict[str, Any]:
    """A source: metadata, stored text, and every claim's evidence span in it."""
    sha = one(store, source, _SHA256)
    if sha is None:
        raise NotFound(f"no source {source.value}")
    published = one(store, source, DCTERMS.issued)
    spans = []
    for q in store.store.quads_for_pattern(None, PROV.wasDerivedFrom, source, DEFAULT):
        claim = q.subject
        iri = term_value(claim)
        quote = NamedNode(iri + "#quote")
        span = NamedNode(iri + "#position")
        spans.append({"claim": iri, "id": iri.rsplit("/", 1)[-1],
                      "start": as_int(one(store, span, OA.start)),
                      "end": as_int(one(store, span, OA.end)),
                      "quote": one(store, quote, OA.exact).value,
                      "modality": one(store, claim, _MODALITY).value.rsplit("/", 1)[-1],
                      "live": one(store, claim, _KNOWN_UNTIL) is None})
    spans.sort(key=lambda s: (s["start"] or 0, s["id"]))
    publisher = one(store, source, DCTERMS.publisher)
    precision = one(store, source, GK.publicationPrecision)

    def text_of(pred: NamedNode) -> str | None:
        term = one(store, source, pred)
        return str(term.value) if term is not None else None

    return {
        "iri": source.value,
        "id": source.value.rsplit("/", 1)[-1],
        "title": text_of(DCTERMS.title),
        "sha256": sha.value,
        "publisher": publisher.value if publisher is not None else None,
        "url": text_of(GK.url),
        "published": published.value if published is not None else None,
        "publication_precision": precision.value.rsplit("/", 1)[-1],
        "language": text_of(DCTERMS.language),
        "section": text_of(GK.section),
        "description": text_of(DCTERMS.description),
        "text": texts.get(sha.value),
        "spans": spans,
    }
