"""``geokb validate``: the hash chain, a replay with every rule, SHACL over the whole KB
and every quote against its stored source, each problem located at ``kb/<file>:<line>``.

SHACL runs partition by partition (:mod:`geokb.ops.partitions`): a few thousand focus
nodes at a time with the context their shapes need, so its memory follows the partition,
not the KB. With ``since`` (an :class:`~geokb.ops.anchor.Anchor`, as ``verify --base``
takes it) the work follows the change, not the KB: the log must extend the anchor
unchanged (the lines it vouches for checked by their bytes, a SHA-256 each), the
projection at the anchor is a copy of the KB's nearest checkpoint at or before it
(``store_at``; without one, a replay of the events up to it without their rules: they
were validated when the anchor was), only the events after it are replayed with every
rule and quote check, SHACL checks only the nodes they add or change and those whose
validity depends on them, and the views are checked around the claims they touch
(:mod:`geokb.ops.views`).

It sits below the :class:`~geokb.kb.KnowledgeBase` facade: it is handed the log, the
source texts, the ontology, the shapes and the SHACL engine, and builds its own
projection (``new_store``, or a scratch copy of a checkpoint), so the KB's own projection
is never touched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager

import rdflib
from pyoxigraph import DefaultGraph, Literal, NamedNode

from geokb.errors import GeoKBError
from geokb.log.codec import current_payload
from geokb.log.contract import EventStore
from geokb.log.events import (
    GRAPH_UPDATED,
    Event,
    RecordedEvent,
)
from geokb.log.sources import SourceTexts
from geokb.ontology import Ontology
from geokb.ops.anchor import Anchor, check_extends, position_of
from geokb.ops.partitions import PartitionedShacl, count_of
from geokb.ops.verify import Problem, Report, scan_after, scan_chain
from geokb.ops.views import Place, check_views, check_views_around, places
from geokb.projection.quads import SYSTEM_GRAPH, shacl_input
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
             projection: ProjectionStore | None = None,
             store_at: StoreAt | None = None) -> Report:
    """Chain, replay with every rule, SHACL (by ``validator``, in partitions) over the
    whole KB, quotes in their sources; with ``since``, only what the events after that
    anchor add or change (see the module's text), starting from ``store_at(anchor)``
    where that gives a store. ``progress`` hears of the replay and of SHACL. Then the
    evidence model's invariant, over the replay and over ``projection`` (a KB's own, on
    disk), against the live claims of the log.

    Raises :class:`geokb.errors.OntologyError` (or ``OSError``) when it cannot run.
    """
    if since is not None:
        return _validate_since(log, since, texts=texts, ontology=ontology, shapes=shapes,
                               validator=validator, new_store=new_store, progress=progress,
                               partition_size=partition_size, projection=projection,
                               store_at=store_at)
    if progress is not None:
        progress("reading the log", 0, 0)
    report, events = scan_chain(log)
    if progress is not None:
        progress("reading the log", len(events), len(events))
    path = log.display_path
    store = new_store()
    _replay_with_rules(store, Admission(store, ontology, shapes, texts, engine=validator),
                       events, report, path, progress)
    introduced, ended = places(events)
    shacl = _shacl(store, validator, shapes, report, progress=progress,
                   bases=list(introduced), changed=None, size=partition_size)
    _shape_problems(report, path, shacl, introduced, ended)
    # -- the whole KB's further checks go here, after SHACL --------------------------
    check_views(report, path, events, store, projection, introduced)
    report.claims = count_of(store, CLAIMS)
    report.problems.sort(key=lambda p: (p.line, p.message))
    return report


def _validate_since(log: EventStore, since: Anchor, *, texts: SourceTexts, ontology: Ontology,
                    shapes: rdflib.Graph, validator: Validator,
                    new_store: Callable[[], ProjectionStore], progress: Progress | None,
                    partition_size: int | None, projection: ProjectionStore | None,
                    store_at: StoreAt | None) -> Report:
    """``validate --since``: O(what changed), not O(the KB), wherever it can be.

    The log must extend the anchor unchanged: the lines it vouches for are checked by
    their bytes (:func:`~geokb.ops.verify.scan_after`), the lines after it in full. The
    projection at the anchor is ``store_at(position)`` (a copy of the KB's checkpoint at
    or before it, brought forward) or, without one, a replay of the events up to it
    without their rules (they were validated when the anchor was); the events after it
    are replayed with every rule, SHACL checks what they add or change, and the views are
    checked around the claims they assert or end (:func:`view_problems_around`). A SPARQL
    update among them may have changed any node: the whole KB is validated instead.
    """
    path = log.display_path
    broken = check_extends(log, since)
    if broken:  # the anchor vouches for nothing in a history that does not extend it
        report = Report()
        report.problems.extend(broken)
        return report
    trusted = position_of(log, since)
    if progress is not None:
        progress("reading the log after the anchor", 0, 0)
    report, new = scan_after(log, trusted, since.hash)
    if any(p.kind == "anchor" for p in report.problems):
        return report
    if progress is not None:
        progress("reading the log after the anchor", len(new), len(new))
    if any(e.type == GRAPH_UPDATED for _line, e in new):
        whole = validate(log, texts=texts, ontology=ontology, shapes=shapes,
                         validator=validator, new_store=new_store, progress=progress,
                         partition_size=partition_size, projection=projection)
        whole.warnings.insert(0, "validate --since: a SPARQL update since the anchor may have "
                                 "changed any node: the whole KB was validated")
        return whole
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(store_at(trusted)) if store_at is not None else None
        if store is None:
            report.warnings.append(f"validate --since: no checkpoint at or before position "
                                   f"{trusted}: the events up to the anchor were replayed")
            store = new_store()
            if progress is not None:
                progress("applying the events up to the anchor", 0, trusted)
            store.apply(log.read(limit=trusted))
        _replay_with_rules(store, Admission(store, ontology, shapes, texts, engine=validator),
                           new, report, path, progress)
        introduced, ended = places(new)
        changed = [e for _line, e in new]
        shacl = _shacl(store, validator, shapes, report, progress=progress, bases=[],
                       changed=changed, size=partition_size)
        held = store
        _shape_problems(report, path, shacl, introduced, ended,
                        locate=lambda base, end: _recorded_place(held, log, base, end))
        check_views_around(report, path, new, store, projection, trusted)
        report.claims = count_of(store, CLAIMS)
    report.problems.sort(key=lambda p: (p.line, p.message))
    return report


#: ``store_at(position)``: a store of the KB at ``position`` that validate may write to and
#: that is dropped on leaving (None: there is none to copy)
StoreAt = Callable[[int], AbstractContextManager[ProjectionStore | None]]
CLAIMS = f"SELECT (COUNT(*) AS ?n) {{ ?c a <{GK.Claim.value}> }}"


def _replay_with_rules(store: ProjectionStore, admission: Admission,
                       events: list[tuple[int, RecordedEvent]], report: Report, path: str,
                       progress: Progress | None) -> None:
    """Apply ``events`` to ``store``, each after admission's rules; an event they refuse
    is a problem at its line, and the next ones shift down into its place."""
    for done, (line, event) in enumerate(events, start=1):
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(events)):
            progress("replaying with every rule", done, len(events))
        try:
            admission._rules(Event(event.type, current_payload(event)), Overlay(store), {})
            shifted = RecordedEvent(**{**event.__dict__, "position": store.position + 1})
            store.apply([shifted])
        except (GeoKBError, KeyError) as exc:
            report.problems.append(Problem(path, line, f"{event.type}: {exc}", "replay", event.id))
            continue


def _shape_problems(report: Report, path: str, shacl: ShapeReport,
                    introduced: dict[str, Place], ended: dict[str, Place],
                    locate: Callable[[str, bool], Place | None] | None = None) -> None:
    """SHACL's results as problems at the line of the event that introduced (or, for a
    lifecycle path, ended) the node; ``locate`` finds the nodes of earlier events."""
    for r in shacl.results:
        if r.severity != "Violation":
            report.warnings.append(r.describe())
            continue
        base = r.focus.split("#", 1)[0]
        lifecycle = r.path in LIFECYCLE_PATHS
        where = ended.get(base) if lifecycle else None
        where = where or introduced.get(base) or ended.get(base)
        if where is None and locate is not None:
            where = locate(base, lifecycle)
        where = where or (0, "")
        report.problems.append(Problem(path, where[0], f"SHACL: {r.describe()}", "shape", where[1]))


def _recorded_place(store: ProjectionStore, log: EventStore, base: str,
                    lifecycle: bool) -> Place | None:
    """Where a node of the events before the anchor came from, by the position its records
    hold (the line, in a file log; the seq in PostgreSQL), and that event's id."""
    node = NamedNode(base)
    for predicate in ((GK.knownUntilPosition, GK.knownFromPosition) if lifecycle
                      else (GK.knownFromPosition,)):
        q = next(store.quads(node, predicate, None, DefaultGraph()), None)
        if q is not None and isinstance(q.object, Literal) and q.object.value.isdigit():
            position = int(q.object.value)
            event = next(iter(log.read(after=position - 1, limit=1)), None)
            return position, event.id if event is not None else ""
    return None


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
