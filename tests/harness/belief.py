"""A copy of the seed KB with the second report (tests/fixtures/second-report/) ingested.

The claim file is ingested with ``geokb ingest``'s own path when the write side takes its
keys (schema 2), else without the new keys (its entities first, as the old compiler
needed). Until the projection writes the belief model's quads, the quads the file must
project — the fixture's ``expected.trig`` — are added to the real projection store, and the
statements of the non-asserted claims are moved out of the default graph, as the belief
model routes them; on a projection that already writes them this adds nothing. Either way
the positions are 84–90, as ``expected.md`` says."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from geokb.errors import InvalidEvent
from geokb.kb import KnowledgeBase
from geokb.projection.store import ProjectionStore
from tests.harness.documents import REPO

FIXTURE = REPO / "tests" / "fixtures" / "second-report"
SEED_HEAD = 83
HEAD = 90
NEW_KEYS = {"speakers", "speech_act", "basis", "denies", "confirms", "contradicts",
            "reliability", "credibility"}
GK = "https://w3id.org/geokb/ontology#"
ATTRIBUTED = ox.NamedNode("https://w3id.org/geokb/graph/attributed")
ASSERTED = ox.NamedNode("https://w3id.org/geokb/modality/asserted")


def seed_copy(directory: Path) -> Path:
    """``kb/``'s log and source texts, copied into ``directory`` (returned)."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "kb" / "events.jsonl", directory / "events.jsonl")
    shutil.copytree(REPO / "kb" / "sources", directory / "sources", dirs_exist_ok=True)
    return directory


def document() -> dict[str, Any]:
    loaded = yaml.safe_load((FIXTURE / "second-report.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _without_new_keys(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    entities = {"entities": doc["entities"]}
    rest = {k: v for k, v in doc.items() if k != "entities"}
    rest["sources"] = [{k: v for k, v in s.items() if k not in NEW_KEYS}
                       for s in doc["sources"]]
    claims = [{k: v for k, v in c.items() if k not in NEW_KEYS} for c in doc["claims"]]
    # the dependency order the compiler will use: the denied claim before its denial
    claims.sort(key=lambda c: 0 if c["id"] == "tartus-withdrawn-per-syrian-officials" else 1)
    rest["claims"] = claims
    return entities, rest


def ingest_second_report(kb: KnowledgeBase) -> None:
    """Ingest the fixture on ``kb`` (at the seed's head) and bring its projection to the
    belief model's layout for these claims."""
    assert kb.position == SEED_HEAD
    doc = document()
    try:
        kb.ingest(doc, base_dir=FIXTURE, recorded_by=doc["recorded_by"])
    except InvalidEvent:  # the new keys are not taken yet: today's compiler and projection
        entities, rest = _without_new_keys(doc)
        kb.ingest(entities, base_dir=FIXTURE, recorded_by=doc["recorded_by"])
        kb.ingest(rest, base_dir=FIXTURE, recorded_by=doc["recorded_by"])
    assert kb.position == HEAD
    overlay(kb.projection)


def overlay(projection: ProjectionStore) -> None:
    """Add ``expected.trig``'s quads and move non-asserted statements of live claims out of
    the default graph into the attributed one (a no-op on a belief-model projection).

    It writes to the projection's pyoxigraph store directly, beside the position, as only a
    stand-in for the belief model's projection may: nothing else in the tests does.
    """
    store: ox.Store = projection._store
    store.load(path=str(FIXTURE / "expected.trig"), format=ox.RdfFormat.TRIG)
    modality, until = ox.NamedNode(GK + "modality"), ox.NamedNode(GK + "knownUntilPosition")
    default = ox.DefaultGraph()
    move: list[ox.Quad] = []
    for q in store.quads_for_pattern(None, modality, None, default):
        claim = q.subject
        if q.object == ASSERTED or not isinstance(claim, ox.NamedNode) \
                or next(store.quads_for_pattern(claim, until, None, default), None) is not None:
            continue
        for s in store.quads_for_pattern(None, None, None, claim):
            stated = ox.Quad(s.subject, s.predicate, s.object, default)
            if stated in store:
                move.append(stated)
    for stated in move:
        store.remove(stated)
        store.add(ox.Quad(stated.subject, stated.predicate, stated.object, ATTRIBUTED))


def build(directory: Path, *, projection: Path | None = None) -> KnowledgeBase:
    """A KB in ``directory``: the seed plus the second report (head 90)."""
    kb = KnowledgeBase(seed_copy(directory), projection_path=projection)
    ingest_second_report(kb)
    return kb
