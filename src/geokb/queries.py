"""Read models over the projection: entity lookup, status, timeline and claim details.

Each answer is a plain dictionary in the documented JSON shape (``docs/json-schema.md``)
that the CLI prints and the HTTP API returns. Time travel: ``as_of`` is a log position
(what the KB held then) and ``valid_at`` a world date of day, month or year precision
(what was true then); a claim whose valid time is unknown is taken to hold at any date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Triple, Variable

from .codec import date_bounds
from .events import Ambiguous, NotFound
from .projection import DEFAULT
from .store import ProjectionStore
from .vocab import (
    DCTERMS,
    GK,
    ID,
    OA,
    OWL,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SKOS,
    XSD,
    compact,
    expand,
    is_slug,
    term_value,
)


@dataclass(frozen=True)
class TimeFilter:
    """Where in the two times an answer stands: log position and world date range."""

    as_of: int | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    valid_at_text: str | None = None

    @classmethod
    def make(cls, as_of: int | None, valid_at: str | None) -> TimeFilter:
        if valid_at is None:
            return cls(as_of=as_of)
        first, last, _ = date_bounds(valid_at)
        return cls(as_of=as_of, valid_from=first, valid_until=last, valid_at_text=valid_at)


def one(store: ProjectionStore, s: NamedNode | BlankNode | Triple, p: NamedNode) -> Any:
    """The object of one ``s p ?o`` triple of the current view, or ``None``."""
    q = next(store.store.quads_for_pattern(s, p, None, DEFAULT), None)
    return q.object if q is not None else None


def _all(store: ProjectionStore, s: NamedNode, p: NamedNode) -> list[Any]:
    return [q.object for q in store.store.quads_for_pattern(s, p, None, DEFAULT)]


def label_of(store: ProjectionStore, iri: NamedNode, labels: dict[str, str]) -> str:
    term = one(store, iri, RDFS.label) or one(store, iri, SKOS.prefLabel)
    if term is not None:
        return str(term.value)
    return labels.get(iri.value, compact(iri.value))


def as_int(term: Any) -> int | None:
    """The integer value of a literal, or ``None`` for ``None``."""
    return int(term.value) if term is not None else None


def term_json(store: ProjectionStore, term: Any, labels: dict[str, str]) -> dict[str, Any]:
    if isinstance(term, NamedNode):
        return {"iri": term.value, "label": label_of(store, term, labels)}
    assert isinstance(term, Literal)
    out: dict[str, Any] = {"value": term.value}
    if term.language:
        out["lang"] = term.language
    else:
        out["datatype"] = term.datatype.value
    return out


def _event_json(store: ProjectionStore, ev: Any) -> dict[str, Any] | None:
    if ev is None:
        return None
    return {
        "event": ev.value.rsplit("/", 1)[-1],
        "position": as_int(one(store, ev, GK.position)),
        "recorded_at": str(one(store, ev, GK.recordedAt).value),
        "recorded_by": str(one(store, ev, GK.recordedBy).value),
    }


def claim_json(store: ProjectionStore, claim: NamedNode, labels: dict[str, str],
               as_of: int | None = None) -> dict[str, Any]:
    """Everything about one claim: statement, modality, evidence, time, lifecycle."""
    if one(store, claim, GK.assertedIn) is None:
        raise NotFound(f"no claim {claim.value}")
    src = one(store, claim, PROV.wasDerivedFrom)
    evidence = NamedNode(claim.value + "#evidence")
    quote = NamedNode(claim.value + "#quote")
    span = NamedNode(claim.value + "#position")
    steps = []
    for step in _all(store, claim, GK.attributionStep):
        steps.append((as_int(one(store, step, GK.stepIndex)) or 0,
                      term_json(store, one(store, step, PROV.agent), labels)))
    until = as_int(one(store, claim, GK.knownUntilPosition))
    ended = until is not None and (as_of is None or until <= as_of)
    retracted = one(store, claim, GK.retractedIn) if ended else None
    superseded_in = one(store, claim, GK.supersededIn) if ended else None
    state = "retracted" if retracted is not None else "superseded" if superseded_in else "live"

    def when(value_p: NamedNode, prec_p: NamedNode) -> dict[str, str] | None:
        value = one(store, claim, value_p)
        if value is None:
            return None
        precision = one(store, claim, prec_p).value.rsplit("/", 1)[-1]
        return {"value": value.value, "precision": precision}

    speaker = one(store, claim, GK.speaker)
    confidence = one(store, claim, GK.confidence)
    note = one(store, claim, RDFS.comment)
    lifecycle: dict[str, Any] = {"state": state,
                                 "asserted": _event_json(store, one(store, claim, GK.assertedIn))}
    if retracted is not None:
        lifecycle["retracted"] = {**(_event_json(store, retracted) or {}),
                                  "reason": one(store, claim, GK.retractionReason).value}
    if superseded_in is not None:
        lifecycle["superseded"] = {**(_event_json(store, superseded_in) or {}),
                                   "by": one(store, claim, GK.supersededBy).value,
                                   "reason": one(store, claim, GK.supersessionReason).value}
    return {
        "claim": claim.value,
        "id": claim.value.rsplit("/", 1)[-1],
        "statement": {
            "subject": term_json(store, one(store, claim, RDF.subject), labels),
            "predicate": term_json(store, one(store, claim, RDF.predicate), labels),
            "object": term_json(store, one(store, claim, RDF.object), labels),
        },
        "modality": one(store, claim, GK.modality).value.rsplit("/", 1)[-1],
        "source": {
            "iri": src.value,
            "title": str(one(store, src, DCTERMS.title).value),
            "sha256": str(one(store, src, GK.sha256).value),
        },
        "evidence": {
            "quote": one(store, quote, OA.exact).value,
            "start": as_int(one(store, span, OA.start)),
            "end": as_int(one(store, span, OA.end)),
            "prefix": one(store, quote, OA.prefix).value,
            "suffix": one(store, quote, OA.suffix).value,
            "sha256": one(store, evidence, GK.sha256).value,
        },
        "speaker": term_json(store, speaker, labels) if speaker is not None else None,
        "reported_via": [agent for _, agent in sorted(steps, key=lambda s: s[0])],
        "valid_time": {"from": when(GK.validFrom, GK.validFromPrecision),
                       "until": when(GK.validUntil, GK.validUntilPrecision)},
        "confidence": confidence.value if confidence is not None else None,
        "note": note.value if note is not None else None,
        "lifecycle": lifecycle,
    }


def _known(store: ProjectionStore, node: NamedNode, as_of: int | None) -> bool:
    start = as_int(one(store, node, GK.knownFromPosition))
    if start is None:
        return False
    if as_of is None:
        return one(store, node, GK.knownUntilPosition) is None
    until = as_int(one(store, node, GK.knownUntilPosition))
    return start <= as_of and (until is None or until > as_of)


def _valid(store: ProjectionStore, claim: NamedNode, when: TimeFilter) -> bool:
    if when.valid_from is None or when.valid_until is None:
        return True
    start = one(store, claim, GK.validStart)
    end = one(store, claim, GK.validEnd)
    if start is not None and date.fromisoformat(start.value) > when.valid_until:
        return False
    return not (end is not None and date.fromisoformat(end.value) < when.valid_from)


def claims_about(store: ProjectionStore, entity: NamedNode, when: TimeFilter) -> list[NamedNode]:
    """Claims whose statement has ``entity`` as subject or object, known and valid ``when``."""
    seen: dict[str, NamedNode] = {}
    for pred in (RDF.subject, RDF.object):
        for q in store.store.quads_for_pattern(None, pred, entity, DEFAULT):
            c = q.subject
            if isinstance(c, NamedNode) and c.value not in seen \
                    and _known(store, c, when.as_of) and _valid(store, c, when):
                seen[c.value] = c
    return list(seen.values())


def _sort_key(c: dict[str, Any]) -> tuple[str, int]:
    vt = c["valid_time"]["from"] or c["valid_time"]["until"]
    return (vt["value"] if vt else "9999", c["lifecycle"]["asserted"]["position"] or 0)


def entity_json(store: ProjectionStore, entity: NamedNode,
                labels: dict[str, str]) -> dict[str, Any]:
    return {
        "iri": entity.value,
        "label": label_of(store, entity, labels),
        "types": sorted(compact(t.value) for t in _all(store, entity, RDF.type)),
        "aliases": sorted(str(a.value) for a in _all(store, entity, SKOS.altLabel)),
        "same_as": sorted(t.value for t in _all(store, entity, OWL.sameAs)),
    }


def status(store: ProjectionStore, entity: NamedNode, when: TimeFilter,
           labels: dict[str, str]) -> dict[str, Any]:
    """The status claims of ``entity`` and every other claim about it, with evidence."""
    claims = [claim_json(store, c, labels, when.as_of)
              for c in claims_about(store, entity, when)]
    claims.sort(key=_sort_key)
    status_values = [
        {"value": c["statement"]["object"]["iri"], "label": c["statement"]["object"]["label"],
         "modality": c["modality"], "claim": c["claim"]}
        for c in claims
        if c["statement"]["predicate"]["iri"] == GK.status.value
        and c["statement"]["subject"]["iri"] == entity.value and "iri" in c["statement"]["object"]
    ]
    return {"entity": entity_json(store, entity, labels), "as_of": when.as_of,
            "valid_at": when.valid_at_text, "status": status_values, "claims": claims}


def timeline(store: ProjectionStore, entity: NamedNode, when: TimeFilter,
             labels: dict[str, str]) -> dict[str, Any]:
    """Claims about ``entity`` in world-time order (unknown dates last)."""
    claims = [claim_json(store, c, labels, when.as_of)
              for c in claims_about(store, entity, when)]
    claims.sort(key=_sort_key)
    return {"entity": entity_json(store, entity, labels), "as_of": when.as_of,
            "valid_at": when.valid_at_text, "claims": claims}


ENTITY_LOOKUP = """
SELECT DISTINCT ?e ?label ?needle ?asof WHERE {
  ?e gk:declaredIn ?ev ; rdfs:label ?label ; gk:knownFromPosition ?from .
  { ?e rdfs:label ?name } UNION { ?e skos:altLabel ?name }
  FILTER(LCASE(STR(?name)) = LCASE(STR(?needle)))
  FILTER(!BOUND(?asof) || ?from <= ?asof)
} ORDER BY ?e
"""


def resolve_entity(store: ProjectionStore, name: str, as_of: int | None = None) -> NamedNode:
    """The entity named ``name`` (label or alias, any case; or slug, prefixed name, IRI).

    Raises :class:`NotFound`, or :class:`Ambiguous` listing the candidates.
    """
    candidates: list[tuple[str, str]] = []
    direct: str | None = None
    if is_slug(name):
        direct = ID[name].value
    elif ":" in name:
        try:
            direct = NamedNode(expand(name)).value  # NamedNode: "http://x y" is no IRI
        except ValueError:
            direct = None
    if direct is not None and one(store, NamedNode(direct), GK.declaredIn) is not None \
            and (as_of is None or (as_int(one(store, NamedNode(direct), GK.knownFromPosition))
                                   or 0) <= as_of):
        return NamedNode(direct)
    subs: dict[Variable, Any] = {Variable("needle"): Literal(name)}
    if as_of is not None:
        subs[Variable("asof")] = Literal(str(as_of), datatype=XSD.integer)
    for row in store.query(ENTITY_LOOKUP, prefixes=PREFIXES, substitutions=subs):
        # pyoxigraph binds substituted variables after the FILTERs run, so the query's
        # ?asof test lets later entities through: check the position here
        if as_of is not None and (as_int(one(store, row["e"], GK.knownFromPosition))
                                  or 0) > as_of:
            continue
        candidates.append((row["e"].value, row["label"].value))
    if not candidates:
        raise NotFound(f"no entity is named {name!r} (try a label, an alias or a slug)")
    if len(candidates) > 1:
        raise Ambiguous(name, candidates)
    return NamedNode(candidates[0][0])


def recorded_at(store: ProjectionStore, position: int) -> str | None:
    """The transaction time of the event at ``position``."""
    q = next(store.store.quads_for_pattern(None, GK.position, Literal(str(position),
                                                                      datatype=XSD.integer),
                                           DEFAULT), None)
    if q is None:
        return None
    t = one(store, q.subject, GK.recordedAt)
    return str(t.value) if t is not None else None


def position_at(store: ProjectionStore, when: str) -> int:
    """The position of the last event recorded at or before ``when`` (0 if none).

    Transaction times never decrease along the log, so this is a binary search.
    """
    low, high = 0, store.position
    while low < high:
        mid = (low + high + 1) // 2
        t = recorded_at(store, mid)
        if t is not None and t <= when:
            low = mid
        else:
            high = mid - 1
    return low


def iter_claims(store: ProjectionStore) -> Iterable[NamedNode]:
    for q in store.store.quads_for_pattern(None, RDF.type, GK.Claim, DEFAULT):
        if isinstance(q.subject, NamedNode):
            yield q.subject


def source_json(store: ProjectionStore, source: NamedNode, texts: Any) -> dict[str, Any]:
    """A source: metadata, stored text, and every claim's evidence span in it."""
    sha = one(store, source, GK.sha256)
    if sha is None:
        raise NotFound(f"no source {source.value}")
    published = one(store, source, DCTERMS.issued)
    spans = []
    for q in store.store.quads_for_pattern(None, PROV.wasDerivedFrom, source, DEFAULT):
        claim = q.subject
        iri = term_value(claim)
        quote = NamedNode(iri + "#quote")
        span = NamedNode(iri + "#position")
        spans.append({"claim": iri, "id": iri.rsplit("/", 1)[-1],
                      "start": as_int(one(store, span, OA.start)),
                      "end": as_int(one(store, span, OA.end)),
                      "quote": one(store, quote, OA.exact).value,
                      "modality": one(store, claim, GK.modality).value.rsplit("/", 1)[-1],
                      "live": one(store, claim, GK.knownUntilPosition) is None})
    spans.sort(key=lambda s: (s["start"] or 0, s["id"]))
    publisher = one(store, source, DCTERMS.publisher)
    precision = one(store, source, GK.publicationPrecision)

    def text_of(pred: NamedNode) -> str | None:
        term = one(store, source, pred)
        return str(term.value) if term is not None else None

    return {
        "iri": source.value,
        "id": source.value.rsplit("/", 1)[-1],
        "title": text_of(DCTERMS.title),
        "sha256": sha.value,
        "publisher": publisher.value if publisher is not None else None,
        "url": text_of(GK.url),
        "published": published.value if published is not None else None,
        "publication_precision": precision.value.rsplit("/", 1)[-1],
        "language": text_of(DCTERMS.language),
        "section": text_of(GK.section),
        "description": text_of(DCTERMS.description),
        "text": texts.get(sha.value),
        "spans": spans,
    }
