"""The pyoxigraph projection store: applies events, keeps its position, answers SPARQL.

Every event becomes visible whole: additions go in with one transactional ``extend``,
events that also remove quads go in as one SPARQL update (``DELETE DATA`` + ``INSERT
DATA``), and the position of the last applied event travels in the same transaction.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
    marker_line,
    needs_state,
    parse_lines,
    parse_marker,
    quads_for,
)
from .vocab import FACTUAL_MODALITIES, GK, term_value

BATCH_QUADS = 20_000


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


def _lines_of(event: RecordedEvent) -> list[str]:
    """``quads_for(event)``, with a malformed payload reported as :class:`InvalidEvent`."""
    try:
        return quads_for(event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidEvent(f"event at position {event.position} ({event.type}) has a "
                           f"malformed payload: {exc!r}") from exc


class _Loader:
    """Loads batches (data + the new position, one transaction each), one in flight.

    While a batch loads on the worker thread the caller prepares the next one; the last
    (or only) batch is loaded inline, so a small append starts no thread.
    """

    def __init__(self, store: ProjectionStore) -> None:
        self.store = store
        self.pool: ThreadPoolExecutor | None = None
        self.inflight: tuple[Future[None], RecordedEvent] | None = None
        self.submitted = store.position
        # The first build of an on-disk projection bulk-loads (several times faster, not
        # transactional) and records its position only with the last batch; a build cut
        # short leaves no position, and the next open starts it over.
        self.bulk = store.path is not None and store.position == 0

    def submit(self, pending: list[str], last: RecordedEvent | None, *,
               final: bool = False) -> None:
        if last is None or last.position <= self.submitted:
            return
        bulk = self.bulk and not final
        if not bulk:
            pending.append(marker_line(last.position, last.hash))
        data = ("\n".join(pending) + "\n").encode("utf-8")
        self.settle()
        self.submitted = last.position
        if final:
            self.store._load(data, last.position)
            self._done(last)
            return
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="geokb-load")
        self.inflight = (self.pool.submit(self.store._load, data, last.position, bulk=bulk),
                         last)

    def _done(self, last: RecordedEvent) -> None:
        self.store._set_position(last)
        self.store._drop_old_markers()

    def settle(self) -> None:
        """Wait for the batch in flight; then the store's position is its last event's."""
        if self.inflight is None:
            return
        future, last = self.inflight
        self.inflight = None
        future.result()
        self._done(last)

    def close(self) -> None:
        try:
            self.settle()
        finally:
            if self.pool is not None:
                self.pool.shutdown()


class ProjectionStore:
    """The RDF projection: in memory by default, or on disk at ``path``."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.store = ox.Store(str(path)) if path is not None else ox.Store()
        self.position, self.head_hash = parse_marker(
            self.store.quads_for_pattern(SYSTEM_NODE, APPLIED, None, SYSTEM_GRAPH))
        if self.position == 0 and next(iter(self.store), None) is not None:
            # an initial bulk build was cut short (no position recorded yet): start over
            self.store.clear()

    # -- writing ----------------------------------------------------------------------

    def apply(self, events: Iterable[RecordedEvent]) -> int:
        """Apply ``events`` in order; returns how many were applied.

        Events the projection already holds are skipped (catch-up overlap). Batches are
        loaded by a worker thread while the next batch is prepared (pyoxigraph releases
        the GIL while it parses), one batch in flight at a time. Raises
        :class:`InvalidEvent` if an event is out of order, malformed, or refers to a claim
        the projection does not hold (a log that skipped validation).
        """
        loader = _Loader(self)
        pending: list[str] = []
        expected = self.position + 1
        count = 0
        last: RecordedEvent | None = None
        try:
            for event in events:
                if event.position < expected:
                    continue
                if event.position > expected:
                    raise InvalidEvent(f"event at position {event.position} applied out of "
                                       f"order (projection at {expected - 1})")
                if needs_state(event):
                    loader.submit(pending, last)
                    pending = []
                    loader.settle()
                    self._apply_stateful(event)
                    # it recorded its position: bulk batches after it would sit above that
                    # position on disk if a kill came before the next one
                    loader.bulk = False
                    # a position is on disk now: a later bulk batch (no position of its
                    # own) cut short by a crash would sit above it, unaccounted for
                    loader.bulk = False
                else:
                    pending.extend(_lines_of(event))
                    if len(pending) >= BATCH_QUADS:
                        loader.submit(pending, event)
                        pending = []
                expected += 1
                count += 1
                last = event
            loader.submit(pending, last, final=True)
        finally:
            loader.close()
        return count

    def _set_position(self, event: RecordedEvent) -> None:
        self.position, self.head_hash = event.position, event.hash

    def _drop_old_markers(self) -> None:
        for q in list(self.store.quads_for_pattern(SYSTEM_NODE, APPLIED, None, SYSTEM_GRAPH)):
            if term_value(q.object).partition(" ")[0] != str(self.position):
                self.store.remove(q)

    def _load(self, data: bytes, position: int, *, bulk: bool = False) -> None:
        try:
            if bulk:
                self.store.bulk_load(data, format=ox.RdfFormat.N_QUADS)
            else:
                self.store.load(data, format=ox.RdfFormat.N_QUADS)
        except SyntaxError as exc:
            raise InvalidEvent(f"events up to position {position} give invalid RDF: "
                               f"{exc}") from exc

    def _apply_stateful(self, event: RecordedEvent) -> None:
        """Apply an event that removes quads, with its position, in one SPARQL update."""
        removals: list[Quad]
        additions = parse_lines(_lines_of(event))
        if event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            removals = self._unsupported_after_ending(NamedNode(event.payload["claim"]))
        elif event.type == GRAPH_UPDATED:
            removals = parse_nquads(event.payload["delete"])
            additions += parse_nquads(event.payload["insert"])
        else:  # pragma: no cover - needs_state() lists exactly these
            raise AssertionError(event.type)
        additions += parse_lines([marker_line(event.position, event.hash)])
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
