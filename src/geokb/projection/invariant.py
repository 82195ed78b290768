"""The evidence model's invariant over a projection, as one function: :func:`view_problems`.

In the layout of :mod:`geokb.projection.quads` ("projection layout 2"):

* every *statement* of the current view (a default-graph triple that is no record) is the
  statement of a live claim of a factual modality, and each such claim's statement is
  there; the attributed view holds exactly the statements of the other live claims;
* every *description* in the default graph (labels, types, aliases, same-as, description,
  comments)
  is about a declared entity, every source record about a registered source, every claim
  record about an asserted claim;
* every claim's own named graph holds its one statement, no more and no less, for ever.

:func:`view_problems` returns the triples that break it (an empty list: the view matches
the live claims). It reads the projection only; ``geokb validate`` hands it the live
claims its replay of the log found, so a projection whose records were damaged too is
still compared with what the log says. :func:`classify` is the same rule for one quad,
which the SPARQL Update admission (:mod:`geokb.write.update_rules`) asks before an update
becomes an event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pyoxigraph import DefaultGraph, NamedNode, Quad, Triple

from geokb.projection.graphs import is_factual
from geokb.projection.quads import parse_lines
from geokb.projection.store import ProjectionStore
from geokb.vocab import (
    ATTRIBUTED_GRAPH,
    CLAIM,
    CONFLICTS_GRAPH,
    DCTERMS,
    GK,
    OWL,
    RDF,
    RDFS,
    SKOS,
    SYSTEM_GRAPH,
)

DEFAULT = DefaultGraph()

#: What a curator may describe an entity with (and change by SPARQL Update).
DESCRIPTIONS = frozenset({RDF.type, RDFS.label, SKOS.altLabel, GK.curatorAlias, OWL.sameAs,
                          DCTERMS.description, RDFS.comment})
#: An entity's own bookkeeping: written by its events only.
ENTITY_RECORDS = frozenset({GK.declaredIn, GK.knownFromPosition, GK.amendedIn})
#: What a source's record holds (see ``quads_for``, ``SourceRegistered``/``SourceRetracted``).
SOURCE_RECORDS = frozenset({
    RDF.type, DCTERMS.title, GK.sha256, GK.registeredIn, GK.knownFromPosition,
    DCTERMS.publisher, GK.url, DCTERMS.issued, GK.publicationPrecision, GK.publishedStart,
    GK.publishedEnd, DCTERMS.language, DCTERMS.format, DCTERMS.description, GK.byline,
    GK.section, GK.sourceReliability, GK.informationCredibility, GK.retractedIn,
    GK.retractionReason, GK.knownUntilPosition})


@dataclass(frozen=True)
class Live:
    """A live claim's statement and whether it goes to the current view (factual)."""

    statement: Triple
    factual: bool


@dataclass(frozen=True)
class Offence:
    """One triple that breaks the invariant: what is wrong, and the claim it concerns."""

    kind: str  # unsourced | undeclared | missing | padded | dropped
    quad: Quad
    claim: str | None = None

    def describe(self) -> str:
        where = "" if isinstance(self.quad.graph_name, DefaultGraph) else \
            f" in <{self.quad.graph_name.value}>"
        triple = f"{self.quad.subject} {self.quad.predicate} {self.quad.object}"
        claim = f" (claim {self.claim})" if self.claim else ""
        return {
            "unsourced": f"no live claim states {triple}{where}",
            "undeclared": f"{triple}{where} describes nothing declared or registered",
            "missing": f"the live claim's statement {triple} is not in the view{where}{claim}",
            "padded": f"{triple}{where} is not the claim's statement{claim}",
            "dropped": f"the claim's graph lost its statement {triple}{claim}",
        }[self.kind]


def is_claim_iri(iri: str) -> bool:
    return iri.startswith(CLAIM.base)


def claim_of(iri: str) -> str:
    """The claim a claim IRI or one of its fragment nodes (``#evidence`` …) belongs to."""
    return iri.split("#", 1)[0]


def live_claims(store: ProjectionStore) -> dict[str, Live]:
    """The live claims the projection's records name, with their statements."""
    rows = store.query(
        "SELECT ?c ?s ?p ?o ?m WHERE { ?c a gk:Claim ; rdf:subject ?s ; rdf:predicate ?p ; "
        "rdf:object ?o ; gk:modality ?m FILTER NOT EXISTS { ?c gk:knownUntilPosition ?u } }",
        prefixes={"gk": GK.base, "rdf": RDF.base})
    return {row["c"].value: Live(Triple(row["s"], row["p"], row["o"]), is_factual(row["m"].value))
            for row in rows}


def live_from_lines(claims: Mapping[str, tuple[str, bool]]) -> dict[str, Live]:
    """:class:`Live` claims from ``claim -> (N-Triples statement line, factual)``."""
    names = list(claims)
    quads = parse_lines([claims[c][0] for c in names])
    return {c: Live(q.triple, claims[c][1]) for c, q in zip(names, quads, strict=True)}


