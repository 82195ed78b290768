"""The *valid at* view: the current view restricted to claims whose world time includes a date."""

from __future__ import annotations

from pyoxigraph import DefaultGraph

from geokb.projection.quads import DEFAULT
from geokb.projection.store import ProjectionStore
from geokb.read.queries import TimeFilter, _valid, iter_claims
from geokb.vocab import FACTUAL_MODALITIES, GK, term_value


def valid_view(store: ProjectionStore, when: TimeFilter) -> ProjectionStore:
    """A copy of ``store`` whose default graph holds only statements valid ``when``."""
    statements: set[tuple[str, str, str]] = set()
    keep: set[tuple[str, str, str]] = set()
    for claim in iter_claims(store):
        live = next(store.store.quads_for_pattern(claim, GK.knownUntilPosition, None, DEFAULT),
                    None) is None
        modality = next(store.store.quads_for_pattern(claim, GK.modality, None, DEFAULT), None)
        factual = modality is not None and term_value(modality.object) in FACTUAL_MODALITIES
        for q in store.store.quads_for_pattern(None, None, None, claim):
            key = (str(q.subject), str(q.predicate), str(q.object))
            statements.add(key)
            if live and factual and _valid(store, claim, when):
                keep.add(key)
    out = ProjectionStore()
    quads = []
    for q in store.quads():
        if isinstance(q.graph_name, DefaultGraph):
            key = (str(q.subject), str(q.predicate), str(q.object))
            if key in statements and key not in keep:
                continue
        quads.append(q)
    out.store.extend(quads)
    out.position, out.head_hash = store.position, store.head_hash
    return out
