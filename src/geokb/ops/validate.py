"""``geokb validate``: the hash chain, a replay with every rule, SHACL over the whole KB
and every quote against its stored source, each problem located at ``kb/<file>:<line>``.

SHACL runs partition by partition (:mod:`geokb.ops.partitions`): a few thousand focus
nodes at a time with the context their shapes need, so its memory follows the partition,
not the KB. With ``since`` (an :class:`~geokb.ops.anchor.Anchor`, as ``verify --base``
takes it) the log must first extend the anchor unchanged; the events up to the anchor
are then applied without their rules (they were validated when the anchor was), and only
the events after it are replayed with every rule and quote check, and SHACL checks only
the nodes they add or change and those whose validity depends on them.

It sits below the :class:`~geokb.kb.KnowledgeBase` facade: it is handed the log, the
source texts, the ontology, the shapes and the SHACL engine, and builds its own
projection (``new_store``), so the KB's own projection is never touched.
"""

from __future__ import annotations

from collections.abc import Callable

import rdflib
from pyoxigraph import DefaultGraph, NamedNode

from geokb.errors import GeoKBError
from geokb.log.codec import current_payload
from geokb.log.contract import EventStore
from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    GRAPH_UPDATED,
    Event,
    RecordedEvent,
)
from geokb.log.sources import SourceTexts
from geokb.ontology import Ontology
from geokb.ops.anchor import Anchor, check_extends
from geokb.ops.partitions import PartitionedShacl
from geokb.ops.verify import Problem, Report, scan_chain
from geokb.projection.invariant import live_from_lines, view_problems
from geokb.projection.quads import SYSTEM_GRAPH, is_factual, shacl_input, statement_of
from geokb.projection.store import ProjectionStore
from geokb.shacl.engines import Validator
from geokb.shacl.reach import reach_of
from geokb.shacl.results import ShapeReport
from geokb.vocab import GK
from geokb.write.admission import Admission
from geokb.write.references import Overlay

LIFECYCLE_PATHS = frozenset(GK[n].value for n in (
    "knownUntilPosition", "retractedIn", "retractionReason", "supersededBy", "supersededIn",
    "supersessionReason"))
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


#: ``progress(stage, done, total)``: ``done`` of ``total`` steps of ``stage`` are done (a
#: ``total`` of 0: not known). The long operations take one, default None (no reports).
Progress = Callable[[str, int, int], None]
#: events between two reports
PROGRESS_EVERY = 64


def validate(log: EventStore, *, texts: SourceTexts, ontology: Ontology, shapes: rdflib.Graph,
             validator: Validator,
             new_store: Callable[[], ProjectionStore] = ProjectionStore,
             progress: Progress | None = None, since: Anchor | None = None,
             partition_size: int | None = None,
             projection: ProjectionStore | None = None) -> Report:
    """Chain, replay with every rule, SHACL (by ``validator``, in partitions) over the
    whole KB, quotes in their sources; with ``since``, only what the events after that
    anchor add or change (see the module's text). ``progress`` hears of the replay and
    of SHACL. Then the evidence model's invariant, over the replay and over
    ``projection`` (a KB's own, on disk), against the live claims of the log.

    Raises :class:`geokb.errors.OntologyError` (or ``OSError``) when it cannot run.
    """
    if progress is not None:
        progress("reading the log", 0, 0)
    report, events = scan_chain(log)
    if progress is not None:
        progress("reading the log", len(events), len(events))
    path = log.display_path
    trusted = 0
    if since is not None:
        broken = check_extends(log, since)
        if broken:  # the anchor vouches for nothing in a history that does not extend it
            report.problems.extend(broken)
            return report
        trusted = _position_of(since, events)
    store = new_store()
    admission = Admission(store, ontology, shapes, texts, engine=validator)
    introduced: dict[str, tuple[int, str]] = {}
    ended: dict[str, tuple[int, str]] = {}
    if trusted:
        if progress is not None:
            progress("applying the events up to the anchor", 0, trusted)
        store.apply(event for _line, event in events if event.position <= trusted)
    new = [(line, event) for line, event in events if event.position > trusted]
    for done, (line, event) in enumerate(new, start=1):
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(new)):
            progress("replaying with every rule", done, len(new))
        try:
            admission._rules(Event(event.type, current_payload(event)), Overlay(store), {})
            shifted = RecordedEvent(**{**event.__dict__, "position": store.position + 1})
            store.apply([shifted])
        except (GeoKBError, KeyError) as exc:
            report.problems.append(Problem(path, line, f"{event.type}: {exc}", "replay", event.id))
            continue
    for line, event in events:
        key = (event.payload.get("claim") or event.payload.get("entity")
               or event.payload.get("source") or "")
        if event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            ended[key] = (line, event.id)
        elif key:
            introduced.setdefault(key, (line, event.id))
        introduced.setdefault(f"https://w3id.org/geokb/event/{event.id}", (line, event.id))
    shacl = _shacl(store, validator, shapes, report, progress=progress,
                   bases=list(introduced),
                   changed=[e for _line, e in new] if since is not None else None,
                   size=partition_size)
    for r in shacl.results:
        if r.severity != "Violation":
            report.warnings.append(r.describe())
            continue
        base = r.focus.split("#", 1)[0]
        where = ended.get(base) if r.path in LIFECYCLE_PATHS else None
        where = where or introduced.get(base) or ended.get(base) or (0, "")
        report.problems.append(Problem(path, where[0], f"SHACL: {r.describe()}", "shape", where[1]))
    # -- the whole KB's further checks go here, after SHACL --------------------------
    check_views(report, path, events, store, projection, introduced)
    report.claims = sum(1 for _ in store.quads(None, RDF_TYPE, GK.Claim, DefaultGraph()))
    report.problems.sort(key=lambda p: (p.line, p.message))
    return report


