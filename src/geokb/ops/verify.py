"""``geokb verify``: the whole log checked against its hash chain, every break located at
``kb/<file>:<line>`` (or ``postgresql://host/db#seq=<seq>``) and naming its event.

The chain itself is walked by :class:`geokb.log.chain.ChainWalker`, the walker every
backend reads with; what is added here is what only a whole-log check sees: an
unterminated final line and the bytes of a batch whose append never finished.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from geokb.log.chain import ChainWalker
from geokb.log.contract import EventStore
from geokb.log.events import RecordedEvent
from geokb.log.file import FileEventStore


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
    """What a whole-KB check found: its problems, what it counted, and its warnings."""

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
    PostgreSQL, whose rows are keyed by it). Returns the report and the (line, event)
    pairs that could be read. Raises ``OSError`` or ``ConnectionError`` when the log
    cannot be read at all.
    """
    report = Report()
    path = log.display_path
    lines = list(log.raw_lines())
    tail = lines.pop()[1] if lines and not lines[-1][1].endswith(b"\n") else b""
    is_file = isinstance(log, FileEventStore)
    if isinstance(log, FileEventStore):  # raw_lines stops before an unfinished batch
        pending = log.pending_offset()
        size = log.path.stat().st_size if log.path.exists() else 0
        if pending is not None and pending < size:
            report.problems.append(Problem(path, len(lines) + 1, f"{size - pending} "
                                           "bytes of a batch whose append never finished (a "
                                           "crashed writer): the next append removes them", "log"))
    good: list[tuple[int, RecordedEvent]] = []
    for link in ChainWalker(path, keyed=not is_file).walk(lines):
        if link.problem is not None:
            report.problems.append(Problem(path, link.at, link.problem, "log", link.event_id))
        if link.event is not None:
            good.append((link.at, link.event))
    if tail:
        report.problems.append(Problem(path, len(lines) + 1, f"unterminated final line "
                                       f"({len(tail)} bytes): a torn append or a truncated edit",
                                       "log"))
    report.events = len(good)
    return report, good


def verify(log: EventStore) -> Report:
    """The hash chain of ``log`` (see :func:`scan_chain`)."""
    return scan_chain(log)[0]