def classify(store: ProjectionStore, quad: Quad) -> str:
    """What a quad of the default graph is: ``claim-record``, ``source-record``,
    ``entity-record``, ``description`` (of a declared entity) or ``statement`` (anything
    else: only a live claim may put it in the current view)."""
    s, p = quad.subject, quad.predicate
    if not isinstance(s, NamedNode):
        return "statement"
    if is_claim_iri(s.value):
        return "claim-record"
    if _registered(store, s) and p in SOURCE_RECORDS:
        return "source-record"
    if _declared(store, s):
        if p in ENTITY_RECORDS:
            return "entity-record"
        if p in DESCRIPTIONS:
            return "description"
    return "statement"


def _declared(store: ProjectionStore, node: NamedNode) -> bool:
    return next(store.quads(node, GK.declaredIn, None, DEFAULT), None) is not None


def _registered(store: ProjectionStore, node: NamedNode) -> bool:
    return next(store.quads(node, GK.registeredIn, None, DEFAULT), None) is not None


def _is_claim(store: ProjectionStore, iri: str) -> bool:
    return next(store.quads(NamedNode(iri), GK.assertedIn, None, DEFAULT), None) is not None


def view_problems(store: ProjectionStore, *, live: Mapping[str, Live] | None = None,
                  known: Iterable[str] = ()) -> list[Offence]:
    """The triples that break the invariant, sorted (``[]``: the view matches the claims).

    ``live`` defaults to the live claims of the projection's own records; ``known`` adds
    claims (live or ended) whose records or graphs may be there, besides those the
    projection's records name.
    """
    claims = dict(live_claims(store) if live is None else live)
    known_claims = {*claims, *known}
    factual: dict[Triple, str] = {}
    attributed: dict[Triple, str] = {}
    for claim, entry in claims.items():
        (factual if entry.factual else attributed).setdefault(entry.statement, claim)
    out: list[Offence] = []
    for q in store.quads(graph=DEFAULT):
        if isinstance(q.subject, NamedNode) and is_claim_iri(q.subject.value):
            claim = claim_of(q.subject.value)
            if claim not in known_claims and not _is_claim(store, claim):
                out.append(Offence("undeclared", q, claim))
            continue
        if q.triple in factual:
            continue
        kind = classify(store, q)
        if kind == "statement":
            out.append(Offence("unsourced", q))
        elif kind not in ("description", "entity-record", "source-record"):
            out.append(Offence("undeclared", q))
    for statement, claim in sorted(factual.items(), key=lambda kv: kv[1]):
        q = Quad(statement.subject, statement.predicate, statement.object, DEFAULT)
        if not store.contains(q):
            out.append(Offence("missing", q, claim))
    for q in store.quads(graph=ATTRIBUTED_GRAPH):
        if q.triple not in attributed:
            out.append(Offence("unsourced", q))
    for statement, claim in sorted(attributed.items(), key=lambda kv: kv[1]):
        q = Quad(statement.subject, statement.predicate, statement.object, ATTRIBUTED_GRAPH)
        if not store.contains(q):
            out.append(Offence("missing", q, claim))
    out += _claim_graphs(store, claims)
    return out


def _claim_graphs(store: ProjectionStore, live: Mapping[str, Live]) -> list[Offence]:
    """Each claim graph holds its statement alone; no graph names a claim that is not."""
    out: list[Offence] = []
    statements: dict[str, Triple] = {c: e.statement for c, e in live.items()}
    rows = store.query("SELECT ?c ?s ?p ?o WHERE { ?c rdf:subject ?s ; rdf:predicate ?p ; "
                       "rdf:object ?o }", prefixes={"rdf": RDF.base})
    for row in rows:  # ended claims keep their graph too
        if is_claim_iri(row["c"].value):
            statements.setdefault(row["c"].value, Triple(row["s"], row["p"], row["o"]))
    for graph in store.named_graphs():
        if graph in (ATTRIBUTED_GRAPH, CONFLICTS_GRAPH, SYSTEM_GRAPH) \
                or not is_claim_iri(graph.value):
            continue
        expected = statements.get(graph.value)
        for q in store.quads(graph=graph):
            if q.triple != expected:
                out.append(Offence("padded", q, graph.value))
    for claim, statement in sorted(statements.items()):
        g = NamedNode(claim)
        q = Quad(statement.subject, statement.predicate, statement.object, g)
        if not store.contains(q):
            out.append(Offence("dropped", q, claim))
    return out


