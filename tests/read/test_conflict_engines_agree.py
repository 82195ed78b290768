"""The conflicts the projection keeps (``graph/conflicts``: SPARQL, the desk, ``ingest
--dry-run``) and the ones ``geokb conflicts`` and ``status`` compute at the head are the
same: same keys, same rules, same claims on their sides, same ``contestedSince``, same
ends of their sides. So at
the head ``geokb conflicts`` works out only the keys of the graph (O(conflicts), not
O(claims)).

They are two engines (the read side also answers ``as_of`` without the graph). On the
bench's synthetic KBs they disagreed on 8 of 141 conflicts at 10k claims: the projection
took a forecast (a claim valid from 2013 reported in 2010) to hold over an empty interval,
and the read side judged a denial with no valid time and no ``gk:denies`` link by its own
report date instead of the time of the claim it is set against (plan, c.1 rule 2); and
at 100k claims 60 of 1,368 conflicts had another "contested since" (the same denial's
side started at its report date on the read side).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import NamedNode

from geokb.kb import KnowledgeBase
from geokb.ontology import load_ontology
from geokb.projection.store import ProjectionStore
from geokb.read import catalogue, disputes
from geokb.read.reader import Reader
from geokb.vocab import CLAIM, CONFLICTS_GRAPH, GK
from tests.projection.test_belief_layout import recorded
from tests.projection.test_conflicts import source, status

Key = tuple[tuple[str, ...], str | None]


Seen = tuple[list[str], list[str], str | None, list[str]]  # rules, claims, since, side ends


def stored(r: Reader) -> dict[Key, Seen]:
    out = {}
    for iri, c in catalogue.conflicts(r).items():
        node = NamedNode(iri)
        since = r.store.objects(node, GK.contestedSince, graph=CONFLICTS_GRAPH)
        ends = []
        for side in r.store.objects(node, GK.conflictSide, graph=CONFLICTS_GRAPH):
            end = r.store.objects(side, GK.sideEnd, graph=CONFLICTS_GRAPH)
            ends.append(end[0].value if end else "open")
        out[(tuple(c["on"]), c["property"])] = (sorted(c["rules"]), sorted(c["claims"]),
                                                since[0].value if since else None, sorted(ends))
    return out


def computed(r: Reader, *, every_key: bool = True) -> dict[Key, Seen]:
    out = {}
    for c in disputes.find(r, as_of=None, every_key=every_key):
        on = (c.on.value,) if hasattr(c.on, "value") else tuple(t.value for t in c.on)
        key = (on, c.property.value if c.property is not None else None)
        out[key] = (sorted(c.rules), sorted(c.claims()),
                    c.since.isoformat() if c.since is not None else None,
                    sorted(e.isoformat() if e is not None else "open" for e in c.side_ends))
    return out


def reader_of(items: list[tuple[str, dict[str, Any]]]) -> Reader:
    store = ProjectionStore()
    store.apply(recorded(0, items))
    return Reader(store, load_ontology().labels)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_on_synthetic_kbs_the_kept_conflicts_are_the_computed_ones(
        seed: int, tmp_path: Path) -> None:
    from bench.generate import ensure_kb

    kb_dir, _ = ensure_kb(2_000, seed, tmp_path, quiet=True)
    r = KnowledgeBase(kb_dir)._reader
    kept, found = stored(r), computed(r)
    assert len(kept) >= 20  # the generator makes disputes: this compares something
    assert any(end != "open" for seen in kept.values() for end in seen[3])  # ended sides too
    assert kept == found
    assert computed(r, every_key=False) == found  # the head's shortcut: the graph's keys


def test_a_denial_with_only_a_report_date_speaks_of_the_denied_statements_time() -> None:
    """Closed in 2020 (source a); "it was never closed", reported in 2025 with no valid
    time and no claim named (source b): a denial conflict in both engines."""
    r = reader_of([source("a", "2021-01-10"), source("b", "2025-06-01"),
                   status("shut", "a", "closed", valid_from="2020"),
                   status("never", "b", "closed", modality="denied")])
    kept, found = stored(r), computed(r)
    assert kept == found
    # contested since the denied statement's start, not the denial's report date
    assert list(found.values()) == [(["denial"], sorted([CLAIM["never"].value,
                                                         CLAIM["shut"].value]), "2020-01-01",
                                     ["open", "open"])]


def test_a_forecast_is_known_on_its_first_day() -> None:
    """Valid from September 2013, reported in 2010 (a forecast): known on 2013-09-01, so
    it meets another source's status for that day, in both engines."""
    r = reader_of([source("a", "2010-09-16"), source("b", "2013-09-02"),
                   status("plan", "a", "suspended", valid_from="2013-09"),
                   status("open", "b", "operational", valid_from="2013-09-01")])
    kept, found = stored(r), computed(r)
    assert kept == found
    (conflict,) = disputes.find(r, as_of=None)
    assert conflict.rules == {"single-valued"} and conflict.since == date(2013, 9, 1)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_page_of_the_heads_conflicts_is_the_page_of_all_of_them(
        seed: int, tmp_path: Path) -> None:
    """At the head a page is read from what the projection keeps (which conflicts cover T,
    how many) and only its own conflicts are worked out: the same page, the same total,
    as working every one out, at several world times and pages."""
    from bench.generate import ensure_kb

    from geokb.projection.timeview import TimeFilter
    from geokb.read import conflicts
    from geokb.read.beliefs import world_time

    kb_dir, _ = ensure_kb(2_000, seed, tmp_path, quiet=True)
    r = KnowledgeBase(kb_dir)._reader
    everything = disputes.find(r, as_of=None, every_key=True)
    totals = set()
    for valid_at in (None, "1990", "2012-06", "2016-03-01", "2024"):
        when = TimeFilter.make(None, valid_at)
        t = world_time(r, None, valid_at)
        covering = [c for c in everything if c.covers(t)]
        totals.add(len(covering))
        for offset, limit in ((0, 20), (7, 5), (len(covering) - 3, 10), (0, None)):
            offset = max(offset, 0)
            answer = conflicts.conflicts(r, None, when, t=t, limit=limit, offset=offset)
            expected = covering[offset:] if limit is None else covering[offset:offset + limit]
            assert answer["page"]["total"] == len(covering), (valid_at, offset, limit)
            assert [c["conflict"] for c in answer["conflicts"]] == [c.iri for c in expected]
            assert answer["conflicts"] == [conflicts.conflict_json(r, c, t) for c in expected]
    assert len(totals) > 1  # the world times chosen do cover different conflicts
