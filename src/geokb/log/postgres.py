"""The event log and the source texts in PostgreSQL, for KBs that outgrow one machine.

:class:`PostgresEventStore` keeps exactly the lines :class:`~geokb.log.file.FileEventStore`
keeps (canonical JSON, hash chain and all, one row per event with its newline), so a log
moves between the backends byte for byte. Writers are serialized by a transaction-scoped
advisory lock, check the expected position under it and announce the new head with
``NOTIFY geokb_events`` on commit; read nodes ``LISTEN`` (:meth:`wait_for_events`).
:class:`PostgresSourceTexts` keeps the source texts by their SHA-256.

Connections come from one pool per store (:mod:`geokb.log.pgpool`, sized by
``GEOKB_PG_POOL_SIZE``); the LISTEN of a read node keeps a connection of its own. Needs
``psycopg`` and ``psycopg-pool`` (``pip install 'geokb[postgres]'``); nothing else in geokb
imports this module unless a ``postgresql://`` log is asked for.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import errors as pg_errors

from geokb.errors import AppendConflict, CorruptLog, DatabaseUnavailable, InvalidEvent, NotFound
from geokb.log.chain import ChainWalker
from geokb.log.codec import decode, sha256_hex
from geokb.log.contract import EMPTY_HEAD, Head, seal_lines
from geokb.log.events import Event, RecordedEvent
from geokb.log.file import FileEventStore
from geokb.log.pgpool import Connection, Database, first_line, redacted_url
from geokb.log.retry import Backoff
from geokb.log.sources import FileSourceTexts

__all__ = ["PostgresEventStore", "PostgresSourceTexts", "PushResult", "is_postgres_url", "push",
           "redacted_url"]

SCHEMES = ("postgresql://", "postgres://")
CHANNEL = "geokb_events"
PAGE = 1000


_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('geokb:' || %s::regclass::oid, 0))"
_NOW = ("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
_INSERT = ("INSERT INTO events (seq, line, idem, recorded_at) "
           "VALUES (%s, %s, %s, %s::timestamptz)")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")



def is_postgres_url(value: str | None) -> bool:
    """Whether ``value`` names a PostgreSQL database.

    >>> is_postgres_url("postgresql://db.example/geokb"), is_postgres_url("kb")
    (True, False)
    """
    return bool(value) and str(value).startswith(SCHEMES)


class PostgresEventStore:
    """The log as rows of canonical lines in the table ``events`` of a PostgreSQL database.

    ``dsn`` is a ``postgresql://`` URL or a libpq connection string; the tables are made on
    first use (put ``options=-csearch_path=<schema>`` in it to keep several KBs in one
    database). It holds at most ``pool_size`` connections (by default
    ``GEOKB_PG_POOL_SIZE``, else 4), plus one of its own while a read node waits for events
    (:meth:`wait_for_events`); :meth:`close` closes them all. Connection failures raise
    ``ConnectionError``.
    """

    def __init__(self, dsn: str, *, pool_size: int | None = None) -> None:
        self.db = Database(dsn, pool_size)
        self._listener: Connection | None = None
        self._listen_lock = threading.Lock()

    @property
    def display_path(self) -> str:
        """Where the log is, for messages: ``postgresql://host:port/db`` (no credentials)."""
        return self.db.url

    def close(self) -> None:
        """Close the pool and the listening connection (a later call opens them again)."""
        self.db.close()
        with self._listen_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    # -- reading ----------------------------------------------------------------------

    def _event(self, seq: int, line: bytes) -> RecordedEvent:
        """The event of one row, read on its own (not as part of a walk along the chain).

        Raises :class:`CorruptLog` naming the row's seq.
        """
        return ChainWalker(self.display_path, position=seq - 1, prev=None,
                           keyed=True).follow(line, seq)

    def _page(self, first: int, size: int) -> list[tuple[int, bytes]]:
        with self.db.connection() as conn:
            rows = conn.execute("SELECT seq, line FROM events WHERE seq >= %s ORDER BY seq "
                                "LIMIT %s", (first, size)).fetchall()
        return [(int(seq), bytes(line)) for seq, line in rows]

    def read(self, *, after: int = 0, limit: int | None = None) -> Iterator[RecordedEvent]:
        """The events after ``after``, in pages of 1000 rows (no connection is held between
        them). Raises :class:`CorruptLog` at the first row that breaks the chain."""
        if after < 0:
            raise ValueError("after must be >= 0")
        chain = ChainWalker(self.display_path, keyed=True)
        emitted = 0
        if after > 0:  # the row at ``after`` is the anchor the next one must link to
            rows = self._page(after, 1)
            if not rows:
                return
            if rows[0][0] != after:
                raise CorruptLog(f"no event at seq {after}, where the log continues "
                                 "(event removed)", path=self.display_path, line=after)
            chain.position, chain.prev = after - 1, None
            chain.follow(rows[0][1], after)
        while limit is None or emitted < limit:
            want = PAGE if limit is None else min(PAGE, limit - emitted)
            rows = self._page(chain.position + 1, want)
            for seq, line in rows:
                yield chain.follow(line, seq)
                emitted += 1
            if len(rows) < want:
                return

    def head(self) -> Head:
        """The last event's position, hash and transaction time."""
        with self.db.connection() as conn:
            return self._head(conn)

    def _head(self, conn: Connection) -> Head:
        row = conn.execute("SELECT seq, line FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            return EMPTY_HEAD
        event = self._event(int(row[0]), bytes(row[1]))
        return Head(event.position, event.hash, event.recorded_at)

    def find_idempotent(self, key: str) -> list[RecordedEvent]:
        """Events recorded earlier under ``key`` (empty if none)."""
        with self.db.connection() as conn:
            return self._idempotent(conn, [key])

    def _idempotent(self, conn: Connection, keys: Sequence[str]) -> list[RecordedEvent]:
        rows = conn.execute("SELECT seq, line FROM events WHERE idem = ANY(%s) ORDER BY seq",
                            (list(keys),)).fetchall()
        found = [self._event(int(seq), bytes(line)) for seq, line in rows]
        return sorted((e for e in found if e.idempotency_key in keys),
                      key=lambda e: (e.idempotency_key or "", e.position))

    def raw_lines(self) -> Iterator[tuple[int, bytes]]:
        """Every stored line, verbatim, with its row's seq (what ``geokb verify`` checks)."""
        first = 1
        while True:
            rows = self._page(first, PAGE)
            yield from rows
            if len(rows) < PAGE:
                return
            first = rows[-1][0] + 1

    def wait_for_events(self, after: int, timeout: float) -> bool:
        """Block until the log is past ``after`` (True) or ``timeout`` seconds pass (False).

        Listens on ``geokb_events`` on a connection of its own, so a commit by any process
        wakes it at once. Raises ``ConnectionError`` if the database goes away.
        """
        deadline = time.monotonic() + timeout
        with self._listen_lock:
            if self._listener is None or self._listener.closed:
                listener = self.db.connect()
                listener.execute(f"LISTEN {CHANNEL}")
                self._listener = listener
            listener = self._listener
            try:
                # listening before looking at the head: no commit can fall between the two
                while self.head().position <= after:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    for _ in listener.notifies(timeout=remaining, stop_after=1):
                        pass
                return True
            except psycopg.OperationalError as exc:
                listener.close()
                self._listener = None
                raise DatabaseUnavailable(f"{self.db.url}: {first_line(exc)}") from exc

    # -- writing ----------------------------------------------------------------------

    def _lock(self, conn: Connection) -> None:
        """Serialize writers of this table until the transaction ends (readers go on)."""
        conn.execute(_LOCK, ("events",))

    def append(self, events: Sequence[Event], *, expected_position: int | None,
               recorded_by: str) -> list[RecordedEvent]:
        """Append ``events`` in one transaction and ``NOTIFY geokb_events`` on commit.

        Raises :class:`AppendConflict` if the log is not at ``expected_position`` (``None``
        appends wherever it is). An event whose idempotency key the log already holds is
        not written again: the earlier events are returned instead. Transaction times come
        from the database's clock and never decrease along the log.
        """
        if not events:
            return []
        keys = sorted({e.idempotency_key for e in events if e.idempotency_key is not None})
        retry = Backoff.from_env().start()
        while True:
            try:
                return self._append_once(events, keys, expected_position, recorded_by)
            except AppendConflict as exc:
                # only a writer that skipped the lock can beat us here; without an expected
                # position the append goes wherever the log is: try again, with backoff
                if expected_position is not None or not retry.wait():
                    if retry.tries > 1:
                        raise AppendConflict(exc.expected, exc.actual, tries=retry.tries,
                                             seconds=retry.seconds) from exc
                    raise

    def _append_once(self, events: Sequence[Event], keys: Sequence[str],
                     expected_position: int | None, recorded_by: str) -> list[RecordedEvent]:
        with self.db.connection() as conn:
            head = EMPTY_HEAD
            try:
                with conn.transaction():
                    self._lock(conn)
                    if keys:
                        earlier = self._idempotent(conn, keys)
                        if earlier:
                            return earlier
                    head = self._head(conn)
                    if expected_position is not None and expected_position != head.position:
                        raise AppendConflict(expected_position, head.position)
                    row = conn.execute(_NOW).fetchone()
                    pairs = seal_lines(events, head, recorded_by, str(row[0]) if row else None)
                    sealed = [e for e, _ in pairs]
                    self._insert(conn, [line for _, line in pairs], sealed)
            except pg_errors.UniqueViolation:  # a writer that skipped the lock got there first
                raise AppendConflict(head.position, self.head().position) from None
        return sealed

    def _insert(self, conn: Connection, lines: Sequence[bytes],
                events: Sequence[RecordedEvent]) -> None:
        with conn.cursor() as cur:
            cur.executemany(_INSERT, [(e.position, line, e.idempotency_key, e.recorded_at)
                                      for e, line in zip(events, lines, strict=True)])
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(events[-1].position)))

    def append_lines(self, lines: Sequence[bytes], *, expected_position: int) -> Head:
        """Append lines recorded by another store, verbatim, in one transaction.

        Each line must decode, and the lines must continue the chain at
        ``expected_position``. Raises :class:`InvalidEvent` naming the first that does not,
        or :class:`AppendConflict`. Returns the new head.
        """
        if not lines:
            return self.head()
        with self.db.connection() as conn, conn.transaction():
            self._lock(conn)
            head = self._head(conn)
            if head.position != expected_position:
                raise AppendConflict(expected_position, head.position)
            chain = ChainWalker("", position=head.position, prev=head.hash)
            events: list[RecordedEvent] = []
            for line in lines:
                try:
                    events.append(chain.follow(line))
                except CorruptLog as exc:
                    raise InvalidEvent(f"line {chain.position + 1}: {exc.detail}") from exc
            self._insert(conn, lines, events)
        last = events[-1]
        return Head(last.position, last.hash, last.recorded_at)


