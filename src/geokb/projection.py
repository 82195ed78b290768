"""What each event does to the RDF dataset: pure ``quads_for(event)`` plus the removals a
retraction or supersession needs.

Layout of the dataset (see ``docs/data-model.md``):

* each claim's statement sits alone in the claim's named graph (nanopublication style),
  which is kept for ever;
* the default graph holds the *current view* (the statements of live claims reported as
  fact or quoted speech), and everything about entities, sources, claims (provenance,
  evidence, valid time, lifecycle) and the log's events;
* the graph ``graph/system`` holds the position of the last applied event.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad

from .codec import date_bounds
from .events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    ENTITY_DECLARED,
    GRAPH_UPDATED,
    SOURCE_REGISTERED,
    RecordedEvent,
)
from .vocab import (
    DCTERMS,
    EVENT,
    GK,
    GRAPH,
    OA,
    OWL,
    PRECISION,
    PROV,
    RDF,
    RDFS,
    SKOS,
    XSD,
    term_value,
)

DEFAULT = DefaultGraph()
SYSTEM_GRAPH = GRAPH.system
SYSTEM_NODE = GRAPH.system
APPLIED = GK.appliedHead

_DATATYPE_OF_PRECISION = {"day": XSD.date, "month": XSD.gYearMonth, "year": XSD.gYear}


def event_iri(event: RecordedEvent) -> NamedNode:
    return EVENT[event.id]


def integer(n: int) -> Literal:
    return Literal(str(n), datatype=XSD.integer)


def object_term(obj: dict[str, str]) -> NamedNode | Literal:
    """The RDF term of a payload's ``object``."""
    if "iri" in obj:
        return NamedNode(obj["iri"])
    if "lang" in obj:
        return Literal(obj["value"], language=obj["lang"])
    if "datatype" in obj:
        return Literal(obj["value"], datatype=NamedNode(obj["datatype"]))
    return Literal(obj["value"])


def statement_of(payload: dict[str, object]) -> tuple[NamedNode, NamedNode, NamedNode | Literal]:
    obj = payload["object"]
    assert isinstance(obj, dict)
    return (NamedNode(str(payload["subject"])), NamedNode(str(payload["predicate"])),
            object_term(obj))


def _date_quads(node: NamedNode, value: str | None, lexical: NamedNode, precision: NamedNode,
                bound: NamedNode, *, latest: bool) -> list[Quad]:
    if value is None:
        return []
    first, last, prec = date_bounds(value)
    day = last if latest else first
    return [
        Quad(node, lexical, Literal(value, datatype=_DATATYPE_OF_PRECISION[prec]), DEFAULT),
        Quad(node, precision, PRECISION[prec], DEFAULT),
        Quad(node, bound, Literal(day.isoformat(), datatype=XSD.date), DEFAULT),
    ]


def quads_for(event: RecordedEvent) -> list[Quad]:
    """The quads ``event`` adds (pure: depends on the event alone).

    >>> from geokb.events import RecordedEvent
    >>> e = RecordedEvent(id="e1", type="ClaimRetracted", schema=1, position=3,
    ...     recorded_at="2026-01-01T00:00:00.000000Z", recorded_by="ana",
    ...     payload={"claim": "https://w3id.org/geokb/claim/c1", "reason": "wrong"},
    ...     prev="0" * 64, hash="1" * 64)
    >>> len(quads_for(e))  # 5 about the log event, 3 about the retraction
    8
    """
    ev = event_iri(event)
    p = event.payload
    quads = [
        Quad(ev, RDF.type, GK.LogEvent, DEFAULT),
        Quad(ev, GK.eventType, Literal(event.type), DEFAULT),
        Quad(ev, GK.position, integer(event.position), DEFAULT),
        Quad(ev, GK.recordedAt, Literal(event.recorded_at, datatype=XSD.dateTime), DEFAULT),
        Quad(ev, GK.recordedBy, Literal(event.recorded_by), DEFAULT),
    ]
    pos = integer(event.position)
    if event.type == SOURCE_REGISTERED:
        src = NamedNode(p["source"])
        quads += [
            Quad(src, RDF.type, GK.Source, DEFAULT),
            Quad(src, DCTERMS.title, Literal(p["title"]), DEFAULT),
            Quad(src, GK.sha256, Literal(p["sha256"]), DEFAULT),
            Quad(src, GK.registeredIn, ev, DEFAULT),
            Quad(src, GK.knownFromPosition, pos, DEFAULT),
        ]
        if p.get("publisher"):
            quads.append(Quad(src, DCTERMS.publisher, NamedNode(p["publisher"]), DEFAULT))
        if p.get("url"):
            quads.append(Quad(src, GK.url, Literal(p["url"], datatype=XSD.anyURI), DEFAULT))
        if p.get("published"):
            quads += _date_quads(src, p["published"], DCTERMS.issued, GK.publicationPrecision,
                                 GK.publishedStart, latest=False)
        else:
            quads.append(Quad(src, GK.publicationPrecision, PRECISION.unknown, DEFAULT))
        for key, pred in (("language", DCTERMS.language), ("media_type", DCTERMS.format),
                          ("description", DCTERMS.description), ("byline", GK.byline),
                          ("section", GK.section)):
            if p.get(key):
                quads.append(Quad(src, pred, Literal(p[key]), DEFAULT))
    elif event.type == ENTITY_DECLARED:
        ent = NamedNode(p["entity"])
        quads += [Quad(ent, RDF.type, NamedNode(t), DEFAULT) for t in p["types"]]
        quads += [
            Quad(ent, RDFS.label, Literal(p["label"], language="en"), DEFAULT),
            Quad(ent, GK.declaredIn, ev, DEFAULT),
            Quad(ent, GK.knownFromPosition, pos, DEFAULT),
        ]
        quads += [Quad(ent, SKOS.altLabel, Literal(a, language="en"), DEFAULT)
                  for a in p.get("aliases", [])]
        quads += [Quad(ent, OWL.sameAs, NamedNode(s), DEFAULT) for s in p.get("same_as", [])]
        if p.get("description"):
            quads.append(Quad(ent, DCTERMS.description, Literal(p["description"]), DEFAULT))
    elif event.type == CLAIM_ASSERTED:
        quads += _claim_quads(event, ev, pos)
    elif event.type == CLAIM_RETRACTED:
        claim = NamedNode(p["claim"])
        quads += [
            Quad(claim, GK.retractedIn, ev, DEFAULT),
            Quad(claim, GK.retractionReason, Literal(p["reason"]), DEFAULT),
            Quad(claim, GK.knownUntilPosition, pos, DEFAULT),
        ]
    elif event.type == CLAIM_SUPERSEDED:
        claim = NamedNode(p["claim"])
        quads += [
            Quad(claim, GK.supersededBy, NamedNode(p["by"]), DEFAULT),
            Quad(claim, GK.supersededIn, ev, DEFAULT),
            Quad(claim, GK.supersessionReason, Literal(p["reason"]), DEFAULT),
            Quad(claim, GK.knownUntilPosition, pos, DEFAULT),
        ]
    return quads


