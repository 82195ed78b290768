"""The file-backed event store that keeps the log in ``kb/``.

It meets the contract of :mod:`geokb.log.contract`. :class:`FileEventStore` keeps the log
as canonical JSON Lines in ``kb/events.jsonl``: appends take an exclusive lock, write all
lines in one ``write`` call and ``fsync`` before they return, so an acknowledged append is
on disk and a crash leaves at most an unterminated final line, which no reader takes for
an event. Every line read is checked by :class:`geokb.log.chain.ChainWalker`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from geokb.errors import AppendConflict, CorruptLog, InvalidEvent, NotDurable
from geokb.log.chain import ChainWalker
from geokb.log.codec import MAX_LINE_BYTES, decode, sha256_hex
from geokb.log.contract import EMPTY_HEAD, Head, seal_lines, utc_now
from geokb.log.events import GENESIS_HASH, Event, RecordedEvent
from geokb.log.lines import HASH_FIELD, IDEM_FIELD, find_back, hash_of, lines_back
from geokb.log.storage import writing

LOG_NAME = "events.jsonl"
#: While a batch of several events is being written, ``kb/.pending`` holds the log's size
#: before it: readers stop there, and after a crash the next writer cuts the log back to it,
#: so a batch is visible whole or not at all (a kill can cut a ``write`` between lines).
#: The marker also holds the hash of the last line before that offset and of the batch's
#: first line: a marker left behind by a killed writer and then outlived by another history
#: (a ``git pull`` or checkout of the log; the marker is git-ignored) no longer matches the
#: log's bytes, and is discarded instead of cutting committed events.
PENDING_NAME = ".pending"


#: A read caches where every CHECKPOINT-th line is (and the newest line it saw).
CHECKPOINT = 4096


#: Where the line of one event is: (position, start, end, hash). A read after ``position``
#: starts at byte ``end`` once the line there still carries ``hash`` (the file may have been
#: cut back or replaced since the mark was taken).
_Mark = tuple[int, int, int, str]
_GENESIS_MARK: _Mark = (0, 0, 0, GENESIS_HASH)


class FileEventStore:
    """The log as canonical JSON Lines in a directory (``kb/`` by default)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOG_NAME
        self._idem: dict[str, list[int]] | None = None
        # Where lines are, so that a read starts near its position instead of at byte 0:
        # every CHECKPOINT-th position plus the newest line seen, each checked before use.
        self._marks: dict[int, _Mark] = {}
        self._latest: _Mark | None = None
        self._idem_mark: _Mark | None = None  # the last line the key index has seen
        self._holder: int | None = None  # the thread inside exclusive(), if any

    @property
    def display_path(self) -> str:
        with contextlib.suppress(ValueError):
            return str(self.path.resolve().relative_to(Path.cwd().resolve()))
        return str(self.path)

    # -- reading ----------------------------------------------------------------------

    @staticmethod
    def _lines(fh: BinaryIO, offset: int, committed: int) -> Iterator[tuple[int, bytes]]:
        """Complete lines from byte ``offset`` up to ``committed``, with the offset after each."""
        fh.seek(offset)
        for raw in fh:
            if not raw.endswith(b"\n") or offset + len(raw) > committed:
                return  # an append in flight, or the torn tail of a crashed one
            offset += len(raw)
            yield offset, raw

    def pending_offset(self) -> int | None:
        """The log's size before the batch being written (or left by a crash), if any: a
        marker of another history (see :data:`PENDING_NAME`) is not one."""
        offset, stale = self._pending()
        return None if stale else offset

    def _pending(self) -> tuple[int | None, bool]:
        """The marker's offset, and whether it is stale: the log's line before the offset,
        or the start of the line at it, is not what it was when the marker was written."""
        try:
            text = (self.directory / PENDING_NAME).read_bytes()
        except FileNotFoundError:
            return None, False
        if not text.endswith(b"\n"):
            return None, False  # torn while being written: no batch was started after it
        fields = text[:-1].split(b" ")
        if not fields[0].isdigit() or len(fields) not in (1, 3):
            return None, False
        offset = int(fields[0])
        if len(fields) == 1:  # a marker of geokb before 0.x: trusted as it was
            return offset, False
        return offset, not self._marker_matches(offset, fields[1], fields[2])

    def _marker_matches(self, offset: int, before: bytes, first: bytes) -> bool:
        """Whether the log still ends a line with hash ``before`` at ``offset`` (or is
        empty there, for offset 0) and what follows it is the start of line ``first``."""
        if not self.path.exists():
            return offset == 0
        with open(self.path, "rb") as fh:
            if offset > os.fstat(fh.fileno()).st_size:
                return False  # the log is shorter: another history
            if offset == 0:
                if before != GENESIS_HASH.encode():
                    return False
            else:
                last = next(lines_back(fh, offset), None)
                if last is None or last[0] + len(last[1]) != offset:
                    return False  # no line ends at the offset
                if hash_of(last[1]).encode() != before:
                    return False
            expected = HASH_FIELD + first
            fh.seek(offset)
            return expected.startswith(fh.read(len(expected)))

    def _committed_size(self, size: int) -> int:
        """``size`` (taken first) cut back to a pending batch's start (read second): bytes
        of a batch that is visible in ``size`` are committed once its marker is gone."""
        pending = self.pending_offset()
        return size if pending is None else min(size, pending)

    def read(self, *, after: int = 0, limit: int | None = None) -> Iterator[RecordedEvent]:
        """The events after ``after``. Raises :class:`CorruptLog` at the first bad line.

        The read starts at the nearest line whose place is known (a checkpoint every
        ``CHECKPOINT`` lines, or the newest line read or appended) or, when ``after`` is
        nearer the end of the log, at its line found by reading back from the end: reading
        the newest events costs their bytes, not the whole log's.
        """
        if after < 0:
            raise ValueError("after must be >= 0")
        if (limit is not None and limit <= 0) or not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            committed = self._committed_size(os.fstat(fh.fileno()).st_size)
            position, offset, prev_hash = self._start(fh, after, committed)
            # lines before ``after`` are skipped undecoded: the first one decoded is then an
            # anchor, whose link to the skipped line before it is not checked
            chain = ChainWalker(self.display_path, position=position, prev=prev_hash or None)
            emitted = 0
            start = offset
            for end, raw in self._lines(fh, offset, committed):
                position += 1
                if position < after:  # skipped: not decoded, but its place is noted
                    if position % CHECKPOINT == 0:
                        self._marks[position] = (position, start, end, hash_of(raw))
                    start = end
                    chain.position, chain.prev = position, None
                    continue
                event = chain.follow(raw)
                mark = (position, start, end, event.hash)
                self._latest = mark
                if position % CHECKPOINT == 0:
                    self._marks[position] = mark
                start = end
                if position == after:  # the line before the first one read
                    continue
                yield event
                emitted += 1
                if limit is not None and emitted >= limit:
                    return

    def _start(self, fh: BinaryIO, after: int, committed: int) -> tuple[int, int, str]:
        """Where a read after ``after`` begins: a position, the byte offset after its line,
        and that line's hash. When the line of ``after`` itself was found from the end, the
        position is ``after - 1`` and the hash ``""``: the read decodes and checks it first."""
        best = _GENESIS_MARK
        for mark in (*self._marks.values(), self._latest):
            if mark is not None and best[0] < mark[0] <= after:
                best = mark
        if best[0] and not self._still_there(fh, best, committed):
            self._forget()  # cut back or replaced by another history: start over
            best = _GENESIS_MARK
        if best[0] == after:
            return best[0], best[2], best[3]
        found = find_back(fh, committed, after, max_lines=after - best[0])
        if found is not None:
            return after - 1, found, ""
        return best[0], best[2], best[3]

    @staticmethod
    def _still_there(fh: BinaryIO, mark: _Mark, committed: int) -> bool:
        """Whether the line of ``mark`` is still where it was, committed."""
        _, start, end, digest = mark
        if end > committed:
            return False
        fh.seek(start)
        line = fh.read(end - start)
        return line.endswith(b"\n") and line.startswith(HASH_FIELD + digest.encode())

    def _forget(self) -> None:
        """Drop every cached place, and the index of idempotency keys built on them."""
        self._marks.clear()
        self._latest = None
        self._idem = None
        self._idem_mark = None

    def head(self) -> Head:
        """The last complete event, read from the end of the file."""
        if not self.path.exists():
            return EMPTY_HEAD
        with open(self.path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = self._committed_size(fh.tell())
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

    def raw_lines(self) -> Iterator[tuple[int, bytes]]:
        """Every line of the file verbatim with its number, an unterminated last line too,
        up to a batch still being written (or left by a crash: see ``pending_offset``)."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            committed = self._committed_size(os.fstat(fh.fileno()).st_size)
            offset = 0
            for number, line in enumerate(fh, start=1):
                if offset >= committed:
                    return
                yield number, line[: committed - offset]
                offset += len(line)

    def wait_for_events(self, after: int, timeout: float, *, interval: float = 0.1) -> bool:
        """Block until the log is past ``after`` (True) or ``timeout`` seconds pass (False).

        Polls the file's size every ``interval`` seconds and reads the head when it changes.
        """
        deadline = time.monotonic() + timeout
        size = -1
        while True:
            current = self.path.stat().st_size if self.path.exists() else 0
            if current != size:
                size = current
                if self.head().position > after:
                    return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(interval, remaining))

    def find_idempotent(self, key: str) -> list[RecordedEvent]:
        """Events recorded earlier under ``key`` (empty if none)."""
        self._refresh_idem()
        assert self._idem is not None
        positions = self._idem.get(key, [])
        if not positions:
            return []
        wanted = set(positions)
        first, last = min(positions), max(positions)
        return [e for e in self.read(after=first - 1, limit=last - first + 1)
                if e.position in wanted]

    def _refresh_idem(self) -> None:
        """Index the idempotency keys of the lines added since the last call.

        Only lines that carry a key are decoded: in a canonical line ``"idem":`` can only
        be the envelope's key (a quotation mark inside a string is escaped).
        """
        if self._idem is None:
            self._idem, self._idem_mark = {}, None
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            committed = self._committed_size(os.fstat(fh.fileno()).st_size)
            mark = self._idem_mark or _GENESIS_MARK
            if mark[0] and not self._still_there(fh, mark, committed):
                self._forget()
                self._idem, mark = {}, _GENESIS_MARK
            position, start = mark[0], mark[2]
            last: _Mark | None = None
            for end, raw in self._lines(fh, start, committed):
                position += 1
                if IDEM_FIELD in raw:  # a line on its own: its seq and hash, not its link
                    try:
                        event = ChainWalker("", position=position - 1, prev=None).follow(raw)
                    except CorruptLog as exc:  # named here: display_path costs a resolve()
                        raise CorruptLog(exc.detail, path=self.display_path,
                                         line=position) from exc
                    if event.idempotency_key is not None:
                        self._idem.setdefault(event.idempotency_key, []).append(position)
                last = (position, start, end, hash_of(raw))
                start = end
            if last is not None:
                self._idem_mark = last

    # -- writing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def exclusive(self, *, timeout: float = 30.0) -> Iterator[None]:
        """Hold the writers' lock across several steps of this thread (a retry's catch-up,
        admission and append): no other writer, in any process, appends meanwhile; this
        thread's appends inside it take the lock it holds. Raises ``TimeoutError``."""
        with self._locked(timeout):
            self._holder = threading.get_ident()
            try:
                yield
            finally:
                self._holder = None

    @contextlib.contextmanager
    def _locked(self, timeout: float = 30.0) -> Iterator[None]:
        if getattr(self, "_holder", None) == threading.get_ident():
            yield  # inside exclusive(): this thread holds the lock already
            return
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
            # unlock before closing: a process forked meanwhile (a query worker) shares
            # this open file, and closing only our descriptor would leave the lock held
            # for as long as that worker lives; LOCK_UN releases it for every copy
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _set_pending(self, offset: int | None, before: str = GENESIS_HASH,
                     first: str = "") -> None:
        """Record (durably) the start of the batch about to be written, with the hash of
        the line before it (``before``) and of the batch's first line, or clear it."""
        path = self.directory / PENDING_NAME
        if offset is None and not path.exists():
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.ftruncate(fd, 0)
            if offset is not None:
                os.write(fd, b"%d %s %s\n" % (offset, before.encode(), first.encode()))
            os.fsync(fd)
        finally:
            os.close(fd)

    def _recover_torn_tail(self) -> None:
        """Move what a crashed append left (never acknowledged) aside, under the lock: the
        bytes after a pending batch's start, or else an unterminated final line. A marker
        of another history is discarded, never used to cut the log."""
        pending, stale = self._pending()
        if stale:
            self._set_pending(None)
            print(f"geokb: discarded a stale batch marker {self.directory / PENDING_NAME} "
                  f"(left by a crashed append, but {self.display_path} has another history "
                  "now): nothing was cut", file=sys.stderr)
            pending = None
        size = self.path.stat().st_size if self.path.exists() else 0
        keep = size
        if pending is not None:
            keep = min(pending, size)
        elif size:
            with open(self.path, "rb") as fh:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":  # find the end of the last complete line
                    keep = 0
                    pos = size
                    while pos > 0:
                        step = min(pos, 1_048_576)
                        pos -= step
                        fh.seek(pos)
                        cut = fh.read(step).rfind(b"\n")
                        if cut >= 0:
                            keep = pos + cut + 1
                            break
        if keep < size:
            with open(self.path, "rb+") as fh:
                fh.seek(keep)
                torn = fh.read()
                torn_dir = self.directory / ".torn"
                torn_dir.mkdir(exist_ok=True)
                name = torn_dir / f"{utc_now().replace(':', '')}-{sha256_hex(torn)[:12]}.bin"
                name.write_bytes(torn)
                fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
            what = "an unfinished batch" if pending is not None else "an unterminated final line"
            print(f"geokb: moved {what} of {self.display_path} ({len(torn)} bytes, from a "
                  f"crashed append) to {name}", file=sys.stderr)
        if pending is not None:
            self._set_pending(None)

    def append(self, events: Sequence[Event], *, expected_position: int | None,
               recorded_by: str) -> list[RecordedEvent]:
        """Append ``events`` in one durable write.

        Raises :class:`AppendConflict` if the log is not at ``expected_position`` (pass
        ``None`` to append wherever the log is). An event whose idempotency key the log
        already holds is not written again: the earlier events are returned instead.
        """
        if not events:
            return []
        # a full disk or read-only kb/ is StorageFull / StorageReadOnly, the log unchanged
        with writing(str(self.directory), "nothing was appended"), self._locked():
            self._recover_torn_tail()
            keys = {e.idempotency_key for e in events if e.idempotency_key is not None}
            if keys:
                found = {e.position: e for k in keys for e in self.find_idempotent(k)}
                if found:  # in log order, each once
                    return [found[p] for p in sorted(found)]
            head = self.head()
            if expected_position is not None and expected_position != head.position:
                raise AppendConflict(expected_position, head.position)
            pairs = seal_lines(events, head, recorded_by)  # one encoding: hash and line
            sealed, lines = [e for e, _ in pairs], [line for _, line in pairs]
            for event, line in zip(sealed, lines, strict=True):
                if len(line) > MAX_LINE_BYTES:  # no reader would accept it: refuse it here
                    raise InvalidEvent(f"{event.type} is {len(line)} bytes as a log line, over "
                                       f"the limit of {MAX_LINE_BYTES}")
            data = b"".join(lines)
            new_file = not self.path.exists()
            batch = len(sealed) > 1  # one line torn by a crash is unterminated: no marker
            if batch:
                self._set_pending(0 if new_file else self.path.stat().st_size, head.hash,
                                  sealed[0].hash)
            unconfirmed: OSError | None = None
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                start = os.fstat(fd).st_size  # under the lock, and torn tails are gone
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                try:
                    os.fsync(fd)
                except OSError as exc:  # written, so readers see it: say so, below
                    unconfirmed = exc
            except OSError:  # a write the disk did not take (ENOSPC): none of it stays
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
                raise
            finally:
                os.close(fd)
            if batch:
                self._clear_pending_after_write(sealed, unconfirmed)
            if new_file:
                dir_fd = os.open(self.directory, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
            self._note_appended(sealed, lines, start)
            if unconfirmed is not None:
                raise NotDurable(
                    f"events {sealed[0].position}..{sealed[-1].position} were written to "
                    f"{self.display_path} and are committed, but the disk did not confirm "
                    f"them (fsync: {unconfirmed}): a power loss may lose them; a retry with "
                    "the same idempotency key is answered with them",
                    first=sealed[0].position, last=sealed[-1].position) from unconfirmed
            return sealed

    def _clear_pending_after_write(self, sealed: Sequence[RecordedEvent],
                                   unconfirmed: OSError | None) -> None:
        """Clear the batch marker once the batch is written: it is then committed. If even
        that fails, the batch stays behind its marker (the next writer removes it), and the
        caller is told it was not committed."""
        try:
            self._set_pending(None)
        except OSError as exc:
            if self.pending_offset() is None:  # cleared, only not confirmed on disk
                return
            raise OSError(exc.errno, f"events {sealed[0].position}..{sealed[-1].position} "
                          f"were NOT committed: the batch marker could not be cleared "
                          f"({exc.strerror}); the next append removes them") from (
                              unconfirmed or exc)

    def _note_appended(self, sealed: Sequence[RecordedEvent], lines: Sequence[bytes],
                       start: int) -> None:
        """Remember where the lines just written are: the next read starts after them."""
        for event, line in zip(sealed, lines, strict=True):
            mark = (event.position, start, start + len(line), event.hash)
            if event.position % CHECKPOINT == 0:
                self._marks[event.position] = mark
            start += len(line)
        self._latest = mark
