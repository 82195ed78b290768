"""A compiled SHACL Core engine for the write path, checked against pySHACL.

Size: one compiler from SHACL Core to Python checks; the index, the paths, the constraint
table and the SPARQL constraints are read together and tested as one engine.

pySHACL walks the shapes graph in Python for every focus node and costs about 7 ms per
claim on our shapes; a write path that must admit thousands of claims a second cannot
pay that. This module reads the same ``shapes/*.ttl`` once and compiles it into Python
objects that evaluate SHACL Core over an in-memory index of the batch's triples (plus the
ontology, mixed in as :func:`geokb.shacl.engines.run_pyshacl` mixes it into pySHACL's data
graph), at a fraction of a millisecond per claim.

pySHACL stays the reference: the tests run this engine, pySHACL and pyshacl-turbo on every
fixture and on thousands of mutated graphs and require the same results
(``tests/shacl/test_shacl_engine.py``); ``geokb validate`` runs pyshacl-turbo over the whole
KB (see :mod:`geokb.shacl.engines`). A shapes graph that uses anything this
engine does not implement is refused by :func:`compile_shapes` with
:class:`UnsupportedShapes`, and admission then falls back to pyshacl-turbo, so a curator's new
shape is never silently ignored.

Implemented: targets (``targetClass`` with ``rdfs:subClassOf``, implicit class targets,
``targetNode``, ``targetSubjectsOf``, ``targetObjectsOf``); predicate, inverse, sequence,
alternative and ``zeroOrMore``/``oneOrMore``/``zeroOrOne`` paths; ``class``, ``datatype``
(with well-formedness of the common XSD types), ``nodeKind``, ``minCount``, ``maxCount``,
``min/maxInclusive``, ``min/maxExclusive``, ``min/maxLength``, ``pattern`` (+ ``flags``),
``languageIn``, ``uniqueLang``, ``in``, ``hasValue``, ``equals``, ``disjoint``,
``lessThan``, ``lessThanOrEquals``, ``and``, ``or``, ``xone``, ``not``, ``node``,
``property``, ``qualifiedValueShape`` (not disjoint), SPARQL-based constraints (``sh:select``
with ``$this``, run by pyoxigraph), ``severity``, ``deactivated``, ``message``.
Not implemented (refused): ``sh:closed``, SPARQL-based targets and constraint components,
``qualifiedValueShapesDisjoint true``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, cast

import pyoxigraph as ox
import rdflib
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, Triple
from rdflib.collection import Collection
from rdflib.namespace import RDF as R_RDF
from rdflib.namespace import RDFS as R_RDFS
from rdflib.namespace import SH as R_SH

from geokb.errors import UnsupportedShapes
from geokb.shacl.results import ShapeReport, ShapeResult

Term = NamedNode | BlankNode | Literal

SH = "http://www.w3.org/ns/shacl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_SUBCLASS = NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDFS_LITERAL = "http://www.w3.org/2000/01/rdf-schema#Literal"


# -- the data: an index of triples ---------------------------------------------------------


class Index:
    """Triples by subject and predicate, and by predicate (for objects and inverse paths)."""

    __slots__ = ("ops_cache", "pso", "spo")

    def __init__(self, quads: Iterable[Quad | Triple]) -> None:
        # plain get/append, no setdefault: this runs for every triple of every write
        spo: dict[Term, dict[NamedNode, list[Term]]] = {}
        pso: dict[NamedNode, list[tuple[Term, Term]]] = {}
        for q in quads:
            s: Any = q.subject  # no RDF-star here: terms are IRIs, blank nodes, literals
            p, o = q.predicate, cast(Term, q.object)
            by_p = spo.get(s)
            if by_p is None:
                spo[s] = {p: [o]}
            else:
                objs = by_p.get(p)
                if objs is None:
                    by_p[p] = [o]
                elif o in objs:
                    continue  # a graph is a set: the same triple twice is one triple
                else:
                    objs.append(o)
            pairs = pso.get(p)
            if pairs is None:
                pso[p] = [(s, o)]
            else:
                pairs.append((s, o))
        self.spo = spo
        self.pso = pso
        self.ops_cache: dict[NamedNode, dict[Term, list[Term]]] = {}

    def triples(self) -> Iterator[tuple[Term, NamedNode, Term]]:
        for s, by_p in self.spo.items():
            for p, objs in by_p.items():
                for o in objs:
                    yield s, p, o

    def objects(self, s: Term, p: NamedNode) -> list[Term]:
        by_p = self.spo.get(s)
        if by_p is None:
            return []
        return by_p.get(p, [])

    def subjects(self, p: NamedNode, o: Term) -> list[Term]:
        inv = self.ops_cache.get(p)
        if inv is None:
            inv = {}
            for s, obj in self.pso.get(p, ()):
                inv.setdefault(obj, []).append(s)
            self.ops_cache[p] = inv
        return inv.get(o, [])


_EMPTY: list[Term] = []  # never appended to


class Data:
    """The data graph as pySHACL would see it: the batch's triples plus the ontology's."""

    __slots__ = ("_quads", "_store", "onto", "own", "subs", "supers")

    def __init__(self, own: Index, onto: Index, supers: dict[Term, frozenset[Term]],
                 subs: dict[Term, frozenset[Term]], quads: Callable[[], list[Quad]]) -> None:
        self.own = own
        self.onto = onto
        self.supers = supers
        self.subs = subs
        self._store: ox.Store | None = None
        self._quads = quads

    def objects(self, s: Term, p: NamedNode) -> list[Term]:
        # the hottest call of a validation: two dict lookups, no method calls
        by_p = self.own.spo.get(s)
        a = by_p.get(p, _EMPTY) if by_p is not None else _EMPTY
        by_p = self.onto.spo.get(s)
        if by_p is None:
            return a
        b = by_p.get(p, _EMPTY)
        if not b:
            return a
        if not a:
            return b
        return list(dict.fromkeys([*a, *b]))

    def subjects(self, p: NamedNode, o: Term) -> list[Term]:
        a = self.own.subjects(p, o)
        b = self.onto.subjects(p, o)
        if not b:
            return a
        if not a:
            return b
        return list(dict.fromkeys([*a, *b]))

    def pairs(self, p: NamedNode) -> list[tuple[Term, Term]]:
        return list(dict.fromkeys([*self.own.pso.get(p, ()), *self.onto.pso.get(p, ())]))

    def is_instance(self, node: Term, cls: Term) -> bool:
        if isinstance(node, Literal):
            return False
        return any(t == cls or cls in self.supers.get(t, ())
                   for t in self.objects(node, RDF_TYPE))

    def store(self) -> ox.Store:
        """The data as a pyoxigraph store (built on first use: SPARQL constraints only)."""
        if self._store is None:
            self._store = ox.Store()
            self._store.extend(self._quads())
        return self._store


def closure(pairs: Iterable[tuple[Term, Term]]) -> dict[Term, frozenset[Term]]:
    """``rdfs:subClassOf`` pairs (sub, super) → every node's proper transitive supers."""
    direct: dict[Term, set[Term]] = {}
    for sub, sup in pairs:
        direct.setdefault(sub, set()).add(sup)
    out: dict[Term, frozenset[Term]] = {}
    for start in direct:
        seen: set[Term] = set()
        stack = list(direct[start])
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            stack.extend(direct.get(n, ()))
        out[start] = frozenset(seen)
    return out


