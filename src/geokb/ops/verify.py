"""``geokb verify``: the whole log checked against its hash chain, every break located at
``kb/<file>:<line>`` (or ``postgresql://host/db#seq=<seq>``) and naming its event.

The chain itself is walked by :class:`geokb.log.chain.ChainWalker`, the walker every
backend reads with; what is added here is what only a whole-log check sees: an
unterminated final line and the bytes of a batch whose append never finished.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from geokb.log.chain import ChainWalker
from geokb.log.contract import EventStore
from geokb.log.events import GENESIS_HASH, RecordedEvent
from geokb.log.file import FileEventStore
from geokb.log.lines import HASH_FIELD, hash_of, seq_of


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
    return scan_after(log, 0, GENESIS_HASH)


def scan_after(log: EventStore, position: int, digest: str, *, keep: bool = True,
               ) -> tuple[Report, list[tuple[int, RecordedEvent]]]:
    """:func:`scan_chain` for a log whose first ``position`` events an anchor vouches for
    (its head there has hash ``digest``): those lines are checked by their bytes alone,
    each still hashing to the hash it carries and carrying the hash of the line before
    (:func:`sealed_problem`: a SHA-256 each, no decoding), line ``position`` carrying
    ``digest``, so they are exactly the bytes the anchor committed to; every later line
    is checked in full, streamed. Returns the report (``events`` counts every good line)
    and the (line, event) pairs of the lines after the anchor that could be read (none
    kept without ``keep``: ``verify`` holds one line at a time).
    """
    report = Report()
    path = log.display_path
    lines = log.raw_lines()
    prev = GENESIS_HASH
    count = 0
    for at, line in lines:
        if count == position:
            lines = itertools.chain([(at, line)], lines)
            break
        count += 1
        problem = sealed_problem(line, count, prev)
        if problem is None and count == position and hash_of(line) != digest:
            problem = (f"carries hash {hash_of(line)[:12]}, the anchor has {digest[:12]}: "
                       "this event or one before it was rewritten")
        if problem is not None:
            report.problems.append(Problem(path, at, f"{problem} (the anchor vouched for "
                                           "this line)", "anchor"))
            return report, []
        prev = hash_of(line)
    else:
        if count < position:
            report.problems.append(Problem(path, count, f"the log ends at line {count}, "
                                           f"before position {position} of the anchor: "
                                           "events were cut", "anchor"))
            return report, []
    tail = b""
    seen = 0

    def terminated() -> Iterator[tuple[int, bytes]]:
        """The lines after the anchor, streamed, but an unterminated last one (the tail)."""
        nonlocal tail, seen
        for at, line in lines:
            if not line.endswith(b"\n"):
                tail = line  # raw_lines yields one only at the end
                return
            seen += 1
            yield at, line

    good: list[tuple[int, RecordedEvent]] = []
    decoded = 0
    walker = ChainWalker(path, position=position, prev=prev,
                         keyed=not isinstance(log, FileEventStore))
    for link in walker.walk(terminated()):
        if link.problem is not None:
            report.problems.append(Problem(path, link.at, link.problem, "log", link.event_id))
        if link.event is not None:
            decoded += 1
            if keep:
                good.append((link.at, link.event))
    if isinstance(log, FileEventStore):  # raw_lines stops before an unfinished batch
        pending = log.pending_offset()
        size = log.path.stat().st_size if log.path.exists() else 0
        if pending is not None and pending < size:
            report.problems.insert(0, Problem(  # before what the walk found
                path, count + seen + 1, f"{size - pending} bytes of a batch whose append "
                "never finished (a crashed writer): the next append removes them", "log"))
    if tail:
        report.problems.append(Problem(path, count + seen + 1, f"unterminated final line "
                                       f"({len(tail)} bytes): a torn append or a truncated edit",
                                       "log"))
    report.events = count + decoded
    return report, good


#: ``{"hash":"<64 hex>",`` — the start of every sealed line
_SEALED_START = len(HASH_FIELD) + 64 + 2
_PREV_FIELD = b',"prev":"'


def sealed_problem(line: bytes, seq: int, prev: str) -> str | None:
    """What is wrong with ``line`` as the sealed line of event ``seq`` after an event of
    hash ``prev`` (None if nothing), by its bytes: it ends in its newline, the SHA-256 of
    its body (the line without its ``hash``, see :func:`geokb.log.codec.hash_and_line`) is
    the hash it starts with, and its ``prev`` and ``seq`` are these. Not checked: that the
    body is canonical JSON of a valid event — a line the hash chain vouches for was checked
    in full when it was appended.

    >>> from geokb.log.codec import encode
    >>> from geokb.log.contract import EMPTY_HEAD, seal
    >>> from geokb.log.events import Event
    >>> line = encode(seal([Event("ClaimRetracted", {"claim": "https://w3id.org/geokb/claim/1",
    ...                                               "reason": "wrong"})], EMPTY_HEAD, "a")[0])
    >>> sealed_problem(line, 1, GENESIS_HASH) is None
    True
    >>> sealed_problem(line.replace(b"wrong", b"right"), 1, GENESIS_HASH)
    'no longer matches its own hash (edited after it was sealed)'
    """
    if not line.startswith(HASH_FIELD) or not line.endswith(b"\n") \
            or line[_SEALED_START - 2 : _SEALED_START] != b'",':
        return "is not a sealed line (a torn or edited write)"
    if hashlib.sha256(b"{" + line[_SEALED_START:-1]).hexdigest() != hash_of(line):
        return "no longer matches its own hash (edited after it was sealed)"
    at = line.rfind(_PREV_FIELD)
    if at < 0 or line[at + len(_PREV_FIELD) : at + len(_PREV_FIELD) + 64] != prev.encode():
        return "does not follow the previous line's hash (a line inserted, removed or moved)"
    if seq_of(line) != seq:
        return f"has seq {seq_of(line)}, expected {seq} (a line inserted, removed or moved)"
    return None


def verify(log: EventStore) -> Report:
    """The hash chain of ``log`` (see :func:`scan_chain`), one line in memory at a time."""
    return scan_after(log, 0, GENESIS_HASH, keep=False)[0]
