"""Replay in batches: many events per transaction, written by a worker thread.

:meth:`geokb.projection.store.ProjectionStore.apply` gathers events into a :class:`Batch`: the
N-Quads lines they add, and the current-view triples that the retractions and
supersessions among them remove. The removals are worked out while the batch is prepared,
from the store and from what the events not yet in it did (:class:`Seen`), so a batch is
never cut short by a retraction and the :class:`Loader` writes it while the next one is
prepared (pyoxigraph releases the GIL while it parses and writes).

A batch is written in two transactions: one load of its lines, its position and a note
of its removals (N-Quads lines: a plain statement leaves the default graph or the
attributed view, whichever its claim's modality sent it to); then one update that makes
the removals, replaces the conflicts of the keys the batch touched
(:mod:`geokb.projection.conflicts`) and drops the note and the old position. If a kill
(or an error) comes between, the next open (or apply) finds the note and makes the
removals and recomputes the conflicts (``ProjectionStore._finish_batch``), so the store
holds exactly the events up to its position.

This module knows nothing of :class:`~geokb.projection.store.ProjectionStore`: the store
hands the :class:`Loader` its writer (a :class:`BatchSink`) and says whether to bulk-load.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from pyoxigraph import Literal, NamedNode, Store

from geokb.errors import InvalidEvent
from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    CLAIMS_LINKED,
    GRAPH_UPDATED,
    RecordedEvent,
)
from geokb.projection.quads import (
    DEFAULT,
    LINKS,
    is_factual,
    literal,
    marker_line,
    note_line,
    statement_of,
    view_line,
)
from geokb.vocab import FACTUAL_MODALITIES, GK, term_value

_ASSERTED_IN, _KNOWN_UNTIL, _MODALITY = GK.assertedIn, GK.knownUntilPosition, GK.modality
_ASSERTED = next(iter(FACTUAL_MODALITIES))
#: The triples the lookups below read. A claim whose statement uses one of these
#: predicates could change them in ways :class:`Seen` does not follow: retractions then wait
#: for the store to hold the batch (rare; the result is the same, only slower).
_BOOKKEEPING = frozenset({_ASSERTED_IN.value, _KNOWN_UNTIL.value, _MODALITY.value})

Triple = tuple[Any, Any, Any]


class BatchSink(Protocol):
    """Writes one prepared batch to the store: ``data`` holds its N-Quads (and, unless it
    is a bulk one, the marker of ``last`` and the note of ``removed``); the sink loads it,
    then makes the removals, replaces the conflicts of the claims ``touched`` (``None``:
    all) and drops the note and the old marker."""

    def __call__(self, data: bytes, last: RecordedEvent, removed: Sequence[str],
                 touched: set[str] | None, *, bulk: bool) -> None: ...


class Seen:
    """What the events of one batch did that a later retraction must know while the batch
    may not be in the store yet: the claims they asserted (statement as an N-Triples line,
    whether reported as fact, the payload) and the claims they ended."""

    __slots__ = ("claims", "ended", "stating", "unsafe")

    def __init__(self) -> None:
        self.claims: dict[str, list[tuple[str, bool, dict[str, Any]]]] = {}
        self.stating: dict[str, list[str]] = {}  # "s p o" -> the claims stating it
        self.ended: set[str] = set()
        self.unsafe = False

    def asserted(self, payload: dict[str, Any]) -> None:
        claim = payload["claim"]
        statement = statement_of(payload)
        line = view_line(*statement, payload["modality"])
        factual = is_factual(payload["modality"])
        self.claims.setdefault(claim, []).append((line, factual, payload))
        self.stating.setdefault(" ".join(statement), []).append(claim)  # by triple
        if payload["predicate"] in _BOOKKEEPING:
            self.unsafe = True


def touched_claims(event: RecordedEvent) -> set[str] | None:
    """The claims whose conflicts ``event`` can change (``None``: any claim, for a
    ``GraphUpdated``, which may edit any record)."""
    p = event.payload
    if event.type == GRAPH_UPDATED:
        return None
    if event.type in (CLAIM_ASSERTED, CLAIMS_LINKED):
        return {p["claim"], *(t for key in LINKS for t in p.get(key, ()))}
    if event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
        return {p["claim"]}
    return set()


class Batch:
    """The events of one batch: their lines, the quads (N-Quads lines of the default and
    attributed graphs) whose last change in the batch is a removal, and the claims whose
    conflicts it may change."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.removed: set[str] = set()
        self.last: RecordedEvent | None = None
        self.seen = Seen()
        self.touched: set[str] | None = set()  # None: every claim

    def add(self, event: RecordedEvent, lines: list[str]) -> None:
        self.lines.extend(lines)
        if self.removed:  # a later event adds the triple again: it stays
            self.removed.difference_update(lines)
        if event.type == CLAIM_ASSERTED:
            self.seen.asserted(event.payload)
        claims = touched_claims(event)
        if claims is None or self.touched is None:
            self.touched = None
        else:
            self.touched |= claims
        self.last = event

    def remove(self, triples: Sequence[str]) -> None:
        self.removed.update(triples)


