"""The life of entities and sources: amend an entity, retract a source (a write token each)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from geokb.http.models import AmendIn, SourceRetractIn, docs
from geokb.http.routes.claims import Writer
from geokb.http.service import ServiceDep
from geokb.log.events import RecordedEvent

router = APIRouter()


def event_ref(event: RecordedEvent) -> dict[str, Any]:
    return {"id": event.id, "type": event.type, "position": event.position,
            "recorded_at": event.recorded_at, "recorded_by": event.recorded_by,
            "verified_as": event.verified_as}


@router.post("/api/entities/{slug}/amend", tags=["entities"],
             responses=docs(BaseModel, 401, 403, 404, 422), response_class=JSONResponse,
             summary="Amend an entity: label, description, aliases, types (token required)")
def amend_entity(svc: ServiceDep, slug: str, body: AmendIn, name: Writer,
                 idempotency_key: str | None = Header(None, alias="Idempotency-Key")
                 ) -> Response:
    svc.refresh()
    entity = svc.kb.entity(slug)  # 404 for an unknown entity
    spec = {k: v for k, v in body.model_dump().items() if v not in (None, [])}
    event = svc.kb.amend_entity({"id": entity.value.rsplit("/", 1)[-1], **spec},
                                recorded_by=f"http:{name}",
                                verified_as=name, idempotency_key=idempotency_key)
    return JSONResponse({"entity": event.payload["entity"], "event": event_ref(event)})


@router.post("/api/sources/{slug}/retract", tags=["sources"],
             responses=docs(BaseModel, 401, 403, 404, 422), response_class=JSONResponse,
             summary="Retract a source and its live claims (token required)")
def retract_source(svc: ServiceDep, slug: str, body: SourceRetractIn, name: Writer,
                   idempotency_key: str | None = Header(None, alias="Idempotency-Key")
                   ) -> Response:
    svc.refresh()
    svc.kb.source(slug)  # 404 for an unknown source
    events = svc.kb.retract_source(slug, body.reason, recorded_by=f"http:{name}",
                                   verified_as=name,
                                   idempotency_key=idempotency_key)
    return JSONResponse({"source": events[-1].payload["source"],
                         "retracted_claims": [e.payload["claim"] for e in events[:-1]],
                         "events": [event_ref(e) for e in events]})
