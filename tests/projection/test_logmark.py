"""The log mark of an on-disk projection: which log bytes it holds, checked at open."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from geokb.errors import CorruptLog, Unavailable
from geokb.kb import KnowledgeBase
from geokb.log.file import FileEventStore
from geokb.projection import logmark
from geokb.projection.logmark import MARK_NAME, LogMark
from geokb.projection.snapshot import open_projection
from tests.harness.documents import REPO


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    target.mkdir()
    shutil.copy(REPO / "kb" / "events.jsonl", target / "events.jsonl")
    shutil.copytree(REPO / "kb" / "sources", target / "sources")
    return target


def built(kb_dir: Path) -> tuple[KnowledgeBase, Path]:
    place = kb_dir / ".projection"
    return KnowledgeBase(kb_dir, projection_path=place), place


def test_the_mark_records_the_position_and_the_log_bytes(kb_dir: Path) -> None:
    kb, place = built(kb_dir)
    mark = json.loads((place / MARK_NAME).read_text())
    size = (kb_dir / "events.jsonl").stat().st_size
    assert (mark["position"], mark["hash"], mark["offset"]) == (kb.position,
                                                                kb.projection.head_hash, size)
    assert mark["format"] == logmark.FORMAT and len(mark["blocks"]) == 1


def test_an_append_passes_and_only_new_blocks_are_hashed(kb_dir: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logmark, "BLOCK", 4096)  # many blocks for this small log
    kb, place = built(kb_dir)
    before = LogMark(place, kb.log, kb_dir / "events.jsonl").mark
    assert before is not None and len(before.blocks) > 10
    kb.declare_entity({"id": "mark-city", "types": ["gk:City"], "label": "Mark city"})
    after = LogMark(place, kb.log, kb_dir / "events.jsonl").mark
    assert after is not None and after.position == before.position + 1
    whole = before.blocks[:-1]  # the whole blocks are kept, the partial one is hashed again
    assert after.blocks[:len(whole)] == whole
    del kb
    # another process appended: the stat changed, the bytes up to the mark did not
    other = KnowledgeBase(kb_dir)
    other.declare_entity({"id": "mark-town", "types": ["gk:City"], "label": "Mark town"})
    reopened = KnowledgeBase(kb_dir, projection_path=place)
    assert reopened.position == other.position


def test_many_small_appends_hash_what_one_hash_of_the_log_gives(
        kb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each advance goes on from the partial block's running hash (it reads only the bytes
    the log gained), across block boundaries, and records what hashing the whole log
    afresh gives."""
    monkeypatch.setattr(logmark, "BLOCK", 1024)  # an entity's event crosses a boundary
    kb, place = built(kb_dir)
    reads: list[int] = []
    real = logmark._blocks

    def counted(fh: object, start: int, offset: int, tail: object = None) -> object:
        reads.append(offset - (getattr(tail, "end", None) or start * logmark.BLOCK))
        return real(fh, start, offset, tail)  # type: ignore[arg-type]

    monkeypatch.setattr(logmark, "_blocks", counted)
    log = kb_dir / "events.jsonl"
    for n in range(6):
        size = log.stat().st_size
        kb.declare_entity({"id": f"mark-town-{n}", "types": ["gk:City"],
                           "label": f"Mark town {n}"})
        assert reads[-1] == log.stat().st_size - size  # only the new line was read
        with open(log, "rb") as fh:
            fresh, _ = real(fh, 0, log.stat().st_size)
        mark = LogMark(place, kb.log, log).mark
        assert mark is not None and mark.blocks == fresh


def test_an_edited_byte_before_the_position_is_refused(kb_dir: Path) -> None:
    kb, place = built(kb_dir)
    position = kb.position
    del kb
    log = kb_dir / "events.jsonl"
    data = bytearray(log.read_bytes())
    at = data.index(b"United States")
    data[at] = ord("u")
    log.write_bytes(bytes(data))
    with pytest.raises(CorruptLog, match=r"events\.jsonl:5"):
        KnowledgeBase(kb_dir, projection_path=place)
    store = open_projection(place)
    assert store.position == position  # kept, not reset


def test_a_mark_behind_the_store_walks_the_gap(kb_dir: Path) -> None:
    kb, place = built(kb_dir)
    stale = (place / MARK_NAME).read_text()
    kb.declare_entity({"id": "mark-city", "types": ["gk:City"], "label": "Mark city"})
    position = kb.position
    del kb
    (place / MARK_NAME).write_text(stale)  # a kill between the store's commit and the mark
    reopened = KnowledgeBase(kb_dir, projection_path=place)
    assert reopened.position == position
    assert json.loads((place / MARK_NAME).read_text())["position"] == position


def test_a_held_projection_opens_read_only_and_cannot_apply(kb_dir: Path) -> None:
    kb, place = built(kb_dir)
    second = open_projection(place)
    assert second.read_only and second.consistent and second.position == kb.position
    with pytest.raises(Unavailable, match="read-only"):
        second.apply(FileEventStore(kb_dir).read())
    reader = KnowledgeBase(kb_dir, projection_path=place)
    assert reader.projection_read_only
    assert reader.status("Tartus")["entity"] == kb.status("Tartus")["entity"]


def test_a_projection_of_another_format_is_rebuilt_without_its_checkpoints(
        kb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkpoints of the old layout carry the log's position and hash in their names and
    markers: kept, they would answer ``as_of`` in the old layout. They go with it."""
    from geokb.projection import history

    monkeypatch.setattr(history, "EVERY", 5)
    kb, place = built(kb_dir)
    assert kb.past is not None and kb.past.checkpoints()
    kb.close()
    del kb
    mark = json.loads((place / MARK_NAME).read_text())
    (place / MARK_NAME).write_text(json.dumps({**mark, "format": logmark.FORMAT - 1}))
    for _, _, path in history.History(place, FileEventStore(kb_dir)).checkpoints():
        (path / "old-layout").touch()
    reopened, _ = built(kb_dir)
    assert reopened.past is not None
    now = [path for _, _, path in reopened.past.checkpoints()]
    assert now and not any((path / "old-layout").exists() for path in now)
    assert json.loads((place / MARK_NAME).read_text())["format"] == logmark.FORMAT
    reopened.close()
