"""The shapes graph (``shapes/*.ttl``) and the data graph every SHACL engine is given.

SHACL here always sees the default graph of the projection (or of a batch) with the
ontology mixed in, so ``sh:class`` follows ``rdfs:subClassOf`` and sees the ontology's
typing of statement properties and concepts. Named graphs (the user's SPARQL graphs) are
never validated.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import rdflib
from pyoxigraph import DefaultGraph, Quad

from geokb.ontology import load_graph
from geokb.vocab import shapes_dir


@lru_cache(maxsize=4)
def load_shapes(directory: Path | None = None) -> rdflib.Graph:
    """Read every ``*.ttl`` in ``shapes/``; raises :class:`OntologyError` if unreadable."""
    return load_graph(directory or shapes_dir(), what="SHACL shapes")


def default_triples(quads: Iterable[Quad]) -> Iterable[Quad]:
    """The default-graph quads of ``quads`` (a list, an iterator or a pyoxigraph store)."""
    if isinstance(quads, ox.Store):
        return quads.quads_for_pattern(None, None, None, DefaultGraph())
    return (q for q in quads if isinstance(q.graph_name, DefaultGraph))


def to_rdflib(quads: Iterable[Quad]) -> rdflib.Graph:
    """The default-graph triples of ``quads`` as an rdflib graph (via N-Triples)."""
    lines = [f"{q.subject} {q.predicate} {q.object} .\n" for q in default_triples(quads)]
    graph = rdflib.Graph()
    if lines:
        graph.parse(data="".join(lines), format="nt")
    return graph


def graph_quads(graph: rdflib.Graph) -> list[Quad]:
    """An rdflib graph's triples as pyoxigraph default-graph quads (via N-Triples)."""
    data = graph.serialize(format="nt", encoding="utf-8")
    return list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
