"""SPARQL Update as events (geokb.write.updates), against a real KnowledgeBase in a temp dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from geokb.errors import ModelViolation, QueryError, ShapeViolation
from geokb.kb import KnowledgeBase
from geokb.log.events import GRAPH_UPDATED
from geokb.write import updates
from geokb.write.updates import update_event
from tests.harness.http import build_kb

BASE = "http://localhost/sparql"
EX = "http://example.org/"


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    return build_kb(tmp_path / "kb")


def event(kb: KnowledgeBase, sparql: str, *, using: tuple[str, ...] = (),
          using_named: tuple[str, ...] = ()) -> dict[str, list[str]] | None:
    before = kb.projection.canonical_hash()
    ev = update_event(kb.projection, sparql, base_iri=BASE, using_graphs=using,
                      using_named_graphs=using_named)
    assert kb.projection.canonical_hash() == before, "update_event must not touch the store"
    if ev is None:
        return None
    assert ev.type == GRAPH_UPDATED
    assert ev.payload["operation"] == sparql
    return {"delete": ev.payload["delete"], "insert": ev.payload["insert"]}


def ask(kb: KnowledgeBase, sparql: str) -> bool:
    return bool(kb.query(sparql))


def test_insert_data_with_graphs_and_relative_iris(kb: KnowledgeBase) -> None:
    ev = event(kb, f"INSERT DATA {{ GRAPH <{EX}mine> {{ <{EX}s> <{EX}p> 'x' }} "
                   f"GRAPH <{EX}g> {{ <rel> <{EX}p> 1 }} }}")
    assert ev == {"delete": [], "insert": [
        f'<{EX}s> <{EX}p> "x" <{EX}mine> .',
        f'<http://localhost/rel> <{EX}p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> '
        f"<{EX}g> ."]}


def test_blank_nodes_become_genid_iris(kb: KnowledgeBase) -> None:
    ev = event(kb, f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> _:b . "
                   f"_:b <{EX}q> [ <{EX}r> 2 ] }} }}")
    assert ev is not None
    text = "\n".join(ev["insert"])
    assert "_:" not in text
    assert text.count(updates.GENID) == 4  # _:b twice, the [] node twice
    ev = event(kb, f"INSERT {{ GRAPH <{EX}g> {{ ?s <{EX}tag> [] }} }} "
                   "WHERE { ?s a gk:NavalBase }")
    assert ev is not None and updates.GENID in ev["insert"][0]


def test_delete_insert_where(kb: KnowledgeBase) -> None:
    ev = event(kb, """DELETE { ?e skos:altLabel ?a } INSERT { ?e skos:altLabel "Tartous"@en }
                      WHERE { ?e skos:altLabel ?a FILTER(STR(?a) = "Tartus") }""")
    assert ev == {
        "delete": ['<https://w3id.org/geokb/id/tartus-naval-base> '
                   '<http://www.w3.org/2004/02/skos/core#altLabel> "Tartus"@en .'],
        "insert": ['<https://w3id.org/geokb/id/tartus-naval-base> '
                   '<http://www.w3.org/2004/02/skos/core#altLabel> "Tartous"@en .']}


def test_operations_apply_in_order(kb: KnowledgeBase) -> None:
    mine = f"GRAPH <{EX}mine> {{ <{EX}a> <{EX}b> <{EX}c> }}"
    assert event(kb, f"INSERT DATA {{ {mine} }} ; DELETE DATA {{ {mine} }}") is None
    ev = event(kb, f"INSERT DATA {{ {mine} }} ; "
                   f"INSERT {{ GRAPH <{EX}g> {{ ?s ?p ?o }} }} "
                   f"WHERE {{ GRAPH ?h {{ ?s ?p ?o FILTER(?o = <{EX}c>) }} }}")
    assert ev is not None and ev["insert"] == [f"<{EX}a> <{EX}b> <{EX}c> <{EX}g> .",
                                               f"<{EX}a> <{EX}b> <{EX}c> <{EX}mine> ."]


def test_with_using_and_protocol_dataset(kb: KnowledgeBase) -> None:
    kb.update(f"INSERT DATA {{ GRAPH <{EX}g1> {{ <{EX}a> <{EX}p> 1 }} "
              f"GRAPH <{EX}g2> {{ <{EX}b> <{EX}p> 2 }} }}", recorded_by="test")
    ev = event(kb, f"WITH <{EX}g1> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}")
    assert ev is not None and ev["delete"] == [
        f'<{EX}a> <{EX}p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> <{EX}g1> .']
    copy = f"INSERT {{ GRAPH <{EX}out> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}"
    ev = event(kb, copy.replace("WHERE", f"USING <{EX}g2> WHERE"))
    assert ev is not None and ev["insert"][0].startswith(f"<{EX}b>")
    ev = event(kb, copy, using=(f"{EX}g1",))
    assert ev is not None and ev["insert"][0].startswith(f"<{EX}a>")
    named = f"INSERT {{ GRAPH <{EX}out> {{ ?s ?p ?g }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    ev = event(kb, named, using_named=(f"{EX}g2",))
    assert ev is not None and len(ev["insert"]) == 1 and f"<{EX}g2>" in ev["insert"][0]
    with pytest.raises(QueryError, match="one or the other"):
        event(kb, f"WITH <{EX}g1> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
              using_named=(f"{EX}g2",))


def test_graph_management(kb: KnowledgeBase) -> None:
    kb.update(f"INSERT DATA {{ GRAPH <{EX}g1> {{ <{EX}a> <{EX}p> <{EX}o> }} }}",
              recorded_by="test")
    a = f"<{EX}a> <{EX}p> <{EX}o>"
    assert event(kb, f"COPY <{EX}g1> TO <{EX}g2>") == {"delete": [],
                                                        "insert": [f"{a} <{EX}g2> ."]}
    assert event(kb, f"MOVE <{EX}g1> TO <{EX}g2>") == {"delete": [f"{a} <{EX}g1> ."],
                                                        "insert": [f"{a} <{EX}g2> ."]}
    assert event(kb, f"ADD <{EX}g1> TO <{EX}g3>") == {"delete": [],
                                                       "insert": [f"{a} <{EX}g3> ."]}
    with pytest.raises(ModelViolation, match="has no claim"):  # a bare statement in the view
        event(kb, f"ADD <{EX}g1> TO DEFAULT")
    assert event(kb, f"DROP GRAPH <{EX}g1>") == {"delete": [f"{a} <{EX}g1> ."], "insert": []}
    assert event(kb, f"CREATE GRAPH <{EX}new>") is None
    assert event(kb, f"DROP SILENT GRAPH <{EX}nope>") is None
    with pytest.raises(QueryError, match="does not exist"):
        event(kb, f"DROP GRAPH <{EX}nope>")
    with pytest.raises(QueryError, match="already exists"):
        event(kb, f"CREATE GRAPH <{EX}g1>")


def test_clear_all_spares_the_system_graph(tmp_path: Path) -> None:
    """On graphs of the client's own, CLEAR ALL does what SPARQL says (the W3C protocol
    suite relies on it); the system graph is never among them."""
    own = KnowledgeBase(tmp_path / "own")
    own.update(f"INSERT DATA {{ GRAPH <{EX}g1> {{ <{EX}a> <{EX}p> 1 }} }}", recorded_by="test")
    ev = event(own, "CLEAR ALL")
    assert ev is not None and ev["delete"] and not ev["insert"]
    assert not any("graph/system" in line for line in ev["delete"])
    own.update("CLEAR ALL", recorded_by="test")
    assert own.position == 2  # the projection still knows its position
    assert not ask(own, f"ASK {{ GRAPH <{EX}g1> {{ ?s ?p ?o }} }}")


@pytest.mark.parametrize("sparql, message", [
    ("LOAD <http://example.org/data.ttl>", "LOAD is refused"),
    ("LOAD <http://example.org/data.ttl> INTO GRAPH <http://example.org/g>", "LOAD"),
    (f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{EX}sparql> {{ ?s ?p ?o }} }}", "SERVICE"),
    ("CLEAR GRAPH <https://w3id.org/geokb/graph/system>", "reserved"),
    ("INSERT DATA { GRAPH <https://w3id.org/geokb/graph/system> { <http://a> <http://b> 1 } }",
     "reserved"),
    ("WITH <https://w3id.org/geokb/graph/system> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
     "reserved"),
    ("INSERT { GRAPH ?g { <http://a> <http://b> 1 } } "
     "WHERE { BIND(<https://w3id.org/geokb/graph/system> AS ?g) }", "reserved"),
    ("CLEAR XYZ", r"syntax error: .*line:1, col:1"),
    ("INSERT DATA { <http://a> <http://b> }", "syntax error"),
    ("INSERT DATA { <rel> <http://b> 1 }", None),
])
def test_refused(kb: KnowledgeBase, sparql: str, message: str | None) -> None:
    if message is None:  # no base IRI: a relative IRI cannot be resolved
        with pytest.raises(QueryError, match="absolute IRI"):
            update_event(kb.projection, sparql, base_iri=None, using_graphs=(),
                         using_named_graphs=())
        return
    with pytest.raises(QueryError, match=message):
        event(kb, sparql)


def test_too_large_for_one_event(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(updates, "MAX_PAYLOAD_CHARS", 200)
    data = " ".join(f"<{EX}s{i}> <{EX}p> {i} ." for i in range(10))
    with pytest.raises(QueryError, match="split it"):
        event(kb, f"INSERT DATA {{ GRAPH <{EX}g> {{ {data} }} }}")


def test_kb_update_is_logged_replayed_and_time_travels(kb: KnowledgeBase, tmp_path: Path) -> None:
    before = kb.position
    data = f"GRAPH <{EX}g> {{ <{EX}s> <{EX}p> 'new' }}"
    recorded = kb.update(f"INSERT DATA {{ {data} }}", recorded_by="http:test")
    assert [e.type for e in recorded] == [GRAPH_UPDATED]
    assert recorded[0].recorded_by == "http:test"
    assert kb.update(f"INSERT DATA {{ {data} }}", recorded_by="http:test") == []
    assert ask(kb, f"ASK {{ {data} }}")
    assert not bool(kb.query(f"ASK {{ {data} }}", as_of=before))
    assert kb.rebuild() == kb.projection.canonical_hash()
    reopened = KnowledgeBase(tmp_path / "kb")
    assert bool(reopened.query(f"ASK {{ {data} }}"))


def test_updates_meet_the_shapes(kb: KnowledgeBase) -> None:
    with pytest.raises(ShapeViolation, match="rdfs:label"):
        kb.update("DELETE WHERE { id:tartus-naval-base rdfs:label ?l }", recorded_by="test")