def _claim_quads(event: RecordedEvent, ev: NamedNode, pos: Literal) -> list[Quad]:
    from .vocab import FACTUAL_MODALITIES

    p = event.payload
    claim = NamedNode(p["claim"])
    s, pred, o = statement_of(p)
    src = NamedNode(p["source"])
    evidence = NamedNode(p["claim"] + "#evidence")
    quote = NamedNode(p["claim"] + "#quote")
    span = NamedNode(p["claim"] + "#position")
    e = p["evidence"]
    quads = [
        Quad(s, pred, o, claim),
        Quad(claim, RDF.type, GK.Claim, DEFAULT),
        Quad(claim, RDF.subject, s, DEFAULT),
        Quad(claim, RDF.predicate, pred, DEFAULT),
        Quad(claim, RDF.object, o, DEFAULT),
        Quad(claim, GK.modality, NamedNode(p["modality"]), DEFAULT),
        Quad(claim, PROV.wasDerivedFrom, src, DEFAULT),
        Quad(claim, GK.evidence, evidence, DEFAULT),
        Quad(claim, GK.assertedIn, ev, DEFAULT),
        Quad(claim, GK.knownFromPosition, pos, DEFAULT),
        Quad(evidence, RDF.type, OA.SpecificResource, DEFAULT),
        Quad(evidence, OA.hasSource, src, DEFAULT),
        Quad(evidence, GK.sha256, Literal(e["sha256"]), DEFAULT),
        Quad(evidence, OA.hasSelector, quote, DEFAULT),
        Quad(evidence, OA.hasSelector, span, DEFAULT),
        Quad(quote, RDF.type, OA.TextQuoteSelector, DEFAULT),
        Quad(quote, OA.exact, Literal(e["quote"]), DEFAULT),
        Quad(quote, OA.prefix, Literal(e["prefix"]), DEFAULT),
        Quad(quote, OA.suffix, Literal(e["suffix"]), DEFAULT),
        Quad(span, RDF.type, OA.TextPositionSelector, DEFAULT),
        Quad(span, OA.start, Literal(str(e["start"]), datatype=XSD.integer), DEFAULT),
        Quad(span, OA.end, Literal(str(e["end"]), datatype=XSD.integer), DEFAULT),
    ]
    if p["modality"] in FACTUAL_MODALITIES:
        quads.append(Quad(s, pred, o, DEFAULT))
    if p.get("speaker"):
        quads.append(Quad(claim, GK.speaker, NamedNode(p["speaker"]), DEFAULT))
    for index, outlet in enumerate(p.get("reported_via", []), start=1):
        step = NamedNode(f"{p['claim']}#via-{index}")
        quads += [
            Quad(claim, GK.reportedVia, NamedNode(outlet), DEFAULT),
            Quad(claim, GK.attributionStep, step, DEFAULT),
            Quad(step, RDF.type, GK.AttributionStep, DEFAULT),
            Quad(step, GK.stepIndex, integer(index), DEFAULT),
            Quad(step, PROV.agent, NamedNode(outlet), DEFAULT),
        ]
    quads += _date_quads(claim, p.get("valid_from"), GK.validFrom, GK.validFromPrecision,
                         GK.validStart, latest=False)
    quads += _date_quads(claim, p.get("valid_until"), GK.validUntil, GK.validUntilPrecision,
                         GK.validEnd, latest=True)
    if p.get("confidence") is not None:
        quads.append(Quad(claim, GK.confidence, Literal(p["confidence"], datatype=XSD.decimal),
                          DEFAULT))
    if p.get("note"):
        quads.append(Quad(claim, RDFS.comment, Literal(p["note"]), DEFAULT))
    return quads


def needs_state(event: RecordedEvent) -> bool:
    """Whether applying ``event`` must read the store (it removes quads)."""
    return event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED, GRAPH_UPDATED)


def marker_quad(position: int, digest: str) -> Quad:
    return Quad(SYSTEM_NODE, APPLIED, Literal(f"{position} {digest}"), SYSTEM_GRAPH)


def parse_marker(quads: Iterable[Quad]) -> tuple[int, str]:
    best = (0, "")
    for q in quads:
        pos_text, _, digest = term_value(q.object).partition(" ")
        best = max(best, (int(pos_text), digest))
    return best
