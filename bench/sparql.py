"""The baselines' queries: one SPARQL SELECT that returns what ``kb.status`` /
``kb.timeline`` return (every claim about an entity with its statement, labels, modality,
source, evidence, speaker, reporting chain, valid time, confidence, note and asserting
event), plus a small SELECT for the entity's own label, types and aliases.

The same text runs on raw pyoxigraph, on ``oxigraph serve``, on rdflib and on
rdflib-endpoint, so every baseline answers the same question on the same data.
"""

from __future__ import annotations

from typing import Any

ID = "https://w3id.org/geokb/id/"

PREFIXES = """PREFIX gk: <https://w3id.org/geokb/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

_CLAIMS = """SELECT ?c ?s ?p ?o ?slabel ?olabel ?mod ?src ?title ?srcsha ?evsha ?exact ?prefix
       ?suffix ?start ?end ?speaker ?splabel ?si ?via ?vialabel ?vf ?vfp ?vu ?vup ?conf
       ?note ?pos ?at ?by
WHERE {
  { ?c rdf:subject <ENTITY> } UNION { ?c rdf:object <ENTITY> }
  ?c gk:knownFromPosition ?kf .
  OPTIONAL { ?c gk:knownUntilPosition ?ku }
  FILTER(TIME_FILTER)
  ?c rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; gk:modality ?mod ;
     prov:wasDerivedFrom ?src ; gk:evidence ?ev ; gk:assertedIn ?ae .
  ?src dcterms:title ?title ; gk:sha256 ?srcsha .
  ?ev gk:sha256 ?evsha ; oa:hasSelector ?qs , ?ps .
  ?qs oa:exact ?exact ; oa:prefix ?prefix ; oa:suffix ?suffix .
  ?ps oa:start ?start ; oa:end ?end .
  ?ae gk:position ?pos ; gk:recordedAt ?at ; gk:recordedBy ?by .
  OPTIONAL { ?s rdfs:label ?slabel }
  OPTIONAL { ?o rdfs:label ?olabel }
  OPTIONAL { ?c gk:speaker ?speaker . ?speaker rdfs:label ?splabel }
  OPTIONAL { ?c gk:attributionStep ?step . ?step gk:stepIndex ?si ; prov:agent ?via .
             ?via rdfs:label ?vialabel }
  OPTIONAL { ?c gk:validFrom ?vf ; gk:validFromPrecision ?vfp }
  OPTIONAL { ?c gk:validUntil ?vu ; gk:validUntilPrecision ?vup }
  OPTIONAL { ?c gk:confidence ?conf }
  OPTIONAL { ?c rdfs:comment ?note }
}
ORDER BY (COALESCE(STR(?vf), STR(?vu), "9999")) ?pos ?c ?si"""

_ENTITY = """SELECT ?label ?type ?alias WHERE {
  <ENTITY> rdfs:label ?label ; rdf:type ?type .
  OPTIONAL { <ENTITY> skos:altLabel ?alias }
}"""

CURRENT = "!BOUND(?ku)"
NONCE_FILTER = " && ?kf > -NONCE"


def claims_query(entity_iri: str, as_of: int | None = None, nonce: int | None = None) -> str:
    """The claims SELECT for ``entity_iri`` (current view, or as known at ``as_of``).

    ``nonce`` adds an always-true filter on a varying literal, so every query text is
    unique (what an uncached load sends).
    """
    time_filter = CURRENT if as_of is None else \
        f"?kf <= {as_of} && (!BOUND(?ku) || ?ku > {as_of})"
    if nonce is not None:
        time_filter = f"({time_filter}){NONCE_FILTER.replace('NONCE', str(nonce + 1))}"
    return PREFIXES + _CLAIMS.replace("<ENTITY>", f"<{entity_iri}>").replace(
        "TIME_FILTER", time_filter)


def entity_query(entity_iri: str) -> str:
    return PREFIXES + _ENTITY.replace("<ENTITY>", f"<{entity_iri}>")


# -- the lookup-style formulation: SELECTs without OPTIONAL --------------------------
#
# Oxigraph evaluates an OPTIONAL as a hash left join over every match of its right-hand
# side in the whole store, so the single SELECT above costs O(KB size) per query. The
# fastest way to get the same answer from raw pyoxigraph is a few SELECTs with no
# OPTIONAL: find the claims, fetch every triple of the claims' nodes (VALUES ?x {…}),
# then the labels and details of what they point to.

_FIND = """SELECT DISTINCT ?c WHERE {
  { ?c rdf:subject <ENTITY> } UNION { ?c rdf:object <ENTITY> }
  ?c gk:knownFromPosition ?kf .
  FIND_FILTER
}"""
_NODES = "SELECT ?x ?p ?v WHERE { VALUES ?x { NODES } ?x ?p ?v }"
_LABELS = "SELECT ?x ?v WHERE { VALUES ?x { NODES } ?x rdfs:label ?v }"
_LINKS = ("https://w3id.org/geokb/ontology#attributionStep",
          "https://w3id.org/geokb/ontology#assertedIn",
          "http://www.w3.org/ns/prov#wasDerivedFrom")
_LABELLED = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#subject",
             "http://www.w3.org/1999/02/22-rdf-syntax-ns#object",
             "https://w3id.org/geokb/ontology#speaker",
             "https://w3id.org/geokb/ontology#reportedVia")

_AGENT = "http://www.w3.org/ns/prov#agent"


def find_query(entity_iri: str, as_of: int | None = None, nonce: int | None = None) -> str:
    """The claims about ``entity_iri`` known now (or at ``as_of``): one BGP, no OPTIONAL."""
    if as_of is None:
        flt = "FILTER NOT EXISTS { ?c gk:knownUntilPosition ?ku }"
    else:
        flt = (f"FILTER(?kf <= {as_of}) "
               f"FILTER NOT EXISTS {{ ?c gk:knownUntilPosition ?ku FILTER(?ku <= {as_of}) }}")
    if nonce is not None:
        flt += f" FILTER(?kf > -{nonce + 1})"
    return PREFIXES + _FIND.replace("<ENTITY>", f"<{entity_iri}>").replace("FIND_FILTER", flt)


def _iris(values: Any) -> str:
    return " ".join(f"<{v}>" for v in values)


def _value(term: Any) -> str:
    return str(term.value)


#: claims per answer, as ``geokb.read.paging.PAGE_SIZE`` (the first page of a status/timeline)
PAGE = 50


def run_lookup(store: Any, entity_iri: str, as_of: int | None = None,
               limit: int | None = PAGE) -> tuple[int, int]:
    """The status answer from raw pyoxigraph in four SELECTs with no OPTIONAL: every claim
    about the entity is found, and the first ``limit`` of them (a page, as geokb answers)
    are fetched whole with their linked nodes and labels.

    Returns (distinct claims, rows).
    """
    val: Any = _value if store.__class__.__module__.startswith("pyoxigraph") else str
    claims = [val(sol[0]) for sol in store.query(find_query(entity_iri, as_of))]
    nodes = [entity_iri]
    for c in claims[:limit]:
        nodes += [c, c + "#evidence", c + "#quote", c + "#position"]
    rows: list[list[str]] = []
    linked: set[str] = set()
    labelled: set[str] = set()

    def fetch(targets: list[str]) -> None:
        for sol in store.query(PREFIXES + _NODES.replace("NODES", _iris(targets))):
            x, p, v = sol[0], sol[1], sol[2]
            rows.append([val(x), val(p), val(v)])
            if v.__class__.__name__ in ("NamedNode", "URIRef"):
                if val(p) in _LINKS:
                    linked.add(val(v))
                elif val(p) in _LABELLED or val(p) == _AGENT:
                    labelled.add(val(v))

    fetch(nodes)
    if linked:
        fetch(sorted(linked))
    if labelled:
        rows += [[val(sol[0]), "label", val(sol[1])]
                 for sol in store.query(PREFIXES + _LABELS.replace("NODES",
                                                                    _iris(sorted(labelled))))]
    return len(claims), len(rows)


def run_raw(store: Any, entity_iri: str, as_of: int | None = None) -> tuple[int, int]:
    """Run the single SELECT (and the entity SELECT) on a pyoxigraph store, materialising
    every value as Python. Returns (distinct claims, rows).
    """
    rows = [[None if t is None else t.value for t in sol]
            for sol in store.query(claims_query(entity_iri, as_of))]
    info = [[None if t is None else t.value for t in sol]
            for sol in store.query(entity_query(entity_iri))]
    del info
    return len({r[0] for r in rows}), len(rows)


def run_rdflib(graph: Any, entity_iri: str, as_of: int | None = None) -> tuple[int, int]:
    """The same two SELECTs through rdflib's own SPARQL engine."""
    rows = [[None if t is None else str(t) for t in row]
            for row in graph.query(claims_query(entity_iri, as_of))]
    info = [list(row) for row in graph.query(entity_query(entity_iri))]
    del info
    return len({r[0] for r in rows}), len(rows)


_HTTP_STATUS = """SELECT ?c ?s ?p ?o ?mod ?pos WHERE {
  { ?c rdf:subject <ENTITY> } UNION { ?c rdf:object <ENTITY> }
  ?c gk:knownFromPosition ?pos ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
     gk:modality ?mod .
  FILTER NOT EXISTS { ?c gk:knownUntilPosition ?ku }
  NONCE
} ORDER BY ?pos"""


def http_status_query(entity_iri: str, nonce: int | None = None) -> str:
    """The status query sent over HTTP to every server: the live claims about an entity
    with their statement and modality (one BGP: every engine can answer it by index).

    ``nonce`` adds an always-true filter on a varying literal (uncached load).
    """
    extra = "" if nonce is None else f"FILTER(?pos > -{nonce + 1})"
    return PREFIXES + _HTTP_STATUS.replace("<ENTITY>", f"<{entity_iri}>").replace(
        "NONCE", extra)
