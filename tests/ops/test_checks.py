"""The rewritten ``kb/checks/*.rq`` answer as the old ones did, on the shipped KB and on a
generated one, each with a seeded violation of every check; and the ``# concerns:``
restriction binds its variable first in the query's outer group."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad

from geokb.log.file import FileEventStore
from geokb.ops.checks import read_check, run_checks
from geokb.projection.store import ProjectionStore
from tests.harness.documents import REPO

GK = "https://w3id.org/geokb/ontology#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PREFIXES = """PREFIX gk: <https://w3id.org/geokb/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX modality: <https://w3id.org/geokb/modality/>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""
#: the checks as shipped before they were rewritten for the indexes (answer, expected)
OLD = {
    "analysis-not-in-current-view": (PREFIXES + """ASK {
  ?claim gk:modality ?modality ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
  FILTER(?modality != modality:asserted)
  FILTER NOT EXISTS { ?claim gk:knownUntilPosition ?ended }
  ?s ?p ?o .
  FILTER NOT EXISTS {
    ?other rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; gk:modality modality:asserted .
    FILTER NOT EXISTS { ?other gk:knownUntilPosition ?end }
  }
}""", False),
    "every-claim-has-evidence": (PREFIXES + """ASK {
  FILTER NOT EXISTS {
    ?claim a gk:Claim .
    FILTER NOT EXISTS {
      ?claim prov:wasDerivedFrom ?source ; gk:evidence ?e .
      ?e oa:hasSelector ?s . ?s oa:exact ?quote .
    }
  }
}""", True),
    "facilities-have-status": (PREFIXES + """ASK {
  FILTER NOT EXISTS {
    VALUES ?type { gk:MilitaryFacility gk:NavalBase gk:Airfield }
    ?facility a ?type .
    FILTER NOT EXISTS {
      ?claim rdf:subject ?facility ; rdf:predicate gk:status .
      FILTER NOT EXISTS { ?claim gk:knownUntilPosition ?end }
    }
  }
}""", True),
    "no-live-claim-cites-retracted-source": (PREFIXES + """ASK {
  FILTER NOT EXISTS {
    ?claim prov:wasDerivedFrom ?source .
    ?source gk:retractedIn ?event .
    FILTER NOT EXISTS { ?claim gk:knownUntilPosition ?end }
  }
}""", True),
}

Seed = Callable[[list[Quad]], list[Quad]]


def _live_asserted(quads: list[Quad]) -> list[NamedNode]:
    ended = {q.subject for q in quads if q.predicate == NamedNode(GK + "knownUntilPosition")}
    return sorted((q.subject for q in quads if isinstance(q.subject, NamedNode)
                   and q.predicate == NamedNode(GK + "modality")
                   and str(q.object).endswith("/asserted>") and q.subject not in ended),
                  key=str)


def quoted_fact(quads: list[Quad]) -> list[Quad]:
    """A live asserted claim turned quoted: its statement stays in the current view."""
    claim = _live_asserted(quads)[0]
    modality = NamedNode(GK + "modality")
    return [q for q in quads if not (q.subject == claim and q.predicate == modality)] + [
        Quad(claim, modality, NamedNode("https://w3id.org/geokb/modality/quoted"),
             DefaultGraph())]


def no_evidence(quads: list[Quad]) -> list[Quad]:
    claim = _live_asserted(quads)[-1]
    return [q for q in quads if not (q.subject == claim
                                     and q.predicate == NamedNode(GK + "evidence"))]


def bare_facility(quads: list[Quad]) -> list[Quad]:
    return [*quads, Quad(NamedNode("https://w3id.org/geokb/id/seeded-base"),
                         NamedNode(RDF + "type"), NamedNode(GK + "NavalBase"), DefaultGraph())]


