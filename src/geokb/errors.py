"""The one tree of domain errors.

Every error a user can cause is a :class:`GeoKBError`; the front doors translate them at
one edge each — :mod:`geokb.http.problems` to an HTTP status and a problem-JSON body,
:mod:`geokb.cli.errors` to an exit code and one line on stderr. Anything else that escapes
is a bug and stays a 500 (HTTP) or a traceback with exit code 3 (CLI).

>>> issubclass(BadTime, InvalidRequest) and issubclass(InvalidRequest, GeoKBError)
True
"""

from __future__ import annotations


class GeoKBError(Exception):
    """Base of every domain error; front doors translate these into exit codes and 4xx."""


class InvalidRequest(GeoKBError):
    """A request's parameters are malformed (before any event or query is involved)."""


class BadTime(InvalidRequest):
    """An ``as_of`` (log position or UTC time) or ``valid_at`` (a date) cannot be read."""


class TooLarge(InvalidRequest):
    """A request, file or value is over a size limit."""


class InvalidEvent(GeoKBError):
    """An event (or the command that makes it) is malformed or breaks a rule of the log."""


class InvalidClaimFile(InvalidEvent):
    """A claim file breaks rules: ``problems`` holds every one of them, one line each
    (``FILE:LINE: claim <id>: message``); the message is those lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class ModelViolation(InvalidEvent):
    """A write would break the evidence model: a statement with no claim behind it, a
    claim's graph or record changed outside its events, a supersession across entities
    with no reason given for it."""


class StillAsserted(ModelViolation):
    """A write would remove what a live claim still asserts: retract or supersede it."""


class ShapeViolation(GeoKBError):
    """An event's graph does not conform to the SHACL shapes."""

    def __init__(self, message: str, results: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.results = results or []


class AppendConflict(GeoKBError):
    """The log moved on since the writer read it: ``expected_position`` is stale."""

    def __init__(self, expected: int, actual: int, *, tries: int = 1,
                 seconds: float | None = None) -> None:
        message = f"append conflict: expected log position {expected}, log is at {actual}"
        if tries > 1:  # an append without an expected position that kept losing the race
            message += (f" (gave up after {tries} tries in {seconds or 0:.1f} s: other writers "
                        "kept appending first; raise GEOKB_APPEND_DEADLINE to wait longer)")
        super().__init__(message)
        self.expected = expected
        self.actual = actual
        self.tries = tries


class CorruptLog(GeoKBError):
    """A stored event cannot be read or breaks the hash chain; names the file and line."""

    def __init__(self, message: str, *, path: str = "", line: int = 0) -> None:
        # a log at a URL (PostgreSQL) names the event by its seq: postgresql://host/db#seq=7
        where = (f"{path}#seq={line}: " if "://" in path else f"{path}:{line}: ") if path else ""
        super().__init__(f"{where}{message}")
        self.path = path
        self.line = line
        self.detail = message


class NotFound(GeoKBError):
    """An entity, claim, source or event that the command names does not exist."""


class Ambiguous(GeoKBError):
    """A name matches more than one entity."""

    def __init__(self, name: str, candidates: list[tuple[str, str]]) -> None:
        listed = "; ".join(f"{label} <{iri}>" for iri, label in candidates)
        super().__init__(f"{name!r} is ambiguous: {listed}")
        self.candidates = candidates


class QueryError(GeoKBError):
    """A SPARQL query or update cannot be parsed or evaluated."""


class QueryRefused(QueryError):
    """A query or update asks for something this KB does not allow (SERVICE, LOAD, …)."""


class QueryBudgetExceeded(GeoKBError):
    """A query ran past its time budget or its memory budget and was stopped (its worker
    killed). ``budget`` is ``"time"`` (``limit`` in seconds) or ``"memory"`` (bytes)."""

    def __init__(self, message: str, *, budget: str, limit: float) -> None:
        super().__init__(message)
        self.budget = budget
        self.limit = limit


class OntologyError(GeoKBError):
    """The ontology or shapes files cannot be read (exit code 2: could not run)."""


class UnsupportedShapes(GeoKBError):
    """The shapes use a SHACL feature the compiled engine does not implement (use pySHACL)."""


class SettingsError(GeoKBError):
    """A setting (usually from the environment) cannot be read."""


class Unavailable(GeoKBError):
    """A backend the KB needs cannot be reached or written (database down, disk full)."""


class NotDurable(Unavailable):
    """Events were written and are committed (readers see them), but the disk did not
    confirm them (``fsync`` failed): a power loss may still lose them. A retry with the
    same idempotency key is answered with them, not written again."""

    def __init__(self, message: str, *, first: int, last: int) -> None:
        super().__init__(message)
        self.first = first
        self.last = last


class StorageFull(Unavailable):
    """The disk (or quota) holding the KB is full (ENOSPC, EDQUOT): nothing was written."""


class StorageReadOnly(Unavailable):
    """The KB's files cannot be written (EROFS, EACCES, EPERM): nothing was written."""


class DatabaseUnavailable(Unavailable, ConnectionError):
    """The database cannot be reached, or went away while it was used. Also a
    ``ConnectionError``, which is what code that waits for it to come back catches."""
