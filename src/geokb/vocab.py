"""Namespaces and IRIs of the controlled vocabularies (the paths of ``ontology/`` and ``shapes/``
are re-exported from :mod:`geokb.resources`).

>>> GK.Claim.value
'https://w3id.org/geokb/ontology#Claim'
>>> entity_iri("tartus-naval-base").value
'https://w3id.org/geokb/id/tartus-naval-base'
"""

from __future__ import annotations

import re

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from geokb.resources import data_home
from geokb.resources import ontology_dir as ontology_dir
from geokb.resources import shapes_dir as shapes_dir

BASE = "https://w3id.org/geokb/"


class Namespace:
    """A namespace whose attributes are :class:`NamedNode` terms.

    >>> Namespace("http://example.org/").thing.value
    'http://example.org/thing'
    """

    def __init__(self, base: str) -> None:
        self.base = base

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("__"):
            raise AttributeError(name)
        return NamedNode(self.base + name)

    def __getitem__(self, name: str) -> NamedNode:
        return NamedNode(self.base + name)


GK = Namespace(BASE + "ontology#")
ID = Namespace(BASE + "id/")
CLAIM = Namespace(BASE + "claim/")
SOURCE = Namespace(BASE + "source/")
EVENT = Namespace(BASE + "event/")
AGENT = Namespace(BASE + "agent/")
STATUS = Namespace(BASE + "status/")
MODALITY = Namespace(BASE + "modality/")
PRECISION = Namespace(BASE + "precision/")
GRAPH = Namespace(BASE + "graph/")
SPEECH = Namespace(BASE + "speech-act/")
BASIS = Namespace(BASE + "basis/")
RELIABILITY = Namespace(BASE + "reliability/")
CREDIBILITY = Namespace(BASE + "credibility/")
ASSESSMENT = Namespace(BASE + "assessment/")
RULE = Namespace(BASE + "conflict-rule/")
CONFLICT = Namespace(BASE + "conflict/")

#: The named graphs of the dataset (docs/data-model.md, "The views"): the default graph is
#: the current view (live asserted statements, plus the records); the attributed view holds
#: the statements of live quoted, denied, uncertain and analysis claims; the system graph
#: the log's events and the projection's bookkeeping; the conflicts graph what
#: :mod:`geokb.projection.conflicts` derives.
ATTRIBUTED_GRAPH = GRAPH.attributed
SYSTEM_GRAPH = GRAPH.system
CONFLICTS_GRAPH = GRAPH.conflicts

RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
PROV = Namespace("http://www.w3.org/ns/prov#")
OA = Namespace("http://www.w3.org/ns/oa#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
TIME = Namespace("http://www.w3.org/2006/time#")

PREFIXES: dict[str, str] = {
    "gk": GK.base,
    "id": ID.base,
    "claim": CLAIM.base,
    "source": SOURCE.base,
    "event": EVENT.base,
    "status": STATUS.base,
    "modality": MODALITY.base,
    "precision": PRECISION.base,
    "graph": GRAPH.base,
    "speech": SPEECH.base,
    "basis": BASIS.base,
    "reliability": RELIABILITY.base,
    "credibility": CREDIBILITY.base,
    "assessment": ASSESSMENT.base,
    "rule": RULE.base,
    "conflict": CONFLICT.base,
    "rdf": RDF.base,
    "rdfs": RDFS.base,
    "owl": OWL.base,
    "xsd": XSD.base,
    "skos": SKOS.base,
    "prov": PROV.base,
    "oa": OA.base,
    "dcterms": DCTERMS.base,
    "time": TIME.base,
}

#: Modalities whose live claims enter the *current view* (the store's default graph) as
#: plain triples: what the source reports as fact. Quoted speech ("the source reports that
#: the speaker said it, not that it is so"), denials, uncertain claims and the author's own
#: analysis go to the attributed view (:data:`ATTRIBUTED_GRAPH`) instead.
FACTUAL_MODALITIES = frozenset({MODALITY.asserted.value})
MODALITIES = frozenset(
    MODALITY[m].value for m in ("asserted", "quoted", "denied", "uncertain", "analysis")
)
STATUSES = frozenset(
    STATUS[s].value
    for s in ("operational", "under-review", "uncertain", "suspended", "withdrawn", "closed")
)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}\Z")  # \Z: "x\n" is no slug


def term_value(term: NamedNode | BlankNode | Literal | Triple) -> str:
    """The IRI, blank node id or lexical form of an RDF term; a triple term has none.

    >>> term_value(GK.Claim), term_value(Literal("7"))
    ('https://w3id.org/geokb/ontology#Claim', '7')
    """
    if isinstance(term, NamedNode | BlankNode | Literal):
        return term.value
    raise TypeError(f"expected an IRI, blank node or literal, not the triple term {term}")


def is_slug(text: str) -> bool:
    """Whether ``text`` is a valid local identifier (lower-case letters, digits, hyphens).

    >>> is_slug("tartus-naval-base"), is_slug("../etc"), is_slug("Tartus")
    (True, False, False)
    """
    return bool(_SLUG.match(text))


def entity_iri(slug: str) -> NamedNode:
    """The IRI of an entity by its slug."""
    return ID[slug]


def expand(curie_or_iri: str) -> str:
    """Expand a ``prefix:local`` name with our prefixes; full IRIs pass through.

    >>> expand("status:uncertain")
    'https://w3id.org/geokb/status/uncertain'
    >>> expand("https://example.org/x")
    'https://example.org/x'

    Raises ``ValueError`` for an unknown prefix.
    """
    if "://" in curie_or_iri or curie_or_iri.startswith("urn:"):
        return curie_or_iri
    prefix, sep, local = curie_or_iri.partition(":")
    if not sep:
        raise ValueError(f"not a prefixed name or IRI: {curie_or_iri!r}")
    if prefix not in PREFIXES:
        raise ValueError(f"unknown prefix {prefix!r} in {curie_or_iri!r}")
    return PREFIXES[prefix] + local


def compact(iri: str) -> str:
    """Shorten an IRI with our prefixes where one fits.

    >>> compact("https://w3id.org/geokb/id/russia")
    'id:russia'
    """
    best = ""
    for prefix, base in PREFIXES.items():
        if iri.startswith(base) and len(base) > len(PREFIXES.get(best, "")):
            best = prefix
    if best:
        local = iri[len(PREFIXES[best]) :]
        if re.fullmatch(r"[A-Za-z0-9_.-]*", local):
            return f"{best}:{local}"
    return iri


# Where ontology/ and shapes/ are found lives in geokb.resources (GEOKB_HOME, an installed
# wheel's package data, or the checkout); these names stay for the callers that import them.
project_root = data_home
