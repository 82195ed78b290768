"""The details of one claim (statement, modality, evidence, time, lifecycle) and of one
source (metadata, text, the evidence spans claims cite in it), in the documented JSON
shape (``docs/json-schema.md``).
"""

from __future__ import annotations

from typing import Any

from pyoxigraph import NamedNode

from geokb.errors import NotFound
from geokb.log.sources import SourceTexts
from geokb.projection.quads import DEFAULT, SYSTEM_GRAPH
from geokb.projection.store import ProjectionStore
from geokb.read.memo import REMEMBERED_TERMS
from geokb.read.reader import (
    KNOWN_UNTIL,
    MODALITY,
    SHA256,
    P,
    Reader,
    as_int,
    first,
    props,
    term_json,
)
from geokb.vocab import DCTERMS, GK, OA, PROV, term_value


def _event_json(store: ProjectionStore, ev: Any) -> dict[str, Any] | None:
    if ev is None:
        return None
    node = props(store, ev, graph=SYSTEM_GRAPH)  # log events: the system graph
    return {
        "event": ev.value.rsplit("/", 1)[-1],
        "position": as_int(first(node, P.position)),
        "recorded_at": str(first(node, P.recorded_at).value),
        "recorded_by": str(first(node, P.recorded_by).value),
    }


def _source_json(r: Reader, src: NamedNode) -> dict[str, str]:
    store, memo = r.store, r.remembered()
    known = memo.sources.get(src.value)
    if known is None:
        if len(memo.sources) >= REMEMBERED_TERMS:
            memo.sources.clear()
        known = memo.sources[src.value] = (str(store.one(src, DCTERMS.title).value),
                                           str(store.one(src, SHA256).value))
    return {"iri": src.value, "title": known[0], "sha256": known[1]}


def claim_json(r: Reader, claim: NamedNode, as_of: int | None = None) -> dict[str, Any]:
    """Everything about one claim: statement, modality, evidence, time, lifecycle.

    Raises :class:`NotFound` if ``claim`` was never asserted.
    """
    store = r.store
    c = props(store, claim)
    asserted = first(c, P.asserted)
    if asserted is None:
        raise NotFound(f"no claim {claim.value}")
    quote = props(store, NamedNode(claim.value + "#quote"))
    span = props(store, NamedNode(claim.value + "#position"))
    evidence_sha = store.one(NamedNode(claim.value + "#evidence"), SHA256)
    steps = []
    for step in c.get(P.step, ()):
        node = props(store, step)
        steps.append((as_int(first(node, P.step_index)) or 0,
                      term_json(r, first(node, P.agent))))
    until = as_int(first(c, P.known_until))
    ended = until is not None and (as_of is None or until <= as_of)
    retracted = first(c, P.retracted) if ended else None
    superseded_in = first(c, P.superseded) if ended else None
    state = "retracted" if retracted is not None else \
        "superseded" if superseded_in is not None else "live"

    def when(value_p: str, prec_p: str) -> dict[str, str] | None:
        value = first(c, value_p)
        if value is None:
            return None
        return {"value": value.value, "precision": first(c, prec_p).value.rsplit("/", 1)[-1]}

    speaker = first(c, P.speaker)
    confidence = first(c, P.confidence)
    note = first(c, P.comment)
    lifecycle: dict[str, Any] = {"state": state, "asserted": _event_json(store, asserted)}
    if retracted is not None:
        lifecycle["retracted"] = {**(_event_json(store, retracted) or {}),
                                  "reason": first(c, P.retraction_reason).value}
    if superseded_in is not None:
        lifecycle["superseded"] = {**(_event_json(store, superseded_in) or {}),
                                   "by": first(c, P.superseded_by).value,
                                   "reason": first(c, P.supersession_reason).value}
    return {
        "claim": claim.value,
        "id": claim.value.rsplit("/", 1)[-1],
        "statement": {
            "subject": term_json(r, first(c, P.subject)),
            "predicate": term_json(r, first(c, P.predicate)),
            "object": term_json(r, first(c, P.object)),
        },
        "modality": first(c, P.modality).value.rsplit("/", 1)[-1],
        "source": _source_json(r, first(c, P.derived)),
        "evidence": {
            "quote": first(quote, P.exact).value,
            "start": as_int(first(span, P.start)),
            "end": as_int(first(span, P.end)),
            "prefix": first(quote, P.prefix).value,
            "suffix": first(quote, P.suffix).value,
            "sha256": evidence_sha.value,
        },
        "speaker": term_json(r, speaker) if speaker is not None else None,
        "reported_via": [agent for _, agent in sorted(steps, key=lambda s: s[0])],
        "valid_time": {"from": when(P.valid_from, P.valid_from_precision),
                       "until": when(P.valid_until, P.valid_until_precision)},
        "confidence": confidence.value if confidence is not None else None,
        "note": note.value if note is not None else None,
        "lifecycle": lifecycle,
    }


def source_json(store: ProjectionStore, source: NamedNode,
                texts: SourceTexts) -> dict[str, Any]:
    """A source: metadata, stored text, and every claim's evidence span in it.

    Raises :class:`NotFound` if ``source`` was never registered.
    """
    sha = store.one(source, SHA256)
    if sha is None:
        raise NotFound(f"no source {source.value}")
    published = store.one(source, DCTERMS.issued)
    spans = []
    for q in store.quads(None, PROV.wasDerivedFrom, source, DEFAULT):
        claim = q.subject
        iri = term_value(claim)
        quote = NamedNode(iri + "#quote")
        span = NamedNode(iri + "#position")
        spans.append({"claim": iri, "id": iri.rsplit("/", 1)[-1],
                      "start": as_int(store.one(span, OA.start)),
                      "end": as_int(store.one(span, OA.end)),
                      "quote": store.one(quote, OA.exact).value,
                      "modality": store.one(claim, MODALITY).value.rsplit("/", 1)[-1],
                      "live": store.one(claim, KNOWN_UNTIL) is None})
    spans.sort(key=lambda s: (s["start"] or 0, s["id"]))
    publisher = store.one(source, DCTERMS.publisher)
    precision = store.one(source, GK.publicationPrecision)

    def text_of(pred: NamedNode) -> str | None:
        term = store.one(source, pred)
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
