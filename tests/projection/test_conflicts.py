"""The conflict rules of :mod:`geokb.projection.conflicts` (plan, c.1-c.2), on small logs."""

from __future__ import annotations

from datetime import date
from itertools import combinations
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal

from geokb.log.events import CLAIM_ASSERTED, CLAIM_SUPERSEDED, SOURCE_REGISTERED
from geokb.projection import conflicts
from geokb.projection.claimtimes import ClaimTimes, known_interval, overlap
from geokb.projection.singlevalued import single_valued
from geokb.projection.store import ProjectionStore
from geokb.vocab import CLAIM, CONFLICTS_GRAPH, GK, ID, MODALITY, SOURCE, STATUS
from tests.projection.test_belief_layout import recorded

BASE = ID["base"].value


def source(slug: str, published: str | None) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {"source": SOURCE[slug].value, "title": slug, "sha256": "ab" * 32}
    if published:
        payload["published"] = published
    return SOURCE_REGISTERED, payload


def status(claim: str, src: str, value: str, *, modality: str = "asserted",
           speaker: str | None = None, **times: str) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {
        "claim": CLAIM[claim].value, "subject": BASE, "predicate": GK.status.value,
        "object": {"iri": STATUS[value].value}, "modality": MODALITY[modality].value,
        "source": SOURCE[src].value, **times,
        "evidence": {"quote": "q", "prefix": "", "suffix": "", "start": 0, "end": 1,
                     "sha256": "ab" * 32}}
    if speaker:
        payload["speakers"] = [{"entity": ID[speaker].value}]
    return CLAIM_ASSERTED, payload


def found(items: list[tuple[str, dict[str, Any]]]) -> list[conflicts.Conflict]:
    store = ProjectionStore()
    store.apply(recorded(0, items))
    out = conflicts.find(store._store, conflicts.all_keys(store._store),
                         live=conflicts.projection_live(store._store))
    stored = {str(q.subject) for q in store.quads(None, None, GK.Conflict, CONFLICTS_GRAPH)}
    stored = {s.strip("<>") for s in stored}
    assert stored == {c.iri for c in out}
    return out


def test_two_sources_giving_two_statuses_at_one_time_are_single_valued_conflict() -> None:
    out = found([source("a", "2025-03-02"), source("b", "2025-03"),
                 status("open", "a", "operational"), status("shut", "b", "closed",
                                                           modality="quoted", speaker="x")])
    assert [(c.rules, c.contested_since, [s.claims for s in c.sides]) for c in out] == [
        (("single-valued",), date(2025, 3, 2),
         [(CLAIM["open"].value,), (CLAIM["shut"].value,)])]


def test_undated_claims_and_one_origin_make_no_conflict() -> None:
    assert found([source("a", None), source("b", None), status("open", "a", "operational"),
                  status("shut", "b", "closed")]) == []
    assert found([source("a", "2025"), status("open", "a", "operational"),
                  status("shut", "a", "closed")]) == []  # one source, no speakers: one origin


def test_times_that_do_not_overlap_make_no_conflict() -> None:
    items = [source("a", "2025-06-01"), source("b", "2025-06-01"),
             status("open", "a", "operational", valid_from="2020", valid_until="2021"),
             status("shut", "b", "closed", valid_from="2024-12")]
    assert found(items) == []


def test_a_superseded_side_ends_the_conflict() -> None:
    items = [source("a", "2025-06-01"), source("b", "2025-06-01"),
             status("open", "a", "operational"), status("shut", "b", "closed")]
    assert len(found(items)) == 1
    ended = (CLAIM_SUPERSEDED, {"claim": CLAIM["shut"].value, "by": CLAIM["open"].value,
                                "reason": "wrong"})
    assert found([*items, ended]) == []


def test_an_undated_denial_of_a_dated_claim_is_a_denial_conflict() -> None:
    out = found([source("a", "2025-06-01"), source("b", None),
                 status("shut", "a", "closed", modality="quoted", speaker="x"),
                 status("not-shut", "b", "closed", modality="denied", speaker="y")])
    assert [(c.rules, c.contested_since, [s.negated for s in c.sides]) for c in out] == [
        (("denial",), date(2025, 6, 1), [False, True])]


# -- rule 1 without every pair ----------------------------------------------------------

DAYS = [date(2020, 1, 1), date(2021, 6, 1), date(2022, 1, 1), date(2023, 3, 1), date(2024, 1, 1)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2),
                          st.none() | st.integers(0, 4), st.integers(0, 4),
                          st.integers(0, 3)), max_size=25))
def test_rule_one_finds_the_claims_the_pairwise_rule_finds(
        rows: list[tuple[int, int, int, int | None, int, int]]) -> None:
    """:func:`~geokb.projection.singlevalued.single_valued` (prefixes of latest ends) sets
    against another the claims that checking every pair does."""
    modalities = [MODALITY.asserted.value, MODALITY.quoted.value, MODALITY.denied.value]
    claims = []
    for n, (obj, origin, modality, start, length, valid) in enumerate(rows):
        c = ClaimTimes(f"c{n}", object=Literal(f"v{obj}"), modality=modalities[modality],
                       source=f"s{origin}", speakers=frozenset({"x"} if origin == 2 else ()))
        if valid:  # else undated: no known interval
            first = DAYS[start] if start is not None else None
            c.valid_start = first or date(1990, 1, 1)
            c.valid_end = DAYS[min(4, (start or 0) + length)]
            if first is None:
                c.valid_start = None
        claims.append(c)
    pairwise = set()
    for a, b in combinations(claims, 2):
        if (a.modality != modalities[2] and b.modality != modalities[2]
                and a.object != b.object and a.origin != b.origin
                and overlap(known_interval(a), known_interval(b))):
            pairwise |= {a.iri, b.iri}
    assert single_valued(claims) == pairwise
