"""The projection store: replay in batches equals applying events one at a time, one
position marker, and a kill between the two steps of a batch loses nothing."""

from __future__ import annotations

import gc
import hashlib
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import DefaultGraph, NamedNode, Quad

import geokb.projection.store
from geokb.errors import InvalidEvent
from geokb.kb import KnowledgeBase
from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    ENTITY_DECLARED,
    GRAPH_UPDATED,
    Event,
    RecordedEvent,
)
from geokb.log.file import FileEventStore
from geokb.projection import conflicts
from geokb.projection.quads import APPLIED, DEFAULT, REDO, SYSTEM_GRAPH, SYSTEM_NODE, quads_for
from geokb.projection.store import ProjectionStore
from geokb.vocab import (
    ATTRIBUTED_GRAPH,
    CLAIM,
    FACTUAL_MODALITIES,
    GK,
    ID,
    MODALITY,
    RDF,
    RDFS,
    XSD,
    term_value,
)
from tests.harness.documents import mini_document
from tests.log.test_eventstore import count_decodes

# -- the reference: one event at a time, as the data model says -------------------------


def reference_hash(events: Sequence[RecordedEvent]) -> str:
    """Apply ``events`` one by one to a plain pyoxigraph store (no batches, no threads),
    then derive the conflicts from scratch."""
    store = ox.Store()
    for event in events:
        data = ("\n".join(quads_for(event)) + "\n").encode("utf-8")
        if event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            for q in _unsupported(store, NamedNode(event.payload["claim"])):
                store.remove(q)
        elif event.type == GRAPH_UPDATED:
            for line in event.payload["delete"]:
                for q in ox.parse(line.encode(), format=ox.RdfFormat.N_QUADS):
                    store.remove(q)
            data += ("\n".join(event.payload["insert"]) + "\n").encode("utf-8")
        store.load(data, format=ox.RdfFormat.N_QUADS)
    derived = [line for c in conflicts.find(store, conflicts.all_keys(store),
                                            live=conflicts.projection_live(store))
               for line in conflicts.conflict_lines(c)]
    if derived:
        store.load(("\n".join(derived) + "\n").encode("utf-8"), format=ox.RdfFormat.N_QUADS)
    lines = sorted(f"{q} .\n" for q in store if q.graph_name != SYSTEM_GRAPH)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def _modalities(store: ox.Store, claim: NamedNode) -> set[str]:
    return {term_value(q.object) for q in store.quads_for_pattern(claim, GK.modality, None,
                                                                  DEFAULT)}


def _unsupported(store: ox.Store, claim: NamedNode) -> list[Quad]:
    """The plain statements of ``claim``, in the graph its modality sends them to (default:
    asserted; else the attributed view; both for a claim given both kinds, which only a
    malformed log does), that no other live claim sent to the same graph states: what
    ending ``claim`` removes."""
    def live_in(g: NamedNode, factual: bool) -> bool:
        if any(True for _ in store.quads_for_pattern(g, GK.knownUntilPosition, None, DEFAULT)):
            return False
        return any((m in FACTUAL_MODALITIES) == factual for m in _modalities(store, g))

    assert any(True for _ in store.quads_for_pattern(claim, GK.assertedIn, None, DEFAULT))
    out = []
    for factual in {m in FACTUAL_MODALITIES for m in _modalities(store, claim)}:
        graph = DefaultGraph() if factual else ATTRIBUTED_GRAPH
        for q in store.quads_for_pattern(None, None, None, claim):
            if not any(isinstance(o.graph_name, NamedNode) and o.graph_name != claim
                       and live_in(o.graph_name, factual)
                       for o in store.quads_for_pattern(q.subject, q.predicate, q.object,
                                                        None)):
                out.append(Quad(q.subject, q.predicate, q.object, graph))
    return out


# -- random logs that share statements, and bookkeeping look-alikes -------------------------

ENTITIES = [ID[f"e{i}"].value for i in range(3)]
CLAIMS = [CLAIM[f"c{i}"].value for i in range(8)]
PREDICATES = ["http://ex.org/p", RDFS.label.value, RDF.type.value, GK.modality.value,
              GK.knownUntilPosition.value, GK.assertedIn.value]
