"""The *valid at* view: the current view restricted to the claims that hold at a world time.

A statement of a claim stays in the default graph (or the attributed graph) only if a live
claim routed there states it and **holds** at T (``geokb.times``): an undated claim, or one
only last reported before T, is never presented as fact at T. Everything else (records,
named graphs of claims, system and conflicts graphs) is copied as it is.
"""

from __future__ import annotations

from pyoxigraph import DefaultGraph, NamedNode

from geokb.projection.quads import DEFAULT
from geokb.projection.store import ProjectionStore
from geokb.read.beliefs import holding_at
from geokb.read.queries import iter_claims
from geokb.times import HOLDS, Span
from geokb.vocab import FACTUAL_MODALITIES, GK, GRAPH, term_value

ATTRIBUTED = GRAPH.attributed


def valid_view(store: ProjectionStore, t: Span) -> ProjectionStore:
    """A copy of ``store`` whose current (and attributed) view holds only statements of
    claims that hold at ``t``."""
    statements: set[tuple[str, str, str]] = set()
    keep: dict[str, set[tuple[str, str, str]]] = {"default": set(), "attributed": set()}
    for claim in iter_claims(store):
        live = next(store.store.quads_for_pattern(claim, GK.knownUntilPosition, None, DEFAULT),
                    None) is None
        modality = next(store.store.quads_for_pattern(claim, GK.modality, None, DEFAULT), None)
        factual = modality is not None and term_value(modality.object) in FACTUAL_MODALITIES
        holds = live and holding_at(store, claim, t) == HOLDS
        for q in store.store.quads_for_pattern(None, None, None, claim):
            key = (str(q.subject), str(q.predicate), str(q.object))
            statements.add(key)
            if holds:
                keep["default" if factual else "attributed"].add(key)
    out = ProjectionStore()
    quads = []
    for q in store.quads():
        view = "default" if isinstance(q.graph_name, DefaultGraph) else \
            "attributed" if isinstance(q.graph_name, NamedNode) and q.graph_name == ATTRIBUTED \
            else None
        if view is not None:
            key = (str(q.subject), str(q.predicate), str(q.object))
            if key in statements and key not in keep[view]:
                continue
        quads.append(q)
    out.store.extend(quads)
    out.position, out.head_hash = store.position, store.head_hash
    return out
