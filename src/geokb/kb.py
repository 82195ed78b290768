"""``KnowledgeBase``: the one object the CLI and the HTTP app call.

Data flows one way: a command becomes events, the events are admitted (rules + SHACL),
appended to the log, and only then applied to the projection, which answers queries.

Size: the facade has one method for each verb of every front door (write, read, time
travel, keep); each is a few lines handing the work to its layer, and splitting the facade
would give the doors two objects to call.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import rdflib
from pyoxigraph import NamedNode

from geokb.errors import (
    AppendConflict,
    BadTime,
    CorruptLog,
    GeoKBError,
    InvalidClaimFile,
    InvalidEvent,
    InvalidRequest,
    NotFound,
    ShapeViolation,
    StorageFull,
    StorageReadOnly,
)
from geokb.log.contract import EventStore
from geokb.log.events import GRAPH_UPDATED, Event, RecordedEvent
from geokb.log.file import FileEventStore
from geokb.log.retry import Attempt, Backoff
from geokb.log.sources import FileSourceTexts, SourceTexts
from geokb.ontology import Ontology, load_ontology
from geokb.ops import anchor, check_memory
from geokb.ops.checks import DEFAULT_BUDGET, CheckResult, ask_within, run_checks
from geokb.ops.partitions import affected_bases
from geokb.ops.validate import PROGRESS_EVERY as PROGRESS_EVERY
from geokb.ops.validate import Progress as Progress
from geokb.ops.validate import validate as validate_log
from geokb.ops.verify import Problem, Report, scan_after
from geokb.ops.verify import verify as verify_log
from geokb.projection import snapshot as projection_snapshot
from geokb.projection.history import History
from geokb.projection.logmark import FORMAT, MARK_NAME, LogMark
from geokb.projection.snapshot import log_file_of, open_projection
from geokb.projection.store import ProjectionStore
from geokb.projection.timeview import TimeFilter, position_at
from geokb.read import catalogue, claims, conflicts, entities, status
from geokb.read.beliefs import belief_json, world_time
from geokb.read.paging import PAGE_SIZE as PAGE_SIZE
from geokb.read.reader import Reader, as_int
from geokb.read.validity import dropped, valid_view
from geokb.shacl.engines import ValidatorChoice
from geokb.shacl.reach import reach_of
from geokb.shacl.shapes import load_shapes
from geokb.sparql.guard import guard
from geokb.sparql.workers import ForkGate
from geokb.times import span
from geokb.vocab import CLAIM, GK, PREFIXES, SOURCE, expand
from geokb.write import claimfile
from geokb.write import document as document_
from geokb.write.admission import Admission
from geokb.write.committer import GroupCommitter, Request
from geokb.write.context import ContextCache

if TYPE_CHECKING:
    from geokb.ops.verify import Report

DEFAULT_AGENT = "cli:" + (os.environ.get("USER") or "unknown")
SNAPSHOT_CACHE = 4



#: how many times a check's worker tries its own read-only handle of the projection
REOPEN_TRIES = 25


class KnowledgeBase:
    """An event-sourced KB over a log (``kb/`` by default) and a pyoxigraph projection.

    ``projection_path`` keeps the projection on disk: a restart then catches up from the
    position stored with the data instead of replaying the whole log.

    ``shacl_engine`` (``compiled``, ``turbo`` or ``pyshacl``; default ``GEOKB_SHACL_ENGINE``,
    else ``compiled``) chooses the SHACL engines, see :class:`ValidatorChoice`; raises
    :class:`~geokb.errors.SettingsError` for another name.
    """

    def __init__(self, directory: str | os.PathLike[str], *, log: EventStore | None = None,
                 projection_path: str | os.PathLike[str] | None = None,
                 ontology: Ontology | None = None, catch_up: bool = True,
                 texts: SourceTexts | None = None, progress: Progress | None = None,
                 shacl_engine: str | None = None) -> None:
        self.directory = Path(directory)
        self.log: EventStore = log if log is not None else FileEventStore(self.directory)
        self.texts: SourceTexts = texts if texts is not None else FileSourceTexts(self.directory)
        self.projection_path = Path(projection_path) if projection_path is not None else None
        try:
            self.projection = open_projection(self.projection_path)
        except (StorageFull, StorageReadOnly) as exc:  # reads still go on, from memory
            print(f"geokb: note: cannot keep the projection in {self.projection_path} "
                  f"({exc}): replaying the log in memory", file=sys.stderr)
            self.projection_path = None
            self.projection = ProjectionStore()
        # which log an on-disk projection holds (see geokb.projection.logmark)
        self._mark = (LogMark(self.projection_path, self.log, log_file_of(self.log))
                      if self.projection_path is not None else None)
        self.ontology = ontology or load_ontology()
        # the answers' reader, with their memory (its own: no two KBs share one)
        self._reader = Reader(self.projection, self.ontology.labels)
        self._shapes: rdflib.Graph | None = None
        self.shacl = ValidatorChoice(shacl_engine)
        self._write_lock = threading.RLock()
        # held while the projection changes, and while an answer is read from it in several
        # steps (status, timeline, claim, source), so no answer mixes two states
        self._apply_lock = threading.RLock()
        # every other in-process touch of the store (a query evaluated, its answer
        # serialised) holds its shared side; a fork for a query worker takes the lock and
        # then the exclusive side (holding_still): no worker inherits a lock of the engine
        self._fork_gate = ForkGate()
        self._snapshots: OrderedDict[int, ProjectionStore] = OrderedDict()
        self._snapshot_lock = threading.Lock()
        # how an append without an expected position retries a lost race (GEOKB_APPEND_DEADLINE)
        self.append_backoff = Backoff.from_env()
        self._context: ContextCache | None = None  # see context_cache
        # merges appends of concurrent callers (HTTP posts) into one (see append_group); it
        # holds the KB weakly: a cycle would keep an on-disk projection (and its lock) open
        # until the garbage collector ran
        self.committer: GroupCommitter[list[RecordedEvent]] = GroupCommitter(
            _weak_commit(weakref.ref(self)))
        # on disk: checkpoints and past stores for time travel (in memory: a replay each)
        self.past = History(self.projection_path, self.log) \
            if self.projection_path is not None else None
        if catch_up:
            self._check_projection_matches_log()
            self.catch_up(progress=progress)

    # -- log and projection -----------------------------------------------------------

    @property
    def shapes(self) -> rdflib.Graph:
        if self._shapes is None:
            self._shapes = load_shapes()
        return self._shapes

    @property
    def reader(self) -> Reader:
        """What the answers read: the projection, the labels, the answers' memory (a new
        one if the projection was replaced, so no answer comes from another store)."""
        reader = self._reader
        if reader.store is not self.projection:
            reader = self._reader = Reader(self.projection, self.ontology.labels)
        return reader

    @property
    def position(self) -> int:
        return self.projection.position

    def _check_projection_matches_log(self) -> None:
        """An on-disk projection built from another history (or in another format) is
        rebuilt, not trusted; one held read-only by another process and not at a whole batch
        is replaced by an in-memory replay. Raises :class:`CorruptLog` if the log's events
        up to the projection's position no longer match their hashes (nothing is served)."""
        pos = self.projection.position
        if self._mark is not None:
            if self.projection.read_only:
                if not (self.projection.consistent
                        and self._mark.check(pos, self.projection.head_hash)):
                    self._in_memory("it does not stand at this log's events")
            elif not self._mark.check(pos, self.projection.head_hash):
                if self._mark.mark is not None and self._mark.mark.format != FORMAT \
                        and self.past is not None:
                    self.past.drop_checkpoints()  # the old layout's, under the right names
                self.projection.reset()
                self._mark.mark = None
            return
        if pos == 0:
            return
        at = next(iter(self.log.read(after=pos - 1, limit=1)), None)
        if at is None or at.hash != self.projection.head_hash:
            # clear() is one transaction; the store stays open (a second open of the same
            # directory would fail on RocksDB's lock)
            self.projection.reset()

    def catch_up(self, *, progress: Progress | None = None) -> int:
        """Apply the events the projection has not seen yet; returns how many."""
        with self._write_lock, self._apply_lock:
            if self.projection.read_only:
                if self.log.head().position == self.projection.position:
                    return 0
                self._in_memory("it is behind the log")
            events: Iterable[RecordedEvent] = self.log.read(after=self.projection.position)
            if progress is not None:
                total = max(self.log.head().position - self.projection.position, 0)
                events = _reporting(events, progress, "catching up with the log", total)
            return self._apply(events)

    def _apply(self, events: Iterable[RecordedEvent]) -> int:
        """Apply ``events`` to the projection, telling admission's context cache."""
        context = self.context_cache
        start = (self.projection.position, self.projection.head_hash)
        with self._apply_lock:
            try:
                followed = context.follow(events)
                applied = self.past.apply(self.projection, followed) \
                    if self.past is not None else self.projection.apply(followed)
            finally:
                context.settle(start)
            self._record_mark()
            return applied

    @property
    def context_cache(self) -> ContextCache:
        """Admission's remembered projection lookups (a new one for a new projection)."""
        cache = self._context
        if cache is None or cache.store is not self.projection:
            cache = self._context = ContextCache(self.projection)
        return cache

    def _record_mark(self) -> None:
        if self._mark is not None and not self.projection.read_only:
            self._mark.advance(self.projection.position, self.projection.head_hash)

    def _in_memory(self, why: str) -> None:
        """Answer from an in-memory replay instead of an on-disk projection that another
        process holds (``geokb serve``) and that cannot serve this run: ``why`` is said
        on stderr."""
        print(f"geokb: note: the projection in {self.projection_path} is held by another "
              f"process and {why}: replaying the log in memory", file=sys.stderr)
        self.projection = ProjectionStore()
        self._mark = None
        self.past = None  # time travel replays in memory too

    @property
    def projection_read_only(self) -> bool:
        """Whether answers come from an on-disk projection another process holds."""
        return self.projection.read_only

    def follow(self, stop: threading.Event, *, poll: float = 1.0) -> None:
        """Keep the projection caught up with the log until ``stop`` is set (a read node).

        Blocks, so run it in a thread. It wakes as soon as another process appends: by
        LISTEN/NOTIFY on PostgreSQL, by watching the file on the file log (every 0.1 s).
        ``stop`` is looked at least every ``poll`` seconds. A lost database connection is
        reported on stderr and retried; :class:`CorruptLog` ends the loop by raising.
        """
        while not stop.is_set():
            try:
                self.catch_up()
                self.log.wait_for_events(self.position, poll)
            except ConnectionError as exc:
                print(f"geokb: following the log: {exc}; retrying", file=sys.stderr)
                stop.wait(poll)

    def append(self, events: Sequence[Event], *, recorded_by: str = DEFAULT_AGENT,
               expected_position: int | None = None,
               pending_texts: Mapping[str, str] | None = None,
               progress: Progress | None = None,
               verified_as: str | None = None) -> list[RecordedEvent]:
        """Admit, append and apply ``events`` as one all-or-nothing batch.

        ``recorded_by`` is who the writer says it is; ``verified_as``, who a front door
        authenticated (the bearer token's name on HTTP; ``None`` for a local write).

        Raises :class:`InvalidEvent` or :class:`ShapeViolation` (nothing is written), or
        :class:`AppendConflict` if ``expected_position`` is given and stale. Without it, a
        concurrent writer's append makes this one catch up, re-check and retry.
        """
        texts = dict(pending_texts or {})
        if verified_as is not None:
            events = [Event(e.type, e.payload, e.idempotency_key, verified_as)
                      for e in events]
        retry = self.append_backoff.start()
        with self._write_lock:
            if self.projection.read_only:
                with self._apply_lock:
                    self._in_memory("cannot take writes")
            while True:
                try:
                    with self._exclusive(retry):
                        return self._append_once(events, recorded_by, expected_position,
                                                 texts, progress)
                except AppendConflict as exc:
                    if expected_position is not None:
                        raise
                    if not retry.wait():  # full-jitter backoff, to a deadline
                        raise AppendConflict(exc.expected, exc.actual, tries=retry.tries,
                                             seconds=retry.seconds) from exc

    def _exclusive(self, retry: Attempt) -> contextlib.AbstractContextManager[object]:
        """Nothing on a first try; on a retry, the log's writer lock (if it has one) held
        across catch-up, admission and append, so a writer that lost a race once cannot
        lose it again and again to faster writers (bounded by the retry's deadline)."""
        exclusive = getattr(self.log, "exclusive", None)
        if retry.tries == 1 or exclusive is None:
            return contextlib.nullcontext()
        return cast(contextlib.AbstractContextManager[object],
                    exclusive(timeout=max(retry.until - time.monotonic(), 0.5)))

    def _append_once(self, events: Sequence[Event], recorded_by: str,
                     expected_position: int | None, texts: Mapping[str, str],
                     progress: Progress | None) -> list[RecordedEvent]:
        """One try of :meth:`append`; raises :class:`AppendConflict` if it lost a race."""
        self.catch_up()
        if expected_position is not None and expected_position != self.position:
            raise AppendConflict(expected_position, self.position)
        earlier = self._recorded_under_keys(events)
        if earlier:  # a retried request: answer with what it recorded the first time
            return earlier
        if progress is not None:
            progress("checking rules and shapes", 0, 0)
        admission = self._admission()
        admission.check(events, pending_texts=texts, recorded_by=recorded_by)
        if progress is not None:
            progress("checking rules and shapes", len(events), len(events))
        for text in texts.values():
            self.texts.put(text)
        recorded = self.log.append(events, expected_position=self.position,
                                   recorded_by=recorded_by)
        if recorded and recorded[0].position > self.position + 1:
            self.catch_up()  # the log answered a key with events we had not seen
        else:
            self._apply(recorded if progress is None else _reporting(
                recorded, progress, "applying", len(recorded)))
        return recorded

    def append_group(self, group: Sequence[Request[list[RecordedEvent]]]
                     ) -> list[list[RecordedEvent] | BaseException]:
        """Append the requests of a group commit (:mod:`geokb.write.committer`) as one
        batch: one admission, one append and ``fsync``, one projection batch. Each gets
        its own events back.

        When the merged batch is refused, or the requests cannot share one (different
        agents, idempotency keys), each is appended on its own instead and answered with
        its own events or its own domain error: one refused event sinks no other request.
        """
        merged = [e for r in group for e in r.events]
        agents = {r.recorded_by for r in group}
        if len(group) == 1 or len(agents) != 1 or any(
                e.idempotency_key is not None for e in merged):
            return self._append_each(group)
        [agent] = agents
        retry = self.append_backoff.start()
        with self._write_lock:
            if self.projection.read_only:
                with self._apply_lock:
                    self._in_memory("cannot take writes")
            while True:
                try:
                    with self._exclusive(retry):
                        self.catch_up()
                        try:
                            self._admission().check(merged, pending_texts={},
                                                    recorded_by=agent)
                        except (InvalidEvent, ShapeViolation):  # whose fault? ask each
                            return self._append_each(group)
                        recorded = self.log.append(merged, expected_position=self.position,
                                                   recorded_by=agent)
                        self._apply(recorded)
                        break
                except AppendConflict as exc:
                    if not retry.wait():
                        raise AppendConflict(exc.expected, exc.actual, tries=retry.tries,
                                             seconds=retry.seconds) from exc
            out: list[list[RecordedEvent] | BaseException] = []
            start = 0
            for r in group:
                out.append(recorded[start:start + len(r.events)])
                start += len(r.events)
            return out

    def _append_each(self, group: Sequence[Request[list[RecordedEvent]]]
                     ) -> list[list[RecordedEvent] | BaseException]:
        out: list[list[RecordedEvent] | BaseException] = []
        for r in group:
            try:
                out.append(self.append(r.events, recorded_by=r.recorded_by))
            except GeoKBError as exc:  # this request's own answer; a bug still raises
                out.append(exc)
        return out

    def close(self) -> None:
        """Remove the past stores time travel made (their scratch directory)."""
        if self.past is not None:
            self.past.close()

    def _recorded_under_keys(self, events: Sequence[Event]) -> list[RecordedEvent]:
        """The events the log already holds under the idempotency keys of ``events``."""
        find = getattr(self.log, "find_idempotent", None)
        keys = sorted({e.idempotency_key for e in events if e.idempotency_key is not None})
        if find is None or not keys:
            return []
        found = {e.position: e for key in keys for e in find(key)}
        return [found[p] for p in sorted(found)]  # in log order, each once

    # -- commands ---------------------------------------------------------------------

    def register_source(self, spec: Mapping[str, Any], text: str, *,
                        recorded_by: str = DEFAULT_AGENT) -> RecordedEvent:
        src = claimfile.source_event(spec, text)
        sha = src.event.payload["sha256"]
        return self.append([src.event], recorded_by=recorded_by, pending_texts={sha: text})[0]

    def declare_entity(self, spec: Mapping[str, Any], *,
                       recorded_by: str = DEFAULT_AGENT) -> RecordedEvent:
        return self.append([claimfile.entity_event(spec)], recorded_by=recorded_by)[0]

    def source_text(self, source: str) -> str:
        iri = claimfile.slug_iri(source, SOURCE, "source")
        sha = self.projection.one(NamedNode(iri), GK.sha256)
        if sha is None:
            raise NotFound(f"unknown source {source}: register it first")
        return self.texts.get(str(sha.value))

    def assert_claim(self, spec: Mapping[str, Any], *, recorded_by: str = DEFAULT_AGENT,
                     idempotency_key: str | None = None,
                     verified_as: str | None = None, grouped: bool = False) -> RecordedEvent:
        """Assert one claim. ``grouped``: commit it together with the claims other threads
        assert at the same time (one append and ``fsync`` for all; see :attr:`committer`)."""
        event = claimfile.claim_event(spec, self.source_text(str(spec.get("source", ""))))
        if idempotency_key is not None:
            event = Event(event.type, event.payload, idempotency_key)
        if grouped:
            event = Event(event.type, event.payload, event.idempotency_key, verified_as)
            return self.committer.submit([event], recorded_by=recorded_by)[0]
        return self.append([event], recorded_by=recorded_by,
                           verified_as=verified_as)[0]

    def retract(self, claim: str, reason: str, *, recorded_by: str = DEFAULT_AGENT,
                idempotency_key: str | None = None,
                verified_as: str | None = None) -> RecordedEvent:
        event = claimfile.retraction_event(claim, reason)
        event = Event(event.type, event.payload, idempotency_key)
        return self.append([event], recorded_by=recorded_by,
                           verified_as=verified_as)[0]

    def supersede(self, claim: str, by: str, reason: str, *, recorded_by: str = DEFAULT_AGENT,
                  idempotency_key: str | None = None,
                  cross_entity: str | None = None,
                  verified_as: str | None = None) -> RecordedEvent:
        """Append a ``ClaimSuperseded``: ``by`` (live, recorded later, about the same
        subject unless ``cross_entity`` says why not) replaces ``claim``. Raises
        :class:`InvalidEvent` (:class:`ModelViolation` for the rules of the model)."""
        event = claimfile.supersession_event(claim, by, reason, cross_entity)
        event = Event(event.type, event.payload, idempotency_key)
        return self.append([event], recorded_by=recorded_by,
                           verified_as=verified_as)[0]

    def ingest(self, document: Mapping[str, Any], *, base_dir: Path,
               recorded_by: str | None = None,
               progress: Progress | None = None) -> list[RecordedEvent]:
        """Append every event of a claim file, or none (one batch), in dependency order
        (:func:`geokb.write.document.compile_document`).

        Raises :class:`~geokb.errors.InvalidClaimFile` with every problem of the file (its
        rules and shapes), each at its file and line; nothing is written.
        """
        batch = document_.compile_all(document, base_dir=base_dir, lookup=self._log_lookup(),
                                      progress=progress)
        agent = recorded_by or str(document.get("recorded_by") or DEFAULT_AGENT)
        if batch.problems:
            raise self._file_problems(document, batch, agent)
        try:
            return self.append(batch.events, recorded_by=agent,
                               pending_texts=batch.pending_texts, progress=progress)
        except (InvalidEvent, ShapeViolation) as exc:
            # the first problem stopped admission: look again for all of them, at their lines
            problems = self._file_problems(document, batch, agent)
            if not problems.problems:
                raise
            raise problems from exc

    def _file_problems(self, document: Mapping[str, Any], batch: document_.Batch,
                       agent: str) -> InvalidClaimFile:
        """Every problem of a claim file: its entries' and, for the entries that compiled,
        admission's (rules; SHACL too when the rules pass)."""
        found, _ = self._admission().problems(batch.events, pending_texts=batch.pending_texts,
                                               recorded_by=agent, shapes=not batch.problems)
        return document_.file_problems(batch, found, str(getattr(document, "name", "<input>")))

    def ingest_plan(self, document: Mapping[str, Any], *, base_dir: Path,
                    recorded_by: str | None = None) -> document_.Plan:
        """What :meth:`ingest` would append, and the status it would leave each entity it
        touches in, without writing anything (``geokb ingest --dry-run``).

        Every check runs (rules and SHACL); the effects are read from a scratch in-memory
        projection of the log plus the batch. Raises
        :class:`~geokb.errors.InvalidClaimFile` as :meth:`ingest` does.
        """
        batch = document_.compile_all(document, base_dir=base_dir, lookup=self._log_lookup())
        agent = recorded_by or str(document.get("recorded_by") or DEFAULT_AGENT)
        with self._write_lock:
            self.catch_up()
            if batch.problems:
                raise self._file_problems(document, batch, agent)
            found, drafts = self._admission().problems(batch.events,
                                                       pending_texts=batch.pending_texts,
                                                       recorded_by=agent)
            if found:
                raise document_.file_problems(batch, found,
                                              str(getattr(document, "name", "<input>")))
            scratch = ProjectionStore()
            scratch.apply(self.log.read(after=0, limit=self.position))
        scratch.apply(drafts)
        touched = document_.touched_entities(drafts, self.projection)
        effects = []
        then = Reader(scratch, self.ontology.labels)
        with self._apply_lock:
            was = catalogue.conflicts(self.reader)
            will = catalogue.conflicts(then)
            for entity in touched:
                before = _status_of(self.reader, entity, self.single_valued)
                after = _status_of(then, entity, self.single_valued)
                assert after is not None  # the batch was admitted: its subjects exist
                effects.append({
                    "entity": entity, "before": before["line"] if before else None,
                    "after": after["line"],
                    "contested": after["assessment"] == "contested"
                    or any(entity in c["on"] for c in will.values())})
        return document_.Plan(events=drafts, effects=effects,
                              new_conflicts=[c for k, c in sorted(will.items()) if k not in was],
                              ended_conflicts=[c for k, c in sorted(was.items())
                                               if k not in will])

    def _admission(self) -> Admission:
        return Admission(self.projection, self.ontology, self.shapes, self.texts,
                         engine=self.shacl.for_writes(self.shapes, self.ontology),
                         context=self.context_cache)

    def _log_lookup(self) -> document_.LogLookup:
        return document_.projection_lookup(self.projection, self.source_text)

    def amend_entity(self, spec: Mapping[str, Any], *, recorded_by: str = DEFAULT_AGENT,
                     idempotency_key: str | None = None,
                     verified_as: str | None = None) -> RecordedEvent:
        """Append an ``EntityAmended`` (``spec`` as an ``amend_entities`` entry: ``id``,
        ``reason`` and the changes). Raises :class:`InvalidEvent`."""
        event = document_.amendment_event(spec)
        event = Event(event.type, event.payload, idempotency_key)
        return self.append([event], recorded_by=recorded_by,
                           verified_as=verified_as)[0]

    def retract_source(self, source: str, reason: str, *, recorded_by: str = DEFAULT_AGENT,
                       idempotency_key: str | None = None,
                       verified_as: str | None = None) -> list[RecordedEvent]:
        """Retract a source and, in the same batch, each of its live claims.

        Returns the events: the claims' ``ClaimRetracted`` then the ``SourceRetracted``.
        """
        events = document_.source_retraction({"source": source, "reason": reason}, [], set(),
                                             self._log_lookup())
        if idempotency_key is not None:  # on every event: a retry answers with them all
            events = [Event(e.type, e.payload, idempotency_key) for e in events]
        return self.append(events, recorded_by=recorded_by,
                           verified_as=verified_as)

    def link_claims(self, claim: str, *, denies: Sequence[str] = (),
                    confirms: Sequence[str] = (), contradicts: Sequence[str] = (),
                    note: str | None = None, recorded_by: str = DEFAULT_AGENT,
                    idempotency_key: str | None = None,
                    verified_as: str | None = None) -> RecordedEvent:
        """Append a ``ClaimsLinked``: ``claim`` denies/confirms/contradicts claims of the log."""
        spec: dict[str, Any] = {"claim": claim, "denies": list(denies),
                                "confirms": list(confirms), "contradicts": list(contradicts)}
        if note:
            spec["note"] = note
        event = document_.link_event(spec)
        event = Event(event.type, event.payload, idempotency_key)
        return self.append([event], recorded_by=recorded_by,
                           verified_as=verified_as)[0]

    def update(self, sparql: str, *, recorded_by: str, base_iri: str | None = None,
               using_graphs: Sequence[str] = (), using_named_graphs: Sequence[str] = (),
               idempotency_key: str | None = None,
               verified_as: str | None = None) -> list[RecordedEvent]:
        """Turn a SPARQL Update into one ``GraphUpdated`` event and append it.

        The quads it would delete and insert are computed against the projection, so
        replay reproduces the update exactly. Returns ``[]`` when it changes nothing.
        Raises :class:`QueryError` for an update that cannot be parsed or is refused.
        """
        from geokb.write.updates import update_event

        retry = self.append_backoff.start()
        with self._write_lock:
            if self.projection.read_only:
                with self._apply_lock:
                    self._in_memory("cannot take writes")
            while True:
                try:
                    with self._exclusive(retry):
                        self.catch_up()
                        event = update_event(self.projection, sparql, base_iri=base_iri,
                                             using_graphs=using_graphs,
                                             using_named_graphs=using_named_graphs)
                        if event is None:
                            return []
                        event = Event(event.type, event.payload, idempotency_key)
                        return self.append([event], recorded_by=recorded_by,
                                           expected_position=self.position,
                                           verified_as=verified_as)
                except AppendConflict as exc:
                    if not retry.wait():
                        raise AppendConflict(exc.expected, exc.actual, tries=retry.tries,
                                             seconds=retry.seconds) from exc

    def source(self, source: str) -> dict[str, Any]:
        """A source's metadata, its text, and the evidence spans that claims cite."""
        iri = NamedNode(claimfile.slug_iri(source, SOURCE, "source"))
        with self._apply_lock:
            return claims.source_json(self.projection, iri, self.texts)

    # -- queries ----------------------------------------------------------------------

    def snapshot(self, position: int) -> ProjectionStore:
        """A projection of the log up to ``position`` (cached): what the KB held then."""
        if position >= self.position:
            return self.projection
        if self.past is not None:  # a checkpoint and a short tail
            return self.past.at(position)
        with self._snapshot_lock:
            if position in self._snapshots:
                self._snapshots.move_to_end(position)
                return self._snapshots[position]
            store = ProjectionStore()
            store.apply(self.log.read(after=0, limit=position))
            self._snapshots[position] = store
            while len(self._snapshots) > SNAPSHOT_CACHE:
                self._snapshots.popitem(last=False)
            return store

    def resolve_as_of(self, as_of: str | int | None) -> int | None:
        """A log position from a position or a transaction time (ISO 8601, UTC).

        Raises :class:`~geokb.errors.BadTime` for anything else.
        """
        if as_of is None:
            return None
        if isinstance(as_of, int) and as_of < 0:
            raise BadTime(f"as-of {as_of}: a log position is 0 or more")
        if isinstance(as_of, int) or (str(as_of).isascii() and str(as_of).isdigit()):
            # more digits than any log has positions: "now" (int() refuses > 4300 digits)
            return self.position if len(str(as_of)) > 18 else min(int(as_of), self.position)
        from datetime import UTC, datetime

        text = str(as_of)
        try:
            if len(text) == 10:  # a day: as known at its end
                moment = datetime.fromisoformat(text).replace(hour=23, minute=59, second=59,
                                                              microsecond=999999, tzinfo=UTC)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        try:
            text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment \
                and moment.tzinfo else ""
        except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            text = ""
        if not text:
            raise BadTime(f"as-of {as_of!r}: give a log position or a UTC time like "
                          "2026-11-28T10:00:00Z")
        with self.reading():
            return position_at(self.projection, text)

    def _time(self, as_of: str | int | None, valid_at: str | None) -> TimeFilter:
        return TimeFilter.make(self.resolve_as_of(as_of), valid_at)

    def draft(self, path: str | os.PathLike[str], *, published: str | None = None,
              output: str | os.PathLike[str] | None = None) -> str:
        """A draft claim file (YAML text) for the article at ``path``, with this KB's
        entities matched by label and alias; nothing is registered or appended.

        Raises :class:`InvalidEvent` for a file that cannot be read as UTF-8 text.
        """
        from geokb.draft import draft_file

        with self._apply_lock:
            known = entities.declared_entities(self.reader)
        return draft_file(Path(path), published=published, kb_entities=known,
                          output=Path(output) if output is not None else None)

    def entities(self, *, type: str | None = None) -> list[dict[str, Any]]:
        """Every declared entity (or those of ``type``, e.g. ``gk:NavalBase``) with its live
        claim count (:func:`geokb.read.catalogue.entities`). Raises :class:`InvalidRequest`
        for a type with an unknown prefix."""
        with self._apply_lock:
            try:
                return catalogue.entities(self.reader, type=type)
            except ValueError as exc:
                raise InvalidRequest(f"type {type!r}: {exc}") from exc

    def find_entities(self, text: str) -> list[dict[str, Any]]:
        """The entities whose label, alias or slug contains ``text`` (normalised for case,
        diacritics and apostrophes), best matches first."""
        with self._apply_lock:
            return catalogue.find_entities(self.reader, text)

    def sources(self) -> list[dict[str, Any]]:
        """Every registered source with its live claim count and grades."""
        with self._apply_lock:
            return catalogue.sources(self.reader)

    def latest_claims(self, limit: int = 10) -> list[dict[str, Any]]:
        """The live claims recorded last, newest first, each as :meth:`claim` gives it."""
        with self._apply_lock:
            r = self.reader
            return [{**claims.claim_json(r, iri), **belief_json(r, iri)}
                    for iri in catalogue.latest_claims(r, limit)]

    def mentions(self, text: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """The sources whose text holds ``text`` (normalised), with the passages
        (:func:`geokb.read.catalogue.mentions`)."""
        with self._apply_lock:
            return catalogue.mentions(self.reader, self.texts, text, limit=limit)

    def described(self, text: str) -> list[dict[str, Any]]:
        """The entities whose description holds ``text`` (normalised)."""
        with self._apply_lock:
            return catalogue.described(self.reader, text)

    def entity(self, name: str, *, as_of: str | int | None = None) -> NamedNode:
        with self.reading():
            return entities.resolve_entity(self.reader, name, self.resolve_as_of(as_of))

    def status(self, name: str, *, as_of: str | int | None = None,
               valid_at: str | None = None, limit: int | None = PAGE_SIZE,
               offset: int = 0) -> dict[str, Any]:
        """The entity's status at a world time (its assessment, conflicts, undated claims)
        and a page of the claims about it, of what it said and of what it passed on
        (``limit=None``: all); ``answer["page"]["next"]`` holds the next page's arguments."""
        when = self._time(as_of, valid_at)
        with self._apply_lock:
            reader = self.reader
            entity = entities.resolve_entity(reader, name, when.as_of)
            t = world_time(reader, when.as_of, valid_at)
            return status.status(reader, entity, when, t=t, single_valued=self.single_valued,
                                  limit=limit, offset=offset)

    def timeline(self, name: str, *, as_of: str | int | None = None,
                 valid_at: str | None = None, limit: int | None = PAGE_SIZE,
                 offset: int = 0) -> dict[str, Any]:
        """A page of the claims about the entity in world-time order (see :meth:`status`)."""
        when = self._time(as_of, valid_at)
        with self._apply_lock:
            reader = self.reader
            entity = entities.resolve_entity(reader, name, when.as_of)
            t = world_time(reader, when.as_of, valid_at)
            return status.timeline(reader, entity, when, t=t, limit=limit, offset=offset)

    def conflicts(self, entity: str | None = None, *, as_of: str | int | None = None,
                  valid_at: str | None = None, limit: int | None = PAGE_SIZE,
                  offset: int = 0) -> dict[str, Any]:
        """The conflicts covering a world time among the claims known at ``as_of``: all,
        or those on the entity or mentioning it (``docs/json-schema.md``). Raises
        :class:`NotFound` for an unknown entity and :class:`BadTime` for a bad date."""
        when = self._time(as_of, valid_at)
        with self._apply_lock:
            reader = self.reader
            iri = entities.resolve_entity(reader, entity, when.as_of) \
                if entity is not None else None
            t = world_time(reader, when.as_of, valid_at)
            return conflicts.conflicts(reader, iri, when, t=t, single_valued=self.single_valued,
                                     limit=limit, offset=offset)

    @cached_property
    def single_valued(self) -> frozenset[str]:
        """The properties the ontology declares single-valued (``gk:SingleValuedProperty``)."""
        found = frozenset(str(p) for p in self.ontology.graph.subjects(
            rdflib.RDF.type, rdflib.URIRef(GK.SingleValuedProperty.value)))
        return found or frozenset({GK.status.value})

    def claim(self, claim: str, *, as_of: str | int | None = None) -> dict[str, Any]:
        iri = NamedNode(claimfile.slug_iri(claim, CLAIM, "claim"))
        pos = self.resolve_as_of(as_of)
        with self._apply_lock:
            if pos is not None:
                start = as_int(self.projection.one(iri, GK.knownFromPosition))
                if start is None or start > pos:
                    raise NotFound(f"claim {claim} was not yet recorded at position {pos}")
            return {**claims.claim_json(self.reader, iri, pos),
                    **belief_json(self.reader, iri)}

    def query(self, sparql: str, *, as_of: str | int | None = None,
              valid_at: str | None = None, allow_service: bool = False,
              **options: Any) -> Any:
        """Run SPARQL on the projection (or on the snapshot at ``as_of``).

        ``valid_at`` restricts the default graph's current view to claims valid then. The
        query first passes :func:`geokb.sparql.guard.guard`: size, nesting depth, and
        SERVICE — decided by a full parse — unless ``allow_service``.
        Raises :class:`~geokb.errors.QueryError` for a parse error (``QueryRefused`` for
        SERVICE, ``TooLarge``), ``BadTime`` for an unreadable ``as_of`` or ``valid_at``, and
        ``OSError`` for evaluation errors.
        """
        return self.prepare(sparql, as_of=as_of, valid_at=valid_at,
                            allow_service=allow_service, **options)()

    def prepare(self, sparql: str, *, as_of: str | int | None = None,
                valid_at: str | None = None, allow_service: bool = False,
                **options: Any) -> Callable[[], Any]:
        """:meth:`query` up to the evaluation: the guard runs and the dataset is chosen now
        (raising as :meth:`query` does); calling the result evaluates the query — in this
        process, or in a worker forked under :meth:`holding_still`."""
        guard(sparql, allow=frozenset({"SERVICE"}) if allow_service else frozenset())
        with self.reading():
            pos = self.resolve_as_of(as_of)
        if valid_at is not None and self.past is not None:
            # takes _apply_lock itself, so outside the fork gate (never that lock inside it)
            store = self._valid_on_disk(self.position if pos is None else pos, valid_at)
        else:
            with self.reading():
                store = self.projection if pos is None else self.snapshot(pos)
                if valid_at is not None:
                    store = self._valid_view(store, valid_at)
        options.setdefault("prefixes", PREFIXES)
        return partial(store.query, sparql, **options)

    @contextlib.contextmanager
    def holding_still(self) -> Iterator[None]:
        """No event is applied to the projection, and no thread reads it, while inside
        (held briefly: for a fork, so that no lock of the store is held in the copy by a
        thread the copy does not have). Takes ``_apply_lock`` (writers, REST reads), then
        the fork gate's exclusive side (:meth:`reading`)."""
        with self._apply_lock, self._fork_gate.forking():
            yield

    def after_fork(self) -> None:
        """In a forked query worker (:mod:`geokb.sparql.pool`), before it reads: the locks
        as a process with one thread has them. The fork was taken under
        :meth:`holding_still`, so the copies of ``_apply_lock`` and the fork gate are held
        by a thread the worker does not have."""
        self._apply_lock = threading.RLock()
        self._fork_gate = ForkGate()
        self._snapshot_lock = threading.Lock()

    def _valid_on_disk(self, position: int, valid_at: str) -> ProjectionStore:
        """The valid view at ``position``: a hard-link copy with the dropped quads removed,
        kept (by position and date) among the history's past stores."""
        assert self.past is not None
        self._time(None, valid_at)  # a bad date is refused as everywhere else
        t = span(valid_at)
        head = self.projection if position >= self.position else None
        return self.past.at(min(position, self.position), valid_at,
                               lambda store: dropped(Reader(store, self.ontology.labels), t),
                               head=head, head_lock=self._apply_lock)

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Held by a thread that touches the store outside ``_apply_lock`` (a query's
        evaluation and serialisation): no fork happens while inside. Re-entrant; never
        take ``_apply_lock`` inside it (a fork holding that lock waits for readers)."""
        return self._fork_gate.reading()

    def _valid_view(self, store: ProjectionStore, valid_at: str) -> ProjectionStore:
        self._time(None, valid_at)  # a bad date is refused as everywhere else
        return valid_view(Reader(store, self.ontology.labels), span(valid_at))

    def history(self, *, after: int = 0, limit: int | None = None, event_type: str | None = None,
                about: str | None = None) -> Iterator[RecordedEvent]:
        """The log, filtered by type and by an IRI or slug its payload mentions."""
        if limit is not None and limit <= 0:
            return
        needle = None
        if about:
            try:
                needle = about if "://" in about else (expand(about) if ":" in about else about)
            except ValueError as exc:  # an unknown prefix
                raise InvalidEvent(f"about {about!r}: {exc}") from exc
        count = 0
        for event in self.log.read(after=after):
            if event_type and event.type != event_type:
                continue
            if needle and not _mentions(event.payload, needle):
                continue
            yield event
            count += 1
            if limit is not None and count >= limit:
                return

    def rebuild(self, *, progress: Progress | None = None) -> str:
        """Replay the whole log into a fresh in-memory projection; its canonical hash."""
        fresh = ProjectionStore()
        events: Iterable[RecordedEvent] = self.log.read(after=0)
        if progress is not None:
            events = _reporting(events, progress, "replaying the log", self.log.head().position)
        fresh.apply(events)
        if progress is not None:
            progress("hashing the projection", 0, 0)
        digest = fresh.canonical_hash()
        if progress is not None:
            progress("hashing the projection", 1, 1)
        return digest

    def validate(self, *, progress: Progress | None = None, since: str | None = None) -> Report:
        """Check the whole KB: the hash chain, a replay with every rule, SHACL (by the
        choice's whole-KB engine) and every quote, in a projection of its own; and that
        the views (of that projection, and of this KB's own on disk) match the live claims.

        With ``since`` (an anchor as :meth:`verify_against` takes it), the log must extend
        it unchanged and only what the events after it add or change is checked
        (``geokb validate --since``, see :mod:`geokb.ops.validate`).

        Raises :class:`~geokb.errors.OntologyError` (or ``OSError``) when it cannot run,
        :class:`~geokb.errors.SettingsError` for a ``since`` that names no head.
        """
        return validate_log(self.log, texts=self.texts, ontology=self.ontology,
                            shapes=self.shapes,
                            validator=self.shacl.for_whole_kb(self.shapes, self.ontology),
                            progress=progress,
                            projection=self.projection if self.projection_path else None,
                            since=None if since is None else anchor.resolve(since,
                                                                            self.directory),
                            store_at=self.past.scratch_at if self.past is not None else None)

    def check(self, directory: Path, *, budget: float | None = None,
              since: str | None = None, whole: bool = False) -> list[CheckResult]:
        """Run the KB's assertions (``*.rq`` ASK files in ``directory``) on the projection,
        each within ``budget`` seconds (default 60). With ``since`` (an anchor as
        :meth:`verify_against` takes it) a check that declares ``# concerns: ?var`` is
        asked only about what the events after the anchor changed (see
        :mod:`geokb.ops.checks`). Without it, on a projection on disk, a check that passed
        the last whole run is asked only about what changed since that run, unless
        ``whole`` (see :mod:`geokb.ops.check_memory`).

        Raises :class:`~geokb.errors.QueryError` for a bad file, :class:`CorruptLog` if the
        log does not extend ``since`` unchanged.
        """
        concerning = None
        remembered: check_memory.Memory | None = None
        at, at_hash = self.position, self.projection.head_hash  # what the run will have seen
        if since is not None:
            trusted = anchor.resolve(since, self.directory)
            broken = anchor.check_extends(self.log, trusted)
            if broken:
                raise CorruptLog(broken[0].message)
            concerning = self._changed_since(anchor.position_of(self.log, trusted))
        elif self.projection_path is not None and not whole:
            remembered = check_memory.read(self.projection_path)
            if remembered is not None and (remembered.position > at or anchor.check_extends(
                    self.log, anchor.Anchor(remembered.position, remembered.hash,
                                            "the last check run"))):
                remembered = None  # of another history, or ahead of this projection
            concerning = self._changed_since(remembered.position) if remembered else None
        results = run_checks(
            self.query, directory, concerning=concerning,
            budget=DEFAULT_BUDGET if budget is None else budget,
            ask=partial(ask_within, prepare=self._prepare_reopened, hold=self.holding_still),
            restrict=None if remembered is None else (
                lambda c: check_memory.digest(c.text) in remembered.passed),
            since=None if remembered is None else remembered.position)
        if since is None and self.projection_path is not None:
            check_memory.write(self.projection_path, check_memory.Memory(
                at, at_hash, frozenset(r.digest for r in results if r.passed)))
        return results

    def _changed_since(self, after: int) -> list[str] | None:
        """The bases the events after position ``after`` change (None after a SPARQL
        update, which may have changed any: then every check runs whole)."""
        changed = list(self.log.read(after=after))
        if any(e.type == GRAPH_UPDATED for e in changed):
            return None
        with self._apply_lock:
            return affected_bases(self.projection, changed, reach_of(self.shapes).deep)

    def _prepare_reopened(self, sparql: str) -> Callable[[], Any]:
        """:meth:`prepare` for a forked worker that reads an on-disk projection through a
        handle of its own (``Store.read_only``, tens of milliseconds) rather than the one it
        inherits: RocksDB's background threads (a flush or compaction after a write) can
        hold a lock of that handle at the fork, and the worker would wait on it forever —
        a check of the README's tour did, until its budget. In memory, the inherited store
        (no background threads)."""
        inherited = self.prepare(sparql)
        path, want = self.projection_path, self.position
        if path is None:
            return inherited

        def reopened() -> Any:
            # the writer may be compacting: a file listed at the open can be gone by the
            # time it is read ("MANIFEST may be corrupted"); the next try sees the new one
            for attempt in range(REOPEN_TRIES):
                try:
                    store = ProjectionStore(path, read_only=True)
                except (OSError, RuntimeError):
                    time.sleep(0.02 * (attempt + 1))
                    continue
                if store.position == want and store.consistent:
                    return store.query(sparql, prefixes=PREFIXES)
                break
            return inherited()

        return reopened

    def create_snapshot(self, target: str | os.PathLike[str]) -> dict[str, Any]:
        """Copy the on-disk projection, as it stands, to the new directory ``target`` with
        its log position and hash (see :mod:`geokb.projection.snapshot`); its manifest.
        Raises :class:`InvalidRequest` for an in-memory projection or a non-empty target."""
        with self._apply_lock:
            return projection_snapshot.create(
                self.projection, self._mark.mark if self._mark is not None else None,
                Path(target))

    def head_check(self) -> None:
        """Raise :class:`CorruptLog` if the projection is ahead of the log."""
        head = self.log.head()
        if head.position < self.position:
            raise CorruptLog(f"projection at {self.position} but log ends at {head.position}")

    def verify(self) -> Report:
        """Check the whole log against its hash chain (``geokb verify``): every edited,
        removed, inserted or reordered event, located at its line (or row).

        Returns the report; raises ``OSError`` or ``ConnectionError`` when the log cannot be
        read at all.
        """
        return verify_log(self.log)

    def verify_against(self, base: str, *, allowed_signers: Path | None = None) -> Report:
        """:meth:`verify`, and that the log extends the trusted head ``base`` unchanged
        (``geokb verify --base``): a head line, a bare hash, a file holding one, or a git
        ref of the KB's repository (see :mod:`geokb.ops.anchor`). With ``allowed_signers``
        the anchor must also carry a valid SSH signature by one of them.

        The lines the anchor vouches for are checked by their bytes (each still hashing to
        the hash it carries and linked to the one before: :func:`~geokb.ops.verify.scan_after`),
        the lines after it in full: a past byte changed is found either way, in seconds at a
        million events. A log that does not extend the anchor is verified whole, to say
        what else is wrong with it.

        Raises :class:`~geokb.errors.SettingsError` for a ``base`` that names no head.
        """
        trusted = anchor.resolve(base, self.directory)
        broken = anchor.check_extends(self.log, trusted)
        if broken or trusted.position is None:
            report = verify_log(self.log)
            report.problems.extend(broken)
        else:
            report = scan_after(self.log, trusted.position, trusted.hash, keep=False)[0]
        if allowed_signers is not None:
            signer, why = anchor.check_signature(trusted, allowed_signers)
            if signer is None:
                report.problems.append(Problem(self.log.display_path, trusted.position or 0,
                                               why, "signature"))
            else:
                report.warnings.append(f"{trusted.origin} is signed by {signer}")
        return report

    def head(self, *, sign_with: Path | None = None) -> str:
        """The log's head as ``<position> <hash>`` (``geokb head``), to publish or pin; with
        ``sign_with`` (an SSH private key) followed by its signature (``ssh-keygen -Y``)."""
        text = anchor.head_text(self.log)
        return anchor.sign(text, sign_with) if sign_with is not None else text + "\n"


def projection_exists(path: str | os.PathLike[str]) -> bool:
    """Whether an on-disk projection was ever built at ``path`` (it holds its log mark)."""
    return (Path(path) / MARK_NAME).is_file()


def restore_snapshot(source: str | os.PathLike[str], projection_path: str | os.PathLike[str],
                     *, directory: str | os.PathLike[str],
                     log: EventStore | None = None) -> dict[str, Any]:
    """Put the snapshot in ``source`` where the projection lives (``projection_path``), if
    the log (``log``, else the file log in ``directory``) holds its events; open a
    :class:`KnowledgeBase` on it afterwards to catch up the tail. Raises
    :class:`InvalidRequest` for a snapshot of another log (or no snapshot) and
    :class:`~geokb.errors.Unavailable` while another process holds the projection."""
    events = log if log is not None else FileEventStore(directory)
    mark = projection_snapshot.restore(Path(source), Path(projection_path), events)
    # a checkpoint at the snapshot's position: `validate --since` that position (a pull
    # request's base, restored in CI) starts from it instead of replaying the log
    History(Path(projection_path), events).checkpoint(ProjectionStore(Path(projection_path)))
    return mark.to_json()


def _weak_commit(ref: weakref.ref[KnowledgeBase]) -> Callable[
        [Sequence[Request[list[RecordedEvent]]]], list[list[RecordedEvent] | BaseException]]:
    """``append_group`` of the KB ``ref`` points to, without a reference to it."""
    def commit(group: Sequence[Request[list[RecordedEvent]]]
               ) -> list[list[RecordedEvent] | BaseException]:
        kb = ref()
        if kb is None:
            raise RuntimeError("the KnowledgeBase of this committer is gone")
        return kb.append_group(group)
    return commit


def _reporting(events: Iterable[RecordedEvent], progress: Progress, stage: str,
               total: int) -> Iterator[RecordedEvent]:
    """``events``, reporting every :data:`PROGRESS_EVERY` of them (and the last) as done."""
    done = 0
    progress(stage, 0, total)
    for event in events:
        yield event
        done += 1
        if done % PROGRESS_EVERY == 0:
            progress(stage, done, max(total, done))
    progress(stage, done, max(total, done))


def _status_of(reader: Reader, entity: str,
               single_valued: frozenset[str]) -> dict[str, Any] | None:
    """The entity's status now (``{line, assessment}``, as ``geokb status`` puts it), or
    None if it is not declared."""
    node = NamedNode(entity)
    if reader.store.one(node, GK.declaredIn) is None:
        return None
    t = world_time(reader, None, None)
    answer = status.status(reader, node, TimeFilter.make(None, None), t=t,
                           single_valued=single_valued, limit=1)
    return {"line": answer["line"], "assessment": answer["assessment"]}


def _mentions(value: object, needle: str) -> bool:
    if isinstance(value, str):
        return value == needle or value.endswith("/" + needle) or value.endswith("#" + needle)
    if isinstance(value, dict):
        return any(_mentions(v, needle) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, needle) for v in value)
    return False
