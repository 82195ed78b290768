"""The one hash-chain walker: what it catches, where it says it is, and that the file
store's reads and ``geokb verify`` locate the same damage at the same line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from geokb.errors import CorruptLog
from geokb.log.chain import ChainWalker
from geokb.log.codec import encode
from geokb.log.contract import EMPTY_HEAD, seal
from geokb.log.file import FileEventStore
from geokb.ops.verify import scan_chain
from tests.log.test_eventstore import ev

PATH = "kb/events.jsonl"


def chain(count: int, agent: str = "ann") -> list[bytes]:
    """``count`` lines of one valid chain."""
    return [encode(e) for e in seal([ev(n) for n in range(count)], EMPTY_HEAD, agent)]


def numbered(lines: list[bytes]) -> list[tuple[int, bytes]]:
    return list(enumerate(lines, start=1))


def test_a_whole_chain_is_followed() -> None:
    walker = ChainWalker(PATH)
    events = list(walker.follow_all(chain(4)))
    assert [e.position for e in events] == [1, 2, 3, 4]
    assert (walker.position, walker.prev) == (4, events[-1].hash)


def test_an_edited_line_is_named_at_its_line() -> None:
    lines = chain(3)
    lines[1] = lines[1].replace(b"reason 1", b"reason X")
    walker = ChainWalker(PATH)
    with pytest.raises(CorruptLog, match=r"^kb/events.jsonl:2: .*edited") as info:
        list(walker.follow_all(lines))
    assert info.value.line == 2
    assert walker.position == 1  # it stands at the last good link


def test_a_removed_line_is_named_where_the_gap_is() -> None:
    lines = chain(3)
    with pytest.raises(CorruptLog, match=r":2: .*seq 3, expected 2 \(event inserted, removed"):
        list(ChainWalker(PATH).follow_all([lines[0], lines[2]]))


def test_a_line_of_another_history_does_not_link() -> None:
    mine, theirs = chain(2, "ann"), chain(2, "bob")
    with pytest.raises(CorruptLog, match=r":2: .*does not follow the previous event's hash"):
        list(ChainWalker(PATH).follow_all([mine[0], theirs[1]]))


@pytest.mark.parametrize("line", [b"", b"{}", b'{"a":1}\n{"b":2}\n'])
def test_a_row_that_is_not_one_line_is_refused(line: bytes) -> None:
    with pytest.raises(CorruptLog, match=r"#seq=1: .*one line ending in a newline"):
        ChainWalker("postgresql://db/kb").follow(line, 1)


def test_an_anchor_starts_mid_log_without_its_predecessor() -> None:
    lines = chain(4)
    walker = ChainWalker(PATH, position=1, prev=None)
    assert [e.position for e in walker.follow_all(lines[1:])] == [2, 3, 4]


def test_a_keyed_row_must_hold_its_own_seq() -> None:
    """PostgreSQL rows are keyed by seq: an event in another row is named as moved."""
    lines = chain(2)
    walker = ChainWalker("postgresql://db/kb", keyed=True)
    walker.follow(lines[0], 1)
    with pytest.raises(CorruptLog, match=r"#seq=7: .*seq 2 in the row of seq 7 \(event moved\)"):
        walker.follow(lines[1], 7)


def test_walk_reports_one_problem_per_break_and_goes_on() -> None:
    lines = chain(6)
    damaged = [lines[0], lines[2], lines[3], lines[3], b"not json\n", lines[5]]
    links = list(ChainWalker(PATH).walk(numbered(damaged)))
    assert [(link.at, link.problem is None) for link in links] == [
        (1, True), (2, False), (3, True), (4, False), (5, False), (6, True)]
    assert "seq 3, expected 2" in str(links[1].problem)  # line 2 removed: one problem
    assert "seq 4, expected 5" in str(links[3].problem)  # line 4 repeated: one problem
    assert "not valid JSON" in str(links[4].problem)
    assert links[1].event is not None and links[4].event is None
    assert links[1].event_id == links[1].event.id


def test_walk_goes_on_from_the_hash_an_unreadable_line_still_carries() -> None:
    """An edit that keeps seq and hash breaks only its own line."""
    lines = chain(3)
    lines[1] = lines[1].replace(b"reason 1", b"reason X")
    links = list(ChainWalker(PATH).walk(numbered(lines)))
    assert [link.at for link in links if link.problem] == [2]
    assert links[1].event_id  # still named by the id it carries


Damage = Callable[[list[bytes]], list[bytes]]
DAMAGES: dict[str, Damage] = {
    "edited": lambda ls: [*ls[:2], ls[2].replace(b"reason 2", b"reason X"), *ls[3:]],
    "removed": lambda ls: [*ls[:2], *ls[3:]],
    "repeated": lambda ls: [*ls[:3], ls[2], *ls[3:]],
    "swapped": lambda ls: [*ls[:2], ls[3], ls[2], *ls[4:]],
    "foreign": lambda ls: [*ls[:2], chain(5, "bob")[2], *ls[3:]],
    "garbage": lambda ls: [*ls[:2], b'{"hash":"nope"}\n', *ls[3:]],
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_reads_and_verify_locate_damage_at_the_same_line(tmp_path: Path, damage: str) -> None:
    """One walker: the first problem verify reports is where a reader stops."""
    store = FileEventStore(tmp_path)
    store.append([ev(n) for n in range(5)], expected_position=0, recorded_by="ann")
    lines = [line for _, line in store.raw_lines()]
    store.path.write_bytes(b"".join(DAMAGES[damage](lines)))
    reader = FileEventStore(tmp_path)
    with pytest.raises(CorruptLog) as info:
        list(reader.read())
    report, _ = scan_chain(reader)
    assert report.problems, damage
    first = min(report.problems, key=lambda p: p.line)
    assert (first.line, first.message) == (info.value.line, info.value.detail)
    assert info.value.line == (4 if damage == "repeated" else 3)
