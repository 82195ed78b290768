"""The keys of the conflict rules (:mod:`geokb.projection.conflicts`): which keys a claim
belongs to, and which claims a key holds, read from the store with a few lookups a claim
rather than the claim's whole record (the projection asks for the keys of every claim a
batch touched).

A *key* names what one conflict is about: ``("sp", subject, property)`` for the claims of
one subject and statement property, or ``("pair", a, b)`` for a contradiction between two
claims of different subjects or properties (``a < b``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyoxigraph import DefaultGraph, NamedNode, Store

from geokb.vocab import GK, MODALITY, RDF, term_value

#: A pyoxigraph store, or a :class:`~geokb.projection.store.ProjectionStore` (which this
#: module cannot name: the store imports the rules).
AnyStore = Any

Key = tuple[str, str, str]

DEFAULT = DefaultGraph()

_SUBJECT, _PREDICATE = RDF.subject, RDF.predicate
_LINKS = (GK.denies, GK.confirms, GK.contradicts)
_ENDED = GK.knownUntilPosition


def claims_by_property(store: Store, subject: str) -> dict[str, list[str]]:
    """The claims of ``subject``, sorted, by statement property (one pass over the
    subject's claims, one lookup each)."""
    out: dict[str, list[str]] = {}
    for q in store.quads_for_pattern(None, _SUBJECT, NamedNode(subject), DEFAULT):
        p = next(store.quads_for_pattern(q.subject, _PREDICATE, None, DEFAULT), None)
        if p is not None:
            out.setdefault(term_value(p.object), []).append(term_value(q.subject))
    for claims in out.values():
        claims.sort()
    return out


class ClaimsOfKeys:
    """The claims of subject-property keys asked for in key order: a subject's claims are
    read once for all its keys (a busy entity's keys would each scan all its claims)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.subject: str | None = None
        self.by_property: dict[str, list[str]] = {}

    def __call__(self, subject: str, prop: str) -> list[str]:
        if subject != self.subject:  # keys come sorted: a subject's keys one after another
            self.subject, self.by_property = subject, claims_by_property(self.store, subject)
        return self.by_property.get(prop, [])


def is_live(store: Store, claim: str) -> bool:
    """Whether ``claim`` has not ended at the head (no ``gk:knownUntilPosition``)."""
    return next(store.quads_for_pattern(NamedNode(claim), _ENDED, None, DEFAULT),
                None) is None


def raw(store: AnyStore) -> Store:
    """The pyoxigraph store the rules read (a ``ProjectionStore``'s own)."""
    inner = getattr(store, "_store", None)
    return inner if isinstance(inner, Store) else store


def subject_property(store: Store, node: NamedNode) -> tuple[str, str] | None:
    """A claim's subject and statement property (two lookups), or ``None`` if the store
    holds no record of it."""
    s = next(store.quads_for_pattern(node, _SUBJECT, None, DEFAULT), None)
    p = next(store.quads_for_pattern(node, _PREDICATE, None, DEFAULT), None)
    if s is None or p is None:
        return None
    return term_value(s.object), term_value(p.object)


class _KeyOf:
    """:func:`_subject_property`, looked up once a claim."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.known: dict[NamedNode, tuple[str, str] | None] = {}

    def __call__(self, node: NamedNode) -> tuple[str, str] | None:
        if node not in self.known:
            self.known[node] = subject_property(self.store, node)
        return self.known[node]


def keys_for_claims(store: Store, claims: Iterable[str]) -> set[Key]:
    """The keys whose conflicts can change when ``claims`` do: each claim's subject and
    property, those of the claims it links to or that link to it, and its cross-key
    links (a few lookups a claim, not its whole record)."""
    keys: set[Key] = set()
    key_of = _KeyOf(store)
    for claim in set(claims):
        node = NamedNode(claim)
        mine = key_of(node)
        if mine is None:
            continue
        keys.add(("sp", *mine))
        linked: set[str] = set()
        for pred in _LINKS:
            linked.update(term_value(q.object)
                          for q in store.quads_for_pattern(node, pred, None, DEFAULT))
            linked.update(term_value(q.subject)
                          for q in store.quads_for_pattern(None, pred, node, DEFAULT))
        for other in linked:
            theirs = key_of(NamedNode(other))
            if theirs is None:
                continue
            keys.add(("sp", *theirs))
            if theirs != mine:
                a, b = sorted((claim, other))
                keys.add(("pair", a, b))
    return keys


_ALL_SP = (f"PREFIX rdf: <{RDF.base}> "
           "SELECT DISTINCT ?s ?p { ?c rdf:subject ?s ; rdf:predicate ?p }")
_DENIED_NODE = MODALITY.denied
#: From how many keys :func:`geokb.projection.conflicts.find` first looks up, once, which
#: keys of a property that is not single-valued hold a disputing claim at all.
MANY_KEYS = 10_000


def all_keys(store: AnyStore) -> set[Key]:
    """Every key of the store's claims (a rebuild of the whole conflicts graph): the same
    keys as :func:`keys_for_claims` of every claim, from one query and the links."""
    store = raw(store)
    keys: set[Key] = {("sp", term_value(r["s"]), term_value(r["p"]))
                      for r in store.query(_ALL_SP)}
    key_of = _KeyOf(store)
    for pred in _LINKS:
        for q in store.quads_for_pattern(None, pred, None, DEFAULT):
            a, b = q.subject, q.object
            if not isinstance(a, NamedNode) or not isinstance(b, NamedNode):
                continue
            ka, kb = key_of(a), key_of(b)
            if ka is not None and kb is not None and ka != kb:
                x, y = sorted((a.value, b.value))
                keys.add(("pair", x, y))
    return keys


def disputed(store: Store) -> set[tuple[str, str]]:
    """The subjects and properties with a claim that disputes (a denial, or one that links
    another as denied or contradicted), ended or not: a superset of those rules 2 and 3
    can apply to."""
    claims = {q.subject for q in store.quads_for_pattern(None, GK.modality, _DENIED_NODE,
                                                         DEFAULT)}
    for pred in (GK.denies, GK.contradicts):
        claims.update(q.subject for q in store.quads_for_pattern(None, pred, None, DEFAULT))
    out = set()
    for claim in claims:
        if isinstance(claim, NamedNode):
            key = subject_property(store, claim)
            if key is not None:
                out.add(key)
    return out
