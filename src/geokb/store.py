"""The pyoxigraph projection store: applies events, keeps its position, answers SPARQL.

Every event becomes visible whole: additions go in with one transactional ``extend``,
events that also remove quads go in as one SPARQL update (``DELETE DATA`` + ``INSERT
DATA``), and the position of the last applied event travels in the same transaction.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad

from .events import (
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    GRAPH_UPDATED,
    InvalidEvent,
    RecordedEvent,
)
from .projection import (
    APPLIED,
    DEFAULT,
    SYSTEM_GRAPH,
    SYSTEM_NODE,
    marker_quad,
    needs_state,
    parse_marker,
    quads_for,
)
from .vocab import FACTUAL_MODALITIES, GK, term_value

BATCH_QUADS = 50_000


def _term(t: Any) -> str:
    return str(t)


def _data_block(quads: Sequence[Quad]) -> str:
    default: list[str] = []
    named: dict[str, list[str]] = {}
    for q in quads:
        triple = f"{_term(q.subject)} {_term(q.predicate)} {_term(q.object)} ."
        if isinstance(q.graph_name, DefaultGraph):
            default.append(triple)
        else:
            named.setdefault(_term(q.graph_name), []).append(triple)
    parts = default + [f"GRAPH {g} {{ {' '.join(ts)} }}" for g, ts in named.items()]
    return "\n".join(parts)


def parse_nquads(lines: Iterable[str]) -> list[Quad]:
    """Parse N-Quads lines; raises :class:`InvalidEvent` with the parser's message."""
    text = "\n".join(lines)
    if not text.strip():
        return []
    try:
        return list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS))
    except SyntaxError as exc:
        raise InvalidEvent(f"invalid N-Quads: {exc}") from exc


class ProjectionStore:
    """The RDF projection: in memory by default, or on disk at ``path``."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.store = ox.Store(str(path)) if path is not None else ox.Store()
        self.position, self.head_hash = parse_marker(
            self.store.quads_for_pattern(SYSTEM_NODE, APPLIED, None, SYSTEM_GRAPH))

    # -- writing ----------------------------------------------------------------------

    def apply(self, events: Iterable[RecordedEvent]) -> int:
        """Apply ``events`` in order; returns how many were applied.

        Raises :class:`InvalidEvent` if an event is out of order or refers to a claim the
        projection does not hold (a log that skipped validation).
        """
        pending: list[Quad] = []
        count = 0
        last: RecordedEvent | None = None
        for event in events:
            if event.position != self.position + count + 1:
                if event.position <= self.position + count:
                    continue  # already applied (catch-up overlap)
                raise InvalidEvent(f"event at position {event.position} applied out of order "
                                   f"(projection at {self.position + count})")
            if needs_state(event):
                self._flush(pending, last)
                pending = []
                self._apply_stateful(event)
            else:
                pending.extend(quads_for(event))
                if len(pending) >= BATCH_QUADS:
                    self._flush(pending, event)
                    pending = []
            count += 1
            last = event
        self._flush(pending, last)
        return count

    def _set_position(self, event: RecordedEvent) -> None:
        self.position, self.head_hash = event.position, event.hash

    def _drop_old_markers(self) -> None:
        for q in list(self.store.quads_for_pattern(SYSTEM_NODE, APPLIED, None, SYSTEM_GRAPH)):
            if term_value(q.object).partition(" ")[0] != str(self.position):
                self.store.remove(q)

    def _flush(self, pending: list[Quad], last: RecordedEvent | None) -> None:
        if last is None or last.position <= self.position:
            return
        self.store.extend([*pending, marker_quad(last.position, last.hash)])
        self._set_position(last)
        self._drop_old_markers()

    def _apply_stateful(self, event: RecordedEvent) -> None:
        removals: list[Quad]
        additions = quads_for(event)
        if event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            removals = self._unsupported_after_ending(NamedNode(event.payload["claim"]))
        elif event.type == GRAPH_UPDATED:
            removals = parse_nquads(event.payload["delete"])
            additions += parse_nquads(event.payload["insert"])
        else:  # pragma: no cover - needs_state() lists exactly these
            raise AssertionError(event.type)
        additions.append(marker_quad(event.position, event.hash))
        update = (f"DELETE DATA {{ {_data_block(removals)} }} ;\n"
                  f"INSERT DATA {{ {_data_block(additions)} }}")
        self.store.update(update)
        self._set_position(event)
        self._drop_old_markers()

    def _is_live_factual(self, claim: NamedNode) -> bool:
        if next(self.store.quads_for_pattern(claim, GK.knownUntilPosition, None, DEFAULT),
                None) is not None:
            return False
        return any(term_value(q.object) in FACTUAL_MODALITIES
                   for q in self.store.quads_for_pattern(claim, GK.modality, None, DEFAULT))

    def _unsupported_after_ending(self, claim: NamedNode) -> list[Quad]:
        """Current-view triples of ``claim`` that no other live factual claim states."""
        if next(self.store.quads_for_pattern(claim, GK.assertedIn, None, DEFAULT), None) is None:
            raise InvalidEvent(f"claim {claim.value} is not in the projection")
        out: list[Quad] = []
        for q in self.store.quads_for_pattern(None, None, None, claim):
            supported = False
            for other in self.store.quads_for_pattern(q.subject, q.predicate, q.object, None):
                g = other.graph_name
                if isinstance(g, DefaultGraph) or g == claim or not isinstance(g, NamedNode):
                    continue
                if self._is_live_factual(g):
                    supported = True
                    break
            if not supported:
                out.append(Quad(q.subject, q.predicate, q.object, DEFAULT))
        return out

    # -- reading ----------------------------------------------------------------------

    def query(self, sparql: str, **options: Any) -> Any:
        """Run a SPARQL query; raises ``SyntaxError`` (parse) or ``OSError`` (evaluation)."""
        return self.store.query(sparql, **options)

    def quads(self) -> Iterator[Quad]:
        """Every quad but those of the system graph."""
        for q in self.store:
            if q.graph_name != SYSTEM_GRAPH:
                yield q

    def canonical_nquads(self) -> bytes:
        """The dataset as sorted N-Quads lines (no blank nodes, so this is canonical)."""
        lines = sorted(f"{q} .\n" for q in self.quads())
        return "".join(lines).encode("utf-8")

    def canonical_hash(self) -> str:
        return hashlib.sha256(self.canonical_nquads()).hexdigest()

    def size(self) -> int:
        return len(self.store)

    def flush(self) -> None:
        if self.path is not None:
            self.store.flush()


def literal_int(term: Literal | None) -> int | None:
    return int(term.value) if term is not None else None
