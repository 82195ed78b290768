"""The HTTP front door: a SPARQL 1.1 endpoint, a read-only Graph Store, an evidence-first
REST API, a live event feed and the web page, all over one :class:`KnowledgeBase`.

``create_app(kb, settings)`` builds the app; nothing is module-level state. Handlers
that touch pyoxigraph are plain ``def`` functions (FastAPI runs them in its thread pool)
or hand their work to a query thread, so the event loop never blocks. Domain errors are
translated here, at the edge (see :mod:`geokb.http.protocol` for the table); a bug
stays a 500.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hmac
import json
import os
import re
import threading
import time
import traceback
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field
from pyoxigraph import NamedNode, Variable
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL, Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geokb.errors import InvalidEvent, NotFound, SettingsError
from geokb.http import protocol as sp
from geokb.http.cache import ResultCache
from geokb.kb import PAGE_SIZE
from geokb.log.codec import envelope_of
from geokb.log.contract import EventStore
from geokb.log.events import RecordedEvent
from geokb.log.file import PENDING_NAME, FileEventStore
from geokb.vocab import compact
from geokb.write.updates import uses_keyword

if TYPE_CHECKING:
    from geokb.kb import KnowledgeBase

T = TypeVar("T")
STATIC_DIR = Path(__file__).resolve().parent / "static"
_TOKEN_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


# -- settings -------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How the server runs: write tokens, limits, CORS. Tokens never appear in ``repr``."""

    tokens: Mapping[str, str] = field(default_factory=dict, repr=False)
    query_timeout: float = 30.0
    max_rows: int = 100_000
    max_body_bytes: int = 1_048_576
    cors_origins: tuple[str, ...] = ()
    allow_service: bool = False
    query_slots: int = 8
    stream_poll_seconds: float = 0.2
    stream_heartbeat_seconds: float = 15.0
    sparql_prefixes: bool = True
    static_dir: Path = STATIC_DIR
    cache_entries: int = 2048

    @classmethod
    def from_env(cls, *, token: str | None = None,
                 environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``GEOKB_*`` variables; ``token`` becomes the token named "default".

        ``GEOKB_TOKENS="name1:secret1,name2:secret2"`` adds named tokens; ``GEOKB_QUERY_TIMEOUT``
        (seconds), ``GEOKB_MAX_ROWS``, ``GEOKB_MAX_BODY_BYTES``, ``GEOKB_QUERY_SLOTS``,
        ``GEOKB_CACHE_ENTRIES`` (answers kept per log position), ``GEOKB_CORS_ORIGINS``
        (comma-separated) and ``GEOKB_ALLOW_SERVICE=1`` set the rest.
        Raises :class:`SettingsError` naming the variable (never a secret).
        """
        env = os.environ if environ is None else environ
        tokens: dict[str, str] = {}
        if token:
            tokens["default"] = token
        for index, entry in enumerate(filter(None, (e.strip() for e in
                                                   env.get("GEOKB_TOKENS", "").split(","))), 1):
            name, sep, secret = entry.partition(":")
            if not sep or not secret or not _TOKEN_NAME.match(name):
                raise SettingsError(f"GEOKB_TOKENS entry {index}: write name:secret, the name of "
                                    "letters, digits, '.', '_' or '-'")
            tokens[name] = secret

        def number(name: str, default: float, kind: Callable[[str], float]) -> Any:
            raw = env.get(name)
            if raw is None or not raw.strip():
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise SettingsError(f"{name}={raw!r} is not a number") from None
            if value <= 0:
                raise SettingsError(f"{name} must be positive")
            return value

        origins = tuple(o.strip() for o in env.get("GEOKB_CORS_ORIGINS", "").split(",")
                        if o.strip())
        return cls(
            tokens=tokens,
            query_timeout=number("GEOKB_QUERY_TIMEOUT", cls.query_timeout, float),
            max_rows=number("GEOKB_MAX_ROWS", cls.max_rows, int),
            max_body_bytes=number("GEOKB_MAX_BODY_BYTES", cls.max_body_bytes, int),
            query_slots=number("GEOKB_QUERY_SLOTS", cls.query_slots, int),
            cache_entries=number("GEOKB_CACHE_ENTRIES", cls.cache_entries, int),
            cors_origins=origins,
            allow_service=env.get("GEOKB_ALLOW_SERVICE", "").lower() in ("1", "true", "yes"),
        )


# -- request size ---------------------------------------------------------------------


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before the app reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                await _send_error(send, 400, "Content-Length is not a number")
                return
            if int(length) > self.limit:
                await _send_error(send, 413, self._message(int(length)))
                return
            await self.app(scope, receive, send)
            return
        if headers.get(b"transfer-encoding") is None:
            await self.app(scope, receive, send)
            return
        # chunked: read it all (up to the limit) before the app sees it
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _send_error(send, 413, self._message(size, at_least=True))
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _message(self, size: int, *, at_least: bool = False) -> str:
        more = "more than " if at_least else ""
        return (f"the request body is {more}{size} bytes, over this server's limit of "
                f"{self.limit} bytes (GEOKB_MAX_BODY_BYTES)")


async def _send_error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# -- SPARQL queries ahead of the router ---------------------------------------------------

SPARQL_PATHS = ("/sparql", "/sparql/")


class SparqlQueries:
    """SPARQL queries at ``paths`` answered as plain ASGI, ahead of routing.

    A small query costs the engine a few hundred microseconds; FastAPI's routing,
    dependency solving and middleware would cost as much again. Only queries are
    answered here (``answer`` is the route's own), with the route's errors; updates, the
    service description and requests the protocol refuses go on to the route.
    """

    def __init__(self, app: ASGIApp, paths: tuple[str, ...],
                 answer: Callable[[sp.SparqlRequest, str | None, str],
                                  Awaitable[sp.Answer]]) -> None:
        self.app = app
        self.paths = paths
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths \
                or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        body = b""
        if scope["method"] == "POST":
            chunks = []
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            body = b"".join(chunks)
            receive = _replay(body, receive)
        headers = Headers(scope=scope)
        try:
            req = sp.parse_request(scope["method"], scope.get("query_string", b"").decode(),
                                   headers.get("content-type"), body)
        except (sp.ProtocolError, UnicodeDecodeError):
            req = None  # the route says what is wrong, as it always has
        if req is None or req.operation != "query":
            await self.app(scope, receive, send)
            return
        try:
            answer = await self.answer(req, headers.get("accept"), _endpoint(scope))
        except Exception as exc:
            if sp.error_status(exc) is None:
                raise  # a bug: a 500, as from the route
            response: Response = _error_response(exc)
        else:
            response = _answer_response(answer)
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` (already read) once, then the real one's messages."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _endpoint(scope: Scope) -> str:
    """The request's URL without its query string: the SPARQL endpoint's IRI."""
    return str(URL(scope={**scope, "query_string": b""}))


def _answer_response(answer: sp.Answer) -> Response:
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type,
                    headers={"Vary": "Accept"})


# -- query threads ----------------------------------------------------------------------


class _Workers:
    """At most ``size`` daemon threads that run jobs in turn: a thread starts when work
    finds every thread busy, and ends after ``idle`` seconds without work. Reusing them
    spares each query a thread start."""

    def __init__(self, name: str, size: int, idle: float = 30.0) -> None:
        self._name = name
        self._size = size
        self._idle_seconds = idle
        self._cond = threading.Condition()
        self._jobs: deque[Callable[[], None]] = deque()
        self._idle = 0
        self._threads = 0
        self._closed = False

    def close(self) -> None:
        """Let every thread end once the jobs queued now are done (the app is stopping)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def submit(self, job: Callable[[], None]) -> None:
        with self._cond:
            self._jobs.append(job)
            if self._idle >= len(self._jobs) or self._threads >= self._size:
                self._cond.notify()  # a waiting thread, or the next one to finish, takes it
                return
            self._threads += 1
        threading.Thread(target=self._work, name=self._name, daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._cond:
                deadline = time.monotonic() + self._idle_seconds
                while not self._jobs:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._closed:
                        self._threads -= 1
                        return
                    self._idle += 1
                    try:
                        self._cond.wait(remaining)
                    finally:
                        self._idle -= 1
                job = self._jobs.popleft()
            job()


class QueryRunner:
    """Runs queries in daemon threads, at most ``slots`` at once, under a deadline.

    pyoxigraph cannot cancel a query. On timeout the client gets its 503 at once and the
    thread is told to stop at the next result row; a query that blocks inside the engine
    (a big ORDER BY or aggregate) runs on and keeps its slot until it finishes, so a burst
    of runaway queries makes later ones wait, then time out, instead of piling up. The
    threads are kept for the next queries while there is work.
    """

    def __init__(self, slots: int) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._workers = _Workers("geokb-query", slots)

    def close(self) -> None:
        self._workers.close()

    async def run(self, work: Callable[[sp.Limits], T], limits: sp.Limits) -> T:
        while not self._slots.acquire(blocking=False):
            if time.monotonic() > limits.deadline:
                raise sp.ProtocolError(503, "the server is busy with other queries; retry "
                                            "later", {"Retry-After": "5"})
            await asyncio.sleep(0.02)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def target() -> None:
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(work(limits))
                    except BaseException as exc:  # handed to the awaiting request
                        _drop_frames(exc)
                        future.set_exception(exc)
            finally:
                self._slots.release()

        self._workers.submit(target)
        remaining = max(0.0, limits.deadline - time.monotonic())
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), remaining)
        except TimeoutError:
            limits.cancel.set()
            raise sp.QueryTimeout(limits.timeout) from None


def _drop_frames(exc: BaseException | None) -> None:
    """Clear the locals of an exception's frames (and its causes') in this thread.

    pyoxigraph's query results may only be dropped on the thread that made them; a
    traceback carried to the event loop would otherwise drop them there.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__


# -- API documentation models (the handlers return the facade's JSON as is) ------------


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ErrorOut(_Open):
    error: str = Field(examples=["no entity is named 'Tartous' (try a label, an alias or a slug)"])
    results: list[dict[str, Any]] | None = Field(None, description="SHACL results (422)")
    candidates: list[dict[str, str]] | None = Field(None, description="Ambiguous name (409)")


class EntityMatch(_Open):
    iri: str = Field(examples=["https://w3id.org/geokb/id/tartus-naval-base"])
    id: str = Field(examples=["tartus-naval-base"])
    label: str = Field(examples=["Tartus naval base"])
    types: list[str] = Field(examples=[["gk:NavalBase"]])
    aliases: list[str] = Field(examples=[["Tartus"]])


class EntityMatches(_Open):
    matches: list[EntityMatch]


class TermOut(_Open):
    iri: str | None = None
    label: str | None = None
    value: str | None = None
    lang: str | None = None
    datatype: str | None = None


class StatementOut(_Open):
    subject: TermOut
    predicate: TermOut
    object: TermOut


class SourceRef(_Open):
    iri: str
    title: str
    sha256: str


class EvidenceOut(_Open):
    quote: str = Field(examples=["remains unclear"])
    start: int
    end: int
    prefix: str
    suffix: str
    sha256: str


class DateOut(_Open):
    value: str = Field(examples=["2024-12"])
    precision: str = Field(examples=["month"])


class ValidTimeOut(_Open):
    from_: DateOut | None = Field(None, alias="from")
    until: DateOut | None = None


class LogRef(_Open):
    event: str
    position: int
    recorded_at: str
    recorded_by: str


class LifecycleOut(_Open):
    state: str = Field(examples=["live"], description="live, retracted or superseded")
    asserted: LogRef
    retracted: dict[str, Any] | None = None
    superseded: dict[str, Any] | None = None


class ClaimOut(_Open):
    claim: str = Field(examples=["https://w3id.org/geokb/claim/tartus-status"])
    id: str = Field(examples=["tartus-status"])
    statement: StatementOut
    modality: str = Field(examples=["asserted"])
    source: SourceRef
    evidence: EvidenceOut
    speaker: TermOut | None = None
    reported_via: list[TermOut] = []
    valid_time: ValidTimeOut
    confidence: str | None = None
    note: str | None = None
    lifecycle: LifecycleOut


class EntityOut(_Open):
    iri: str
    label: str
    types: list[str]
    aliases: list[str]
    same_as: list[str]


class StatusValue(_Open):
    value: str = Field(examples=["https://w3id.org/geokb/status/uncertain"])
    label: str
    modality: str
    claim: str
    negated: bool = Field(False, description="true for a denied claim: 'not <label>'")
    holding: str | None = Field(None, description="holds | last_reported at the world time")
    reported_time: dict[str, Any] | None = Field(
        None, description="{value, precision, from: claim | source}, or null when unknown")


class AtOut(_Open):
    from_: str = Field(alias="from", description="First day of the world time T")
    until: str = Field(description="Last day of T")


class ConflictOut(_Open):
    conflict: str = Field(examples=["https://w3id.org/geokb/conflict/a20b681396573863"])
    on: dict[str, Any] | None
    property: dict[str, Any] | None
    rules: list[str] = Field(description="single-valued | denial | contradiction")
    contested_since: str | None
    sides: list[dict[str, Any]] = Field(description="Claims grouped by what they say: value, "
                                                    "negated, label, claims")
    line: str = Field(description="The conflict in words")


class NextPage(_Open):
    as_of: int = Field(description="The log position the first page was read at")
    valid_at: str | None = None
    offset: int
    limit: int | None


class PageOut(_Open):
    offset: int
    limit: int | None = Field(description="null: every claim on one page")
    total: int = Field(description="Claims about the entity in this view, on every page")
    next: NextPage | None = Field(description="The query parameters of the next page "
                                              "(also in the Link header); null at the end")


class StatusOut(_Open):
    entity: EntityOut
    as_of: int | None = None
    valid_at: str | None = None
    at: AtOut | None = None
    assessment: str | None = Field(None, description="settled | contested | unknown")
    line: str | None = Field(None, description="The status in words")
    status: list[StatusValue] = Field(description="The status claims that hold or were last "
                                                  "reported at the world time, on every page")
    undated: list[str] = Field([], description="Undated status claims: never holding")
    conflicts: list[ConflictOut] = Field([], description="Conflicts on the entity at T")
    claims: list[ClaimOut]
    page: PageOut


class ConflictsOut(_Open):
    as_of: int | None = None
    valid_at: str | None = None
    at: AtOut
    conflicts: list[ConflictOut]
    page: PageOut


class TimelineOut(_Open):
    entity: EntityOut
    as_of: int | None = None
    valid_at: str | None = None
    claims: list[ClaimOut]
    page: PageOut


class SpanOut(_Open):
    claim: str
    id: str
    start: int
    end: int
    quote: str
    modality: str
    live: bool


class SourceOut(_Open):
    iri: str
    id: str
    title: str | None
    sha256: str
    text: str
    spans: list[SpanOut]


class EnvelopeOut(_Open):
    id: str
    type: str = Field(examples=["ClaimAsserted"])
    schema_version: int = Field(alias="schema")
    seq: int
    recorded_at: str
    recorded_by: str
    payload: dict[str, Any]
    prev: str
    hash: str
    idem: str | None = None


class EventsPage(_Open):
    events: list[EnvelopeOut]
    next: int | None = Field(description="Pass as ?after= for the next page; null at the end")
    head: int = Field(description="The log's last position")


class Health(_Open):
    position: int


class UpdateOut(_Open):
    position: int
    events: list[dict[str, Any]]


class ClaimIn(BaseModel):
    """A claim, with the keys of a claim in a YAML claim file."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "subject": "tartus-naval-base", "predicate": "gk:status", "object": "status:uncertain",
        "modality": "asserted", "source": "article-one", "quote": "remains unclear"}]})

    subject: str
    predicate: str
    object: str | dict[str, str]
    modality: str
    source: str
    quote: str
    occurrence: int | None = None
    start: int | None = None
    speaker: str | None = None
    reported_via: list[str] | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    valid_at: str | None = None
    confidence: str | int | float | None = None
    note: str | None = None
    id: str | None = None


class RetractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(examples=["the source corrected itself"])


class SupersedeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(examples=["tartus-status-2025"])
    reason: str = Field(examples=["a later report settles it"])


def _docs(model: type[BaseModel], *errors: int) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {200: {"model": model}}
    for status in errors:
        out[status] = {"model": ErrorOut}
    return out


MAX_PAGE = 1000
PAGE_DOC = f"Claims per page (at most {MAX_PAGE})"
OFFSET_DOC = "Claims to skip: the next page is in page.next (and the Link header)"

ENTITY_NAMES = """SELECT ?e ?label ?name WHERE {
  ?e gk:declaredIn ?ev ; rdfs:label ?label .
  { ?e rdfs:label ?name } UNION { ?e skos:altLabel ?name }
}"""
ENTITY_DETAILS = "SELECT ?e ?p ?v WHERE { VALUES ?p { rdf:type skos:altLabel } ?e ?p ?v }"
GRAPH_OF = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
GRAPH_EXISTS = "ASK { GRAPH ?g { ?s ?p ?o } }"
DEFAULT_GRAPH = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"

SPARQL_DOC = {
    "parameters": [
        {"name": n, "in": "query", "required": False, "schema": {"type": "string"},
         "description": d}
        for n, d in (
            ("query", "A SPARQL 1.1 query (GET, or POST as a form)."),
            ("update", "A SPARQL 1.1 update (POST only; needs the bearer token)."),
            ("default-graph-uri", "Repeatable: the default graph(s), overriding FROM."),
            ("named-graph-uri", "Repeatable: the named graphs, overriding FROM NAMED."),
            ("using-graph-uri", "Repeatable, updates: the WHERE clause's default graph(s)."),
            ("using-named-graph-uri", "Repeatable, updates: the WHERE clause's named graphs."),
            ("as_of", "Time travel: a log position or a UTC time (2026-11-28T10:00:00Z)."),
            ("valid_at", "World time: a date YYYY, YYYY-MM or YYYY-MM-DD."),
        )
    ],
    "requestBody": {"required": False, "content": {
        "application/sparql-query": {"schema": {"type": "string"}, "example": "ASK {}"},
        "application/sparql-update": {"schema": {"type": "string"},
                                      "example": "INSERT DATA { <http://ex/s> <http://ex/p> 1 }"},
        sp.FORM: {"schema": {"type": "object", "properties": {
            "query": {"type": "string"}, "update": {"type": "string"}}}},
    }},
    "responses": {"200": {"description": "Results (JSON, XML, CSV, TSV) or RDF (Turtle, "
                                         "N-Triples, RDF/XML, JSON-LD, TriG, N-Quads) by "
                                         "Accept; a service description when no query"}},
}


