"""How the server runs: :class:`Settings` (write tokens, limits, CORS) and reading them
from ``GEOKB_*`` environment variables.

>>> Settings.from_env(environ={"GEOKB_MAX_ROWS": "50"}).max_rows
50
>>> Settings.from_env(environ={"GEOKB_MAX_ROWS": "many"})
Traceback (most recent call last):
...
geokb.errors.SettingsError: GEOKB_MAX_ROWS='many' is not a number
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geokb.errors import SettingsError

STATIC_DIR = Path(__file__).resolve().parent / "static"
_TOKEN_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
#: The names a browser uses for this machine: a page of another name (DNS rebinding) is refused.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


@dataclass(frozen=True)
class Settings:
    """How the server runs: write tokens, limits, CORS. Tokens never appear in ``repr``."""

    tokens: Mapping[str, str] = field(default_factory=dict, repr=False)
    query_timeout: float = 30.0
    max_rows: int = 100_000
    max_body_bytes: int = 1_048_576
    cors_origins: tuple[str, ...] = ()
    allow_service: bool = False
    query_slots: int = 8
    stream_poll_seconds: float = 0.2
    stream_heartbeat_seconds: float = 15.0
    sparql_prefixes: bool = True
    static_dir: Path = STATIC_DIR
    cache_entries: int = 2048
    #: Host header names answered (``*`` answers any); ``geokb serve`` adds its ``--host``.
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    # connection limits of ``geokb serve`` (geokb.http.limits; docs/http.md "Limits")
    header_timeout: float = 10.0
    body_timeout: float = 20.0
    body_min_rate: int = 500
    keepalive_timeout: float = 5.0
    max_header_bytes: int = 65_536
    max_headers: int = 100
    max_connections: int = 256
    backlog: int = 128
    # queries that are not cheap by construction run in killable worker processes
    query_workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    query_memory_mb: int = 1024  # per worker, beyond what the server had at the fork
    query_isolation: bool = True

    @classmethod
    def from_env(cls, *, token: str | None = None,
                 environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``GEOKB_*`` variables; ``token`` becomes the token named "default".

        ``GEOKB_TOKENS="name1:secret1,name2:secret2"`` adds named tokens; ``GEOKB_QUERY_TIMEOUT``
        (seconds), ``GEOKB_MAX_ROWS``, ``GEOKB_MAX_BODY_BYTES``, ``GEOKB_QUERY_SLOTS``,
        ``GEOKB_CACHE_ENTRIES`` (answers kept per log position), ``GEOKB_CORS_ORIGINS``
        (comma-separated) and ``GEOKB_ALLOW_SERVICE=1`` set the rest; ``GEOKB_ALLOWED_HOSTS``
        and the connection limits (``GEOKB_HEADER_TIMEOUT``, …) are listed in docs/http.md.
        Query workers:
        ``GEOKB_QUERY_WORKERS`` (at most this many at once; default: the cores),
        ``GEOKB_QUERY_MEMORY_MB`` (each one's memory budget) and ``GEOKB_QUERY_ISOLATION=0``
        (evaluate every query in-process, unstoppable, as before).
        Raises :class:`SettingsError` naming the variable (never a secret).
        """
        env = os.environ if environ is None else environ
        tokens: dict[str, str] = {}
        if token:
            tokens["default"] = token
        for index, entry in enumerate(filter(None, (e.strip() for e in
                                                   env.get("GEOKB_TOKENS", "").split(","))), 1):
            name, sep, secret = entry.partition(":")
            if not sep or not secret or not _TOKEN_NAME.match(name):
                raise SettingsError(f"GEOKB_TOKENS entry {index}: write name:secret, the name of "
                                    "letters, digits, '.', '_' or '-'")
            tokens[name] = secret

        def number(name: str, default: float, kind: Callable[[str], float]) -> Any:
            raw = env.get(name)
            if raw is None or not raw.strip():
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise SettingsError(f"{name}={raw!r} is not a number") from None
            if value <= 0:
                raise SettingsError(f"{name} must be positive")
            return value

        origins = tuple(o.strip() for o in env.get("GEOKB_CORS_ORIGINS", "").split(",")
                        if o.strip())
        return cls(
            tokens=tokens,
            query_timeout=number("GEOKB_QUERY_TIMEOUT", cls.query_timeout, float),
            max_rows=number("GEOKB_MAX_ROWS", cls.max_rows, int),
            max_body_bytes=number("GEOKB_MAX_BODY_BYTES", cls.max_body_bytes, int),
            query_slots=number("GEOKB_QUERY_SLOTS", cls.query_slots, int),
            cache_entries=number("GEOKB_CACHE_ENTRIES", cls.cache_entries, int),
            cors_origins=origins,
            allow_service=env.get("GEOKB_ALLOW_SERVICE", "").lower() in ("1", "true", "yes"),
            allowed_hosts=hosts_setting(env.get("GEOKB_ALLOWED_HOSTS")),
            header_timeout=number("GEOKB_HEADER_TIMEOUT", cls.header_timeout, float),
            body_timeout=number("GEOKB_BODY_TIMEOUT", cls.body_timeout, float),
            body_min_rate=number("GEOKB_BODY_MIN_RATE", cls.body_min_rate, int),
            keepalive_timeout=number("GEOKB_KEEPALIVE_TIMEOUT", cls.keepalive_timeout, float),
            max_header_bytes=number("GEOKB_MAX_HEADER_BYTES", cls.max_header_bytes, int),
            max_headers=number("GEOKB_MAX_HEADERS", cls.max_headers, int),
            max_connections=number("GEOKB_MAX_CONNECTIONS", cls.max_connections, int),
            backlog=number("GEOKB_BACKLOG", cls.backlog, int),
            query_workers=number("GEOKB_QUERY_WORKERS", os.cpu_count() or 2, int),
            query_memory_mb=number("GEOKB_QUERY_MEMORY_MB", cls.query_memory_mb, int),
            query_isolation=env.get("GEOKB_QUERY_ISOLATION", "1").lower()
            not in ("0", "false", "no"),
        )


def hosts_setting(raw: str | None) -> tuple[str, ...]:
    """``GEOKB_ALLOWED_HOSTS`` (comma-separated names, ``*.example.org``, or ``*``); unset or
    empty: the loopback names. Raises :class:`SettingsError` for a malformed pattern.

    >>> hosts_setting("kb.example.org, *.lan")
    ('kb.example.org', '*.lan')
    >>> hosts_setting(None)
    ('localhost', '127.0.0.1', '[::1]')
    """
    names = tuple(h.strip().lower() for h in (raw or "").split(",") if h.strip())
    for name in names:
        if "*" in name[1:] or (name.startswith("*") and name != "*"
                               and not name.startswith("*.")):
            raise SettingsError(f"GEOKB_ALLOWED_HOSTS: {name!r}: a wildcard is '*' or "
                                "'*.example.org'")
    return names or LOOPBACK_HOSTS