class PostgresSourceTexts:
    """Source texts by their SHA-256 in the table ``source_texts`` (UTF-8 bytes)."""

    def __init__(self, dsn: str, *, pool_size: int | None = None) -> None:
        self.db = Database(dsn, pool_size)

    def close(self) -> None:
        """Close the pool and its connections (a later call opens a new one)."""
        self.db.close()

    @staticmethod
    def _checked(sha256: str) -> str:
        if not _HEX64.match(sha256):
            raise InvalidEvent(f"not a SHA-256: {sha256!r}")
        return sha256

    def put(self, text: str) -> str:
        """Store ``text`` (idempotent; repairs an altered copy) and return its SHA-256."""
        data = text.encode("utf-8")
        digest = sha256_hex(data)
        with self.db.connection() as conn:
            conn.execute("INSERT INTO source_texts (sha256, text) VALUES (%s, %s) "
                         "ON CONFLICT (sha256) DO UPDATE SET text = EXCLUDED.text "
                         "WHERE source_texts.text IS DISTINCT FROM EXCLUDED.text",
                         (digest, data))
        return digest

    def get(self, sha256: str) -> str:
        """The text whose hash is ``sha256``; raises NotFound, or InvalidEvent if altered."""
        with self.db.connection() as conn:
            row = conn.execute("SELECT text FROM source_texts WHERE sha256 = %s",
                               (self._checked(sha256),)).fetchone()
        if row is None:
            raise NotFound(f"source text {sha256} is not stored ({self.db.url})")
        data = bytes(row[0])
        if sha256_hex(data) != sha256:
            raise InvalidEvent(f"stored source text {sha256} in {self.db.url} does not match "
                               "its hash")
        return data.decode("utf-8")

    def has(self, sha256: str) -> bool:
        with self.db.connection() as conn:
            row = conn.execute("SELECT 1 FROM source_texts WHERE sha256 = %s",
                               (self._checked(sha256),)).fetchone()
        return row is not None


