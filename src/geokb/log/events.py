"""The events of the log: frozen dataclasses, no I/O.

An :class:`Event` is what a command wants to record (its type and payload). Once the
log has accepted it, it becomes a :class:`RecordedEvent`: it then has a position, a
transaction time, the agent who recorded it, and its place in the hash chain.

Payloads are plain JSON-ready dictionaries whose shape is fixed per event type (see
``docs/events.md``); :mod:`geokb.log.codec` checks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1

SOURCE_REGISTERED = "SourceRegistered"
ENTITY_DECLARED = "EntityDeclared"
CLAIM_ASSERTED = "ClaimAsserted"
CLAIM_RETRACTED = "ClaimRetracted"
CLAIM_SUPERSEDED = "ClaimSuperseded"
GRAPH_UPDATED = "GraphUpdated"

EVENT_TYPES = (
    SOURCE_REGISTERED,
    ENTITY_DECLARED,
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    GRAPH_UPDATED,
)

GENESIS_HASH = "0" * 64


class GeoKBError(Exception):
    """Base of every domain error; front doors translate these into exit codes and 4xx."""


class InvalidEvent(GeoKBError):
    """An event (or the command that makes it) is malformed or breaks a rule of the log."""


class ShapeViolation(GeoKBError):
    """An event's graph does not conform to the SHACL shapes."""

    def __init__(self, message: str, results: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.results = results or []


class AppendConflict(GeoKBError):
    """The log moved on since the writer read it: ``expected_position`` is stale."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"append conflict: expected log position {expected}, log is at {actual}")
        self.expected = expected
        self.actual = actual


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


@dataclass(frozen=True)
class Event:
    """An event a command wants to append: its type and its payload."""

    type: str
    payload: dict[str, Any]
    idempotency_key: str | None = None


@dataclass(frozen=True)
class RecordedEvent:
    """An event as the log holds it."""

    id: str
    type: str
    schema: int
    position: int
    recorded_at: str
    recorded_by: str
    payload: dict[str, Any]
    prev: str
    hash: str
    idempotency_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
