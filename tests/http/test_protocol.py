"""The SPARQL 1.1 Protocol at /sparql and the Graph Store at /graph, through TestClient."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from geokb.http import negotiation
from geokb.http import protocol as sp
from geokb.http.app import Settings, create_app
from geokb.kb import KnowledgeBase
from tests.harness.http import AUTH, TOKEN, build_kb

STATUS = "SELECT ?s ?o WHERE { ?s gk:status ?o } ORDER BY ?s"
CONSTRUCT = "CONSTRUCT WHERE { ?s gk:status ?o }"
CLAIM = "https://w3id.org/geokb/claim/tartus-status"
UNCERTAIN = "https://w3id.org/geokb/status/uncertain"


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    return build_kb(tmp_path / "kb")


def client_for(kb: KnowledgeBase, **settings: Any) -> TestClient:
    settings.setdefault("tokens", {"default": TOKEN})
    return TestClient(create_app(kb, Settings(**settings)))


@pytest.fixture
def client(kb: KnowledgeBase) -> Iterator[TestClient]:
    with client_for(kb) as c:
        yield c


def query(client: TestClient, sparql: str, accept: str | None = None,
          **params: str) -> Any:
    headers = {"Accept": accept} if accept else {}
    return client.get("/sparql", params={"query": sparql, **params}, headers=headers)


def media(r: Any) -> str:
    return str(r.headers["content-type"]).split(";")[0]


# -- content negotiation --------------------------------------------------------------


@pytest.mark.parametrize("accept, expected, fmt", [
    (None, "application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ("application/sparql-results+json", "application/sparql-results+json",
     ox.QueryResultsFormat.JSON),
    ("application/sparql-results+xml", "application/sparql-results+xml",
     ox.QueryResultsFormat.XML),
    ("text/tab-separated-values", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
    ("text/csv", "text/csv", None),
    ("application/json", "application/json", ox.QueryResultsFormat.JSON),
    ("application/sparql-results+json; charset=utf-8", "application/sparql-results+json",
     ox.QueryResultsFormat.JSON),
])
def test_select_formats(client: TestClient, accept: str | None, expected: str,
                        fmt: ox.QueryResultsFormat | None) -> None:
    r = query(client, STATUS, accept)
    assert r.status_code == 200, r.text
    assert media(r) == expected
    if fmt is None:
        assert r.text.splitlines() == [
            "s,o", "https://w3id.org/geokb/id/hmeimim-air-base,"
                   "https://w3id.org/geokb/status/operational",
            f"https://w3id.org/geokb/id/tartus-naval-base,{UNCERTAIN}"]
        return
    rows = list(ox.parse_query_results(r.content, format=fmt))
    assert [row["o"].value for row in rows][1] == UNCERTAIN


@pytest.mark.parametrize("accept", ["application/sparql-results+json",
                                    "application/sparql-results+xml", "text/csv",
                                    "text/tab-separated-values"])
def test_ask_formats(client: TestClient, accept: str) -> None:
    r = query(client, f"ASK {{ ?s gk:status <{UNCERTAIN}> }}", accept)
    assert r.status_code == 200 and media(r) == accept
    if accept.startswith("text/"):
        assert r.text.strip() == "true"
    else:
        fmt = ox.QueryResultsFormat.JSON if "json" in accept else ox.QueryResultsFormat.XML
        assert bool(ox.parse_query_results(r.content, format=fmt)) is True


@pytest.mark.parametrize("accept, fmt", [
    ("text/turtle", ox.RdfFormat.TURTLE), ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/rdf+xml", ox.RdfFormat.RDF_XML), ("application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/n-quads", ox.RdfFormat.N_QUADS), ("application/trig", ox.RdfFormat.TRIG),
])
def test_construct_formats(client: TestClient, accept: str, fmt: ox.RdfFormat) -> None:
    r = query(client, CONSTRUCT, accept)
    assert r.status_code == 200 and media(r) == accept
    triples = {str(q.triple) for q in ox.parse(r.content, format=fmt)}
    assert len(triples) == 2
    assert any(UNCERTAIN in t for t in triples)


def test_describe_is_rdf(client: TestClient) -> None:
    r = query(client, "DESCRIBE id:tartus-naval-base")
    assert r.status_code == 200 and media(r) == "text/turtle"
    assert "Tartus naval base" in r.text


@pytest.mark.parametrize("accept, expected", [
    ("application/sparql-results+xml;q=0.5, text/csv;q=0.9", "text/csv"),
    ("*/*;q=0.1, text/tab-separated-values", "text/tab-separated-values"),
    ("text/*;q=0.8, application/sparql-results+json;q=0.2", "text/csv"),
    ("application/sparql-results+json;q=0, application/*", "application/sparql-results+xml"),
    ("text/html,application/xhtml+xml,*/*;q=0.8", "application/sparql-results+json"),
])
def test_q_values(client: TestClient, accept: str, expected: str) -> None:
    assert media(query(client, STATUS, accept)) == expected


@pytest.mark.parametrize("sparql, accept", [
    (STATUS, "image/png"), (CONSTRUCT, "application/sparql-results+json"),
    ("ASK {}", "text/turtle"), (STATUS, "application/sparql-results+json;q=0"),
])
def test_not_acceptable(client: TestClient, sparql: str, accept: str) -> None:
    r = query(client, sparql, accept)
    assert r.status_code == 406
    assert "offers" in r.json()["detail"]


# -- requests ---------------------------------------------------------------------------


def test_query_by_form_and_direct_post(client: TestClient) -> None:
    r = client.post("/sparql", data={"query": STATUS, "format": "json", "output": "json"})
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 2
    r = client.post("/sparql", content=STATUS.encode(),
                    headers={"Content-Type": "application/sparql-query; charset=UTF-8"})
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 2


def test_unknown_parameters_are_ignored(client: TestClient) -> None:
    r = query(client, STATUS, format="xml", output="json", timeout="0", foo="bar")
    assert r.status_code == 200


def test_dataset_parameters_override_from(client: TestClient) -> None:
    sparql = "SELECT ?o FROM <http://example.org/nothing> WHERE { ?s ?p ?o }"
    r = query(client, sparql, **{"default-graph-uri": CLAIM})
    assert [b["o"]["value"] for b in r.json()["results"]["bindings"]] == [UNCERTAIN]
    r = query(client, "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": CLAIM})
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == [CLAIM]
    assert query(client, sparql).json()["results"]["bindings"] == []


@pytest.mark.parametrize("kwargs, status, words", [
    ({"params": {"query": "ASK {"}}, 400, "syntax error: error at 1:6"),
    ({"params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "exactly one query"),
    ({"params": {"query": "ASK {}", "update": "CLEAR ALL"}}, 400, "not both"),
    ({"params": {"update": "CLEAR ALL"}}, 400, "POST"),
    ({"params": {"query": "ASK {}", "default-graph-uri": "not an iri"}}, 400, "absolute IRI"),
    ({"params": {"query": "ASK {}", "as_of": "yesterday"}}, 400, "UTC"),
    ({"params": {"query": "ASK {}", "valid_at": "2024-13"}}, 400, "date"),
    ({"params": {"query": "ASK {}", "using-graph-uri": CLAIM}}, 400, "updates"),
    ({"params": {"query": "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}},
     400, "SERVICE"),
])
def test_bad_requests(client: TestClient, kwargs: dict[str, Any], status: int,
                      words: str) -> None:
    r = client.get("/sparql", **kwargs)
    assert r.status_code == status
    assert words in r.json()["detail"]


@pytest.mark.parametrize("content, content_type, status, words", [
    (b"ASK {}", "text/plain", 415, "unsupported Content-Type"),
    (b"ASK {}", None, 415, "needs a Content-Type"),
    (b"query=ASK%20%7B%7D", None, 415, "needs a Content-Type"),
    ("ASK {}".encode("utf-16"), "application/sparql-query; charset=UTF-16", 415, "UTF-8"),
    ("ASK {}".encode("utf-16"), "application/sparql-query", 400, "not valid UTF-8"),
    ("CLEAR ALL".encode("utf-16"), "application/sparql-update", 400, "not valid UTF-8"),
    (b"query=%FF", "application/x-www-form-urlencoded", 400, "not UTF-8"),
    (b"", "application/x-www-form-urlencoded", 400, "no query and no update"),
    (b"query=ASK%20%7B%7D&update=CLEAR%20ALL", "application/x-www-form-urlencoded", 400,
     "not both"),
    (b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", "application/x-www-form-urlencoded", 400,
     "exactly one update"),
])
def test_bad_posts(client: TestClient, content: bytes, content_type: str | None, status: int,
                   words: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.post("/sparql", content=content, headers={**headers, **AUTH})
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


def test_other_methods(client: TestClient) -> None:
    r = client.put("/sparql", content=b"ASK {}")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    assert "PUT" in r.json()["detail"]
    assert client.delete("/sparql").status_code == 405
    assert client.put("/graph?default").status_code == 405


def test_never_a_500_for_bad_input(client: TestClient) -> None:
    for sparql in ["SELECT", "}}}", "SELECT ?x WHERE { ?x <not an iri> ?y }", "\x00",
                   "PREFIX : <> SELECT * {}", "SELECT * { BIND(1/0 AS ?x) }"]:
        assert query(client, sparql).status_code < 500


# -- service description and the page ---------------------------------------------------


def test_service_description(client: TestClient) -> None:
    r = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and media(r) == "text/turtle"
    triples = list(ox.parse(r.content, format=ox.RdfFormat.TURTLE))
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert any(str(t.object) == f"<{sd}Service>" for t in triples)
    assert any(t.predicate.value == f"{sd}endpoint" and t.object.value.endswith("/sparql")
               for t in triples)
    assert any(t.object.value == f"{sd}SPARQL11Update" for t in triples)
    r = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert media(r) == "application/ld+json" and json.loads(r.content)


def test_page_when_html_is_preferred(kb: KnowledgeBase, tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>geokb page</title>")
    (static / "app.js").write_text("// js")
    with client_for(kb, static_dir=static) as c:
        browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        for path in ("/", "/sparql"):
            r = c.get(path, headers={"Accept": browser})
            assert r.status_code == 200 and "geokb page" in r.text
        assert c.get("/", headers={"Accept": "application/json"}).json()["sparql"] == "/sparql"
        assert c.get("/static/app.js").text == "// js"
        assert media(c.get("/sparql", headers={"Accept": "*/*"})) == "text/turtle"


# -- updates and tokens ---------------------------------------------------------------------


def update(client: TestClient, sparql: str, headers: dict[str, str] | None = None,
           params: dict[str, str] | None = None) -> Any:
    return client.post("/sparql", content=sparql.encode(), params=params,
                       headers={"Content-Type": "application/sparql-update",
                                **(AUTH if headers is None else headers)})


def test_update_becomes_an_event(client: TestClient, kb: KnowledgeBase) -> None:
    before = kb.position
    r = update(client, "INSERT DATA { id:tartus-naval-base rdfs:comment 'on the coast' }")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["position"] == before + 1
    assert body["events"][0]["type"] == "GraphUpdated" and body["events"][0]["inserted"] == 1
    last = json.loads((kb.directory / "events.jsonl").read_text().splitlines()[-1])
    assert last["type"] == "GraphUpdated" and last["recorded_by"] == "http:default"
    ask = "ASK { id:tartus-naval-base rdfs:comment 'on the coast' }"
    assert query(client, ask).json()["boolean"] is True
    assert query(client, ask, as_of=str(before)).json()["boolean"] is False
    r = client.post("/sparql", data={"update": "DELETE DATA { id:tartus-naval-base "
                                               "rdfs:comment 'on the coast' }"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["events"][0]["deleted"] == 1
    assert query(client, ask).json()["boolean"] is False


def test_update_base_iri_and_using_parameters(client: TestClient) -> None:
    r = update(client, "INSERT DATA { GRAPH <http://example.org/g> { <s> <http://e/p> 1 } }")
    assert r.status_code == 200
    r = query(client, "SELECT ?s { GRAPH <http://example.org/g> { ?s ?p ?o } }")
    assert r.json()["results"]["bindings"][0]["s"]["value"].endswith("/sparql/../s") is False
    assert r.json()["results"]["bindings"][0]["s"]["value"].startswith("http://testserver/")
    copy = "INSERT { GRAPH <http://example.org/h> { ?s ?p ?o } } WHERE { ?s ?p ?o }"
    r = update(client, copy, params={"using-graph-uri": "http://example.org/g"})
    assert r.status_code == 200 and r.json()["events"][0]["inserted"] == 1
    r = update(client, "WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
               params={"using-named-graph-uri": "http://example.org/g"})
    assert r.status_code == 400 and "one or the other" in r.json()["detail"]


@pytest.mark.parametrize("sparql, words", [
    ("LOAD <http://example.org/x.ttl>", "LOAD is refused"),
    ("CLEAR GRAPH <https://w3id.org/geokb/graph/system>", "reserved"),
    ("CLEAR XYZ", "syntax error"),
    ("INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", "SERVICE"),
])
def test_refused_updates(client: TestClient, kb: KnowledgeBase, sparql: str, words: str) -> None:
    before = kb.position
    r = update(client, sparql)
    assert r.status_code == 400 and words in r.json()["detail"]
    assert kb.position == before


def test_tokens(kb: KnowledgeBase) -> None:
    with client_for(kb, tokens={}) as c:
        r = update(c, "CLEAR ALL", headers={})
        assert r.status_code == 403 and "read-only" in r.json()["detail"]
        assert update(c, "CLEAR ALL").status_code == 403
    with client_for(kb, tokens={"alice": "a-secret", "bob": "b-secret"}) as c:
        r = update(c, "CLEAR ALL", headers={})
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        r = update(c, "CLEAR ALL", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and "not valid" in r.json()["detail"]
        r = update(c, "CLEAR ALL", headers={"Authorization": "Basic YWxpY2U6eA=="})
        assert r.status_code == 401
        r = update(c, "INSERT DATA { GRAPH <http://e/g> { <http://e/s> <http://e/p> 1 } }",
                   headers={"Authorization": "Bearer b-secret"})
        assert r.json()["events"][0]["recorded_by"] == "http:bob"


# -- Graph Store Protocol -------------------------------------------------------------------


def test_graph_store_get_and_head(client: TestClient) -> None:
    r = client.get("/graph", params={"graph": CLAIM})
    assert r.status_code == 200 and media(r) == "text/turtle"
    triples = list(ox.parse(r.content, format=ox.RdfFormat.TURTLE))
    assert [t.object.value for t in triples] == [UNCERTAIN]
    head = client.head("/graph", params={"graph": CLAIM})
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(r.content)
    r = client.get("/graph?default", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200 and media(r) == "application/n-triples"
    assert "Tartus naval base" in r.text
    assert client.get("/graph", params={"graph": "http://example.org/none"}).status_code == 404
    assert client.get("/graph").status_code == 400
    assert client.get("/graph", params={"graph": CLAIM},
                      headers={"Accept": "image/png"}).status_code == 406


# -- limits and CORS --------------------------------------------------------------------------

SLOW = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def test_timeout_and_the_slot_is_released(kb: KnowledgeBase) -> None:
    with client_for(kb, query_timeout=0.3, max_rows=10**9, query_slots=1) as c:
        started = time.monotonic()
        r = query(c, SLOW)
        assert r.status_code == 503
        assert "exceeded its 0.3 s time budget" in r.json()["detail"]
        assert time.monotonic() - started < 3
        r = query(c, "ASK {}")  # the abandoned query stops at its next row
        assert r.status_code == 200 and r.json()["boolean"] is True
    assert threading.active_count() < 50


def test_row_limit(kb: KnowledgeBase) -> None:
    with client_for(kb, max_rows=3) as c:
        r = query(c, "SELECT * WHERE { ?s ?p ?o }")
        assert r.status_code == 400 and "more than 3 rows" in r.json()["detail"]
        assert query(c, "CONSTRUCT WHERE { ?s ?p ?o }").status_code == 400
        assert query(c, "SELECT * WHERE { ?s ?p ?o } LIMIT 3").status_code == 200


def test_body_limit(kb: KnowledgeBase) -> None:
    with client_for(kb, max_body_bytes=1000) as c:
        big = "ASK {}" + " " * 2000
        r = c.post("/sparql", content=big.encode(),
                   headers={"Content-Type": "application/sparql-query"})
        assert r.status_code == 413 and "1000 bytes" in r.json()["detail"]

        def chunks() -> Iterator[bytes]:
            yield b"ASK {}"
            yield b" " * 2000

        r = c.post("/sparql", content=chunks(),
                   headers={"Content-Type": "application/sparql-query"})
        assert r.status_code == 413
        r = c.post("/sparql", content=iter([b"ASK {}"]),
                   headers={"Content-Type": "application/sparql-query"})
        assert r.status_code == 200 and r.json()["boolean"] is True
        r = c.post("/api/claims", content=big.encode(), headers=AUTH)
        assert r.status_code == 413


def test_cors_only_when_configured(kb: KnowledgeBase) -> None:
    origin = {"Origin": "https://analyst.example"}
    with client_for(kb) as c:
        assert "access-control-allow-origin" not in query(c, "ASK {}", **{}).headers
        r = c.get("/sparql", params={"query": "ASK {}"}, headers=origin)
        assert "access-control-allow-origin" not in r.headers
    with client_for(kb, cors_origins=("https://analyst.example",)) as c:
        r = c.get("/sparql", params={"query": "ASK {}"}, headers=origin)
        assert r.headers["access-control-allow-origin"] == "https://analyst.example"
        r = c.options("/sparql", headers={**origin, "Access-Control-Request-Method": "POST",
                                          "Access-Control-Request-Headers": "authorization"})
        assert r.status_code == 200


# -- time travel ------------------------------------------------------------------------------


def test_time_travel_on_queries(client: TestClient, kb: KnowledgeBase) -> None:
    sparql = "SELECT ?c WHERE { ?c a gk:Claim } ORDER BY ?c"
    before = kb.position
    stamp = kb.log.head().recorded_at
    time.sleep(0.01)
    r = client.post("/api/claims", headers=AUTH, json={
        "subject": "tartus-naval-base", "predicate": "gk:status", "object": "status:operational",
        "modality": "uncertain", "source": "article-one", "quote": "The future of the naval base",
        "id": "tartus-maybe", "valid_from": "2025-01"})
    assert r.status_code == 201, r.text

    def claims(**params: str) -> list[str]:
        rows = query(client, sparql, **params).json()["results"]["bindings"]
        return [b["c"]["value"].rsplit("/", 1)[-1] for b in rows]

    assert "tartus-maybe" in claims()
    assert "tartus-maybe" not in claims(as_of=str(before))
    assert "tartus-maybe" in claims(as_of=str(before + 1))
    assert "tartus-maybe" not in claims(as_of=stamp)
    assert claims(as_of="1970-01-01") == []
    current = "ASK { id:hmeimim-air-base gk:status status:operational }"
    assert query(client, current).json()["boolean"] is True
    # undated (the article has no date): never presented as holding at a world time
    assert query(client, current, valid_at="2020").json()["boolean"] is False


def test_protocol_helpers() -> None:
    assert negotiation.negotiate(None, ["a/b", "c/d"]) == "a/b"
    assert negotiation.negotiate("", ["a/b"]) == "a/b"
    assert negotiation.negotiate("c/*;q=0.5, a/b;q=0.4", ["a/b", "c/d"]) == "c/d"
    assert negotiation.negotiate("a/b;q=bogus, c/d", ["a/b", "c/d"]) == "c/d"
    req = sp.parse_request("POST", "default-graph-uri=http%3A%2F%2Fe%2Fg",
                           "application/x-www-form-urlencoded", b"query=ASK+%7B%7D")
    assert req.operation == "query" and req.default_graphs == ("http://e/g",)
    assert sp.parse_request("GET", "", None, b"").operation == "none"
