"""What one invocation was given (``--kb``, ``--as``, …) and the KB it opens.

The root callback puts a :class:`Session` on the click context (``ctx.obj``); commands
take ``ctx: typer.Context`` and reach it through :func:`session`. Nothing is kept at module
level, so two runs of ``app`` in one process (typer's ``CliRunner``) never see each other's
options.
"""

from __future__ import annotations

import gc
import os
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from geokb.cli.progress import Bars
from geokb.errors import SettingsError, Unavailable

if TYPE_CHECKING:
    from geokb.kb import KnowledgeBase, Progress

PG_SCHEMES = ("postgresql://", "postgres://")
#: The projection's default place in the KB directory (git-ignored).
PROJECTION_DIR = ".projection"


def default_agent() -> str:
    return "cli:" + (os.environ.get("USER") or "unknown")


@dataclass
class Session:
    """The global options of one invocation, and what it opened."""

    kb_dir: Path
    projection: str | None = None
    agent: str = field(default_factory=default_agent)
    log: str | None = None
    progress: bool = False
    in_memory: bool = False
    _frozen: bool = False

    @property
    def ingest_agent(self) -> str | None:
        """Who records an ingest: ``--as``, unless it is a ``cli:`` one (the default),
        which lets the claim file's own ``recorded_by`` count."""
        return None if self.agent.startswith("cli:") else self.agent

    def bars(self) -> AbstractContextManager[Progress | None]:
        """Progress bars on stderr for one operation (None when they are off)."""
        return Bars(enabled=self.progress)

    def open_kb(self) -> KnowledgeBase:
        """The KB, caught up with its log (with a progress bar). Raises
        :class:`Unavailable` (exit 2) when there is none."""
        from geokb.kb import KnowledgeBase

        log, texts = self.backends()
        if log is None and not self.kb_dir.is_dir():
            raise Unavailable(f"no knowledge base at {self.kb_dir}/ (run 'geokb init' or "
                              "pass --kb)")
        with self.bars() as progress:
            kb = KnowledgeBase(self.kb_dir, projection_path=self.projection_place(), log=log,
                               texts=texts, progress=progress)
        # What is loaded now (ontology, shapes, compiled engine, the replayed log's objects)
        # lives as long as the command: keep it out of every later garbage-collection pass,
        # which otherwise costs about a quarter of a validated write (docs/benchmarks.md).
        gc.freeze()
        self._frozen = True
        return kb

    def projection_place(self) -> Path | None:
        """Where the projection lives on disk: ``--projection``, else ``.projection/`` in
        the KB directory (git-ignored) for a file log; ``None`` (in memory, replayed at
        each start) with ``--in-memory``, or for a ``--log`` database without
        ``--projection`` (one directory must not mix the projections of several logs)."""
        if self.in_memory:
            return None
        if self.projection is not None:
            return Path(self.projection)
        return self.kb_dir / PROJECTION_DIR if self.log is None else None

    def close(self) -> None:
        """At the end of the run: what it froze is collectable again (by the next run in
        the same process, e.g. under ``CliRunner``)."""
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    def open_kb_for_check(self) -> KnowledgeBase:
        """A KB object for checks: the log is read by the check itself, not replayed here."""
        from geokb.kb import KnowledgeBase

        log, texts = self.backends()
        if log is None and not self.kb_dir.is_dir():
            raise Unavailable(f"no knowledge base at {self.kb_dir}/")
        return KnowledgeBase(self.kb_dir, catch_up=False, log=log, texts=texts,
                             projection_path=self.projection)

    def open_kb_for_validate(self) -> KnowledgeBase:
        """A KB object for ``validate``: with its projection on disk, caught up, where one
        was built before (``validate --since`` starts from its checkpoints, and its views
        are checked too); none is built for it (the validation replays what it needs)."""
        from geokb.kb import projection_exists

        place = self.projection_place()
        if self.projection is None and place is not None and projection_exists(place):
            return self.open_kb()
        return self.open_kb_for_check()

    def backends(self) -> tuple[Any, Any]:
        """The log and source texts in the database --log names, or (None, None) for --kb's."""
        if self.log is None:
            return None, None
        pg = postgres_module(self.log)
        return pg.PostgresEventStore(self.log), pg.PostgresSourceTexts(self.log)

    def where(self) -> str:
        """The KB, for messages: the --kb directory or the --log database (no credentials)."""
        if self.log is None:
            return str(self.kb_dir)
        return str(postgres_module(self.log).redacted_url(self.log))


def postgres_module(url: str) -> Any:
    """:mod:`geokb.log.postgres`, for a ``postgresql://`` URL. Raises :class:`SettingsError`
    for any other URL and :class:`Unavailable` without psycopg (both exit 2)."""
    if not url.startswith(PG_SCHEMES):
        raise SettingsError(f"not a PostgreSQL URL: {url!r} (give postgresql://host/db)")
    try:
        from geokb.log import postgres
    except ImportError as exc:
        raise Unavailable("a PostgreSQL log needs psycopg: pip install 'geokb[postgres]'"
                          ) from exc
    return postgres


def session(ctx: typer.Context) -> Session:
    """The :class:`Session` of the running invocation (set by the root callback)."""
    found = ctx.find_object(Session)
    if found is None:  # pragma: no cover - the root callback always sets it
        raise RuntimeError("no geokb session: run the commands through geokb.cli.app")
    return found
