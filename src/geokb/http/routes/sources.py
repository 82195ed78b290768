"""``/api/sources``: every source with its grades and claim count; ``/api/sources/{slug}``:
a source's text, with the spans that claims cite."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from geokb.http.models import SourceList, SourceOut, docs
from geokb.http.service import ServiceDep

router = APIRouter(tags=["sources"])


@router.get("/api/sources", responses=docs(SourceList), response_class=JSONResponse,
            summary="Every source, by title, with its Admiralty grades and live claim count")
def sources(svc: ServiceDep) -> Response:
    svc.refresh()
    return JSONResponse({"sources": svc.kb.sources()})


@router.get("/api/sources/{slug}", responses=docs(SourceOut, 404), response_class=JSONResponse,
            summary="A source's metadata and text, with the spans claims cite")
def source(svc: ServiceDep, slug: str) -> Response:
    svc.refresh()
    return JSONResponse(svc.kb.source(slug))
