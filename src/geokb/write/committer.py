"""Group commit: appends submitted at the same time go to the log as one.

Every append costs one ``fsync`` (and one admission, one projection batch) however few
events it holds, so one-claim writes arriving together (HTTP posts, several requests in
flight) are cheaper merged. :class:`GroupCommitter` does that without a thread of its own
and without making a lone request wait: the first caller commits its request at once; the
requests that arrive while it does queue up, and when it is done the oldest of them
commits the whole queue as one group (leader and followers, as PostgreSQL's and InnoDB's
group commit do). Each caller gets its own events back, or its own error: the function
that commits a group (:meth:`geokb.kb.KnowledgeBase.append_group`) answers each request
of it separately, so a request whose event is refused does not sink the others.

>>> committed = []
>>> def commit(group):
...     committed.append(len(group))
...     return [[f"{r.recorded_by}:{e}" for e in r.events] for r in group]
>>> GroupCommitter(commit).submit(["a", "b"], recorded_by="ann")
['ann:a', 'ann:b']
>>> committed
[1]
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: Events merged into one group at most (a bound on one admission's and one write's size).
MAX_GROUP_EVENTS = 500


@dataclass
class Request(Generic[T]):
    """One caller's append: its events, its agent, and (once committed) its outcome."""

    events: Sequence[Any]
    recorded_by: str
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to commit the queue, not because it was answered
    result: T | None = None
    error: BaseException | None = None


class GroupCommitter(Generic[T]):
    """Merges concurrent :meth:`submit` calls into groups for ``commit``.

    ``commit(group)`` returns one outcome per request, in order: its result, or the
    exception to raise in its caller. An exception raised by ``commit`` itself (a bug, a
    log that cannot be written) is raised in every caller of the group.
    """

    def __init__(self, commit: Callable[[list[Request[T]]], Sequence[T | BaseException]], *,
                 max_events: int = MAX_GROUP_EVENTS) -> None:
        self._commit = commit
        self.max_events = max_events
        self._lock = threading.Lock()
        self._queue: deque[Request[T]] = deque()
        self._busy = False  # a leader is committing
        self.groups = 0  # groups committed, and requests in them (for tests and benchmarks)
        self.requests = 0

    def submit(self, events: Sequence[Any], *, recorded_by: str) -> T:
        """Commit ``events`` with whatever else is submitted meanwhile; their result.

        Raises what committing this request raised.
        """
        request: Request[T] = Request(events, recorded_by)
        with self._lock:
            self._queue.append(request)
            lead = not self._busy
            self._busy = True
        if not lead:
            request.done.wait()
            if request.lead:  # answered nothing yet: it is this request's turn to commit
                request.done.clear()
                lead = True
        if lead:
            self._lead()
        if request.error is not None:
            raise request.error
        return request.result  # type: ignore[return-value]

    def _lead(self) -> None:
        """Commit one group from the head of the queue, then hand over to the next."""
        with self._lock:
            group: list[Request[T]] = []
            size = 0
            while self._queue and (not group or size + len(self._queue[0].events)
                                   <= self.max_events):
                request = self._queue.popleft()
                group.append(request)
                size += len(request.events)
        try:
            outcomes = list(self._commit(group))
            if len(outcomes) != len(group):
                raise AssertionError(f"{len(outcomes)} outcomes for {len(group)} requests")
        except BaseException as exc:  # every request of the group failed with it
            outcomes = [exc] * len(group)
        with self._lock:
            self.groups += 1
            self.requests += len(group)
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
            else:
                successor = None
                self._busy = False
        for request, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                request.error = outcome
            else:
                request.result = outcome
            request.lead = False
            request.done.set()
        if successor is not None:
            successor.done.set()
