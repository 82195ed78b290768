"""``/sparql``: the SPARQL 1.1 Protocol — queries, updates (as events, with a write
token) and the service description when there is neither.

Queries are usually answered by :class:`geokb.http.middleware.SparqlQueries` ahead of
routing, with :func:`answer_query` — the same function the route uses — so both give
the same answers and the same errors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from geokb.http import problems
from geokb.http.middleware import SPARQL_PATHS, answer_response, endpoint_of
from geokb.http.models import UpdateOut
from geokb.http.negotiation import GRAPH_TYPES, negotiate, typed
from geokb.http.protocol import FORM, SparqlRequest, named_node, parse_request
from geokb.http.results import Answer, Limits, service_description
from geokb.http.routes.web import page
from geokb.http.service import PooledQuery, Service, ServiceDep

router = APIRouter(tags=["SPARQL"])

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
        FORM: {"schema": {"type": "object", "properties": {
            "query": {"type": "string"}, "update": {"type": "string"}}}},
    }},
    "responses": {"200": {"description": "Results (JSON, XML, CSV, TSV) or RDF (Turtle, "
                                         "N-Triples, RDF/XML, JSON-LD, TriG, N-Quads) by "
                                         "Accept; a service description when no query"},
                  "400": {"description": "A problem: SPARQL syntax error, bad as_of or "
                                         "valid_at, …", "content": {problems.PROBLEM_JSON: {}}}},
}


async def answer_query(svc: Service, req: SparqlRequest, accept: str | None,
                       endpoint: str) -> Answer:
    """The answer to a SPARQL query, from the cache or from a query thread."""
    options: dict[str, Any] = {"base_iri": endpoint}
    if req.has_dataset:
        options["default_graph"] = [named_node(g) for g in req.default_graphs]
        options["named_graphs"] = [named_node(g) for g in req.named_graphs]
    key = (req.text, accept, req.as_of, req.valid_at, endpoint,
           tuple(req.default_graphs) if req.has_dataset else None,
           tuple(req.named_graphs) if req.has_dataset else None)
    # a repeated query while the log stands still is answered here, on the event loop
    # (a stat of the log, a dictionary lookup); anything else takes one hop to a query
    # thread, which catches up, looks again, and runs the query if it is cheap by
    # construction — else a second hop to a worker thread, which forks a worker process
    # that the deadline or the memory budget can kill
    head = svc.current()
    cached = svc.answers.get((*key, head)) if head is not None else None
    if cached is None:
        limits = svc.limits()
        step = await svc.runner.run(
            lambda lim: _cached_query(svc, key, head, req, accept, options, lim), limits)
        if isinstance(step, Answer):
            return step
        pooled = step.pooled
        if pooled is not None:
            found = await svc.workers.run(
                lambda lim: svc.in_pool(replace(pooled, seconds_left=lim.deadline
                                                - time.monotonic()), lim),
                limits, grace=WORKER_GRACE)
        else:
            found = await svc.workers.run(lambda lim: svc.in_worker(step.run, accept, lim),
                                          limits, grace=WORKER_GRACE)
        svc.answers.put(step.key, found, len(found.body))
        return found
    return cached


#: How long past its deadline a worker's thread is awaited: it kills its worker at the
#: deadline and then answers with the budget it went past.
WORKER_GRACE = 1.0


@dataclass(frozen=True)
class _ForWorker:
    """A query to run in a worker: its cache key and the query, prepared."""

    key: tuple[Any, ...]
    run: Callable[[], Any]
    #: the same query for a pool worker: on the current view only (a query at another
    #: time forks a worker of its own, that sees the store ``run`` was prepared on)
    pooled: PooledQuery | None = None


def _cached_query(svc: Service, key: tuple[Any, ...], head: int | None, req: SparqlRequest,
                  accept: str | None, options: dict[str, Any],
                  limits: Limits) -> Answer | _ForWorker:
    full = (*key, head if head is not None else svc.refresh())
    found = svc.answers.get(full) if head is None else None
    if found is None:
        run = svc.prepared(req.text, as_of=req.as_of, valid_at=req.valid_at, fresh=True,
                           **options)
        if svc.isolated(req.text):
            pooled = None
            if req.as_of is None and req.valid_at is None:
                pooled = PooledQuery(
                    req.text, accept, options["base_iri"],
                    tuple(req.default_graphs) if req.has_dataset else None,
                    tuple(req.named_graphs) if req.has_dataset else None,
                    limits.max_rows, limits.timeout, 0.0)
            return _ForWorker(full, run, pooled)
        limits.check()
        found = svc.evaluate(run, accept, limits)
        svc.answers.put(full, found, len(found.body))
    return found


async def sparql(svc: ServiceDep, request: Request) -> Response:
    body = await request.body()
    req = parse_request(request.method, request.url.query,
                        request.headers.get("content-type"), body)
    endpoint = endpoint_of(request.scope)
    if req.operation == "none":
        return description(request, svc, endpoint)
    if req.operation == "update":
        return await update(request, svc, req, endpoint)
    return answer_response(await answer_query(svc, req, request.headers.get("accept"),
                                              endpoint))


def description(request: Request, svc: Service, endpoint: str) -> Response:
    """The service description in the RDF format asked for, or the web page for HTML."""
    offers = [*GRAPH_TYPES, "text/html"]
    chosen = negotiate(request.headers.get("accept"), offers)
    if chosen == "text/html":
        return page(svc.settings)
    media = chosen or "text/turtle"
    body = service_description(endpoint, writable=bool(svc.settings.tokens),
                               service=svc.settings.allow_service, fmt=GRAPH_TYPES[media])
    return Response(body, media_type=typed(media), headers={"Vary": "Accept"})


async def update(request: Request, svc: Service, req: SparqlRequest,
                 endpoint: str) -> Response:
    """A SPARQL update, recorded as events (needs the write token)."""
    name = svc.writer(request.headers.get("authorization"))
    recorded = await run_in_threadpool(
        lambda: svc.kb.update(req.text, recorded_by=f"http:{name}", verified_as=name,
                              base_iri=endpoint,
                              using_graphs=req.using_graphs,
                              using_named_graphs=req.using_named_graphs,
                              idempotency_key=request.headers.get("idempotency-key")))
    return JSONResponse(UpdateOut(position=svc.kb.position, events=[
        {"position": e.position, "id": e.id, "type": e.type, "recorded_by": e.recorded_by,
         "deleted": len(e.payload.get("delete", [])),
         "inserted": len(e.payload.get("insert", []))} for e in recorded]).model_dump())


for _path in SPARQL_PATHS:
    for _method in ("GET", "POST"):
        router.add_api_route(_path, sparql, methods=[_method], summary="SPARQL 1.1 endpoint",
                             description="Query (GET, form POST, direct POST), update (POST, "
                                         "token), service description (no query).",
                             openapi_extra=SPARQL_DOC, include_in_schema=_path == "/sparql",
                             operation_id=f"sparql_{_method.lower()}",
                             response_class=Response)
    router.add_api_route(_path, problems.not_allowed("the SPARQL endpoint answers GET and POST",
                                                     "GET, POST"),
                         methods=["PUT", "DELETE", "PATCH"], include_in_schema=False)
