"""What the routes share: :class:`Service` (the KB, the settings, the query threads,
the answer cache, the write-token check) and :class:`LogWatch` (the log's head, cheaply).

``create_app`` puts one :class:`Service` on ``app.state.service``; routes get it with the
:func:`service` dependency.
"""

from __future__ import annotations

import hmac
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends
from pyoxigraph import NamedNode
from starlette.requests import Request
from starlette.responses import Response

from geokb.errors import QueryBudgetExceeded
from geokb.http.cache import ResultCache
from geokb.http.protocol import ProtocolError, QueryTimeout
from geokb.http.results import Answer, Limits, answer
from geokb.http.runner import QueryRunner
from geokb.http.settings import Settings
from geokb.log.contract import EventStore
from geokb.log.file import PENDING_NAME, FileEventStore
from geokb.sparql import workers
from geokb.sparql.cost import cheap
from geokb.sparql.pool import Pool
from geokb.vocab import PREFIXES

if TYPE_CHECKING:
    from geokb.kb import KnowledgeBase


class LogWatch:
    """The log's head position, read again only when the log may have moved.

    On the file log every append changes the ``stat`` of ``events.jsonl`` (size,
    modification and change times, inode), and a batch becomes visible when its
    ``.pending`` marker goes: while neither changes, neither does the head, and a request
    costs one ``stat`` (two while a marker was there at the last read) instead of reading
    and decoding the last line. Other backends (PostgreSQL) are asked every time.
    """

    def __init__(self, log: EventStore) -> None:
        self.log = log
        self._files = (log.path, log.directory / PENDING_NAME) \
            if isinstance(log, FileEventStore) else None
        self._seen: tuple[Any, Any, int] | None = None  # log stat, marker stat, head

    @staticmethod
    def _stat(path: Path) -> tuple[int, int, int, int] | None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)

    def cached(self) -> int | None:
        """The head if the files show it has not moved since it was read (costs a
        ``stat`` or two, never a read), else ``None``."""
        seen, files = self._seen, self._files
        if files is None or seen is None or self._stat(files[0]) != seen[0]:
            return None
        if seen[1] is not None and self._stat(files[1]) != seen[1]:
            return None
        return seen[2]

    def head(self) -> int:
        """The log's head position (read from the log only if it may have moved)."""
        files = self._files
        if files is None:
            return self.log.head().position
        known = self.cached()
        if known is not None:
            return known
        log, marker = self._stat(files[0]), self._stat(files[1])  # before the read
        position = self.log.head().position
        self._seen = (log, marker, position)
        return position


@dataclass(frozen=True)
class PooledQuery:
    """A client's query on the current view, as a pool worker receives it (it pickles)."""

    text: str
    accept: str | None
    base_iri: str
    default_graphs: tuple[str, ...] | None  # None: the request named no dataset
    named_graphs: tuple[str, ...] | None
    max_rows: int
    timeout: float
    seconds_left: float


