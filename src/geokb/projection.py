"""What each event does to the RDF dataset: pure ``quads_for(event)`` plus the removals a
retraction or supersession needs.

Layout of the dataset (see ``docs/data-model.md``):

* each claim's statement sits alone in the claim's named graph (nanopublication style),
  which is kept for ever;
* the default graph holds the *current view* (the statements of live claims reported as
  fact or quoted speech), and everything about entities, sources, claims (provenance,
  evidence, valid time, lifecycle) and the log's events;
* the graph ``graph/system`` holds the position of the last applied event.

Quads are produced as N-Quads lines: pyoxigraph parses them natively, several times
faster than building term objects in Python, which is what makes replay fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import pyoxigraph as ox
from pyoxigraph import DefaultGraph, NamedNode, Quad

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
    FACTUAL_MODALITIES,
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

_DATATYPE_OF_PRECISION = {"day": XSD.date.value, "month": XSD.gYearMonth.value,
                          "year": XSD.gYear.value}


_NEEDS_ESCAPE = re.compile(r'["\\\n\r]')


def iri(value: str) -> str:
    """An IRI in N-Triples syntax (IRIs are checked when events are admitted)."""
    return f"<{value}>"


def literal(value: str, *, datatype: str | None = None, lang: str | None = None) -> str:
    """A literal in N-Triples syntax.

    >>> literal('say "hi"\\n', lang="en")
    '"say \\\\"hi\\\\"\\\\n"@en'
    """
    text = value
    if _NEEDS_ESCAPE.search(value):
        text = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                .replace("\r", "\\r"))
    if lang:
        return f'"{text}"@{lang}'
    if datatype and datatype != XSD.string.value:
        return f'"{text}"^^<{datatype}>'
    return f'"{text}"'


def _t(node: NamedNode) -> str:
    return f"<{node.value}>"


# Pre-rendered terms of the hot path.
A = _t(RDF.type)
G_LOGEVENT, G_EVENTTYPE, G_POSITION = _t(GK.LogEvent), _t(GK.eventType), _t(GK.position)
G_RECORDEDAT, G_RECORDEDBY = _t(GK.recordedAt), _t(GK.recordedBy)
G_KNOWNFROM, G_KNOWNUNTIL = _t(GK.knownFromPosition), _t(GK.knownUntilPosition)
G_CLAIM, G_MODALITY, G_EVIDENCE, G_ASSERTEDIN = (_t(GK.Claim), _t(GK.modality),
                                                 _t(GK.evidence), _t(GK.assertedIn))
G_SHA, G_SPEAKER, G_VIA, G_STEP, G_STEPCLASS, G_STEPINDEX = (
    _t(GK.sha256), _t(GK.speaker), _t(GK.reportedVia), _t(GK.attributionStep),
    _t(GK.AttributionStep), _t(GK.stepIndex))
R_SUBJECT, R_PREDICATE, R_OBJECT = _t(RDF.subject), _t(RDF.predicate), _t(RDF.object)
P_DERIVED, P_AGENT = _t(PROV.wasDerivedFrom), _t(PROV.agent)
O_SPECIFIC, O_SOURCE, O_SELECTOR = _t(OA.SpecificResource), _t(OA.hasSource), _t(OA.hasSelector)
O_QUOTESEL, O_EXACT, O_PREFIX, O_SUFFIX = (_t(OA.TextQuoteSelector), _t(OA.exact), _t(OA.prefix),
                                           _t(OA.suffix))
O_POSSEL, O_START, O_END = _t(OA.TextPositionSelector), _t(OA.start), _t(OA.end)
X_INTEGER, X_DATETIME = XSD.integer.value, XSD.dateTime.value


def integer(n: int) -> str:
    return f'"{n}"^^<{X_INTEGER}>'


def object_term(obj: dict[str, str]) -> str:
    """The N-Triples term of a payload's ``object``."""
    if "iri" in obj:
        return iri(obj["iri"])
    return literal(obj["value"], datatype=obj.get("datatype"), lang=obj.get("lang"))


def statement_of(payload: dict[str, Any]) -> tuple[str, str, str]:
    return iri(payload["subject"]), iri(payload["predicate"]), object_term(payload["object"])


_PRECISION_TERM = {p: _t(PRECISION[p]) for p in ("day", "month", "year")}
_X_DATE = XSD.date.value