# -- moving a file log into PostgreSQL ---------------------------------------------------


@dataclass(frozen=True)
class PushResult:
    """What :func:`push` copied: events, new source texts, and the target's head after it."""

    events: int
    texts: int
    head: Head
    torn_tail: bool


def push(directory: str | os.PathLike[str], dsn: str) -> PushResult:
    """Copy the log and source texts of the KB in ``directory`` into PostgreSQL verbatim.

    An empty target gets the whole log; a target that holds a prefix of it (an earlier
    push) gets the rest. Texts go first, so every event finds its source. Raises
    :class:`InvalidEvent` if the target holds another history or a line is not a valid
    event, and :class:`CorruptLog` if the file log's chain is broken.
    """
    source = FileEventStore(directory)
    target = PostgresEventStore(dsn)
    texts = PostgresSourceTexts(dsn)
    try:
        file_texts = FileSourceTexts(directory)
        names = sorted(p.stem for p in Path(file_texts.directory).glob("*.txt")
                       if _HEX64.match(p.stem))
        new_texts = 0
        for sha in names:
            new_texts += not texts.has(sha)
            texts.put(file_texts.get(sha))  # get checks the file; put repairs an altered copy
        start = target.head()
        lines: list[bytes] = []
        torn = False
        for number, raw in source.raw_lines():
            if not raw.endswith(b"\n"):
                torn = True  # never acknowledged: the next file writer moves it aside
                break
            if number == start.position and start.position:
                try:
                    same = decode(raw).hash == start.hash
                except InvalidEvent as exc:
                    raise CorruptLog(str(exc), path=source.display_path, line=number) from exc
                if not same:  # equal hashes at the head mean equal chains up to it
                    raise InvalidEvent(f"{target.display_path} holds another history than "
                                       f"{source.display_path} (they differ at or before seq "
                                       f"{number}): push into an empty database")
            if number > start.position:
                lines.append(raw)
        if start.position and len(lines) == 0 and start.position > source.head().position:
            raise InvalidEvent(f"{target.display_path} is ahead of {source.display_path} "
                               f"({start.position} events): it holds another history")
        head = target.append_lines(lines, expected_position=start.position)
        return PushResult(len(lines), new_texts, head, torn)
    finally:
        target.close()
        texts.close()
