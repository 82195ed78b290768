"""The event store contract and the file-backed store that keeps the log in ``kb/``.

The contract is three calls: ``append(events, expected_position=…)``, ``read(after=…)``
and ``head()``. :class:`FileEventStore` keeps the log as canonical JSON Lines in
``kb/events.jsonl``: appends take an exclusive lock, write all lines in one ``write``
call and ``fsync`` before they return, so an acknowledged append is on disk and a crash
leaves at most an unterminated final line, which no reader takes for an event.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from .codec import content_hash, decode, encode, sha256_hex
from .events import (
    GENESIS_HASH,
    SCHEMA_VERSION,
    AppendConflict,
    CorruptLog,
    Event,
    InvalidEvent,
    RecordedEvent,
)

LOG_NAME = "events.jsonl"


@dataclass(frozen=True)
class Head:
    """The position, hash and transaction time of the last event (0 and genesis if empty)."""

    position: int
    hash: str
    recorded_at: str


EMPTY_HEAD = Head(0, GENESIS_HASH, "")


class EventStore(Protocol):
    """What every backend of the log provides (the file store now, PostgreSQL next)."""

    def append(self, events: Sequence[Event], *, expected_position: int | None,
               recorded_by: str) -> list[RecordedEvent]:
        """Append ``events`` atomically after ``expected_position``; raise AppendConflict."""
        ...

    def read(self, *, after: int = 0, limit: int | None = None) -> Iterator[RecordedEvent]:
        """The events after position ``after``, in order, checked against the hash chain."""
        ...

    def head(self) -> Head:
        """The last event's position and hash."""
        ...


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seal(events: Sequence[Event], head: Head, recorded_by: str,
         now: str | None = None) -> list[RecordedEvent]:
    """Give ``events`` their positions, transaction time and hash chain after ``head``.

    Transaction times never go backwards along the log, even if the clock does.
    """
    stamp = max(now or utc_now(), head.recorded_at)
    prev = head.hash
    out: list[RecordedEvent] = []
    for offset, event in enumerate(events, start=1):
        draft = RecordedEvent(
            id=uuid.uuid4().hex, type=event.type, schema=SCHEMA_VERSION,
            position=head.position + offset, recorded_at=stamp, recorded_by=recorded_by,
            payload=event.payload, prev=prev, hash="", idempotency_key=event.idempotency_key,
        )
        from .codec import envelope_of

        digest = content_hash(envelope_of(draft))
        sealed = RecordedEvent(**{**draft.__dict__, "hash": digest})
        out.append(sealed)
        prev = digest
    return out


def check_link(event: RecordedEvent, expected_position: int, prev_hash: str, path: str,
               line: int) -> None:
    """Raise :class:`CorruptLog` if ``event`` is not the next link of the chain.

    (:func:`geokb.codec.decode` has already checked the event against its own hash.)
    """
    if event.position != expected_position:
        raise CorruptLog(f"event {event.id} has seq {event.position}, expected {expected_position}"
                         " (event inserted, removed or reordered)", path=path, line=line)
    if event.prev != prev_hash:
        raise CorruptLog(f"event {event.id} does not follow the previous event's hash "
                         "(event inserted, removed or reordered before it)", path=path, line=line)


