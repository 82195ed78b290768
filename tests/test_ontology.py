"""The ontology in ``ontology/geokb.ttl``: it parses, documents every term, declares the
vocabulary plan (``docs/vocabulary-plan.md``), and is consistent under OWL 2 RL (owlrl).
"""

from __future__ import annotations

from pathlib import Path

import owlrl
import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, SKOS, Literal, URIRef

ONTOLOGY = Path(__file__).resolve().parents[1] / "ontology" / "geokb.ttl"
GK = rdflib.Namespace("https://w3id.org/geokb/ontology#")
ID = rdflib.Namespace("https://w3id.org/geokb/id/")
#: owlrl reports inconsistencies as resources typed ``err:ErrorMessage`` with ``err:error``.
ERR = rdflib.Namespace("http://www.daml.org/2002/03/agents/agent-ont#")

WORLD_CLASSES = (
    "Agent", "Person", "Organization", "State", "Government", "NewsOutlet", "Commission",
    "GeopoliticalBloc", "Office", "Place", "City", "Region", "MilitaryFacility", "NavalBase",
    "Airfield", "Agreement", "Contract", "WorldEvent", "Visit", "PressConference",
    "RemovalFromPower", "MilitaryIntervention", "MilitaryCampaign", "ArmedConflict", "Review",
    "Reconstruction",
)
RECORD_CLASSES = ("Source", "Claim", "AttributionStep", "LogEvent", "StatementProperty")

OBJECT_STATEMENT_PROPERTIES = (
    "status", "holdsOffice", "officeOf", "participant", "place", "partOf", "affects",
    "firstSince", "announcedBy", "concerns", "overseenBy", "notDiscussedAt", "operatedBy",
    "locatedIn", "supports", "backedBy", "maintainsRelationsWith", "seeksPartnershipWith",
    "praised", "balancesBetween",
)
LITERAL_STATEMENT_PROPERTIES = ("assessment", "needs", "purpose", "role", "seeksRole")

RECORD_PROPERTIES = (
    "modality", "evidence", "sha256", "speaker", "reportedVia", "attributionStep", "stepIndex",
    "validFrom", "validUntil", "validFromPrecision", "validUntilPrecision", "validStart",
    "validEnd", "confidence", "assertedIn", "knownFromPosition", "knownUntilPosition",
    "retractedIn", "retractionReason", "supersededBy", "supersededIn", "supersessionReason",
    "url", "publicationPrecision", "publishedStart", "byline", "section", "registeredIn",
    "declaredIn", "eventType", "position", "recordedAt", "recordedBy", "appliedHead",
)

SCHEMES = {
    "StatusScheme": ("https://w3id.org/geokb/status/",
                     ("operational", "under-review", "uncertain", "suspended", "withdrawn",
                      "closed")),
    "ModalityScheme": ("https://w3id.org/geokb/modality/",
                       ("asserted", "quoted", "denied", "uncertain", "analysis")),
    "PrecisionScheme": ("https://w3id.org/geokb/precision/",
                        ("day", "month", "year", "unknown")),
}

TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
              RDF.Property, GK.StatementProperty)


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(ONTOLOGY, format="turtle")
    return graph


def inconsistencies(graph: rdflib.Graph) -> list[str]:
    """What owlrl finds wrong in the OWL 2 RL closure of a copy of ``graph``."""
    closure = rdflib.Graph()
    for triple in graph:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    problems = [f"{s} is typed owl:Nothing" for s in closure.subjects(RDF.type, OWL.Nothing)]
    problems += [str(closure.value(m, ERR.error))
                 for m in closure.subjects(RDF.type, ERR.ErrorMessage)]
    return sorted(problems)


def gk_terms(graph: rdflib.Graph) -> set[URIRef]:
    return {s for t in TERM_TYPES for s in graph.subjects(RDF.type, t)
            if isinstance(s, URIRef) and str(s).startswith(str(GK))}


def english(graph: rdflib.Graph, subject: URIRef, predicate: URIRef) -> list[Literal]:
    return [o for o in graph.objects(subject, predicate)
            if isinstance(o, Literal) and o.language == "en" and str(o).strip()]