def retracted_source(quads: list[Quad]) -> list[Quad]:
    claim = _live_asserted(quads)[0]
    source = next(q.object for q in quads if q.subject == claim
                  and q.predicate == NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom"))
    return [*quads, Quad(source, NamedNode(GK + "retractedIn"),  # type: ignore[arg-type]
                         Literal("seeded"), DefaultGraph())]


SEEDS: dict[str, Seed] = {"none": lambda quads: quads, "quoted-fact": quoted_fact,
                          "no-evidence": no_evidence, "bare-facility": bare_facility,
                          "retracted-source": retracted_source}


CAUGHT_BY = {"quoted-fact": "analysis-not-in-current-view", "no-evidence":
             "every-claim-has-evidence", "bare-facility": "facilities-have-status",
             "retracted-source": "no-live-claim-cites-retracted-source"}


def store_of(kb_dir: Path) -> list[Quad]:
    store = ProjectionStore()
    store.apply(FileEventStore(kb_dir).read(after=0))
    return list(store.quads())


def answers(store: ProjectionStore) -> tuple[dict[str, bool], dict[str, bool]]:
    new = {Path(r.path).stem: r.passed for r in run_checks(store.query, REPO / "kb" / "checks")}
    old = {name: bool(store.query(text)) == expect for name, (text, expect) in OLD.items()}
    return old, new


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Quad]:
    from bench.generate import ensure_kb

    kb_dir, _ = ensure_kb(150, 5, tmp_path_factory.mktemp("gen"), quiet=True)
    return store_of(kb_dir)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_the_rewritten_checks_answer_as_the_old_ones(seed: str, generated: list[Quad]) -> None:
    for quads in (store_of(REPO / "kb"), generated):
        old, new = answers(ProjectionStore.of(SEEDS[seed](quads), position=1,
                                              head_hash="0" * 64))
        assert new == old
        if seed != "none":
            assert not new[CAUGHT_BY[seed]]  # the seeded violation is seen


def test_concerns_binds_the_variable_first_in_the_outer_group() -> None:
    check = read_check(REPO / "kb" / "checks" / "every-claim-has-evidence.rq")
    assert check.concerns == "claim" and check.expect is False
    text = check.restricted_to(["https://w3id.org/geokb/claim/b", "https://w3id.org/geokb/claim/a"])
    assert "ASK {\n  VALUES ?claim { <https://w3id.org/geokb/claim/a> " \
           "<https://w3id.org/geokb/claim/b> }" in text


#: the node each seeded violation is about (what ``check --since`` would bind)
SEEDED_NODE: dict[str, Callable[[list[Quad]], NamedNode]] = {
    "quoted-fact": lambda quads: _live_asserted(quads)[0],
    "no-evidence": lambda quads: _live_asserted(quads)[-1],
    "bare-facility": lambda quads: NamedNode("https://w3id.org/geokb/id/seeded-base"),
    "retracted-source": lambda quads: _live_asserted(quads)[0],
}


@pytest.mark.parametrize("seed", sorted(SEEDED_NODE))
def test_a_restricted_check_sees_the_violation_of_its_node_and_only_that(
        seed: str, generated: list[Quad]) -> None:
    """Every shipped check declares what it concerns, so ``check --since`` can bind it: bound
    to the seeded node it fails as the whole check does, bound to other nodes it passes."""
    store = ProjectionStore.of(SEEDS[seed](generated), position=1, head_hash="0" * 64)
    node = SEEDED_NODE[seed](generated).value
    derived = NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
    sources = {q.object for q in generated if q.subject.value == node and q.predicate == derived}
    sharing = {q.subject for q in generated if q.predicate == derived and q.object in sources}
    others = [c.value for c in _live_asserted(generated)[1:-1] if c not in sharing][:20]
    assert others
    for concerning, caught in (([node, *others], True), (others, False)):
        results = {Path(r.path).stem: r for r in run_checks(
            store.query, REPO / "kb" / "checks", concerning=concerning)}
        assert all(r.restricted for r in results.values())
        assert results[CAUGHT_BY[seed]].passed is not caught, (seed, concerning[:2])