def invert(supers: dict[Term, frozenset[Term]]) -> dict[Term, frozenset[Term]]:
    subs: dict[Term, set[Term]] = {}
    for sub, sups in supers.items():
        for sup in sups:
            subs.setdefault(sup, set()).add(sub)
    return {k: frozenset(v) for k, v in subs.items()}


# -- literal values --------------------------------------------------------------------

_INT = re.compile(r"[+-]?[0-9]+\Z")
_DEC = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\Z")
_FLOAT = re.compile(r"([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN)\Z")
_TZ = r"(Z|[+-][0-9]{2}:[0-9]{2})?"
_DATE = re.compile(r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}" + _TZ + r"\Z")
_DATETIME = re.compile(r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
                       + _TZ + r"\Z")
_GYEAR = re.compile(r"-?[0-9]{4,}" + _TZ + r"\Z")
_GYEARMONTH = re.compile(r"-?[0-9]{4,}-(0[1-9]|1[0-2])" + _TZ + r"\Z")
_BOOL = re.compile(r"(true|false|1|0)\Z")

INTEGER_TYPES = {XSD + n: rng for n, rng in {
    "integer": (None, None), "nonNegativeInteger": (0, None), "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0), "negativeInteger": (None, -1),
    "long": (-2**63, 2**63 - 1), "int": (-2**31, 2**31 - 1), "short": (-2**15, 2**15 - 1),
    "byte": (-128, 127), "unsignedLong": (0, 2**64 - 1), "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1), "unsignedByte": (0, 255)}.items()}
NUMERIC_TYPES = {*INTEGER_TYPES, XSD + "decimal", XSD + "float", XSD + "double"}
TEMPORAL_TYPES = {XSD + "date", XSD + "dateTime", XSD + "gYear", XSD + "gYearMonth"}


def _valid_date(text: str) -> bool:
    core = text[:-1] if text.endswith("Z") else text
    if len(core) > 10 and core[-6] in "+-" and core[-3] == ":":
        core = core[:-6]
    try:
        date.fromisoformat(core)
    except ValueError:
        return False
    return True


def well_formed(lit: Literal) -> bool:
    """Whether ``lit``'s lexical form is valid for its datatype (types we know; others: yes)."""
    dt = lit.datatype.value
    text = lit.value
    if dt in INTEGER_TYPES:
        if not _INT.match(text):
            return False
        lo, hi = INTEGER_TYPES[dt]
        n = int(text)
        return (lo is None or n >= lo) and (hi is None or n <= hi)
    if dt == XSD + "decimal":
        return bool(_DEC.match(text))
    if dt in (XSD + "float", XSD + "double"):
        return bool(_FLOAT.match(text))
    if dt == XSD + "boolean":
        return bool(_BOOL.match(text))
    if dt == XSD + "date":
        return bool(_DATE.match(text)) and _valid_date(text)
    if dt == XSD + "dateTime":
        if not _DATETIME.match(text):
            return False
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return False
        return True
    if dt == XSD + "gYear":
        return bool(_GYEAR.match(text))
    if dt == XSD + "gYearMonth":
        return bool(_GYEARMONTH.match(text))
    return True


def _key(lit: Literal) -> tuple[str, Any] | None:
    """A comparable value for ``lit`` (kind, value), or None if it has none."""
    dt = lit.datatype.value
    if not well_formed(lit):
        return None
    text = lit.value
    try:
        if dt in INTEGER_TYPES or dt == XSD + "decimal":
            return ("num", Decimal(text))
        if dt in (XSD + "float", XSD + "double"):
            return ("num", Decimal(str(float(text))))
        if dt == XSD + "date":
            return ("date", date.fromisoformat(text[:10]))
        if dt == XSD + "dateTime":
            return ("dateTime", datetime.fromisoformat(text))
        if dt == XSD + "gYear":
            return ("gYear", int(text[:4] if len(text) > 4 and not text[4].isdigit()
                                 else text.rstrip("Z")))
        if dt == XSD + "gYearMonth":
            return ("gYearMonth", (int(text[:4]), int(text[5:7])))
        if dt in (XSD + "string", RDF_LANGSTRING):
            return ("str", (text, lit.language or ""))
    except (ValueError, InvalidOperation):
        return None
    return None


def compare(a: Term, b: Term) -> int | None:
    """-1/0/1 as ``a`` is less than, equal to or greater than ``b``; None if incomparable."""
    if not isinstance(a, Literal) or not isinstance(b, Literal):
        return None
    ka, kb = _key(a), _key(b)
    if ka is None or kb is None or ka[0] != kb[0]:
        return None
    try:
        return int(ka[1] > kb[1]) - int(ka[1] < kb[1])
    except TypeError:  # e.g. aware vs naive datetimes
        return None


# -- shapes -----------------------------------------------------------------------------


@dataclass
class Path:
    """A SHACL property path, evaluated to the ordered set of nodes it reaches."""

    kind: str  # "pred" | "inv" | "seq" | "alt" | "star" | "plus" | "opt"
    pred: NamedNode | None = None
    parts: list[Path] = field(default_factory=list)

    def values(self, data: Data, focus: Term) -> list[Term]:
        if self.kind == "pred":
            assert self.pred is not None
            return data.objects(focus, self.pred)
        if self.kind == "inv":
            inner = self.parts[0]
            if inner.kind == "pred":
                assert inner.pred is not None
                return data.subjects(inner.pred, focus)
            raise UnsupportedShapes("sh:inversePath of a complex path")
        if self.kind == "seq":
            nodes = [focus]
            for part in self.parts:
                step: dict[Term, None] = {}
                for n in nodes:
                    for v in part.values(data, n):
                        step[v] = None
                nodes = list(step)
            return nodes
        if self.kind == "alt":
            out: dict[Term, None] = {}
            for part in self.parts:
                for v in part.values(data, focus):
                    out[v] = None
            return list(out)
        inner = self.parts[0]
        reached: dict[Term, None] = {focus: None} if self.kind in ("star", "opt") else {}
        frontier = [focus]
        while frontier:
            nxt = []
            for n in frontier:
                for v in inner.values(data, n):
                    if v not in reached:
                        reached[v] = None
                        nxt.append(v)
            if self.kind == "opt":
                break
            frontier = nxt
        return list(reached)

    def describe(self) -> str:
        if self.kind == "pred":
            assert self.pred is not None
            return self.pred.value
        if self.kind == "inv":
            return f"^{self.parts[0].describe()}"
        if self.kind in ("seq", "alt"):
            sep = "/" if self.kind == "seq" else "|"
            return "(" + sep.join(p.describe() for p in self.parts) + ")"
        return f"({self.parts[0].describe()}){ {'star': '*', 'plus': '+', 'opt': '?'}[self.kind]}"


@dataclass(frozen=True)
class Result:
    focus: Term
    path: str
    value: Term | None
    shape: Shape
    component: str
    message: str | None = None  # a SPARQL constraint's own message


Check = Callable[["Shape", Data, Term, list[Term], "Sink"], bool]
Sink = list[Result] | None


@dataclass(eq=False)
class Shape:
    """One node or property shape, compiled: its path, checks and nested shapes."""

    node: rdflib.term.Node
    name: str
    path: Path | None = None
    checks: list[tuple[str, Check]] = field(default_factory=list)
    message: str | None = None
    severity: str = "Violation"
    deactivated: bool = False
    target_classes: list[Term] = field(default_factory=list)
    target_nodes: list[Term] = field(default_factory=list)
    target_subjects_of: list[NamedNode] = field(default_factory=list)
    target_objects_of: list[NamedNode] = field(default_factory=list)

    def evaluate(self, data: Data, focus: Term, sink: Sink) -> bool:
        """True if ``focus`` conforms; with a ``sink`` every result is collected, without
        one the evaluation stops at the first failure (a conformance test)."""
        if self.deactivated:
            return True
        path = self.path
        if path is None:
            values = [focus]
        elif path.kind == "pred":
            values = data.objects(focus, path.pred)  # type: ignore[arg-type]
        else:
            values = path.values(data, focus)
        ok = True
        for _component, check in self.checks:
            if not check(self, data, focus, values, sink):
                ok = False
                if sink is None:
                    return False
        return ok

    def conforms(self, data: Data, focus: Term) -> bool:
        return self.evaluate(data, focus, None)

    def fail(self, sink: Sink, focus: Term, value: Term | None, component: str) -> bool:
        if sink is not None:
            path = self.path.describe() if self.path is not None else ""
            sink.append(Result(focus, path, value, self, component))
        return False


def _each(component: str, test: Callable[[Data, Term], bool],
          value_reported: bool = True) -> tuple[str, Check]:
    """A check that holds for each value node on its own."""

    def check(shape: Shape, data: Data, focus: Term, values: list[Term], sink: Sink) -> bool:
        ok = True
        for v in values:
            if not test(data, v):
                ok = shape.fail(sink, focus, v if value_reported else None, component)
                if sink is None:
                    return False
        return ok

    return component, check


def _whole(component: str, test: Callable[[Data, Term, list[Term]], bool]) -> tuple[str, Check]:
    """A check on the whole set of value nodes, reporting one result without a value."""

    def check(shape: Shape, data: Data, focus: Term, values: list[Term], sink: Sink) -> bool:
        if test(data, focus, values):
            return True
        return shape.fail(sink, focus, None, component)

    return component, check


class Compiler:
    """Turns an rdflib shapes graph into :class:`Shape` objects."""

    KNOWN: ClassVar[frozenset[rdflib.URIRef]] = frozenset(R_SH[n] for n in (
        "path", "property", "message", "severity", "deactivated", "targetClass", "targetNode",
        "targetSubjectsOf", "targetObjectsOf", "name", "description", "order", "group",
        "defaultValue", "class", "datatype", "nodeKind", "minCount", "maxCount", "minInclusive",
        "maxInclusive", "minExclusive", "maxExclusive", "minLength", "maxLength", "pattern",
        "flags", "languageIn", "uniqueLang", "in", "hasValue", "equals", "disjoint", "lessThan",
        "lessThanOrEquals", "and", "or", "xone", "not", "node", "qualifiedValueShape",
        "qualifiedMinCount", "qualifiedMaxCount", "qualifiedValueShapesDisjoint", "sparql",
        "declare", "prefixes"))

    def __init__(self, graph: rdflib.Graph) -> None:
        self.g = graph
        self.shapes: dict[rdflib.term.Node, Shape] = {}

    # terms
    @staticmethod
    def term(node: rdflib.term.Node) -> Term:
        if isinstance(node, rdflib.URIRef):
            return NamedNode(str(node))
        if isinstance(node, rdflib.Literal):
            if node.language:
                return Literal(str(node), language=node.language)
            dt = node.datatype or rdflib.XSD.string
            return Literal(str(node), datatype=NamedNode(str(dt)))
        raise UnsupportedShapes(f"a blank node {node} where a constant was expected")

    def one(self, s: rdflib.term.Node, p: rdflib.URIRef) -> rdflib.term.Node | None:
        values = list(self.g.objects(s, p))
        if len(values) > 1:
            raise UnsupportedShapes(f"shape {s} has {len(values)} values of {p}")
        return values[0] if values else None

    def items(self, node: rdflib.term.Node) -> list[rdflib.term.Node]:
        return list(Collection(self.g, node))

    def path(self, node: rdflib.term.Node) -> Path:
        if isinstance(node, rdflib.URIRef):
            return Path("pred", NamedNode(str(node)))
        if (node, R_RDF.first, None) in self.g:
            return Path("seq", parts=[self.path(n) for n in self.items(node)])
        for pred, kind in ((R_SH.inversePath, "inv"), (R_SH.zeroOrMorePath, "star"),
                           (R_SH.oneOrMorePath, "plus"), (R_SH.zeroOrOnePath, "opt")):
            inner = self.one(node, pred)
            if inner is not None:
                return Path(kind, parts=[self.path(inner)])
        alt = self.one(node, R_SH.alternativePath)
        if alt is not None:
            return Path("alt", parts=[self.path(n) for n in self.items(alt)])
        raise UnsupportedShapes(f"unknown kind of sh:path {node}")

    def shape(self, node: rdflib.term.Node) -> Shape:
        if node in self.shapes:
            return self.shapes[node]
        g = self.g
        name = str(node) if isinstance(node, rdflib.URIRef) else f"_:{node}"
        shape = Shape(node, name)
        self.shapes[node] = shape  # before its parts: shapes may refer to themselves
        for p in {p for p in g.predicates(node, None) if str(p).startswith(SH)}:
            if p not in self.KNOWN:
                raise UnsupportedShapes(f"{name} uses {p}, which the compiled engine does "
                                        "not implement")
        path = self.one(node, R_SH.path)
        if path is not None:
            shape.path = self.path(path)
        msg = next(iter(sorted(str(m) for m in g.objects(node, R_SH.message))), None)
        shape.message = msg
        sev = self.one(node, R_SH.severity)
        if sev is not None:
            shape.severity = str(sev).rsplit("#", 1)[-1]
        shape.deactivated = _true(self.one(node, R_SH.deactivated))
        shape.target_classes = [self.term(c) for c in g.objects(node, R_SH.targetClass)]
        if (node, R_RDF.type, R_RDFS.Class) in g or \
                (node, R_RDF.type, rdflib.OWL.Class) in g:
            shape.target_classes.append(self.term(node))
        shape.target_nodes = [self.term(n) for n in g.objects(node, R_SH.targetNode)]
        shape.target_subjects_of = [NamedNode(str(n))
                                    for n in g.objects(node, R_SH.targetSubjectsOf)]
        shape.target_objects_of = [NamedNode(str(n))
                                   for n in g.objects(node, R_SH.targetObjectsOf)]
        shape.checks = self.checks(node, shape)
        return shape

    def checks(self, node: rdflib.term.Node, shape: Shape) -> list[tuple[str, Check]]:
        g = self.g
        out: list[tuple[str, Check]] = []
        for value in g.objects(node, R_SH["class"]):
            out.append(_each("ClassConstraintComponent", _class_test(self.term(value))))
        for value in g.objects(node, R_SH.datatype):
            out.append(_each("DatatypeConstraintComponent", _datatype_test(str(value))))
        for value in g.objects(node, R_SH.nodeKind):
            out.append(_each("NodeKindConstraintComponent", _node_kind_test(str(value))))
        for value in g.objects(node, R_SH.minCount):
            out.append(_whole("MinCountConstraintComponent", _count_test(_int(value), True)))
        for value in g.objects(node, R_SH.maxCount):
            out.append(_whole("MaxCountConstraintComponent", _count_test(_int(value), False)))
        for pred, name, ok in (
                (R_SH.minInclusive, "MinInclusiveConstraintComponent", (0, 1)),
                (R_SH.maxInclusive, "MaxInclusiveConstraintComponent", (-1, 0)),
                (R_SH.minExclusive, "MinExclusiveConstraintComponent", (1,)),
                (R_SH.maxExclusive, "MaxExclusiveConstraintComponent", (-1,))):
            for value in g.objects(node, pred):
                out.append(_each(name, _range_test(self.term(value), ok)))
        for pred, name, at_least in ((R_SH.minLength, "MinLengthConstraintComponent", True),
                                     (R_SH.maxLength, "MaxLengthConstraintComponent", False)):
            for value in g.objects(node, pred):
                out.append(_each(name, _length_test(_int(value), at_least)))
        flags = self.one(node, R_SH.flags)
        for value in g.objects(node, R_SH.pattern):
            out.append(_each("PatternConstraintComponent",
                             _pattern_test(str(value), str(flags) if flags else "")))
        for value in g.objects(node, R_SH.languageIn):
            out.append(_each("LanguageInConstraintComponent",
                             _language_test([str(x).lower() for x in self.items(value)])))
        if _true(self.one(node, R_SH.uniqueLang)):
            out.append(("UniqueLangConstraintComponent", _unique_lang))
        for value in g.objects(node, R_SH["in"]):
            out.append(_each("InConstraintComponent",
                             _in_test(frozenset(self.term(x) for x in self.items(value)))))
        for value in g.objects(node, R_SH.hasValue):
            out.append(_whole("HasValueConstraintComponent", _has_value_test(self.term(value))))
        for pred, kind in ((R_SH.equals, "equals"), (R_SH.disjoint, "disjoint"),
                           (R_SH.lessThan, "lessThan"),
                           (R_SH.lessThanOrEquals, "lessThanOrEquals")):
            for value in g.objects(node, pred):
                out.append(_pair_check(kind, NamedNode(str(value))))
        for pred, name in ((R_SH["and"], "And"), (R_SH["or"], "Or"), (R_SH.xone, "Xone")):
            for value in g.objects(node, pred):
                members = [self.shape(x) for x in self.items(value)]
                out.append(_each(f"{name}ConstraintComponent", _logic_test(name, members)))
        for value in g.objects(node, R_SH["not"]):
            out.append(_each("NotConstraintComponent", _logic_test("Not", [self.shape(value)])))
        for value in g.objects(node, R_SH.node):
            out.append(_each("NodeConstraintComponent", _logic_test("And", [self.shape(value)])))
        for value in g.objects(node, R_SH.qualifiedValueShape):
            if _true(self.one(node, R_SH.qualifiedValueShapesDisjoint)):
                raise UnsupportedShapes("sh:qualifiedValueShapesDisjoint true")
            inner = self.shape(value)
            lo = self.one(node, R_SH.qualifiedMinCount)
            hi = self.one(node, R_SH.qualifiedMaxCount)
            if lo is not None:
                out.append(_whole("QualifiedMinCountConstraintComponent",
                                  _qualified_test(inner, _int(lo), True)))
            if hi is not None:
                out.append(_whole("QualifiedMaxCountConstraintComponent",
                                  _qualified_test(inner, _int(hi), False)))
        for value in g.objects(node, R_SH.property):
            out.append(_property_check(self.shape(value)))
        for value in g.objects(node, R_SH.sparql):
            out.append(self.sparql(value))
        return out

    def sparql(self, node: rdflib.term.Node) -> tuple[str, Check]:
        g = self.g
        for p in g.predicates(node, None):
            if str(p).startswith(SH) and p not in (R_SH.select, R_SH.message, R_SH.prefixes,
                                                   R_SH.deactivated, R_SH.severity):
                raise UnsupportedShapes(f"SPARQL constraint uses {p}")
        select = self.one(node, R_SH.select)
        if select is None:
            raise UnsupportedShapes("a SPARQL constraint without sh:select")
        prefixes: dict[str, str] = {}
        for pfx_holder in g.objects(node, R_SH.prefixes):
            for decl in g.objects(pfx_holder, R_SH.declare):
                prefixes[str(self.one(decl, R_SH.prefix))] = str(self.one(decl, R_SH.namespace))
        text = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(prefixes.items())) + str(select)
        if re.search(r"\$(PATH|currentShape|shapesGraph)\b", text):
            raise UnsupportedShapes("SPARQL constraint uses $PATH, $currentShape or $shapesGraph")
        text = re.sub(r"\$this\b", "?this", text)
        message = next(iter(sorted(str(m) for m in g.objects(node, R_SH.message))), None)
        this = ox.Variable("this")
        try:
            is_select = isinstance(ox.Store().query(text), ox.QuerySolutions)
        except SyntaxError as exc:
            raise UnsupportedShapes(f"SPARQL constraint does not parse: {exc}") from exc
        if not is_select:
            raise UnsupportedShapes("sh:select holds a query that is not a SELECT")

        def check(shape: Shape, data: Data, focus: Term, values: list[Term], sink: Sink) -> bool:
            ok = True
            for v in values:
                rows = data.store().query(text, substitutions={this: v})
                assert isinstance(rows, ox.QuerySolutions)  # a SELECT (checked when compiled)
                for row in rows:
                    ok = False
                    if sink is None:
                        return False
                    value = row["value"] if ox.Variable("value") in rows.variables else None
                    path = shape.path.describe() if shape.path is not None else ""
                    sink.append(Result(focus, path, value or v, shape,
                                       "SPARQLConstraintComponent", message))
            return ok

        return "SPARQLConstraintComponent", check


ValueTest = Callable[[Data, Term], bool]
SetTest = Callable[[Data, Term, list[Term]], bool]


def _int(node: rdflib.term.Node) -> int:
    try:
        return int(str(node))
    except ValueError as exc:
        raise UnsupportedShapes(f"{node} is not an integer") from exc


def _true(node: rdflib.term.Node | None) -> bool:
    return isinstance(node, rdflib.Literal) and node.toPython() is True


def _class_test(cls: Term) -> ValueTest:
    return lambda data, v: data.is_instance(v, cls)


def _count_test(n: int, at_least: bool) -> SetTest:
    if at_least:
        return lambda data, focus, values: len(values) >= n
    return lambda data, focus, values: len(values) <= n


def _range_test(bound: Term, ok: tuple[int, ...]) -> ValueTest:
    return lambda data, v: compare(v, bound) in ok


def _length_test(n: int, at_least: bool) -> ValueTest:
    def test(data: Data, v: Term) -> bool:
        if isinstance(v, BlankNode):
            return False
        return len(v.value) >= n if at_least else len(v.value) <= n

    return test


def _language_test(ranges: list[str]) -> ValueTest:
    def test(data: Data, v: Term) -> bool:
        lang = v.language if isinstance(v, Literal) else None
        return bool(lang) and any(_lang_matches(lang or "", r) for r in ranges)

    return test


def _in_test(allowed: frozenset[Term]) -> ValueTest:
    return lambda data, v: v in allowed


def _has_value_test(wanted: Term) -> SetTest:
    return lambda data, focus, values: wanted in values


def _logic_test(kind: str, members: list[Shape]) -> ValueTest:
    if kind == "And":
        return lambda data, v: all(m.conforms(data, v) for m in members)
    if kind == "Or":
        return lambda data, v: any(m.conforms(data, v) for m in members)
    if kind == "Xone":
        return lambda data, v: sum(m.conforms(data, v) for m in members) == 1
    inner = members[0]
    return lambda data, v: not inner.conforms(data, v)


def _qualified_test(inner: Shape, n: int, at_least: bool) -> SetTest:
    def test(data: Data, focus: Term, values: list[Term]) -> bool:
        count = sum(inner.conforms(data, v) for v in values)
        return count >= n if at_least else count <= n

    return test


def _datatype_test(dt: str) -> ValueTest:
    def test(data: Data, v: Term) -> bool:
        if not isinstance(v, Literal):
            return False
        if dt == RDFS_LITERAL:
            return True
        return v.datatype.value == dt and well_formed(v)

    return test


def _node_kind_test(kind: str) -> ValueTest:
    allowed = {
        SH + "IRI": (NamedNode,), SH + "BlankNode": (BlankNode,), SH + "Literal": (Literal,),
        SH + "BlankNodeOrIRI": (BlankNode, NamedNode),
        SH + "BlankNodeOrLiteral": (BlankNode, Literal),
        SH + "IRIOrLiteral": (NamedNode, Literal),
    }.get(kind)
    if allowed is None:
        raise UnsupportedShapes(f"unknown sh:nodeKind {kind}")
    return lambda data, v: isinstance(v, allowed)


def _pattern_test(pattern: str, flags: str) -> ValueTest:
    re_flags = 0
    for f in flags:
        re_flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE,
                     "q": 0}.get(f, 0)
    if "q" in flags:
        pattern = re.escape(pattern)
    try:
        compiled = re.compile(pattern, re_flags)
    except re.error as exc:
        raise UnsupportedShapes(f"sh:pattern {pattern!r} is not a valid regex: {exc}") from exc
    return lambda data, v: not isinstance(v, BlankNode) and compiled.search(v.value) is not None


