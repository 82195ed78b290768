"""``/api/entities``: the entities (by type, with claim counts), or those found by name;
an entity's status and timeline, paged; ``/api/conflicts``: the disputes between claims,
on an entity or all of them."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from geokb.http.models import ConflictsOut, EntityList, StatusOut, TimelineOut, docs
from geokb.http.service import ServiceDep
from geokb.kb import PAGE_SIZE

router = APIRouter(tags=["entities"])

MAX_PAGE = 1000
PAGE_DOC = f"Claims per page (at most {MAX_PAGE})"
OFFSET_DOC = "Claims to skip: the next page is in page.next (and the Link header)"
AS_OF_DOC = "Log position or UTC time"
VALID_AT_DOC = "YYYY, YYYY-MM or YYYY-MM-DD"

MATCH_FIELDS = ("iri", "id", "label", "types", "aliases")


@router.get("/api/entities", responses=docs(EntityList, 400), response_class=JSONResponse,
            summary="Every entity (or those of a type) with its claim count; with q, "
                    "those whose label, alias or slug holds q (normalised: case, "
                    "diacritics, apostrophes, dashes), best first")
def entities(svc: ServiceDep,
             q: str | None = Query(None, min_length=1, examples=["Tartus"],
                                   description="A name or part of one; every word counts"),
             type: str | None = Query(None, examples=["gk:Person"],
                                      description="Only entities of this type (gk:… or "
                                                  "an IRI)"),
             limit: int = Query(20, ge=1, le=100, description="Matches of q (at most 100)")
             ) -> Response:
    svc.refresh()
    listed = svc.kb.entities(type=type)
    if q is None:
        by_type = Counter(t for e in listed for t in e["types"])
        return JSONResponse({"entities": listed, "types": dict(sorted(by_type.items()))})
    wanted = {e["iri"] for e in listed}
    found = [m for m in svc.kb.find_entities(q) if m["iri"] in wanted][:limit]
    return JSONResponse({"matches": [{k: m[k] for k in MATCH_FIELDS} for m in found]})


@router.get("/api/entities/{slug}/status", responses=docs(StatusOut, 400, 404, 409),
            response_class=JSONResponse,
            summary="An entity's status claims and a page of the claims about it, with "
                    "evidence")
def status(svc: ServiceDep, request: Request,
           slug: str = PathParam(..., examples=["tartus-naval-base"]),
           as_of: str | None = Query(None, description=AS_OF_DOC),
           valid_at: str | None = Query(None, description=VALID_AT_DOC),
           limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE, description=PAGE_DOC),
           offset: int = Query(0, ge=0, description=OFFSET_DOC)) -> Response:
    return svc.cached_json(
        ("status", slug, as_of, valid_at, limit, offset),
        lambda: svc.kb.status(slug, as_of=as_of, valid_at=valid_at, limit=limit,
                              offset=offset),
        lambda answer: next_link(request, answer))


@router.get("/api/entities/{slug}/timeline", responses=docs(TimelineOut, 400, 404, 409),
            response_class=JSONResponse,
            summary="A page of the claims about an entity in world-time order")
def timeline(svc: ServiceDep, request: Request, slug: str,
             as_of: str | None = Query(None, description=AS_OF_DOC),
             valid_at: str | None = Query(None, description=VALID_AT_DOC),
             limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE, description=PAGE_DOC),
             offset: int = Query(0, ge=0, description=OFFSET_DOC)) -> Response:
    return svc.cached_json(
        ("timeline", slug, as_of, valid_at, limit, offset),
        lambda: svc.kb.timeline(slug, as_of=as_of, valid_at=valid_at, limit=limit,
                                offset=offset),
        lambda answer: next_link(request, answer))


@router.get("/api/conflicts", responses=docs(ConflictsOut, 400, 404, 409),
            response_class=JSONResponse,
            summary="Disputes between claims at a world time, each with its sides")
def conflicts(svc: ServiceDep, request: Request,
              entity: str | None = Query(None, description="Only those on or mentioning "
                                         "this entity (slug, label or alias)"),
              as_of: str | None = Query(None, description=AS_OF_DOC),
              valid_at: str | None = Query(None, description=VALID_AT_DOC),
              limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE, description=PAGE_DOC),
              offset: int = Query(0, ge=0, description=OFFSET_DOC)) -> Response:
    return svc.cached_json(
        ("conflicts", entity, as_of, valid_at, limit, offset),
        lambda: svc.kb.conflicts(entity, as_of=as_of, valid_at=valid_at, limit=limit,
                                 offset=offset),
        lambda answer: next_link(request, answer, keep=("entity",)))


def next_link(request: Request, answer: dict[str, Any],
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