def _nt(term: Any) -> str:
    """A term in the N-Triples form :mod:`geokb.projection.quads` writes (lines compare equal
    exactly when their terms do)."""
    if isinstance(term, NamedNode):
        return f"<{term.value}>"
    if isinstance(term, Literal):
        return literal(term.value, datatype=term.datatype.value, lang=term.language)
    return str(term)


def _statement_terms(payload: dict[str, Any]) -> Triple:
    obj = payload["object"]
    if "iri" in obj:
        o: Any = NamedNode(obj["iri"])
    elif obj.get("lang"):
        o = Literal(obj["value"], language=obj["lang"])
    elif obj.get("datatype"):
        o = Literal(obj["value"], datatype=NamedNode(obj["datatype"]))
    else:
        o = Literal(obj["value"])
    return NamedNode(payload["subject"]), NamedNode(payload["predicate"]), o


def ended_removals(store: Store, claim: str, seen: Sequence[Seen]) -> tuple[list[str], bool]:
    """The quads that ending ``claim`` removes: its statements, in the graph its modality
    sent them to (the default graph or the attributed view), that no other live claim
    routed to the same graph states. ``seen`` tells what the events not yet in ``store``
    did. Also says whether a removed triple is one the lookups read (see ``_BOOKKEEPING``).

    Raises :class:`InvalidEvent` if the claim was never asserted.
    """
    node = NamedNode(claim)
    mine = [entry for s in seen for entry in s.claims.get(claim, ())]
    if not mine and next(store.quads_for_pattern(node, _ASSERTED_IN, None, DEFAULT),
                         None) is None:
        raise InvalidEvent(f"claim {claim} is not in the projection")
    routes = {is_factual(m) for m in _modalities(store, claim, seen)}
    statements = [_statement_terms(payload) for _, _, payload in mine]
    statements += [(q.subject, q.predicate, q.object)
                   for q in store.quads_for_pattern(None, None, None, node)]
    triples: dict[str, tuple[Triple, bool]] = {}
    for triple in statements:
        for factual in routes:  # one graph a claim; several only in a malformed log
            line = view_line(_nt(triple[0]), _nt(triple[1]), _nt(triple[2]),
                             _ASSERTED if factual else "")
            triples.setdefault(line, (triple, factual))
    removed = [line for line, (triple, factual) in triples.items()
               if not _supported(store, line, triple, claim, factual, seen)]
    unsafe = any(triples[line][0][1].value in _BOOKKEEPING for line in removed)
    return removed, unsafe


def _supported(store: Store, line: str, triple: Triple, claim: str, factual: bool,
               seen: Sequence[Seen]) -> bool:
    """Whether another live claim sends the same triple to the same graph."""
    plain = " ".join(_nt(t) for t in triple)
    for s in seen:
        for other in s.stating.get(plain, ()):
            if other != claim and _live_in(store, other, factual, seen):
                return True
    for q in store.quads_for_pattern(*triple, None):
        g = q.graph_name
        if isinstance(g, NamedNode) and g.value != claim and _live_in(store, g.value,
                                                                      factual, seen):
            return True
    return False


