"""What a SHACL engine answers: a report of results, the same whichever engine ran.

Every engine (:mod:`geokb.shacl.engines`) returns a :class:`ShapeReport`, so admission,
``geokb validate`` and the differential tests compare engines on one shape of answer.

>>> report = ShapeReport([ShapeResult("https://w3id.org/geokb/claim/c1", "", "no source",
...                                   "Violation")])
>>> report.conforms, report.results[0].describe()
(False, '<https://w3id.org/geokb/claim/c1>: no source')
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field

import rdflib
from rdflib.namespace import SH


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
    """The results of one validation; it conforms when no result is a ``Violation``."""

    results: list[ShapeResult] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(r.severity == "Violation" for r in self.results)

    def sort(self) -> ShapeReport:
        self.results.sort(key=lambda r: (r.focus, r.path, r.message))
        return self

    def about(self, focus: Set[str] | None) -> ShapeReport:
        """Only the results whose focus IRI, up to ``#``, is in ``focus`` (None: all)."""
        if focus is not None:
            self.results = [r for r in self.results if r.focus.split("#", 1)[0] in focus]
        return self


def _text(term: rdflib.term.Node | None) -> str:
    return "" if term is None else str(term)


def from_results_graph(graph: rdflib.Graph) -> ShapeReport:
    """A report from a W3C SHACL validation report graph (what pySHACL and pyshacl-turbo
    return), sorted by focus, path and message."""
    report = ShapeReport()
    for result in graph.subjects(rdflib.RDF.type, SH.ValidationResult):
        severity = graph.value(result, SH.resultSeverity)
        message = graph.value(result, SH.resultMessage)
        report.results.append(ShapeResult(
            focus=_text(graph.value(result, SH.focusNode)),
            path=_text(graph.value(result, SH.resultPath)),
            message=str(message) if message is not None else "does not conform",
            severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
            value=_text(graph.value(result, SH.value)),
        ))
    return report.sort()
