"""``/api/entities``: find entities by name; an entity's status and timeline, paged;
``/api/conflicts``: the disputes between claims, on an entity or all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from pyoxigraph import NamedNode, Variable

from geokb.http.models import ConflictsOut, EntityMatches, StatusOut, TimelineOut, docs
from geokb.http.service import ServiceDep
from geokb.kb import PAGE_SIZE
from geokb.vocab import compact

if TYPE_CHECKING:
    from geokb.kb import KnowledgeBase

router = APIRouter(tags=["entities"])

MAX_PAGE = 1000
PAGE_DOC = f"Claims per page (at most {MAX_PAGE})"
OFFSET_DOC = "Claims to skip: the next page is in page.next (and the Link header)"
AS_OF_DOC = "Log position or UTC time"
VALID_AT_DOC = "YYYY, YYYY-MM or YYYY-MM-DD"

ENTITY_NAMES = """SELECT ?e ?label ?name WHERE {
  ?e gk:declaredIn ?ev ; rdfs:label ?label .
  { ?e rdfs:label ?name } UNION { ?e skos:altLabel ?name }
}"""
ENTITY_DETAILS = "SELECT ?e ?p ?v WHERE { VALUES ?p { rdf:type skos:altLabel } ?e ?p ?v }"


@router.get("/api/entities", responses=docs(EntityMatches), response_class=JSONResponse,
            summary="Find entities by label or alias (case-insensitive, every word)")
def entities(svc: ServiceDep, q: str = Query(..., min_length=1, examples=["Tartus"]),
             limit: int = Query(20, ge=1, le=100)) -> Response:
    svc.refresh()
    return JSONResponse({"matches": find_entities(svc.kb, q, limit)})


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


def find_entities(kb: KnowledgeBase, q: str, limit: int) -> list[dict[str, Any]]:
    """Entities whose label, alias or slug holds every word of ``q``, best first."""
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
