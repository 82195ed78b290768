"""ASGI middleware: the Host allowlist, the header-count and request-body limits, and
SPARQL queries answered ahead of routing.

All answer errors through :mod:`geokb.http.problems`, as the routes do, so a 413 from
the body limit or a 400 from the fast path has the same problem body as anywhere else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette._utils import parse_host_header
from starlette.datastructures import URL, Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geokb.errors import InvalidRequest, TooLarge
from geokb.http import problems
from geokb.http.protocol import ProtocolError, SparqlRequest, parse_request
from geokb.http.results import Answer

#: The Host header that in-process test clients send (Starlette's TestClient, httpx's
#: ASGITransport, schemathesis): answered only when the scope's ``server`` says the same,
#: which a server over a socket never does (it gives its own address there, which no
#: request header changes).
TEST_CLIENT_HOST = "testserver"


class HostAllowlist(TrustedHostMiddleware):
    """Starlette's TrustedHostMiddleware, answering a foreign ``Host`` with a 400 problem.

    A web page can point a name it owns at 127.0.0.1 (DNS rebinding) and then read this
    server as its own origin; its requests carry that name in ``Host``, so only the names
    of ``allowed`` are answered (``*`` answers any). Requests from in-process test clients
    (``Host: testserver``, no socket) are answered too.
    """

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        super().__init__(app, allowed_hosts=list(allowed), www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = Headers(scope=scope).get("host")
        parsed = parse_host_header(raw)
        host = parsed.host.lower() if parsed is not None else None
        if host is not None and (self._allowed(host) or (
                host == TEST_CLIENT_HOST and _served_in_process(scope))):
            await self.app(scope, receive, send)
            return
        said = "no Host header" if raw is None else f"Host {raw!r}"
        await _refuse(scope, receive, send, InvalidRequest(
            f"{said} is not a name this server answers to (it answers to "
            f"{', '.join(self.allowed_hosts)}); set GEOKB_ALLOWED_HOSTS or --allowed-host "
            "to add one"))

    def _allowed(self, host: str) -> bool:
        return any(host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))
                   for pattern in self.allowed_hosts)


def _served_in_process(scope: Scope) -> bool:
    """Whether the request came from an in-process test client, not over a socket."""
    server = scope.get("server")
    return server is not None and len(server) > 0 and server[0] == TEST_CLIENT_HOST


class HeaderLimit:
    """Refuse a request of more than ``limit`` header fields with 431 (h11 bounds only
    their total size), and close its connection."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        count = len(scope.get("headers") or ()) if scope["type"] == "http" else 0
        if count <= self.limit:
            await self.app(scope, receive, send)
            return
        kind = problems.protocol_kind(431)
        detail = (f"the request has {count} header fields, over this server's limit of "
                  f"{self.limit} (GEOKB_MAX_HEADERS)")
        await problems.response(problems.body_of(kind, detail),
                                {"Connection": "close"})(scope, receive, send)


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
                await _refuse(scope, receive, send,
                              InvalidRequest("Content-Length is not a number"))
                return
            if int(length) > self.limit:
                await _refuse(scope, receive, send, TooLarge(self._message(int(length))))
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
                await _refuse(scope, receive, send,
                              TooLarge(self._message(size, at_least=True)))
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        await self.app(scope, replay(b"".join(chunks), receive), send)

    def _message(self, size: int, *, at_least: bool = False) -> str:
        more = "more than " if at_least else ""
        return (f"the request body is {more}{size} bytes, over this server's limit of "
                f"{self.limit} bytes (GEOKB_MAX_BODY_BYTES)")


async def _refuse(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    await problems.problem_response(exc)(scope, receive, send)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` (already read) once, then the real one's messages."""
    replayed = False

    async def again() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def endpoint_of(scope: Scope) -> str:
    """The request's URL without its query string: the SPARQL endpoint's IRI."""
    return str(URL(scope={**scope, "query_string": b""}))


def answer_response(answer: Answer) -> Response:
    """The response carrying a query's answer (it varies with ``Accept``)."""
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type,
                    headers={"Vary": "Accept"})


SPARQL_PATHS = ("/sparql", "/sparql/")


class SparqlQueries:
    """SPARQL queries at ``paths`` answered as plain ASGI, ahead of routing.

    A small query costs the engine a few hundred microseconds; FastAPI's routing,
    dependency solving and middleware would cost as much again. Only queries are
    answered here (``answer`` is the route's own), with the route's errors; updates, the
    service description and requests the protocol refuses go on to the route.
    """

    def __init__(self, app: ASGIApp, paths: tuple[str, ...],
                 answer: Callable[[SparqlRequest, str | None, str], Awaitable[Answer]]) -> None:
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
            receive = replay(body, receive)
        headers = Headers(scope=scope)
        try:
            req = parse_request(scope["method"], scope.get("query_string", b"").decode(),
                                headers.get("content-type"), body)
        except (ProtocolError, UnicodeDecodeError):
            req = None  # the route says what is wrong, as it always has
        if req is None or req.operation != "query":
            await self.app(scope, receive, send)
            return
        try:
            answer = await self.answer(req, headers.get("accept"), endpoint_of(scope))
        except Exception as exc:
            if problems.status_of(exc) is None:
                raise  # a bug: a 500, as from the route
            response = problems.problem_response(exc)
        else:
            response = answer_response(answer)
        await response(scope, receive, send)
