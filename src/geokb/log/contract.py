"""The event store contract: what every backend of the log provides, and how events are sealed.

Backends: :class:`geokb.log.file.FileEventStore` (``kb/events.jsonl``) and
:class:`geokb.log.postgres.PostgresEventStore`. Both store the same canonical lines
(:mod:`geokb.log.codec`) and check them with the same walker (:mod:`geokb.log.chain`);
``tests/log/test_eventstore.py`` has the one contract test class both pass.

Errors a backend raises (all from :mod:`geokb.errors`, except ``ConnectionError``):

* :class:`~geokb.errors.AppendConflict` — ``append`` was given an ``expected_position``
  the log is no longer at (a stale writer);
* :class:`~geokb.errors.InvalidEvent` — an event no reader would accept (a bad agent name
  or idempotency key, a line over :data:`geokb.log.codec.MAX_LINE_BYTES`);
* :class:`~geokb.errors.CorruptLog` — a stored line does not decode or breaks the hash
  chain, naming the file and line (``kb/events.jsonl:7``) or the row
  (``postgresql://host/db#seq=7``);
* ``ConnectionError`` — a database backend cannot reach its database;
* ``ValueError`` — ``read(after=…)`` below 0 (a caller's bug).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from geokb.log.codec import envelope_of, hash_and_line
from geokb.log.events import GENESIS_HASH, SCHEMA_VERSION, Event, RecordedEvent
from geokb.log.schemas import check_agent, check_idempotency_key


@dataclass(frozen=True)
class Head:
    """The position, hash and transaction time of the last event (0 and genesis if empty)."""

    position: int
    hash: str
    recorded_at: str


EMPTY_HEAD = Head(0, GENESIS_HASH, "")


class EventStore(Protocol):
    """What every backend of the log provides."""

    def append(self, events: Sequence[Event], *, expected_position: int | None,
               recorded_by: str) -> list[RecordedEvent]:
        """Append ``events`` atomically after ``expected_position`` (``None``: wherever the
        log is) and return them sealed. An event whose idempotency key the log already holds
        is not written again: the earlier events are returned instead.

        Raises :class:`~geokb.errors.AppendConflict` or :class:`~geokb.errors.InvalidEvent`.
        """
        ...

    def read(self, *, after: int = 0, limit: int | None = None) -> Iterator[RecordedEvent]:
        """The events after position ``after``, in order, checked against the hash chain.

        Raises :class:`~geokb.errors.CorruptLog` at the first line that breaks it.
        """
        ...

    def head(self) -> Head:
        """The last event's position, hash and transaction time (:data:`EMPTY_HEAD` if none)."""
        ...

    @property
    def display_path(self) -> str:
        """Where the log is, for messages: ``kb/events.jsonl`` or ``postgresql://host/db``."""
        ...

    def find_idempotent(self, key: str) -> list[RecordedEvent]:
        """Events recorded earlier under idempotency key ``key`` (empty if none)."""
        ...

    def raw_lines(self) -> Iterator[tuple[int, bytes]]:
        """Every stored line verbatim with its line number / seq (for ``geokb verify``)."""
        ...

    def wait_for_events(self, after: int, timeout: float) -> bool:
        """Block until the log is past position ``after`` (True) or ``timeout`` passes."""
        ...


def utc_now() -> str:
    """The current UTC time as a transaction time: ``2024-05-01T12:00:00.000000Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seal(events: Sequence[Event], head: Head, recorded_by: str,
         now: str | None = None) -> list[RecordedEvent]:
    """:func:`seal_lines` without the lines (what admission's drafts need)."""
    return [event for event, _ in seal_lines(events, head, recorded_by, now)]


def seal_lines(events: Sequence[Event], head: Head, recorded_by: str,
               now: str | None = None) -> list[tuple[RecordedEvent, bytes]]:
    """Give ``events`` their positions, transaction time and hash chain after ``head``.

    Transaction times never go backwards along the log, even if the clock does. Raises
    :class:`~geokb.errors.InvalidEvent` for an agent name or idempotency key no line
    should carry.

    Each event comes with its canonical line: the one serialization gives both the hash
    and the line the log stores (:func:`geokb.log.codec.hash_and_line`).

    >>> from geokb.log.codec import encode
    >>> [(e, line)] = seal_lines([Event("ClaimRetracted", {
    ...     "claim": "https://w3id.org/geokb/claim/x", "reason": "wrong"})], EMPTY_HEAD, "ann",
    ...     now="2024-05-01T12:00:00.000000Z")
    >>> e.position, e.prev == GENESIS_HASH, len(e.hash), line == encode(e)
    (1, True, 64, True)
    """
    check_agent(recorded_by)
    for event in events:
        if event.idempotency_key is not None:
            check_idempotency_key(event.idempotency_key)
        if event.verified_as is not None:
            check_agent(event.verified_as, "verified_as")
    stamp = max(now or utc_now(), head.recorded_at)
    prev = head.hash
    out: list[tuple[RecordedEvent, bytes]] = []
    for offset, event in enumerate(events, start=1):
        draft = RecordedEvent(
            id=uuid.uuid4().hex, type=event.type, schema=SCHEMA_VERSION,
            position=head.position + offset, recorded_at=stamp, recorded_by=recorded_by,
            payload=event.payload, prev=prev, hash="", idempotency_key=event.idempotency_key,
            verified_as=event.verified_as,
        )
        # one serialization gives the hash and the line (the envelope's own keys, so a
        # field added to it is hashed and stored alike)
        body = {k: v for k, v in envelope_of(draft).items() if k != "hash"}
        digest, line = hash_and_line(body)
        out.append((dataclasses.replace(draft, hash=digest), line))
        prev = digest
    return out
