"""Where the server's queries run: :class:`QueryRunner` runs them on a
:class:`concurrent.futures.ThreadPoolExecutor` (at most ``slots`` at once) under a deadline.
The service has two: one whose threads evaluate cheap queries in-process, and one whose
threads each wait on a worker process (:mod:`geokb.sparql.workers`) evaluating a query that
is not cheap by construction, killed at the deadline. The uvicorn server behind
``geokb serve`` is in :mod:`geokb.http.server`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from typing import TypeVar, cast

from geokb.http.protocol import ProtocolError, QueryTimeout, ServerBusy
from geokb.http.results import Limits

T = TypeVar("T")


class _DaemonThreadPool(concurrent.futures.ThreadPoolExecutor):
    """A ThreadPoolExecutor whose threads are daemons.

    The standard pool's threads are joined when the interpreter exits, and a query stuck
    inside pyoxigraph (which cannot be interrupted) would then hold the process — a
    test run or ``geokb serve`` — until it finished, minutes later. This overrides the one
    method that starts threads (``_adjust_thread_count``, as in CPython 3.11–3.13) to
    start them as daemons, and leaves them out of the exit-time join.
    """

    def _adjust_thread_count(self) -> None:
        if self._idle_semaphore.acquire(timeout=0):
            return
        work = self._work_queue

        def wake(_: object) -> None:
            work.put(None)  # type: ignore[arg-type]  # the pool is gone: idle threads end

        threads = cast("set[threading.Thread]", self._threads)
        if len(threads) < self._max_workers:
            thread = threading.Thread(
                name=f"{self._thread_name_prefix}_{len(threads)}",
                target=concurrent.futures.thread._worker,
                args=(weakref.ref(self, wake), work, self._initializer, self._initargs),
                daemon=True)
            thread.start()
            threads.add(thread)


class QueryRunner:
    """Runs queries in a thread pool, at most ``slots`` at once, under a deadline.

    pyoxigraph cannot cancel a query. On timeout the client gets its 503 at once: a
    query still queued is cancelled, and a running one is told to stop at its next
    result row (``Limits.cancel``); a query that blocks inside the engine (a big ORDER BY
    or aggregate) runs on and keeps its thread until it finishes, so a burst of runaway
    queries makes later ones wait, then time out, instead of piling up.
    """

    def __init__(self, slots: int) -> None:
        self._pool = _DaemonThreadPool(max_workers=slots, thread_name_prefix="geokb-query")
        self._lock = threading.Condition()
        self._running: dict[object, Limits] = {}  # one key per query running now

    def close(self) -> None:
        """Drop queued queries, tell running ones to stop; the threads end when free."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for limits in self._running.values():
                limits.cancel.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until no query runs; ``True`` if none does."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
        return True

    async def run(self, work: Callable[[Limits], T], limits: Limits, *,
                  grace: float = 0.0) -> T:
        """``work(limits)`` in a query thread. Raises :class:`QueryTimeout` past the
        deadline, :class:`ServerBusy` if no thread came free before it. ``grace``: wait
        that much longer for ``work``, which stops itself at the deadline (a worker that
        kills its process there) and says so better."""
        started = threading.Event()
        key = object()  # the same limits may serve several runs

        def target() -> T:
            started.set()
            with self._lock:
                self._running[key] = limits
            try:
                limits.check()  # waited in the queue past the deadline
                return work(limits)
            except BaseException as exc:  # handed to the awaiting request
                _drop_frames(exc)
                raise
            finally:
                with self._lock:
                    del self._running[key]
                    self._lock.notify_all()

        try:
            future = self._pool.submit(target)
        except RuntimeError:  # the pool is shut down: the server is stopping
            raise ProtocolError(503, "the server is shutting down", {"Retry-After": "5"}) \
                from None
        remaining = max(0.0, limits.deadline - time.monotonic()) + grace
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), remaining)
        except TimeoutError:
            limits.cancel.set()
            if future.cancel() or not started.is_set():
                raise ServerBusy from None
            raise QueryTimeout(limits.timeout) from None


def _drop_frames(exc: BaseException | None) -> None:
    """Clear the locals of an exception's frames (and its causes') in this thread.

    pyoxigraph's query results may only be dropped on the thread that made them; a
    traceback carried to the event loop would otherwise drop them there.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__
