"""The event-store contract (every backend passes it) and the file store's durability."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from geokb.errors import AppendConflict, CorruptLog
from geokb.log.codec import encode
from geokb.log.contract import EventStore
from geokb.log.events import GENESIS_HASH, Event
from geokb.log.file import FileEventStore


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


# -- where reads start: the cached places of lines ------------------------------------


class CountingStore(FileEventStore):
    """Records the byte offset every scan of the log starts at."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.starts: list[int] = []

    def _lines(self, fh: BinaryIO, offset: int,
               committed: int) -> Iterator[tuple[int, bytes]]:
        self.starts.append(offset)
        return FileEventStore._lines(fh, offset, committed)


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the lines the event store decodes from now on (in calls[0]): its reads decode
    through the chain walker, its head and key index directly."""
    import geokb.log.chain
    import geokb.log.file

    calls = [0]
    real = geokb.log.file.decode

    def counting(line: bytes) -> Any:
        calls[0] += 1
        return real(line)

    monkeypatch.setattr(geokb.log.file, "decode", counting)
    monkeypatch.setattr(geokb.log.chain, "decode", counting)
    return calls


def end_of_line(store: FileEventStore, position: int) -> int:
    """The byte offset just after the line of event ``position``."""
    return sum(map(len, store.path.read_bytes().splitlines(keepends=True)[:position]))


def test_appends_and_reads_start_at_the_newest_line(tmp_path: Path) -> None:
    """An append (its idempotency check, then the head) and a read of what is new start
    where the last append ended, not at byte 0."""
    store = CountingStore(tmp_path / "kb")
    for n in range(1, 31):
        store.starts.clear()
        store.append([ev(n, f"key-{n}")], expected_position=n - 1, recorded_by="a")
        if n > 1:  # its key check read the one line appended since the last check
            assert store.starts == [end_of_line(store, n - 2)]
    store.starts.clear()
    assert list(store.read(after=30)) == []
    store.append([ev(31)], expected_position=30, recorded_by="a")
    assert [e.position for e in store.read(after=30)] == [31]
    # the first from the place the append noted; the second at line 30, found from the end
    assert store.starts == [end_of_line(store, 30), end_of_line(store, 29)]
    assert store.find_idempotent("key-7")[0].payload["reason"] == "reason 7"


def test_a_fresh_reader_finds_the_newest_events_from_the_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new process reading near the head (a restart checking its projection, then
    catching up) decodes a few lines, not the whole log."""
    writer = FileEventStore(tmp_path / "kb")
    writer.append([ev(n) for n in range(1, 301)], expected_position=0, recorded_by="a")
    decodes = count_decodes(monkeypatch)
    reader = CountingStore(tmp_path / "kb")
    at = next(iter(reader.read(after=249, limit=1)))
    assert at.position == 250 and decodes[0] == 2  # the line before it, and it
    assert reader.starts == [end_of_line(reader, 248)]
    assert [e.position for e in reader.read(after=250)] == list(range(251, 301))
    assert decodes[0] == 2 + 50
    assert reader.starts[1] == end_of_line(reader, 250)
    assert [e.position for e in reader.read(after=300)] == []
    assert [e.position for e in reader.read(after=420)] == []


def test_skipped_lines_leave_checkpoints(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import geokb.log.file

    monkeypatch.setattr(geokb.log.file, "CHECKPOINT", 10)
    writer = FileEventStore(tmp_path / "kb")
    writer.append([ev(n) for n in range(1, 201)], expected_position=0, recorded_by="a")
    reader = CountingStore(tmp_path / "kb")
    assert next(iter(reader.read(after=95))).position == 96  # far from the end: forward
    assert reader.starts == [0]
    assert [e.position for e in reader.read(after=57, limit=2)] == [58, 59]
    assert reader.starts[-1] == end_of_line(reader, 50)
    head = reader.head()
    assert [e.hash for e in reader.read(after=199)] == [head.hash]


def test_cached_places_survive_another_process_cutting_the_log_back(
        tmp_path: Path) -> None:
    """A batch left half-written by a crash is cut back by the next writer (in another
    process): a reader that read the log before must read the new events right."""
    from geokb.log.contract import seal
    from geokb.log.file import PENDING_NAME

    reader = FileEventStore(tmp_path / "kb")
    reader.append([ev(1), ev(2), ev(3)], expected_position=0, recorded_by="a")
    crashed = seal([ev(4), ev(5)], reader.head(), "crashed")
    (reader.directory / PENDING_NAME).write_bytes(b"%d\n" % reader.path.stat().st_size)
    with open(reader.path, "ab") as fh:  # both lines whole: only .pending says "unfinished"
        fh.write(encode(crashed[0]) + encode(crashed[1]))
    assert [e.position for e in reader.read()] == [1, 2, 3]
    assert list(reader.read(after=3)) == []
    other = FileEventStore(tmp_path / "kb")
    mine = other.append([ev(9)], expected_position=3, recorded_by="b")  # cuts the batch
    assert [e.hash for e in reader.read(after=3)] == [mine[0].hash]
    assert reader.head().hash == mine[0].hash


def test_cached_places_are_checked_when_the_log_is_replaced(tmp_path: Path) -> None:
    """A log replaced by another history (a restore, a checkout) is read from the start
    again, with its own idempotency keys."""
    store = FileEventStore(tmp_path / "kb")
    store.append([ev(n, f"old-{n}") for n in range(1, 11)], expected_position=0,
                 recorded_by="a")
    assert len(list(store.read())) == 10 and store.find_idempotent("old-3")
    other = FileEventStore(tmp_path / "other")
    new = other.append([ev(n + 100, f"new-{n}") for n in range(1, 13)], expected_position=0,
                       recorded_by="b")
    os.replace(other.path, store.path)
    assert [e.hash for e in store.read(after=10)] == [e.hash for e in new[10:]]
    assert [e.hash for e in store.read(after=4)] == [e.hash for e in new[4:]]
    assert store.find_idempotent("old-3") == []
    assert store.find_idempotent("new-3") == [new[2]]
    lines = store.path.read_bytes().splitlines(keepends=True)
    store.path.write_bytes(b"".join(lines[:5]))  # cut back below every cached place
    assert [e.position for e in store.read(after=3)] == [4, 5]
    assert list(store.read(after=11)) == []
    store.append([ev(6)], expected_position=5, recorded_by="a")
    assert [e.position for e in store.read(after=4)] == [5, 6]
