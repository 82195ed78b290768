"""The SHACL shapes against data-driven fixtures.

``tests/shacl/shapes/valid/*.ttl`` must conform; each ``tests/shacl/shapes/invalid/*.ttl`` must not,
and its first line ``# expect: <text>`` names a substring of the expected sh:message.
Fixtures are default-graph RDF as ``geokb.projection.quads`` writes it.

The ontology is mixed into the data graph by copying its triples (as
``geokb.shacl.validation.run_shacl`` does), not passed as ``ont_graph``: without inference
pySHACL's ``ont_graph`` only "inoculates" RDFS/OWL axioms, so the ontology's
``gk:status a gk:StatementProperty`` would not reach the data graph.
"""

from __future__ import annotations

from pathlib import Path

import pyshacl
import pytest
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import SH

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ROOT / "shapes" / "geokb-shapes.ttl"
ONTOLOGY = ROOT / "ontology" / "geokb.ttl"
FIXTURES = Path(__file__).resolve().parent / "shapes"
SHACL_SHACL = Path(pyshacl.__file__).resolve().parent / "assets" / "shacl-shacl.ttl"

VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
EXPECT = "# expect:"
GEOKB = "https://w3id.org/geokb/"


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES, format="turtle")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    assert ONTOLOGY.exists(), f"{ONTOLOGY} is missing"
    return Graph().parse(ONTOLOGY, format="turtle")


def validate(path: Path, shapes: Graph, ontology: Graph) -> tuple[bool, list[str], str]:
    data = Graph().parse(path, format="turtle")
    for triple in ontology:
        data.add(triple)
    conforms, report, text = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    assert isinstance(report, Graph)
    messages = [str(m) for m in report.objects(None, SH.resultMessage)]
    return bool(conforms), messages, text


def expected_message(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(EXPECT), f"{path.name}: first line must be '{EXPECT} <message>'"
    expected = first[len(EXPECT):].strip()
    assert expected, f"{path.name}: empty '{EXPECT}' line"
    return expected


def test_there_are_enough_fixtures() -> None:
    assert len(VALID) >= 4
    assert len(INVALID) >= 10


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_conforms(path: Path, shapes: Graph, ontology: Graph) -> None:
    conforms, _messages, text = validate(path, shapes, ontology)
    assert conforms, text


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_is_reported(path: Path, shapes: Graph, ontology: Graph) -> None:
    expected = expected_message(path)
    conforms, messages, text = validate(path, shapes, ontology)
    assert not conforms, f"{path.name} conforms but should not"
    assert any(expected in m for m in messages), (
        f"{path.name}: no message contains {expected!r}\n{text}")


def test_shapes_graph_is_valid_shacl(shapes: Graph) -> None:
    if not SHACL_SHACL.exists():
        pytest.skip(f"pySHACL ships no shacl-shacl.ttl at {SHACL_SHACL}")
    shsh = Graph().parse(SHACL_SHACL, format="turtle")
    conforms, _report, text = pyshacl.validate(shapes, shacl_graph=shsh, inference="none")
    assert conforms, text


def _constraint_holders(shapes: Graph) -> set[URIRef]:
    """The shapes whose results a user reads in a report: the property shapes and SPARQL
    constraints of targeted node shapes, and targeted node shapes with a node-level
    constraint. (Helper shapes used only inside sh:or/sh:not report through their user.)"""
    targets = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
    node_level = (SH["or"], SH["and"], SH["not"], SH.xone, SH["class"], SH.node, SH["in"])
    holders: set[URIRef] = set()
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        if not any(shapes.value(shape, t) is not None for t in targets):
            continue
        holders.update(shapes.objects(shape, SH.property))
        holders.update(shapes.objects(shape, SH.sparql))
        if any(shapes.value(shape, c) is not None for c in node_level):
            holders.add(shape)
    return holders


def test_every_constraint_has_a_message(shapes: Graph) -> None:
    missing = [str(s) for s in _constraint_holders(shapes) if shapes.value(s, SH.message) is None]
    assert not missing, f"shapes without sh:message: {missing}"


def test_sparql_constraints_declare_prefixes_and_use_this(shapes: Graph) -> None:
    for constraint in shapes.objects(None, SH.sparql):
        select = str(shapes.value(constraint, SH.select))
        assert "$this" in select, select
        prefixes = shapes.value(constraint, SH.prefixes)
        assert prefixes is not None and shapes.value(prefixes, SH.declare) is not None, select


def test_shapes_only_name_terms_the_ontology_declares(shapes: Graph, ontology: Graph) -> None:
    """A typo in a shape (gk:validfrom, status:closd) would silently never match."""
    shapes_ns = URIRef(GEOKB + "shapes")
    used = {t for triple in shapes for t in triple
            if isinstance(t, URIRef) and str(t).startswith(GEOKB)
            and not str(t).startswith(str(shapes_ns))}
    undeclared = sorted(str(t) for t in used if (t, RDF.type, None) not in ontology)
    assert not undeclared, f"not declared in {ONTOLOGY.name}: {undeclared}"
