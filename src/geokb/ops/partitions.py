"""SHACL over a projection in partitions: each a few thousand focus nodes with the context
their shapes need, so memory follows the partition, not the KB, and ``geokb validate
--since`` can check only what changed.

A node's *base* is its IRI up to ``#`` (``claim/c1#evidence`` belongs to ``claim/c1``); a
base's *description* is every triple of the SHACL input (the default graph and the log
events of the system graph) whose subject is the base or one of its fragments. A
partition of bases is validated over their descriptions, the ``rdf:type`` triples of
every node they point to, the descriptions of the nodes reached through the shapes'
*deep* predicates (:mod:`geokb.shacl.reach`), and every ``rdfs:subClassOf`` triple of
the data; only the results about the partition's own bases are kept. Partition by
partition, each base is checked exactly where its shapes see what they would see in the
whole graph. :meth:`PartitionedShacl.run` also counts that the descriptions it read add up
to the whole input, and says so (``complete``) — a triple that no base owns (a subject
outside every base the caller named) sends the caller back to the whole-graph check.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad

from geokb.log.codec import current_payload
from geokb.log.events import (
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    ENTITY_AMENDED,
    ENTITY_DECLARED,
    SOURCE_REGISTERED,
    SOURCE_RETRACTED,
    RecordedEvent,
)
from geokb.projection.quads import SYSTEM_GRAPH, SYSTEM_NODE
from geokb.projection.store import ProjectionStore
from geokb.shacl.engines import Validator
from geokb.shacl.reach import Reach
from geokb.shacl.results import ShapeReport, ShapeResult

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDF_SUBJECT = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#subject")
RDFS_SUBCLASS = NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
EVENT_BASE = "https://w3id.org/geokb/event/"
#: bases per partition: ~15 triples each on average (claims ~30), so ~80k triples a partition
PARTITION_BASES = 5_000
#: events that change what their own entity, source or claim is (its types, its
#: lifecycle): every node that points to it is checked again after one of them
CHANGES_ITS_NODE = frozenset({ENTITY_DECLARED, ENTITY_AMENDED, SOURCE_REGISTERED,
                              SOURCE_RETRACTED, CLAIM_RETRACTED, CLAIM_SUPERSEDED})

Report = Callable[[int, int], None]


def base_of(iri: str) -> str:
    return iri.split("#", 1)[0]


@dataclass
class Outcome:
    """What the partitions found, how many there were, and whether they covered the
    whole input (only counted when every base was asked for)."""

    report: ShapeReport = field(default_factory=ShapeReport)
    partitions: int = 0
    bases: int = 0
    owned_triples: int = 0
    largest: int = 0


class PartitionedShacl:
    """SHACL by ``validator`` over ``store``'s SHACL input, in partitions of ``size`` bases."""

    def __init__(self, store: ProjectionStore, validator: Validator, reach: Reach, *,
                 size: int = PARTITION_BASES) -> None:
        self.store = store
        self.validator = validator
        self.reach = reach
        self.size = size
        self.subclass = [Quad(q.subject, q.predicate, q.object, DefaultGraph())
                         for q in store.quads(None, RDFS_SUBCLASS, None, DefaultGraph())]

    # -- what the SHACL input says about a node ---------------------------------------

    def _triples(self, subject: NamedNode | BlankNode,
                 predicate: NamedNode | None = None) -> Iterator[Quad]:
        yield from self.store.quads(subject, predicate, None, DefaultGraph())
        if subject != SYSTEM_NODE:
            for q in self.store.quads(subject, predicate, None, SYSTEM_GRAPH):
                yield Quad(q.subject, q.predicate, q.object, DefaultGraph())

    def description(self, base: str) -> list[Quad]:
        """The triples of ``base`` and of its fragments and blank nodes (reached from it)."""
        out: list[Quad] = []
        seen: set[NamedNode | BlankNode] = set()
        todo: list[NamedNode | BlankNode] = [NamedNode(base)]
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for q in self._triples(node):
                out.append(q)
                o = q.object
                if isinstance(o, BlankNode) or (isinstance(o, NamedNode)
                                                and o.value.startswith(base + "#")):
                    todo.append(o)
        return out

    # -- one partition ------------------------------------------------------------------

    def partition(self, bases: Iterable[str]) -> tuple[list[Quad], set[str], int]:
        """The data of one partition, its own bases (``bases`` and the objects of
        ``sh:targetObjectsOf`` predicates they point to) and how many triples it owns."""
        own: set[str] = set()
        data: list[Quad] = []
        owned = 0
        todo = list(bases)
        while todo:  # own bases
            base = todo.pop()
            if base in own:
                continue
            own.add(base)
            described = self.description(base)
            data.extend(described)
            owned += len(described)
            for q in described:
                if q.predicate in self.reach.object_targets and isinstance(q.object, NamedNode):
                    todo.append(base_of(q.object.value))
        owned_first = owned
        deep_done: set[str] = set()
        i = 0
        while i < len(data):  # context: descriptions of deep values, transitively
            q = data[i]
            i += 1
            if q.predicate in self.reach.deep and isinstance(q.object, NamedNode):
                b = base_of(q.object.value)
                if b not in own and b not in deep_done:
                    deep_done.add(b)
                    data.extend(self.description(b))
        typed: set[NamedNode] = set()
        for q in list(data):  # context: the types of everything pointed to
            o = q.object
            if isinstance(o, NamedNode) and o not in typed and base_of(o.value) not in own:
                typed.add(o)
                data.extend(self._triples(o, RDF_TYPE))
        data.extend(self.subclass)
        return data, own, owned_first

    # -- all of them --------------------------------------------------------------------

    def run(self, bases: Iterable[str], *, total: int = 0,
            progress: Report | None = None) -> Outcome:
        """Validate ``bases`` (an iterable of base IRIs, no repeats) partition by
        partition; results about the same node from two partitions are kept once."""
        outcome = Outcome()
        results: dict[tuple[str, str, str, str, str], ShapeResult] = {}
        batch: list[str] = []

        def flush() -> None:
            data, own, owned = self.partition(batch)
            outcome.partitions += 1
            outcome.bases += len(batch)
            outcome.owned_triples += owned
            outcome.largest = max(outcome.largest, len(data))
            report = self.validator.validate(data, focus=own)
            for r in report.results:
                results.setdefault((r.focus, r.path, r.message, r.severity, r.value), r)
            batch.clear()
            if progress is not None:
                progress(outcome.bases, total)

        for base in bases:
            batch.append(base)
            if len(batch) >= self.size:
                flush()
        if batch:
            flush()
        outcome.report = ShapeReport(list(results.values())).sort()
        return outcome

    def input_size(self) -> int:
        """How many triples the SHACL input has (the default graph and the system graph's
        log events), counted by the store."""
        return (count_of(self.store, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
                + count_of(self.store, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{SYSTEM_GRAPH.value}> "
                         f"{{ ?s ?p ?o FILTER(?s != <{SYSTEM_NODE.value}>) }} }}"))

    # -- what changed since an anchor ----------------------------------------------------

    def affected(self, events: Iterable[RecordedEvent]) -> list[str]:
        """What :func:`affected_bases` says ``events`` change, under these shapes."""
        return affected_bases(self.store, events, self.reach.deep)


def affected_bases(store: ProjectionStore, events: Iterable[RecordedEvent],
                   deep: Collection[NamedNode] = frozenset()) -> list[str]:
    """The bases whose validity the ``events`` (applied to ``store``) can change: every
    node an event names and the event itself, the subjects of the claims among them, the
    nodes pointing to a node an event changes (a retracted source's claims, an amended
    entity's claims), and those pointing to any of them through a ``deep`` predicate. In
    order of first mention."""
    named: dict[str, None] = {}
    changed: set[str] = set()
    for event in events:
        named.setdefault(EVENT_BASE + event.id)
        payload = current_payload(event)
        for iri in payload_iris(payload):
            named.setdefault(base_of(iri))
        key = payload.get("entity") or payload.get("source") or payload.get("claim")
        if event.type in CHANGES_ITS_NODE and isinstance(key, str):
            changed.add(base_of(key))
    out = dict(named)
    for base in named:
        subject = next(store.quads(NamedNode(base), RDF_SUBJECT, None, DefaultGraph()), None)
        if subject is not None and isinstance(subject.object, NamedNode):
            out.setdefault(base_of(subject.object.value))
    for base in list(out):  # a node nothing changed is read by its deep predicates only:
        node = NamedNode(base)  # the modality or an outlet is the object of half the KB
        pointing = (store.quads(None, None, node, DefaultGraph()) if base in changed else
                    (q for predicate in sorted(deep, key=str)
                     for q in store.quads(None, predicate, node, DefaultGraph())))
        for q in pointing:
            if isinstance(q.subject, NamedNode):
                out.setdefault(base_of(q.subject.value))
    return list(out)


def payload_iris(value: Any) -> Iterator[str]:
    """Every string of a payload that is an http(s) IRI, however deep."""
    if isinstance(value, str):
        if value.startswith(("https://", "http://")) and " " not in value:
            yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from payload_iris(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from payload_iris(v)


def count_of(store: ProjectionStore, sparql: str) -> int:
    for row in store.query(sparql):
        n = row[0]
        return int(n.value) if isinstance(n, Literal) else 0
    return 0
