"""The projection's model of the live claims (:mod:`geokb.projection.liveclaims`): a
projection that applies a log in many small steps, reading the busy keys through its
model, holds the conflicts a derivation from scratch gives."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geokb.projection.store
from geokb.log.events import (
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    CLAIMS_LINKED,
    GRAPH_UPDATED,
    RecordedEvent,
)
from geokb.projection import conflicts
from geokb.projection.store import ProjectionStore
from geokb.vocab import CLAIM, CONFLICTS_GRAPH, GK, ID, STATUS
from tests.projection.test_belief_layout import recorded
from tests.projection.test_conflicts import source, status

SUBJECTS = [ID["base"].value, ID["port"].value]
PROPERTIES = [GK.status.value, "http://ex.org/p"]
SOURCES = [("a", "2025-03-02"), ("b", "2025-03"), ("c", None), ("d", "2024")]
VALUES = ["operational", "closed", "suspended"]
TIMES: list[dict[str, str]] = [{}, {"valid_from": "2024"}, {"valid_from": "2025-03"},
                               {"valid_from": "2020", "valid_until": "2021"},
                               {"valid_until": "2026"}]


def claim(n: int) -> str:
    return CLAIM[f"k{n}"].value


class Log:
    """A log of claims about two subjects' keys, with denials, links and endings."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = [source("a", "2025-03-02")]
        self.registered = {"a"}
        self.claims: list[str] = []
        self.ended: set[str] = set()

    def register(self, index: int) -> None:
        """Register a source before a claim cites it, as admission requires. (A log that
        skipped admission could cite it first: a source's registration recomputes no key,
        so a long-lived projection would not follow what it changes of an earlier claim.
        The model's part of that is tested below, through a later claim of the key.)"""
        slug, published = SOURCES[index]
        if slug not in self.registered:
            self.registered.add(slug)
            self.items.append(source(slug, published))

    def step(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "source":
            self.register(op[1])
        elif kind == "claim":
            _, subj, prop, value, src, modality, times, speaker, link = op
            self.register(src)
            name = claim(len(self.claims))
            _, payload = status(f"k{len(self.claims)}", SOURCES[src][0], VALUES[value],
                                modality=("asserted", "quoted", "denied")[modality],
                                speaker=[None, "x", "y"][speaker], **TIMES[times])
            payload["subject"], payload["predicate"] = SUBJECTS[subj], PROPERTIES[prop]
            if link is not None and self.claims:
                kind_, target = link
                payload[("denies", "confirms", "contradicts")[kind_]] = [
                    self.claims[target % len(self.claims)]]
            self.claims.append(name)
            self.items.append(("ClaimAsserted", payload))
        elif kind in ("retract", "supersede", "link") and self.claims:
            target = self.claims[op[1] % len(self.claims)]
            if kind == "link":
                other = self.claims[op[2] % len(self.claims)]
                if other != target:
                    self.items.append((CLAIMS_LINKED, {
                        "claim": target, ("denies", "confirms", "contradicts")[op[3]]: [other]}))
            elif target not in self.ended:
                self.ended.add(target)
                if kind == "retract":
                    self.items.append((CLAIM_RETRACTED, {"claim": target, "reason": "r"}))
                else:
                    self.items.append((CLAIM_SUPERSEDED, {"claim": target, "reason": "r",
                                                          "by": self.claims[-1]}))
        elif kind == "update":  # a GraphUpdated that moves a claim's valid start
            target = self.claims[op[1] % len(self.claims)] if self.claims else None
            if target is not None:
                line = (f"<{target}> <{GK.validStart.value}> "
                        f"\"2019-01-01\"^^<http://www.w3.org/2001/XMLSchema#date> .")
                self.items.append((GRAPH_UPDATED, {"delete": [], "insert": [line]}))


OPS = st.one_of(
    st.tuples(st.just("source"), st.integers(0, 3)),
    st.tuples(st.just("claim"), st.integers(0, 1), st.integers(0, 1), st.integers(0, 2),
              st.integers(0, 3), st.integers(0, 2), st.integers(0, 4), st.integers(0, 2),
              st.none() | st.tuples(st.integers(0, 2), st.integers(0, 40))),
    st.tuples(st.just("retract"), st.integers(0, 40)),
    st.tuples(st.just("supersede"), st.integers(0, 40)),
    st.tuples(st.just("link"), st.integers(0, 40), st.integers(0, 40), st.integers(0, 2)),
    st.tuples(st.just("update"), st.integers(0, 40)),
)


def stored(store: ProjectionStore) -> list[str]:
    return sorted(f"{q} ." for q in store.quads(None, None, None, CONFLICTS_GRAPH))


def derived(store: ProjectionStore) -> list[str]:
    """The conflicts graph derived from scratch, without the model."""
    raw = store._store
    found = conflicts.find(raw, conflicts.all_keys(raw), live=conflicts.projection_live(raw))
    return sorted(line for c in found for line in conflicts.conflict_lines(c))


def applied_in_steps(events: list[RecordedEvent], steps: list[int]) -> ProjectionStore:
    store = ProjectionStore()
    done = 0
    for step in steps:
        store.apply(events[done:done + step])
        done += step
    store.apply(events)
    return store


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(OPS, min_size=1, max_size=50),
       steps=st.lists(st.integers(1, 6), min_size=1, max_size=40),
       batch=st.sampled_from([1, 40, 20_000]))
