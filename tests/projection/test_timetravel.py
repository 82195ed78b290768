"""Time travel equals a replay of the prefix, over the whole dataset (a property test).

``kb.query(..., as_of=k)`` and ``kb.query(..., as_of=k, valid_at=d)`` must answer exactly
what a fresh KnowledgeBase built from the first ``k`` events of the log answers (with
``valid_at=d``): every quad of every graph (the current view and the records, the
attributed view, each claim's graph, the system graph's events, the conflicts). Checked at
random positions and dates over three histories: the shipped ``kb/``, the belief-model
fixture (``kb/`` plus the second report: denials, speakers, conflicts) and a generated KB
with retractions and supersessions (``bench.generate``).

This is the oracle any time-travel mechanism must pass; the replay it compares with is
:class:`KnowledgeBase` on a copy of the log's prefix, which shares no cache with ``kb``.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from bench.generate import ensure_kb

from geokb.kb import KnowledgeBase
from tests.harness.belief import build, seed_copy
from tests.harness.http import copy_prefix

#: Every quad, each with its graph ("" for the default graph); a bag, so that a duplicate
#: (e.g. a triple counted once per claim graph of a union) is a difference too.
DUMP = """SELECT ?g ?s ?p ?o WHERE {
  { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } }
}"""
#: What a reader asks: the current view's statements with a join on the claims' records.
JOINED = """SELECT ?c ?s ?o ?mod ?until WHERE {
  ?c rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; gk:modality ?mod .
  OPTIONAL { ?c gk:knownUntilPosition ?until }
  FILTER EXISTS { ?s ?p ?o }
}"""
DATES = ("2024", "2024-12", "2025-09-15", "2025-12-01", "2026", "1999")


def bag(kb: KnowledgeBase, query: str, *, as_of: str | int | None = None,
        valid_at: str | None = None) -> Counter[tuple[str, ...]]:
    rows = kb.query(query, as_of=as_of, valid_at=valid_at)
    names = [v.value for v in rows.variables]
    return Counter(tuple("" if row[n] is None else str(row[n]) for n in names)
                   for row in rows)


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("timetravel")
    belief = root / "belief"
    build(belief)
    generated, manifest = ensure_kb(300, 5, root / "gen", quiet=True)
    assert manifest["event_types"].get("ClaimRetracted", 0) > 0
    assert manifest["event_types"].get("ClaimSuperseded", 0) > 0
    return {"kb": seed_copy(root / "seed"), "belief-model": belief, "generated": generated}


def positions(head: int, rng: random.Random, n: int) -> list[int]:
    """``n`` positions: the ends (0, 1, head - 1) and random ones in between."""
    chosen = {0, 1, head - 1, *(rng.randrange(head) for _ in range(n))}
    return sorted(p for p in chosen if 0 <= p < head)


@pytest.mark.parametrize("name", ["kb", "belief-model", "generated"])
def test_as_of_and_valid_at_equal_a_replay_of_the_prefix(histories: dict[str, Path],
                                                         name: str, tmp_path: Path) -> None:
    directory = histories[name]
    kb = KnowledgeBase(directory)
    rng = random.Random(f"timetravel-{name}")
    for k in positions(kb.position, rng, 4):
        prefix = tmp_path / f"prefix-{k}"
        copy_prefix(directory, prefix, k)
        fresh = KnowledgeBase(prefix)
        assert fresh.position == k
        for query in (DUMP, JOINED):
            assert bag(kb, query, as_of=k) == bag(fresh, query), (name, k)
        for day in rng.sample(DATES, 2):
            assert bag(kb, DUMP, as_of=k, valid_at=day) == bag(fresh, DUMP, valid_at=day), \
                (name, k, day)


def test_valid_at_at_the_head_equals_a_fresh_replay(histories: dict[str, Path]) -> None:
    """``valid_at`` alone (no ``as_of``) stands at the head: the same as a fresh KB's."""
    directory = histories["belief-model"]
    kb, fresh = KnowledgeBase(directory), KnowledgeBase(directory)
    kb.query("ASK {}", as_of=1)  # a time-travel answer first: nothing of it may stay behind
    for day in DATES:
        assert bag(kb, DUMP, valid_at=day) == bag(fresh, DUMP, valid_at=day), day
    assert bag(kb, DUMP) == bag(fresh, DUMP)


def test_an_as_of_time_equals_its_position(histories: dict[str, Path]) -> None:
    """``as_of`` given as a transaction time answers as the position it resolves to."""
    kb = KnowledgeBase(histories["generated"])
    k = kb.position // 2
    recorded = kb.query(f"SELECT ?t {{ GRAPH ?g {{ ?e gk:position {k} ; gk:recordedAt ?t }} }}")
    when = str(next(iter(recorded))["t"].value)
    at = kb.resolve_as_of(when)
    assert at is not None and at >= k
    assert bag(kb, JOINED, as_of=when) == bag(kb, JOINED, as_of=at)