class FileEventStore:
    """The log as canonical JSON Lines in a directory (``kb/`` by default)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOG_NAME
        self._idem: dict[str, list[int]] | None = None
        self._idem_position = 0
        self._offsets: dict[int, int] = {0: 0}  # position -> byte offset of the next line

    @property
    def display_path(self) -> str:
        with contextlib.suppress(ValueError):
            return str(self.path.resolve().relative_to(Path.cwd().resolve()))
        return str(self.path)

    # -- reading ----------------------------------------------------------------------

    def _lines(self, start_offset: int = 0) -> Iterator[tuple[int, bytes]]:
        """Complete lines from ``start_offset`` with the byte offset after each."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            fh.seek(start_offset)
            offset = start_offset
            for raw in fh:
                if not raw.endswith(b"\n"):
                    return  # an append in flight, or the torn tail of a crashed one
                offset += len(raw)
                yield offset, raw

    def read(self, *, after: int = 0, limit: int | None = None) -> Iterator[RecordedEvent]:
        """The events after ``after``. Raises :class:`CorruptLog` at the first bad line."""
        if after < 0:
            raise ValueError("after must be >= 0")
        start_pos = max(p for p in self._offsets if p <= after)
        position = start_pos
        prev_hash = GENESIS_HASH
        emitted = 0
        path = self.display_path
        for offset, raw in self._lines(self._offsets[start_pos]):
            position += 1
            if position < after:
                continue
            try:
                event = decode(raw)
            except InvalidEvent as exc:
                raise CorruptLog(str(exc), path=path, line=position) from exc
            if position == after:
                prev_hash = event.hash
                if position != event.position:
                    raise CorruptLog(f"event {event.id} has seq {event.position}, expected "
                                     f"{position}", path=path, line=position)
                continue
            check_link(event, position, prev_hash, path, position)
            prev_hash = event.hash
            if position % 4096 == 0:
                self._offsets[position] = offset
            yield event
            emitted += 1
            if limit is not None and emitted >= limit:
                return

    def head(self) -> Head:
        """The last complete event, read from the end of the file."""
        if not self.path.exists():
            return EMPTY_HEAD
        with open(self.path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            # ignore an unterminated tail
            data = b""
            pos = end
            while pos > 0:
                step = min(65536, pos)
                pos -= step
                fh.seek(pos)
                data = fh.read(step) + data
                last_nl = data.rfind(b"\n")
                if last_nl < 0:
                    continue
                prev_nl = data.rfind(b"\n", 0, last_nl)
                if prev_nl >= 0 or pos == 0:
                    line = data[prev_nl + 1 : last_nl + 1]
                    try:
                        event = decode(line)
                    except InvalidEvent as exc:
                        raise CorruptLog(f"last event unreadable: {exc}",
                                         path=self.display_path) from exc
                    return Head(event.position, event.hash, event.recorded_at)
            return EMPTY_HEAD

    def find_idempotent(self, key: str) -> list[RecordedEvent]:
        """Events recorded earlier under ``key`` (empty if none)."""
        self._refresh_idem()
        assert self._idem is not None
        positions = self._idem.get(key, [])
        if not positions:
            return []
        wanted = set(positions)
        return [e for e in self.read(after=min(positions) - 1) if e.position in wanted]

    def _refresh_idem(self) -> None:
        if self._idem is None:
            self._idem = {}
        for event in self.read(after=self._idem_position):
            if event.idempotency_key is not None:
                self._idem.setdefault(event.idempotency_key, []).append(event.position)
            self._idem_position = event.position

    # -- writing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, timeout: float = 30.0) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"could not lock {self.directory} in {timeout}s") from None
                    time.sleep(0.005)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _recover_torn_tail(self) -> None:
        """Move an unterminated final line (never acknowledged) aside, under the lock."""
        if not self.path.exists():
            return
        size = self.path.stat().st_size
        if size == 0:
            return
        with open(self.path, "rb+") as fh:
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return
            step = min(size, 1_048_576 + 1)
            fh.seek(size - step)
            tail = fh.read(step)
            cut = tail.rfind(b"\n")
            keep = size - step + cut + 1 if cut >= 0 else 0
            fh.seek(keep)
            torn = fh.read()
            torn_dir = self.directory / ".torn"
            torn_dir.mkdir(exist_ok=True)
            name = torn_dir / f"{utc_now().replace(':', '')}-{sha256_hex(torn)[:12]}.bin"
            name.write_bytes(torn)
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())
        print(f"geokb: moved an unterminated final line of {self.display_path} "
              f"({len(torn)} bytes, from a crashed append) to {name}", file=sys.stderr)

    def append(self, events: Sequence[Event], *, expected_position: int | None,
               recorded_by: str) -> list[RecordedEvent]:
        """Append ``events`` in one durable write.

        Raises :class:`AppendConflict` if the log is not at ``expected_position`` (pass
        ``None`` to append wherever the log is). An event whose idempotency key the log
        already holds is not written again: the earlier events are returned instead.
        """
        if not events:
            return []
        with self._locked():
            self._recover_torn_tail()
            keys = {e.idempotency_key for e in events if e.idempotency_key is not None}
            if keys:
                earlier = [e for k in sorted(keys) for e in self.find_idempotent(k)]
                if earlier:
                    return earlier
            head = self.head()
            if expected_position is not None and expected_position != head.position:
                raise AppendConflict(expected_position, head.position)
            sealed = seal(events, head, recorded_by)
            data = b"".join(encode(e) for e in sealed)
            new_file = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            if new_file:
                dir_fd = os.open(self.directory, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
            return sealed
