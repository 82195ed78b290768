"""What each event does to the RDF dataset: pure ``quads_for(event)`` plus the removals a
retraction or supersession needs.

Layout of the dataset (see ``docs/data-model.md``):

* each claim's statement sits alone in the claim's named graph (nanopublication style),
  which is kept for ever;
* the default graph holds the *current view* (the statements of live claims reported as
  fact or quoted speech), and everything about entities, sources, claims (provenance,
  evidence, valid time, lifecycle) and the log's events;
* the graph ``graph/system`` holds the position of the last applied event (and, for a
  moment, the note of a batch's removals: see :mod:`geokb.projection.batch`).

Quads are produced as N-Quads lines: pyoxigraph parses them natively, several times
faster than building term objects in Python, which is what makes replay fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import pyoxigraph as ox
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad

from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    ENTITY_DECLARED,
    GRAPH_UPDATED,
    SOURCE_REGISTERED,
    SOURCE_RETRACTED,
    RecordedEvent,
)
from geokb.log.schemas import date_bounds
from geokb.vocab import (
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
REDO = GK.pendingRemovals

_DATATYPE_OF_PRECISION = {"day": XSD.date.value, "month": XSD.gYearMonth.value,
                          "year": XSD.gYear.value}


_NEEDS_ESCAPE = re.compile(r'["\\\n\r]')
_X_STRING = XSD.string.value


def iri(value: str) -> str:
    """An IRI in N-Triples syntax (IRIs are checked when events are admitted)."""
    return f"<{value}>"


def literal(value: str, *, datatype: str | None = None, lang: str | None = None) -> str:
    """A literal in N-Triples syntax; the language tag in lower case, as pyoxigraph keeps
    it (so that equal terms give equal lines).

    >>> literal('say "hi"\\n', lang="en-GB")
    '"say \\\\"hi\\\\"\\\\n"@en-gb'
    """
    text = value
    if _NEEDS_ESCAPE.search(value):
        text = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                .replace("\r", "\\r"))
    if lang:
        return f'"{text}"@{lang.lower()}'
    if datatype and datatype != _X_STRING:
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
X_INTEGER, X_DATETIME, X_DECIMAL = XSD.integer.value, XSD.dateTime.value, XSD.decimal.value
G_CONFIDENCE, R_COMMENT = _t(GK.confidence), _t(RDFS.comment)
_VALID_FROM = _t(GK.validFrom), _t(GK.validFromPrecision), _t(GK.validStart)
_VALID_UNTIL = _t(GK.validUntil), _t(GK.validUntilPrecision), _t(GK.validEnd)
_PUBLISHED = _t(DCTERMS.issued), _t(GK.publicationPrecision), _t(GK.publishedStart)
G_SOURCE, D_TITLE, G_REGISTEREDIN = _t(GK.Source), _t(DCTERMS.title), _t(GK.registeredIn)
D_PUBLISHER, G_URL, X_ANYURI = _t(DCTERMS.publisher), _t(GK.url), XSD.anyURI.value
G_PUBPRECISION, P_UNKNOWN = _t(GK.publicationPrecision), _t(PRECISION.unknown)
_SOURCE_TEXTS = tuple((key, _t(pred)) for key, pred in (
    ("language", DCTERMS.language), ("media_type", DCTERMS.format),
    ("description", DCTERMS.description), ("byline", GK.byline), ("section", GK.section)))
R_LABEL, G_DECLAREDIN, S_ALTLABEL = _t(RDFS.label), _t(GK.declaredIn), _t(SKOS.altLabel)
O_SAMEAS, D_DESCRIPTION = _t(OWL.sameAs), _t(DCTERMS.description)
G_RETRACTEDIN, G_RETRACTIONREASON = _t(GK.retractedIn), _t(GK.retractionReason)
G_SUPERSEDEDBY, G_SUPERSEDEDIN = _t(GK.supersededBy), _t(GK.supersededIn)
G_SUPERSESSIONREASON = _t(GK.supersessionReason)


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


def _date_lines(node: str, value: str | None, predicates: tuple[str, str, str], *,
                latest: bool) -> list[str]:
    """The lexical date, its precision and its earliest (or latest) day; ``predicates``
    in that order, rendered."""
    if value is None:
        return []
    lexical, precision, bound = predicates
    first, last, prec = date_bounds(value)
    day = last if latest else first
    return [
        f"{node} {lexical} {literal(value, datatype=_DATATYPE_OF_PRECISION[prec])} .",
        f"{node} {precision} {_PRECISION_TERM[prec]} .",
        f"{node} {bound} {literal(day.isoformat(), datatype=_X_DATE)} .",
    ]


def quads_for(event: RecordedEvent) -> list[str]:
    """The quads ``event`` adds, as N-Quads lines (pure: depends on the event alone).

    >>> from geokb.log.events import RecordedEvent
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
            f"{src} {A} {G_SOURCE} .",
            f"{src} {D_TITLE} {literal(p['title'])} .",
            f"{src} {G_SHA} {literal(p['sha256'])} .",
            f"{src} {G_REGISTEREDIN} {ev} .",
            f"{src} {G_KNOWNFROM} {pos} .",
        ]
        if p.get("publisher"):
            lines.append(f"{src} {D_PUBLISHER} {iri(p['publisher'])} .")
        if p.get("url"):
            lines.append(f"{src} {G_URL} {literal(p['url'], datatype=X_ANYURI)} .")
        if p.get("published"):
            lines += _date_lines(src, p["published"], _PUBLISHED, latest=False)
        else:
            lines.append(f"{src} {G_PUBPRECISION} {P_UNKNOWN} .")
        for key, pred in _SOURCE_TEXTS:
            if p.get(key):
                lines.append(f"{src} {pred} {literal(p[key])} .")
    elif event.type == ENTITY_DECLARED:
        ent = iri(p["entity"])
        lines += [f"{ent} {A} {iri(t)} ." for t in p["types"]]
        lines += [
            f"{ent} {R_LABEL} {literal(p['label'], lang='en')} .",
            f"{ent} {G_DECLAREDIN} {ev} .",
            f"{ent} {G_KNOWNFROM} {pos} .",
        ]
        lines += [f"{ent} {S_ALTLABEL} {literal(a, lang='en')} ." for a in p.get("aliases", [])]
        lines += [f"{ent} {O_SAMEAS} {iri(s)} ." for s in p.get("same_as", [])]
        if p.get("description"):
            lines.append(f"{ent} {D_DESCRIPTION} {literal(p['description'])} .")
    elif event.type == SOURCE_RETRACTED:  # plan a.5 (bridge until projection layout 2)
        src = iri(p["source"])
        lines += [
            f"{src} {G_RETRACTEDIN} {ev} .",
            f"{src} {G_RETRACTIONREASON} {literal(p['reason'])} .",
            f"{src} {G_KNOWNUNTIL} {pos} .",
        ]
    elif event.type == CLAIM_RETRACTED:
        claim = iri(p["claim"])
        lines += [
            f"{claim} {G_RETRACTEDIN} {ev} .",
            f"{claim} {G_RETRACTIONREASON} {literal(p['reason'])} .",
            f"{claim} {G_KNOWNUNTIL} {pos} .",
        ]
    elif event.type == CLAIM_SUPERSEDED:
        claim = iri(p["claim"])
        lines += [
            f"{claim} {G_SUPERSEDEDBY} {iri(p['by'])} .",
            f"{claim} {G_SUPERSEDEDIN} {ev} .",
            f"{claim} {G_SUPERSESSIONREASON} {literal(p['reason'])} .",
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
    for named in (s for s in p.get("speakers") or [] if "entity" in s):  # schema 2 (bridge
        lines.append(f"{claim} {G_SPEAKER} {iri(named['entity'])} .")  # until layout 2)
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
    if p.get("valid_from") is not None:
        lines += _date_lines(claim, p["valid_from"], _VALID_FROM, latest=False)
    if p.get("valid_until") is not None:
        lines += _date_lines(claim, p["valid_until"], _VALID_UNTIL, latest=True)
    if p.get("confidence") is not None:
        lines.append(f"{claim} {G_CONFIDENCE} {literal(p['confidence'], datatype=X_DECIMAL)} .")
    if p.get("note"):
        lines.append(f"{claim} {R_COMMENT} {literal(p['note'])} .")
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


def note_line(removed: Sequence[str]) -> str:
    """The note, loaded with a batch, of the current-view triples (N-Triples lines) that
    the batch removes next (see :mod:`geokb.projection.batch`)."""
    return (f"{_t(SYSTEM_NODE)} {_t(REDO)} {literal(chr(10).join(removed))} "
            f"{_t(SYSTEM_GRAPH)} .")


def marker_quad(position: int, digest: str) -> Quad:
    """The quad of :func:`marker_line`, to remove a marker by value.

    >>> marker_quad(3, "ab") == parse_lines([marker_line(3, "ab")])[0]
    True
    """
    return Quad(SYSTEM_NODE, APPLIED, Literal(f"{position} {digest}"), SYSTEM_GRAPH)


def parse_marker(quads: Iterable[Quad]) -> tuple[int, str]:
    best = (0, "")
    for q in quads:
        pos_text, _, digest = term_value(q.object).partition(" ")
        best = max(best, (int(pos_text), digest))
    return best