OBJECTS: list[dict[str, str]] = [
    {"iri": "http://ex.org/o"}, {"iri": MODALITY.asserted.value}, {"iri": GK.Claim.value},
    {"value": "Foo", "lang": "en"}, {"value": "Foo", "lang": "EN"}, {"value": "Foo"},
    {"value": "1", "datatype": XSD.integer.value}, {"value": 'say "hi"\\', "lang": "en-GB"}]
MODALITIES = [MODALITY[m].value for m in ("asserted", "quoted", "denied", "analysis")]


class LogBuilder:
    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self.asserted: list[str] = []

    def add(self, type_: str, payload: dict[str, Any]) -> None:
        n = len(self.events) + 1
        self.events.append(RecordedEvent(
            id=uuid.UUID(int=n).hex, type=type_, schema=1, position=n,
            recorded_at="2026-01-01T00:00:00.000000Z", recorded_by="test", payload=payload,
            prev="0" * 64, hash=f"{n:064x}"))

    def step(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "entity":
            self.add(ENTITY_DECLARED, {"entity": ENTITIES[op[1]], "types": [GK.Claim.value],
                                       "label": "Foo", "aliases": []})
        elif kind == "claim":
            _, claim, subject, predicate, obj, modality = op
            self.add(CLAIM_ASSERTED, {
                "claim": CLAIMS[claim], "subject": (ENTITIES + CLAIMS)[subject],
                "predicate": PREDICATES[predicate], "object": OBJECTS[obj],
                "modality": MODALITIES[modality], "source": "http://ex.org/src",
                "evidence": {"quote": "q", "prefix": "", "suffix": "", "start": 0, "end": 1,
                             "sha256": "0" * 64}})
            self.asserted.append(CLAIMS[claim])
        elif kind in ("retract", "supersede") and self.asserted:
            claim = self.asserted[op[1] % len(self.asserted)]
            if kind == "retract":
                self.add(CLAIM_RETRACTED, {"claim": claim, "reason": "r"})
            else:
                self.add(CLAIM_SUPERSEDED, {"claim": claim, "by": CLAIMS[op[2]],
                                            "reason": "r"})
        elif kind == "update":
            triple = f"<{ENTITIES[op[1]]}> <{RDFS.label.value}> \"Foo\"@en"
            graph = f" <{CLAIMS[op[2]]}>" if op[3] else ""
            change = [f"{triple}{graph} ."]
            self.add(GRAPH_UPDATED, {"delete": change if op[4] else [],
                                     "insert": [] if op[4] else change})


OPS = st.one_of(
    st.tuples(st.just("entity"), st.integers(0, 2)),
    st.tuples(st.just("claim"), st.integers(0, 7), st.integers(0, 10), st.integers(0, 5),
              st.integers(0, 7), st.integers(0, 3)),
    st.tuples(st.just("claim"), st.integers(0, 7), st.integers(0, 2), st.integers(0, 2),
              st.integers(3, 5), st.integers(0, 1)),  # more statements in common
    st.tuples(st.just("retract"), st.integers(0, 50)),
    st.tuples(st.just("supersede"), st.integers(0, 50), st.integers(0, 7)),
    st.tuples(st.just("update"), st.integers(0, 2), st.integers(0, 7), st.booleans(),
              st.booleans()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(OPS, min_size=1, max_size=60), batch=st.sampled_from([1, 5, 30, 20_000]),
       split=st.integers(0, 60), slow=st.booleans())
def test_replay_in_batches_equals_one_event_at_a_time(ops: list[tuple[Any, ...]], batch: int,
                                                      split: int, slow: bool) -> None:
    """Retractions and supersessions resolved inside a batch (from the store and from the
    events not yet written), in one apply or two, give what one event at a time gives."""
    log = LogBuilder()
    for op in ops:
        log.step(op)
    expected = reference_hash(log.events)
    old = geokb.projection.store.BATCH_QUADS
    geokb.projection.store.BATCH_QUADS = batch
    try:
        store = ProjectionStore()
        if slow:  # the worker lags: retractions must look at batches not written yet
            store._write_batch = _slowed(store._write_batch)  # type: ignore[method-assign]
        store.apply(log.events[:split])
        store.apply(log.events)
    finally:
        geokb.projection.store.BATCH_QUADS = old
    assert store.canonical_hash() == expected
    assert store.position == len(log.events)
    if log.events:
        assert markers(store) == [f"{len(log.events)} {log.events[-1].hash}"]


def _slowed(write: Any) -> Any:
    def slowly(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.002)
        write(*args, **kwargs)

    return slowly


def markers(store: ProjectionStore) -> list[str]:
    return [term_value(q.object)
            for q in store.quads(SYSTEM_NODE, APPLIED, None, SYSTEM_GRAPH)]


def notes(store: ProjectionStore) -> list[Quad]:
    return list(store.quads(SYSTEM_NODE, REDO, None, SYSTEM_GRAPH))


def backlog(claims: int, retract_every: int = 4) -> list[RecordedEvent]:
    """Claims of their own statements; every ``retract_every``-th retracts an earlier one."""
    log = LogBuilder()
    for i in range(claims):
        log.add(CLAIM_ASSERTED, {
            "claim": CLAIM[f"b{i}"].value, "subject": ENTITIES[i % 3],
            "predicate": "http://ex.org/p", "object": {"value": f"v{i % 50}"},
            "modality": MODALITIES[i % 3], "source": "http://ex.org/src",
            "evidence": {"quote": "q", "prefix": "", "suffix": "", "start": 0, "end": 1,
                         "sha256": "0" * 64}})
        if i % retract_every == retract_every - 1:
            log.add(CLAIM_RETRACTED, {"claim": CLAIM[f"b{i - 2}"].value, "reason": "r"})
    return log.events


# -- markers ----------------------------------------------------------------------------


@pytest.mark.parametrize("on_disk", [False, True])
def test_exactly_one_marker_after_many_applies(tmp_path: Path, on_disk: bool,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geokb.projection.store, "BATCH_QUADS", 50)
    events = backlog(120)
    store = ProjectionStore(tmp_path / "p" if on_disk else None)
    for start in range(0, len(events), 7):
        store.apply(events[start:start + 7])
        assert markers(store) == [f"{store.position} {store.head_hash}"]
    store.apply(events)  # one apply of many batches
    assert markers(store) == [f"{len(events)} {events[-1].hash}"] and not notes(store)
    assert store.canonical_hash() == reference_hash(events)


class _Died(BaseException):
    """Stands for SIGKILL in-process."""


class _DiesAtSecondStep:
    """A store whose update fails (``error``) when the removals of a batch after the
    ``after``-th are about to be made."""

    def __init__(self, store: ox.Store, after: int, error: BaseException) -> None:
        self.store, self.after, self.error = store, after, error

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def update(self, sparql: str, **options: Any) -> None:
        if REDO.value in sparql and sparql.startswith("DELETE DATA"):
            self.after -= 1
            if self.after < 0:
                raise self.error
        self.store.update(sparql, **options)


def test_a_kill_between_the_two_steps_of_a_batch_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the load of a batch (its quads, its position and the note of its removals)
    and before its removals, the next open makes the removals: the store then holds
    exactly the events up to its position."""
    monkeypatch.setattr(geokb.projection.store, "BATCH_QUADS", 60)
    events = backlog(80)
    path = tmp_path / "p"
    store = ProjectionStore(path)
    store.apply(events[:3])  # a catch-up, not a build from 0 (that one bulk-loads)
    store._store = _DiesAtSecondStep(store._store, 2, _Died())  # type: ignore[assignment]
    with pytest.raises(_Died):
        store.apply(events)
    del store
    gc.collect()
    raw = ox.Store(str(path))
    assert len(list(raw.quads_for_pattern(SYSTEM_NODE, REDO, None, SYSTEM_GRAPH))) == 1
    assert len(list(raw.quads_for_pattern(SYSTEM_NODE, APPLIED, None, SYSTEM_GRAPH))) == 2
    del raw
    gc.collect()
    reopened = ProjectionStore(path)
    position = reopened.position
    assert 0 < position < len(events)
    assert reopened.canonical_hash() == reference_hash(events[:position])
    assert markers(reopened) == [f"{position} {events[position - 1].hash}"]
    assert not notes(reopened)
    reopened.apply(events)
    assert reopened.canonical_hash() == reference_hash(events)


def test_retraction_of_an_unknown_claim_leaves_a_prefix(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setattr(geokb.projection.store, "BATCH_QUADS", 40)
    events = backlog(30)
    log = LogBuilder()
    log.events = list(events)
    log.add(CLAIM_RETRACTED, {"claim": "https://w3id.org/geokb/claim/never", "reason": "r"})
    log.events += [RecordedEvent(**{**e.__dict__, "position": e.position + len(log.events)})
                   for e in backlog(3)]
    store = ProjectionStore()
    with pytest.raises(InvalidEvent, match="not in the projection"):
        store.apply(log.events)
    assert store.position <= len(events)
    assert store.canonical_hash() == reference_hash(events[:store.position])
    assert markers(store) == [f"{store.position} {store.head_hash}"]


# -- restart ----------------------------------------------------------------------------


def test_restart_reads_only_the_end_of_the_log(kb_dir: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Reopening a KB with an on-disk projection checks the event at its position and
    catches up: it decodes those lines, not the log."""
    kb = KnowledgeBase(kb_dir, projection_path=tmp_path / "p")
    kb.ingest(mini_document(), base_dir=kb_dir)
    for i in range(30):
        kb.declare_entity({"id": f"x{i}", "types": ["gk:Person"], "label": f"X {i}"})
    position = kb.position
    del kb
    gc.collect()
    decodes = count_decodes(monkeypatch)
    kb = KnowledgeBase(kb_dir, projection_path=tmp_path / "p")
    assert kb.position == position and decodes[0] <= 2
    KnowledgeBase(kb_dir).retract("tartus-unclear", "wrong")  # another process appends
    decodes[0] = 0
    assert kb.catch_up() == 1
    assert decodes[0] == 1


def test_replay_of_a_file_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The log is read (and decoded) while the worker thread writes batches."""
    monkeypatch.setattr(geokb.projection.store, "BATCH_QUADS", 500)
    directory = tmp_path / "kb"
    events = backlog(400)
    log = FileEventStore(directory)
    log.append([Event(e.type, e.payload) for e in events], expected_position=0,
               recorded_by="test")
    recorded = list(log.read())
    store = ProjectionStore()
    assert store.apply(log.read()) == len(events)
    assert store.canonical_hash() == reference_hash(recorded)


@pytest.mark.parametrize("change", [{"id": "not an id"}, {"claim": "https://ex.org/c#frag"}])
def test_iris_made_from_an_event_are_checked(change: dict[str, str]) -> None:
    """Batches load without pyoxigraph checking IRIs again (the payload's were checked when
    the event was decoded); the IRIs made from the event's id and claim are checked here."""
    [event] = backlog(1)
    if "id" in change:
        event = RecordedEvent(**{**event.__dict__, "id": change["id"]})
    else:
        event = RecordedEvent(**{**event.__dict__,
                                 "payload": {**event.payload, "claim": change["claim"]}})
    store = ProjectionStore()
    with pytest.raises(InvalidEvent, match="malformed payload"):
        store.apply([event])
    assert store.position == 0 and store.size() == 0


def test_a_failed_second_step_is_finished_by_the_next_apply(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geokb.projection.store, "BATCH_QUADS", 60)
    events = backlog(80)
    store = ProjectionStore()
    store.apply(events[:3])  # a catch-up, not a replay from 0 (that one bulk-loads)
    real = store._store
    store._store = _DiesAtSecondStep(real, 1, OSError("disk full"))  # type: ignore[assignment]
    with pytest.raises(OSError, match="disk full"):
        store.apply(events)
    store._store = real
    assert notes(store) and len(markers(store)) == 2
    position = store.position
    store.apply([])
    assert not notes(store) and markers(store) == [f"{position} {store.head_hash}"]
    assert store.canonical_hash() == reference_hash(events[:position])
    store.apply(events)
    assert store.canonical_hash() == reference_hash(events)
