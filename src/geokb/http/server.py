"""The uvicorn server behind ``geokb serve``: it runs the app until Ctrl-C (SIGINT) or
SIGTERM, and makes sure the process then ends promptly — with server-sent-event clients
connected, and with a query stuck inside the engine.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from geokb.http.app import create_app
from geokb.http.runner import QueryRunner

if TYPE_CHECKING:
    from geokb.http.settings import Settings
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

    app = create_app(kb, settings)
    mode = "writes need the bearer token" if settings.tokens else "read-only (no token set)"
    print(f"geokb: serving {where or kb.directory} ({kb.position} events) on "
          f"http://{host}:{port}/ — SPARQL at /sparql, API docs at /docs; {mode}",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning",
                timeout_graceful_shutdown=GRACEFUL_SECONDS)
    runner: QueryRunner = app.state.service.runner
    runner.close()  # the lifespan did this already, unless uvicorn never started
    if not runner.wait_idle(QUERY_GRACE_SECONDS):
        print("geokb: stopped; a query still running inside the engine was abandoned",
              file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(0)  # the query thread would otherwise hold the process until it ends
