"""Run one piece of work — a query's evaluation — in a worker process that can be stopped.

pyoxigraph cannot cancel a query, and a query can ask for more memory than the machine
has (an ``ORDER BY`` over a cartesian product, ``CONCAT`` doubling a string). :func:`run`
forks the calling process, runs ``work()`` in the child under an address-space limit
(``RLIMIT_AS``: what the child had at the fork plus ``memory`` bytes), and sends the
pickled return value (or exception) back through a pipe. Past the deadline the child is
killed with ``SIGKILL``; over its memory budget it dies of a failed allocation. Either
way its memory goes back to the system with it, and the caller gets
:class:`~geokb.errors.QueryBudgetExceeded` saying which budget.

The child is a copy-on-write fork: it sees the caller's in-memory pyoxigraph store as it
was at the fork without copying it, and the result is exactly what the same call would
have returned in-process. Hold the store still across the fork (``hold``: a lock that
every writer of the store takes), so that no lock inside the store is held by a writer
in the copy. The child never touches anything a thread of the parent might hold a lock on
besides that: it runs ``work``, pickles, writes to its pipe and leaves with ``os._exit``
(no ``atexit``, no buffered ``stdout`` of the parent's written twice).

>>> run(lambda: 6 * 7, deadline=time.monotonic() + 10)
42
>>> run(lambda: time.sleep(5), deadline=time.monotonic() + 0.2, seconds=0.2)
... # doctest: +ELLIPSIS
Traceback (most recent call last):
...
geokb.errors.QueryBudgetExceeded: the query exceeded its 0.2 s time budget and was stopped; ...
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import pickle
import resource
import select
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from geokb.errors import QueryBudgetExceeded

T = TypeVar("T")

#: How often a waiting parent looks at ``stop`` (its only reason to wake before the deadline).
POLL_SECONDS = 0.05
#: The child's exit code when ``work`` raised :class:`MemoryError`.
EXIT_MEMORY = 86
EXIT_UNSENDABLE = 87


def time_budget(seconds: float) -> QueryBudgetExceeded:
    """The error for a query stopped at its time budget of ``seconds``."""
    return QueryBudgetExceeded(
        f"the query exceeded its {round(seconds, 3):g} s time budget and was stopped; add a "
        "LIMIT or narrow the pattern", budget="time", limit=seconds)


def memory_budget(limit: int) -> QueryBudgetExceeded:
    """The error for a query stopped at its memory budget of ``limit`` bytes."""
    return QueryBudgetExceeded(
        f"the query exceeded its memory budget of {limit / 2**20:g} MiB and was stopped; add "
        "a LIMIT, narrow the pattern, or avoid sorting, grouping and building long strings "
        "over many rows", budget="memory", limit=limit)


def run(work: Callable[[], T], *, deadline: float, memory: int | None = None,
        stop: threading.Event | None = None,
        hold: contextlib.AbstractContextManager[Any] | None = None,
        seconds: float | None = None) -> T:
    """``work()`` in a forked worker: its return value, or the exception it raised.

    ``deadline`` is a :func:`time.monotonic` instant (the clock is the system's, the same in
    the child); ``memory`` the bytes the child may map beyond what it had at the fork
    (``None``: no limit); ``stop`` ends the wait early as at the deadline; ``hold`` is
    entered around the fork; ``seconds`` is the budget named in the error (default: the
    time left at the call). The value and exceptions must pickle (exceptions are rebuilt
    from their class, ``args`` and ``__dict__``).

    Raises :class:`QueryBudgetExceeded` (time or memory) or what ``work`` raised;
    ``RuntimeError`` if the worker died otherwise (a crash in the engine).
    """
    budget = seconds if seconds is not None else max(0.0, deadline - time.monotonic())
    if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
        raise time_budget(budget)
    read_end, write_end = os.pipe()
    try:
        with hold if hold is not None else contextlib.nullcontext():
            pid = os.fork()
            if pid == 0:  # the worker: never returns, nor leaves ``hold`` (nor touches it)
                os.close(read_end)
                _child(work, write_end, memory)
    except BaseException:
        os.close(read_end)
        os.close(write_end)
        raise
    os.close(write_end)
    try:
        data = _receive(read_end, pid, deadline, stop)
    finally:
        os.close(read_end)
    if data is None:  # the deadline passed or we were told to stop: the worker is killed
        _kill(pid)
        raise time_budget(budget)
    status = _reap(pid)
    if data:
        value: T = _unpacked(data)
        return value
    if memory is not None and ((os.WIFSIGNALED(status) and os.WTERMSIG(status) in (
            signal.SIGABRT, signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS))
            or (os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_MEMORY)):
        # Rust aborts on a failed allocation; the kernel's OOM killer sends SIGKILL
        raise memory_budget(memory)
    raise RuntimeError(f"the query worker died ({_describe(status)})")


class ForkGate:
    """A readers/writer gate for forking: every thread that touches the store holds the
    shared side (:meth:`reading`, re-entrant in a thread) and a fork takes the exclusive
    side (:meth:`forking`) for the instant of ``os.fork()``, so no worker is born with a
    lock inside the engine held by a thread that does not exist in it.

    A waiting fork goes first: new readers wait behind it (for as long as the readers
    already inside take to leave), so a stream of cheap queries cannot starve the forks.
    The worker never leaves the exclusive side and never reads through the gate.

    >>> gate = ForkGate()
    >>> with gate.reading(), gate.reading():  # re-entrant
    ...     gate.readers
    1
    >>> with gate.forking():
    ...     gate.readers
    0
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self.readers = 0  # threads inside (a thread that re-enters counts once)
        self._forks_waiting = 0
        self._forking = False
        self._depth = threading.local()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """The shared side: no fork happens while inside."""
        depth: int = getattr(self._depth, "n", 0)
        if depth == 0:
            with self._cond:
                while self._forking or self._forks_waiting:
                    self._cond.wait()
                self.readers += 1
        self._depth.n = depth + 1
        try:
            yield
        finally:
            self._depth.n = depth
            if depth == 0:
                with self._cond:
                    self.readers -= 1
                    if not self.readers:
                        self._cond.notify_all()

    @contextlib.contextmanager
    def forking(self) -> Iterator[None]:
        """The exclusive side: no thread is inside :meth:`reading` while inside.

        Raises ``RuntimeError`` in a thread that is itself inside :meth:`reading` (it
        would wait for itself)."""
        if getattr(self._depth, "n", 0):
            raise RuntimeError("a fork from inside ForkGate.reading() would wait for itself")
        with self._cond:
            self._forks_waiting += 1
            try:
                while self._forking or self.readers:
                    self._cond.wait()
            finally:
                self._forks_waiting -= 1
            self._forking = True
        try:
            yield
        finally:
            with self._cond:
                self._forking = False
                self._cond.notify_all()


