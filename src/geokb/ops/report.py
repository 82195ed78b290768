"""Whole-KB checks: ``verify`` (the hash chain) and ``validate`` (chain, replay, rules,
SHACL, quotes against stored sources), each problem located at ``kb/<file>:<line>``.

``validate`` lives in :mod:`geokb.ops.validate`; it is re-exported here by name.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from geokb.errors import InvalidEvent
from geokb.log.codec import decode
from geokb.log.events import GENESIS_HASH, RecordedEvent
from geokb.log.file import EventStore, FileEventStore

if TYPE_CHECKING:
    from geokb.kb import KnowledgeBase


@dataclass(frozen=True)
class Problem:
    """One violation, located at a line of the log and naming its event."""

    file: str
    line: int
    message: str
    kind: str
    event: str = ""

    def annotation(self) -> str:
        ev = f" [event {self.event}]" if self.event else ""
        where = f"{self.file}#seq={self.line}" if "://" in self.file else f"{self.file}:{self.line}"
        return f"{where}: {self.message}{ev}"


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    events: int = 0
    claims: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"conforms": self.ok, "events": self.events, "claims": self.claims,
                "problems": [asdict(p) for p in self.problems], "warnings": self.warnings}


def scan_chain(log: EventStore) -> tuple[Report, list[tuple[int, RecordedEvent]]]:
    """Check every line: canonical form, own hash, sequence and link to the previous one.

    Works on any backend's ``raw_lines()`` (numbered by line in the file, by seq in
    PostgreSQL). Returns the report and the (line, event) pairs that could be read.
    """
    report = Report()
    path = log.display_path
    good: list[tuple[int, RecordedEvent]] = []
    lines = list(log.raw_lines())  # OSError here means "could not run"
    tail = lines.pop()[1] if lines and not lines[-1][1].endswith(b"\n") else b""
    if isinstance(log, FileEventStore):  # raw_lines stops before an unfinished batch
        pending = log.pending_offset()
        size = log.path.stat().st_size if log.path.exists() else 0
        if pending is not None and pending < size:
            report.problems.append(Problem(path, len(lines) + 1, f"{size - pending} "
                                           "bytes of a batch whose append never finished (a "
                                           "crashed writer): the next append removes them", "log"))
    prev_hash = GENESIS_HASH
    for number, line in lines:
        raw = line[:-1]
        try:
            event = decode(line)
        except InvalidEvent as exc:
            report.problems.append(Problem(path, number, str(exc), "log", _stored(raw, "id")))
            prev_hash = _stored(raw, "hash")  # an edit that kept the hash: the chain goes on
            continue
        if event.position != number:
            report.problems.append(Problem(path, number, f"event has seq {event.position} at line "
                                           f"{number}: events were inserted, removed or reordered",
                                           "log", event.id))
        elif prev_hash and event.prev != prev_hash:
            report.problems.append(Problem(path, number, "event does not follow the previous "
                                           "line's hash: an event before it was inserted, removed, "
                                           "reordered or edited", "log", event.id))
        good.append((number, event))
        prev_hash = event.hash
    if tail:
        report.problems.append(Problem(path, len(lines) + 1, f"unterminated final line "
                                       f"({len(tail)} bytes): a torn append or a truncated edit",
                                       "log"))
    report.events = len(good)
    return report, good


def _stored(raw: bytes, key: str) -> str:
    """A field of an unreadable line, if it is at least JSON (else "")."""
    try:
        value = json.loads(raw).get(key, "")
    except (ValueError, AttributeError, RecursionError):
        return ""
    return value if isinstance(value, str) else ""


def verify(kb: KnowledgeBase) -> Report:
    return scan_chain(kb.log)[0]
