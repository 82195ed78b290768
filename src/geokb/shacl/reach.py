"""How far from its focus node a shapes graph looks: what a partition of the KB must hold
for SHACL over the partition to say what SHACL over the whole KB says about its nodes.

A focus node's shapes read the node's own triples (its *description*: the triples whose
subject is the node or a ``#fragment`` of it, as ``claim/c1#evidence`` is of
``claim/c1``), the ``rdf:type`` of every node those triples point to (``sh:class``
follows ``rdfs:subClassOf`` through the ontology), and — only where a path goes on past
a node, or a nested shape with paths of its own is applied to a value — the description
of that value too. :func:`reach_of` reads the shapes once and says which predicates lead
to such *deep* values, which predicates target their objects (``sh:targetObjectsOf``, so
the object of a triple owned by one partition may be a focus node of its own), and which
nodes are targeted by ``sh:targetNode``.

Some shapes cannot be bounded this way (an inverse path reads triples *pointing to* the
node, which live in other partitions): ``unbounded`` then names why, and the whole KB is
validated as one graph. SPARQL-based constraints are assumed to read only their focus
node's description and the types of what it points to (the one shipped, on superseded
claims, reads ``$this gk:supersededBy $this``); the differential tests hold the shipped
shapes to that.

>>> import rdflib
>>> g = rdflib.Graph().parse(data='''
... @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
... ex:S sh:targetClass ex:C ; sh:property [ sh:path ( ex:a ex:b ) ] ,
...     [ sh:path ex:c ; sh:class ex:D ] .
... ex:T sh:targetObjectsOf ex:e ; sh:property [ sh:path [ sh:inversePath ex:f ] ] .
... ''', format="turtle")
>>> r = reach_of(g)
>>> sorted(p.value for p in r.deep), sorted(p.value for p in r.object_targets)
(['http://example.org/a'], ['http://example.org/e'])
>>> r.unbounded
'sh:inversePath (http://example.org/f): a path read against the direction of its triples'
"""

from __future__ import annotations

from dataclasses import dataclass

import rdflib
from pyoxigraph import NamedNode
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

#: what nests shapes inside a shape; their paths start at the value nodes
_NESTING = (SH.node, SH.property, SH["and"], SH["or"], SH.xone, SH["not"],
            SH.qualifiedValueShape)


@dataclass(frozen=True)
class Reach:
    """What a partition must hold beyond its nodes' descriptions and the types of what
    they point to (see the module's text)."""

    deep: frozenset[NamedNode]
    object_targets: frozenset[NamedNode]
    target_nodes: frozenset[str]
    unbounded: str | None = None


def _members(graph: rdflib.Graph, node: rdflib.term.Node) -> list[rdflib.term.Node]:
    """The shapes a shape nests: its ``sh:node``/``sh:property`` values and the members
    of its ``sh:and``/``sh:or``/``sh:xone`` lists and ``sh:not``."""
    out: list[rdflib.term.Node] = []
    for pred in _NESTING:
        for value in graph.objects(node, pred):
            if pred in (SH["and"], SH["or"], SH.xone):
                out.extend(Collection(graph, value))
            else:
                out.append(value)
    return out


def _has_path_inside(graph: rdflib.Graph, node: rdflib.term.Node) -> bool:
    """Whether a shape, or any shape it nests, has a property path of its own."""
    seen: set[rdflib.term.Node] = set()
    todo = [node]
    while todo:
        shape = todo.pop()
        if shape in seen:
            continue
        seen.add(shape)
        if (shape, SH.path, None) in graph:
            return True
        todo.extend(_members(graph, shape))
    return False


class _Path:
    """The predicates of one ``sh:path``: those before its last step, those of its last
    step, and why it cannot be bounded (an inverse path), if it cannot."""

    def __init__(self, graph: rdflib.Graph, node: rdflib.term.Node) -> None:
        self.graph = graph
        self.inner: set[NamedNode] = set()
        self.last: set[NamedNode] = set()
        self.unbounded: str | None = None
        self.last = self._walk(node)

    def _walk(self, node: rdflib.term.Node) -> set[NamedNode]:
        """The predicates a path ``node`` can end its walk with (its steps before the
        end are added to ``inner``)."""
        g = self.graph
        if isinstance(node, rdflib.URIRef):
            return {NamedNode(str(node))}
        if (node, RDF.first, None) in g:  # a sequence
            steps = [self._walk(step) for step in Collection(g, node)]
            for step in steps[:-1]:
                self.inner.update(step)
            return steps[-1] if steps else set()
        if (inverse := g.value(node, SH.inversePath)) is not None:
            self.unbounded = (f"sh:inversePath ({inverse}): a path read against the "
                              f"direction of its triples")
            return self._walk(inverse)
        if (alternatives := g.value(node, SH.alternativePath)) is not None:
            out: set[NamedNode] = set()
            for alt in Collection(g, alternatives):
                out |= self._walk(alt)
            return out
        for repeat in (SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
            if (inner := g.value(node, repeat)) is not None:
                repeated = self._walk(inner)
                self.inner.update(repeated)  # a repeated step goes on past its values
                return repeated
        self.unbounded = f"an unknown kind of path ({node})"
        return set()


def reach_of(shapes: rdflib.Graph) -> Reach:
    """What SHACL over ``shapes`` reads beyond a focus node's own description (see the
    module's text)."""
    deep: set[NamedNode] = set()
    unbounded: str | None = None
    for shape, path_node in shapes.subject_objects(SH.path):
        path = _Path(shapes, path_node)
        unbounded = unbounded or path.unbounded
        deep |= path.inner
        if any(_has_path_inside(shapes, m) for m in _members(shapes, shape)):
            deep |= path.last  # nested shapes walk on from the values
    object_targets = frozenset(NamedNode(str(p)) for p in shapes.objects(None, SH.targetObjectsOf)
                               if isinstance(p, rdflib.URIRef))
    target_nodes = frozenset(str(n) for n in shapes.objects(None, SH.targetNode)
                             if isinstance(n, rdflib.URIRef))
    if any(isinstance(n, rdflib.BNode | rdflib.Literal)
           for n in shapes.objects(None, SH.targetNode)):
        unbounded = unbounded or "sh:targetNode of a blank node or a literal"
    return Reach(frozenset(deep), object_targets, target_nodes, unbounded)
