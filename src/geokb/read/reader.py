"""How the answers read the projection: one :class:`Reader` per KB, and the term lookups
every answer shares (a node's properties, labels, terms as JSON).

Each node of a claim is read with one pattern lookup (:func:`props`); labels are
remembered for the projection's current log position (:mod:`geokb.read.memo`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import DefaultGraph, Literal, NamedNode

from geokb.projection.quads import DEFAULT
from geokb.projection.store import ProjectionStore
from geokb.read.memo import REMEMBERED_TERMS, AnswerMemo, PositionMemo
from geokb.vocab import GK, OA, OWL, PROV, RDF, RDFS, SKOS, compact

# The terms of the hot path, made once (``GK.x`` builds a new term at each use).
TYPE, SUBJECT, PREDICATE, OBJECT = RDF.type, RDF.subject, RDF.predicate, RDF.object
LABEL, PREF_LABEL, ALT_LABEL = RDFS.label, SKOS.prefLabel, SKOS.altLabel
KNOWN_FROM, KNOWN_UNTIL = GK.knownFromPosition, GK.knownUntilPosition
VALID_FROM, VALID_UNTIL = GK.validFrom, GK.validUntil
STATUS, MODALITY, DECLARED_IN = GK.status, GK.modality, GK.declaredIn
POSITION, EVENT_TYPE, SHA256 = GK.position, GK.eventType, GK.sha256
ASSERTED_IN, RETRACTED_IN, SUPERSEDED_IN = GK.assertedIn, GK.retractedIn, GK.supersededIn
SAME_AS = OWL.sameAs


class P:
    """Predicate IRIs as strings: the keys of :func:`props` dictionaries."""

    subject, predicate, object = SUBJECT.value, PREDICATE.value, OBJECT.value
    modality, derived, asserted = MODALITY.value, PROV.wasDerivedFrom.value, ASSERTED_IN.value
    retracted, superseded = RETRACTED_IN.value, SUPERSEDED_IN.value
    retraction_reason, supersession_reason = (GK.retractionReason.value,
                                              GK.supersessionReason.value)
    superseded_by, known_until = GK.supersededBy.value, KNOWN_UNTIL.value
    step, step_index, agent = GK.attributionStep.value, GK.stepIndex.value, PROV.agent.value
    valid_from, valid_from_precision = VALID_FROM.value, GK.validFromPrecision.value
    valid_until, valid_until_precision = VALID_UNTIL.value, GK.validUntilPrecision.value
    speaker, confidence, comment = GK.speaker.value, GK.confidence.value, RDFS.comment.value
    position, recorded_at, recorded_by = POSITION.value, GK.recordedAt.value, \
        GK.recordedBy.value
    exact, prefix, suffix = OA.exact.value, OA.prefix.value, OA.suffix.value
    start, end = OA.start.value, OA.end.value


@dataclass(frozen=True)
class Reader:
    """What the answers read: the projection, the ontology's labels, and the memory of
    answers the owner (a :class:`~geokb.kb.KnowledgeBase`) keeps for it."""

    store: ProjectionStore
    labels: Mapping[str, str]
    memo: AnswerMemo = field(default_factory=AnswerMemo)

    def remembered(self) -> PositionMemo:
        """What is remembered for the projection's current log position."""
        return self.memo.at(self.store.position)


def props(store: ProjectionStore, node: NamedNode, *,
          graph: NamedNode | DefaultGraph = DEFAULT) -> dict[str, list[Any]]:
    """Every ``node ?p ?o`` of the current view (or of ``graph``) in one lookup: predicate
    IRI → objects.

    The objects of a predicate come in the order ``store.one`` sees them, so
    ``first(props(s), p)`` is ``store.one(s, p)``.
    """
    out: dict[str, list[Any]] = {}
    for q in store.quads(node, None, None, graph):
        p = q.predicate.value
        values = out.get(p)
        if values is None:
            out[p] = [q.object]
        else:
            values.append(q.object)
    return out


def first(node: dict[str, list[Any]], p: str) -> Any:
    values = node.get(p)
    return values[0] if values else None


def as_int(term: Any) -> int | None:
    """The integer value of a literal, or ``None`` for ``None``."""
    return int(term.value) if term is not None else None


def label_of(r: Reader, iri: NamedNode) -> str:
    """The ``rdfs:label`` (or ``skos:prefLabel``) of ``iri``, the ontology's label for it,
    or its compact form."""
    memo = r.remembered()
    key = iri.value
    if key in memo.labels:
        found = memo.labels[key]
    else:
        if len(memo.labels) >= REMEMBERED_TERMS:
            memo.labels.clear()
        term = r.store.one(iri, LABEL) or r.store.one(iri, PREF_LABEL)
        found = memo.labels[key] = str(term.value) if term is not None else None
    if found is not None:
        return found
    return r.labels.get(key, compact(key))


def term_json(r: Reader, term: Any) -> dict[str, Any]:
    if isinstance(term, NamedNode):
        return {"iri": term.value, "label": label_of(r, term)}
    assert isinstance(term, Literal)
    out: dict[str, Any] = {"value": term.value}
    if term.language:
        out["lang"] = term.language
    else:
        out["datatype"] = term.datatype.value
    return out
