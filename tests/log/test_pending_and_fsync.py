"""Never lose a committed event: a stale batch marker, and an fsync that fails.

The outside review's case: an ingest is killed mid-write, the git-ignored ``kb/.pending``
stays, a ``git pull`` then brings in a longer upstream history, and the next write used
to cut the upstream events back to the old marker's offset (moving them to ``.torn``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

import geokb.log.file
from geokb.errors import NotDurable
from geokb.log.events import Event
from geokb.log.file import PENDING_NAME, FileEventStore
from geokb.ops.verify import verify
from tests.harness.http import build_kb


class _Died(BaseException):
    """A kill, as far as the writer can tell: nothing after it runs."""


def retraction(n: int, key: str | None = None) -> Event:
    return Event("ClaimRetracted", {"claim": f"https://w3id.org/geokb/claim/c{n}",
                                    "reason": "wrong"}, idempotency_key=key)


def append(store: FileEventStore, *numbers: int) -> None:
    store.append([retraction(n) for n in numbers], expected_position=None,
                 recorded_by="test:pending")


def killed_batch(monkeypatch: pytest.MonkeyPatch, store: FileEventStore) -> None:
    """Append a batch of three that is killed after one line and a half is written."""
    real_write = os.write

    class TornOs:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        @staticmethod
        def write(fd: int, data: Any) -> int:
            data = bytes(data)
            if data.count(b"\n") < 2:  # the marker
                return real_write(fd, data)
            real_write(fd, data[: data.index(b"\n") + 30])
            raise _Died

    with monkeypatch.context() as patch:
        patch.setattr(geokb.log.file, "os", TornOs())
        with pytest.raises(_Died):
            append(store, 90, 91, 92)


def test_a_killed_batch_in_the_same_history_is_still_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileEventStore(tmp_path / "kb")
    append(store, 1, 2, 3)
    killed_batch(monkeypatch, store)
    assert [e.position for e in store.read()] == [1, 2, 3]  # the marker hides the batch
    append(FileEventStore(store.directory), 4)
    assert [e.position for e in store.read()] == [1, 2, 3, 4]
    assert len(list((store.directory / ".torn").iterdir())) == 1
    assert not (store.directory / PENDING_NAME).exists() or not (
        store.directory / PENDING_NAME).read_bytes()


@pytest.mark.parametrize("upstream_from", [3, 0])
def test_a_stale_marker_of_another_history_cuts_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upstream_from: int) -> None:
    """A kill leaves the marker; the log is replaced by a longer upstream history (sharing
    our first events, or none of them); the next append loses nothing."""
    ours = FileEventStore(tmp_path / "kb")
    append(ours, 1, 2, 3)
    shared = ours.path.read_bytes() if upstream_from else b""
    killed_batch(monkeypatch, ours)
    assert (ours.directory / PENDING_NAME).exists()
    upstream = FileEventStore(tmp_path / "upstream")
    upstream.directory.mkdir()
    upstream.path.write_bytes(shared)
    append(upstream, *range(10, 30))
    shutil.copyfile(upstream.path, ours.path)  # what `git checkout` + `git pull` leave
    expected = [e.hash for e in upstream.read()]
    assert [e.hash for e in FileEventStore(ours.directory).read()] == expected  # readers
    assert verify(FileEventStore(ours.directory)).ok
    writer = FileEventStore(ours.directory)
    append(writer, 99)
    after = list(writer.read())
    assert [e.hash for e in after[:-1]] == expected and len(after) == len(expected) + 1
    assert not (ours.directory / ".torn").exists()
    assert verify(writer).ok


def test_an_old_style_marker_is_still_honoured(tmp_path: Path) -> None:
    store = FileEventStore(tmp_path / "kb")
    append(store, 1, 2)
    size = store.path.stat().st_size
    append(store, 3)
    (store.directory / PENDING_NAME).write_bytes(b"%d\n" % size)
    assert [e.position for e in FileEventStore(store.directory).read()] == [1, 2]


# -- fsync ----------------------------------------------------------------------------------


def failing_fsync_once(monkeypatch: pytest.MonkeyPatch, log: Path) -> list[int]:
    """``os.fsync`` raises EIO the first time it is called on the log itself."""
    real = os.fsync
    failed: list[int] = []

    def fsync(fd: int) -> None:
        if not failed and os.path.samefile(f"/proc/self/fd/{fd}", log):
            failed.append(fd)
            raise OSError(5, "Input/output error")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return failed


@pytest.mark.parametrize("batch", [1, 2])
def test_a_failed_fsync_is_reported_as_committed_and_a_retry_is_answered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to tell the log's descriptor")
    kb = build_kb(tmp_path / "kb")
    base = kb.position
    failed = failing_fsync_once(monkeypatch, kb.directory / "events.jsonl")
    claims = ["tartus-status", "hmeimim-status"][:batch]
    events = [Event("ClaimRetracted", {"claim": f"https://w3id.org/geokb/claim/{c}",
                                       "reason": "wrong"}, idempotency_key=f"request-{c}")
              for c in claims]
    with pytest.raises(NotDurable) as raised:
        kb.append(events, recorded_by="test:fsync")
    assert failed
    assert raised.value.first == base + 1 and raised.value.last == base + batch
    assert "committed" in str(raised.value) and "Input/output error" in str(raised.value)
    # committed: every reader sees it, and the retry is answered with it, not refused
    assert [e.position for e in FileEventStore(kb.directory).read()] == list(
        range(1, base + batch + 1))
    again = kb.append(events, recorded_by="test:fsync")
    assert [e.position for e in again] == list(range(base + 1, base + batch + 1))
    assert kb.position == base + batch and kb.log.head().position == base + batch
    assert verify(kb.log).ok
