"""The one walker of the hash chain, for every backend and for ``geokb verify``.

A log is a chain: line ``n`` holds the event of seq ``n``, whose ``prev`` is the hash of
the event before it (the genesis hash for the first), and whose own ``hash`` covers the
rest of its line (:func:`geokb.log.codec.decode` checks that). :class:`ChainWalker`
takes the stored lines in order and checks all three, naming the exact place of the
first line that breaks them: the line of ``kb/events.jsonl`` or the row's seq in
PostgreSQL (the backend says which by the ``path`` it gives and the ``at`` of each line).

Readers (``read``, ``head``) call :meth:`ChainWalker.follow`, which raises at the first
break; ``geokb verify`` calls :meth:`ChainWalker.walk`, which reports every break and
picks the chain up again after each one, so one removed event is one problem, not one
per following line.

>>> from geokb.log.codec import encode
>>> from geokb.log.contract import EMPTY_HEAD, seal
>>> from geokb.log.events import Event
>>> one, two, three = (encode(e) for e in seal(
...     [Event("ClaimRetracted", {"claim": f"https://w3id.org/geokb/claim/{n}",
...                               "reason": "wrong"}) for n in range(3)], EMPTY_HEAD, "ann"))
>>> [e.position for e in ChainWalker("kb/events.jsonl").follow_all([one, two, three])]
[1, 2, 3]
>>> [(link.at, link.problem) for link in ChainWalker("kb/events.jsonl").walk(
...     [(1, one), (2, three)])]
[(1, None), (2, 'event ... has seq 3, expected 2 (event inserted, removed or reordered)')]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from geokb.errors import CorruptLog, InvalidEvent
from geokb.log.codec import decode
from geokb.log.events import GENESIS_HASH, RecordedEvent


@dataclass(frozen=True)
class Link:
    """One stored line as :meth:`ChainWalker.walk` found it: where it is, its event if it
    decodes, and what is wrong with it (``None`` if nothing)."""

    at: int
    event: RecordedEvent | None
    problem: str | None
    event_id: str = ""


class ChainWalker:
    """Checks stored lines, in order, as the links of one hash chain.

    ``position`` and ``prev`` are the chain so far: the position and hash of the event
    before the first line given (0 and the genesis hash for a whole log). ``prev=None``
    starts mid-log at a line that is trusted as an anchor: its own hash is checked, its
    link to the line before it is not. ``keyed`` says that the store keys each line by its
    seq (PostgreSQL's rows), so a line's ``at`` must also be its event's seq.
    """

    __slots__ = ("keyed", "path", "position", "prev")

    def __init__(self, path: str, *, position: int = 0, prev: str | None = GENESIS_HASH,
                 keyed: bool = False) -> None:
        self.path = path
        self.position = position
        self.prev = prev
        self.keyed = keyed

    def follow(self, line: bytes, at: int | None = None) -> RecordedEvent:
        """The event of ``line``, the next link, stored at ``at`` (its line number or row
        seq; by default the position it should have).

        Raises :class:`CorruptLog` at ``at`` if the line is not one canonical line matching
        its hash, has another seq than the next one, does not link to the previous event's
        hash, or (``keyed``) sits in another row than its seq's. The walker then stands
        where it was: a reader stops at the first break.
        """
        expected = self.position + 1
        where = expected if at is None else at
        if not line or line.find(b"\n") != len(line) - 1:
            raise CorruptLog("line is not one line ending in a newline (a torn or edited "
                             "write)", path=self.path, line=where)
        try:
            event = decode(line)
        except InvalidEvent as exc:
            raise CorruptLog(str(exc), path=self.path, line=where) from exc
        if event.position != expected:
            raise CorruptLog(f"event {event.id} has seq {event.position}, expected {expected} "
                             "(event inserted, removed or reordered)", path=self.path,
                             line=where)
        if self.prev is not None and event.prev != self.prev:
            raise CorruptLog(f"event {event.id} does not follow the previous event's hash "
                             "(event inserted, removed, reordered or edited before it)",
                             path=self.path, line=where)
        if self.keyed and event.position != where:
            raise CorruptLog(f"event {event.id} has seq {event.position} in the row of seq "
                             f"{where} (event moved)", path=self.path, line=where)
        self.position, self.prev = event.position, event.hash
        return event

    def follow_all(self, lines: Iterable[bytes]) -> Iterator[RecordedEvent]:
        """:meth:`follow` each of ``lines`` in turn (each at the position it should have)."""
        for line in lines:
            yield self.follow(line)

    def walk(self, lines: Iterable[tuple[int, bytes]]) -> Iterator[Link]:
        """Every ``(at, line)`` as a :class:`Link`, problems included, to the end.

        After a break the chain goes on from the line that broke it: from its event's seq
        and hash, or, for a line that does not decode, from the seq and hash it still
        carries (an edit that kept them leaves the rest of the chain intact).
        """
        for at, line in lines:
            try:
                event = self.follow(line, at)
            except CorruptLog as exc:
                yield self._resume(at, line, exc.detail)
                continue
            yield Link(at, event, None, event.id)

    def _resume(self, at: int, line: bytes, problem: str) -> Link:
        """Pick the chain up after the broken line ``line`` and describe it."""
        try:
            event: RecordedEvent | None = decode(line)
        except InvalidEvent:
            event = None
        if event is not None:
            self.position, self.prev = event.position, event.hash
            return Link(at, event, problem, event.id)
        stored = _stored(line)
        seq = stored.get("seq")
        self.position = seq if isinstance(seq, int) and not isinstance(seq, bool) else (
            self.position + 1)
        digest = stored.get("hash")
        self.prev = digest if isinstance(digest, str) and digest else None
        ident = stored.get("id")
        return Link(at, None, problem, ident if isinstance(ident, str) else "")


def _stored(line: bytes) -> dict[str, object]:
    """The fields of an unreadable line, if it is at least a JSON object (else empty)."""
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
