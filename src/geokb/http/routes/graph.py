"""``/graph``: the Graph Store Protocol, read-only (GET and HEAD of a named or the
default graph); changes go through SPARQL Update at ``/sparql``."""

from __future__ import annotations

import json

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pyoxigraph import Variable

from geokb.errors import InvalidRequest, NotFound
from geokb.http import problems
from geokb.http.models import PROBLEM
from geokb.http.negotiation import GRAPH_TYPES, negotiate
from geokb.http.protocol import ProtocolError, named_node
from geokb.http.results import Answer, Limits
from geokb.http.service import ServiceDep

router = APIRouter(tags=["SPARQL"])

GRAPH_OF = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
GRAPH_EXISTS = "ASK { GRAPH ?g { ?s ?p ?o } }"
DEFAULT_GRAPH = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


@router.api_route("/graph", methods=["GET"], summary="Graph Store Protocol: read a graph",
                  response_class=Response,
                  responses={400: PROBLEM, 404: PROBLEM, 406: PROBLEM})
async def graph_store(svc: ServiceDep, request: Request,
                      graph: str | None = Query(None, description="The graph's IRI"),
                      default: str | None = Query(None, description="Present: the "
                                                                    "default graph"),
                      as_of: str | None = Query(None, description="Log position or UTC time"),
                      valid_at: str | None = Query(None, description="YYYY, YYYY-MM or "
                                                                     "YYYY-MM-DD")) -> Response:
    if (graph is None) == (default is None):
        raise InvalidRequest("give ?graph=<IRI> or ?default (one of them)")
    accept = request.headers.get("accept")
    if negotiate(accept, GRAPH_TYPES) is None:
        raise ProtocolError(406, f"none of the requested types ({accept}) is an RDF "
                                 f"format this server writes: {', '.join(GRAPH_TYPES)}")

    def work(lim: Limits) -> Answer:
        if graph is None:
            return svc.query(DEFAULT_GRAPH, accept=accept, limits=lim, as_of=as_of,
                             valid_at=valid_at)
        subs = {Variable("g"): named_node(graph)}
        exists = svc.query(GRAPH_EXISTS, accept="application/sparql-results+json",
                           limits=lim, as_of=as_of, valid_at=valid_at, substitutions=subs)
        if not json.loads(exists.body)["boolean"]:
            raise NotFound(f"no graph <{graph}> in this store")
        return svc.query(GRAPH_OF, accept=accept, limits=lim, as_of=as_of,
                         valid_at=valid_at, substitutions=subs)

    answer = await svc.runner.run(work, svc.limits())
    if request.method == "HEAD":
        return Response(b"", media_type=answer.media_type,
                        headers={"Content-Length": str(len(answer.body)), "Vary": "Accept"})
    return Response(answer.body, media_type=answer.media_type, headers={"Vary": "Accept"})


router.add_api_route("/graph", graph_store, methods=["HEAD"], include_in_schema=False)
router.add_api_route("/graph", problems.not_allowed("the graph store is read-only here: change "
                                                    "data with SPARQL Update at /sparql",
                                                    "GET, HEAD"),
                     methods=["PUT", "POST", "DELETE", "PATCH"], include_in_schema=False)
