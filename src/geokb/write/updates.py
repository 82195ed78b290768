"""SPARQL Update as events: what an update would delete and insert, computed without
touching the store.

:func:`update_event` parses the update with rdflib's update parser (for its operations and
templates), evaluates each ``WHERE`` pattern as a ``SELECT *`` on the pyoxigraph
projection, instantiates the templates in Python, and returns one ``GraphUpdated`` event
holding the N-Quads lines to delete and to insert. Operations of one request apply in
order: each sees what the previous ones did, through an overlay of added and removed
quads (copied into a scratch store only when a later ``WHERE`` needs to see it).

Refused, with :class:`QueryError`: ``LOAD`` (the server never fetches a URL for an
update), ``SERVICE`` anywhere, anything naming the reserved graph ``graph/system``, and a
``using-graph-uri``/``using-named-graph-uri`` given together with ``USING`` or ``WITH``.
Refused, with :class:`~geokb.errors.ModelViolation` (422) or ``StillAsserted`` (409): an
operation that would break the evidence model (:mod:`geokb.write.update_rules`), and an
ill-formed typed literal (:class:`~geokb.errors.InvalidEvent`, 422).
Our prefixes (``gk:``, ``id:``, ``status:``, …) are predeclared, as for queries.
Blank nodes in inserted data become IRIs under ``https://w3id.org/geokb/genid/``, so the
projection stays free of blank nodes and replay is exact.

>>> split_operations("PREFIX ex: <http://ex/> CLEAR ALL ; INSERT DATA { ex:a ex:b ex:c }")
['PREFIX ex: <http://ex/> CLEAR ALL ', ' INSERT DATA { ex:a ex:b ex:c }']
>>> uses_keyword('SELECT * { SERVICE <http://x/> { ?s ?p "SERVICE" } }', "SERVICE")
True
>>> uses_keyword('SELECT ?service { ?s <urn:SERVICE> "SERVICE" } # SERVICE', "SERVICE")
False
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad
from rdflib.term import BNode, URIRef, Variable
from rdflib.term import Literal as RdfLiteral

from geokb import grammar
from geokb.errors import InvalidEvent, QueryError
from geokb.log.events import GRAPH_UPDATED, Event
from geokb.projection.quads import SYSTEM_GRAPH
from geokb.projection.store import ProjectionStore
from geokb.sparql.guard import guard
from geokb.vocab import PREFIXES
from geokb.write.update_rules import changes, check_operation
from geokb.write.values import literal_problem

GENID = "https://w3id.org/geokb/genid/"
#: An event line may not exceed the log's 1 MiB line limit; leave room for the envelope.
MAX_PAYLOAD_CHARS = 900_000
MAX_OPERATION_CHARS = 100_000

Term = Any  # a pyoxigraph term: NamedNode | BlankNode | Literal | Triple
GraphName = NamedNode | DefaultGraph

# -- a small SPARQL lexer: enough to find keywords, braces and operation boundaries ----

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
             |'''(?:[^'\\]|\\.|'(?!''))*'''
             |"(?:[^"\\\n\r]|\\.)*"
             |'(?:[^'\\\n\r]|\\.)*')
  | (?P<open>\{)
  | (?P<close>\})
  | (?P<semi>;)
  | (?P<word>[^\s{};<>"'\#(),\[\]]+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int

    def is_keyword(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def tokens(sparql: str) -> Iterator[Token]:
    """The significant tokens of ``sparql`` (no whitespace or comments)."""
    for m in _TOKEN.finditer(sparql):
        kind = m.lastgroup or "other"
        if kind not in ("ws", "comment"):
            yield Token(kind, m.group(), m.start(), m.end())


def uses_keyword(sparql: str, keyword: str) -> bool:
    """Whether ``keyword`` occurs as a keyword (not in a string, IRI, name or comment)."""
    return any(t.is_keyword(keyword.upper()) for t in tokens(sparql))


def split_operations(sparql: str) -> list[str]:
    """The text of each operation of an update (split at the top-level ``;``)."""
    parts: list[str] = []
    depth = 0
    start = 0
    for t in tokens(sparql):
        if t.kind == "open":
            depth += 1
        elif t.kind == "close":
            depth = max(0, depth - 1)
        elif t.kind == "semi" and depth == 0:
            parts.append(sparql[start:t.start])
            start = t.end
    parts.append(sparql[start:])
    return parts


_OPERATION_WORDS = ("INSERT", "DELETE", "WITH", "CLEAR", "DROP", "CREATE", "ADD", "MOVE",
                    "COPY", "LOAD")


@dataclass
class _Segment:
    prologue: str  # the PREFIX/BASE declarations in force for this operation
    where: str | None  # the text of the WHERE group ({ … }) of DELETE/INSERT … WHERE


def _segments(sparql: str) -> list[_Segment]:
    """Operations in order, with their prologue and WHERE group text."""
    out: list[_Segment] = []
    prologue: list[str] = []
    for text in split_operations(sparql):
        toks = list(tokens(text))
        i = 0
        while i < len(toks) and toks[i].is_keyword("PREFIX", "BASE"):
            n = 3 if toks[i].is_keyword("PREFIX") else 2
            prologue.append(" ".join(t.text for t in toks[i:i + n]))
            i += n
        if i >= len(toks) or not toks[i].is_keyword(*_OPERATION_WORDS):
            continue  # an empty operation (a trailing ';')
        out.append(_Segment("\n".join(prologue), _where_group(text, toks[i:])))
    return out


def _where_group(text: str, toks: list[Token]) -> str | None:
    depth = 0
    for index, t in enumerate(toks):
        if t.kind == "open":
            depth += 1
        elif t.kind == "close":
            depth -= 1
        elif depth == 0 and t.is_keyword("WHERE"):
            rest = toks[index + 1:]
            if not rest or rest[0].kind != "open":
                return None
            level = 0
            for u in rest:
                level += {"open": 1, "close": -1}.get(u.kind, 0)
                if level == 0:
                    return text[rest[0].start:u.end]
            return None
    return None


# -- the working state: the store plus what earlier operations did ---------------------


@dataclass
class _Working:
    """The store as the operations so far would leave it, without changing it."""

    base: ProjectionStore
    added: set[Quad] = field(default_factory=set)
    removed: set[Quad] = field(default_factory=set)
    scratch: ox.Store | None = None

    def insert(self, quads: Iterable[Quad]) -> None:
        for q in quads:
            if q in self.removed:
                self.removed.discard(q)
            elif not self.base.contains(q):
                self.added.add(q)
            if self.scratch is not None:
                self.scratch.add(q)

    def delete(self, quads: Iterable[Quad]) -> None:
        for q in quads:
            if q in self.added:
                self.added.discard(q)
            elif self.base.contains(q):
                self.removed.add(q)
            if self.scratch is not None:
                self.scratch.remove(q)

    def in_graph(self, graph: GraphName) -> list[Quad]:
        if self.scratch is not None:
            return list(self.scratch.quads_for_pattern(None, None, None, graph))
        out = [q for q in self.base.quads(None, None, None, graph)
               if q not in self.removed]
        out.extend(q for q in self.added if q.graph_name == graph)
        return out

    def named_graphs(self) -> list[NamedNode]:
        """Named graphs holding at least one quad, without the reserved system graph."""
        if self.scratch is not None:
            names = {q.graph_name for q in self.scratch if isinstance(q.graph_name, NamedNode)}
        else:
            names = {g for g in self.base.named_graphs()
                     if any(q not in self.removed for q in self.base.quads(None, None, None, g))}
            names |= {q.graph_name for q in self.added if isinstance(q.graph_name, NamedNode)}
        names.discard(SYSTEM_GRAPH)
        return sorted(names, key=lambda g: g.value)

    def has(self, quad: Quad) -> bool:
        """Whether the working state holds ``quad``."""
        if quad in self.added:
            return True
        return quad not in self.removed and self.base.contains(quad)

    def exists(self, graph: GraphName) -> bool:
        return isinstance(graph, DefaultGraph) or bool(self.in_graph(graph))

    def select(self, sparql: str, **options: Any) -> Any:
        """Run a SELECT on the working state (a scratch copy once there are changes)."""
        if self.scratch is None and (self.added or self.removed):
            scratch = ox.Store()
            scratch.extend(q for q in self.base.quads() if q not in self.removed)
            scratch.extend(self.added)
            self.scratch = scratch
        if self.scratch is not None:
            return self.scratch.query(sparql, **options)
        return self.base.query(sparql, **options)


# -- terms --------------------------------------------------------------------------


def _iri(value: str) -> NamedNode:
    try:
        return NamedNode(value)
    except ValueError as exc:
        raise QueryError(f"<{value}> is not an absolute IRI ({exc}); "
                         "give a BASE or use absolute IRIs") from exc


def _term(node: Any, row: Mapping[str, Term] | None, bnodes: dict[str, NamedNode],
          *, allow_bnodes: bool) -> Term | None:
    """The pyoxigraph term of an rdflib template term; ``None`` if a variable is unbound.

    Blank nodes (of the template, or bound by the WHERE clause, e.g. by ``BNODE()``)
    become fresh ``genid`` IRIs where allowed and are refused (or unbound) elsewhere.
    """
    if isinstance(node, Variable):
        value = None if row is None else row.get(str(node))
        if isinstance(value, BlankNode):
            return _skolem("_:" + value.value, bnodes) if allow_bnodes else None
        return value
    if isinstance(node, URIRef):
        return _iri(str(node))
    if isinstance(node, BNode):
        if not allow_bnodes:
            raise QueryError("blank nodes are not allowed in DELETE DATA or DELETE templates")
        return _skolem(str(node), bnodes)
    if isinstance(node, RdfLiteral):
        problem = literal_problem(str(node), str(node.datatype)) if node.datatype else None
        if problem is not None:
            raise InvalidEvent(f"in the update's data, {problem}: write it in that type's "
                               "lexical form, or as a plain string")
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype is not None:
            return ox.Literal(str(node), datatype=_iri(str(node.datatype)))
        return ox.Literal(str(node))
    if isinstance(node, str) and node.upper() == "DEFAULT":
        return DefaultGraph()
    raise QueryError(f"unsupported term in an update: {node!r}")


def _skolem(key: str, bnodes: dict[str, NamedNode]) -> NamedNode:
    if key not in bnodes:
        bnodes[key] = NamedNode(GENID + uuid.uuid4().hex)
    return bnodes[key]


def _graph_of(node: Any) -> GraphName:
    if node is None or (isinstance(node, str) and node.upper() == "DEFAULT"):
        return DefaultGraph()
    term = _term(node, None, {}, allow_bnodes=False)
    if not isinstance(term, NamedNode):
        raise QueryError(f"not a graph name: {node!r}")
    _not_reserved(term)
    return term


def _protocol_graph(value: str) -> NamedNode:
    graph = _iri(value)
    _not_reserved(graph)
    return graph


def _not_reserved(graph: Any) -> None:
    if graph == SYSTEM_GRAPH:
        raise QueryError(f"the graph <{SYSTEM_GRAPH.value}> is reserved for the projection's "
                         "bookkeeping; updates may not read or change it")


def _field(value: Any, key: str) -> Any:
    """A field of an rdflib ``CompValue`` or ``None`` (its own ``get`` defaults to the key)."""
    return dict.get(value, key)


def _template_quads(clause: Any, default: GraphName) -> list[tuple[Any, Any]]:
    """(graph node, triple) pairs of an rdflib Insert/Delete clause or DATA operation."""
    if clause is None:
        return []
    out: list[tuple[Any, Any]] = [(default, t) for t in _field(clause, "triples") or []]
    for graph, triples in (_field(clause, "quads") or {}).items():
        out.extend((graph, t) for t in triples)
    return out


def _instantiate(template: list[tuple[Any, Any]], row: Mapping[str, Term] | None,
                 *, allow_bnodes: bool, strict: bool) -> list[Quad]:
    """Template quads under one solution; ill-formed or unbound ones are skipped unless
    ``strict`` (DATA operations), where they are an error."""
    bnodes: dict[str, NamedNode] = {}
    out: list[Quad] = []
    for graph_node, (s, p, o) in template:
        if isinstance(graph_node, (NamedNode, DefaultGraph)):
            g: Term | None = graph_node
        else:
            g = _term(graph_node, row, bnodes, allow_bnodes=False)
        subject, predicate, obj = (_term(x, row, bnodes, allow_bnodes=allow_bnodes)
                                   for x in (s, p, o))
        if not (isinstance(subject, NamedNode) and isinstance(predicate, NamedNode)
                and obj is not None and isinstance(g, NamedNode | DefaultGraph)):
            if strict:
                raise QueryError(f"ill-formed quad in update data: {s} {p} {o}")
            continue
        _not_reserved(g)
        out.append(Quad(subject, predicate, obj, g))
    return out


# -- the update --------------------------------------------------------------------


@dataclass(frozen=True)
class _Dataset:
    default: list[GraphName] | None  # None: the store's default graph
    named: list[NamedNode] | None  # None: every named graph but the system graph


def _dataset(op: Any, using_graphs: Sequence[str], using_named: Sequence[str]) -> _Dataset:
    using = _field(op, "using") or []
    with_graph = _field(op, "withClause")
    if using_graphs or using_named:
        if using or with_graph is not None:
            raise QueryError("the update gives USING or WITH and the request gives "
                             "using-graph-uri/using-named-graph-uri: use one or the other")
        return _Dataset([_protocol_graph(g) for g in using_graphs],
                        [_protocol_graph(n) for n in using_named])
    if using:
        defaults: list[GraphName] = [_graph_of(_field(u, "default")) for u in using
                                     if _field(u, "default") is not None]
        named = [g for g in (_graph_of(_field(u, "named")) for u in using
                             if _field(u, "named") is not None) if isinstance(g, NamedNode)]
        return _Dataset(defaults, named)
    if with_graph is not None:
        return _Dataset([_graph_of(with_graph)], None)
    return _Dataset(None, None)


def _solutions(working: _Working, segment: _Segment, dataset: _Dataset,
               base_iri: str | None) -> list[dict[str, Term]]:
    if segment.where is None:
        raise QueryError("could not find the WHERE clause of the update")
    query = f"{segment.prologue}\nSELECT * WHERE {segment.where}"
    options: dict[str, Any] = {"base_iri": base_iri, "prefixes": PREFIXES}
    if dataset.default is not None:
        options["default_graph"] = dataset.default
    options["named_graphs"] = (dataset.named if dataset.named is not None
                               else working.named_graphs())
    for g in options["named_graphs"]:
        _not_reserved(g)
    try:
        result = working.select(query, **options)
        names = [v.value for v in result.variables]
        return [{n: row[n] for n in names if row[n] is not None} for row in result]
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error in the WHERE clause: {exc}") from exc
    except OSError as exc:
        raise QueryError(f"cannot evaluate the WHERE clause: {exc}") from exc


def _graph_op(op: Any, working: _Working) -> tuple[list[Quad], list[Quad]]:
    """(delete, insert) of CLEAR, DROP, CREATE, ADD, MOVE and COPY."""
    name = op.name
    silent = bool(_field(op, "silent"))
    if name in ("Clear", "Drop"):
        target = _field(op, "graphiri")
        if isinstance(target, str) and target.upper() == "ALL":
            graphs: list[GraphName] = [DefaultGraph(), *working.named_graphs()]
        elif isinstance(target, str) and target.upper() == "NAMED":
            graphs = list(working.named_graphs())
        else:
            graph = _graph_of(target)
            if not working.exists(graph) and not silent:
                raise QueryError(f"{name.upper()}: graph {graph} does not exist "
                                 "(add SILENT to ignore)")
            graphs = [graph]
        return [q for g in graphs for q in working.in_graph(g)], []
    if name == "Create":
        graph = _graph_of(_field(op, "graphiri"))
        if working.exists(graph) and not silent:
            raise QueryError(f"CREATE: graph {graph} already exists (add SILENT to ignore)")
        return [], []  # empty graphs are not recorded: a graph exists once it holds a quad
    if name in ("Add", "Move", "Copy"):
        src, dst = (_graph_of(g) for g in _field(op, "graph"))
        if src == dst:
            return [], []
        if not working.exists(src):
            if silent:
                return [], []
            raise QueryError(f"{name.upper()}: source graph {src} does not exist "
                             "(add SILENT to ignore)")
        source = working.in_graph(src)
        moved = [Quad(q.subject, q.predicate, q.object, dst) for q in source]
        delete: list[Quad] = []
        if name in ("Move", "Copy"):
            delete += working.in_graph(dst)
        if name == "Move":
            delete += source
        return delete, moved
    raise QueryError(f"unsupported update operation {name}")


def _apply(op: Any, segment: _Segment, working: _Working, *, base_iri: str | None,
           using_graphs: Sequence[str], using_named: Sequence[str]) -> None:
    """Apply one operation to ``working``, once :func:`check_operation` allows it."""
    delete, insert = _effect(op, segment, working, base_iri=base_iri,
                             using_graphs=using_graphs, using_named=using_named)
    inserting = set(insert)
    delete = changes((q for q in delete if q not in inserting), working.has, wanted=True)
    insert = changes(insert, working.has, wanted=False)
    check_operation(working.base, _label(op), delete, insert)
    working.delete(delete)
    working.insert(insert)


def _label(op: Any) -> str:
    """The operation as a client wrote it: ``DROP ALL``, ``CLEAR GRAPH <g>``, ``INSERT DATA``."""
    words = {"InsertData": "INSERT DATA", "DeleteData": "DELETE DATA",
             "DeleteWhere": "DELETE WHERE", "Modify": "DELETE/INSERT … WHERE"}
    if op.name in words:
        return words[op.name]
    target = _field(op, "graphiri")
    if isinstance(target, str) and target.upper() in ("ALL", "NAMED", "DEFAULT"):
        return f"{str(op.name).upper()} {target.upper()}"
    name = str(op.name).upper()
    if target is not None:
        return f"{name} GRAPH <{target}>"
    return name


def _effect(op: Any, segment: _Segment, working: _Working, *, base_iri: str | None,
            using_graphs: Sequence[str], using_named: Sequence[str]
            ) -> tuple[list[Quad], list[Quad]]:
    """(delete, insert) of one operation on ``working``, which it does not change."""
    name = op.name
    if name == "Load":
        raise QueryError("LOAD is refused: this server does not fetch URLs for updates "
                         "(post the data with INSERT DATA instead)")
    if name == "InsertData":
        return [], _instantiate(_template_quads(op, DefaultGraph()), None,
                                allow_bnodes=True, strict=True)
    if name == "DeleteData":
        return _instantiate(_template_quads(op, DefaultGraph()), None,
                            allow_bnodes=False, strict=True), []
    if name in ("Modify", "DeleteWhere"):
        dataset = _dataset(op, using_graphs, using_named)
        if name == "DeleteWhere":
            delete_t, insert_t = _template_quads(op, DefaultGraph()), []
        else:
            with_graph = _field(op, "withClause")
            target = _graph_of(with_graph) if with_graph is not None else DefaultGraph()
            delete_t = _template_quads(_field(op, "delete"), target)
            insert_t = _template_quads(_field(op, "insert"), target)
        for graph_node, _ in delete_t + insert_t:
            if isinstance(graph_node, URIRef):
                _graph_of(graph_node)
        rows = _solutions(working, segment, dataset, base_iri)
        deletes: list[Quad] = []
        inserts: list[Quad] = []
        for row in rows:
            deletes += _instantiate(delete_t, row, allow_bnodes=False, strict=False)
            inserts += _instantiate(insert_t, row, allow_bnodes=True, strict=False)
        return deletes, inserts
    return _graph_op(op, working)


_PREFIX_DECL = re.compile(r"PREFIX\s+([^\s:]*):\s*<([^>]*)>", re.IGNORECASE)


def _our_prefixes(segments: Sequence[_Segment]) -> dict[str, str]:
    """Our prefixes minus those the update declares (by name or by namespace).

    rdflib keeps one prefix per namespace and re-binds the initial ones before each
    operation, so ``PREFIX dc: <http://purl.org/dc/terms/>`` would lose to ``dcterms:``.
    """
    declared = {m.group(1): m.group(2) for seg in segments
                for m in _PREFIX_DECL.finditer(seg.prologue)}
    return {k: v for k, v in PREFIXES.items()
            if k not in declared and v not in declared.values()}


def _parse(sparql: str, base_iri: str | None, prefixes: Mapping[str, str]) -> Any:
    from pyparsing import ParseBaseException

    try:
        return grammar.update_algebra(sparql, base_iri, dict(prefixes))
    except ParseBaseException as exc:
        raise QueryError(f"SPARQL syntax error: {exc}") from exc
    except (ValueError, TypeError, KeyError) as exc:  # rdflib's translation errors
        raise QueryError(f"cannot read the update: {exc}") from exc


def _line(q: Quad) -> str:
    return f"{q} ."


def _payload_size(lines: Iterable[str]) -> int:
    return sum(len(line) + 4 for line in lines)


def update_event(store: ProjectionStore, sparql: str, *, base_iri: str | None,
                 using_graphs: Sequence[str], using_named_graphs: Sequence[str]) -> Event | None:
    """The ``GraphUpdated`` event of a SPARQL Update on ``store``, or ``None`` if it
    changes nothing. The store is not modified.

    Raises :class:`QueryError` for a syntax error, a refused operation (LOAD, SERVICE,
    the system graph), a protocol dataset given together with USING/WITH, or an update
    too large for one event.
    """
    guard(sparql, update=True)  # size, depth, and SERVICE/LOAD by a real parse
    segments = _segments(sparql)
    parsed = _parse(sparql, base_iri, _our_prefixes(segments))
    operations = list(getattr(parsed, "algebra", None) or [])
    if not operations:  # an empty update (at most a prologue) is valid and does nothing
        return None
    if len(segments) != len(operations):
        raise QueryError(f"could not split the update into its {len(operations)} operations")
    working = _Working(store)
    for op, segment in zip(operations, segments, strict=True):
        _apply(op, segment, working, base_iri=base_iri, using_graphs=using_graphs,
               using_named=using_named_graphs)
    delete = sorted(_line(q) for q in working.removed)
    insert = sorted(_line(q) for q in working.added)
    if not delete and not insert:
        return None
    for q in working.removed | working.added:
        _not_reserved(q.graph_name)
    size = _payload_size(delete) + _payload_size(insert)
    if size > MAX_PAYLOAD_CHARS:
        raise QueryError(f"the update changes {len(delete) + len(insert)} quads "
                         f"(~{size} characters), more than one event may hold "
                         f"({MAX_PAYLOAD_CHARS}); split it into smaller updates")
    operation = sparql
    if len(operation) > MAX_OPERATION_CHARS or size + len(operation) > MAX_PAYLOAD_CHARS \
            or re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", operation):
        operation = (f"# the update text ({len(sparql)} characters) is not kept; "
                     "its effect is in delete/insert")
    return Event(GRAPH_UPDATED, {"delete": delete, "insert": insert, "operation": operation})
