"""Whole-KB checks: ``verify`` (the hash chain, now in :mod:`geokb.ops.verify`, re-exported
here) and ``validate`` (chain, replay, rules, SHACL, quotes against stored sources), each
problem located at ``kb/<file>:<line>``.
"""

from __future__ import annotations

from pyoxigraph import NamedNode

from geokb.errors import GeoKBError
from geokb.kb import KnowledgeBase
from geokb.log.events import CLAIM_RETRACTED, CLAIM_SUPERSEDED, RecordedEvent
from geokb.ops.verify import Problem, Report, scan_chain
from geokb.ops.verify import verify as verify  # re-exported: the CLI's `verify`
from geokb.projection.store import ProjectionStore
from geokb.shacl.validation import run_shacl, to_rdflib
from geokb.vocab import GK
from geokb.write.admission import Admission, _Overlay

LIFECYCLE_PATHS = frozenset(GK[n].value for n in (
    "knownUntilPosition", "retractedIn", "retractionReason", "supersededBy", "supersededIn",
    "supersessionReason"))

def validate(kb: KnowledgeBase) -> Report:
    """Chain, replay with every rule, SHACL over the whole KB, quotes in their sources.

    Raises :class:`geokb.ontology.OntologyError` (or ``OSError``) when it cannot run.
    """
    report, events = scan_chain(kb.log)
    path = kb.log.display_path
    store = ProjectionStore()
    admission = Admission(store, kb.ontology, kb.shapes, kb.texts)
    introduced: dict[str, tuple[int, str]] = {}
    ended: dict[str, tuple[int, str]] = {}
    for line, event in events:
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
    shacl = run_shacl(to_rdflib(store.quads()), kb.ontology, kb.shapes)
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