def _position_of(anchor: Anchor, events: list[tuple[int, RecordedEvent]]) -> int:
    """How many events of the log the anchor covers (its position; for a bare hash, the
    position of the event with that hash, which :func:`check_extends` found)."""
    if anchor.position is not None:
        return anchor.position
    return next(e.position for _line, e in events if e.hash == anchor.hash)


def _shacl(store: ProjectionStore, validator: Validator, shapes: rdflib.Graph, report: Report,
           *, progress: Progress | None, bases: list[str],
           changed: list[RecordedEvent] | None, size: int | None) -> ShapeReport:
    """SHACL over the projection in partitions: of every base (``changed`` None) or of
    what ``changed`` touches. Falls back to one whole-graph run, saying why in the
    report's warnings, where partitions cannot be trusted to see what the whole graph
    shows (see :mod:`geokb.shacl.reach`)."""
    reach = reach_of(shapes)
    parts = PartitionedShacl(store, validator, reach, **({} if size is None else {"size": size}))
    why = reach.unbounded
    if changed is not None and why is None:
        if any(e.type == GRAPH_UPDATED for e in changed):
            why = "a SPARQL update since the anchor may have changed any node"
            report.warnings.append(f"validate --since: {why}; every node was checked")
            changed = None
        else:
            stage = "SHACL over what changed since the anchor"
            focus = parts.affected(changed)
            if progress is not None:
                progress(stage, 0, len(focus))
            outcome = parts.run(focus, total=len(focus), progress=_stage(progress, stage))
            report.warnings.append(f"validate --since: {len(changed)} new event(s), "
                                   f"{len(focus)} node(s) checked by SHACL")
            return outcome.report
    if why is None:
        stage = "SHACL over the KB in partitions"
        if progress is not None:
            progress(stage, 0, len(bases))
        outcome = parts.run(bases, total=len(bases), progress=_stage(progress, stage))
        expected = parts.input_size()
        if outcome.owned_triples == expected:
            return outcome.report
        why = (f"{expected - outcome.owned_triples} triple(s) belong to no node the log "
               "introduced")
    report.warnings.append(f"SHACL over the whole KB as one graph: {why}")
    if progress is not None:
        progress("SHACL over the whole KB", 0, 0)
    shacl = validator.validate(shacl_input([*store.quads(graph=DefaultGraph()),
                                            *store.quads(graph=SYSTEM_GRAPH)]))
    if progress is not None:
        progress("SHACL over the whole KB", 1, 1)
    return shacl


def _stage(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    report = progress
    return lambda done, total: report(stage, done, total)


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
    offences = view_problems(store, live=live_from_lines(live), known=introduced)
    for o in offences[:VIEW_EXAMPLES]:
        line, event = introduced.get(o.claim or "", (0, ""))
        report.problems.append(Problem(path, line, f"current view does not match the live "
                                                   f"claims ({what}): {o.describe()}",
                                       "view", event))
    if len(offences) > VIEW_EXAMPLES:
        report.problems.append(Problem(path, 0, f"current view does not match the live claims "
                                                f"({what}): {len(offences) - VIEW_EXAMPLES} "
                                                "more offending triples", "view"))
