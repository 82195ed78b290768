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