def _modalities(store: Store, claim: str, seen: Sequence[Seen]) -> set[str]:
    out = {str(payload["modality"]) for s in seen for _, _, payload in s.claims.get(claim, ())}
    out.update(term_value(q.object)
               for q in store.quads_for_pattern(NamedNode(claim), _MODALITY, None, DEFAULT))
    return out


def _live_in(store: Store, claim: str, factual: bool, seen: Sequence[Seen]) -> bool:
    """Whether ``claim`` is live and states its triples in the current view (``factual``)
    or in the attributed view (not ``factual``)."""
    if any(claim in s.ended for s in seen):
        return False
    node = NamedNode(claim)
    if next(store.quads_for_pattern(node, _KNOWN_UNTIL, None, DEFAULT), None) is not None:
        return False
    return any(is_factual(m) == factual for m in _modalities(store, claim, seen))


class Loader:
    """Writes the batches of one ``apply``, in order, on a worker thread.

    At most ``waiting`` quads are handed over and not yet written; once a batch fails, the
    ones after it are not written. The last batch is written inline, so a small apply
    starts no thread.
    """

    def __init__(self, write: BatchSink, *, waiting: int, bulk: bool) -> None:
        self.write = write
        self.waiting = waiting
        self.pool: ThreadPoolExecutor | None = None
        self.running: deque[tuple[Future[None], int, Seen]] = deque()
        self.running_quads = 0
        self.failed = False
        # A build from position 0 (and an on-disk first build between two of its
        # checkpoints) bulk-loads (several times faster, not transactional) and records its
        # position, and works out the conflicts, only with the last batch; a build cut
        # short leaves no position (or the store's note that it bulk-loads past one), and
        # the next open starts it over. The store says whether it is such a build (``bulk``).
        self.bulk = bulk
        #: The last event of the bulk batches handed over since a position was recorded:
        #: the last batch records it even if it holds no event of its own.
        self.unmarked: RecordedEvent | None = None

    def seen(self, batch: Batch) -> list[Seen]:
        """What the events not yet surely in the store did, ``batch``'s included."""
        return [*(s for _, _, s in self.running), batch.seen]

    def hand_over(self, batch: Batch, *, final: bool = False) -> None:
        """Write ``batch``: on the worker thread, or here if it is the last one."""
        last = batch.last
        if last is None:
            if not final or self.unmarked is None:
                return
            last = self.unmarked  # bulk batches before: record their position
        bulk = self.bulk and not final
        lines = batch.lines
        removed = sorted(batch.removed)
        touched = batch.touched
        if not bulk:
            lines.append(marker_line(last.position, last.hash))
            if removed or touched is None or touched or self.unmarked is not None:
                lines.append(note_line(removed))  # also: conflicts still to recompute
            self.unmarked = None
        else:
            self.unmarked = last
        data = ("\n".join(lines) + "\n").encode("utf-8")
        write = self._guarded(lambda: self.write(data, last, removed, touched, bulk=bulk))
        if final:
            self.drain()
            write()
            return
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="geokb-load")
        while self.running and (self.running[0][0].done()
                                or self.running_quads > self.waiting):
            self._collect()  # raises the worker's error, if it met one
        self.running.append((self.pool.submit(write), len(lines), batch.seen))
        self.running_quads += len(lines)

    def _guarded(self, write: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            if self.failed:
                return
            try:
                write()
            except BaseException:
                self.failed = True
                raise

        return run

    def _collect(self) -> None:
        future, quads, _ = self.running.popleft()
        self.running_quads -= quads
        future.result()

    def drain(self) -> None:
        """Wait for every batch handed over; raise the first error met."""
        error: BaseException | None = None
        while self.running:
            try:
                self._collect()
            except BaseException as exc:
                error = error or exc
        if error is not None:
            raise error

    def close(self) -> None:
        try:
            self.drain()
        finally:
            if self.pool is not None:
                self.pool.shutdown()

