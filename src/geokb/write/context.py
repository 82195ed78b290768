"""The projection lookups admission makes, remembered between writes.

Admission asks the projection the same small questions for every claim: is this entity
declared and what are its types, what is this source's hash, is this claim live, what is
the type of everything the batch mentions. On an on-disk projection each is a RocksDB
read that gets slower as the KB grows. :class:`ContextCache` answers them from memory:
it remembers the quads of one ``(subject, predicate, graph)`` pattern, and forgets them
when the projection moves on in a way it did not follow.

It is kept valid by position: it knows the projection's position and head hash, and the
KB hands it every event it applies (:meth:`ContextCache.follow`). An applied event can
only change what is said about the things its payload names (a claim's records hang off
its IRI, ``…#evidence`` and the like; an entity's and a source's off theirs), so the cache
forgets exactly those, and forgets everything for a ``GraphUpdated`` (a SPARQL update may
change anything). A claim asserted says something of nothing it names but itself and its
statement's subject, and of that subject only under the statement's predicate: the cache
forgets the claim, and of the subject that predicate (a busy entity named by every batch
stays remembered). A projection that moved without it (another KB object, a reset) no
longer matches its position and head hash, and the cache starts empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pyoxigraph import DefaultGraph, NamedNode, Quad

from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    GRAPH_UPDATED,
    RecordedEvent,
)
from geokb.projection.store import ProjectionStore
from geokb.vocab import EVENT, RDF

#: Patterns remembered before the cache starts again (a bound on its memory).
LIMIT = 200_000

_Key = tuple[str, str, str]  # subject, predicate, graph ("" for the default graph)


def base_of(iri: str) -> str:
    """The IRI without its fragment: what an event's payload names.

    >>> base_of("https://w3id.org/geokb/claim/c1#evidence")
    'https://w3id.org/geokb/claim/c1'
    """
    return iri.split("#", 1)[0]


def mentioned(value: Any, found: set[str] | None = None) -> set[str]:
    """Every IRI-like string (``scheme://…``) in a payload, without fragments.

    >>> sorted(mentioned({"claim": "https://x.org/c#q", "o": {"iri": "urn:no"},
    ...                   "l": ["http://y.org/e"]}))
    ['http://y.org/e', 'https://x.org/c']
    """
    out = set() if found is None else found
    if isinstance(value, str):
        if "://" in value:
            out.add(base_of(value))
    elif isinstance(value, dict):
        for v in value.values():
            mentioned(v, out)
    elif isinstance(value, list):
        for v in value:
            mentioned(v, out)
    return out


class ContextCache:
    """Remembered ``store.quads(subject, predicate, None, graph)`` answers of one
    projection, valid while its position and head hash are the ones the cache followed."""

    def __init__(self, store: ProjectionStore, *, limit: int = LIMIT) -> None:
        self.store = store
        self.limit = limit
        self._at = (store.position, store.head_hash)
        self._by_base: dict[str, dict[_Key, tuple[Quad, ...]]] = {}
        self._size = 0
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        self._by_base.clear()
        self._size = 0
        self._at = (self.store.position, self.store.head_hash)

    def quads(self, subject: NamedNode, predicate: NamedNode,
              graph: NamedNode | DefaultGraph) -> tuple[Quad, ...]:
        """The quads of the pattern (no wildcard but the object), remembered."""
        if self._at != (self.store.position, self.store.head_hash):
            self.clear()  # the projection moved without us: nothing remembered holds
        iri = subject.value
        key = (iri, predicate.value, graph.value if isinstance(graph, NamedNode) else "")
        base = base_of(iri)
        entries = self._by_base.get(base)
        if entries is not None:
            found = entries.get(key)
            if found is not None:
                self.hits += 1
                return found
        self.misses += 1
        answer = tuple(self.store.quads(subject, predicate, None, graph))
        if iri.startswith(EVENT.base):  # a draft's event: asked once, never again
            return answer
        if self._size >= self.limit:
            self.clear()
        self._by_base.setdefault(base, {})[key] = answer
        self._size += 1
        return answer

    def follow(self, events: Iterable[RecordedEvent]) -> Iterator[RecordedEvent]:
        """Pass ``events`` on (to :meth:`ProjectionStore.apply`), forgetting what each may
        change before it is applied; call :meth:`settle` once they are."""
        if not self._by_base:  # nothing remembered, nothing to forget (a replay, a catch-up)
            yield from events
            return
        for event in events:
            self._forget(event)
            yield event

    def settle(self, applied_from: tuple[int, str]) -> None:
        """After :meth:`follow` fed an apply that started at ``applied_from`` (the
        projection's position and head hash then): keep what is remembered if that was
        where the cache stood, else start again."""
        if applied_from != self._at:
            self._by_base.clear()
            self._size = 0
        self._at = (self.store.position, self.store.head_hash)

    def _forget(self, event: RecordedEvent) -> None:
        if event.type == GRAPH_UPDATED:
            self._by_base.clear()
            self._size = 0
            return
        if event.type == CLAIM_ASSERTED:
            self._drop(base_of(event.payload["claim"]))
            self._drop_pattern(event.payload["subject"], event.payload["predicate"])
            return
        names = mentioned(event.payload)
        if event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            # ending a claim takes its statement out of the current view: what is said of
            # its subject and object changes too (read before the event is applied)
            for claim in [event.payload.get("claim"), event.payload.get("by")]:
                if isinstance(claim, str):
                    for pred in (RDF.subject, RDF.object):
                        names |= {base_of(q.object.value) for q in self.store.quads(
                            NamedNode(claim), pred, None, DefaultGraph())
                            if isinstance(q.object, NamedNode)}
        for base in names:
            self._drop(base)

    def _drop(self, base: str) -> None:
        self._size -= len(self._by_base.pop(base, ()))

    def _drop_pattern(self, subject: str, predicate: str) -> None:
        """Forget what was remembered of ``subject`` under ``predicate`` (any graph)."""
        base = base_of(subject)
        entries = self._by_base.get(base)
        if entries:
            for key in [k for k in entries if k[0] == subject and k[1] == predicate]:
                del entries[key]
                self._size -= 1
