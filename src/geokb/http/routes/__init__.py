"""One FastAPI ``APIRouter`` per area of the HTTP front door.

Each module has a ``router``; :func:`geokb.http.app.create_app` includes them. Handlers
get the KB, settings and query threads from :func:`geokb.http.service.service` (a
dependency reading ``app.state.service``), never from a closure. Handlers that touch
pyoxigraph are plain ``def`` functions (FastAPI runs them in its thread pool) or hand
their work to the query threads, so the event loop never blocks.
"""
