"""The same bad input gets the same answer on every front door.

``EXPECTED`` is the contract: one row per kind of bad input, with the HTTP status and
problem type every HTTP surface must answer it with. ``REQUESTS`` says how each surface
is given that input (``None``: the input has no meaning there). A CLI column (exit
codes) can join ``Expect`` and get its own table of invocations next to ``REQUESTS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geokb.http import Settings, create_app
from geokb.http.problems import PROBLEM_BASE, PROBLEM_JSON
from tests.harness.http import AUTH, TOKEN, build_kb

BODY_LIMIT = 2000
TARTUS = "tartus-naval-base"
NO_GRAPH = "https://w3id.org/geokb/claim/no-such-claim"


@dataclass(frozen=True)
class Expect:
    """What every surface answers one kind of bad input with."""

    status: int
    problem: str  # the problem type's slug, after PROBLEM_BASE


#: input → what every HTTP surface answers (the one table; a CLI exit code joins here)
EXPECTED: dict[str, Expect] = {
    "bad as_of": Expect(400, "bad-time"),
    "negative as_of": Expect(400, "bad-time"),
    "bad valid_at": Expect(400, "bad-time"),
    "unknown entity": Expect(404, "not-found"),
    "SPARQL syntax error": Expect(400, "query-error"),
    "oversized body": Expect(413, "too-large"),
}

SURFACES = ("GET status", "GET timeline", "GET /sparql", "POST /sparql (form)",
            "POST /sparql (direct)", "GET /graph", "POST /api/claims")


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    options: dict[str, Any]


def _get(url: str, **params: str) -> Call:
    return Call("GET", url, {"params": params})


def _form(**fields: str) -> Call:
    return Call("POST", "/sparql", {"data": fields})


def _direct(query: str, **params: str) -> Call:
    return Call("POST", "/sparql", {"params": params, "content": query.encode(),
                                    "headers": {"Content-Type": "application/sparql-query"}})


def _time(name: str, value: str) -> dict[str, Call | None]:
    """The requests that carry ``name=value`` (as_of or valid_at) on each surface."""
    return {
        "GET status": _get(f"/api/entities/{TARTUS}/status", **{name: value}),
        "GET timeline": _get(f"/api/entities/{TARTUS}/timeline", **{name: value}),
        "GET /sparql": _get("/sparql", query="ASK {}", **{name: value}),
        "POST /sparql (form)": _form(query="ASK {}", **{name: value}),
        "POST /sparql (direct)": _direct("ASK {}", **{name: value}),
        "GET /graph": _get("/graph", default="", **{name: value}),
        "POST /api/claims": None,
    }


_BIG = "ASK { " + "# padding\n" * (BODY_LIMIT // 10 + 1) + "}"
_CLAIM = {"subject": TARTUS, "predicate": "gk:status", "object": "status:uncertain",
          "modality": "asserted", "source": "article-one", "quote": "remains unclear",
          "note": "x" * BODY_LIMIT}

#: input → surface → the request that gives the surface that input (None: not applicable)
REQUESTS: dict[str, dict[str, Call | None]] = {
    "bad as_of": _time("as_of", "yesterday"),
    "negative as_of": _time("as_of", "-1"),
    "bad valid_at": _time("valid_at", "2024-13"),
    "unknown entity": {
        "GET status": _get("/api/entities/atlantis/status"),
        "GET timeline": _get("/api/entities/atlantis/timeline"),
        "GET /sparql": None, "POST /sparql (form)": None, "POST /sparql (direct)": None,
        "GET /graph": _get("/graph", graph=NO_GRAPH),  # an unknown graph: the same 404
        "POST /api/claims": None,
    },
    "SPARQL syntax error": {
        "GET status": None, "GET timeline": None,
        "GET /sparql": _get("/sparql", query="SELECT * {"),
        "POST /sparql (form)": _form(query="SELECT * {"),
        "POST /sparql (direct)": _direct("SELECT * {"),
        "GET /graph": None, "POST /api/claims": None,
    },
    "oversized body": {
        "GET status": None, "GET timeline": None, "GET /sparql": None, "GET /graph": None,
        "POST /sparql (form)": _form(query=_BIG),
        "POST /sparql (direct)": _direct(_BIG),
        "POST /api/claims": Call("POST", "/api/claims", {"json": _CLAIM, "headers": AUTH}),
    },
}

CASES = [(name, surface) for name in EXPECTED for surface in SURFACES
         if REQUESTS[name][surface] is not None]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    kb = build_kb(tmp_path_factory.mktemp("errors") / "kb")
    app = create_app(kb, Settings(tokens={"default": TOKEN}, max_body_bytes=BODY_LIMIT))
    with TestClient(app) as c:
        yield c


def test_the_table_covers_every_surface() -> None:
    assert set(REQUESTS) == set(EXPECTED)
    for name, calls in REQUESTS.items():
        assert set(calls) == set(SURFACES), name
    for surface in SURFACES:  # every surface is held to at least one row
        assert any(REQUESTS[name][surface] is not None for name in EXPECTED), surface


@pytest.mark.parametrize("name, surface", CASES)
def test_one_status_and_one_problem_per_input(client: TestClient, name: str,
                                              surface: str) -> None:
    call = REQUESTS[name][surface]
    assert call is not None
    expect = EXPECTED[name]
    r = client.request(call.method, call.url, **call.options)
    assert r.status_code == expect.status, f"{name} on {surface}: {r.status_code} {r.text}"
    assert r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    assert body["type"] == PROBLEM_BASE + expect.problem
    assert body["status"] == expect.status
    assert body["title"] and body["detail"].strip()


@pytest.mark.parametrize("name", ["bad as_of", "negative as_of", "bad valid_at",
                                  "SPARQL syntax error"])
def test_the_same_input_reads_the_same_everywhere(client: TestClient, name: str) -> None:
    """Not only the status: the title and the detail are the same on every surface."""
    bodies = [client.request(call.method, call.url, **call.options).json()
              for call in REQUESTS[name].values() if call is not None]
    assert len({(b["type"], b["title"], b["detail"]) for b in bodies}) == 1, bodies


def test_a_bug_stays_a_500(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception that is not a domain error is ours, on the route and the fast path."""
    kb = build_kb(tmp_path / "kb")

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    app = create_app(kb, Settings())
    with TestClient(app, raise_server_exceptions=False) as c:
        monkeypatch.setattr(kb, "status", broken)
        monkeypatch.setattr(kb, "query", broken)
        monkeypatch.setattr(kb, "prepare", broken)  # the SPARQL endpoint prepares, then runs
        assert c.get(f"/api/entities/{TARTUS}/status").status_code == 500
        assert c.get("/sparql", params={"query": "ASK {}"}).status_code == 500
        assert c.get("/graph", params={"default": ""}).status_code == 500


def test_domain_errors_outside_the_table_are_not_guessed() -> None:
    """Every class in geokb.errors has a row (or is a base that only its subclasses use)."""
    import geokb.errors as errors
    from geokb.http.problems import TABLE, kind_of

    classes = [c for c in vars(errors).values() if isinstance(c, type)
               and issubclass(c, errors.GeoKBError) and c is not errors.GeoKBError]
    for cls in classes:
        assert cls in TABLE, f"{cls.__name__} has no HTTP status in geokb.http.problems"
    assert kind_of(errors.GeoKBError("a new kind")) is None


def test_no_engine_syntax_error_escapes_the_store(tmp_path: Path) -> None:
    from geokb.errors import QueryError

    kb = build_kb(tmp_path / "kb")
    with pytest.raises(QueryError, match="SPARQL syntax error"):
        kb.query("SELECT * {")
    with pytest.raises(QueryError):
        kb.query("SELECT * {", as_of=1)  # a snapshot's store is asked the same way
