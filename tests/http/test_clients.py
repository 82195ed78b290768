"""Real SPARQL clients against a real ``geokb serve`` process: SPARQLWrapper, rdflib's
SPARQLStore and SPARQLUpdateStore (with the bearer token), and a server-sent-events reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import JSON, XML, SPARQLWrapper

from tests.harness.http import AUTH, build_kb, serve

GK = "https://w3id.org/geokb/ontology#"
TARTUS = "https://w3id.org/geokb/id/tartus-naval-base"
UNCERTAIN = "https://w3id.org/geokb/status/uncertain"
STATUS = f"SELECT ?s ?o WHERE {{ ?s <{GK}status> ?o }} ORDER BY ?s"
ASK = f"ASK {{ <{TARTUS}> <{GK}status> <{UNCERTAIN}> }}"
CONSTRUCT = f"CONSTRUCT WHERE {{ ?s <{GK}status> ?o }}"


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("clients") / "kb"
    build_kb(directory)
    return directory


@pytest.fixture(scope="module")
def base(kb_dir: Path) -> Iterator[str]:
    with serve(kb_dir) as url:
        yield url


def wrapper(base: str, query: str, fmt: str) -> SPARQLWrapper:
    sparql = SPARQLWrapper(f"{base}/sparql")
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    return sparql


def test_sparqlwrapper_json(base: str) -> None:
    rows = wrapper(base, STATUS, JSON).queryAndConvert()["results"]["bindings"]
    assert [(r["s"]["value"], r["o"]["value"]) for r in rows][1] == (TARTUS, UNCERTAIN)
    assert wrapper(base, ASK, JSON).queryAndConvert()["boolean"] is True


def test_sparqlwrapper_xml(base: str) -> None:
    doc = wrapper(base, STATUS, XML).queryAndConvert()
    uris = [u.firstChild.data for u in doc.getElementsByTagName("uri")]
    assert TARTUS in uris and UNCERTAIN in uris
    doc = wrapper(base, ASK, XML).queryAndConvert()
    assert doc.getElementsByTagName("boolean")[0].firstChild.data == "true"
    graph = wrapper(base, CONSTRUCT, XML).queryAndConvert()
    assert isinstance(graph, rdflib.Graph)
    assert (rdflib.URIRef(TARTUS), rdflib.URIRef(f"{GK}status"),
            rdflib.URIRef(UNCERTAIN)) in graph


def test_sparqlwrapper_construct_and_post(base: str) -> None:
    sparql = wrapper(base, CONSTRUCT, "json-ld")
    graph = sparql.queryAndConvert()
    assert isinstance(graph, rdflib.Graph) and len(graph) == 2
    sparql = wrapper(base, STATUS, JSON)
    sparql.setMethod("POST")
    assert len(sparql.queryAndConvert()["results"]["bindings"]) == 2


def test_rdflib_sparqlstore(base: str) -> None:
    graph = rdflib.Graph(SPARQLStore(f"{base}/sparql"))  # results as XML, by default
    rows = list(graph.query(STATUS))
    assert (rdflib.URIRef(TARTUS), rdflib.URIRef(UNCERTAIN)) in [tuple(r) for r in rows]
    assert graph.query(ASK).askAnswer is True
    objects = set(graph.objects(rdflib.URIRef(TARTUS), rdflib.URIRef(f"{GK}status")))
    assert objects == {rdflib.URIRef(UNCERTAIN)}


def test_sparql_update_store_writes_an_event_that_survives_a_restart(base: str, kb_dir: Path
                                                                      ) -> None:
    store = SPARQLUpdateStore(f"{base}/sparql", f"{base}/sparql", headers=dict(AUTH))
    graph = rdflib.Graph(store, identifier=rdflib.URIRef("http://example.org/notes"))
    note = (rdflib.URIRef(TARTUS), rdflib.RDFS.comment, rdflib.Literal("seen from the sea"))
    graph.add(note)
    last = json.loads((kb_dir / "events.jsonl").read_text().splitlines()[-1])
    assert last["type"] == "GraphUpdated" and last["recorded_by"] == "http:default"
    assert any("seen from the sea" in line for line in last["payload"]["insert"])
    assert note in graph
    refused = SPARQLUpdateStore(f"{base}/sparql", f"{base}/sparql")
    with pytest.raises(Exception, match="401"):
        rdflib.Graph(refused, identifier=rdflib.URIRef("http://example.org/x")).update(
            "CLEAR ALL")
    # the server's process is stopped; a new one replays the log
    with serve(kb_dir) as again:
        r = httpx.get(f"{again}/sparql", params={
            "query": f"ASK {{ GRAPH <http://example.org/notes> {{ <{TARTUS}> ?p "
                     "'seen from the sea' } }"})
        assert r.json()["boolean"] is True
        r = httpx.get(f"{again}/api/entities/Tartus/status")
        assert r.json()["line"] == "unknown — 1 undated claim: uncertain (asserted, article-one)"


def test_event_stream_over_a_real_connection(base: str) -> None:
    with httpx.stream("GET", f"{base}/api/events/stream", params={"after": 0},
                      timeout=10) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = r.iter_lines()
        first = [next(lines) for _ in range(3)]
    assert first[0] == "id: 1" and first[1] == "event: EntityDeclared"
    # the client went away mid-stream; the server carries on
    assert httpx.get(f"{base}/api/health").status_code == 200


def test_the_page_and_the_docs(base: str) -> None:
    assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "geokb"
    r = httpx.get(f"{base}/sparql", headers={"Accept": "text/turtle"})
    assert "sparql-service-description" in r.text
