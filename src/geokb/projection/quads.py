"""What each event does to the RDF dataset: pure ``quads_for(event)`` plus the removals a
retraction or supersession needs.

Size: the table of docs/belief-model-plan.md a.5 (every event type, every payload field,
its quads and its graph) is one job and reads best whole; its terms are pre-rendered here
for the replay's hot path. Which graph a line goes to is :mod:`geokb.projection.graphs`.

Layout of the dataset ("projection layout 2", see ``docs/data-model.md``, "The views"):

* each claim's statement sits alone in the claim's named graph (nanopublication style),
  which is kept for ever;
* the default graph is the *current view*: the plain statements of live claims reported
  as fact (modality ``asserted``), and the records: everything about entities, sources and
  claims (provenance, evidence, speakers, times, grades, links, lifecycle);
* ``graph/attributed`` holds the plain statements of live quoted, denied, uncertain and
  analysis claims: what someone said, not what the source reports as so;
* ``graph/system`` holds every log event's own quads, the position of the last applied
  event (and, for a moment, the note of a batch's removals: see
  :mod:`geokb.projection.batch`);
* ``graph/conflicts`` holds the conflicts :mod:`geokb.projection.conflicts` derives.

An empty KB has an empty default graph.

Quads are produced as N-Quads lines: pyoxigraph parses them natively, several times
faster than building term objects in Python, which is what makes replay fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode, Quad

from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    CLAIMS_LINKED,
    ENTITY_AMENDED,
    ENTITY_DECLARED,
    GRAPH_UPDATED,
    SOURCE_REGISTERED,
    SOURCE_RETRACTED,
    RecordedEvent,
)
from geokb.log.schemas import date_bounds
from geokb.projection.graphs import DEFAULT as DEFAULT
from geokb.projection.graphs import IN_SYSTEM as _SYS
from geokb.projection.graphs import SYSTEM_GRAPH as SYSTEM_GRAPH
from geokb.projection.graphs import SYSTEM_NODE as SYSTEM_NODE
from geokb.projection.graphs import is_factual as is_factual
from geokb.projection.graphs import shacl_input as shacl_input
from geokb.projection.graphs import sparql_data as sparql_data
from geokb.projection.graphs import to_attributed as to_attributed
from geokb.projection.graphs import to_conflicts as to_conflicts
from geokb.projection.graphs import to_system as to_system
from geokb.projection.graphs import view_line as view_line
from geokb.vocab import (
    DCTERMS,
    EVENT,
    GK,
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

APPLIED = GK.appliedHead
REDO = GK.pendingRemovals
BULK = GK.bulkBuildAfter

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


G_SPEECHACT, G_BASIS, G_OCCASION = _t(GK.speechAct), _t(GK.basis), _t(GK.occasion)
G_ANON, G_DESC, G_COUNT, G_AFFIL, G_SPOKES = (_t(GK.AnonymousSpeaker), _t(GK.description),
                                              _t(GK.count), _t(GK.affiliation),
                                              _t(GK.spokespersonFor))
_SAID_ON = _t(GK.saidOn), _t(GK.saidOnPrecision), _t(GK.saidStart)
G_SAIDEND, G_PUBLISHEDEND = _t(GK.saidEnd), _t(GK.publishedEnd)
G_RELIABILITY, G_CREDIBILITY = _t(GK.sourceReliability), _t(GK.informationCredibility)
G_CURATORALIAS, G_AMENDEDIN = _t(GK.curatorAlias), _t(GK.amendedIn)
LINKS = {"denies": _t(GK.denies), "confirms": _t(GK.confirms),
         "contradicts": _t(GK.contradicts)}


def _speakers(p: dict[str, Any]) -> list[dict[str, Any]]:
    """The claim's speakers in the schema-2 form (a schema-1 ``speaker`` is one named
    speaker: the upcast of ``geokb.log.codec``, applied here too so that old and new
    payloads project alike)."""
    if "speakers" in p:
        return list(p["speakers"])
    return [{"entity": p["speaker"]}] if p.get("speaker") else []


def _speaker_lines(claim: str, c: str, speakers: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for index, speaker in enumerate(speakers, start=1):
        if "entity" in speaker:
            lines.append(f"{claim} {G_SPEAKER} {iri(speaker['entity'])} .")
            continue
        anon = speaker["anonymous"]
        node = iri(f"{c}#speaker-{index}")
        lines += [f"{claim} {G_SPEAKER} {node} .", f"{node} {A} {G_ANON} .",
                  f"{node} {G_DESC} {literal(anon['description'])} ."]
        if anon.get("count") is not None:
            lines.append(f"{node} {G_COUNT} {integer(anon['count'])} .")
        affiliations = [a for a in (anon.get("affiliation"), anon.get("spokesperson_for"))
                        if a]
        if anon.get("spokesperson_for"):
            lines.append(f"{node} {G_SPOKES} {iri(anon['spokesperson_for'])} .")
        lines += [f"{node} {G_AFFIL} {iri(a)} ." for a in dict.fromkeys(affiliations)]
    return lines


def _grade_lines(node: str, p: dict[str, Any]) -> list[str]:
    lines = []
    if p.get("reliability"):
        lines.append(f"{node} {G_RELIABILITY} {iri(p['reliability'])} .")
    if p.get("credibility"):
        lines.append(f"{node} {G_CREDIBILITY} {iri(p['credibility'])} .")
    return lines


def _link_lines(claim: str, p: dict[str, Any]) -> list[str]:
    return [f"{claim} {pred} {iri(target)} ." for key, pred in LINKS.items()
            for target in p.get(key, ())]


def _end_day(node: str, value: str | None, predicate: str) -> list[str]:
    if value is None:
        return []
    return [f"{node} {predicate} {literal(date_bounds(value)[1].isoformat(), datatype=_X_DATE)} ."]


def quads_for(event: RecordedEvent) -> list[str]:
    """The quads ``event`` adds, as N-Quads lines (pure: depends on the event alone).

    >>> from geokb.log.events import RecordedEvent
    >>> e = RecordedEvent(id="e1", type="ClaimRetracted", schema=1, position=3,
    ...     recorded_at="2026-01-01T00:00:00.000000Z", recorded_by="ana",
    ...     payload={"claim": "https://w3id.org/geokb/claim/c1", "reason": "wrong"},
    ...     prev="0" * 64, hash="1" * 64)
    >>> lines = quads_for(e)
    >>> len(lines)  # 5 about the log event (in the system graph), 3 about the retraction
    8
    >>> sum(line.endswith("/graph/system> .") for line in lines)
    5
    """
    ev = iri(EVENT.base + event.id)
    p = event.payload
    pos = integer(event.position)
    lines = [
        f"{ev} {A} {G_LOGEVENT}{_SYS}",
        f"{ev} {G_EVENTTYPE} {literal(event.type)}{_SYS}",
        f"{ev} {G_POSITION} {pos}{_SYS}",
        f"{ev} {G_RECORDEDAT} {literal(event.recorded_at, datatype=X_DATETIME)}{_SYS}",
        f"{ev} {G_RECORDEDBY} {literal(event.recorded_by)}{_SYS}",
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
            lines += _end_day(src, p["published"], G_PUBLISHEDEND)
        else:
            lines.append(f"{src} {G_PUBPRECISION} {P_UNKNOWN} .")
        for key, pred in _SOURCE_TEXTS:
            if p.get(key):
                lines.append(f"{src} {pred} {literal(p[key])} .")
        lines += _grade_lines(src, p)
    elif event.type == ENTITY_DECLARED:
        ent = iri(p["entity"])
        lines += [f"{ent} {A} {iri(t)} ." for t in p["types"]]
        lines += [
            f"{ent} {R_LABEL} {literal(p['label'], lang='en')} .",
            f"{ent} {G_DECLAREDIN} {ev} .",
            f"{ent} {G_KNOWNFROM} {pos} .",
        ]
        lines += [f"{ent} {S_ALTLABEL} {literal(a, lang='en')} ." for a in p.get("aliases", [])]
        lines += _curator_alias_lines(ent, p.get("curator_aliases", ()))
        lines += [f"{ent} {O_SAMEAS} {iri(s)} ." for s in p.get("same_as", [])]
        if p.get("description"):
            lines.append(f"{ent} {D_DESCRIPTION} {literal(p['description'])} .")
    elif event.type == CLAIMS_LINKED:
        lines += _link_lines(iri(p["claim"]), p)
    elif event.type == ENTITY_AMENDED:
        lines += amendment_additions(p, ev)
    elif event.type == SOURCE_RETRACTED:
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


def _curator_alias_lines(ent: str, aliases: Iterable[str]) -> list[str]:
    lines: list[str] = []
    for alias in aliases:
        lit = literal(alias, lang="en")
        lines += [f"{ent} {S_ALTLABEL} {lit} .", f"{ent} {G_CURATORALIAS} {lit} ."]
    return lines


def amendment_additions(p: dict[str, Any], ev: str) -> list[str]:
    """What an ``EntityAmended`` adds (its removals: :func:`amendment_removals`)."""
    ent = iri(p["entity"])
    lines = [f"{ent} {G_AMENDEDIN} {ev} ."]
    if p.get("label"):
        lines.append(f"{ent} {R_LABEL} {literal(p['label'], lang='en')} .")
    if p.get("description"):
        lines.append(f"{ent} {D_DESCRIPTION} {literal(p['description'])} .")
    lines += [f"{ent} {A} {iri(t)} ." for t in p.get("add_types", ())]
    lines += [f"{ent} {S_ALTLABEL} {literal(a, lang='en')} ." for a in p.get("add_aliases", ())]
    lines += _curator_alias_lines(ent, p.get("curator_aliases", ()))
    lines += [f"{ent} {O_SAMEAS} {iri(s)} ." for s in p.get("add_same_as", ())]
    return lines


def amendment_removals(p: dict[str, Any], current: Iterable[tuple[str, str]]) -> list[str]:
    """The default-graph lines an ``EntityAmended`` removes before it adds, given the
    entity's ``current`` (predicate, object) pairs as N-Triples terms: a replaced label or
    description, and each removed alias (as a source name and as curator knowledge)."""
    ent = iri(p["entity"])
    removed_aliases = {literal(a, lang="en") for a in p.get("remove_aliases", ())}
    out: list[str] = []
    for pred, obj in current:
        if ((pred == R_LABEL and p.get("label")) or (pred == D_DESCRIPTION
                                                      and p.get("description"))
                or (pred in (S_ALTLABEL, G_CURATORALIAS) and obj in removed_aliases)):
            out.append(f"{ent} {pred} {obj} .")
    return out


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
    lines.append(view_line(s, pred, o, p["modality"]))
    lines += _speaker_lines(claim, c, _speakers(p))
    if p.get("speech_act"):
        lines.append(f"{claim} {G_SPEECHACT} {iri(p['speech_act'])} .")
    lines += [f"{claim} {G_BASIS} {iri(b)} ." for b in p.get("basis", ())]
    if p.get("occasion"):
        lines.append(f"{claim} {G_OCCASION} {iri(p['occasion'])} .")
    if p.get("said_on") is not None:
        lines += _date_lines(claim, p["said_on"], _SAID_ON, latest=False)
        lines += _end_day(claim, p["said_on"], G_SAIDEND)
    lines += _link_lines(claim, p)
    lines += _grade_lines(claim, p)
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
    return event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED, GRAPH_UPDATED, ENTITY_AMENDED)


def marker_line(position: int, digest: str) -> str:
    return f"{_t(SYSTEM_NODE)} {_t(APPLIED)} {literal(f'{position} {digest}')} {_t(SYSTEM_GRAPH)} ."


def note_line(removed: Sequence[str]) -> str:
    """The note, loaded with a batch, of the quads (N-Quads lines of the default and
    attributed graphs) that the batch removes next, and a sign that its conflicts are
    still to be recomputed (see :mod:`geokb.projection.batch`)."""
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
