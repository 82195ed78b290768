"""Query answers under limits, written by pyoxigraph's own serializers.

:func:`answer` turns a pyoxigraph result (solutions, a boolean or triples) into an
:class:`Answer` in the format the client prefers, checking the row limit and the
deadline as it goes. It branches on what the engine returned, never on the query text.

>>> import pyoxigraph as ox
>>> store = ox.Store()
>>> answer(store.query("ASK {}"), "text/csv", Limits(max_rows=10, timeout=5),
...        again=lambda: store.query("ASK {}")).body
b'true'
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, cast

import pyoxigraph as ox

from geokb.http.negotiation import GRAPH_TYPES, SOLUTION_TYPES, negotiate, typed
from geokb.http.protocol import ProtocolError, QueryTimeout, ResultTooLarge
from geokb.vocab import PREFIXES

_PRETTY = (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML)

#: The fewest bytes a row can take in each results format (JSON ``{},``, XML
#: ``<result></result>``, CSV ``\r\n``, TSV ``\n``): a body of at most ``n`` times that
#: cannot hold more than ``n`` rows, so only a bigger one needs its rows counted.
_ROW_BYTES: dict[ox.QueryResultsFormat, int] = {
    ox.QueryResultsFormat.JSON: 3,
    ox.QueryResultsFormat.XML: 17,
    ox.QueryResultsFormat.CSV: 2,
    ox.QueryResultsFormat.TSV: 1,
}


@dataclass
class Limits:
    """How far one query may go: rows (or triples), a monotonic deadline, a cancel flag."""

    max_rows: int
    timeout: float
    deadline: float = 0.0
    cancel: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        if not self.deadline:
            self.deadline = time.monotonic() + self.timeout

    def check(self) -> None:
        """Raises :class:`QueryTimeout` once the deadline has passed or the run is cancelled."""
        if self.cancel.is_set() or time.monotonic() > self.deadline:
            raise QueryTimeout(self.timeout)


def collect(items: Iterable[Any], limits: Limits) -> list[Any]:
    """The items of a lazy result, checking the deadline between rows and the row limit."""
    out: list[Any] = []
    for item in items:
        out.append(item)
        if len(out) > limits.max_rows:
            raise ResultTooLarge(limits.max_rows)
        if len(out) % 64 == 0:
            limits.check()
    limits.check()
    return out


@dataclass(frozen=True)
class Answer:
    """A serialized result: status, media type, body and any extra response headers."""

    body: bytes
    media_type: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


def answer(result: Any, accept: str | None, limits: Limits, *,
           again: Callable[[], Any]) -> Answer:
    """Serialize a pyoxigraph query result in the format the client prefers.

    Solutions are written by pyoxigraph's serializer into a buffer capped at the fewest
    bytes ``max_rows`` rows could take (``_ROW_BYTES``). Only a bigger answer has its
    rows counted, by running the query again (``again``), and then, if it is within the
    limit, a third time to write it: three runs only for answers that big.

    Raises :class:`ProtocolError` (406) if no format fits, :class:`QueryTimeout` or
    :class:`ResultTooLarge`.
    """
    if isinstance(result, ox.QueryBoolean):
        media = _pick(accept, SOLUTION_TYPES, "ASK results")
        return Answer(result.serialize(format=SOLUTION_TYPES[media]) or b"", typed(media))
    if isinstance(result, ox.QuerySolutions):
        media = _pick(accept, SOLUTION_TYPES, "SELECT results")
        fmt = SOLUTION_TYPES[media]
        body = _serialized(result, fmt, _ROW_BYTES[fmt] * limits.max_rows, limits)
        if body is None:
            collect(again(), limits)  # raises if there are too many rows
            body = _serialized(again(), fmt, None, limits) or b""  # no cap: never None
        return Answer(body, typed(media))
    if isinstance(result, ox.QueryTriples):
        media = _pick(accept, GRAPH_TYPES, "CONSTRUCT/DESCRIBE results")
        triples = collect(result, limits)
        return Answer(serialize_graph(triples, GRAPH_TYPES[media]), typed(media))
    raise TypeError(f"unexpected query result {type(result).__name__}")


class _Overflow(Exception):
    """More bytes than :class:`_Capped` takes."""


class _Capped:
    """Where pyoxigraph's serializer writes: the bytes, up to ``cap`` and the deadline."""

    def __init__(self, cap: int | None, limits: Limits) -> None:
        self.cap = cap
        self.limits = limits
        self.size = 0
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.cap is not None and self.size > self.cap:
            raise _Overflow
        self.limits.check()
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _serialized(result: ox.QuerySolutions, fmt: ox.QueryResultsFormat, cap: int | None,
            limits: Limits) -> bytes | None:
    """``result`` serialized in ``fmt``, or ``None`` if it takes more than ``cap`` bytes."""
    out = _Capped(cap, limits)
    try:
        result.serialize(cast("IO[bytes]", out), format=fmt)
    except _Overflow:
        return None
    limits.check()
    return b"".join(out.parts)


