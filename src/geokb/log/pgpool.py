"""One PostgreSQL database for the log: its URL for messages, a pool of connections to it
(:class:`psycopg_pool.ConnectionPool`, one per store), and the tables, made on first use.

Needs ``psycopg`` and ``psycopg-pool`` (``pip install 'geokb[postgres]'``); only
:mod:`geokb.log.postgres` imports this module.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from geokb.errors import DatabaseUnavailable, SettingsError

POOL_SIZE = 4  # connections per store, unless GEOKB_PG_POOL_SIZE or pool_size= says otherwise
POOL_SIZE_ENV = "GEOKB_PG_POOL_SIZE"
POOL_TIMEOUT = 30.0  # seconds a caller waits for a pooled connection
CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise

#: The tables, made on first use. ``line`` is the canonical line with its newline, the
#: same bytes as in ``events.jsonl``; ``idem`` and ``recorded_at`` copy fields of it so
#: they can be indexed. ``idem`` is indexed, not unique: the file log lets the events of
#: one batch share a key, and a log must move between backends unchanged; writers check
#: it under the lock.
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq         bigint PRIMARY KEY CHECK (seq > 0),
    line        bytea NOT NULL,
    idem        text,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS events_idem ON events (idem) WHERE idem IS NOT NULL;
CREATE TABLE IF NOT EXISTS source_texts (
    sha256    text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    text      bytea NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now()
);
"""

_SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('geokb:schema', 0))"

Connection = psycopg.Connection[tuple[Any, ...]]


def redacted_url(dsn: str) -> str:
    """``postgresql://host:port/db`` for messages: no user, no password.

    >>> redacted_url("postgresql://ann:secret@db.example:5433/geokb")
    'postgresql://db.example:5433/geokb'
    >>> redacted_url("host=/run/postgresql dbname=geokb")
    'postgresql://%2Frun%2Fpostgresql/geokb'

    Raises ``ConnectionError`` for a malformed URL or connection string.
    """
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ConnectionError(f"not a PostgreSQL URL: {exc}") from None
    host = quote(str(info.get("host") or "localhost"), safe="")
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{host}{port}/{info.get('dbname') or info.get('user') or ''}"


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


#: Pools a forked child inherited: their threads are gone and their sockets are the
#: parent's, so the child must neither use nor close them (closing would end the parent's
#: sessions). They are kept referenced here until the child exits.
_FORKED_AWAY: list[ConnectionPool[Connection]] = []


def pool_size_setting(value: int | None = None,
                      environ: Mapping[str, str] | None = None) -> int:
    """The connections one store may hold: ``value``, else ``GEOKB_PG_POOL_SIZE``, else 4.

    >>> pool_size_setting(environ={}), pool_size_setting(environ={POOL_SIZE_ENV: "8"})
    (4, 8)

    Raises :class:`SettingsError` for anything but a whole number from 1 to 1000.
    """
    env = os.environ if environ is None else environ
    text = str(value) if value is not None else env.get(POOL_SIZE_ENV, str(POOL_SIZE))
    if not text.strip().isdigit() or not 1 <= int(text) <= 1000:
        raise SettingsError(f"{POOL_SIZE_ENV} must be a whole number from 1 to 1000, "
                            f"not {text!r}")
    return int(text)


class Database:
    """A DSN, one :class:`psycopg_pool.ConnectionPool` to share between threads, and the
    tables made once.

    The pool is opened on first use, after one direct connection has made the tables (so
    a wrong URL or a server that is down fails at once, saying why), and is replaced by a
    new one when the server goes away (its connections are all stale then) or the process
    has forked. A pool its owner forgets to close is closed when the owner is collected, or
    at exit, by the process that opened it.
    """

    def __init__(self, dsn: str, pool_size: int | None = None) -> None:
        self.dsn = dsn
        self.url = redacted_url(dsn)
        info = conninfo_to_dict(dsn)
        self._conninfo = dsn if "connect_timeout" in info else make_conninfo(
            dsn, connect_timeout=CONNECT_TIMEOUT)
        self.pool_size = pool_size_setting(pool_size)
        self._pool: ConnectionPool[Connection] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._ready = False

    def connect(self) -> Connection:
        """A new autocommit connection of its own, outside the pool (the caller closes it).

        Raises ``ConnectionError`` if there is none to be had.
        """
        try:
            return psycopg.connect(self._conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"cannot connect to {self.url}: {first_line(exc)}") from None

    def pool(self) -> ConnectionPool[Connection]:
        """This process's pool, opened (and the tables made) on first use."""
        with self._lock:
            if self._pid != os.getpid():
                if self._pool is not None:
                    _FORKED_AWAY.append(self._pool)
                    self._forget_finalizer()
                self._pool, self._pid = None, os.getpid()
            if self._pool is None:
                if not self._ready:
                    with self.connect() as conn:
                        self._create_tables(conn)
                self._pool = ConnectionPool(
                    self._conninfo, kwargs={"autocommit": True}, min_size=1,
                    max_size=self.pool_size, timeout=POOL_TIMEOUT, num_workers=1,
                    name=f"geokb {self.url}", open=True)
                self._finalizer = weakref.finalize(self, _close_pool, self._pool, self._pid)
            return self._pool

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled connection of this thread's own until the block ends.

        Raises ``ConnectionError`` when no connection can be had in ``POOL_TIMEOUT``
        seconds or the server goes away while it is used.
        """
        for attempt in (1, 2):
            pool = self.pool()
            try:
                conn = pool.getconn()
                break
            except PoolTimeout:
                raise self._no_connection() from None
            except PoolClosed:  # closed by another thread since: take the next pool
                if attempt == 2:
                    raise DatabaseUnavailable(f"{self.url}: the connection pool was closed "
                                          "while waiting for it") from None
        try:
            yield conn
        except psycopg.OperationalError as exc:
            self._discard(pool)  # the server went away or restarted: all of them are stale
            raise DatabaseUnavailable(f"{self.url}: {first_line(exc)}") from exc
        finally:
            pool.putconn(conn)

    def _no_connection(self) -> ConnectionError:
        """Why the pool had no connection to give: the server's answer to a direct try, or
        every connection busy."""
        try:
            self.connect().close()
        except ConnectionError as exc:
            return exc
        return DatabaseUnavailable(f"{self.url}: all {self.pool_size} pooled connections stayed "
                               f"busy for {POOL_TIMEOUT} s (raise {POOL_SIZE_ENV})")

    def _create_tables(self, conn: Connection) -> None:
        with conn.transaction():
            conn.execute(_SCHEMA_LOCK)
            conn.execute(SCHEMA)
        self._ready = True

    def _discard(self, pool: ConnectionPool[Connection]) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
                self._forget_finalizer()
        pool.close(timeout=1.0)

    def _forget_finalizer(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None

    def close(self) -> None:
        """Close the pool and its connections (a later use opens a new one)."""
        with self._lock:
            pool, self._pool = self._pool, None
            self._forget_finalizer()
            if pool is not None and self._pid != os.getpid():
                _FORKED_AWAY.append(pool)
                return
        if pool is not None:
            pool.close()


def _close_pool(pool: ConnectionPool[Connection], pid: int) -> None:
    """Close ``pool`` if this is the process that opened it (a forked child leaves it be)."""
    if os.getpid() == pid:
        pool.close(timeout=1.0)
