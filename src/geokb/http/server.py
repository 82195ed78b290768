"""The uvicorn server behind ``geokb serve``: it runs the app until Ctrl-C (SIGINT) or
SIGTERM, and makes sure the process then ends promptly — with server-sent-event clients
connected, and with a query stuck inside the engine. It serves with the limits of a public
server (:mod:`geokb.http.limits`): read timeouts, a header size and count limit, a
connection cap, an idle keep-alive timeout, and only the Host names it is bound to.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import TYPE_CHECKING, Any

from geokb.http.app import create_app
from geokb.http.limits import protocol_class
from geokb.http.runner import QueryRunner
from geokb.http.settings import Settings

if TYPE_CHECKING:
    from geokb.kb import KnowledgeBase

#: After uvicorn stops: how long requests still running may take to finish (seconds),
#: and then how long a query still inside the engine may take before the process leaves.
GRACEFUL_SECONDS = 1
QUERY_GRACE_SECONDS = 0.5


def serve(kb: KnowledgeBase, settings: Settings, *, host: str, port: int,
          where: str = "") -> None:
    """Serve ``create_app(kb, settings)`` on ``host:port`` until SIGINT or SIGTERM.

    uvicorn stops taking connections on the first signal (a second one forces it);
    event streams end at once (sse-starlette watches uvicorn's exit flag), other
    requests get :data:`GRACEFUL_SECONDS` to finish. If a query is then still inside the
    engine, which cannot be interrupted, the process leaves without waiting for it.
    """
    import uvicorn

    settings = with_bound_host(settings, host)
    app = create_app(kb, settings)
    mode = "writes need the bearer token" if settings.tokens else "read-only (no token set)"
    print(f"geokb: serving {where or kb.directory} ({kb.position} events) on "
          f"http://{host}:{port}/ — SPARQL at /sparql, API docs at /docs; {mode}",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning",
                timeout_graceful_shutdown=GRACEFUL_SECONDS, **uvicorn_limits(settings))
    runner: QueryRunner = app.state.service.runner
    runner.close()  # the lifespan did this already, unless uvicorn never started
    if not runner.wait_idle(QUERY_GRACE_SECONDS):
        print("geokb: stopped; a query still running inside the engine was abandoned",
              file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(0)  # the query thread would otherwise hold the process until it ends


def with_bound_host(settings: Settings, host: str) -> Settings:
    """``settings`` whose Host allowlist also holds the name or address served on
    (an IPv6 address as ``[…]``, as it appears in a Host header); ``0.0.0.0`` and ``::``
    are no name a client uses, so they add nothing.

    >>> with_bound_host(Settings(), "kb.lan").allowed_hosts
    ('localhost', '127.0.0.1', '[::1]', 'kb.lan')
    >>> with_bound_host(Settings(), "::").allowed_hosts
    ('localhost', '127.0.0.1', '[::1]')
    """
    name = host.strip().lower()
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"
    if name in ("", "0.0.0.0", "[::]") or name in settings.allowed_hosts \
            or "*" in settings.allowed_hosts:
        return settings
    return dataclasses.replace(settings, allowed_hosts=(*settings.allowed_hosts, name))


def uvicorn_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the limits in ``settings`` (see :mod:`geokb.http.limits`)."""
    return {
        "http": protocol_class(header_timeout=settings.header_timeout,
                               body_timeout=settings.body_timeout,
                               body_min_rate=settings.body_min_rate,
                               max_connections=settings.max_connections),
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "timeout_keep_alive": settings.keepalive_timeout,
        "backlog": settings.backlog,
    }
