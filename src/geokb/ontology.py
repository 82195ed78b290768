"""What the ontology in ``ontology/`` declares, read once: classes, statement properties,
concepts. Commands use it to refuse unknown classes, predicates and concepts early with
a specific message; SHACL gets the ontology graph itself to follow ``rdfs:subClassOf``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import rdflib
from rdflib.namespace import OWL as R_OWL
from rdflib.namespace import RDF as R_RDF
from rdflib.namespace import RDFS as R_RDFS
from rdflib.namespace import SKOS as R_SKOS

from geokb.errors import OntologyError
from geokb.vocab import GK, ontology_dir

RECORD_CLASSES = frozenset(
    GK[n].value for n in ("Claim", "Source", "LogEvent", "AttributionStep", "StatementProperty",
                          "SingleValuedProperty", "AnonymousSpeaker", "Conflict", "ConflictSide",
                          "DatasetGraph")
)


@dataclass(frozen=True)
class Ontology:
    graph: rdflib.Graph
    classes: frozenset[str]
    statement_properties: dict[str, str]  # IRI -> "object" | "literal" | "any"
    concepts: frozenset[str]
    labels: dict[str, str]

    def is_world_class(self, iri: str) -> bool:
        return iri in self.classes and iri not in RECORD_CLASSES


def load_graph(directory: Path, *, what: str = "ontology files") -> rdflib.Graph:
    """Every ``*.ttl`` in ``directory`` as one graph (the ontology's, or the shapes').

    Raises :class:`OntologyError` when there is none or one does not parse.
    """
    graph = rdflib.Graph()
    files = sorted(directory.glob("*.ttl"))
    if not files:
        raise OntologyError(f"no {what} (*.ttl) in {directory}")
    for path in files:
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises many parser error types
            raise OntologyError(f"{path}: cannot parse Turtle: {exc}") from exc
    return graph


@lru_cache(maxsize=4)
def load_ontology(directory: Path | None = None) -> Ontology:
    """Read every ``*.ttl`` in ``ontology/``; raises :class:`OntologyError` if unreadable."""
    graph = load_graph(directory or ontology_dir())
    gk = rdflib.Namespace(GK.base)
    classes = {str(c) for c in graph.subjects(R_RDF.type, R_OWL.Class)
               if str(c).startswith(GK.base)}
    props: dict[str, str] = {}
    for p in graph.subjects(R_RDF.type, gk.StatementProperty):
        types = set(graph.objects(p, R_RDF.type))
        if R_OWL.DatatypeProperty in types and R_OWL.ObjectProperty not in types:
            props[str(p)] = "literal"
        elif R_OWL.ObjectProperty in types and R_OWL.DatatypeProperty not in types:
            props[str(p)] = "object"
        else:
            props[str(p)] = "any"
    concepts = {str(c) for c in graph.subjects(R_RDF.type, R_SKOS.Concept)}
    labels: dict[str, str] = {}
    for pred in (R_RDFS.label, R_SKOS.prefLabel):
        for s, o in graph.subject_objects(pred):
            labels.setdefault(str(s), str(o))
    return Ontology(graph, frozenset(classes), props, frozenset(concepts), labels)
