"""The connection-level limits of ``geokb serve``: :class:`GuardedH11Protocol`, uvicorn's
h11 protocol with the read timeouts and the connection cap uvicorn does not have.

uvicorn (0.55, h11) gives us the header size limit (``h11_max_incomplete_event_size``:
h11 refuses a request head larger than that, which also bounds the memory an unterminated
head can hold), the idle keep-alive timeout (``timeout_keep_alive``, armed only *after* a
response) and the listen ``backlog``. It has no timeout while a request is being read: a
connection that sends nothing, or its headers a byte at a time, or its body a trickle,
is held for ever. This protocol adds, in the manner of Apache's ``mod_reqtimeout``:

* **header timeout** — the request head must be complete ``header_timeout`` seconds after
  the connection opens or, on a kept-alive connection, after its first byte arrives. A
  client that sent part of a head gets ``408``; one that sent nothing is closed quietly
  (a client may race a request into a closing idle connection; it should see a close).
* **body timeout with a rate floor** — the body must arrive within ``body_timeout``
  seconds, extended by one second per ``body_min_rate`` bytes received; a slower client
  is disconnected (the app sees ``http.disconnect``). Time the app spends not reading
  (reads paused by flow control) does not count against the client.
* **connection cap** — above ``max_connections`` open connections (or requests running),
  a request is answered ``503`` with ``Retry-After`` and the connection closed: what
  uvicorn's ``limit_concurrency`` does, with a problem body instead of plain text.
* a request head over the size limit is answered ``431`` (uvicorn says ``400``).

The header *count* limit is an ASGI middleware (:class:`geokb.http.middleware.HeaderLimit`):
it needs the parsed headers, and works under any server and in tests.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from geokb.http import problems
from geokb.http.problems import Kind, protocol_kind

RETRY_AFTER_SECONDS = 1


class _Connection(h11.Connection):
    """h11's connection, remembering the protocol error it raised (for its status hint)."""

    last_error: h11.RemoteProtocolError | None = None

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.last_error = exc
            raise


def raw_problem(kind: Kind, detail: str, headers: dict[str, str] | None = None) -> bytes:
    """A whole ``Connection: close`` HTTP/1.1 response carrying a problem body."""
    body = problems.encode(problems.body_of(kind, detail))
    lines = [f"HTTP/1.1 {kind.status} {kind.title}",
             f"content-type: {problems.PROBLEM_JSON}", f"content-length: {len(body)}",
             "connection: close", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with read timeouts, a connection cap and 431 (see module)."""

    #: Set by :func:`protocol_class`.
    header_timeout: float = 10.0
    body_timeout: float = 20.0
    body_min_rate: float = 500.0
    max_connections: int = 256

    def __init__(self, config: Config, server_state: ServerState,
                 app_state: dict[str, Any], _loop: asyncio.AbstractEventLoop | None = None
                 ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.conn: _Connection = _Connection(  # uvicorn's own, remembering its last error
            h11.SERVER, config.h11_max_incomplete_event_size
            or h11._connection.DEFAULT_MAX_INCOMPLETE_EVENT_SIZE)
        self.limit_concurrency = None  # the cap is ours (``_capped``), with a problem body
        self._inner_app = self.app
        self.app = self._capped
        self._timer: asyncio.TimerHandle | None = None
        self._phase = "head"  # "head" (reading one), "body", "app" (no read timer)
        self._head_bytes = 0
        self._body_start = 0.0
        self._body_bytes = 0

    # -- the timers ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, self._header_expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._phase == "idle":  # the first byte of the next request on this connection
            self._phase, self._head_bytes = "head", 0
            self._arm(self.header_timeout, self._header_expired)
        if self._phase == "head":
            self._head_bytes += len(data)
        elif self._phase == "body":
            self._body_bytes += len(data)
        super().data_received(data)
        self._follow()

    def _follow(self) -> None:
        """Move the phase on as h11 reads the request: head → body → the app's turn."""
        state = self.conn.their_state
        if self._phase == "head" and state is not h11.IDLE:
            self._disarm()
            self._phase = "app"
            if state is h11.SEND_BODY:
                self._phase = "body"
                self._body_start, self._body_bytes = time.monotonic(), 0
                self._arm(self.body_timeout, self._body_expired)
        if self._phase == "body" and state is not h11.SEND_BODY:
            self._disarm()
            self._phase = "app"

    def on_response_complete(self) -> None:
        self._disarm()
        self._phase = "idle"  # uvicorn's keep-alive timer runs until the next byte
        super().on_response_complete()
        self._follow()  # a pipelined request may have been read already

    def _arm(self, delay: float, callback: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _header_expired(self) -> None:
        self._timer = None
        if self._phase != "head" or self.transport.is_closing():
            return
        if self._head_bytes:
            self.transport.write(raw_problem(
                protocol_kind(408),
                f"the request headers did not arrive within {self.header_timeout:g} seconds"))
        self.transport.close()

    def _body_expired(self) -> None:
        self._timer = None
        if self._phase != "body" or self.transport.is_closing():
            return
        if self.flow.read_paused:  # the app is not reading: not the client's fault
            self._body_start = time.monotonic()
            self._body_bytes = 0
            self._arm(self.body_timeout, self._body_expired)
            return
        deadline = self._body_start + self.body_timeout + self._body_bytes / self.body_min_rate
        remaining = deadline - time.monotonic()
        if remaining > 0:
            self._arm(remaining, self._body_expired)
            return
        self.logger.warning("geokb: a request body arrived slower than %g bytes/s; "
                            "connection closed", self.body_min_rate)
        self.transport.close()

    # -- the refusals ---------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        error = self.conn.last_error
        self._disarm()
        if error is not None and error.error_status_hint == 431:
            self.transport.write(raw_problem(
                protocol_kind(431), "the request headers are larger than this server's limit "
                f"of {self.config.h11_max_incomplete_event_size} bytes "
                "(GEOKB_MAX_HEADER_BYTES)"))
        else:
            detail = f"invalid HTTP request: {error}" if error is not None else msg
            self.transport.write(raw_problem(protocol_kind(400), detail))
        self.transport.close()

    async def _capped(self, scope: Any, receive: Any, send: Any) -> None:
        """The app, unless more than ``max_connections`` are open or requests running."""
        if len(self.connections) > self.max_connections \
                or len(self.tasks) > self.max_connections:
            self.logger.warning("geokb: over %d connections; answered 503",
                                self.max_connections)
            body = problems.encode(problems.body_of(protocol_kind(503), (
                f"this server is at its limit of {self.max_connections} connections "
                "(GEOKB_MAX_CONNECTIONS); try again shortly")))
            await send({"type": "http.response.start", "status": 503, "headers": [
                (b"content-type", problems.PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self._inner_app(scope, receive, send)


def protocol_class(*, header_timeout: float, body_timeout: float, body_min_rate: float,
                   max_connections: int) -> type[GuardedH11Protocol]:
    """A :class:`GuardedH11Protocol` subclass with these limits (uvicorn builds one
    protocol object per connection from the class it is given)."""
    return type("GeoKBProtocol", (GuardedH11Protocol,), {
        "header_timeout": header_timeout, "body_timeout": body_timeout,
        "body_min_rate": body_min_rate, "max_connections": max_connections})
