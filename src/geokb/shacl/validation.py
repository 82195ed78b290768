"""SHACL validation with pySHACL, over the small graph of a batch of events (plus the
context it needs) before they are appended, or over the whole projection in CI.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyshacl
import rdflib
from pyoxigraph import DefaultGraph, Quad
from rdflib.namespace import SH

from geokb.errors import OntologyError
from geokb.ontology import Ontology

if TYPE_CHECKING:
    from geokb.shacl.compiled import CompiledShapes
from geokb.vocab import shapes_dir


@dataclass(frozen=True)
class ShapeResult:
    """One SHACL result: the node it is about, the property path, and the shape's message."""

    focus: str
    path: str
    message: str
    severity: str
    value: str = ""

    def describe(self) -> str:
        where = f" ({self.path})" if self.path else ""
        return f"<{self.focus}>{where}: {self.message}"


@dataclass
class ShapeReport:
    results: list[ShapeResult] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(r.severity == "Violation" for r in self.results)


@lru_cache(maxsize=4)
def load_shapes(directory: Path | None = None) -> rdflib.Graph:
    """Read every ``*.ttl`` in ``shapes/``; raises :class:`OntologyError` if unreadable."""
    directory = directory or shapes_dir()
    graph = rdflib.Graph()
    files = sorted(directory.glob("*.ttl"))
    if not files:
        raise OntologyError(f"no SHACL shapes (*.ttl) in {directory}")
    for path in files:
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises many parser error types
            raise OntologyError(f"{path}: cannot parse Turtle: {exc}") from exc
    return graph


def to_rdflib(quads: Iterable[Quad]) -> rdflib.Graph:
    """The default-graph triples of ``quads`` as an rdflib graph (via N-Triples)."""
    lines = [f"{q.subject} {q.predicate} {q.object} .\n" for q in quads
             if isinstance(q.graph_name, DefaultGraph)]
    graph = rdflib.Graph()
    if lines:
        graph.parse(data="".join(lines), format="nt")
    return graph


def _short(term: rdflib.term.Node | None) -> str:
    return "" if term is None else str(term)


def run_shacl(data: rdflib.Graph, ontology: Ontology, shapes: rdflib.Graph) -> ShapeReport:
    """Validate ``data`` (with the ontology mixed in) against ``shapes``.

    The ontology is added to the data graph itself (pySHACL mixes ``ont_graph`` in only
    when it runs inference), so ``sh:class`` follows ``rdfs:subClassOf`` and sees the
    ontology's typing of statement properties and concepts.
    """
    for triple in ontology.graph:
        data.add(triple)
    _conforms, results_graph, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none",
        advanced=False, allow_warnings=True, abort_on_first=False,
    )
    report = ShapeReport()
    assert isinstance(results_graph, rdflib.Graph)
    for result in results_graph.subjects(rdflib.RDF.type, SH.ValidationResult):
        severity = results_graph.value(result, SH.resultSeverity)
        message = results_graph.value(result, SH.resultMessage)
        report.results.append(ShapeResult(
            focus=_short(results_graph.value(result, SH.focusNode)),
            path=_short(results_graph.value(result, SH.resultPath)),
            message=str(message) if message is not None else "does not conform",
            severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
            value=_short(results_graph.value(result, SH.value)),
        ))
    report.results.sort(key=lambda r: (r.focus, r.path, r.message))
    return report


SHACL_ENGINE_ENV = "GEOKB_SHACL_ENGINE"


_ENGINES: dict[tuple[int, int], tuple[rdflib.Graph, Ontology, CompiledShapes | None]] = {}


def write_engine(shapes: rdflib.Graph, ontology: Ontology) -> CompiledShapes | None:
    """The compiled shapes that check writes, or None where pySHACL must check them: when
    ``GEOKB_SHACL_ENGINE=pyshacl``, or when the shapes use a feature the compiled engine
    does not implement (said once on stderr). Compiled once per shapes and ontology."""
    choice = os.environ.get(SHACL_ENGINE_ENV, "compiled")
    if choice == "pyshacl":
        return None
    if choice != "compiled":
        raise OntologyError(f"{SHACL_ENGINE_ENV} must be 'compiled' or 'pyshacl', not {choice!r}")
    from geokb.errors import UnsupportedShapes
    from geokb.shacl.compiled import compile_shapes

    key = (id(shapes), id(ontology))
    if key not in _ENGINES:  # the graphs are kept in the value, so their ids stay theirs
        engine: CompiledShapes | None
        try:
            engine = compile_shapes(shapes, ontology.graph)
        except UnsupportedShapes as exc:
            print(f"geokb: the shapes use a feature the compiled SHACL engine does not "
                  f"implement ({exc}); writes are checked by pySHACL instead (slower)",
                  file=sys.stderr)
            engine = None
        _ENGINES[key] = (shapes, ontology, engine)
    return _ENGINES[key][2]
