"""The W3C SPARQL 1.1 Protocol test suite, replayed against a real ``geokb serve`` process.

The manifest and its data files are read from ``../shared/conformance/sparql11-protocol``
(never copied into this repository). Each test's ``ut:graphData`` files are loaded into
the graphs it names through our own update path (INSERT DATA with the write token) before
its requests run; every request also carries the token, since updates need it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection

from tests.harness.http import AUTH, serve

SUITE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "sparql11-protocol"
MANIFEST = SUITE / "manifest.ttl"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")

RESULT_TYPES = {"application/sparql-results+json", "application/sparql-results+xml",
                "application/json", "application/xml", "text/xml", "text/csv",
                "text/tab-separated-values"}
RDF_TYPES = {"text/turtle": ox.RdfFormat.TURTLE,
             "application/n-triples": ox.RdfFormat.N_TRIPLES,
             "application/rdf+xml": ox.RdfFormat.RDF_XML,
             "application/ld+json": ox.RdfFormat.JSON_LD,
             "application/trig": ox.RdfFormat.TRIG,
             "application/n-quads": ox.RdfFormat.N_QUADS}


@dataclass
class Step:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: list[str]
    format: str | None
    boolean: bool | None


@dataclass
class Case:
    name: str
    label: str
    data: list[tuple[Path, str]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def _read_manifest() -> list[Case]:
    g = Graph()
    g.parse(MANIFEST, format="turtle")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    cases = []
    for test in Collection(g, g.value(manifest, MF.entries)):
        case = Case(name=str(test).rsplit("#", 1)[-1], label=str(g.value(test, MF.name)))
        for data in g.objects(test, UT.graphData):
            file = SUITE / Path(str(g.value(data, UT.graph))).name
            case.data.append((file, str(g.value(data, RDFS.label))))
        action = g.value(test, MF.action)
        for req in Collection(g, g.value(action, HT.requests)):
            headers: dict[str, str] = {}
            if g.value(req, HT.headers) is not None:
                for h in Collection(g, g.value(req, HT.headers)):
                    headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
            body = None
            content = g.value(req, HT.body)
            if content is not None:
                encoding = str(g.value(content, CNT.characterEncoding) or "UTF-8")
                body = str(g.value(content, CNT.chars)).encode(encoding)
            resp = g.value(req, HT.resp)
            boolean = g.value(resp, MF.expectedBoolean)
            fmt = g.value(resp, MF.expectedFormat)
            case.steps.append(Step(
                method=str(g.value(req, HT.methodName)),
                path=str(g.value(req, HT.absolutePath)),
                headers=headers, body=body,
                statuses=sorted(str(s).rsplit("#", 1)[-1] for s in
                                g.objects(resp, MF.expectedStatus)),
                format=str(fmt) if fmt is not None else None,
                boolean=bool(boolean.toPython()) if boolean is not None else None))
        cases.append(case)
    return cases


CASES = _read_manifest() if MANIFEST.is_file() else []
pytestmark = pytest.mark.skipif(
    not MANIFEST.is_file(),
    reason=f"the W3C SPARQL 1.1 Protocol suite is not at {SUITE} (../shared/conformance)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    kb_dir = tmp_path_factory.mktemp("w3c") / "kb"
    kb_dir.mkdir()
    with serve(kb_dir) as base:
        yield base


def test_the_manifest_has_34_tests() -> None:
    assert len(CASES) == 34


def _status_ok(status: int, classes: list[str]) -> bool:
    return any(c == f"StatusCode{status // 100}xx" for c in classes)


def _load(base: str, file: Path, graph: URIRef | str) -> None:
    data = file.read_text(encoding="utf-8")
    update = f"INSERT DATA {{ GRAPH <{graph}> {{ {data} }} }}"
    r = httpx.post(f"{base}/sparql", content=update.encode("utf-8"),
                   headers={"Content-Type": "application/sparql-update", **AUTH})
    assert r.status_code == 200, r.text


def _check_format(r: httpx.Response, step: Step) -> None:
    media = r.headers.get("content-type", "").split(";")[0].strip()
    if step.format in ("boolean", "tabular"):
        assert media in RESULT_TYPES, media
    elif step.format == "RDF":
        assert media in RDF_TYPES, media
        ox.parse(r.content, format=RDF_TYPES[media])  # well-formed
    if step.boolean is not None:
        assert _boolean(r, media) is step.boolean


def _boolean(r: httpx.Response, media: str) -> Any:
    if "json" in media:
        return json.loads(r.content)["boolean"]
    result = ox.parse_query_results(r.content, format=ox.QueryResultsFormat.XML)
    return bool(result)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_w3c_protocol(case: Case, server: str) -> None:
    for file, graph in case.data:
        _load(server, file, graph)
    for index, step in enumerate(case.steps, start=1):
        path = step.path.replace("/sparql/", "/sparql", 1)
        r = httpx.request(step.method, server + path, headers={**step.headers, **AUTH},
                          content=step.body, timeout=30)
        where = (f"{case.label}, request {index}: {step.method} {path} -> "
                 f"{r.status_code} {r.text[:300]}")
        assert _status_ok(r.status_code, step.statuses), where
        if r.status_code < 300:
            _check_format(r, step)