def _pick(accept: str | None, offers: Mapping[str, object], what: str) -> str:
    media = negotiate(accept, offers)
    if media is None:
        raise ProtocolError(406, f"none of the requested types ({accept}) can carry {what}; "
                                 f"this endpoint offers {', '.join(offers)}")
    return media


def serialize_graph(triples: Iterable[Any], fmt: ox.RdfFormat,
                    prefixes: Mapping[str, str] = PREFIXES) -> bytes:
    """Triples in an RDF format; Turtle, TriG and RDF/XML use ``prefixes``."""
    options: dict[str, Any] = {"prefixes": dict(prefixes)} if fmt in _PRETTY else {}
    return ox.serialize(list(triples), format=fmt, **options) or b""


# -- service description ------------------------------------------------------------------

_SD = """@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix formats: <http://www.w3.org/ns/formats/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .

<{endpoint}> a sd:Service ;
  sd:endpoint <{endpoint}> ;
  dcterms:title "geokb SPARQL endpoint" ;
  rdfs:comment {comment} ;
  sd:supportedLanguage sd:SPARQL11Query{update} ;{service}
  sd:resultFormat formats:SPARQL_Results_JSON, formats:SPARQL_Results_XML,
    formats:SPARQL_Results_CSV, formats:SPARQL_Results_TSV, formats:Turtle,
    formats:N-Triples, formats:RDF_XML, formats:JSON-LD, formats:N-Quads, formats:TriG ;
  sd:defaultDataset [
    a sd:Dataset ;
    rdfs:comment "The default graph is the KB's current view (statements of live claims \
reported as fact) with everything about entities, sources, claims and the log's events. Each \
claim's statement is also in a named graph named by the claim's IRI." ;
    sd:defaultGraph [ a sd:Graph ]
  ] .
"""


def service_description(endpoint: str, *, writable: bool, service: bool,
                        fmt: ox.RdfFormat = ox.RdfFormat.TURTLE) -> bytes:
    """A SPARQL 1.1 Service Description of the endpoint at ``endpoint``."""
    comment = json.dumps(
        "geokb: an event-sourced geopolitical knowledge base. Extra request parameters: "
        "as_of (a log position or a UTC time such as 2026-11-28T10:00:00Z: the KB as known "
        "then) and valid_at (a date YYYY, YYYY-MM or YYYY-MM-DD: the current view restricted "
        "to claims valid then)." + ("" if writable else " Read-only: no write token is set."))
    text = _SD.format(endpoint=endpoint, comment=comment,
                      update=", sd:SPARQL11Update" if writable else "",
                      service="\n  sd:feature sd:BasicFederatedQuery ;" if service else "")
    triples = [q.triple for q in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE)]
    return serialize_graph(triples, fmt, {"sd": "http://www.w3.org/ns/sparql-service-description#",
                                          "formats": "http://www.w3.org/ns/formats/",
                                          "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
                                          "dcterms": "http://purl.org/dc/terms/"})