def _date_lines(node: str, value: str | None, lexical: NamedNode, precision: NamedNode,
                bound: NamedNode, *, latest: bool) -> list[str]:
    if value is None:
        return []
    first, last, prec = date_bounds(value)
    day = last if latest else first
    return [
        f"{node} {_t(lexical)} {literal(value, datatype=_DATATYPE_OF_PRECISION[prec])} .",
        f"{node} {_t(precision)} {_PRECISION_TERM[prec]} .",
        f"{node} {_t(bound)} {literal(day.isoformat(), datatype=_X_DATE)} .",
    ]


def quads_for(event: RecordedEvent) -> list[str]:
    """The quads ``event`` adds, as N-Quads lines (pure: depends on the event alone).

    >>> from geokb.events import RecordedEvent
    >>> e = RecordedEvent(id="e1", type="ClaimRetracted", schema=1, position=3,
    ...     recorded_at="2026-01-01T00:00:00.000000Z", recorded_by="ana",
    ...     payload={"claim": "https://w3id.org/geokb/claim/c1", "reason": "wrong"},
    ...     prev="0" * 64, hash="1" * 64)
    >>> len(quads_for(e))  # 5 about the log event, 3 about the retraction
    8
    """
    ev = iri(EVENT.base + event.id)
    p = event.payload
    pos = integer(event.position)
    lines = [
        f"{ev} {A} {G_LOGEVENT} .",
        f"{ev} {G_EVENTTYPE} {literal(event.type)} .",
        f"{ev} {G_POSITION} {pos} .",
        f"{ev} {G_RECORDEDAT} {literal(event.recorded_at, datatype=X_DATETIME)} .",
        f"{ev} {G_RECORDEDBY} {literal(event.recorded_by)} .",
    ]
    if event.type == CLAIM_ASSERTED:
        lines += _claim_lines(p, ev, pos)
    elif event.type == SOURCE_REGISTERED:
        src = iri(p["source"])
        lines += [
            f"{src} {A} {_t(GK.Source)} .",
            f"{src} {_t(DCTERMS.title)} {literal(p['title'])} .",
            f"{src} {G_SHA} {literal(p['sha256'])} .",
            f"{src} {_t(GK.registeredIn)} {ev} .",
            f"{src} {G_KNOWNFROM} {pos} .",
        ]
        if p.get("publisher"):
            lines.append(f"{src} {_t(DCTERMS.publisher)} {iri(p['publisher'])} .")
        if p.get("url"):
            lines.append(f"{src} {_t(GK.url)} {literal(p['url'], datatype=XSD.anyURI.value)} .")
        if p.get("published"):
            lines += _date_lines(src, p["published"], DCTERMS.issued, GK.publicationPrecision,
                                 GK.publishedStart, latest=False)
        else:
            lines.append(f"{src} {_t(GK.publicationPrecision)} {_t(PRECISION.unknown)} .")
        for key, pred in (("language", DCTERMS.language), ("media_type", DCTERMS.format),
                          ("description", DCTERMS.description), ("byline", GK.byline),
                          ("section", GK.section)):
            if p.get(key):
                lines.append(f"{src} {_t(pred)} {literal(p[key])} .")
    elif event.type == ENTITY_DECLARED:
        ent = iri(p["entity"])
        lines += [f"{ent} {A} {iri(t)} ." for t in p["types"]]
        lines += [
            f"{ent} {_t(RDFS.label)} {literal(p['label'], lang='en')} .",
            f"{ent} {_t(GK.declaredIn)} {ev} .",
            f"{ent} {G_KNOWNFROM} {pos} .",
        ]
        lines += [f"{ent} {_t(SKOS.altLabel)} {literal(a, lang='en')} ."
                  for a in p.get("aliases", [])]
        lines += [f"{ent} {_t(OWL.sameAs)} {iri(s)} ." for s in p.get("same_as", [])]
        if p.get("description"):
            lines.append(f"{ent} {_t(DCTERMS.description)} {literal(p['description'])} .")
    elif event.type == CLAIM_RETRACTED:
        claim = iri(p["claim"])
        lines += [
            f"{claim} {_t(GK.retractedIn)} {ev} .",
            f"{claim} {_t(GK.retractionReason)} {literal(p['reason'])} .",
            f"{claim} {G_KNOWNUNTIL} {pos} .",
        ]
    elif event.type == CLAIM_SUPERSEDED:
        claim = iri(p["claim"])
        lines += [
            f"{claim} {_t(GK.supersededBy)} {iri(p['by'])} .",
            f"{claim} {_t(GK.supersededIn)} {ev} .",
            f"{claim} {_t(GK.supersessionReason)} {literal(p['reason'])} .",
            f"{claim} {G_KNOWNUNTIL} {pos} .",
        ]
    return lines