class Service:
    """What the handlers share: the KB, the settings, the query threads, the cache."""

    def __init__(self, kb: KnowledgeBase, settings: Settings) -> None:
        self.kb = kb
        self.settings = settings
        self.runner = QueryRunner(settings.query_slots)
        # one thread per worker process: each waits on the worker it forked, never on the
        # threads that answer cheap queries
        self.workers = QueryRunner(settings.query_workers)
        # the worker processes those threads hand their queries to: forked once, reused
        # while the KB stands still (a query at another time forks its own, see in_worker)
        self.pool = Pool(settings.query_workers, serve=self._serve_pooled,
                         hold=kb.holding_still, generation=lambda: kb.position,
                         memory=settings.query_memory_mb * 2**20, after_fork=kb.after_fork)
        self.watch = LogWatch(kb.log)
        # answers keyed by request and log head: correct for as long as the head stands
        self.answers: ResultCache[Answer] = ResultCache(max_entries=settings.cache_entries)

    def head(self) -> int:
        return self.watch.head()

    def current(self) -> int | None:
        """The log head if the projection is known to be caught up with it without any
        I/O but a ``stat`` (safe on the event loop), else ``None``."""
        head = self.watch.cached()
        return head if head is not None and head == self.kb.position else None

    def refresh(self) -> int:
        """Catch up with events other processes appended; returns the log head."""
        head = self.head()
        if head != self.kb.position:
            self.kb.catch_up()
        return head

    def cached_json(self, key: tuple[Any, ...], make: Callable[[], dict[str, Any]],
                    headers: Callable[[dict[str, Any]], dict[str, str]] | None = None
                    ) -> Response:
        """A REST answer, kept under ``key`` and the log head it was read at."""
        full = (*key, self.refresh())
        hit = self.answers.get(full)
        if hit is None:
            made = make()
            extra = headers(made) if headers is not None else {}
            body = json.dumps(made, ensure_ascii=False, separators=(",", ":")).encode()
            hit = Answer(body, "application/json", headers=tuple(extra.items()))
            self.answers.put(full, hit, len(body))
        return Response(hit.body, media_type=hit.media_type, headers=dict(hit.headers))

    def limits(self) -> Limits:
        return Limits(max_rows=self.settings.max_rows, timeout=self.settings.query_timeout)

    def writer(self, authorization: str | None) -> str:
        """The name of the token presented. Raises :class:`ProtocolError` 403 or 401."""
        tokens = self.settings.tokens
        if not tokens:
            raise ProtocolError(403, "this server is read-only: no write token is configured "
                                     "(start it with GEOKB_TOKEN or GEOKB_TOKENS set)")
        scheme, _, given = (authorization or "").partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="geokb"'}
        if scheme.lower() != "bearer" or not given.strip():
            raise ProtocolError(401, "writes need the bearer token: send 'Authorization: "
                                     "Bearer <token>'", challenge)
        presented = given.strip().encode("utf-8")
        match: str | None = None
        for name, secret in tokens.items():
            if hmac.compare_digest(presented, secret.encode("utf-8")):
                match = name
        if match is None:
            raise ProtocolError(401, "the bearer token is not valid", {
                "WWW-Authenticate": 'Bearer realm="geokb", error="invalid_token"'})
        return match

    def query(self, text: str, *, accept: str | None, limits: Limits,
              as_of: str | None = None, valid_at: str | None = None, fresh: bool = False,
              **options: Any) -> Answer:
        """Run a query in this thread and serialize its answer: for the server's own
        queries, bounded by the data (the Graph Store's); ``fresh``: the caller has just
        caught up with the log. Clients' queries go through :meth:`prepared`,
        :meth:`isolated` and :meth:`in_worker`.

        Raises the KB's domain errors (:class:`~geokb.errors.QueryError` for bad SPARQL,
        :class:`~geokb.errors.BadTime`), :class:`QueryRefused` for SERVICE unless
        allowed, and the limits' errors; an evaluation error (``OSError``) is a 502 only
        where SERVICE may have fetched a URL, else a bug.
        """
        run = self.prepared(text, as_of=as_of, valid_at=valid_at, fresh=fresh, **options)
        limits.check()
        return self.evaluate(run, accept, limits)

    def prepared(self, text: str, *, as_of: str | None = None, valid_at: str | None = None,
                 fresh: bool = False, **options: Any) -> Callable[[], Any]:
        """The query checked and bound to its dataset, not yet run (raises as :meth:`query`)."""
        options["allow_service"] = self.settings.allow_service  # the KB's guard decides
        if not self.settings.sparql_prefixes:
            options["prefixes"] = {}
        if not fresh:
            self.refresh()
        return self.kb.prepare(text, as_of=as_of, valid_at=valid_at, **options)

    def evaluate(self, run: Callable[[], Any], accept: str | None, limits: Limits) -> Answer:
        """Evaluate a prepared query here and serialize its answer (see :meth:`query`),
        with no worker forked meanwhile (:meth:`KnowledgeBase.reading`: the lazy answer is
        read from the engine until it is serialised)."""
        with self.kb.reading():
            return self._evaluated(run, accept, limits)

    def _evaluated(self, run: Callable[[], Any], accept: str | None, limits: Limits) -> Answer:
        """:meth:`evaluate` without the fork gate: in a worker, which never passes it."""
        try:
            return answer(run(), accept, limits, again=run)
        except (OSError, RuntimeError) as exc:  # a SERVICE unreachable, or its answer unreadable
            if self.settings.allow_service:
                raise ProtocolError(502, f"query evaluation failed: {exc}") from exc
            raise

    def isolated(self, text: str) -> bool:
        """Whether a client's query must run in a worker: isolation is on and the query is
        not cheap by construction (:func:`geokb.sparql.cost.cheap`)."""
        if not self.settings.query_isolation:
            return False
        return not cheap(text, PREFIXES if self.settings.sparql_prefixes else {})

    def in_pool(self, request: PooledQuery, limits: Limits) -> Answer:
        """:meth:`in_worker` for a query on the current view, in one of the pool's long-lived
        workers (no fork per query); raises as :meth:`in_worker`."""
        try:
            found: Answer = self.pool.run(request, deadline=limits.deadline, stop=limits.cancel,
                                          seconds=limits.timeout)
            return found
        except QueryBudgetExceeded as exc:
            raise self._budget_error(exc, limits) from None

    def _serve_pooled(self, request: PooledQuery) -> Answer:
        """In a pool worker: prepare and evaluate one query against the view it was forked
        with, under the deadline its request carries."""
        limits = Limits(max_rows=request.max_rows, timeout=request.timeout,
                        deadline=time.monotonic() + request.seconds_left)
        options: dict[str, Any] = {"base_iri": request.base_iri}
        if request.default_graphs is not None:
            options["default_graph"] = [NamedNode(g) for g in request.default_graphs]
            options["named_graphs"] = [NamedNode(g) for g in request.named_graphs or ()]
        run = self.prepared(request.text, fresh=True, **options)
        return self._evaluated(run, request.accept, limits)

    def _budget_error(self, exc: QueryBudgetExceeded, limits: Limits) -> Exception:
        if exc.budget == "time":
            return QueryTimeout(limits.timeout)
        return ProtocolError(503, str(exc), {"Retry-After": "5"})

    def in_worker(self, run: Callable[[], Any], accept: str | None, limits: Limits) -> Answer:
        """:meth:`evaluate` in a forked worker under the time and memory budgets.

        Raises :class:`QueryTimeout` (503) past the time budget, a 503
        :class:`ProtocolError` past the memory budget (each with ``Retry-After``), or
        what the evaluation raised.
        """
        try:
            return workers.run(lambda: self._evaluated(run, accept, limits),
                               deadline=limits.deadline, stop=limits.cancel,
                               memory=self.settings.query_memory_mb * 2**20,
                               hold=self.kb.holding_still(), seconds=limits.timeout)
        except QueryBudgetExceeded as exc:
            raise self._budget_error(exc, limits) from None

async def service(request: Request) -> Service:
    """The app's :class:`Service`, from ``app.state`` (``async``: FastAPI calls it on the
    event loop; a plain ``def`` dependency would cost every request a thread hop)."""
    found: Service = request.app.state.service
    return found


#: A route's parameter ``svc: ServiceDep`` receives the app's :class:`Service`.
ServiceDep = Annotated[Service, Depends(service)]
