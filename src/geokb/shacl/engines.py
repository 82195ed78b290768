"""The three SHACL engines behind one :class:`Validator` protocol, and who uses which.

* ``compiled`` (:mod:`geokb.shacl.compiled`): our SHACL Core engine in Python, compiled once
  from the shapes; a fraction of a millisecond per claim on the small graph of one write.
  The write path's default.
* ``turbo`` (pyshacl-turbo): a Rust engine with pySHACL's API, given a pyoxigraph store.
  ``geokb validate`` runs it over the whole projection, and writes fall back to it when
  the shapes use a feature the compiled engine refuses.
* ``pyshacl``: the reference implementation, in pure Python; the tests' oracle, and an
  engine anyone can ask for (``GEOKB_SHACL_ENGINE=pyshacl``) when in doubt.

Each engine validates the default-graph quads it is given plus the ontology, and answers
with a :class:`~geokb.shacl.results.ShapeReport`; the differential tests require the same
results from all of them (``tests/shacl/test_shacl_engine.py``).

>>> ValidatorChoice("turbo").name, ValidatorChoice("pyshacl").whole_kb_engine
('turbo', 'pyshacl')
>>> ValidatorChoice("compiled").whole_kb_engine
'turbo'
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Set
from typing import Any, Protocol

import pyoxigraph as ox
import rdflib
from pyoxigraph import DefaultGraph, Quad

from geokb import grammar
from geokb.errors import OntologyError, SettingsError, UnsupportedShapes
from geokb.ontology import Ontology
from geokb.shacl.results import ShapeReport, from_results_graph
from geokb.shacl.shapes import default_triples, graph_quads, to_rdflib

SHACL_ENGINE_ENV = "GEOKB_SHACL_ENGINE"
ENGINES = ("compiled", "pyshacl", "turbo")


class Validator(Protocol):
    """A SHACL engine with the shapes and the ontology it was built for."""

    name: str

    def validate(self, quads: Iterable[Quad], *, focus: Set[str] | None = None) -> ShapeReport:
        """SHACL over the default-graph triples of ``quads`` (a list, an iterator or a
        pyoxigraph store) plus the ontology. ``focus`` keeps only the results about nodes
        whose IRI, up to ``#``, is in it. Raises :class:`OntologyError` if the shapes
        cannot be run."""
        ...


class PyshaclValidator:
    """pySHACL, the reference: an rdflib graph of the data with the ontology copied in.

    The ontology is added to the data graph itself (pySHACL mixes ``ont_graph`` in only
    when it runs inference).
    """

    name = "pyshacl"

    def __init__(self, shapes: rdflib.Graph, ontology: Ontology) -> None:
        self.shapes = shapes
        self.ontology = ontology

    def validate(self, quads: Iterable[Quad], *, focus: Set[str] | None = None) -> ShapeReport:
        return run_pyshacl(to_rdflib(quads), self.ontology, self.shapes).about(focus)


def run_pyshacl(data: rdflib.Graph, ontology: Ontology, shapes: rdflib.Graph) -> ShapeReport:
    """pySHACL over ``data`` (changed: the ontology is added to it) against ``shapes``."""
    for triple in ontology.graph:
        data.add(triple)

    def work() -> Any:
        # imported when first used (a read needs no engine), and run under the grammar's
        # lock: its SPARQL constraints use rdflib's parser, one parse at a time in a process
        import pyshacl

        return pyshacl.validate(data, shacl_graph=shapes, inference="none", advanced=False,
                                allow_warnings=True, abort_on_first=False)

    _conforms, results_graph, _text = grammar.run(work)
    assert isinstance(results_graph, rdflib.Graph)
    return from_results_graph(results_graph)


class TurboValidator:
    """pyshacl-turbo: the shapes compiled once by its Rust engine, the data handed over as
    N-Triples text that its native parser reads (no rdflib graph of the data is built).

    Not as a pyoxigraph store, though pyshacl-turbo takes one: a store keeps literals in
    canonical form (``"08"^^xsd:integer`` becomes ``"8"``, ``xsd:nonNegativeInteger``
    becomes ``xsd:integer``), so a batch checked through a store would be judged on other
    values than the compiled engine sees. A projection's store is already canonical, and
    its N-Triples dump (in Rust) is the cheapest way out of it.
    """

    name = "turbo"

    def __init__(self, shapes: rdflib.Graph, ontology: Ontology) -> None:
        import pyshacl_turbo

        compile_turbo: Any = pyshacl_turbo.compile_shapes  # untyped
        try:
            self.program: Any = compile_turbo(shapes)
        except pyshacl_turbo.ValidationFailure as exc:
            raise OntologyError(f"pyshacl-turbo cannot compile the shapes: {exc}") from exc
        self.ontology_nt = ox.serialize([q.triple for q in graph_quads(ontology.graph)],
                                        format=ox.RdfFormat.N_TRIPLES) or b""

    def validate(self, quads: Iterable[Quad], *, focus: Set[str] | None = None) -> ShapeReport:
        import pyshacl_turbo
        from pyshacl_turbo.rdf import Input as TurboInput

        if isinstance(quads, ox.Store):
            data = quads.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=DefaultGraph()) or b""
        else:
            data = ox.serialize([q.triple for q in default_triples(quads)],
                                format=ox.RdfFormat.N_TRIPLES) or b""
        # the N-Triples text as pyshacl-turbo's own input record (what it makes of an
        # rdflib graph), so its native parser reads it as written; 0.6.x
        text = (data + self.ontology_nt).decode("utf-8")
        del data
        try:
            _conforms, results_graph, _text = self.program.validate(
                TurboInput(text, "nt", None, {}), inference="none", allow_warnings=True,
                abort_on_first=False)
        except pyshacl_turbo.ValidationFailure as exc:
            raise OntologyError(f"pyshacl-turbo cannot run the shapes: {exc}") from exc
        assert isinstance(results_graph, rdflib.Graph)
        return from_results_graph(results_graph).about(focus)


def build(name: str, shapes: rdflib.Graph, ontology: Ontology) -> Validator:
    """A new engine ``name`` for ``shapes`` and ``ontology``; raises
    :class:`UnsupportedShapes` if the compiled engine cannot compile the shapes."""
    if name == "compiled":
        from geokb.shacl.compiled import compile_shapes

        return compile_shapes(shapes, ontology.graph)
    if name == "turbo":
        return TurboValidator(shapes, ontology)
    if name == "pyshacl":
        return PyshaclValidator(shapes, ontology)
    raise SettingsError(f"unknown SHACL engine {name!r}: use one of {', '.join(ENGINES)}")


# engines are immutable once built and cost a compile, so they are shared by every KB
# over the same shapes and ontology (the graphs are kept in the value, so their ids stay
# theirs)
_BUILT: dict[tuple[str, int, int], tuple[rdflib.Graph, Ontology, Validator]] = {}
_BUILT_LOCK = threading.Lock()


def shared(name: str, shapes: rdflib.Graph, ontology: Ontology) -> Validator:
    """The engine ``name`` for these shapes and ontology, built on first use."""
    key = (name, id(shapes), id(ontology))
    with _BUILT_LOCK:
        if key not in _BUILT:
            _BUILT[key] = (shapes, ontology, build(name, shapes, ontology))
        return _BUILT[key][2]


class ValidatorChoice:
    """Which engine checks writes and which checks the whole KB; a KB holds one.

    ``name`` is ``"compiled"`` (the default: the compiled engine for writes, pyshacl-turbo
    for ``geokb validate``), ``"turbo"`` or ``"pyshacl"`` (that engine for both). Without
    ``name``, ``GEOKB_SHACL_ENGINE`` chooses. Raises :class:`SettingsError` for another name.
    """

    def __init__(self, name: str | None = None) -> None:
        chosen = name if name is not None else os.environ.get(SHACL_ENGINE_ENV) or "compiled"
        if chosen not in ENGINES:
            source = f"{SHACL_ENGINE_ENV}={chosen!r}" if name is None else repr(chosen)
            raise SettingsError(f"SHACL engine {source}: use one of {', '.join(ENGINES)}")
        self.name = chosen

    @property
    def whole_kb_engine(self) -> str:
        return "turbo" if self.name == "compiled" else self.name

    def for_writes(self, shapes: rdflib.Graph, ontology: Ontology) -> Validator:
        """The engine that admits writes. Shapes the compiled engine cannot compile are
        checked by pyshacl-turbo instead (said once on stderr)."""
        if self.name != "compiled":
            return shared(self.name, shapes, ontology)
        key = ("compiled-fallback", id(shapes), id(ontology))
        with _BUILT_LOCK:
            fallback = _BUILT.get(key)
        if fallback is not None:
            return fallback[2]
        try:
            return shared("compiled", shapes, ontology)
        except UnsupportedShapes as exc:
            print(f"geokb: the shapes use a feature the compiled SHACL engine does not "
                  f"implement ({exc}); writes are checked by pyshacl-turbo instead",
                  file=sys.stderr)
            engine = shared("turbo", shapes, ontology)
            with _BUILT_LOCK:
                return _BUILT.setdefault(key, (shapes, ontology, engine))[2]

    def for_whole_kb(self, shapes: rdflib.Graph, ontology: Ontology) -> Validator:
        """The engine that validates the whole projection (``geokb validate``)."""
        return shared(self.whole_kb_engine, shapes, ontology)

    def __repr__(self) -> str:
        return f"ValidatorChoice({self.name!r})"


__all__ = ["ENGINES", "SHACL_ENGINE_ENV", "PyshaclValidator", "TurboValidator",
           "Validator", "ValidatorChoice", "build", "run_pyshacl", "shared"]
