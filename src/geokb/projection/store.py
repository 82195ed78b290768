"""The pyoxigraph projection store: applies events, keeps its position, answers SPARQL.

Every event becomes visible whole. Replay writes events in batches (see
:mod:`geokb.projection.batch`): a batch's quads and its position go in as one transactional N-Quads
load, its removals (retractions, supersessions) right after; an event that must be applied
alone (a ``GraphUpdated``) goes in as one SPARQL update (``DELETE DATA`` + ``INSERT DATA``)
with its position.

Size: the store's write side (apply, batches, recovery after a crash between a batch's two
steps, conflicts recomputed in the batch's last transaction) and its read API share the
one transactional store; split the read API out when it grows.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, Triple

from geokb.errors import InvalidEvent, QueryError, Unavailable
from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    ENTITY_AMENDED,
    GRAPH_UPDATED,
    RecordedEvent,
)
from geokb.projection import conflicts
from geokb.projection.batch import Batch, Loader, Seen, _nt, ended_removals, touched_claims
from geokb.projection.keys import Key
from geokb.projection.liveclaims import LiveClaims
from geokb.projection.quads import (
    APPLIED,
    BULK,
    DEFAULT,
    REDO,
    SYSTEM_GRAPH,
    SYSTEM_NODE,
    amendment_removals,
    literal,
    marker_quad,
    needs_state,
    parse_lines,
    parse_marker,
    quads_for,
    sparql_data,
)
from geokb.vocab import EVENT, term_value

#: Quads per batch (one load); up to four batches' worth wait for the worker thread.
BATCH_QUADS = 20_000
_SYSTEM = f"<{SYSTEM_GRAPH.value}>"
_HEX_ID = re.compile(r"[0-9a-f]{32}\Z")

Subject = NamedNode | BlankNode | Triple
Term = NamedNode | BlankNode | Literal | Triple
GraphName = NamedNode | BlankNode | DefaultGraph


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
    """``quads_for(event)``, with a malformed payload reported as :class:`InvalidEvent`.

    Batches load with pyoxigraph's lenient parser, which does not check IRIs again: every
    IRI of a payload was checked when the event was decoded or admitted
    (:func:`geokb.log.schemas.check_payload`), so only those made here from the event's id and
    claim are checked (a claim IRI with a fragment cannot take ``#evidence``).
    """
    try:
        if not _HEX_ID.match(event.id):
            NamedNode(EVENT.base + event.id)
        if event.type == CLAIM_ASSERTED and "#" in event.payload["claim"]:
            NamedNode(event.payload["claim"] + "#evidence")
        return quads_for(event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidEvent(f"event at position {event.position} ({event.type}) has a "
                           f"malformed payload: {exc!r}") from exc


class ProjectionStore:
    """The RDF projection: in memory by default, or on disk at ``path``.

    Callers read it through the methods under *reading* (pattern lookups, SPARQL); the
    pyoxigraph store itself stays inside :mod:`geokb.projection`. Pattern lookups follow
    pyoxigraph's ``quads_for_pattern``: ``None`` matches anything, and the graph is one
    of :data:`~geokb.projection.quads.DEFAULT` (the current view), a claim's graph, or
    ``None`` for every graph but the projection's own system graph.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        #: opened read-only (another process holds the store): it cannot apply events, and
        #: ``consistent`` says whether it stands at a whole batch
        self.read_only = read_only and path is not None
        if path is None:
            self._store = ox.Store()
        else:
            self._store = ox.Store.read_only(str(path)) if self.read_only else ox.Store(str(path))
        # Only here are markers and notes looked for (on disk, removed quads leave
        # tombstones that a scan after every batch would wade through).
        markers = list(self._store.quads_for_pattern(SYSTEM_NODE, APPLIED, None, SYSTEM_GRAPH))
        self.position, self.head_hash = parse_marker(markers)
        self._marker: tuple[int, str] | None = None  # the marker in the store
        self._batching: tuple[Batch, list[Seen]] | None = None  # see _apply_stateful
        self._unfinished = False  # a batch's second step failed: see _finish_batch
        self._touched: set[str] | None = set()  # claims of bulk batches, conflicts pending
        self._bulk_noted = False  # the store holds BULK: see _write_batch
        #: the live claims of the keys batches touched (what the conflict rules read)
        self._live_claims = LiveClaims(self._store)
        self.consistent = True
        building = next(self._store.quads_for_pattern(SYSTEM_NODE, BULK, None, SYSTEM_GRAPH),
                        None) is not None
        if self.read_only:
            notes = self._store.quads_for_pattern(SYSTEM_NODE, REDO, None, SYSTEM_GRAPH)
            self.consistent = len(markers) <= 1 and next(notes, None) is None and (
                self.position > 0 or next(iter(self._store), None) is None) and not building
            return
        if building:
            # a first build was cut short while it bulk-loaded past a recorded position:
            # what the store holds above that position is not known, so start over
            self._store.clear()
            self.position, self.head_hash = 0, ""
            return
        if not self.position:
            if next(iter(self._store), None) is not None:
                # an initial bulk build was cut short (no position recorded yet): start over
                self._store.clear()
            return
        self._marker = (self.position, self.head_hash)
        self._finish_batch(markers)

    def _finish_batch(self, markers: Iterable[Quad]) -> None:
        """Finish a batch whose second step a kill (or an error) cut off: make the removals
        its note lists, and drop the marker before it."""
        unfinished = False
        for note in list(self._store.quads_for_pattern(SYSTEM_NODE, REDO, None, SYSTEM_GRAPH)):
            text = term_value(note.object)
            self._store.update(f"DELETE DATA {{ {sparql_data(text.splitlines())}\n"
                              f"GRAPH {_SYSTEM} {{ {_system_triple(REDO, text)} }} }}")
            unfinished = True
        for q in markers:
            if q != marker_quad(self.position, self.head_hash):
                self._store.remove(q)
                unfinished = True
        if unfinished:  # which keys the batch touched is not kept: recompute them all
            self._replace_conflicts(conflicts.keys_of(self._store, None), [], [], None)
        self._unfinished = False

    def _replace_conflicts(self, keys: Iterable[Key], removed: Sequence[str],
                           system: Sequence[str], touched: set[str] | None) -> None:
        """One update: remove ``removed`` (N-Quads lines) and the ``system`` triples, and
        replace the conflicts of ``keys`` (see :func:`geokb.projection.conflicts.update`),
        read through the model of the live claims once it has followed the ``touched``
        claims (``None``: every claim may have changed, the model is emptied and not
        used)."""
        block = f"GRAPH {_SYSTEM} {{ {' '.join(system)} }}" if system else ""
        model: LiveClaims | None = self._live_claims
        if touched is None:
            self._live_claims.clear()
            model = None
        else:
            self._live_claims.refresh(touched)
        self._store.update(conflicts.update(self._store, keys, removed, block, model))

    def _touch(self, touched: set[str] | None) -> None:
        """Add claims whose conflicts are to be recomputed (``None``: every claim)."""
        if touched is None or self._touched is None:
            self._touched = None
        else:
            self._touched |= touched

    # -- writing ----------------------------------------------------------------------

    def apply(self, events: Iterable[RecordedEvent], *, build: bool = False) -> int:
        """Apply ``events`` in order; returns how many were applied.

        Events the projection already holds are skipped (catch-up overlap). Events are
        written in batches by a worker thread while the next batch is prepared (see
        :mod:`geokb.projection.batch`). An apply from position 0 (a first build or a
        replay), or one that goes on with a first build (``build``: between two of its
        checkpoints, :class:`geokb.projection.history.History`), bulk-loads its batches and
        works out the conflicts once, in its last batch, which records the position: a
        kill before it leaves a store the next open empties (``gk:bulkBuildAfter``). The
        events' payloads must have passed :func:`geokb.log.schemas.check_payload` (the log's
        decoder and admission run it; see :func:`_lines_of`). Raises :class:`InvalidEvent`
        if an event is out of order, malformed, or refers to a claim the projection does not
        hold (a log that skipped validation); the projection then holds the events up to its
        position, no more.
        """
        if self.read_only:
            raise Unavailable(f"the projection in {self.path} is open read-only (another "
                              "process holds it): it cannot apply events")
        try:
            return self._apply(events, build=build)
        except BaseException:
            # a batch may have failed half-way (in the worker or here): the store may hold
            # part of it that the model of the live claims never followed
            self._live_claims.clear()
            raise

    def _apply(self, events: Iterable[RecordedEvent], *, build: bool) -> int:
        if self._unfinished:
            self._finish_batch(list(self._store.quads_for_pattern(SYSTEM_NODE, APPLIED, None,
                                                                 SYSTEM_GRAPH)))
        loader = Loader(self._write_batch, waiting=4 * BATCH_QUADS,
                        bulk=self.position == 0 or (build and self.path is not None))
        if self.position == 0:
            self._touched = None  # every key is new: find them all at once (all_keys)
        batch = Batch()
        expected = self.position + 1
        count = 0
        try:
            for event in events:
                if event.position < expected:
                    continue
                if event.position > expected:
                    raise InvalidEvent(f"event at position {event.position} applied out of "
                                       f"order (projection at {expected - 1})")
                if not needs_state(event):
                    batch.add(event, _lines_of(event))
                elif (event.type in (GRAPH_UPDATED, ENTITY_AMENDED)
                      or any(s.unsafe for s in loader.seen(batch))):
                    loader.hand_over(batch)  # it must see the store up to it: alone
                    batch = Batch()
                    loader.drain()
                    self._apply_stateful(event)
                    loader.unmarked = None  # it recorded its position and the conflicts
                else:
                    self._batching = batch, loader.seen(batch)
                    try:
                        self._apply_stateful(event)
                    finally:
                        self._batching = None
                if len(batch.lines) >= BATCH_QUADS:
                    loader.hand_over(batch)
                    batch = Batch()
                expected += 1
                count += 1
            loader.hand_over(batch, final=True)
        except InvalidEvent:
            if loader.unmarked is not None and not loader.failed:
                loader.hand_over(Batch(), final=True)  # record what the bulk batches hold
            raise
        finally:
            loader.close()
        return count

    def _set_position(self, event: RecordedEvent) -> None:
        self.position, self.head_hash = event.position, event.hash

    def _write_batch(self, data: bytes, last: RecordedEvent, removed: Sequence[str],
                     touched: set[str] | None, *, bulk: bool) -> None:
        """Write a batch (see :mod:`geokb.projection.batch`): ``data`` holds its quads and,
        unless it is a bulk one, the marker of ``last`` and the note of ``removed``; then one
        update removes those, the note and the old marker, and replaces the conflicts of
        the keys ``touched`` claims belong to (a bulk batch leaves them to the next one)."""
        if bulk and self._marker is not None and not self._bulk_noted and self.path is not None:
            # bulk loads above a recorded position: a kill before the next one must not
            # leave a store that seems to stand at it (the next open empties this one)
            self._store.update(f"INSERT DATA {{ GRAPH {_SYSTEM} {{ {_bulk_note()} }} }}")
            self._bulk_noted = True
        self._load(data, last.position, bulk=bulk)
        self._set_position(last)
        self._touch(touched)
        if bulk:
            if removed:
                self._store.update(f"DELETE DATA {{ {sparql_data(removed)} }}")
            return
        system: list[str] = self._bulk_done()
        keys = conflicts.keys_of(self._store, self._touched)
        if removed or keys:
            system.append(_system_triple(REDO, "\n".join(removed)))
        if self._marker is not None:
            system.append(_system_triple(APPLIED, "{} {}".format(*self._marker)))
        self._marker = (last.position, last.hash)
        if removed or system or keys:
            self._unfinished = True
            self._replace_conflicts(keys, removed, system, self._touched)
            self._unfinished = False
        self._touched = set()

    def _load(self, data: bytes, position: int, *, bulk: bool = False) -> None:
        try:
            if bulk:
                self._store.bulk_load(data, format=ox.RdfFormat.N_QUADS, lenient=True)
            else:
                self._store.load(data, format=ox.RdfFormat.N_QUADS, lenient=True)
        except SyntaxError as exc:
            raise InvalidEvent(f"events up to position {position} give invalid RDF: "
                               f"{exc}") from exc

    def _apply_stateful(self, event: RecordedEvent) -> None:
        """Apply an event that removes quads.

        While :meth:`apply` prepares a batch, a retraction or supersession joins it: its
        removals are worked out from the store and from what the events not yet in it did.
        Otherwise the event goes in at once, with its position, as one SPARQL update.
        """
        lines = _lines_of(event)
        if self._batching is not None and event.type != ENTITY_AMENDED:
            batch, seen = self._batching
            removed, unsafe = ended_removals(self._store, event.payload["claim"], seen)
            batch.remove(removed)
            batch.seen.unsafe |= unsafe
            batch.seen.ended.add(event.payload["claim"])
            batch.add(event, lines)
            return
        additions = parse_lines(lines)
        if event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            removals = sparql_data(ended_removals(self._store, event.payload["claim"], ())[0])
        elif event.type == GRAPH_UPDATED:
            removals = _data_block(parse_nquads(event.payload["delete"]))
            additions += parse_nquads(event.payload["insert"])
        elif event.type == ENTITY_AMENDED:
            entity = NamedNode(event.payload["entity"])
            current = [(_nt(q.predicate), _nt(q.object))
                       for q in self._store.quads_for_pattern(entity, None, None, DEFAULT)]
            removals = sparql_data(amendment_removals(event.payload, current))
        else:  # pragma: no cover - needs_state() lists exactly these
            raise AssertionError(event.type)
        additions.append(marker_quad(event.position, event.hash))
        if event.type in (GRAPH_UPDATED, ENTITY_AMENDED):
            self._live_claims.clear()  # records may change in ways no claim is touched by
        self._touch(touched_claims(event))
        if self._touched is not None and not self._touched:
            old = [marker_quad(*self._marker)] if self._marker is not None else []
            note = f"GRAPH {_SYSTEM} {{ {' '.join(self._bulk_done())} }}"
            self._store.update(f"DELETE DATA {{ {removals}\n{_data_block(old)}\n{note} }} ;\n"
                              f"INSERT DATA {{ {_data_block(additions)} }}")
        else:
            # conflicts read the event's records: load it with a note, then recompute in
            # the update that drops the note and the old marker (as for a batch)
            additions.append(Quad(SYSTEM_NODE, REDO, Literal(""), SYSTEM_GRAPH))
            self._unfinished = True
            self._store.update(f"DELETE DATA {{ {removals} }} ;\n"
                              f"INSERT DATA {{ {_data_block(additions)} }}")
            system = [_system_triple(REDO, ""), *self._bulk_done()]
            if self._marker is not None:
                system.append(_system_triple(APPLIED, "{} {}".format(*self._marker)))
            self._replace_conflicts(conflicts.keys_of(self._store, self._touched), [], system,
                                    self._touched)
            self._unfinished = False
            self._touched = set()
        self._marker = (event.position, event.hash)
        self._set_position(event)

    def _bulk_done(self) -> list[str]:
        """The system triples a write that records a position removes: the bulk note, if
        the store holds it (that write makes the store whole at its position again)."""
        if not self._bulk_noted:
            return []
        self._bulk_noted = False
        return [_bulk_note()]

    def reset(self) -> None:
        """Empty the projection (one transaction; the store stays open) to rebuild it."""
        self._store.clear()
        self._live_claims.clear()
        self.position, self.head_hash = 0, ""
        self._marker = None
        self._bulk_noted = False

    # -- reading ----------------------------------------------------------------------

    def query(self, sparql: str, **options: Any) -> Any:
        """Run a SPARQL query; raises :class:`QueryError` (parse) or ``OSError`` (evaluation).

        The one place the engine is asked a query: its ``SyntaxError`` is the client's
        mistake, so it becomes a domain error here and nowhere stands in for one above.
        """
        try:
            return self._store.query(sparql, **options)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc

    def quads(self, subject: Subject | None = None, predicate: NamedNode | None = None,
              object: Term | None = None,
              graph: GraphName | None = None) -> Iterator[Quad]:
        """The quads matching a pattern (``None`` matches anything); with no ``graph``,
        those of every graph but the system graph (the log events and the projection's
        bookkeeping: ask for them with ``graph=SYSTEM_GRAPH``). ``quads()`` is the
        dataset's knowledge."""
        if graph is not None:  # the hot path: no wrapper around pyoxigraph's iterator
            return self._store.quads_for_pattern(subject, predicate, object, graph)
        return self._user_quads(subject, predicate, object)

    def _user_quads(self, subject: Subject | None, predicate: NamedNode | None,
                    object: Term | None) -> Iterator[Quad]:
        for q in self._store.quads_for_pattern(subject, predicate, object, None):
            if q.graph_name != SYSTEM_GRAPH:
                yield q

    def objects(self, subject: Subject, predicate: NamedNode, *,
                graph: GraphName = DEFAULT) -> list[Any]:
        """The objects of ``subject predicate ?o`` in ``graph`` (the current view)."""
        return [q.object for q in self._store.quads_for_pattern(subject, predicate, None, graph)]

    def one(self, subject: Subject, predicate: NamedNode, *, graph: GraphName = DEFAULT) -> Any:
        """The object of one ``subject predicate ?o`` in ``graph`` (the current view), or
        ``None`` if there is none. (Typed ``Any``: pyoxigraph's terms share no ``.value``.)"""
        q = next(self._store.quads_for_pattern(subject, predicate, None, graph), None)
        return q.object if q is not None else None

    def contains(self, quad: Quad) -> bool:
        """Whether the projection holds ``quad`` (never one of the system graph)."""
        return quad.graph_name != SYSTEM_GRAPH and quad in self._store

    def named_graphs(self) -> list[NamedNode]:
        """The named graphs holding a quad, without the system graph."""
        return [g for g in self._store.named_graphs()
                if isinstance(g, NamedNode) and g != SYSTEM_GRAPH]

    def canonical_nquads(self) -> bytes:
        """The dataset's knowledge as sorted N-Quads lines (no blank nodes, so this is
        canonical): every graph but the system graph, whose log events the log's own hash
        chain covers."""
        lines = sorted(f"{q} .\n" for q in self.quads())
        return "".join(lines).encode("utf-8")

    def canonical_hash(self) -> str:
        return hashlib.sha256(self.canonical_nquads()).hexdigest()

    def dump(self, path: str | os.PathLike[str]) -> None:
        """Write everything the store holds, its system graph included, to ``path`` as
        N-Quads (pyoxigraph's own dump: a raw store loaded from it is this store)."""
        self._store.dump(str(path), format=ox.RdfFormat.N_QUADS)

    def backup(self, target: str | os.PathLike[str]) -> None:
        """Copy this on-disk store, as it stands, to the new directory ``target``
        (pyoxigraph's ``Store.backup``: hard links where it can)."""
        self._store.backup(str(target))

    def size(self) -> int:
        """How many quads the store holds, the system graph's included."""
        return len(self._store)

    def flush(self) -> None:
        if self.path is not None:
            self._store.flush()

    # -- copies (for the time views) ----------------------------------------------------

    @classmethod
    def of(cls, quads: Iterable[Quad], *, position: int, head_hash: str) -> ProjectionStore:
        """An in-memory projection holding ``quads``, said to stand at ``position``: a
        derived view (see :mod:`geokb.projection.timeview`), not one to apply events to."""
        out = cls()
        out._store.extend(quads)
        out.position, out.head_hash = position, head_hash
        return out

    def discard(self, quads: Iterable[Quad]) -> None:
        """Remove ``quads`` from a derived view (never from the projection: see
        :mod:`geokb.projection.history`)."""
        block = _data_block(list(quads))
        if block:
            self._live_claims.clear()
            self._store.update(f"DELETE DATA {{ {block} }}")


def _bulk_note() -> str:
    return _system_triple(BULK, "")


def _system_triple(predicate: NamedNode, value: str) -> str:
    """A triple of the system graph (a marker or a note) for ``GRAPH <system> { … }``."""
    return f"<{SYSTEM_NODE.value}> <{predicate.value}> {literal(value)} ."


def literal_int(term: Literal | None) -> int | None:
    return int(term.value) if term is not None else None
