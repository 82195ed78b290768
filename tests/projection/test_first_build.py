"""The first on-disk build: one bulk load between checkpoints, conflicts worked out once a
stretch, and a kill in a stretch leaves a store the next open empties."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

import geokb.projection.store
from geokb.log.events import Event, RecordedEvent
from geokb.log.file import FileEventStore
from geokb.projection.history import History, kept
from geokb.projection.quads import APPLIED, BULK, REDO, SYSTEM_GRAPH, SYSTEM_NODE
from geokb.projection.store import ProjectionStore
from tests.projection.test_store import backlog, markers, reference_hash

EVERY, DENSE = 20, 4


class _Counting:
    """A pyoxigraph store that counts its loads (``bulk_load`` and transactional ``load``)
    and can stand for a kill (``die_at``: the bulk load of that number, counted from 1)."""

    def __init__(self, store: ox.Store, die_at: int | None = None) -> None:
        self.store, self.die_at = store, die_at
        self.bulk = self.loads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def bulk_load(self, *args: Any, **kwargs: Any) -> None:
        self.bulk += 1
        if self.bulk == self.die_at:
            raise _Died
        self.store.bulk_load(*args, **kwargs)

    def load(self, *args: Any, **kwargs: Any) -> None:
        self.loads += 1
        self.store.load(*args, **kwargs)


class _Died(BaseException):
    """Stands for SIGKILL in-process."""


@pytest.fixture
def log(tmp_path: Path) -> tuple[FileEventStore, list[RecordedEvent]]:
    store = FileEventStore(tmp_path / "kb")
    events = backlog(240)
    store.append([Event(e.type, e.payload) for e in events], expected_position=0,
                 recorded_by="test")
    return store, list(store.read())


def _history(path: Path, log: FileEventStore) -> History:
    history = History(path, log, every=EVERY)
    history.dense = DENSE
    return history


def _counted(path: Path, log: FileEventStore) -> tuple[ProjectionStore, _Counting, History]:
    """An empty on-disk projection at ``path`` whose loads are counted, and its history."""
    store = ProjectionStore(path)
    counting = _Counting(store._store)
    store._store = counting  # type: ignore[assignment]
    return store, counting, _history(path, log)


def test_a_first_build_stops_only_at_the_last_checkpoints(
        tmp_path: Path, log: tuple[FileEventStore, list[RecordedEvent]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geokb.projection.store, "BATCH_QUADS", 200)
    events_log, recorded = log
    path = tmp_path / "p"
    store, counting, history = _counted(path, events_log)
    assert history.apply(store, events_log.read()) == len(recorded)
    assert store.canonical_hash() == reference_hash(recorded)
    assert markers(store) == [f"{len(recorded)} {recorded[-1].hash}"]
    head = len(recorded) - len(recorded) % EVERY
    made = [pos for pos, _, _ in history.checkpoints()]
    assert made == [p for p in range(EVERY, head + 1, EVERY) if head - p <= DENSE * EVERY]
    assert len(made) < head // EVERY  # the older ones are made when an as_of needs them
    # every stretch bulk-loads; only the batch that ends it is a transaction
    stretches = len(made) + (len(recorded) > made[-1])
    assert counting.loads == stretches and counting.bulk > counting.loads
    for pos, _, checkpoint in history.checkpoints():
        copy = tmp_path / f"copy-{pos}"
        shutil.copytree(checkpoint, copy)
        past = ProjectionStore(copy)
        assert past.position == pos
        assert past.canonical_hash() == reference_hash(recorded[:pos]), pos
        for predicate in (BULK, REDO):
            assert not list(past.quads(SYSTEM_NODE, predicate, None, SYSTEM_GRAPH))
        del past
        gc.collect()
    # an as_of before them: built from 0, taking the older checkpoints kept at the head
    at = made[0] - EVERY - 3
    past = history.at(at)
    assert past.canonical_hash() == reference_hash(recorded[:at]) and history.tail == at
    older = [pos for pos, _, _ in history.checkpoints() if pos < made[0]]
    assert older == [p for p in range(EVERY, at + 1, EVERY) if kept(p, head, EVERY, DENSE)]
    assert older
    history.close()


def test_a_kill_in_a_stretch_of_a_first_build_starts_it_over(
        tmp_path: Path, log: tuple[FileEventStore, list[RecordedEvent]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the first checkpoint, the store records a position while bulk loads go on above
    it: its note says so, and a store reopened with the note is emptied, not trusted."""
    monkeypatch.setattr(geokb.projection.store, "BATCH_QUADS", 200)
    events_log, recorded = log
    path = tmp_path / "p"
    store, counting, history = _counted(path, events_log)
    take = history.checkpoint

    def checkpoint(at: ProjectionStore) -> None:
        take(at)
        if counting.die_at is None:  # the second bulk load of the next stretch dies
            counting.die_at = counting.bulk + 2

    history.checkpoint = checkpoint  # type: ignore[method-assign]
    with pytest.raises(_Died):
        history.apply(store, events_log.read())
    counting.store = ox.Store()  # let go of the on-disk store (as a killed process would)
    del store, history
    gc.collect()
    raw = ox.Store(str(path))
    assert len(list(raw.quads_for_pattern(SYSTEM_NODE, BULK, None, SYSTEM_GRAPH))) == 1
    assert len(list(raw.quads_for_pattern(SYSTEM_NODE, APPLIED, None, SYSTEM_GRAPH))) == 1
    del raw
    gc.collect()
    reopened = ProjectionStore(path)
    assert reopened.position == 0 and reopened.size() == 0
    _history(path, events_log).apply(reopened, events_log.read())
    assert reopened.canonical_hash() == reference_hash(recorded)
    assert not list(reopened.quads(SYSTEM_NODE, BULK, None, SYSTEM_GRAPH))


def test_a_replay_from_zero_records_its_position_when_its_last_batch_is_empty(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The last event closes a bulk batch (handed over whole): the empty last batch still
    records the position and works out the conflicts."""
    monkeypatch.setattr(geokb.projection.store, "BATCH_QUADS", 1)
    events = backlog(5)
    store = ProjectionStore()
    store.apply(events)
    assert markers(store) == [f"{len(events)} {events[-1].hash}"]
    assert store.canonical_hash() == reference_hash(events)


def test_no_checkpoint_is_taken_past_the_disk_budget(
        tmp_path: Path, log: tuple[FileEventStore, list[RecordedEvent]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkpoints keep files the store compacts away: past their budget (here none at
    all) none is taken, and ``as_of`` replays a longer tail, as exact."""
    from geokb.projection import history as history_module

    monkeypatch.setattr(history_module, "BUDGET", 0.0)
    monkeypatch.setattr(history_module, "FLOOR", 0)
    events_log, recorded = log
    path = tmp_path / "p"
    store = ProjectionStore(path)
    history = _history(path, events_log)
    history.apply(store, events_log.read())
    assert history.checkpoints() == []
    at = len(recorded) - EVERY - 3
    assert history.at(at).canonical_hash() == reference_hash(recorded[:at])
    assert history.tail == at and history.checkpoints() == []
    history.close()
    monkeypatch.setattr(history_module, "BUDGET", 4.0)
    monkeypatch.setattr(history_module, "MIN_FREE", 1.0)  # the disk is never free enough
    assert not history._room(path)
