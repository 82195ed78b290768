"""Whole-KB checks: ``verify`` (the hash chain) and ``validate`` (chain, replay, rules,
SHACL, quotes against stored sources), each problem located at ``kb/<file>:<line>``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from pyoxigraph import NamedNode

from geokb.errors import GeoKBError, InvalidEvent
from geokb.kb import PROGRESS_EVERY, KnowledgeBase, Progress
from geokb.log.codec import decode
from geokb.log.events import CLAIM_RETRACTED, CLAIM_SUPERSEDED, GENESIS_HASH, RecordedEvent
from geokb.log.file import EventStore, FileEventStore
from geokb.projection.quads import shacl_input
from geokb.projection.store import ProjectionStore
from geokb.shacl.validation import run_shacl, to_rdflib
from geokb.vocab import GK
from geokb.write.admission import Admission, _Overlay

LIFECYCLE_PATHS = frozenset(GK[n].value for n in (
    "knownUntilPosition", "retractedIn", "retractionReason", "supersededBy", "supersededIn",
    "supersessionReason"))


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


def validate(kb: KnowledgeBase, *, progress: Progress | None = None) -> Report:
    """Chain, replay with every rule, SHACL over the whole KB, quotes in their sources.

    Raises :class:`geokb.ontology.OntologyError` (or ``OSError``) when it cannot run.
    ``progress`` (see :data:`geokb.kb.Progress`) hears of the replay and of SHACL.
    """
    if progress is not None:
        progress("reading the log", 0, 0)
    report, events = scan_chain(kb.log)
    if progress is not None:
        progress("reading the log", len(events), len(events))
    path = kb.log.display_path
    store = ProjectionStore()
    admission = Admission(store, kb.ontology, kb.shapes, kb.texts)
    introduced: dict[str, tuple[int, str]] = {}
    ended: dict[str, tuple[int, str]] = {}
    for done, (line, event) in enumerate(events, start=1):
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(events)):
            progress("replaying with every rule", done, len(events))
        try:
            from geokb.log.events import Event

            admission._rules(Event(event.type, event.payload), _Overlay(store), {})
            shifted = RecordedEvent(**{**event.__dict__, "position": store.position + 1})
            store.apply([shifted])
        except (GeoKBError, KeyError) as exc:
            report.problems.append(Problem(path, line, f"{event.type}: {exc}", "replay", event.id))
            continue
        key = (event.payload.get("claim") or event.payload.get("entity")
               or event.payload.get("source") or "")
        if event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            ended[key] = (line, event.id)
        elif key:
            introduced.setdefault(key, (line, event.id))
        introduced.setdefault(f"https://w3id.org/geokb/event/{event.id}", (line, event.id))
    if progress is not None:
        progress("SHACL over the whole KB", 0, 0)
    shacl = run_shacl(to_rdflib(shacl_input(store.quads())), kb.ontology, kb.shapes)
    if progress is not None:
        progress("SHACL over the whole KB", 1, 1)
    for r in shacl.results:
        if r.severity != "Violation":
            report.warnings.append(r.describe())
            continue
        base = r.focus.split("#", 1)[0]
        where = ended.get(base) if r.path in LIFECYCLE_PATHS else None
        where = where or introduced.get(base) or ended.get(base) or (0, "")
        report.problems.append(Problem(path, where[0], f"SHACL: {r.describe()}", "shape", where[1]))
    report.claims = sum(1 for _ in store.store.quads_for_pattern(
        None, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), GK.Claim, None))
    report.problems.sort(key=lambda p: (p.line, p.message))
    return report
