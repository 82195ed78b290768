"""The SPARQL 1.1 Protocol without a web framework: request parsing, content negotiation
(with q-values), result serialization under limits, and domain error → HTTP status.

:mod:`geokb.http.app` calls these; nothing here knows about FastAPI, so each rule can be
tested alone.

>>> negotiate("text/csv;q=0.5, application/sparql-results+json", SOLUTION_TYPES)
'application/sparql-results+json'
>>> negotiate("application/xml;q=0.9, */*;q=0.1", SOLUTION_TYPES)
'application/xml'
>>> negotiate("image/png", SOLUTION_TYPES) is None
True
>>> parse_request("GET", "query=ASK%20%7B%7D&output=json", None, b"").text
'ASK {}'
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, cast
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox
from pyoxigraph import BlankNode, Literal, NamedNode

from geokb.errors import (
    Ambiguous,
    AppendConflict,
    InvalidEvent,
    NotFound,
    QueryError,
    ShapeViolation,
)
from geokb.vocab import PREFIXES

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

#: Media types for SELECT and ASK results, in the server's order of preference.
SOLUTION_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
}
#: Media types for CONSTRUCT and DESCRIBE results (graphs), in order of preference.
GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/x-turtle": ox.RdfFormat.TURTLE,
}
_PRETTY = (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML)
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class ProtocolError(Exception):
    """A request the protocol refuses: its HTTP status and a message saying what to fix."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class QueryTimeout(ProtocolError):
    """The query ran past the server's time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(503, f"the query ran longer than the server's limit of {seconds:g} s "
                              "(GEOKB_QUERY_TIMEOUT) and was abandoned; narrow it, add LIMIT, "
                              "or ask the operator for a longer limit")


class ResultTooLarge(ProtocolError):
    """The result has more rows (or triples) than the server's limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(400, f"the result has more than {limit} rows or triples, the "
                              "server's limit (GEOKB_MAX_ROWS); add LIMIT and page with OFFSET")


# -- errors → status ------------------------------------------------------------------

#: Domain errors and the HTTP status each becomes; anything else stays a 500.
ERROR_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (ShapeViolation, 422),
    (InvalidEvent, 422),
    (NotFound, 404),
    (Ambiguous, 409),
    (AppendConflict, 409),
    (QueryError, 400),
    (SyntaxError, 400),
)


def error_status(exc: BaseException) -> int | None:
    """The HTTP status of a domain error, or ``None`` for a bug (a 500).

    >>> error_status(NotFound("x")), error_status(KeyError("x"))
    (404, None)
    """
    if isinstance(exc, ProtocolError):
        return exc.status
    for cls, status in ERROR_STATUS:
        if isinstance(exc, cls):
            return status
    return None


def error_body(exc: BaseException) -> dict[str, Any]:
    """The JSON body of an error response: ``{"error": message, …}``."""
    if isinstance(exc, ProtocolError):
        return {"error": exc.message}
    body: dict[str, Any] = {"error": str(exc)}
    if isinstance(exc, SyntaxError):
        body["error"] = f"SPARQL syntax error: {exc}"
    if isinstance(exc, ShapeViolation):
        body["results"] = exc.results
    elif isinstance(exc, InvalidEvent):
        body["results"] = []
    if isinstance(exc, Ambiguous):
        body["candidates"] = [{"iri": iri, "label": label} for iri, label in exc.candidates]
    if isinstance(exc, AppendConflict):
        body["expected"], body["actual"] = exc.expected, exc.actual
    return body


