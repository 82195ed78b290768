"""The SPARQL 1.1 Protocol's requests, without a web framework: reading a GET or POST
into a :class:`SparqlRequest`, and the :class:`ProtocolError` family for what it refuses.

Nothing here knows about FastAPI, so each rule can be tested alone. Media types and
``Accept`` negotiation are in :mod:`geokb.http.negotiation`, answers in
:mod:`geokb.http.results`, error → status in :mod:`geokb.http.problems`.

``ProtocolError`` is a :class:`~geokb.errors.GeoKBError` (one tree of domain errors) that
carries its own HTTP status: its cases (405 method, 406 no acceptable format, 415 media
type, 401/403 token, 503 timeout) exist only at the HTTP edge, so
:mod:`geokb.http.problems` has one row for the family, "the status it carries". Errors
that mean the same thing on every front door use the domain classes instead
(:class:`~geokb.errors.BadTime`, :class:`~geokb.errors.QueryRefused`, …).

>>> parse_request("GET", "query=ASK%20%7B%7D&output=json", None, b"").text
'ASK {}'
>>> try:
...     parse_request("PUT", "", None, b"")
... except ProtocolError as exc:
...     print(exc.status, exc)
405 the SPARQL endpoint answers GET and POST, not PUT; send updates by POST
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from pyoxigraph import NamedNode

from geokb.errors import GeoKBError, InvalidRequest, QueryRefused
from geokb.http.negotiation import parse_media_type

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")


class ProtocolError(GeoKBError):
    """A request the HTTP protocol refuses: its status and a message saying what to fix."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class QueryTimeout(ProtocolError):
    """The query ran past the server's time limit (503)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(503, f"the query exceeded its {seconds:g} s time budget "
                              "(GEOKB_QUERY_TIMEOUT) and was stopped; add a LIMIT or narrow "
                              "the pattern", {"Retry-After": "5"})


class ServerBusy(ProtocolError):
    """Every query thread stayed busy until the request's deadline (503, retry later)."""

    def __init__(self) -> None:
        super().__init__(503, "the server is busy with other queries; retry later",
                         {"Retry-After": "5"})


class ResultTooLarge(QueryRefused):
    """The result has more rows (or triples) than the server's limit: add LIMIT (400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the result has more than {limit} rows or triples, the "
                         "server's limit (GEOKB_MAX_ROWS); add LIMIT and page with OFFSET")
        self.limit = limit


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


def named_node(iri: str) -> NamedNode:
    """``iri`` as a pyoxigraph node; raises :class:`~geokb.errors.InvalidRequest` (400)."""
    try:
        return NamedNode(iri)
    except ValueError as exc:
        raise InvalidRequest(f"not an IRI: {iri!r} ({exc})") from exc