def test_parses_and_declares_the_ontology(ontology: rdflib.Graph) -> None:
    assert (URIRef("https://w3id.org/geokb/ontology"), RDF.type, OWL.Ontology) in ontology


def test_every_gk_term_has_an_english_label_and_comment(ontology: rdflib.Graph) -> None:
    terms = gk_terms(ontology)
    assert len(terms) >= len(WORLD_CLASSES) + len(RECORD_CLASSES) + len(RECORD_PROPERTIES)
    missing = sorted(str(t) for t in terms
                     if not english(ontology, t, RDFS.label)
                     or not english(ontology, t, RDFS.comment))
    assert missing == []


@pytest.mark.parametrize("name", WORLD_CLASSES + RECORD_CLASSES)
def test_plan_class_is_declared(ontology: rdflib.Graph, name: str) -> None:
    assert (GK[name], RDF.type, OWL.Class) in ontology


@pytest.mark.parametrize("name", OBJECT_STATEMENT_PROPERTIES + LITERAL_STATEMENT_PROPERTIES)
def test_plan_statement_property_is_typed(ontology: rdflib.Graph, name: str) -> None:
    prop = GK[name]
    assert (prop, RDF.type, GK.StatementProperty) in ontology
    kind = OWL.DatatypeProperty if name in LITERAL_STATEMENT_PROPERTIES else OWL.ObjectProperty
    assert set(ontology.objects(prop, RDF.type)) == {GK.StatementProperty, kind}
    # Domain and range are documented, not axioms: quoted claims must not entail types.
    assert ontology.value(prop, RDFS.domain) is None
    assert ontology.value(prop, RDFS.range) is None


def test_only_plan_properties_are_statement_properties(ontology: rdflib.Graph) -> None:
    declared = {str(p)[len(str(GK)):] for p in ontology.subjects(RDF.type, GK.StatementProperty)}
    assert declared == set(OBJECT_STATEMENT_PROPERTIES + LITERAL_STATEMENT_PROPERTIES)


@pytest.mark.parametrize("name", RECORD_PROPERTIES)
def test_plan_record_property_is_declared(ontology: rdflib.Graph, name: str) -> None:
    types = set(ontology.objects(GK[name], RDF.type))
    assert types & {OWL.ObjectProperty, OWL.DatatypeProperty}
    assert GK.StatementProperty not in types


def test_owl_rl_closure_is_consistent(ontology: rdflib.Graph) -> None:
    assert inconsistencies(ontology) == []


def test_owl_rl_check_does_detect_a_curation_error(ontology: rdflib.Graph) -> None:
    """The check above is not vacuous: one entity typed as a person and a city is caught."""
    bad = rdflib.Graph()
    for triple in ontology:
        bad.add(triple)
    bad.add((ID.x, RDF.type, GK.Person))
    bad.add((ID.x, RDF.type, GK.City))
    assert any("Disjoint classes" in p for p in inconsistencies(bad))


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_concept_scheme_holds_its_concepts(ontology: rdflib.Graph, scheme: str) -> None:
    base, names = SCHEMES[scheme]
    node = GK[scheme]
    assert (node, RDF.type, SKOS.ConceptScheme) in ontology
    concepts = {URIRef(base + n) for n in names}
    assert set(ontology.objects(node, SKOS.hasTopConcept)) == concepts
    assert set(ontology.subjects(SKOS.inScheme, node)) == concepts
    for concept in concepts:
        assert (concept, RDF.type, SKOS.Concept) in ontology
        assert english(ontology, concept, SKOS.prefLabel), concept
        assert english(ontology, concept, SKOS.definition), concept


def test_analysis_and_quoted_modalities_say_what_they_mean(ontology: rdflib.Graph) -> None:
    analysis = str(ontology.value(URIRef(SCHEMES["ModalityScheme"][0] + "analysis"),
                                  SKOS.definition))
    quoted = str(ontology.value(URIRef(SCHEMES["ModalityScheme"][0] + "quoted"),
                                SKOS.definition))
    assert "analysis or opinion" in analysis and "reported fact" in analysis
    assert "speaker" in quoted and "direct or indirect" in quoted
