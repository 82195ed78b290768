"""``create_app(kb, settings)``: the HTTP front door, wired from its parts.

A SPARQL 1.1 endpoint (:mod:`~geokb.http.routes.sparql`), a read-only Graph Store
(:mod:`~geokb.http.routes.graph`), the evidence-first REST API (entities, claims, sources,
events) and the web page, all over one :class:`KnowledgeBase`. Nothing is module-level
state: the KB, settings and query threads live on ``app.state.service``
(:class:`~geokb.http.service.Service`). Every domain error is answered by
:mod:`geokb.http.problems`; a bug stays a 500.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from functools import partial
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from geokb.http import problems
from geokb.http.middleware import (
    SPARQL_PATHS,
    BodyLimit,
    HeaderLimit,
    HostAllowlist,
    SparqlQueries,
)
from geokb.http.routes import claims, curation, entities, events, graph, sources, sparql, web
from geokb.http.service import LogWatch, Service
from geokb.http.settings import Settings

if TYPE_CHECKING:
    from geokb.kb import KnowledgeBase

__all__ = ["LogWatch", "Settings", "create_app"]

#: The old private name of :class:`Service`, kept for code that inspects it.
_Service = Service

ROUTERS = (web.router, sparql.router, graph.router, entities.router, claims.router,
           sources.router, curation.router, events.router)


def create_app(kb: KnowledgeBase, settings: Settings | None = None) -> FastAPI:
    """The FastAPI app over ``kb``: ``/sparql``, ``/graph``, ``/api/…``, ``/`` and ``/static``."""
    settings = settings or Settings()
    svc = Service(kb, settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            svc.runner.close()  # drop queued queries, stop running ones at their next row
            svc.workers.close()  # and kill the workers of those running in one
            svc.pool.close()  # and the idle pool workers

    app = FastAPIOffline(
        title="geokb",
        summary="An event-sourced geopolitical knowledge base: claims with evidence, "
                "time travel, SPARQL.",
        description="SPARQL 1.1 endpoint at `/sparql` (query, update as events, service "
                    "description), a read-only Graph Store at `/graph`, and the "
                    "evidence-first REST API under `/api`. Writes need "
                    "`Authorization: Bearer <token>`. Errors are problems "
                    "(`application/problem+json`, RFC 9457). See docs/http.md.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.service = svc
    # added first, so innermost: the body limit and CORS apply to it as to the routes
    app.add_middleware(SparqlQueries, paths=SPARQL_PATHS,
                       answer=partial(sparql.answer_query, svc))
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "HEAD", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Accept", "Idempotency-Key",
                           "Last-Event-ID"])
    # added last, so outermost: a foreign Host or too many headers is refused first
    app.add_middleware(HeaderLimit, limit=settings.max_headers)
    app.add_middleware(HostAllowlist, allowed=settings.allowed_hosts)
    problems.install(app)
    app.mount("/static", StaticFiles(directory=settings.static_dir, check_dir=False),
              name="static")
    for router in ROUTERS:
        app.include_router(router)
    return app