# -- the app ----------------------------------------------------------------------------


class LogWatch:
    """The log's head position, read again only when the log may have moved.

    On the file log every append changes the ``stat`` of ``events.jsonl`` (size,
    modification and change times, inode), and a batch becomes visible when its
    ``.pending`` marker goes: while neither changes, neither does the head, and a request
    costs one ``stat`` (two while a marker was there at the last read) instead of reading
    and decoding the last line. Other backends (PostgreSQL) are asked every time.
    """

    def __init__(self, log: EventStore) -> None:
        self.log = log
        self._files = (log.path, log.directory / PENDING_NAME) \
            if isinstance(log, FileEventStore) else None
        self._seen: tuple[Any, Any, int] | None = None  # log stat, marker stat, head

    @staticmethod
    def _stat(path: Path) -> tuple[int, int, int, int] | None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)

    def cached(self) -> int | None:
        """The head if the files show it has not moved since it was read (costs a
        ``stat`` or two, never a read), else ``None``."""
        seen, files = self._seen, self._files
        if files is None or seen is None or self._stat(files[0]) != seen[0]:
            return None
        if seen[1] is not None and self._stat(files[1]) != seen[1]:
            return None
        return seen[2]

    def head(self) -> int:
        """The log's head position (read from the log only if it may have moved)."""
        files = self._files
        if files is None:
            return self.log.head().position
        known = self.cached()
        if known is not None:
            return known
        log, marker = self._stat(files[0]), self._stat(files[1])  # before the read
        position = self.log.head().position
        self._seen = (log, marker, position)
        return position