def test_a_long_lived_projection_holds_the_conflicts_of_a_derivation(
        ops: list[tuple[Any, ...]], steps: list[int], batch: int) -> None:
    log = Log()
    for op in ops:
        log.step(op)
    events = recorded(0, log.items)
    old = geokb.projection.store.BATCH_QUADS
    geokb.projection.store.BATCH_QUADS = batch
    try:
        store = applied_in_steps(events, steps)
    finally:
        geokb.projection.store.BATCH_QUADS = old
    assert store.position == len(events)
    assert stored(store) == derived(store)
    fresh = ProjectionStore()
    fresh.apply(events)
    assert store.canonical_hash() == fresh.canonical_hash()


def test_the_model_is_read_and_follows_new_and_ended_claims(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy key read once is then served from the model, and a claim that joins or
    leaves it moves a conflict's sides as a derivation from scratch says."""
    log = Log()
    for n in range(12):  # one busy key: sources a and b, statuses that disagree
        log.step(("source", 1))
        log.step(("claim", 0, 0, n % 2, n % 2, 0, 1, 0, None))
    events = recorded(0, log.items)
    store = ProjectionStore()
    store.apply(events[:3])
    for event in events[3:]:
        store.apply([event])
    model = store._live_claims
    assert model.hits >= 8 and model.misses <= 3, (model.hits, model.misses)
    assert len(model) == 12
    assert stored(store) and stored(store) == derived(store)
    after = len(events)
    ending = recorded(after, [(CLAIM_RETRACTED, {"claim": c, "reason": "r"})
                              for n, c in enumerate(log.claims[:-1]) if n % 2])
    for event in ending:
        store.apply([event])
    assert len(model) == 7
    assert stored(store) == derived(store)
    closed = [q.subject for q in store.quads(None, GK.sideValue, STATUS["closed"],
                                             CONFLICTS_GRAPH)]
    assert [str(q.object) for q in store.quads(closed[0], GK.sideClaim, None,
                                                CONFLICTS_GRAPH)] == [f"<{log.claims[-1]}>"]
    store.apply(recorded(after + len(ending), [(CLAIM_RETRACTED, {"claim": log.claims[-1],
                                                                   "reason": "r"})]))
    assert stored(store) == derived(store) == []  # one side left: no conflict


def test_a_graph_update_empties_the_model() -> None:
    log = Log()
    log.step(("source", 1))
    for n in range(4):
        log.step(("claim", 0, 0, n % 2, n % 2, 0, 1, 0, None))
    log.step(("update", 0))
    events = recorded(0, log.items)
    store = ProjectionStore()
    store.apply(events[:2])
    for event in events[2:-1]:
        store.apply([event])
    assert len(store._live_claims) == 4
    store.apply(events[-1:])
    assert len(store._live_claims) == 0
    assert stored(store) == derived(store)


def test_a_record_waiting_for_its_source_is_read_again_once_it_is_registered() -> None:
    """A claim projected before its source (a log that skipped admission) is reported when
    the source says; the model must not keep the record it read before."""
    items = [source("a", "2025-03-02"),
             status("early", "b", "operational", valid_from="2020"),  # b: not registered
             status("open", "a", "closed", valid_from="2025-03")]
    late = [source("b", "2025-03"), status("again", "a", "closed", valid_from="2025-03")]
    events = recorded(0, [*items, *late])
    store = ProjectionStore()
    store.apply(events[:2])
    for event in events[2:]:
        store.apply([event])
    # known until b's publication (March 2025), "early" now overlaps the closed claims
    assert stored(store) == derived(store) != []
