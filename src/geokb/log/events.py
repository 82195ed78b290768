"""The events of the log: frozen dataclasses, no I/O.

An :class:`Event` is what a command wants to record (its type and payload). Once the
log has accepted it, it becomes a :class:`RecordedEvent`: it then has a position, a
transaction time, the agent who recorded it (as the writer claims: ``recorded_by``), who
the server authenticated for it if anyone (``verified_as``), and its place in the
hash chain.

Payloads are plain JSON-ready dictionaries whose shape is fixed per event type (see
``docs/events.md``); :mod:`geokb.log.schemas` checks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 2
#: The schema versions this geokb reads: v1 lines stay in logs for ever (never rewritten).
SUPPORTED_SCHEMAS = (1, 2)

SOURCE_REGISTERED = "SourceRegistered"
ENTITY_DECLARED = "EntityDeclared"
CLAIM_ASSERTED = "ClaimAsserted"
CLAIM_RETRACTED = "ClaimRetracted"
CLAIM_SUPERSEDED = "ClaimSuperseded"
GRAPH_UPDATED = "GraphUpdated"
CLAIMS_LINKED = "ClaimsLinked"
ENTITY_AMENDED = "EntityAmended"
SOURCE_RETRACTED = "SourceRetracted"

EVENT_TYPES = (
    SOURCE_REGISTERED,
    ENTITY_DECLARED,
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    GRAPH_UPDATED,
    CLAIMS_LINKED,
    ENTITY_AMENDED,
    SOURCE_RETRACTED,
)

#: Event types that exist only from schema 2 on: a v1 line of one of them is invalid.
V2_EVENT_TYPES = (CLAIMS_LINKED, ENTITY_AMENDED, SOURCE_RETRACTED)

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Event:
    """An event a command wants to append: its type and its payload."""

    type: str
    payload: dict[str, Any]
    idempotency_key: str | None = None
    #: who the server authenticated for this write (a bearer token's name), apart from
    #: ``recorded_by`` (who the writer says it is); ``None``: nobody was (a local write)
    verified_as: str | None = None


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
    #: the envelope's optional ``verified_as`` (see :class:`Event`); absent from every
    #: line written before geokb knew it, which stay valid as they are
    verified_as: str | None = None
