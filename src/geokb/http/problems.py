"""THE table from domain error to HTTP status, and the problem-JSON body (RFC 9457).

Every HTTP surface — ``/api``, ``/sparql`` (the route and the fast path ahead of it),
``/graph``, the writes, the body limit — answers a :class:`~geokb.errors.GeoKBError`
through :func:`problem_response`, so the same bad input gets the same status and the
same kind of body everywhere. An exception that is not a domain error is a bug and
stays a 500 (:func:`status_of` gives ``None`` for it).

The body is ``application/problem+json`` with ``type`` (a URI naming the kind of
problem), ``title`` (the same for every problem of that type), ``status`` and ``detail``
(what is wrong with this request and how to fix it), plus extension members where an
error carries more (SHACL ``results``, ambiguous ``candidates``, ``expected``/``actual``
log positions). ``error`` repeats ``detail`` for clients of the former ``{"error": …}``
body; it is deprecated.

>>> from geokb.errors import BadTime, NotFound
>>> status_of(BadTime("as-of 'x'")), status_of(NotFound("no entity")), status_of(KeyError())
(400, 404, None)
>>> body = problem(NotFound("no entity is named 'x'"))
>>> body["type"], body["title"], body["status"]
('https://w3id.org/geokb/problems/not-found', 'Not found', 404)
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from geokb.errors import (
    Ambiguous,
    AppendConflict,
    BadTime,
    CorruptLog,
    DatabaseUnavailable,
    GeoKBError,
    InvalidClaimFile,
    InvalidEvent,
    InvalidRequest,
    ModelViolation,
    NotDurable,
    NotFound,
    OntologyError,
    QueryBudgetExceeded,
    QueryError,
    QueryRefused,
    SettingsError,
    ShapeViolation,
    StillAsserted,
    StorageFull,
    StorageReadOnly,
    TooLarge,
    Unavailable,
    UnsupportedShapes,
)
from geokb.http.protocol import ProtocolError

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://w3id.org/geokb/problems/"


@dataclass(frozen=True)
class Kind:
    """One row of the table: the status, the ``type`` slug and the ``title``."""

    status: int
    slug: str
    title: str

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug


#: Domain error class → how HTTP answers it. The most specific class in an error's MRO
#: wins; :class:`ProtocolError` carries its own status (405, 406, 415, 401, 403, 503…).
TABLE: dict[type[GeoKBError], Kind] = {
    BadTime: Kind(400, "bad-time", "Unreadable as_of or valid_at"),
    TooLarge: Kind(413, "too-large", "Request too large"),
    InvalidRequest: Kind(400, "invalid-request", "Invalid request"),
    ShapeViolation: Kind(422, "shape-violation", "Does not conform to the shapes"),
    InvalidEvent: Kind(422, "invalid-event", "Invalid event"),
    # every problem of a claim file, one per line of the detail and in "problems"
    InvalidClaimFile: Kind(422, "invalid-event", "Invalid event"),
    ModelViolation: Kind(422, "evidence-model", "Would break the evidence model"),
    StillAsserted: Kind(409, "still-asserted", "A live claim still asserts it"),
    NotFound: Kind(404, "not-found", "Not found"),
    Ambiguous: Kind(409, "ambiguous", "Ambiguous name"),
    AppendConflict: Kind(409, "append-conflict", "The log moved on"),
    QueryRefused: Kind(400, "query-refused", "Query refused"),
    QueryError: Kind(400, "query-error", "Invalid SPARQL"),
    Unavailable: Kind(503, "unavailable", "Backend unavailable"),
    # the service answers it as a 503 ProtocolError with Retry-After; this row is its status
    QueryBudgetExceeded: Kind(503, "query-budget", "The query went past its budget"),
    NotDurable: Kind(503, "not-durable", "Written, but the disk did not confirm it"),
    DatabaseUnavailable: Kind(503, "database-unavailable", "The database cannot be reached"),
    StorageFull: Kind(507, "storage-full", "The disk holding the KB is full"),
    StorageReadOnly: Kind(503, "storage-read-only", "The KB cannot be written"),
    # the server's own state, not the client's fault: a 500, but one that says what broke
    CorruptLog: Kind(500, "corrupt-log", "The event log is corrupt"),
    OntologyError: Kind(500, "ontology-error", "The ontology cannot be read"),
    UnsupportedShapes: Kind(500, "unsupported-shapes", "Shapes the engine cannot run"),
    SettingsError: Kind(500, "settings-error", "A server setting cannot be read"),
}


def kind_of(exc: BaseException) -> Kind | None:
    """The row for ``exc`` (by its most specific class), or ``None`` for a bug."""
    if isinstance(exc, ProtocolError):
        return protocol_kind(exc.status)
    for cls in type(exc).__mro__:
        found = TABLE.get(cls)
        if found is not None:
            return found
    return None


def protocol_kind(status: int) -> Kind:
    """A :class:`ProtocolError`'s row: its status, named by the HTTP reason phrase."""
    phrase = HTTPStatus(status).phrase
    return Kind(status, phrase.lower().replace(" ", "-"), phrase)


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a domain error, or ``None`` for a bug (a 500)."""
    found = kind_of(exc)
    return found.status if found is not None else None


def problem(exc: BaseException) -> dict[str, Any]:
    """The problem-JSON body for a domain error (raises ``ValueError`` for a bug)."""
    found = kind_of(exc)
    if found is None:
        raise ValueError(f"{type(exc).__name__} is not a domain error")
    body = body_of(found, str(exc))
    if isinstance(exc, ShapeViolation):
        body["results"] = exc.results
    elif isinstance(exc, InvalidEvent):
        body["results"] = []
    if isinstance(exc, InvalidClaimFile):
        body["problems"] = exc.problems
    if isinstance(exc, Ambiguous):
        body["candidates"] = [{"iri": iri, "label": label} for iri, label in exc.candidates]
    if isinstance(exc, AppendConflict):
        body["expected"], body["actual"] = exc.expected, exc.actual
    return body


def body_of(kind: Kind, detail: str, **extra: Any) -> dict[str, Any]:
    """A problem body of ``kind`` saying ``detail`` (``error`` repeats it, deprecated)."""
    return {"type": kind.type, "title": kind.title, "status": kind.status, "detail": detail,
            "error": detail, **extra}


def encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def response(body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    """An ``application/problem+json`` response carrying ``body``."""
    return Response(encode(body), status_code=int(body["status"]), media_type=PROBLEM_JSON,
                    headers=dict(headers or {}))


#: Seconds a client is asked to wait (``Retry-After``) when the database is unreachable.
RETRY_AFTER_SECONDS = 5


def problem_response(exc: BaseException) -> Response:
    """The response to a domain error; a :class:`ProtocolError` adds its headers, and an
    unreachable database asks the client to retry (``Retry-After``)."""
    headers = exc.headers if isinstance(exc, ProtocolError) else None
    if isinstance(exc, DatabaseUnavailable):
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return response(problem(exc), headers)


#: FastAPI's own check of parameters and bodies against the route's types.
INVALID_PARAMETERS = Kind(422, "invalid-parameters", "Invalid parameters")


def install(app: FastAPI) -> None:
    """Answer every domain error, FastAPI's validation errors and Starlette's HTTP errors
    (404 for an unknown path, 405) with a problem body; anything else stays a 500."""

    async def domain(_request: Request, exc: Exception) -> Response:
        if kind_of(exc) is None:
            raise exc  # a domain error missing from TABLE: a bug, so a 500
        return problem_response(exc)

    async def validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")}
                  for e in exc.errors()]
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
        return response(body_of(INVALID_PARAMETERS, f"invalid request: {where}",
                                results=errors))

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return response(body_of(protocol_kind(exc.status_code), str(exc.detail)),
                        exc.headers)

    app.add_exception_handler(GeoKBError, domain)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)


def not_allowed(message: str, allow: str) -> Callable[[Request], Awaitable[Response]]:
    """A handler answering 405 (with ``Allow``) for the methods a path refuses."""
    kind = protocol_kind(405)

    async def handler(request: Request) -> Response:
        return response(body_of(kind, f"{message}, not {request.method}"), {"Allow": allow})

    return handler
