"""THE one table from error to exit code, applied at one edge (:class:`GeoKBGroup`).

Commands raise domain errors (:mod:`geokb.errors`) and never catch them; the root group's
``invoke`` — the one path every run takes, from ``geokb`` on a terminal or from typer's
``CliRunner`` — turns what escapes into one line on stderr and an exit code:

>>> from geokb.errors import BadTime
>>> exit_code_for(BadTime("as-of 'x'")), exit_code_for(OntologyError("bad Turtle"))
(1, 2)
>>> exit_code_for(KeyError("x")) is None  # a bug: traceback, exit 3
True
>>> one_line(ValueError("first\\n   second"))
'first second'
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup

from geokb.errors import (
    AppendConflict,
    DatabaseUnavailable,
    GeoKBError,
    OntologyError,
    SettingsError,
    StorageFull,
    StorageReadOnly,
    Unavailable,
    UnsupportedShapes,
)


@dataclass(frozen=True)
class ExitCode:
    code: int
    name: str
    meaning: str


OK = ExitCode(0, "ok", "the command did what it was asked; a check found nothing wrong")
WRONG = ExitCode(1, "wrong input or content", "the input or the KB's content is wrong (a "
                 "domain error), or a check (`validate`, `verify`, `check`, `rebuild --expect`) "
                 "found a problem: fix the input or the KB")
CANNOT_RUN = ExitCode(2, "could not run", "the command could not run: a bad command line "
                      "(click's usage errors), no or an unreadable KB, ontology, shapes or "
                      "setting, or a backend that is unavailable: fix the environment")
BUG = ExitCode(3, "bug", "a bug in geokb: the traceback is printed; please report it")
CONFLICT = ExitCode(4, "conflict", "another writer appended to the log first, more often than "
                    "the command retries: run it again")
INTERRUPTED = ExitCode(130, "interrupted", "stopped by Ctrl-C (SIGINT); an append is whole "
                       "or absent")

OVER_BUDGET = ExitCode(5, "over budget", "a check (`check --timeout`) ran past its time "
                      "budget and was stopped: make it use the indexes, or give it more time")

EXIT_CODES: tuple[ExitCode, ...] = (OK, WRONG, CANNOT_RUN, BUG, CONFLICT, OVER_BUDGET,
                                    INTERRUPTED)


class CheckFailed(GeoKBError):
    """A check the command ran did not hold (e.g. ``rebuild --expect`` got another hash)."""


#: THE table: an error class → its exit code; an error takes the entry of its most specific
#: class (its MRO), so a subclass can be given a code of its own without reordering.
TABLE: Mapping[type[BaseException], ExitCode] = {
    GeoKBError: WRONG,  # InvalidRequest, BadTime, TooLarge, InvalidEvent, ShapeViolation,
    # NotFound, Ambiguous, QueryError, QueryRefused, CorruptLog, CheckFailed
    AppendConflict: CONFLICT,
    OntologyError: CANNOT_RUN,
    UnsupportedShapes: CANNOT_RUN,
    SettingsError: CANNOT_RUN,
    Unavailable: CANNOT_RUN,
    # as Unavailable, named so the table says it: nothing was written; fix the environment
    StorageFull: CANNOT_RUN,  # "the disk holding kb/ is full (...); nothing was appended"
    StorageReadOnly: CANNOT_RUN,  # "kb/ is read-only (...)"
    DatabaseUnavailable: CANNOT_RUN,  # "cannot connect to postgresql://..."
    # pyoxigraph's parse errors; until the KB turns them into QueryError, here they are
    SyntaxError: WRONG,
    OSError: CANNOT_RUN,  # a file of the KB that cannot be read or written
}


def exit_code_for(exc: BaseException) -> int | None:
    """The exit code of ``exc`` by :data:`TABLE`, or None for a bug."""
    for cls in type(exc).__mro__:
        if cls in TABLE:
            return TABLE[cls].code
    return None


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (parser messages span several)."""
    if isinstance(exc, SyntaxError) and not isinstance(exc, GeoKBError):
        text = f"SPARQL syntax error: {exc}"
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename or ''}".rstrip(": ")
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def translate(exc: Exception) -> typer.Exit:
    """Report ``exc`` on stderr; the exit to raise in its place."""
    code = exit_code_for(exc)
    if code is None:
        traceback.print_exception(exc, file=sys.stderr)
        typer.echo(f"geokb: internal error (a bug, please report it): {one_line(exc)}", err=True)
        return typer.Exit(BUG.code)
    typer.echo(f"geokb: error: {one_line(exc)}", err=True)
    return typer.Exit(code)


class GeoKBGroup(TyperGroup):
    """The root command group: the one edge where errors become exit codes."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # an exit a command chose, usage errors: typer reports them itself
        except KeyboardInterrupt:
            typer.echo("geokb: interrupted", err=True)
            raise typer.Exit(INTERRUPTED.code) from None
        except Exception as exc:
            raise translate(exc) from exc
