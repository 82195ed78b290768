"""Progress bars on stderr for the long operations (catch-up, rebuild, ingest, validate, …).

The KB reports progress through a plain callback, ``progress(stage, done, total)``
(:data:`geokb.kb.Progress`); :class:`Bars` draws one rich bar per stage. Bars are drawn
only when asked (``--progress``, ``GEOKB_PROGRESS=1``) or when stderr is a terminal, so
scripts and pipes see nothing extra; off, no callback is passed at all.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geokb.kb import Progress


def wanted(flag: bool | None) -> bool:
    """``--progress``/``--no-progress`` if given, else whether stderr is a terminal."""
    if flag is not None:
        return flag
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


class Bars:
    """A context manager giving the callback to pass to the KB (None when disabled)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> Progress | None:
        return self.report if self.enabled else None

    def report(self, stage: str, done: int, total: int) -> None:
        """Show that ``done`` of ``total`` steps of ``stage`` are done (total 0: unknown)."""
        if self._progress is None:
            self._start()
        task = self._tasks.get(stage)
        if task is None:
            task = self._tasks[stage] = self._progress.add_task(stage, total=total or None)
        self._progress.update(task, completed=done, total=total or None)

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        # the console is made now, on the stderr of this run (CliRunner swaps it)
        console = Console(file=sys.stderr, force_terminal=True)
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(),
                                  TimeRemainingColumn(), console=console, transient=True)
        self._progress.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
