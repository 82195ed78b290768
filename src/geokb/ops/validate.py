"""``geokb validate``: the hash chain, a replay with every rule, SHACL over the whole KB
and every quote against its stored source, each problem located at ``kb/<file>:<line>``.

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
    Event,
    RecordedEvent,
)
from geokb.log.sources import SourceTexts
from geokb.ontology import Ontology
from geokb.ops.verify import Problem, Report, scan_chain
from geokb.projection.invariant import live_from_lines, view_problems
from geokb.projection.quads import SYSTEM_GRAPH, is_factual, shacl_input, statement_of
from geokb.projection.store import ProjectionStore
from geokb.shacl.engines import Validator
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
             progress: Progress | None = None,
             projection: ProjectionStore | None = None) -> Report:
    """Chain, replay with every rule, SHACL (by ``validator``) over the whole KB, quotes in
    their sources, and the evidence model's invariant over the replay and over
    ``projection`` (a KB's own, on disk: compared with the live claims of the log at its
    position). ``progress`` hears of the replay and of SHACL.

    Raises :class:`geokb.errors.OntologyError` (or ``OSError``) when it cannot run.
    """
    if progress is not None:
        progress("reading the log", 0, 0)
    report, events = scan_chain(log)
    if progress is not None:
        progress("reading the log", len(events), len(events))
    path = log.display_path
    store = new_store()
    admission = Admission(store, ontology, shapes, texts, engine=validator)
    introduced: dict[str, tuple[int, str]] = {}
    ended: dict[str, tuple[int, str]] = {}
    live: dict[str, tuple[str, bool]] = {}  # claim -> (statement line, factual), by the log
    live_there: dict[str, tuple[str, bool]] | None = None  # … at the projection's position
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
        _follow_live(live, event)
        if projection is not None and event.position == projection.position:
            live_there = dict(live)
        key = (event.payload.get("claim") or event.payload.get("entity")
               or event.payload.get("source") or "")
        if event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            ended[key] = (line, event.id)
        elif key:
            introduced.setdefault(key, (line, event.id))
        introduced.setdefault(f"https://w3id.org/geokb/event/{event.id}", (line, event.id))
    if progress is not None:
        progress("SHACL over the whole KB", 0, 0)
    shacl = validator.validate(shacl_input([*store.quads(graph=DefaultGraph()),
                                            *store.quads(graph=SYSTEM_GRAPH)]))
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
    _check_view(report, path, store, live, introduced, "the replayed log")
    if projection is not None and projection.position > 0 and live_there is None:
        report.problems.append(Problem(path, 0, f"the projection on disk is at position "
                                                f"{projection.position}, which the log does "
                                                "not reach: rebuild it", "view"))
    elif projection is not None and live_there is not None:
        _check_view(report, path, projection, live_there, introduced, "the projection on disk")
    report.claims = sum(1 for _ in store.quads(None, RDF_TYPE, GK.Claim, DefaultGraph()))
    report.problems.sort(key=lambda p: (p.line, p.message))
    return report


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


def _check_view(report: Report, path: str, store: ProjectionStore,
                live: dict[str, tuple[str, bool]], introduced: dict[str, tuple[int, str]],
                what: str) -> None:
    """Report where ``store``'s views do not match the ``live`` claims of the log."""
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
