"""The *valid at* view: the current view restricted to the claims that hold at a world time.

A statement of a claim stays in the default graph (or the attributed graph) only if a live
claim routed there states it and **holds** at T (:mod:`geokb.times`): an undated claim, or
one only last reported before T, is never presented as fact at T. What no claim states
(what SPARQL updates wrote), the records, the claims' own graphs and the other named graphs
are copied as they are, and so is the system graph (the log's events).

Two ways to make it: :func:`valid_view` copies the store into memory (the in-memory KB);
:mod:`geokb.projection.history` copies an on-disk store by hard links and removes
:func:`dropped` from it.
"""

from __future__ import annotations

from pyoxigraph import NamedNode, Quad

from geokb.projection.quads import DEFAULT, SYSTEM_GRAPH
from geokb.projection.store import GraphName, ProjectionStore, Subject, Term
from geokb.read.beliefs import holding_at
from geokb.read.reader import Reader
from geokb.times import HOLDS, Span
from geokb.vocab import FACTUAL_MODALITIES, GK, GRAPH, RDF, term_value

ATTRIBUTED = GRAPH.attributed
Statement = tuple[Subject, NamedNode, Term]


def dropped(r: Reader, t: Span) -> list[Quad]:
    """The quads of the current and attributed views that the view at ``t`` leaves out:
    statements of claims that no live claim routed to that view states while holding at
    ``t``."""
    store = r.store
    statements: set[Statement] = set()
    keep: dict[GraphName, set[Statement]] = {DEFAULT: set(), ATTRIBUTED: set()}
    for q in store.quads(None, RDF.type, GK.Claim, DEFAULT):
        claim = q.subject
        if not isinstance(claim, NamedNode):
            continue
        live = store.one(claim, GK.knownUntilPosition) is None
        modality = store.one(claim, GK.modality)
        factual = modality is not None and term_value(modality) in FACTUAL_MODALITIES
        holds = live and holding_at(r, claim, t) == HOLDS
        for s in store.quads(None, None, None, claim):
            key = (s.subject, s.predicate, s.object)
            statements.add(key)
            if holds:
                keep[DEFAULT if factual else ATTRIBUTED].add(key)
    out = []
    for graph, kept in keep.items():
        for key in statements - kept:
            quad = Quad(*key, graph)
            if store.contains(quad):
                out.append(quad)
    return out


def valid_view(r: Reader, t: Span) -> ProjectionStore:
    """A copy of ``r.store`` (in memory) whose current (and attributed) view holds only
    statements of claims that hold at ``t``."""
    store = r.store
    gone = set(dropped(r, t))
    quads = [q for q in store.quads() if q not in gone]
    quads += store.quads(graph=SYSTEM_GRAPH)  # the log's events, as in every other view
    return ProjectionStore.of(quads, position=store.position, head_hash=store.head_hash)
