"""The web page (``/`` for browsers, a JSON index for everyone else) and ``/static``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from geokb.errors import NotFound
from geokb.http.negotiation import negotiate
from geokb.http.service import ServiceDep
from geokb.http.settings import Settings

router = APIRouter()


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
