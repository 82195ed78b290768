"""Which log an on-disk projection was built from, checked at every open without a replay.

Beside its RocksDB files an on-disk projection keeps ``geokb-log.json``, written after every
catch-up: the projection's :data:`FORMAT`, its position and the hash of the event there,
and, for a file log, where that event's line ends in ``events.jsonl``, a SHA-256 of every
:data:`BLOCK` bytes of the log up to there, and the file's ``stat`` (inode, size, mtime,
ctime) when it was written.

Opening checks, cheapest first (:meth:`LogMark.check`):

* the log file's ``stat`` is what was recorded: nothing touched it since, the projection
  holds exactly its events up to the recorded position (no byte of the log is read);
* otherwise its blocks are hashed again and the line at the recorded end must carry the
  recorded hash: a log that was appended to passes, one whose past bytes changed (an
  edited line, a line removed, another history checked out) does not;
* a log that fails is read by the chain walker up to the projection's position: if a line
  no longer matches its hash, :class:`~geokb.errors.CorruptLog` says which and nothing is
  served or appended; if it is another, sound history, the projection is rebuilt from it.

The tail after the projection's position is checked by the reader as catch-up reads it.
A PostgreSQL log (no file) is checked by the hash of the event at the position only.

Writing the mark again after a catch-up (:meth:`LogMark.advance`) hashes only the bytes
the log gained: whole blocks are kept, and the running hash of the last, partial block is
kept in memory and goes on from where the last advance left it (a one-claim write hashed
up to 4 MiB again without it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from geokb.errors import CorruptLog
from geokb.log.contract import EventStore
from geokb.log.lines import HASH_FIELD, lines_back

#: The layout of the projection's quads: a projection of another format is rebuilt. Bump
#: it when :func:`geokb.projection.quads.quads_for` or the system graph changes.
FORMAT = 3  # 2: conflicts judge intervals by geokb.times (a forecast is known on its start)
#            3: each conflict side records its end (gk:sideEnd)
MARK_NAME = "geokb-log.json"
#: The log is hashed in blocks of this many bytes.
BLOCK = 1 << 22


@dataclass
class Mark:
    """What ``geokb-log.json`` holds (see the module's docstring)."""

    format: int
    position: int
    hash: str
    offset: int | None = None  # where line ``position`` ends in the log file
    blocks: list[str] = field(default_factory=list)  # SHA-256 of each BLOCK up to offset
    stat: list[int] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Mark | None:
        try:
            return cls(format=int(data["format"]), position=int(data["position"]),
                       hash=str(data["hash"]), offset=data.get("offset"),
                       blocks=[str(b) for b in data.get("blocks") or []],
                       stat=data.get("stat"))
        except (KeyError, TypeError, ValueError):
            return None


def read_mark(path: Path) -> Mark | None:
    """The mark in file ``path`` (``None`` if there is none or it is unreadable)."""
    try:
        return Mark.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def write_mark(path: Path, mark: Mark) -> None:
    """Write ``mark`` to ``path`` whole or not at all (a temporary file, then a rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(mark.to_json()), encoding="utf-8")
    os.replace(tmp, path)


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


@dataclass
class _Tail:
    """The running SHA-256 of the last, partial block: its bytes up to ``end``."""

    end: int
    hash: Any  # hashlib's sha256 object


def _blocks(fh: Any, start_block: int, offset: int, tail: _Tail | None = None
            ) -> tuple[list[str], _Tail | None]:
    """SHA-256 of each BLOCK of the file from block ``start_block`` up to byte ``offset``
    (the last one partial), and the running hash of that partial block. ``tail`` is one
    such running hash of block ``start_block`` to go on from (its bytes are not read again).
    """
    out: list[str] = []
    at = start_block * BLOCK
    h = None
    if tail is not None and tail.end // BLOCK == start_block and at <= tail.end <= offset:
        h, at = tail.hash.copy(), tail.end
    fh.seek(at)
    while at < offset:
        chunk = fh.read(min(BLOCK - at % BLOCK, offset - at))
        if not chunk:
            break
        if h is None:
            h = hashlib.sha256()
        h.update(chunk)
        at += len(chunk)
        if at % BLOCK == 0:
            out.append(h.hexdigest())
            h = None
    if h is None:
        return out, None
    out.append(h.hexdigest())
    return out, _Tail(at, h.copy())


def _ends_with_line(fh: Any, offset: int, digest: str) -> bool:
    """Whether the line that ends at byte ``offset`` carries the hash ``digest``."""
    if offset == 0:
        return False
    last = next(lines_back(fh, offset), None)
    return (last is not None and last[0] + len(last[1]) == offset
            and last[1].startswith(HASH_FIELD + digest.encode("ascii")))


class LogMark:
    """The mark of the on-disk projection in ``directory`` over the log ``log`` (whose file
    is ``log_file``; ``None`` for a log that is no file)."""

    def __init__(self, directory: Path, log: EventStore, log_file: Path | None) -> None:
        self.path = directory / MARK_NAME
        self.log = log
        self.log_file = log_file
        self.mark = read_mark(self.path)
        self._tail: _Tail | None = None  # the running hash of the mark's partial block

    def check(self, position: int, head_hash: str) -> bool:
        """Whether the projection at ``position`` (event hash ``head_hash``) holds this log's
        events: ``False`` means rebuild it. Raises :class:`CorruptLog` if the log's lines up
        to ``position`` no longer match their hashes (see the module's docstring)."""
        mark = self.mark
        if position == 0:
            return mark is None or mark.format == FORMAT
        if mark is not None and mark.format != FORMAT:
            return False  # another layout: rebuild
        if self.log_file is None:  # a database: the event at the position, and the tail
            at = next(iter(self.log.read(after=position - 1, limit=1)), None)
            return at is not None and at.hash == head_hash
        if mark is None:
            return self._walk(0, position, head_hash)
        if mark.position > position or mark.offset is None:
            return self._walk(0, position, head_hash)
        if mark.stat != _stat(self.log_file) and not self._same_bytes(mark):
            return self._walk(0, position, head_hash)
        if mark.position < position:  # a catch-up whose mark was not written: walk it
            return self._walk(mark.position, position, head_hash)
        return mark.hash == head_hash

    def _same_bytes(self, mark: Mark) -> bool:
        assert self.log_file is not None and mark.offset is not None
        try:
            with open(self.log_file, "rb") as fh:
                if os.fstat(fh.fileno()).st_size < mark.offset:
                    return False
                return (_blocks(fh, 0, mark.offset)[0] == mark.blocks
                        and _ends_with_line(fh, mark.offset, mark.hash))
        except FileNotFoundError:
            return False

    def _walk(self, after: int, position: int, head_hash: str) -> bool:
        """Read the log from ``after`` to ``position`` through the chain walker (raises
        :class:`CorruptLog` at a bad line); whether the event there is ``head_hash``."""
        last = None
        for event in self.log.read(after=after, limit=position - after):
            last = event
        if last is None or last.position != position:
            return False  # the log is shorter than the projection
        if after == 0:
            self.mark = None  # no block is trusted: advance() hashes them all
        return last.hash == head_hash

    def advance(self, position: int, head_hash: str) -> None:
        """Record that the projection now holds the log up to ``position`` (``head_hash``).

        Raises :class:`CorruptLog` if the log file no longer has that event's line after the
        recorded one (it changed under the projection)."""
        old = self.mark
        stat = _stat(self.log_file) if self.log_file is not None else None  # before reading
        if old is not None and (old.position, old.hash, old.stat) == (position, head_hash,
                                                                      stat):
            return
        mark = Mark(FORMAT, position, head_hash)
        if self.log_file is not None and position > 0:
            at, start, keep = 0, 0, []  # what of the old mark still holds
            tail = None
            if old is not None and old.offset is not None and old.position <= position:
                at, start, keep = old.position, old.offset, old.blocks[:old.offset // BLOCK]
                if self._tail is not None and self._tail.end == old.offset:
                    tail = self._tail
            with open(self.log_file, "rb") as fh:
                offset = _line_end(fh, start, position - at)
                if offset is None or not _ends_with_line(fh, offset, head_hash):
                    raise CorruptLog(f"{self.log_file}: event {position} is not where the "
                                     "projection read it: the log changed while it was read")
                mark.offset = offset
                blocks, self._tail = _blocks(fh, len(keep), offset, tail)
                mark.blocks = keep + blocks
        mark.stat = stat
        with contextlib.suppress(FileNotFoundError):  # the projection was removed meanwhile
            write_mark(self.path, mark)
        self.mark = mark


def _line_end(fh: Any, start: int, lines: int) -> int | None:
    """The byte offset after ``lines`` more complete lines from byte ``start``."""
    if lines == 0:
        return start
    fh.seek(start)
    offset = start
    for raw in fh:
        if not raw.endswith(b"\n"):
            return None
        offset += len(raw)
        lines -= 1
        if lines == 0:
            return offset
    return None