def _claim_lines(p: dict[str, Any], ev: str, pos: str) -> list[str]:
    c = p["claim"]
    claim, evidence, quote, span = iri(c), iri(c + "#evidence"), iri(c + "#quote"), \
        iri(c + "#position")
    s, pred, o = statement_of(p)
    src = iri(p["source"])
    e = p["evidence"]
    lines = [
        f"{s} {pred} {o} {claim} .",
        f"{claim} {A} {G_CLAIM} .",
        f"{claim} {R_SUBJECT} {s} .",
        f"{claim} {R_PREDICATE} {pred} .",
        f"{claim} {R_OBJECT} {o} .",
        f"{claim} {G_MODALITY} {iri(p['modality'])} .",
        f"{claim} {P_DERIVED} {src} .",
        f"{claim} {G_EVIDENCE} {evidence} .",
        f"{claim} {G_ASSERTEDIN} {ev} .",
        f"{claim} {G_KNOWNFROM} {pos} .",
        f"{evidence} {A} {O_SPECIFIC} .",
        f"{evidence} {O_SOURCE} {src} .",
        f"{evidence} {G_SHA} {literal(e['sha256'])} .",
        f"{evidence} {O_SELECTOR} {quote} .",
        f"{evidence} {O_SELECTOR} {span} .",
        f"{quote} {A} {O_QUOTESEL} .",
        f"{quote} {O_EXACT} {literal(e['quote'])} .",
        f"{quote} {O_PREFIX} {literal(e['prefix'])} .",
        f"{quote} {O_SUFFIX} {literal(e['suffix'])} .",
        f"{span} {A} {O_POSSEL} .",
        f"{span} {O_START} {integer(e['start'])} .",
        f"{span} {O_END} {integer(e['end'])} .",
    ]
    if p["modality"] in FACTUAL_MODALITIES:
        lines.append(f"{s} {pred} {o} .")
    if p.get("speaker"):
        lines.append(f"{claim} {G_SPEAKER} {iri(p['speaker'])} .")
    for index, outlet in enumerate(p.get("reported_via", []), start=1):
        step = iri(f"{c}#via-{index}")
        agent = iri(outlet)
        lines += [
            f"{claim} {G_VIA} {agent} .",
            f"{claim} {G_STEP} {step} .",
            f"{step} {A} {G_STEPCLASS} .",
            f"{step} {G_STEPINDEX} {integer(index)} .",
            f"{step} {P_AGENT} {agent} .",
        ]
    lines += _date_lines(claim, p.get("valid_from"), GK.validFrom, GK.validFromPrecision,
                         GK.validStart, latest=False)
    lines += _date_lines(claim, p.get("valid_until"), GK.validUntil, GK.validUntilPrecision,
                         GK.validEnd, latest=True)
    if p.get("confidence") is not None:
        lines.append(f"{claim} {_t(GK.confidence)} "
                     f"{literal(p['confidence'], datatype=XSD.decimal.value)} .")
    if p.get("note"):
        lines.append(f"{claim} {_t(RDFS.comment)} {literal(p['note'])} .")
    return lines


def parse_lines(lines: Sequence[str]) -> list[Quad]:
    """N-Quads lines as pyoxigraph quads."""
    if not lines:
        return []
    data = ("\n".join(lines) + "\n").encode("utf-8")
    return list(ox.parse(data, format=ox.RdfFormat.N_QUADS))


def needs_state(event: RecordedEvent) -> bool:
    """Whether applying ``event`` must read the store (it removes quads)."""
    return event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED, GRAPH_UPDATED)


def marker_line(position: int, digest: str) -> str:
    return f"{_t(SYSTEM_NODE)} {_t(APPLIED)} {literal(f'{position} {digest}')} {_t(SYSTEM_GRAPH)} ."


def parse_marker(quads: Iterable[Quad]) -> tuple[int, str]:
    best = (0, "")
    for q in quads:
        pos_text, _, digest = term_value(q.object).partition(" ")
        best = max(best, (int(pos_text), digest))
    return best