def _lifespan(svc: _Service) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """Stop the query threads when the app stops (each would otherwise idle on for 30 s)."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            svc.runner.close()

    return lifespan


class _Service:
    """What the handlers share: the KB, the settings, the query threads."""

    def __init__(self, kb: KnowledgeBase, settings: Settings) -> None:
        self.kb = kb
        self.settings = settings
        self.runner = QueryRunner(settings.query_slots)
        self.watch = LogWatch(kb.log)
        # answers keyed by request and log head: correct for as long as the head stands
        self.answers: ResultCache[sp.Answer] = ResultCache(max_entries=settings.cache_entries)

    def head(self) -> int:
        return self.watch.head()

    def current(self) -> int | None:
        """The log head if the projection is known to be caught up with it without any
        I/O but a ``stat`` (safe on the event loop), else ``None``."""
        head = self.watch.cached()
        return head if head is not None and head == self.kb.position else None

    def refresh(self) -> int:
        """Catch up with events other processes appended; returns the log head."""
        head = self.head()
        if head != self.kb.position:
            self.kb.catch_up()
        return head

    def cached_json(self, key: tuple[Any, ...], make: Callable[[], dict[str, Any]],
                    headers: Callable[[dict[str, Any]], dict[str, str]] | None = None
                    ) -> Response:
        """A REST answer, kept under ``key`` and the log head it was read at."""
        full = (*key, self.refresh())
        hit = self.answers.get(full)
        if hit is None:
            answer = make()
            extra = headers(answer) if headers is not None else {}
            body = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
            hit = sp.Answer(body, "application/json", headers=tuple(extra.items()))
            self.answers.put(full, hit, len(body))
        return Response(hit.body, media_type=hit.media_type, headers=dict(hit.headers))

    def limits(self) -> sp.Limits:
        return sp.Limits(max_rows=self.settings.max_rows, timeout=self.settings.query_timeout)

    def writer(self, authorization: str | None) -> str:
        """The name of the token presented. Raises :class:`ProtocolError` 403 or 401."""
        tokens = self.settings.tokens
        if not tokens:
            raise sp.ProtocolError(403, "this server is read-only: no write token is configured "
                                        "(start it with GEOKB_TOKEN or GEOKB_TOKENS set)")
        scheme, _, given = (authorization or "").partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="geokb"'}
        if scheme.lower() != "bearer" or not given.strip():
            raise sp.ProtocolError(401, "writes need the bearer token: send 'Authorization: "
                                        "Bearer <token>'", challenge)
        presented = given.strip().encode("utf-8")
        match: str | None = None
        for name, secret in tokens.items():
            if hmac.compare_digest(presented, secret.encode("utf-8")):
                match = name
        if match is None:
            raise sp.ProtocolError(401, "the bearer token is not valid", {
                "WWW-Authenticate": 'Bearer realm="geokb", error="invalid_token"'})
        return match

    def query(self, text: str, *, accept: str | None, limits: sp.Limits,
              as_of: str | None = None, valid_at: str | None = None, fresh: bool = False,
              **options: Any) -> sp.Answer:
        """Run a query (in a query thread) and serialize its answer; ``fresh``: the
        caller has just caught up with the log."""
        # the keyword scan only where the word is there at all (any case)
        if not self.settings.allow_service and "SERVICE" in text.upper() \
                and uses_keyword(text, "SERVICE"):
            raise sp.ProtocolError(400, "SERVICE (federated query) is disabled on this "
                                        "server: it would make the server fetch URLs")
        if not self.settings.sparql_prefixes:
            options["prefixes"] = {}
        if not fresh:
            self.refresh()
        limits.check()
        try:
            result = self.kb.query(text, as_of=as_of, valid_at=valid_at, **options)
            return sp.answer(result, accept, limits, again=lambda: self.kb.query(
                text, as_of=as_of, valid_at=valid_at, **options))
        except SyntaxError as exc:
            raise sp.ProtocolError(400, f"SPARQL syntax error: {exc}") from exc
        except InvalidEvent as exc:
            raise sp.ProtocolError(400, str(exc)) from exc
        except OSError as exc:
            if self.settings.allow_service:
                raise sp.ProtocolError(502, f"query evaluation failed: {exc}") from exc
            raise


def create_app(kb: KnowledgeBase, settings: Settings | None = None) -> FastAPI:
    """The FastAPI app over ``kb``: ``/sparql``, ``/graph``, ``/api/…``, ``/`` and ``/static``."""
    settings = settings or Settings()
    svc = _Service(kb, settings)
    app = FastAPIOffline(
        title="geokb",
        summary="An event-sourced geopolitical knowledge base: claims with evidence, "
                "time travel, SPARQL.",
        description="SPARQL 1.1 endpoint at `/sparql` (query, update as events, service "
                    "description), a read-only Graph Store at `/graph`, and the "
                    "evidence-first REST API under `/api`. Writes need "
                    "`Authorization: Bearer <token>`. See docs/http.md.",
        version="0.1.0",
        lifespan=_lifespan(svc),
    )
    # added first, so innermost: the body limit and CORS apply to it as to the routes
    app.add_middleware(SparqlQueries, paths=SPARQL_PATHS, answer=lambda *a: answer_query(*a))
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "HEAD", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Accept", "Idempotency-Key",
                           "Last-Event-ID"])
    _error_handlers(app)
    bearer = Depends(HTTPBearer(auto_error=False, description="A write token (GEOKB_TOKEN)"))

    def writer(credentials: HTTPAuthorizationCredentials | None = bearer) -> str:
        header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
        return svc.writer(header)

    # -- web page ---------------------------------------------------------------------

    def page() -> Response:
        index = settings.static_dir / "index.html"
        if not index.is_file():
            return JSONResponse({"error": "the web page is not installed "
                                          f"({index} is missing)"}, status_code=404)
        return FileResponse(index, media_type="text/html; charset=utf-8")

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        if sp.negotiate(request.headers.get("accept"), ["application/json", "text/html"]) \
                == "text/html":
            return page()
        return JSONResponse({"name": "geokb", "sparql": "/sparql", "graph_store": "/graph",
                             "openapi": "/openapi.json", "docs": "/docs",
                             "position": svc.kb.position})

    app.mount("/static", StaticFiles(directory=settings.static_dir, check_dir=False),
              name="static")

    # -- SPARQL protocol ---------------------------------------------------------------

    async def answer_query(req: sp.SparqlRequest, accept: str | None,
                           endpoint: str) -> sp.Answer:
        options: dict[str, Any] = {"base_iri": endpoint}
        if req.has_dataset:
            options["default_graph"] = [_node(g) for g in req.default_graphs]
            options["named_graphs"] = [_node(g) for g in req.named_graphs]
        key = (req.text, accept, req.as_of, req.valid_at, endpoint,
               tuple(req.default_graphs) if req.has_dataset else None,
               tuple(req.named_graphs) if req.has_dataset else None)
        # a repeated query while the log stands still is answered here, on the event
        # loop (a stat of the log, a dictionary lookup); anything else takes one hop to a
        # query thread, which catches up, looks again, and runs the query
        head = svc.current()
        cached = svc.answers.get((*key, head)) if head is not None else None
        if cached is None:
            cached = await svc.runner.run(
                lambda lim: cached_query(key, head, req, accept, options, lim), svc.limits())
        return cached

    def cached_query(key: tuple[Any, ...], head: int | None, req: sp.SparqlRequest,
                     accept: str | None, options: dict[str, Any],
                     limits: sp.Limits) -> sp.Answer:
        full = (*key, head if head is not None else svc.refresh())
        answer = svc.answers.get(full) if head is None else None
        if answer is None:
            answer = svc.query(req.text, accept=accept, limits=limits, as_of=req.as_of,
                               valid_at=req.valid_at, fresh=True, **options)
            svc.answers.put(full, answer, len(answer.body))
        return answer

    async def sparql(request: Request) -> Response:
        body = await request.body()
        req = sp.parse_request(request.method, request.url.query,
                               request.headers.get("content-type"), body)
        endpoint = _endpoint(request.scope)
        if req.operation == "none":
            return description(request, endpoint)
        if req.operation == "update":
            return await update(request, req, endpoint)
        return _answer_response(await answer_query(req, request.headers.get("accept"),
                                                   endpoint))

    def description(request: Request, endpoint: str) -> Response:
        offers = [*sp.GRAPH_TYPES, "text/html"]
        chosen = sp.negotiate(request.headers.get("accept"), offers)
        if chosen == "text/html":
            return page()
        media = chosen or "text/turtle"
        body = sp.service_description(endpoint, writable=bool(settings.tokens),
                                      service=settings.allow_service, fmt=sp.GRAPH_TYPES[media])
        return Response(body, media_type=sp._typed(media), headers={"Vary": "Accept"})

    async def update(request: Request, req: sp.SparqlRequest, endpoint: str) -> Response:
        name = svc.writer(request.headers.get("authorization"))
        recorded = await run_in_threadpool(
            lambda: svc.kb.update(req.text, recorded_by=f"http:{name}", base_iri=endpoint,
                                  using_graphs=req.using_graphs,
                                  using_named_graphs=req.using_named_graphs,
                                  idempotency_key=request.headers.get("idempotency-key")))
        return JSONResponse(UpdateOut(position=svc.kb.position, events=[
            {"position": e.position, "id": e.id, "type": e.type, "recorded_by": e.recorded_by,
             "deleted": len(e.payload.get("delete", [])),
             "inserted": len(e.payload.get("insert", []))} for e in recorded]).model_dump())

    for path in SPARQL_PATHS:
        for method in ("GET", "POST"):
            app.add_api_route(path, sparql, methods=[method], summary="SPARQL 1.1 endpoint",
                              description="Query (GET, form POST, direct POST), update (POST, "
                                          "token), service description (no query).",
                              openapi_extra=SPARQL_DOC, include_in_schema=path == "/sparql",
                              operation_id=f"sparql_{method.lower()}",
                              response_class=Response, tags=["SPARQL"])
        app.add_api_route(path, _not_allowed("the SPARQL endpoint answers GET and POST",
                                             "GET, POST"),
                          methods=["PUT", "DELETE", "PATCH"], include_in_schema=False)

    # -- Graph Store Protocol (read-only) ----------------------------------------------

    @app.api_route("/graph", methods=["GET"], tags=["SPARQL"],
                   summary="Graph Store Protocol: read a graph",
                   response_class=Response,
                   responses={404: {"model": ErrorOut}, 406: {"model": ErrorOut}})
    async def graph_store(request: Request,
                          graph: str | None = Query(None, description="The graph's IRI"),
                          default: str | None = Query(None, description="Present: the "
                                                                        "default graph"),
                          as_of: str | None = None, valid_at: str | None = None) -> Response:
        if (graph is None) == (default is None):
            raise sp.ProtocolError(400, "give ?graph=<IRI> or ?default (one of them)")
        accept = request.headers.get("accept")
        if sp.negotiate(accept, sp.GRAPH_TYPES) is None:
            raise sp.ProtocolError(406, f"none of the requested types ({accept}) is an RDF "
                                        f"format this server writes: {', '.join(sp.GRAPH_TYPES)}")
        limits = svc.limits()

        def work(lim: sp.Limits) -> sp.Answer:
            if graph is None:
                return svc.query(DEFAULT_GRAPH, accept=accept, limits=lim, as_of=as_of,
                                 valid_at=valid_at)
            subs = {Variable("g"): _node(graph)}
            exists = svc.query(GRAPH_EXISTS, accept="application/sparql-results+json",
                               limits=lim, as_of=as_of, valid_at=valid_at, substitutions=subs)
            if not json.loads(exists.body)["boolean"]:
                raise sp.ProtocolError(404, f"no graph <{graph}> in this store")
            return svc.query(GRAPH_OF, accept=accept, limits=lim, as_of=as_of,
                             valid_at=valid_at, substitutions=subs)

        answer = await svc.runner.run(work, limits)
        if request.method == "HEAD":
            return Response(b"", media_type=answer.media_type,
                            headers={"Content-Length": str(len(answer.body)), "Vary": "Accept"})
        return Response(answer.body, media_type=answer.media_type, headers={"Vary": "Accept"})

    app.add_api_route("/graph", graph_store, methods=["HEAD"], include_in_schema=False)
    app.add_api_route("/graph", _not_allowed("the graph store is read-only here: change data "
                                             "with SPARQL Update at /sparql", "GET, HEAD"),
                      methods=["PUT", "POST", "DELETE", "PATCH"], include_in_schema=False)

    # -- REST: reading -----------------------------------------------------------------

    @app.get("/api/entities", tags=["entities"], responses=_docs(EntityMatches),
             response_class=JSONResponse,
             summary="Find entities by label or alias (case-insensitive, every word)")
    def entities(q: str = Query(..., min_length=1, examples=["Tartus"]),
                 limit: int = Query(20, ge=1, le=100)) -> Response:
        svc.refresh()
        return JSONResponse({"matches": _find_entities(svc.kb, q, limit)})

    @app.get("/api/entities/{slug}/status", tags=["entities"],
             responses=_docs(StatusOut, 404, 409, 422), response_class=JSONResponse,
             summary="An entity's status claims and a page of the claims about it, with "
                     "evidence")
    def status(request: Request, slug: str = PathParam(..., examples=["tartus-naval-base"]),
               as_of: str | None = Query(None, description="Log position or UTC time"),
               valid_at: str | None = Query(None, description="YYYY, YYYY-MM or YYYY-MM-DD"),
               limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE, description=PAGE_DOC),
               offset: int = Query(0, ge=0, description=OFFSET_DOC)) -> Response:
        return svc.cached_json(
            ("status", slug, as_of, valid_at, limit, offset),
            lambda: svc.kb.status(slug, as_of=as_of, valid_at=valid_at, limit=limit,
                                  offset=offset),
            lambda answer: _next_link(request, answer))

    @app.get("/api/entities/{slug}/timeline", tags=["entities"],
             responses=_docs(TimelineOut, 404, 409, 422), response_class=JSONResponse,
             summary="A page of the claims about an entity in world-time order")
    def timeline(request: Request, slug: str, as_of: str | None = None,
                 valid_at: str | None = None,
                 limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE, description=PAGE_DOC),
                 offset: int = Query(0, ge=0, description=OFFSET_DOC)) -> Response:
        return svc.cached_json(
            ("timeline", slug, as_of, valid_at, limit, offset),
            lambda: svc.kb.timeline(slug, as_of=as_of, valid_at=valid_at, limit=limit,
                                    offset=offset),
            lambda answer: _next_link(request, answer))

    @app.get("/api/conflicts", tags=["entities"],
             responses=_docs(ConflictsOut, 404, 409, 422), response_class=JSONResponse,
             summary="Disputes between claims at a world time, each with its sides")
    def conflicts(request: Request,
                  entity: str | None = Query(None, description="Only those on or mentioning "
                                             "this entity (slug, label or alias)"),
                  as_of: str | None = Query(None, description="Log position or UTC time"),
                  valid_at: str | None = Query(None, description="YYYY, YYYY-MM or YYYY-MM-DD"),
                  limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE, description=PAGE_DOC),
                  offset: int = Query(0, ge=0, description=OFFSET_DOC)) -> Response:
        return svc.cached_json(
            ("conflicts", entity, as_of, valid_at, limit, offset),
            lambda: svc.kb.conflicts(entity, as_of=as_of, valid_at=valid_at, limit=limit,
                                     offset=offset),
            lambda answer: _next_link(request, answer, keep=("entity",)))

    @app.get("/api/claims/{claim_id}", tags=["claims"], responses=_docs(ClaimOut, 404, 422),
             response_class=JSONResponse,
             summary="One claim: statement, modality, dates, attribution, evidence, lifecycle")
    def claim(claim_id: str, as_of: str | None = None) -> Response:
        svc.refresh()
        return JSONResponse(svc.kb.claim(claim_id, as_of=as_of))

    @app.get("/api/sources/{slug}", tags=["sources"], responses=_docs(SourceOut, 404),
             response_class=JSONResponse,
             summary="A source's metadata and text, with the spans claims cite")
    def source(slug: str) -> Response:
        svc.refresh()
        return JSONResponse(svc.kb.source(slug))

    @app.get("/api/events", tags=["events"], responses=_docs(EventsPage),
             response_class=JSONResponse, summary="The log as a feed, a page at a time")
    def events(after: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000)) -> Response:
        head = svc.head()
        page = list(svc.kb.history(after=after, limit=limit))
        last = page[-1].position if page else None
        more = last is not None and len(page) == limit and last < head
        return JSONResponse({"events": [envelope_of(e) for e in page],
                             "next": last if more else None, "head": head})

    @app.get("/api/events/stream", tags=["events"], response_class=StreamingResponse,
             summary="Live stream of events (server-sent events), resumable",
             responses={200: {"content": {"text/event-stream": {}}, "description":
                              "One message per event: id = position, event = type, "
                              "data = the event's canonical JSON"}})
    async def stream(request: Request, after: int = Query(0, ge=0),
                     limit: int | None = Query(None, ge=1, description="End after this many "
                                                                       "events"),
                     last_event_id: str | None = Header(None, alias="Last-Event-ID")
                     ) -> StreamingResponse:
        start = after
        if last_event_id is not None:
            given = last_event_id.strip()  # latin-1: b"\xb2" is "²", a digit to isdigit()
            if not (given.isascii() and given.isdigit()) or len(given) > 18:
                raise sp.ProtocolError(400, "Last-Event-ID must be a log position")
            start = int(last_event_id)
        return StreamingResponse(
            _event_stream(svc, request, start, limit), media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/api/health", tags=["events"], responses=_docs(Health),
             response_class=JSONResponse, summary="The projection's log position")
    def health() -> Response:
        svc.refresh()
        return JSONResponse({"position": svc.kb.position})

    # -- REST: writing -----------------------------------------------------------------

    @app.post("/api/claims", tags=["claims"], status_code=201,
              responses={201: {"model": ClaimOut}, 401: {"model": ErrorOut},
                         403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
              response_class=JSONResponse, summary="Assert a claim (token required)")
    def post_claim(spec: ClaimIn, name: str = Depends(writer),
                   idempotency_key: str | None = Header(None, alias="Idempotency-Key")
                   ) -> Response:
        try:
            event = svc.kb.assert_claim(spec.model_dump(exclude_none=True),
                                        recorded_by=f"http:{name}",
                                        idempotency_key=idempotency_key)
        except NotFound as exc:  # a source named in the body, not in the path
            raise InvalidEvent(str(exc)) from exc
        return JSONResponse(svc.kb.claim(event.payload["claim"]), status_code=201)

    @app.post("/api/claims/{claim_id}/retract", tags=["claims"],
              responses=_docs(ClaimOut, 401, 403, 404, 422), response_class=JSONResponse,
              summary="Retract a claim (token required)")
    def retract(claim_id: str, body: RetractIn, name: str = Depends(writer),
                idempotency_key: str | None = Header(None, alias="Idempotency-Key")) -> Response:
        _ensure_claim(svc, claim_id)
        event = svc.kb.retract(claim_id, body.reason, recorded_by=f"http:{name}",
                               idempotency_key=idempotency_key)
        return JSONResponse(svc.kb.claim(event.payload["claim"]))

    @app.post("/api/claims/{claim_id}/supersede", tags=["claims"],
              responses=_docs(ClaimOut, 401, 403, 404, 422), response_class=JSONResponse,
              summary="Supersede a claim by another (token required)")
    def supersede(claim_id: str, body: SupersedeIn, name: str = Depends(writer),
                  idempotency_key: str | None = Header(None, alias="Idempotency-Key")
                  ) -> Response:
        _ensure_claim(svc, claim_id)
        event = svc.kb.supersede(claim_id, body.by, body.reason, recorded_by=f"http:{name}",
                                 idempotency_key=idempotency_key)
        return JSONResponse(svc.kb.claim(event.payload["claim"]))

    return app


# -- helpers ------------------------------------------------------------------------------


def _node(iri: str) -> NamedNode:
    try:
        return NamedNode(iri)
    except ValueError as exc:
        raise sp.ProtocolError(400, f"not an IRI: {iri!r} ({exc})") from exc


def _not_allowed(message: str, allow: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        return JSONResponse({"error": f"{message}, not {request.method}"}, status_code=405,
                            headers={"Allow": allow})
    return handler


def _ensure_claim(svc: _Service, claim_id: str) -> None:
    """404 for a claim that does not exist (rather than 422 from the rules)."""
    svc.refresh()
    svc.kb.claim(claim_id)


def _next_link(request: Request, answer: dict[str, Any],
               keep: tuple[str, ...] = ()) -> dict[str, str]:
    """A ``Link: <…>; rel="next"`` header for a paged answer that has a next page (with the
    request's ``keep`` parameters, such as a filter, beside the page's)."""
    following = answer["page"]["next"]
    if following is None:
        return {}
    kept = {k: request.query_params[k] for k in keep if k in request.query_params}
    params = {**kept, **{k: str(v) for k, v in following.items() if v is not None}}
    url = request.url.replace(query=urlencode(params))
    return {"Link": f'<{url.path}?{url.query}>; rel="next"'}


def _find_entities(kb: KnowledgeBase, q: str, limit: int) -> list[dict[str, Any]]:
    words = q.casefold().split()
    whole = " ".join(words)
    ranked: dict[str, tuple[int, str]] = {}
    for row in kb.query(ENTITY_NAMES):
        iri, label, name = row["e"].value, row["label"].value, row["name"].value
        for candidate in (name.casefold(), iri.rsplit("/", 1)[-1].casefold()):
            if not all(w in candidate for w in words):
                continue
            rank = 0 if candidate == whole else 1 if candidate.startswith(whole) else 2
            if iri not in ranked or rank < ranked[iri][0]:
                ranked[iri] = (rank, label)
    out = []
    for iri, (_, label) in sorted(ranked.items(), key=lambda kv: (kv[1], kv[0]))[:limit]:
        types: list[str] = []
        aliases: list[str] = []
        for row in kb.query(ENTITY_DETAILS, substitutions={Variable("e"): NamedNode(iri)}):
            if row["p"].value.endswith("#type"):
                types.append(compact(row["v"].value))
            else:
                aliases.append(row["v"].value)
        out.append({"iri": iri, "id": iri.rsplit("/", 1)[-1], "label": label,
                    "types": sorted(types), "aliases": sorted(aliases)})
    return out


async def _event_stream(svc: _Service, request: Request, after: int,
                        limit: int | None) -> AsyncIterator[str]:
    """Server-sent events from position ``after``; polls the log head for new events."""
    position = after
    sent = 0
    last_beat = time.monotonic()
    settings = svc.settings
    while True:
        if await request.is_disconnected():
            return
        head = await run_in_threadpool(svc.head)
        if head > position:
            batch = await run_in_threadpool(_read_events, svc.kb, position)
            for event in batch:
                yield _sse(event)
                position = event.position
                sent += 1
                if limit is not None and sent >= limit:
                    return
            last_beat = time.monotonic()
            continue
        if time.monotonic() - last_beat >= settings.stream_heartbeat_seconds:
            yield ": keep-alive\n\n"
            last_beat = time.monotonic()
        await asyncio.sleep(settings.stream_poll_seconds)


def _read_events(kb: KnowledgeBase, after: int) -> list[RecordedEvent]:
    return list(kb.history(after=after, limit=200))


def _sse(event: RecordedEvent) -> str:
    data = json.dumps(envelope_of(event), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return f"id: {event.position}\nevent: {event.type}\ndata: {data}\n\n"


def _error_response(exc: Exception) -> JSONResponse:
    """The response to a domain error (see :func:`geokb.http.protocol.error_status`)."""
    status = sp.error_status(exc)
    assert status is not None
    headers = exc.headers if isinstance(exc, sp.ProtocolError) else None
    return JSONResponse(sp.error_body(exc), status_code=status, headers=headers)


def _error_handlers(app: FastAPI) -> None:
    async def domain(_request: Request, exc: Exception) -> Response:
        return _error_response(exc)

    classes: list[type[Exception]] = [sp.ProtocolError, *(c for c, _ in sp.ERROR_STATUS)]
    for cls in classes:
        app.add_exception_handler(cls, domain)

    async def validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")}
                  for e in exc.errors()]
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
        return JSONResponse({"error": f"invalid request: {where}", "results": errors},
                            status_code=422)

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code,
                            headers=dict(exc.headers or {}))

    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
