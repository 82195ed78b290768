"""The SPARQL guard: remote access decided by a real parse, depth bounded before the engine.

The property test builds queries from escaped local names, comments, strings, nested
groups and IRIs in every position around a ``SERVICE`` (or ``LOAD``) aimed at a real
listener on loopback, passes each through :func:`guard` and, where the guard lets it
through, through pyoxigraph itself: no connection may ever reach the listener.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geokb.errors import QueryError, QueryRefused, TooLarge
from geokb.kb import KnowledgeBase
from geokb.sparql.guard import MAX_DEPTH, guard, nesting_depth, remote_operations


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


# -- the probes of the outside review ---------------------------------------------------

@pytest.mark.parametrize("name", [r"x:a\#b", r"x:a\'b", r'x:a\"b', r"x:a\#", r"x:a\'"])
def test_an_escaped_local_name_does_not_hide_service(name: str, listener: Listener) -> None:
    query = (f"PREFIX x: <http://example.org/> SELECT * {{ ?s {name} ?o . "
             f"SERVICE <http://127.0.0.1:{listener.port}/> {{ ?a ?b ?c }} }}")
    # refused either as SERVICE, or (where rdflib's grammar lacks the escape) as a query
    # that mentions SERVICE and cannot be parsed to tell: never run
    with pytest.raises(QueryError, match="SERVICE"):
        guard(query)
    assert listener.hits == 0


def test_service_allowed_when_asked() -> None:
    guard("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
          allow=frozenset({"SERVICE"}))


def test_words_in_strings_iris_names_and_comments_are_not_remote_access() -> None:
    for query in ['SELECT * { ?s ?p "SERVICE <http://127.0.0.1:9/> {}" }',
                  "SELECT * { ?s <urn:SERVICE> ?o } # SERVICE <http://x/> { }",
                  "PREFIX service: <http://e/> SELECT ?service { ?s service:load ?o }",
                  'SELECT * { ?s ?p ?o FILTER(CONTAINS(STR(?o), "download")) }']:
        guard(query)
        assert remote_operations(query) == frozenset()


def test_an_update_with_a_hidden_load_is_refused_without_running_it(listener: Listener) -> None:
    update = (r"PREFIX x: <http://e/> INSERT DATA { x:a\# x:b 'c' } ; "
              f"LOAD <http://127.0.0.1:{listener.port}/data.ttl>")
    with pytest.raises((QueryRefused, QueryError)):
        guard(update, update=True)
    assert listener.hits == 0


def test_a_unicode_escape_cannot_spell_service_past_the_guard() -> None:
    query = r"SELECT * { \u0053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"
    with pytest.raises((QueryRefused, QueryError)):
        guard(query)


@pytest.mark.parametrize("opener,closer", [("{", "}"), ("(", ")"), ("[", "]")])
def test_deep_nesting_is_refused_before_the_engine(opener: str, closer: str) -> None:
    inner = {"{": "?s ?p ?o", "(": "1", "[": "?p ?o"}[opener]
    query = "SELECT * WHERE { FILTER(" + opener * 5000 + inner + closer * 5000 + ") }"
    with pytest.raises(QueryError, match="nests 50"):
        guard(query)


def test_a_long_chain_of_unary_operators_is_refused() -> None:
    with pytest.raises(QueryError, match="levels deep"):
        guard("SELECT * { FILTER(" + "!" * 5000 + "true) }")


def test_brackets_in_strings_neither_hide_nor_add_depth() -> None:
    assert nesting_depth('SELECT * { ?s ?p "}}}}}}" { ?s ?p ?o } }') == 2
    assert nesting_depth("SELECT * { ?s ?p '''{{{{{{''' }") == 1
    assert nesting_depth("SELECT * { ?s ?p ?o } # {{{{{{{{{{") == 1


def test_an_ordinary_deep_query_still_passes() -> None:
    guard("SELECT * " + "{" * (MAX_DEPTH - 2) + "?s ?p ?o" + "}" * (MAX_DEPTH - 2))


def test_size_limit() -> None:
    with pytest.raises(TooLarge):
        guard("SELECT * { ?s ?p ?o }" + " " * 2_000_000)


# -- the property: nothing reaches the listener ----------------------------------------

_NAMES = st.sampled_from([r"x:a\#", r"x:a\'", r'x:a\"', r"x:a\#b", "x:a", r"x:a\.b",
                          r"x:\-a", "x:SERVICE", r"x:a\~b", "x:a%20b"])
_FILLERS = st.sampled_from([
    "# a comment with ' and \" and { \n", '"a string with # and \' and }"',
    "'a string with # and \" and {'", '"""long "" string # }"""', "'''long '' # {'''",
    "<http://example.org/a#b>", "<urn:x'y>", "?v", "{ ?a ?b ?c }", "OPTIONAL { ?a ?b ?c }",
    r"\u0020", "FILTER(?s != <http://e/>)",
])


@st.composite
def hostile_queries(draw: st.DrawFn, port: int) -> str:
    parts = [draw(st.one_of(_NAMES, _FILLERS)) for _ in range(draw(st.integers(0, 6)))]
    depth = draw(st.integers(0, 3))
    keyword = draw(st.sampled_from(["SERVICE", "service", "SeRvIcE", "SERVICE SILENT"]))
    service = f"{keyword} <http://127.0.0.1:{port}/sparql> {{ ?a ?b ?c }}"
    cut = draw(st.integers(0, len(parts)))
    body = " ".join(parts[:cut]) + " " + "{" * depth + service + "}" * depth + " " + \
        " ".join(parts[cut:])
    return "PREFIX x: <http://example.org/> SELECT * WHERE { ?s ?p ?o . " + body + " }"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_generated_query_reaches_a_loopback_listener(data: st.DataObject,
                                                        listener: Listener) -> None:
    query = data.draw(hostile_queries(listener.port))
    try:
        guard(query)
    except (QueryRefused, QueryError, TooLarge):
        return
    try:  # the guard let it through: then the engine must not call out either
        result = ox.Store().query(query)
        if isinstance(result, ox.QuerySolutions):
            list(result)
    except (SyntaxError, OSError, RuntimeError):
        pass
    assert listener.hits == 0, f"the query reached the listener: {query!r}"


def test_an_update_is_never_run_to_learn_whether_it_is_valid(tmp_path: Path,
                                                             listener: Listener) -> None:
    """The update path parses with rdflib and guards; an unparsable update that hides a
    LOAD is refused without any store executing it (the old error-message probe did)."""
    kb = KnowledgeBase(tmp_path / "kb")
    update = (r"PREFIX x: <http://e/> INSERT DATA { x:a\# x:b 'c' } ; "
              f"LOAD <http://127.0.0.1:{listener.port}/x.ttl>")
    with pytest.raises(QueryError):
        kb.update(update, recorded_by="test")
    assert listener.hits == 0
    assert kb.position == 0