# -- media types and negotiation ----------------------------------------------------------


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` (lower case) and its parameters.

    >>> parse_media_type('Application/SPARQL-Query; charset="UTF-8"')
    ('application/sparql-query', {'charset': 'UTF-8'})
    """
    main, *params = value.split(";")
    out: dict[str, str] = {}
    for p in params:
        key, sep, val = p.partition("=")
        if sep:
            out[key.strip().lower()] = val.strip().strip('"')
    return main.strip().lower(), out


@dataclass(frozen=True)
class _Range:
    type: str
    subtype: str
    q: float


def _accept_ranges(header: str) -> list[_Range]:
    ranges = []
    for part in header.split(","):
        if not part.strip():
            continue
        mt, params = parse_media_type(part)
        kind, _, sub = mt.partition("/")
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            continue
        ranges.append(_Range(kind, sub or "*", max(0.0, min(q, 1.0))))
    return ranges


def negotiate(accept: str | None, offers: Iterable[str]) -> str | None:
    """The offer the client prefers (q-values, then specificity, then our order), or
    ``None`` if it accepts none. No ``Accept`` header accepts our first offer."""
    offered = list(offers)
    if accept is None or not accept.strip():
        return offered[0] if offered else None
    ranges = _accept_ranges(accept)
    best: tuple[float, int] | None = None
    choice: str | None = None
    for index, offer in enumerate(offered):
        kind, _, sub = offer.partition("/")
        q: float | None = None
        specificity = -1
        for r in ranges:
            if r.type == kind and r.subtype == sub:
                level = 2
            elif r.type == kind and r.subtype == "*":
                level = 1
            elif r.type == "*":
                level = 0
            else:
                continue
            if level > specificity:
                specificity, q = level, r.q
        if q is None or q <= 0:
            continue
        if best is None or q > best[0]:
            best, choice = (q, index), offer
    return choice


# -- requests --------------------------------------------------------------------------


@dataclass(frozen=True)
class SparqlRequest:
    """One protocol request: a query, an update, or neither (service description)."""

    operation: str  # "query" | "update" | "none"
    text: str = ""
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    using_graphs: tuple[str, ...] = ()
    using_named_graphs: tuple[str, ...] = ()
    as_of: str | None = None
    valid_at: str | None = None

    @property
    def has_dataset(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


def decode_utf8(body: bytes, what: str) -> str:
    """``body`` as text; raises :class:`ProtocolError` (400) unless it is UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"the {what} is not valid UTF-8 (byte {exc.start}); "
                                 "send UTF-8") from exc
    return text.removeprefix("\ufeff")


def _form(text: str, what: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"the {what} has percent-encoded bytes that are not UTF-8") \
            from exc
    except ValueError as exc:
        raise ProtocolError(400, f"cannot read the {what}: {exc}") from exc


def _all(params: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in params if k == name]


def _one(params: Sequence[tuple[str, str]], name: str) -> str | None:
    values = _all(params, name)
    if len(values) > 1:
        raise ProtocolError(400, f"give at most one '{name}' parameter (got {len(values)})")
    return values[0] if values else None


def _iris(params: Sequence[tuple[str, str]], name: str) -> tuple[str, ...]:
    values = _all(params, name)
    for v in values:
        if not _IRI.match(v):
            raise ProtocolError(400, f"{name} must be an absolute IRI, got {v!r}")
    return tuple(values)


def _check_charset(params: Mapping[str, str]) -> None:
    charset = params.get("charset")
    if charset is not None and charset.lower().replace("-", "") != "utf8":
        raise ProtocolError(415, f"charset {charset} is not accepted: send the body as UTF-8")


def parse_request(method: str, query_string: str, content_type: str | None,
                  body: bytes) -> SparqlRequest:
    """Read a SPARQL protocol request. Raises :class:`ProtocolError` saying what is wrong.

    GET carries everything in the URL. POST is a form (``query=`` or ``update=`` with
    the other parameters; URL parameters are merged in) or a direct body of type
    ``application/sparql-query`` / ``application/sparql-update`` with the other
    parameters in the URL. Unknown parameters (``format``, ``output``, …) are ignored.
    """
    if method not in ("GET", "POST"):
        raise ProtocolError(405, f"the SPARQL endpoint answers GET and POST, not {method}; "
                                 "send updates by POST", {"Allow": "GET, POST"})
    params = _form(query_string, "URL query string")
    direct: tuple[str, str] | None = None
    if method == "POST":
        if not content_type:
            raise ProtocolError(415, "a POST needs a Content-Type: application/x-www-form-"
                                     "urlencoded, application/sparql-query or "
                                     "application/sparql-update")
        media, mparams = parse_media_type(content_type)
        _check_charset(mparams)
        if media == FORM:
            params = params + _form(decode_utf8(body, "form body"), "form body")
        elif media in (SPARQL_QUERY, SPARQL_UPDATE):
            op = "query" if media == SPARQL_QUERY else "update"
            for name in ("query", "update"):
                if _all(params, name):
                    raise ProtocolError(400, f"a direct POST carries the {op} in its body; "
                                             f"do not also give '{name}' in the URL")
            direct = (op, decode_utf8(body, "request body"))
        else:
            raise ProtocolError(415, f"unsupported Content-Type {media}: use "
                                     "application/x-www-form-urlencoded, "
                                     "application/sparql-query or application/sparql-update")
    queries, updates = _all(params, "query"), _all(params, "update")
    if direct is not None:
        (queries if direct[0] == "query" else updates).append(direct[1])
    if len(queries) > 1:
        raise ProtocolError(400, f"give exactly one query (got {len(queries)})")
    if len(updates) > 1:
        raise ProtocolError(400, f"give exactly one update (got {len(updates)})")
    if queries and updates:
        raise ProtocolError(400, "give a query or an update, not both")
    if updates and method == "GET":
        raise ProtocolError(400, "updates must be sent by POST (a form with update=… or "
                                 "application/sparql-update), never by GET")
    common = {
        "default_graphs": _iris(params, "default-graph-uri"),
        "named_graphs": _iris(params, "named-graph-uri"),
        "using_graphs": _iris(params, "using-graph-uri"),
        "using_named_graphs": _iris(params, "using-named-graph-uri"),
        "as_of": _one(params, "as_of"),
        "valid_at": _one(params, "valid_at"),
    }
    if updates:
        if common["default_graphs"] or common["named_graphs"]:
            raise ProtocolError(400, "default-graph-uri/named-graph-uri apply to queries; an "
                                     "update takes using-graph-uri/using-named-graph-uri")
        if common["as_of"] is not None or common["valid_at"] is not None:
            raise ProtocolError(400, "as_of and valid_at apply to queries: an update always "
                                     "applies to the current state")
        return SparqlRequest("update", updates[0], **common)  # type: ignore[arg-type]
    if (common["using_graphs"] or common["using_named_graphs"]) and queries:
        raise ProtocolError(400, "using-graph-uri/using-named-graph-uri apply to updates; "
                                 "a query takes default-graph-uri/named-graph-uri")
    if queries:
        if not queries[0].strip():
            raise ProtocolError(400, "the query is empty")
        return SparqlRequest("query", queries[0], **common)  # type: ignore[arg-type]
    if method == "POST":
        raise ProtocolError(400, "the POST carries no query and no update")
    return SparqlRequest("none", **common)  # type: ignore[arg-type]


# -- results under limits ---------------------------------------------------------------


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
           again: Callable[[], Any] | None = None) -> Answer:
    """Serialize a pyoxigraph query result in the format the client prefers.

    SELECT results in JSON are written by pyoxigraph's own serializer when ``again`` (a
    function that runs the query anew) is given: a body of at most 3 bytes per allowed
    row cannot hold more rows than the limit (a row is at least ``{}`` and a comma), so
    only a bigger one has its rows counted, by running the query again here.

    Raises :class:`ProtocolError` (406) if no format fits, :class:`QueryTimeout` or
    :class:`ResultTooLarge`.
    """
    if isinstance(result, ox.QueryBoolean):
        media = _pick(accept, SOLUTION_TYPES, "ASK results")
        return Answer(serialize_boolean(bool(result), SOLUTION_TYPES[media]), _typed(media))
    if isinstance(result, ox.QuerySolutions):
        media = _pick(accept, SOLUTION_TYPES, "SELECT results")
        if again is not None and SOLUTION_TYPES[media] == "json":
            out = _Capped(3 * limits.max_rows, limits)
            try:
                result.serialize(cast("IO[bytes]", out), format=ox.QueryResultsFormat.JSON)
            except _Overflow:
                result = again()
            else:
                limits.check()
                return Answer(b"".join(out.parts), _typed(media))
        names = [v.value for v in result.variables]
        rows = collect((list(row) for row in result), limits)
        return Answer(serialize_solutions(names, rows, SOLUTION_TYPES[media]), _typed(media))
    if isinstance(result, ox.QueryTriples):
        media = _pick(accept, GRAPH_TYPES, "CONSTRUCT/DESCRIBE results")
        triples = collect(result, limits)
        return Answer(serialize_graph(triples, GRAPH_TYPES[media]), _typed(media))
    raise TypeError(f"unexpected query result {type(result).__name__}")


class _Overflow(Exception):
    """More bytes than :class:`_Capped` takes."""


class _Capped:
    """Where pyoxigraph's serializer writes: the bytes, up to ``cap`` and the deadline."""

    def __init__(self, cap: int, limits: Limits) -> None:
        self.cap = cap
        self.limits = limits
        self.size = 0
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.cap:
            raise _Overflow
        self.limits.check()
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _pick(accept: str | None, offers: Mapping[str, object], what: str) -> str:
    media = negotiate(accept, offers)
    if media is None:
        raise ProtocolError(406, f"none of the requested types ({accept}) can carry {what}; "
                                 f"this endpoint offers {', '.join(offers)}")
    return media


def _typed(media: str) -> str:
    return media if media.endswith("+json") or media == "application/json" \
        else f"{media}; charset=utf-8"


# -- serializers ------------------------------------------------------------------------


def _term_json(term: Any) -> dict[str, Any]:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _term_json(term.subject),
                                            "predicate": _term_json(term.predicate),
                                            "object": _term_json(term.object)}}
    raise TypeError(f"unexpected term {term!r}")


#: What json.dumps(…, ensure_ascii=False) writes a string with (in C where it can).
_json_string: Callable[[str], str] = json.encoder.encode_basestring


def _term_json_text(term: Any) -> str:
    """``json.dumps(_term_json(term), ensure_ascii=False)``, without the dictionary."""
    kind = type(term)
    if kind is NamedNode:
        return '{"type": "uri", "value": ' + _json_string(term.value) + "}"
    if kind is Literal:
        value = _json_string(term.value)
        if term.language:
            return ('{"type": "literal", "value": ' + value + ', "xml:lang": '
                    + _json_string(term.language) + "}")
        datatype = term.datatype.value
        if datatype == XSD_STRING:
            return '{"type": "literal", "value": ' + value + "}"
        return ('{"type": "literal", "value": ' + value + ', "datatype": '
                + _json_string(datatype) + "}")
    return json.dumps(_term_json(term), ensure_ascii=False)


def _xml_text(text: str) -> str:
    return escape(_XML_BAD.sub("\ufffd", text))


def _term_xml(term: Any) -> str:
    if isinstance(term, NamedNode):
        return f"<uri>{_xml_text(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{_xml_text(term.value)}</bnode>"
    if isinstance(term, Literal):
        if term.language:
            attr = f" xml:lang={quoteattr(term.language)}"
        elif term.datatype.value != XSD_STRING:
            attr = f" datatype={quoteattr(term.datatype.value)}"
        else:
            attr = ""
        return f"<literal{attr}>{_xml_text(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{_term_xml(term.subject)}</subject>"
                f"<predicate>{_term_xml(term.predicate)}</predicate>"
                f"<object>{_term_xml(term.object)}</object></triple>")
    raise TypeError(f"unexpected term {term!r}")


def _csv_cell(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, NamedNode | Literal):
        text = term.value
    elif isinstance(term, BlankNode):
        text = f"_:{term.value}"
    else:
        text = str(term)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def serialize_solutions(names: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> bytes:
    """SELECT results as SPARQL JSON, XML, CSV or TSV.

    >>> print(serialize_solutions(["x"], [[Literal("a,b")]], "csv").decode())
    x\r
    "a,b"\r
    <BLANKLINE>
    """
    if fmt == "json":
        # the text json.dumps(…, ensure_ascii=False) gives, written term by term
        keys = [_json_string(n) + ": " for n in names]
        bindings = ", ".join(
            "{" + ", ".join(k + _term_json_text(t) for k, t in zip(keys, row, strict=True)
                            if t is not None) + "}"
            for row in rows)
        head = ", ".join(_json_string(n) for n in names)
        return (f'{{"head": {{"vars": [{head}]}}, "results": {{"bindings": [{bindings}]}}}}'
                .encode())
    if fmt == "xml":
        head = "".join(f"<variable name={quoteattr(n)}/>" for n in names)
        results = "".join(
            "<result>" + "".join(f"<binding name={quoteattr(n)}>{_term_xml(t)}</binding>"
                                 for n, t in zip(names, row, strict=True) if t is not None)
            + "</result>\n" for row in rows)
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns='
                f'"http://www.w3.org/2005/sparql-results#"><head>{head}</head>\n'
                f"<results>\n{results}</results></sparql>\n").encode()
    if fmt == "csv":
        lines = [",".join(names)]
        lines += [",".join(_csv_cell(t) for t in row) for row in rows]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")
    if fmt == "tsv":
        lines = ["\t".join(f"?{n}" for n in names)]
        lines += ["\t".join("" if t is None else str(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"unknown results format {fmt}")


def serialize_boolean(value: bool, fmt: str) -> bytes:
    """ASK results; CSV and TSV carry the bare word ``true`` or ``false``."""
    word = "true" if value else "false"
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}).encode("utf-8")
    if fmt == "xml":
        return ('<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns='
                f'"http://www.w3.org/2005/sparql-results#"><head/><boolean>{word}</boolean>'
                "</sparql>\n").encode()
    return f"{word}\n".encode()


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
