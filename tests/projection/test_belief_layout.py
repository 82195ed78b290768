"""Projection layout 2 (docs/belief-model-plan.md, a.5 and d) and the derived conflicts (c).

The second report of ``tests/fixtures/second-report/`` is written here as hand-made
schema-2 events (the forms of the plan's a.3), appended after the seed log
``kb/events.jsonl``: positions 84-86 declare the entities, 87 registers the source, 88-90
assert the claims. Their projection must contain ``expected.trig``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from pyoxigraph import DefaultGraph, NamedNode, Quad

from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    ENTITY_DECLARED,
    SOURCE_REGISTERED,
    RecordedEvent,
)
from geokb.log.file import FileEventStore
from geokb.projection import conflicts
from geokb.projection.quads import CLAIMS_LINKED
from geokb.projection.store import ProjectionStore
from geokb.vocab import (
    ATTRIBUTED_GRAPH,
    BASIS,
    CLAIM,
    CONFLICTS_GRAPH,
    CREDIBILITY,
    GK,
    ID,
    MODALITY,
    RELIABILITY,
    SOURCE,
    SPEECH,
    STATUS,
    SYSTEM_GRAPH,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "second-report"
SEED = 83

OFFICIALS = CLAIM["tartus-withdrawn-per-syrian-officials"].value
VESSELS = CLAIM["tartus-two-vessels-remained"].value
DENIAL = CLAIM["russian-ministry-denies-tartus-withdrawal"].value
TARTUS = ID["tartus-naval-base"].value
WIRE = SOURCE["example-wire-2025-09-16-tartus"].value
TARTUS_STATUS = conflicts.conflict_iri(("sp", TARTUS, GK.status.value))


@pytest.fixture(scope="module")
def seed() -> list[RecordedEvent]:
    events = list(FileEventStore(ROOT / "kb").read())
    assert len(events) == SEED
    return events


def _evidence(quote: str) -> dict[str, Any]:
    return {"quote": quote, "prefix": "", "suffix": "", "start": 0, "end": len(quote),
            "sha256": "ab" * 32}


def second_report_payloads() -> list[tuple[str, dict[str, Any]]]:
    """The claim file's events, as schema-2 payloads (plan, a.3), in the compiler's order."""
    def entity(slug: str, types: list[str], label: str, aliases: list[str],
               description: str) -> tuple[str, dict[str, Any]]:
        return ENTITY_DECLARED, {"entity": ID[slug].value, "types": [GK[t].value for t in types],
                                 "label": label, "aliases": aliases, "same_as": [],
                                 "description": description}

    claim_base = {"source": WIRE, "subject": TARTUS}
    return [
        entity("russian-defence-ministry", ["Organization"], "Russian defence ministry",
               ["Russian Ministry of Defence", "defence ministry"], "Russia's ministry."),
        entity("russian-navy", ["Organization"], "Russian navy", [], "The navy of Russia."),
        entity("example-wire", ["NewsOutlet"], "Example Wire", [], "A fictional wire."),
        (SOURCE_REGISTERED, {
            "source": WIRE, "title": "Russian warships leave Tartus", "sha256": "ab" * 32,
            "publisher": ID["example-wire"].value, "published": "2025-09-16", "language": "en",
            "reliability": RELIABILITY.B.value, "credibility": CREDIBILITY["6"].value}),
        (CLAIM_ASSERTED, {
            **claim_base, "claim": OFFICIALS, "predicate": GK.status.value,
            "object": {"iri": STATUS.withdrawn.value}, "modality": MODALITY.quoted.value,
            "speech_act": SPEECH.states.value,
            "speakers": [{"anonymous": {"description": "two Syrian officials", "count": 2,
                                        "affiliation": ID.syria.value}}],
            "basis": [BASIS.officials.value, BASIS.satelliteImagery.value],
            "evidence": _evidence("The Russian navy moved most of its warships"),
            "valid_from": "2025-09-15", "reliability": RELIABILITY.F.value,
            "credibility": CREDIBILITY["3"].value}),
        (CLAIM_ASSERTED, {
            **claim_base, "claim": VESSELS, "predicate": GK.assessment.value,
            "object": {"value": "only two Russian vessels remained at the piers by Monday "
                                "evening", "lang": "en"},
            "modality": MODALITY.quoted.value, "speech_act": SPEECH.states.value,
            "speakers": [{"anonymous": {"description": "one of the officials", "count": 1,
                                        "affiliation": ID.syria.value}}],
            "basis": [BASIS.officials.value], "confirms": [OFFICIALS],
            "evidence": _evidence("Only two Russian vessels remained"),
            "valid_from": "2025-09-15", "valid_until": "2025-09-15",
            "reliability": RELIABILITY.F.value, "credibility": CREDIBILITY["3"].value}),
        (CLAIM_ASSERTED, {
            **claim_base, "claim": DENIAL, "predicate": GK.status.value,
            "object": {"iri": STATUS.withdrawn.value}, "modality": MODALITY.denied.value,
            "speech_act": SPEECH.denies.value,
            "speakers": [{"anonymous": {
                "description": "a spokesperson for the Russian defence ministry", "count": 1,
                "spokesperson_for": ID["russian-defence-ministry"].value}}],
            "denies": [OFFICIALS], "evidence": _evidence("denied any withdrawal"),
            "reliability": RELIABILITY.C.value, "credibility": CREDIBILITY["3"].value}),
    ]


def recorded(after: int, items: Sequence[tuple[str, dict[str, Any]]]) -> list[RecordedEvent]:
    return [RecordedEvent(id=uuid.UUID(int=after + n).hex, type=t, schema=2,
                          position=after + n, recorded_at="2026-12-01T00:00:00.000000Z",
                          recorded_by="test", payload=p, prev="0" * 64, hash=f"{after + n:064x}")
            for n, (t, p) in enumerate(items, start=1)]


@pytest.fixture(scope="module")
def log(seed: list[RecordedEvent]) -> list[RecordedEvent]:
    return seed + recorded(SEED, second_report_payloads())


@pytest.fixture(scope="module")
def projected(log: list[RecordedEvent]) -> ProjectionStore:
    store = ProjectionStore()
    store.apply(log)
    return store


def held(store: ProjectionStore) -> set[Quad]:
    return set(store.quads()) | set(store.quads(graph=SYSTEM_GRAPH))


def test_the_fixture_projects_to_a_dataset_containing_expected_trig(
        projected: ProjectionStore) -> None:
    expected = list(ox.parse(path=str(FIXTURE / "expected.trig"), format=ox.RdfFormat.TRIG))
    assert len(expected) > 60
    missing = [str(q) for q in expected if q not in held(projected)]
    assert not missing, "\n".join(missing)


def test_no_statement_of_the_second_report_is_in_the_current_view(
        projected: ProjectionStore) -> None:
    default = DefaultGraph()
    current = projected.quads(NamedNode(TARTUS), GK.status, None, default)
    assert [q.object for q in current] == [STATUS.uncertain]  # the seed article's own word
    assert not list(projected.quads(NamedNode(TARTUS), GK.assessment, None, default))
    attributed = list(projected.quads(NamedNode(TARTUS), GK.status, None, ATTRIBUTED_GRAPH))
    assert [q.object for q in attributed] == [STATUS.withdrawn]  # stated by two claims, once


def test_log_events_are_in_the_system_graph_only(projected: ProjectionStore) -> None:
    assert not list(projected.quads(None, None, GK.LogEvent, DefaultGraph()))
    events = list(projected.quads(None, None, GK.LogEvent, SYSTEM_GRAPH))
    assert len(events) == SEED + 7


def test_an_empty_projection_has_an_empty_default_graph(tmp_path: Path) -> None:
    from geokb.kb import KnowledgeBase

    kb = KnowledgeBase(tmp_path)
    assert kb.projection.query("ASK { ?s ?p ?o }") is not None
    assert not bool(kb.projection.query("ASK { ?s ?p ?o }"))
    assert not bool(kb.projection.query("ASK { GRAPH ?g { ?s ?p ?o } }"))


def test_the_seed_kb_serves_no_quoted_pledge_as_fact(seed: list[RecordedEvent]) -> None:
    store = ProjectionStore()
    store.apply(seed)
    ask = ("PREFIX gk: <https://w3id.org/geokb/ontology#> PREFIX id: <https://w3id.org/geokb/id/> "
           "ASK { id:russia gk:supports id:syria-reconstruction }")
    assert not bool(store.query(ask))
    assert bool(store.query(ask.replace("ASK {", "ASK { GRAPH <" + ATTRIBUTED_GRAPH.value + "> {")
                            + " }"))
    # every event's quads left the default graph: it holds no gk:LogEvent nor its position
    assert not bool(store.query("PREFIX gk: <https://w3id.org/geokb/ontology#> "
                                "ASK { ?e gk:position ?p }"))


def conflict_quads(store: ProjectionStore) -> set[Quad]:
    return set(store.quads(graph=CONFLICTS_GRAPH))


def test_the_denial_is_a_conflict_queryable_in_sparql(projected: ProjectionStore) -> None:
    rows = list(projected.query(f"""
        PREFIX gk: <https://w3id.org/geokb/ontology#>
        SELECT ?conflict ?since ?claim WHERE {{ GRAPH <{CONFLICTS_GRAPH.value}> {{
          ?conflict a gk:Conflict ; gk:conflictOn <{TARTUS}> ; gk:conflictProperty gk:status ;
            gk:assessmentValue <https://w3id.org/geokb/assessment/contested> ;
            gk:contestedSince ?since ; gk:conflictSide ?side .
          ?side gk:sideClaim ?claim }} }} ORDER BY ?claim"""))
    assert [(r["conflict"].value, r["since"].value, r["claim"].value) for r in rows] == [
        (TARTUS_STATUS, "2025-09-15", DENIAL), (TARTUS_STATUS, "2025-09-15", OFFICIALS)]
    found = conflicts.find(projected, {("sp", TARTUS, GK.status.value)},
                           live=conflicts.projection_live(projected))
    assert [(c.rules, [s.claims for s in c.sides]) for c in found] == [
        (("denial",), [(OFFICIALS,), (DENIAL,)])]


def test_as_of_before_the_report_there_is_no_conflict(projected: ProjectionStore) -> None:
    """The read side's ``live``: known at ``as_of`` (here the seed's head)."""
    def known_at_seed(claim: str) -> bool:
        start = projected.one(NamedNode(claim), GK.knownFromPosition)
        end = projected.one(NamedNode(claim), GK.knownUntilPosition)
        return (start is not None and int(start.value) <= SEED
                and (end is None or int(end.value) > SEED))

    keys = conflicts.all_keys(projected)
    assert ("sp", TARTUS, GK.status.value) in keys
    assert conflicts.find(projected, keys, live=known_at_seed) == []


def _retract(after: int, claim: str) -> RecordedEvent:
    return recorded(after, [(CLAIM_RETRACTED, {"claim": claim, "reason": "test"})])[0]


def test_a_shared_attributed_triple_stays_while_one_claim_states_it(
        log: list[RecordedEvent]) -> None:
    store = ProjectionStore()
    store.apply(log)
    withdrawn = Quad(NamedNode(TARTUS), GK.status, STATUS.withdrawn, ATTRIBUTED_GRAPH)
    store.apply([_retract(len(log), OFFICIALS)])
    assert store.contains(withdrawn)  # the denial states it too
    assert not conflict_quads(store)  # one side left: no conflict
    store.apply([_retract(len(log) + 1, DENIAL)])
    assert not store.contains(withdrawn)


def _tail() -> list[tuple[str, dict[str, Any]]]:
    """Events after the report that change its conflict: a link, a retraction."""
    return [(CLAIMS_LINKED, {"claim": VESSELS, "contradicts": [DENIAL]}),
            (CLAIM_RETRACTED, {"claim": OFFICIALS, "reason": "test"})]


@pytest.mark.parametrize("cuts", [(), (SEED,), (SEED + 4, SEED + 6), tuple(range(80, 92))])
def test_conflicts_applied_incrementally_equal_a_replay_from_scratch(
        log: list[RecordedEvent], cuts: tuple[int, ...], tmp_path: Path) -> None:
    events = log + recorded(len(log), _tail())
    whole = ProjectionStore(tmp_path / "whole")  # on disk: the first build bulk-loads
    whole.apply(events)
    steps = ProjectionStore()
    start = 0
    for cut in (*cuts, len(events)):
        steps.apply(events[start:cut])
        start = cut
    assert conflict_quads(steps) == conflict_quads(whole)
    assert steps.canonical_hash() == whole.canonical_hash()
    scratch = ox.Store()
    for q in whole.quads():
        if q.graph_name != CONFLICTS_GRAPH:
            scratch.add(q)
    derived = conflicts.find(scratch, conflicts.all_keys(scratch),
                             live=conflicts.projection_live(scratch))
    lines = {line for c in derived for line in conflicts.conflict_lines(c)}
    assert {f"{q} ." for q in conflict_quads(whole)} == lines
    # after the tail: the vessels claim contradicts the live denial (a cross-key pair)
    assert [(c.key[0], c.rules) for c in derived] == [("pair", ("contradiction",))]


def test_a_store_killed_between_the_two_steps_recomputes_conflicts(
        log: list[RecordedEvent], tmp_path: Path) -> None:
    path = tmp_path / "p"
    store = ProjectionStore(path)
    store.apply(log[:SEED])
    def killed(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    store._replace_conflicts = killed  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        store.apply(log)
    del store
    import gc

    gc.collect()
    reopened = ProjectionStore(path)
    assert reopened.position == len(log)
    fresh = ProjectionStore()
    fresh.apply(log)
    assert conflict_quads(reopened) == conflict_quads(fresh) != set()
    assert reopened.canonical_hash() == fresh.canonical_hash()