def _lang_matches(tag: str, rng: str) -> bool:
    tag = tag.lower()
    return rng == "*" or tag == rng or tag.startswith(rng + "-")


def _unique_lang(shape: Shape, data: Data, focus: Term, values: list[Term], sink: Sink) -> bool:
    counts: dict[str, int] = {}
    for v in values:
        if isinstance(v, Literal) and v.language:
            counts[v.language.lower()] = counts.get(v.language.lower(), 0) + 1
    ok = True
    for _lang, n in sorted(counts.items()):
        if n > 1:
            ok = shape.fail(sink, focus, None, "UniqueLangConstraintComponent")
            if sink is None:
                return False
    return ok


def _pair_check(kind: str, other_pred: NamedNode) -> tuple[str, Check]:
    component = {"equals": "EqualsConstraintComponent", "disjoint": "DisjointConstraintComponent",
                 "lessThan": "LessThanConstraintComponent",
                 "lessThanOrEquals": "LessThanOrEqualsConstraintComponent"}[kind]

    def check(shape: Shape, data: Data, focus: Term, values: list[Term], sink: Sink) -> bool:
        others = data.objects(focus, other_pred)
        ok = True
        bad: list[Term] = []
        if kind == "equals":
            other_set = set(others)
            value_set = set(values)
            bad = [v for v in values if v not in other_set] + \
                [w for w in others if w not in value_set]
        elif kind == "disjoint":
            other_set = set(others)
            bad = [v for v in values if v in other_set]
        else:
            allowed = (-1,) if kind == "lessThan" else (-1, 0)
            for v in values:
                for w in others:
                    if compare(v, w) not in allowed:
                        bad.append(v)
        for v in bad:
            ok = shape.fail(sink, focus, v, component)
            if sink is None:
                return False
        return ok

    return component, check


