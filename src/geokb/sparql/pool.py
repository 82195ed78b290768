"""Long-lived forked query workers: what :func:`geokb.sparql.workers.run` does per query,
without a fork per query.

A fork of the server costs about 20 ms here (its page tables, then the copy-on-write
faults of the first query). For a unique query that is not cheap by construction, that
cost is most of the answer: 49 queries/s against 924 in-process (``bench`` ``http``,
10k claims). A :class:`Pool` keeps up to ``size`` workers forked and idle. Each one
reads requests from its pipe and writes back framed, pickled outcomes. So a query costs
two pipe writes, and the workers use every core, which the server's one GIL cannot.

The budgets hold as for a one-shot worker. Past its deadline a worker is killed with
``SIGKILL`` and replaced at the next query. Its address space is limited to what it had at
the fork plus ``memory``. A worker whose mapping has grown by half its budget leaves after
its answer, so a long-lived one cannot drift toward its limit.

A worker sees the store as it was at its fork (copy-on-write, or the on-disk store's
state then). So each worker carries the ``generation`` it was forked at (the KB's
position), and it is used only while the KB is still there. When the KB moves on, the
idle workers are retired and the next query forks fresh ones. A worker closes every
socket it inherited, so a connection the server closes is really closed. It also closes the
other workers' pipes, so each one sees end-of-file when the server goes. And it leaves
when its parent is gone.

The request and the answer must pickle. ``serve(request)`` runs in the worker.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import select
import signal
import struct
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from geokb.sparql.workers import (
    EXIT_MEMORY,
    EXIT_UNSENDABLE,
    POLL_SECONDS,
    _describe,
    _mapped_bytes,
    _reap,
    _unpacked,
    memory_budget,
    packed_outcome,
    settle_worker,
    time_budget,
)

_FRAME = struct.Struct(">Q")
#: A worker answers at most this many requests, then is replaced.
MAX_SERVED = 2000


@dataclass
class _Worker:
    pid: int
    to_child: int  # the parent's write end of the request pipe
    from_child: int  # the parent's read end of the answer pipe
    generation: int
    served: int = 0


class Pool:
    """Up to ``size`` forked workers that each run ``serve(request)`` for one request at a
    time; callers take an idle one (or fork one) per request.

    ``hold`` is entered around each fork (see :func:`geokb.sparql.workers.run`);
    ``generation()`` names the state a new worker would see. A worker forked at another
    generation is not used. ``after_fork`` runs first in each new worker: it resets the
    locks the parent's other threads may have held at the fork.
    """

    def __init__(self, size: int, *, serve: Callable[[Any], Any],
                 hold: Callable[[], contextlib.AbstractContextManager[Any]],
                 generation: Callable[[], int], memory: int | None = None,
                 after_fork: Callable[[], None] | None = None) -> None:
        self.size = size
        self._serve = serve
        self._hold = hold
        self._generation = generation
        self._memory = memory
        self._after_fork = after_fork
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._all: dict[int, _Worker] = {}
        self._closed = False
        self.forks = 0  # how many workers were ever forked (for tests and figures)
        # a pool dropped without close() (an app never started) still stops its workers
        weakref.finalize(self, _stop_all, self._all)

    def run(self, request: Any, *, deadline: float, stop: threading.Event | None = None,
            seconds: float | None = None) -> Any:
        """``serve(request)`` in a worker: its value, or the exception it raised.

        Raises :class:`~geokb.errors.QueryBudgetExceeded` (time or memory) as
        :func:`geokb.sparql.workers.run`; ``RuntimeError`` if the worker died otherwise.
        """
        budget = seconds if seconds is not None else max(0.0, deadline - time.monotonic())
        payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        for attempt in range(2):  # an idle worker may have left (recycled, killed): once more
            if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                raise time_budget(budget)
            worker = self._checkout()
            try:
                _write_frame(worker.to_child, payload)
            except OSError:
                self._discard(worker)
                if attempt:
                    raise
                continue
            return self._outcome(worker, deadline, stop, budget)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Stop the idle workers now; the busy ones are stopped when they finish."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            self._discard(worker)

    def pids(self) -> list[int]:
        """The workers alive now (idle or busy)."""
        with self._lock:
            return sorted(self._all)

    # -- the parent's side -------------------------------------------------------------

    def _checkout(self) -> _Worker:
        now = self._generation()
        stale: list[_Worker] = []
        found: _Worker | None = None
        with self._lock:
            if self._closed:
                raise RuntimeError("the query worker pool is closed")
            while self._idle:
                worker = self._idle.pop()
                if worker.generation == now:
                    found = worker
                    break
                stale.append(worker)
            stale.extend(w for w in self._idle if w.generation != now)
            self._idle = [w for w in self._idle if w.generation == now]
        for worker in stale:
            self._discard(worker)
        return found if found is not None else self._fork(now)

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            if not self._closed and worker.generation == self._generation() \
                    and worker.served < MAX_SERVED and len(self._idle) < self.size:
                self._idle.append(worker)
                return
        self._discard(worker)

    def _outcome(self, worker: _Worker, deadline: float, stop: threading.Event | None,
                 budget: float) -> Any:
        got = _read_frame(worker.from_child, deadline, stop)
        if got is _TIMEOUT:
            self._discard(worker)
            raise time_budget(budget)
        if got is None:  # the worker died on this request
            status = self._discard(worker, kill=False)
            memory = self._memory is not None and (
                (os.WIFSIGNALED(status) and os.WTERMSIG(status) in (
                    signal.SIGABRT, signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS))
                or (os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_MEMORY))
            if memory:
                assert self._memory is not None
                raise memory_budget(self._memory)
            raise RuntimeError(f"the query worker died ({_describe(status)})")
        assert isinstance(got, bytes)
        leaving, data = got[:1] == b"1", got[1:]
        worker.served += 1
        if leaving:
            self._discard(worker, kill=False)
        else:
            self._checkin(worker)
        return _unpacked(data)

    def _discard(self, worker: _Worker, *, kill: bool = True) -> int:
        with self._lock:
            self._all.pop(worker.pid, None)
        for fd in (worker.to_child, worker.from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
        return _reap(worker.pid)

    def _fork(self, generation: int) -> _Worker:
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        try:
            with self._hold():
                with self._lock:
                    siblings = [fd for w in self._all.values()
                                for fd in (w.to_child, w.from_child)]
                pid = os.fork()
                if pid == 0:  # the worker: never returns
                    for fd in (requests_w, answers_r, *siblings):
                        with contextlib.suppress(OSError):
                            os.close(fd)
                    _worker_main(self._serve, requests_r, answers_w, self._memory,
                                 self._after_fork)
        except BaseException:
            for fd in (requests_r, requests_w, answers_r, answers_w):
                os.close(fd)
            raise
        os.close(requests_r)
        os.close(answers_w)
        worker = _Worker(pid, requests_w, answers_r, generation)
        with self._lock:
            self._all[pid] = worker
            self.forks += 1
        return worker


def _stop_all(workers: dict[int, _Worker]) -> None:
    for worker in list(workers.values()):
        for fd in (worker.to_child, worker.from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGKILL)
        _reap(worker.pid)
    workers.clear()


# -- framing ---------------------------------------------------------------------------

_TIMEOUT = object()


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_frame(fd: int, deadline: float | None,
                stop: threading.Event | None = None) -> bytes | object | None:
    """One frame from ``fd``: its bytes, ``None`` at end of file, :data:`_TIMEOUT` at the
    deadline (or when ``stop`` is set)."""
    parts: list[bytes] = []
    have = 0
    need: int | None = None
    while need is None or have < need:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (stop is not None and stop.is_set()):
                return _TIMEOUT
            ready, _, _ = select.select([fd], [], [], min(remaining, POLL_SECONDS))
            if not ready:
                continue
        chunk = os.read(fd, 1 << 20 if need is None else max(1, min(1 << 20, need - have)))
        if not chunk:
            return None
        parts.append(chunk)
        have += len(chunk)
        if need is None and have >= _FRAME.size:
            joined = b"".join(parts)
            need = _FRAME.size + _FRAME.unpack_from(joined)[0]
            parts, have = [joined], len(joined)
    data = b"".join(parts)
    return data[_FRAME.size:need]


# -- the worker's side -----------------------------------------------------------------


def _worker_main(serve: Callable[[Any], Any], requests: int, answers: int,
                 memory: int | None, after_fork: Callable[[], None] | None) -> None:
    code = 0
    try:
        settle_worker(keep=(requests, answers))
        if after_fork is not None:
            after_fork()
        parent = os.getppid()
        limit = None
        if memory is not None:
            limit = _mapped_bytes() + memory
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        while True:
            frame = _next_request(requests, parent)
            if frame is None:
                break
            data = packed_outcome(partial(_served, serve, frame))
            leaving = memory is not None and limit is not None \
                and _mapped_bytes() > limit - memory // 2
            _write_frame(answers, (b"1" if leaving else b"0") + data)
            if leaving:
                break
    except MemoryError:
        code = EXIT_MEMORY
    except BaseException:
        code = EXIT_UNSENDABLE
    os._exit(code)


def _served(serve: Callable[[Any], Any], frame: bytes) -> Any:
    """One request's answer (unpickled inside :func:`packed_outcome`: a bad frame is its
    error to send back, not the worker's end)."""
    return serve(pickle.loads(frame))


def _next_request(fd: int, parent: int) -> bytes | None:
    """The next request, or ``None`` when the parent closed the pipe or is gone."""
    while True:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            got = _read_frame(fd, None)
            return got if isinstance(got, bytes) else None
        if os.getppid() != parent:
            return None
