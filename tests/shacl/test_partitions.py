"""SHACL in partitions says what SHACL over the whole graph says, pySHACL the oracle.

The shipped KB and a generated one are validated in partitions of several sizes (one
node per partition puts every reference across a boundary) with seeded violations whose
verdict depends on a node in another partition: a cited source that lost its type, a
claim's subject retyped out of its predicate's domain, a claim that supersedes itself
(the SPARQL constraint), and a speaker that is a source, not an agent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad

from geokb.log.file import FileEventStore
from geokb.ontology import load_ontology
from geokb.ops.partitions import PartitionedShacl
from geokb.projection.quads import SYSTEM_GRAPH, shacl_input
from geokb.projection.store import ProjectionStore
from geokb.shacl.engines import build
from geokb.shacl.reach import reach_of
from geokb.shacl.results import ShapeReport
from geokb.shacl.shapes import load_shapes
from tests.harness.documents import REPO

GK = "https://w3id.org/geokb/ontology#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDF_SUBJECT = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#subject")
DERIVED = NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")


def projection(kb_dir: Path) -> ProjectionStore:
    store = ProjectionStore()
    store.apply(FileEventStore(kb_dir).read(after=0))
    return store


def seeded(store: ProjectionStore) -> tuple[ProjectionStore, list[str]]:
    """The SHACL input of ``store`` with four violations that cross partition boundaries,
    as a store of its own; and the bases in an order that puts each far from its context."""
    quads = shacl_input([*store.quads(graph=DefaultGraph()), *store.quads(graph=SYSTEM_GRAPH)])
    claims = sorted({str(q.subject) for q in quads
                     if q.predicate == RDF_TYPE and q.object == NamedNode(GK + "Claim")})
    first, second, third, fourth = (NamedNode(c.strip("<>")) for c in claims[:4])
    source = next(q.object for q in quads if q.subject == first and q.predicate == DERIVED)
    subject = next(q.object for q in quads if q.subject == second and q.predicate == RDF_SUBJECT)
    assert isinstance(subject, NamedNode)
    drop = {q for q in quads if (q.subject == source and q.predicate == RDF_TYPE)
            or (q.subject == subject and q.predicate == RDF_TYPE)}
    other_source = next(q.subject for q in quads if q.predicate == RDF_TYPE
                        and q.object == NamedNode(GK + "Source") and q.subject != source)
    add = [Quad(fourth, NamedNode(GK + "speaker"), other_source, DefaultGraph()),
           Quad(subject, RDF_TYPE, NamedNode(GK + "Language"), DefaultGraph()),
           Quad(third, NamedNode(GK + "supersededBy"), third, DefaultGraph()),
           Quad(third, NamedNode(GK + "supersededIn"), NamedNode(
               next(str(q.object).strip("<>") for q in quads if q.subject == third
                    and q.predicate == NamedNode(GK + "assertedIn"))), DefaultGraph()),
           Quad(third, NamedNode(GK + "supersessionReason"), Literal("seeded"), DefaultGraph()),
           Quad(third, NamedNode(GK + "knownUntilPosition"), Literal(
               "999999", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
               DefaultGraph())]
    kept = [q for q in quads if q not in drop] + add
    bases = sorted({str(q.subject).strip("<>").split("#", 1)[0] for q in kept}, reverse=True)
    return ProjectionStore.of(kept, position=1, head_hash="0" * 64), bases


def keys(report: ShapeReport) -> list[tuple[str, str, str, str]]:
    return sorted((r.focus, r.path, r.message, r.severity) for r in report.results)


@pytest.fixture(scope="module")
def shipped() -> tuple[ProjectionStore, list[str]]:
    return seeded(projection(REPO / "kb"))


@pytest.mark.parametrize("size", [1, 7, 10_000])
def test_partitions_agree_with_pyshacl_over_the_whole_shipped_kb(
        shipped: tuple[ProjectionStore, list[str]], size: int) -> None:
    store, bases = shipped
    shapes, ontology = load_shapes(), load_ontology()
    oracle = build("pyshacl", shapes, ontology).validate(store.quads(graph=DefaultGraph()))
    parts = PartitionedShacl(store, build("compiled", shapes, ontology), reach_of(shapes),
                             size=size)
    outcome = parts.run(bases)
    assert outcome.owned_triples == parts.input_size()  # every triple has its one owner
    assert keys(outcome.report) == keys(oracle)
    focus = {r.focus.split("#", 1)[0] for r in oracle.results if r.severity == "Violation"}
    assert len(focus) >= 4  # each seeded violation is found
    assert outcome.partitions == -(-len(bases) // size)


def test_turbo_in_partitions_agrees_with_the_compiled_engine_whole(
        shipped: tuple[ProjectionStore, list[str]]) -> None:
    store, bases = shipped
    shapes, ontology = load_shapes(), load_ontology()
    whole = build("compiled", shapes, ontology).validate(store.quads(graph=DefaultGraph()))
    parts = PartitionedShacl(store, build("turbo", shapes, ontology), reach_of(shapes), size=13)
    assert keys(parts.run(bases).report) == keys(whole)


def test_partitions_agree_with_pyshacl_on_a_generated_kb(tmp_path: Path) -> None:
    from bench.generate import ensure_kb

    kb_dir, _ = ensure_kb(150, 3, tmp_path, quiet=True)
    store, bases = seeded(projection(kb_dir))
    shapes, ontology = load_shapes(), load_ontology()
    oracle = build("pyshacl", shapes, ontology).validate(store.quads(graph=DefaultGraph()))
    parts = PartitionedShacl(store, build("compiled", shapes, ontology), reach_of(shapes),
                             size=40)
    outcome = parts.run(bases)
    assert outcome.owned_triples == parts.input_size()
    assert keys(outcome.report) == keys(oracle)
    assert not oracle.conforms


def test_a_node_no_base_owns_is_counted_as_missing() -> None:
    store = projection(REPO / "kb")
    shapes = load_shapes()
    parts = PartitionedShacl(store, build("compiled", shapes, load_ontology()), reach_of(shapes))
    some = sorted({str(q.subject).strip("<>").split("#", 1)[0]
                   for q in store.quads(graph=DefaultGraph())})
    outcome = parts.run(some[1:])
    assert outcome.owned_triples < parts.input_size()
