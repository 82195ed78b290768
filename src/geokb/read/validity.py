"""The *valid at* view: the current view restricted to the claims that hold at a world time.

A statement of a claim stays in the default graph (or the attributed graph) only if a live
claim routed there states it and **holds** at T (:mod:`geokb.times`): an undated claim, or
one only last reported before T, is never presented as fact at T. What no claim states
(what SPARQL updates wrote), the records, the claims' own graphs and the other named graphs
are copied as they are.
"""

from __future__ import annotations

from pyoxigraph import DefaultGraph, NamedNode

from geokb.projection.quads import DEFAULT
from geokb.projection.store import ProjectionStore
from geokb.read.beliefs import holding_at
from geokb.read.reader import Reader
from geokb.times import HOLDS, Span
from geokb.vocab import FACTUAL_MODALITIES, GK, GRAPH, RDF, term_value

ATTRIBUTED = GRAPH.attributed


def valid_view(r: Reader, t: Span) -> ProjectionStore:
    """A copy of ``r.store`` whose current (and attributed) view holds only statements of
    claims that hold at ``t``."""
    store = r.store
    statements: set[tuple[str, str, str]] = set()
    keep: dict[str, set[tuple[str, str, str]]] = {"default": set(), "attributed": set()}
    for q in store.quads(None, RDF.type, GK.Claim, DEFAULT):
        claim = q.subject
        if not isinstance(claim, NamedNode):
            continue
        live = store.one(claim, GK.knownUntilPosition) is None
        modality = store.one(claim, GK.modality)
        factual = modality is not None and term_value(modality) in FACTUAL_MODALITIES
        holds = live and holding_at(r, claim, t) == HOLDS
        for s in store.quads(None, None, None, claim):
            key = (str(s.subject), str(s.predicate), str(s.object))
            statements.add(key)
            if holds:
                keep["default" if factual else "attributed"].add(key)
    quads = []
    for q in store.quads():
        view = "default" if isinstance(q.graph_name, DefaultGraph) else \
            "attributed" if q.graph_name == ATTRIBUTED else None
        if view is not None:
            key = (str(q.subject), str(q.predicate), str(q.object))
            if key in statements and key not in keep[view]:
                continue
        quads.append(q)
    return ProjectionStore.of(quads, position=store.position, head_hash=store.head_hash)
