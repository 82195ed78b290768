"""What the answers read from one projection remember between calls.

An :class:`AnswerMemo` belongs to one :class:`~geokb.kb.KnowledgeBase` (through its
:class:`~geokb.read.reader.Reader`), never to the process: two KBs in one process share
nothing. What answers share (labels, sources, the claims about an entity) is kept for the
projection's current log position only; every change of the projection moves the
position, so nothing remembered outlives what it describes. The name index (label or
alias → IRIs) follows the projection event by event instead (see
:mod:`geokb.read.entities`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pyoxigraph import NamedNode

#: Entities whose ordered claims are remembered per log position.
REMEMBERED_ENTITIES = 256
#: Labels and sources remembered per log position (forgotten all at once past this).
REMEMBERED_TERMS = 100_000


class Found(NamedTuple):
    """A claim about an entity with what the time filters and the order need."""

    claim: NamedNode
    known_from: int
    known_until: int | None
    world: str  # its valid-time start (else end) as written, "9999" if unknown
    status: bool  # the entity is its subject and gk:status its predicate


@dataclass
class PositionMemo:
    """Facts shared by the answers read at one log position."""

    position: int
    labels: dict[str, str | None] = field(default_factory=dict)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)
    found: OrderedDict[str, list[Found]] = field(default_factory=OrderedDict)
    # claim IRI -> (judged ClaimTimes, ReportedTime | None) of geokb.read.beliefs
    claim_times: dict[str, Any] = field(default_factory=dict)
    # (subject IRI, property IRI, as_of, single-valued properties) -> Conflict | None
    conflicts: dict[tuple[str, str, int | None, frozenset[str]], Any] = field(
        default_factory=dict)


@dataclass
class NameIndex:
    """Labelled IRIs by lower-cased label and alias, as of the store's ``position``.

    Whether an IRI is a declared entity (and was at ``as_of``) is checked on lookup.
    """

    position: int
    by_name: dict[str, set[str]] = field(default_factory=dict)
    names_of: dict[str, set[str]] = field(default_factory=dict)

    def put(self, iri: str, names: set[str]) -> None:
        for name in self.names_of.pop(iri, set()):
            holders = self.by_name.get(name)
            if holders is not None:
                holders.discard(iri)
                if not holders:
                    del self.by_name[name]
        if names:
            self.names_of[iri] = names
            for name in names:
                self.by_name.setdefault(name, set()).add(iri)


class AnswerMemo:
    """The memory of one projection's answers: the facts of its current position, and
    its name index (guarded by :attr:`lock` while it is brought up to date)."""

    def __init__(self) -> None:
        self._at = PositionMemo(-1)
        self.names: NameIndex | None = None
        self.lock = threading.Lock()

    def at(self, position: int) -> PositionMemo:
        """The facts remembered for ``position``; a new, empty set once it has moved."""
        memo = self._at
        if memo.position != position:
            memo = self._at = PositionMemo(position)
        return memo
