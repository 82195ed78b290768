"""``/api/events``: the log as a feed (pages), its latest events (``/recent``) and a live
stream (server-sent events, resumable with ``Last-Event-ID``), and ``/api/health``.

The stream is an :class:`sse_starlette.EventSourceResponse`: it ends when the client
goes away, sends keep-alive comments, and ends at once when the server is told to stop
(Ctrl-C), which a hand-written streaming response did not: ``geokb serve`` then waited
for every stream client to leave.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from geokb.errors import InvalidRequest
from geokb.http.models import PROBLEM, EventsPage, Health, RecentEvents, docs
from geokb.http.service import Service, ServiceDep
from geokb.log.codec import envelope_of
from geokb.log.events import RecordedEvent

if TYPE_CHECKING:
    from geokb.kb import KnowledgeBase

router = APIRouter(tags=["events"])

#: Events read from the log per step of a stream.
STREAM_BATCH = 200
#: Lines end in LF, as the stream's always did (the SSE format allows CR, LF or CRLF).
SEP = "\n"


@router.get("/api/events", responses=docs(EventsPage), response_class=JSONResponse,
            summary="The log as a feed, a page at a time")
def events(svc: ServiceDep, after: int = Query(0, ge=0),
           limit: int = Query(100, ge=1, le=1000)) -> Response:
    head = svc.head()
    page = list(svc.kb.history(after=after, limit=limit))
    last = page[-1].position if page else None
    more = last is not None and len(page) == limit and last < head
    return JSONResponse({"events": [envelope_of(e) for e in page],
                         "next": last if more else None, "head": head})


@router.get("/api/events/recent", responses=docs(RecentEvents), response_class=JSONResponse,
            summary="The last events of the log, newest first, each with a one-line summary")
def recent(svc: ServiceDep, limit: int = Query(20, ge=1, le=200)) -> Response:
    head = svc.head()
    page = list(svc.kb.history(after=max(0, head - limit), limit=limit))
    return JSONResponse({"events": [recent_json(e) for e in reversed(page)], "head": head})


#: The payload keys that name what an event is about, the first present one wins.
ABOUT_KEYS = ("claim", "entity", "source")


def recent_json(event: RecordedEvent) -> dict[str, object]:
    """An event as the recent list shows it: where, what, when, by whom, about what."""
    envelope = envelope_of(event)
    payload = envelope.get("payload") or {}
    about = next((str(payload[k]) for k in ABOUT_KEYS if isinstance(payload.get(k), str)),
                 None)
    kind = next((k for k in ABOUT_KEYS if isinstance(payload.get(k), str)), None)
    slug = about.rsplit("/", 1)[-1] if about else None
    summary = " ".join(x for x in (kind, slug) if x) or event.type
    if isinstance(payload.get("label"), str):
        summary += f" ({payload['label']})"
    elif isinstance(payload.get("title"), str):
        summary += f" ({payload['title']})"
    if isinstance(payload.get("by"), str):
        summary += f" by {payload['by'].rsplit('/', 1)[-1]}"
    route = {"claim": "claim", "entity": "entity", "source": "source"}.get(kind or "")
    return {"position": event.position, "type": event.type,
            "recorded_at": envelope.get("recorded_at"),
            "recorded_by": envelope.get("recorded_by"), "summary": summary,
            "link": f"#/{route}/{slug}" if route and slug else None}


@router.get("/api/events/stream", response_class=EventSourceResponse,
            summary="Live stream of events (server-sent events), resumable",
            responses={200: {"content": {"text/event-stream": {}}, "description":
                             "One message per event: id = position, event = type, "
                             "data = the event's canonical JSON"}, 400: PROBLEM})
async def stream(svc: ServiceDep, request: Request, after: int = Query(0, ge=0),
                 limit: int | None = Query(None, ge=1, description="End after this many "
                                                                   "events"),
                 last_event_id: str | None = Header(None, alias="Last-Event-ID")
                 ) -> EventSourceResponse:
    start = after if last_event_id is None else resume_position(last_event_id)
    settings = svc.settings
    return EventSourceResponse(
        event_stream(svc, start, limit, settings.stream_poll_seconds),
        ping=settings.stream_heartbeat_seconds, sep=SEP,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def resume_position(last_event_id: str) -> int:
    """The position a ``Last-Event-ID`` names; :class:`InvalidRequest` unless digits."""
    given = last_event_id.strip()  # latin-1: b"\xb2" is "²", a digit to isdigit()
    if not (given.isascii() and given.isdigit()) or len(given) > 18:
        raise InvalidRequest("Last-Event-ID must be a log position")
    return int(given)


async def event_stream(svc: Service, after: int, limit: int | None,
                       poll_seconds: float) -> AsyncIterator[ServerSentEvent]:
    """The events after position ``after`` as they come; polls the log head for more."""
    position = after
    sent = 0
    while True:
        head = await run_in_threadpool(svc.head)
        if head <= position:
            await asyncio.sleep(poll_seconds)
            continue
        for event in await run_in_threadpool(read_events, svc.kb, position):
            yield message(event)
            position = event.position
            sent += 1
            if limit is not None and sent >= limit:
                return


def read_events(kb: KnowledgeBase, after: int) -> list[RecordedEvent]:
    return list(kb.history(after=after, limit=STREAM_BATCH))


def message(event: RecordedEvent) -> ServerSentEvent:
    """One event as a message: id = its position, event = its type, data = its JSON."""
    data = json.dumps(envelope_of(event), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return ServerSentEvent(data=data, id=str(event.position), event=event.type, sep=SEP)


@router.get("/api/health", responses=docs(Health), response_class=JSONResponse,
            summary="The projection's log position")
def health(svc: ServiceDep) -> Response:
    svc.refresh()
    return JSONResponse({"position": svc.kb.position})
