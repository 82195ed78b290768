"""The web page (``/`` for browsers, a JSON index for everyone else), ``/static``, and the
two answers made for the analyst's desk: ``/api/desk`` (what the home page opens on) and
``/api/search`` (entities by name or description, and the passages of sources that hold
the words)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from geokb.errors import NotFound
from geokb.http.models import DeskOut, SearchOut, docs
from geokb.http.negotiation import negotiate
from geokb.http.service import ServiceDep
from geokb.http.settings import Settings

router = APIRouter()

#: Passages of each source's text a search shows.
PASSAGES = 20


def page(settings: Settings) -> Response:
    """The single-page web app; :class:`NotFound` if it is not installed."""
    index = settings.static_dir / "index.html"
    if not index.is_file():
        raise NotFound(f"the web page is not installed ({index} is missing)")
    return FileResponse(index, media_type="text/html; charset=utf-8")


@router.get("/", include_in_schema=False)
def home(svc: ServiceDep, request: Request) -> Response:
    if negotiate(request.headers.get("accept"), ["application/json", "text/html"]) \
            == "text/html":
        return page(svc.settings)
    return JSONResponse({"name": "geokb", "sparql": "/sparql", "graph_store": "/graph",
                         "openapi": "/openapi.json", "docs": "/docs",
                         "position": svc.kb.position})


@router.get("/api/desk", tags=["desk"], responses=docs(DeskOut), response_class=JSONResponse,
            summary="What the home page opens on: the contested items and the latest claims")
def desk(svc: ServiceDep, limit: int = Query(8, ge=1, le=50, description="Of each list")
         ) -> Response:
    def make() -> dict[str, object]:
        kb = svc.kb
        entities, sources = kb.entities(), kb.sources()
        contested = kb.conflicts(limit=limit)
        return {"position": kb.position,
                "counts": {"entities": len(entities), "sources": len(sources),
                           "claims": sum(s["claims"] for s in sources),
                           "contested": contested["page"]["total"]},
                "contested": contested["conflicts"],
                "latest_claims": kb.latest_claims(limit)}
    return svc.cached_json(("desk", limit), make)


@router.get("/api/search", tags=["desk"], responses=docs(SearchOut),
            response_class=JSONResponse,
            summary="Entities by label, alias, slug or description, and the passages of "
                    "source texts that hold q (normalised: case, diacritics, apostrophes, "
                    "dashes)")
def search(svc: ServiceDep, q: str = Query(..., min_length=1, max_length=200,
                                           examples=["Damascus"])) -> Response:
    def make() -> dict[str, object]:
        kb = svc.kb
        named = kb.find_entities(q)
        seen = {e["iri"] for e in named}
        described = [e for e in kb.described(q) if e["iri"] not in seen]
        return {"q": q, "entities": [*named, *described],
                "sources": kb.mentions(q, limit=PASSAGES)}
    return svc.cached_json(("search", q), make)