def _stored_statement(store: ProjectionStore, claim: NamedNode) -> Triple | None:
    """A claim's statement as its records hold it (None if it has none)."""
    parts = [next(store.quads(claim, p, None, DEFAULT), None)
             for p in (RDF.subject, RDF.predicate, RDF.object)]
    if any(q is None for q in parts):
        return None
    s, p, o = (q.object for q in parts if q is not None)
    if not isinstance(s, NamedNode) or not isinstance(p, NamedNode):
        return None
    return Triple(s, p, o)


def _stating(store: ProjectionStore, statement: Triple) -> Iterable[tuple[str, bool, bool]]:
    """The claims whose records state ``statement``: (claim, live by its records, factual).

    The claims with its subject and those with its object are read in turns, and the list
    that ends first is the one filtered: an object such as a status value is stated by a
    good share of the KB, a subject by the claims about one entity, and neither can be
    known to be the smaller without reading it.
    """
    by_subject = store.quads(None, RDF.subject, statement.subject, DEFAULT)
    by_object = store.quads(None, RDF.object, statement.object, DEFAULT)
    seen: tuple[list[Quad], list[Quad]] = ([], [])
    while True:
        q = next(by_subject, None)
        if q is None:
            found, other = seen[0], (RDF.object, statement.object)
            break
        seen[0].append(q)
        q = next(by_object, None)
        if q is None:
            found, other = seen[1], (RDF.subject, statement.subject)
            break
        seen[1].append(q)
    for q in found:
        claim = q.subject
        if not isinstance(claim, NamedNode) or not is_claim_iri(claim.value) \
                or not store.contains(Quad(claim, other[0], other[1], DEFAULT)) \
                or not store.contains(Quad(claim, RDF.predicate, statement.predicate, DEFAULT)):
            continue
        modality = next(store.quads(claim, GK.modality, None, DEFAULT), None)
        ended = next(store.quads(claim, GK.knownUntilPosition, None, DEFAULT), None)
        yield (claim.value, ended is None, modality is not None
               and isinstance(modality.object, NamedNode) and is_factual(modality.object.value))


def view_problems_around(store: ProjectionStore, claims: Mapping[str, Live | None],
                         subjects: Iterable[NamedNode] = ()) -> list[Offence]:
    """:func:`view_problems` for what ``claims`` touch (``geokb validate --since``: the
    claims the events after an anchor asserted or ended), sorted: the statements of those
    claims are in the current and the attributed view exactly as the live claims stating
    them say, each of those claims' graphs holds its statement alone, and the triples of
    the default graph about ``subjects`` (what those events named) are records,
    descriptions or the statement of a live claim of a factual modality.

    ``claims`` maps a claim to its :class:`Live` entry if the log says it is live, to None
    if it says it ended; every other claim is taken as its own records say (the events
    before the anchor were checked when it was).
    """
    out: list[Offence] = []
    statements: dict[Triple, str] = {}
    for claim, entry in sorted(claims.items()):
        node = NamedNode(claim)
        statement = entry.statement if entry is not None else _stored_statement(store, node)
        if statement is None:
            continue  # never applied (its replay failed: reported as such)
        statements.setdefault(statement, claim)
        for q in store.quads(graph=node):
            if q.triple != statement:
                out.append(Offence("padded", q, claim))
        if not store.contains(Quad(statement.subject, statement.predicate, statement.object,
                                   node)):
            out.append(Offence("dropped", Quad(statement.subject, statement.predicate,
                                               statement.object, node), claim))
    for statement, first in statements.items():
        factual = attributed = None
        for claim, live, is_fact in _stating(store, statement):
            if claim in claims:
                entry = claims[claim]
                live, is_fact = entry is not None, entry is not None and entry.factual
            if live:
                if is_fact:
                    factual = factual or claim
                else:
                    attributed = attributed or claim
        for claim, entry in claims.items():  # live by the log, though its records are gone
            if entry is not None and entry.statement == statement:
                if entry.factual:
                    factual = factual or claim
                else:
                    attributed = attributed or claim
        for graph, stated in ((DEFAULT, factual), (ATTRIBUTED_GRAPH, attributed)):
            q = Quad(statement.subject, statement.predicate, statement.object, graph)
            there = store.contains(q)
            if stated is not None and not there:
                out.append(Offence("missing", q, stated))
            elif stated is None and there and (graph != DEFAULT or
                                               classify(store, q) == "statement"):
                out.append(Offence("unsourced", q, first))
    seen = set(statements)
    for subject in dict.fromkeys(subjects):
        for q in store.quads(subject, None, None, DEFAULT):
            if q.triple in seen or is_claim_iri(subject.value):
                continue
            kind = classify(store, q)
            if kind == "statement":
                if not any(live and fact for _c, live, fact in _stating(store, q.triple)):
                    out.append(Offence("unsourced", q))
            elif kind not in ("description", "entity-record", "source-record"):
                out.append(Offence("undeclared", q))
    return sorted(out, key=lambda o: (o.claim or "", o.kind, str(o.quad)))
