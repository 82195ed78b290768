"""The event-store contract (every backend passes it) and the file store's durability."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geokb.codec import encode
from geokb.events import GENESIS_HASH, AppendConflict, CorruptLog, Event
from geokb.eventstore import EventStore, FileEventStore


def ev(n: int, key: str | None = None) -> Event:
    return Event("ClaimRetracted", {"claim": f"https://w3id.org/geokb/claim/c{n}",
                                    "reason": f"reason {n}"}, key)


class EventStoreContract:
    """Behaviour every EventStore backend must show."""

    def make(self, tmp_path: Path) -> EventStore:
        raise NotImplementedError

    def test_empty(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        assert store.head().position == 0
        assert store.head().hash == GENESIS_HASH
        assert list(store.read()) == []

    def test_append_read_head(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        first = store.append([ev(1), ev(2)], expected_position=0, recorded_by="a")
        assert [e.position for e in first] == [1, 2]
        assert first[1].prev == first[0].hash
        store.append([ev(3)], expected_position=2, recorded_by="b")
        assert [e.position for e in store.read()] == [1, 2, 3]
        assert [e.position for e in store.read(after=1)] == [2, 3]
        assert [e.position for e in store.read(after=1, limit=1)] == [2]
        head = store.head()
        assert head.position == 3 and head.hash == list(store.read())[-1].hash

    def test_read_with_limit_zero_reads_nothing(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        store.append([ev(1), ev(2)], expected_position=0, recorded_by="a")
        assert list(store.read(limit=0)) == []

    def test_stale_writer_gets_conflict_and_nothing_is_written(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        store.append([ev(1)], expected_position=0, recorded_by="a")
        with pytest.raises(AppendConflict) as info:
            store.append([ev(2)], expected_position=0, recorded_by="b")
        assert (info.value.expected, info.value.actual) == (0, 1)
        assert store.head().position == 1

    def test_transaction_time_never_goes_back(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        for n in range(5):
            store.append([ev(n)], expected_position=None, recorded_by="a")
        times = [e.recorded_at for e in store.read()]
        assert times == sorted(times)

    def test_idempotency_key_records_once(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        a = store.append([ev(1, "key-1")], expected_position=None, recorded_by="a")
        b = store.append([ev(1, "key-1")], expected_position=None, recorded_by="a")
        assert a == b
        assert store.head().position == 1
        assert store.find_idempotent("key-1") == a
        assert store.find_idempotent("key-2") == []

    def test_raw_lines_are_the_canonical_lines(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        recorded = store.append([ev(1), ev(2)], expected_position=0, recorded_by="a")
        assert list(store.raw_lines()) == [(1, encode(recorded[0])), (2, encode(recorded[1]))]

    def test_wait_for_events(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        assert store.wait_for_events(0, 0.05) is False
        store.append([ev(1)], expected_position=0, recorded_by="a")
        assert store.wait_for_events(0, 5) is True
        assert store.wait_for_events(1, 0.05) is False


class TestFileEventStore(EventStoreContract):
    def make(self, tmp_path: Path) -> FileEventStore:
        return FileEventStore(tmp_path / "kb")

    def test_one_canonical_line_per_event(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        store.append([ev(1), ev(2)], expected_position=0, recorded_by="a")
        lines = store.path.read_bytes().split(b"\n")
        assert len(lines) == 3 and lines[-1] == b""

    def test_torn_tail_is_not_an_event_and_is_moved_aside(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        store.append([ev(1)], expected_position=0, recorded_by="a")
        with open(store.path, "ab") as fh:
            fh.write(b'{"id":"half an ev')
        assert [e.position for e in store.read()] == [1]
        assert store.head().position == 1
        store.append([ev(2)], expected_position=1, recorded_by="a")
        assert [e.position for e in store.read()] == [1, 2]
        torn = list((store.directory / ".torn").iterdir())
        assert len(torn) == 1 and torn[0].read_bytes() == b'{"id":"half an ev'

    def test_edited_event_is_named(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        store.append([ev(1), ev(2), ev(3)], expected_position=0, recorded_by="a")
        lines = store.path.read_text().splitlines(keepends=True)
        lines[1] = lines[1].replace("reason 2", "reason X")
        store.path.write_text("".join(lines))
        with pytest.raises(CorruptLog, match=r"events.jsonl:2: .*edited"):
            list(store.read())

    def test_removed_event_is_named(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        store.append([ev(1), ev(2), ev(3)], expected_position=0, recorded_by="a")
        lines = store.path.read_text().splitlines(keepends=True)
        store.path.write_text(lines[0] + lines[2])
        with pytest.raises(CorruptLog, match=r":2: .*seq 3, expected 2"):
            list(store.read())

    def test_concurrent_processes_never_interleave(self, tmp_path: Path) -> None:
        """Four writer processes append with expected positions; the log stays a chain."""
        import multiprocessing as mp

        directory = tmp_path / "kb"
        ctx = mp.get_context("fork")
        procs = [ctx.Process(target=_writer, args=(str(directory), w, 15)) for w in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        events = list(FileEventStore(directory).read())
        assert [e.position for e in events] == list(range(1, 61))
        reasons = sorted(e.payload["reason"] for e in events)
        assert len(set(reasons)) == 60  # none lost, none duplicated


def _writer(directory: str, writer: int, count: int) -> None:
    append_as_writer(FileEventStore(directory), writer, count)
    os._exit(0)


def append_as_writer(store: EventStore, writer: int, count: int) -> None:
    """Append ``count`` events with expected positions, retrying every conflict."""
    done = 0
    while done < count:
        head = store.head().position
        try:
            store.append([Event("ClaimRetracted", {
                "claim": f"https://w3id.org/geokb/claim/w{writer}",
                "reason": f"writer {writer} event {done}"})],
                expected_position=head, recorded_by=f"w{writer}")
            done += 1
        except AppendConflict:
            continue
