"""``geokb validate``'s last stage: the views of a projection against the live claims of
the log (the evidence model's invariant, :mod:`geokb.projection.invariant`) — whole, or,
for ``validate --since``, around what the events after the anchor touch — each offence
located at the line of the event that introduced its claim.
"""

from __future__ import annotations

from pyoxigraph import NamedNode

from geokb.log.codec import current_payload
from geokb.log.events import CLAIM_ASSERTED, CLAIM_RETRACTED, CLAIM_SUPERSEDED, RecordedEvent
from geokb.ops.partitions import payload_iris
from geokb.ops.verify import Problem, Report
from geokb.projection.invariant import (
    Live,
    Offence,
    live_from_lines,
    view_problems,
    view_problems_around,
)
from geokb.projection.quads import is_factual, statement_of
from geokb.projection.store import ProjectionStore

#: (line, event id) where a node came from
Place = tuple[int, str]


def places(events: list[tuple[int, RecordedEvent]]) -> tuple[dict[str, Place], dict[str, Place]]:
    """Where each node of ``events`` was introduced and where it ended, as (line, event)."""
    introduced: dict[str, Place] = {}
    ended: dict[str, Place] = {}
    for line, event in events:
        key = (event.payload.get("claim") or event.payload.get("entity")
               or event.payload.get("source") or "")
        if event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            ended[key] = (line, event.id)
        elif key:
            introduced.setdefault(key, (line, event.id))
        introduced.setdefault(f"https://w3id.org/geokb/event/{event.id}", (line, event.id))
    return introduced, ended


def _follow_live(live: dict[str, tuple[str, bool]], event: RecordedEvent) -> None:
    """Keep ``live`` (claim -> its statement line and whether it is factual) after ``event``."""
    p = current_payload(event)
    if event.type == CLAIM_ASSERTED:
        s, pred, o = statement_of(p)
        live[p["claim"]] = (f"{s} {pred} {o} .", is_factual(p["modality"]))
    elif event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
        live.pop(p["claim"], None)


#: Offending triples reported one by one, at most; the rest are counted.
VIEW_EXAMPLES = 20


def check_views(report: Report, path: str, events: list[tuple[int, RecordedEvent]],
                store: ProjectionStore, projection: ProjectionStore | None,
                introduced: dict[str, tuple[int, str]]) -> None:
    """Report where the replayed ``store``, and ``projection`` (at its own position), do
    not match the live claims of the log (the events that replayed)."""
    failed = {p.event for p in report.problems if p.kind == "replay"}
    live: dict[str, tuple[str, bool]] = {}
    live_there: dict[str, tuple[str, bool]] | None = None
    for _line, event in events:
        if event.id not in failed:
            _follow_live(live, event)
        if projection is not None and event.position == projection.position:
            live_there = dict(live)
    _check_view(report, path, store, live, introduced, "the replayed log")
    if projection is None or projection.position == 0:
        return
    if live_there is None:
        report.problems.append(Problem(path, 0, f"the projection on disk is at position "
                                                f"{projection.position}, which the log does "
                                                "not reach: rebuild it", "view"))
        return
    _check_view(report, path, projection, live_there, introduced, "the projection on disk")


def _check_view(report: Report, path: str, store: ProjectionStore,
                live: dict[str, tuple[str, bool]], introduced: dict[str, tuple[int, str]],
                what: str) -> None:
    _report_offences(report, path, view_problems(store, live=live_from_lines(live),
                                                 known=introduced), introduced, what)


def _report_offences(report: Report, path: str, offences: list[Offence],
                     introduced: dict[str, Place], what: str) -> None:
    for o in offences[:VIEW_EXAMPLES]:
        line, event = introduced.get(o.claim or "", (0, ""))
        report.problems.append(Problem(path, line, f"current view does not match the live "
                                                   f"claims ({what}): {o.describe()}",
                                       "view", event))
    if len(offences) > VIEW_EXAMPLES:
        report.problems.append(Problem(path, 0, f"current view does not match the live claims "
                                                f"({what}): {len(offences) - VIEW_EXAMPLES} "
                                                "more offending triples", "view"))


def _touched(events: list[tuple[int, RecordedEvent]], failed: set[str],
             ) -> tuple[dict[str, Live | None], list[NamedNode]]:
    """The claims ``events`` (but the ``failed`` ones) assert or end, as the log says they
    stand after them (live with its statement, or None: ended), and the nodes they name."""
    lines: dict[str, tuple[str, bool]] = {}
    named: set[str] = set()
    subjects: dict[str, None] = {}
    for _line, event in events:
        if event.id in failed:
            continue
        _follow_live(lines, event)
        p = current_payload(event)
        if event.type in (CLAIM_ASSERTED, CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            named.add(p["claim"])
        subjects.update(dict.fromkeys(payload_iris(p)))
    live: dict[str, Live | None] = dict(live_from_lines(lines))
    live.update(dict.fromkeys(named - set(lines)))
    for entry in live.values():
        if entry is not None and isinstance(entry.statement.subject, NamedNode):
            subjects.setdefault(entry.statement.subject.value)
    return live, [NamedNode(s) for s in subjects]


def check_views_around(report: Report, path: str, new: list[tuple[int, RecordedEvent]],
                        store: ProjectionStore, projection: ProjectionStore | None,
                        trusted: int) -> None:
    """:func:`check_views` for ``validate --since``: around what the events after the
    anchor touch, in the replayed ``store`` and in ``projection`` (at its own position)."""
    failed = {p.event for p in report.problems if p.kind == "replay"}
    introduced, _ended = places(new)
    claims, subjects = _touched(new, failed)
    _report_offences(report, path, view_problems_around(store, claims, subjects), introduced,
                     "the replayed log")
    if projection is None or projection.position == 0:
        return
    head = new[-1][1].position if new else trusted
    if projection.position > head:
        report.problems.append(Problem(path, 0, f"the projection on disk is at position "
                                                f"{projection.position}, which the log does "
                                                "not reach: rebuild it", "view"))
        return
    if projection.position < trusted:
        report.warnings.append(f"validate --since: the projection on disk is at position "
                               f"{projection.position}, before the anchor: not checked")
        return
    there = [(line, e) for line, e in new if e.position <= projection.position]
    claims, subjects = _touched(there, set())
    _report_offences(report, path, view_problems_around(projection, claims, subjects),
                     introduced, "the projection on disk")
