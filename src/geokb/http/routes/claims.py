"""``/api/claims``: read one claim; assert, retract and supersede (a write token each)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from geokb.errors import InvalidEvent, NotFound
from geokb.http.models import PROBLEM, ClaimIn, ClaimOut, LinksIn, RetractIn, SupersedeIn, docs
from geokb.http.service import Service, ServiceDep

router = APIRouter(tags=["claims"])
bearer = HTTPBearer(auto_error=False, description="A write token (GEOKB_TOKEN)")


def writer(svc: ServiceDep,
           credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """The name of the write token presented (401 or 403 otherwise)."""
    header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
    return svc.writer(header)


#: The name of the write token a request presents (a dependency: 401 or 403 without one).
Writer = Annotated[str, Depends(writer)]


@router.get("/api/claims/{claim_id}", responses=docs(ClaimOut, 400, 404),
            response_class=JSONResponse,
            summary="One claim: statement, modality, dates, attribution, evidence, lifecycle")
def claim(svc: ServiceDep, claim_id: str,
          as_of: str | None = Query(None, description="Log position or UTC time")) -> Response:
    svc.refresh()
    return JSONResponse(svc.kb.claim(claim_id, as_of=as_of))


@router.post("/api/claims", status_code=201,
             responses={201: {"model": ClaimOut}, 401: PROBLEM, 403: PROBLEM, 422: PROBLEM},
             response_class=JSONResponse, summary="Assert a claim (token required)")
def post_claim(svc: ServiceDep, spec: ClaimIn, name: Writer,
               idempotency_key: str | None = Header(None, alias="Idempotency-Key")) -> Response:
    try:
        # grouped: posts in flight together share one append and one fsync
        event = svc.kb.assert_claim(spec.model_dump(exclude_none=True),
                                    recorded_by=f"http:{name}", verified_as=name,
                                    idempotency_key=idempotency_key, grouped=True)
    except NotFound as exc:  # a source named in the body, not in the path
        raise InvalidEvent(str(exc)) from exc
    return JSONResponse(svc.kb.claim(event.payload["claim"]), status_code=201)


@router.post("/api/claims/{claim_id}/retract", responses=docs(ClaimOut, 401, 403, 404, 422),
             response_class=JSONResponse, summary="Retract a claim (token required)")
def retract(svc: ServiceDep, claim_id: str, body: RetractIn, name: Writer,
            idempotency_key: str | None = Header(None, alias="Idempotency-Key")) -> Response:
    ensure_claim(svc, claim_id)
    event = svc.kb.retract(claim_id, body.reason, recorded_by=f"http:{name}", verified_as=name,
                           idempotency_key=idempotency_key)
    return JSONResponse(svc.kb.claim(event.payload["claim"]))


@router.post("/api/claims/{claim_id}/supersede", responses=docs(ClaimOut, 401, 403, 404, 422),
             response_class=JSONResponse, summary="Supersede a claim by another (token required)")
def supersede(svc: ServiceDep, claim_id: str, body: SupersedeIn, name: Writer,
              idempotency_key: str | None = Header(None, alias="Idempotency-Key")) -> Response:
    ensure_claim(svc, claim_id)
    event = svc.kb.supersede(claim_id, body.by, body.reason, recorded_by=f"http:{name}",
                             verified_as=name,
                             idempotency_key=idempotency_key, cross_entity=body.cross_entity)
    return JSONResponse(svc.kb.claim(event.payload["claim"]))


@router.post("/api/claims/{claim_id}/links", responses=docs(ClaimOut, 401, 403, 404, 422),
             response_class=JSONResponse,
             summary="Link a claim to claims it denies, confirms or contradicts (token required)")
def link_claims(svc: ServiceDep, claim_id: str, body: LinksIn, name: Writer,
                idempotency_key: str | None = Header(None, alias="Idempotency-Key")
                ) -> Response:
    ensure_claim(svc, claim_id)
    event = svc.kb.link_claims(claim_id, denies=body.denies, confirms=body.confirms,
                               contradicts=body.contradicts, note=body.note,
                               recorded_by=f"http:{name}",
                               verified_as=name, idempotency_key=idempotency_key)
    return JSONResponse(svc.kb.claim(event.payload["claim"]))


def ensure_claim(svc: Service, claim_id: str) -> None:
    """404 for a claim that does not exist (rather than 422 from the rules)."""
    svc.refresh()
    svc.kb.claim(claim_id)