def _property_check(prop: Shape) -> tuple[str, Check]:
    def check(shape: Shape, data: Data, focus: Term, values: list[Term], sink: Sink) -> bool:
        ok = True
        for v in values:
            if not prop.evaluate(data, v, sink):
                ok = False
                if sink is None:
                    return False
        return ok

    return "PropertyConstraintComponent", check


# -- the compiled shapes graph ----------------------------------------------------------


def _triples_of(graph: rdflib.Graph) -> list[Quad]:
    data = graph.serialize(format="nt", encoding="utf-8")
    return list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))


class CompiledShapes:
    """The shapes graph compiled once; :meth:`validate` runs it over a batch of triples."""

    name = "compiled"

    def __init__(self, shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
        compiler = Compiler(shapes)
        targets: set[rdflib.term.Node] = set()
        for pred in (R_SH.targetClass, R_SH.targetNode, R_SH.targetSubjectsOf,
                     R_SH.targetObjectsOf):
            targets.update(shapes.subjects(pred, None))
        for cls in (R_RDFS.Class, rdflib.OWL.Class):
            targets.update(s for s in shapes.subjects(R_RDF.type, cls)
                           if (s, R_RDF.type, R_SH.NodeShape) in shapes)
        # any shape that is reachable only from others still gets compiled (and checked)
        for s in set(shapes.subjects(R_RDF.type, R_SH.NodeShape)) | \
                set(shapes.subjects(R_RDF.type, R_SH.PropertyShape)):
            compiler.shape(s)
        self.shapes = [compiler.shape(s) for s in sorted(targets, key=str)]
        self.shapes = [s for s in self.shapes if not s.deactivated]
        onto_triples = _triples_of(ontology)
        self.onto = Index(onto_triples)
        self.onto_subclass = self.onto.pso.get(RDFS_SUBCLASS, [])
        self.supers = closure(self.onto_subclass)
        self.subs = invert(self.supers)

    def validate(self, quads: Iterable[Quad], *, focus: Set[str] | None = None) -> ShapeReport:
        """SHACL over the default-graph triples of ``quads`` plus the ontology.

        ``focus`` limits the check to focus nodes whose IRI, up to ``#``, is in it (what
        admission asks: the nodes the batch writes), as pySHACL's results filtered so.
        """
        own = Index(q for q in quads if isinstance(q.graph_name, DefaultGraph))
        supers, subs = self.supers, self.subs
        extra = own.pso.get(RDFS_SUBCLASS)
        if extra:
            supers = closure([*self.onto_subclass, *extra])
            subs = invert(supers)
        onto = self.onto

        def all_quads() -> list[Quad]:
            both = dict.fromkeys([*own.triples(), *onto.triples()])
            return [Quad(s, p, o, DefaultGraph()) for s, p, o in both]  # type: ignore[arg-type]

        data = Data(own, onto, supers, subs, all_quads)
        results: list[Result] = []
        for shape in self.shapes:
            for node in self._targets(shape, data):
                if focus is not None and (not isinstance(node, NamedNode)
                                          or node.value.split("#", 1)[0] not in focus):
                    continue
                shape.evaluate(data, node, results)
        report = ShapeReport()
        for r in results:
            report.results.append(ShapeResult(
                focus=_text(r.focus), path=r.path,
                message=r.message or r.shape.message or _generic_message(r),
                severity=r.shape.severity, value=_text(r.value) if r.value is not None else ""))
        report.results.sort(key=lambda r: (r.focus, r.path, r.message))
        return report

    @staticmethod
    def _targets(shape: Shape, data: Data) -> Iterator[Term]:
        seen: set[Term] = set()
        for cls in shape.target_classes:
            for c in [cls, *data.subs.get(cls, ())]:
                for node in data.subjects(RDF_TYPE, c):
                    if node not in seen:
                        seen.add(node)
                        yield node
        for node in shape.target_nodes:
            if node not in seen:
                seen.add(node)
                yield node
        for p in shape.target_subjects_of:
            for s, _o in data.pairs(p):
                if s not in seen:
                    seen.add(s)
                    yield s
        for p in shape.target_objects_of:
            for _s, o in data.pairs(p):
                if o not in seen:
                    seen.add(o)
                    yield o


def _text(term: Term) -> str:
    if isinstance(term, Literal):
        return term.value
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return term.value


def _generic_message(r: Result) -> str:
    where = f" on {r.path}" if r.path else ""
    value = f" (value {_text(r.value)})" if r.value is not None else ""
    return f"{r.component.removesuffix('ConstraintComponent')} constraint of {r.shape.name} " \
           f"not met{where}{value}"


def compile_shapes(shapes: rdflib.Graph, ontology: rdflib.Graph) -> CompiledShapes:
    """Compile ``shapes``; raises :class:`UnsupportedShapes` naming the first feature the
    engine does not implement."""
    return CompiledShapes(shapes, ontology)