def close_inherited_sockets(keep: tuple[int, ...] = ()) -> None:
    """In a forked worker: close every socket the parent had open (its clients'
    connections, its listening socket, its event loop's wake-up pair), so that none stays
    open for as long as the worker lives. Linux's ``/proc/self/fd``; elsewhere nothing."""
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd in keep or fd <= 2:
                continue
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.close(fd)


def settle_worker(keep: tuple[int, ...]) -> None:
    """First in a forked worker (one-shot or pooled): a failed allocation is its expected
    end (one line, no backtrace, no crash dump), it yields to the server's own threads,
    and it holds no socket the server had open but its pipes ``keep``."""
    os.environ["RUST_BACKTRACE"] = "0"
    faulthandler.disable()  # an abort at the budget is no crash to dump
    with contextlib.suppress(OSError):
        os.nice(10)  # the server's own threads (health, cheap queries) come first
    close_inherited_sockets(keep=keep)


def packed_outcome(work: Callable[[], Any]) -> bytes:
    """In a worker: ``work()``'s value or exception, pickled for the parent (see
    :func:`_unpacked`); leaves with :data:`EXIT_MEMORY` when memory runs out on the way."""
    try:
        outcome: tuple[Any, ...] = ("value", work())
    except MemoryError:
        os._exit(EXIT_MEMORY)
    except BaseException as exc:
        outcome = ("raise", type(exc), exc.args, dict(getattr(exc, "__dict__", {})))
    try:
        return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        os._exit(EXIT_MEMORY)
    except Exception as exc:  # an unpicklable value or error: say what it was
        return pickle.dumps(("raise", RuntimeError,
                             (f"the query worker could not send its outcome: {exc!r}",), {}))


def _child(work: Callable[[], Any], out: int, memory: int | None) -> None:
    """In the forked worker: limit memory, run ``work``, send the outcome, exit."""
    code = 0
    try:
        settle_worker(keep=(out,))
        if memory is not None:
            limit = _mapped_bytes() + memory
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        view = memoryview(packed_outcome(work))
        while view:
            view = view[os.write(out, view):]
    except MemoryError:
        code = EXIT_MEMORY
    except BaseException:
        code = EXIT_UNSENDABLE
    os._exit(code)


def _mapped_bytes() -> int:
    """The address space this process has mapped now (Linux ``/proc/self/statm``)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _receive(fd: int, pid: int, deadline: float, stop: threading.Event | None) -> bytes | None:
    """Everything the worker writes until it closes its end, or ``None`` at the deadline."""
    parts: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or (stop is not None and stop.is_set()):
            return None
        ready, _, _ = select.select([fd], [], [], min(remaining, POLL_SECONDS))
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue
        except ChildProcessError:  # reaped elsewhere (a SIGCHLD handler)
            return 0


def _unpacked(data: bytes) -> Any:
    outcome = pickle.loads(data)
    if outcome[0] == "value":
        return outcome[1]
    cls, args, attributes = outcome[1:]
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(attributes)
    raise exc


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"
