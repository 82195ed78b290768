"""Whether a batch of events may enter the log: domain rules and SHACL, checked against
the projection plus the batch's own earlier events, before anything is written.

The graph SHACL sees is the batch's quads plus the types of the things they mention, so
the cost of one write does not grow with the size of the KB.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import rdflib
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad

from geokb.errors import InvalidEvent, ModelViolation, ShapeViolation
from geokb.log.contract import Head, seal
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
    Event,
    RecordedEvent,
)
from geokb.log.schemas import check_payload
from geokb.log.sources import SourceTexts
from geokb.ontology import Ontology
from geokb.projection.quads import (
    DEFAULT,
    SYSTEM_GRAPH,
    amendment_removals,
    parse_lines,
    quads_for,
    shacl_input,
)
from geokb.projection.store import ProjectionStore
from geokb.shacl.engines import Validator, ValidatorChoice
from geokb.shacl.results import ShapeReport
from geokb.vocab import GK, MODALITIES, MODALITY, RDF, STATUS, STATUSES
from geokb.write.context import ContextCache
from geokb.write.references import (
    Overlay,
    check_claim_references,
    check_new_event,
    did_you_mean,
    unknown_entity,
)
from geokb.write.update_rules import check_operation

CONTEXT_PREDICATES = (RDF.type, GK.knownFromPosition)


class Admission:
    """Checks batches of events against the rules, the ontology and the shapes."""

    def __init__(self, store: ProjectionStore, ontology: Ontology, shapes: rdflib.Graph,
                 texts: SourceTexts, *, engine: Validator | None = None,
                 context: ContextCache | None = None) -> None:
        self.store = store
        # the projection's lookups remembered between writes (the KB keeps one per store)
        self.context = context if context is not None and context.store is store else None
        self.ontology = ontology
        self.shapes = shapes
        self.texts = texts
        # the SHACL engine that checks writes (the KB passes the one its choice names)
        self.engine = engine if engine is not None else \
            ValidatorChoice().for_writes(shapes, ontology)

    def check(self, events: Sequence[Event], *, pending_texts: Mapping[str, str],
              recorded_by: str) -> list[RecordedEvent]:
        """Raise :class:`InvalidEvent` or :class:`ShapeViolation` if the batch may not enter.

        Returns the batch sealed as drafts after the projection's position (the log seals
        it again when it appends).
        """
        overlay = Overlay(self.store, cache=self.context)
        for index, event in enumerate(events, start=1):
            try:
                check_payload(event.type, event.payload)
                self._rules(event, overlay, pending_texts)
            except InvalidEvent as exc:  # the evidence model's refusals keep their class
                cls = type(exc) if isinstance(exc, ModelViolation) else InvalidEvent
                raise cls(f"{self._name(event, index, len(events))}: {exc}") from exc
        overlay.check_source_retractions()
        drafts = seal(events, Head(self.store.position, self.store.head_hash, ""), recorded_by)
        report = self.shacl(drafts)
        if not report.conforms:
            lines = [r.describe() for r in report.results if r.severity == "Violation"]
            raise ShapeViolation("; ".join(lines[:10]) + (f" (+{len(lines) - 10} more)"
                                                          if len(lines) > 10 else ""),
                                 [r.__dict__ for r in report.results])
        return drafts

    def problems(self, events: Sequence[Event], *, pending_texts: Mapping[str, str],
                 recorded_by: str, shapes: bool = True
                 ) -> tuple[list[tuple[int | None, str]], list[RecordedEvent]]:
        """Every problem of the batch, instead of the first: ``(index of the event or None,
        message)`` for each rule an event breaks, or else for each SHACL violation (located
        at the event that states its focus node); and the batch sealed as drafts."""
        overlay = Overlay(self.store, cache=self.context)
        found: list[tuple[int | None, str]] = []
        for index, event in enumerate(events):
            try:
                check_payload(event.type, event.payload)
                self._rules(event, overlay, pending_texts)
            except InvalidEvent as exc:
                found.append((index, str(exc)))
        try:
            overlay.check_source_retractions()
        except InvalidEvent as exc:
            found.append((None, str(exc)))
        if found or not shapes:  # a payload that broke its schema may not encode: no drafts
            return found, []
        drafts = seal(events, Head(self.store.position, self.store.head_hash, ""), recorded_by)
        stating: dict[str, int] = {}
        for index, event in enumerate(events):
            p = event.payload
            key = p.get("claim") or p.get("entity") or p.get("source")
            if isinstance(key, str):
                stating.setdefault(key, index)
        for r in self.shacl(drafts).results:
            if r.severity == "Violation":
                found.append((stating.get(r.focus.split("#", 1)[0]), r.describe()))
        return found, drafts

    @staticmethod
    def _name(event: Event, index: int, total: int) -> str:
        p = event.payload
        key = p.get("claim") or p.get("entity") or p.get("source") or ""
        where = f"event {index} of {total}: " if total > 1 else ""
        return f"{where}{event.type} {key}".rstrip()

    def shacl(self, drafts: Sequence[RecordedEvent]) -> ShapeReport:
        """SHACL over the drafts' quads plus the types of what they mention."""
        lines: list[str] = []
        for d in drafts:
            lines.extend(quads_for(d))
        own = shacl_input(parse_lines(lines))
        for d in drafts:  # a SPARQL update's effect on the default graph meets the shapes too
            if d.type == GRAPH_UPDATED:
                deleted = {q for q in parse_lines(d.payload["delete"]) if q.graph_name == DEFAULT}
                inserted = [q for q in parse_lines(d.payload["insert"])
                            if q.graph_name == DEFAULT]
                for node in {q.subject for q in [*deleted, *inserted]
                             if isinstance(q.subject, NamedNode)}:  # as the update leaves it
                    own += [q for q in self.store.quads(node, None, None, DEFAULT)
                            if q not in deleted]
                own += inserted
        context: list[Quad] = []
        for d in drafts:  # a record these events add to is re-validated whole
            if d.type == SOURCE_RETRACTED:
                context.extend(self.store.quads(NamedNode(d.payload["source"]), None, None,
                                                DEFAULT))
            elif d.type == ENTITY_AMENDED:  # as the amendment leaves it: removals first
                current = list(self.store.quads(NamedNode(d.payload["entity"]), None, None,
                                                DEFAULT))
                removed = set(parse_lines(amendment_removals(
                    d.payload, [(str(q.predicate), str(q.object)) for q in current])))
                context.extend(q for q in current if q not in removed)
            if d.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED, CLAIMS_LINKED):
                claim = NamedNode(d.payload["claim"])
                for frag in ("", "#evidence", "#quote", "#position"):
                    node = NamedNode(claim.value + frag)
                    context.extend(self.store.quads(node, None, None, DEFAULT))
                for step in self.store.objects(claim, GK.attributionStep):
                    if isinstance(step, Literal):
                        continue  # a literal is the subject of nothing (SHACL forbids it here)
                    context.extend(self.store.quads(step, None, None, DEFAULT))
        focus: set[str] = set()
        mentioned: set[str] = set()
        for q in own + context:
            if isinstance(q.subject, NamedNode):
                focus.add(q.subject.value.split("#", 1)[0])
            if isinstance(q.object, NamedNode):
                mentioned.add(q.object.value)
        for iri in sorted(mentioned | focus):
            node = NamedNode(iri)
            for pred in CONTEXT_PREDICATES:
                context.extend(self._lookup(node, pred, DEFAULT))
            # log events are described in the system graph (projection layout 2)
            context.extend(shacl_input(self._lookup(node, RDF.type, SYSTEM_GRAPH)))
        return self.engine.validate(own + context, focus=focus)

    def _lookup(self, node: NamedNode, pred: NamedNode,
                graph: NamedNode | DefaultGraph) -> Iterable[Quad]:
        """``store.quads(node, pred, None, graph)``, from the context cache if there is one."""
        if self.context is not None:
            return self.context.quads(node, pred, graph)
        return self.store.quads(node, pred, None, graph)

    # -- domain rules ---------------------------------------------------------------

    def _entity(self, overlay: Overlay, iri: str, role: str) -> list[str]:
        types = overlay.entity_types(iri)
        if types is None:
            raise InvalidEvent(unknown_entity(overlay, iri, role))
        return types

    def _rules(self, event: Event, overlay: Overlay, pending_texts: Mapping[str, str]) -> None:
        p = event.payload
        onto = self.ontology
        if event.type == SOURCE_REGISTERED:
            if overlay.source_sha(p["source"]) is not None:
                raise InvalidEvent(f"source {p['source']} is already registered")
            if p["sha256"] not in pending_texts and not self.texts.has(p["sha256"]):
                raise InvalidEvent(f"the text of source {p['source']} is not stored")
            if p.get("publisher"):
                self._entity(overlay, p["publisher"], "publisher")
            overlay.sources[p["source"]] = p["sha256"]
            overlay.published[p["source"]] = p.get("published")
        elif event.type == ENTITY_DECLARED:
            if overlay.entity_types(p["entity"]) is not None:
                raise InvalidEvent(f"entity {p['entity']} is already declared")
            for t in p["types"]:
                if not onto.is_world_class(t):
                    raise InvalidEvent(f"unknown class {t}: use a class of the ontology "
                                       "(e.g. gk:Person, gk:NavalBase)")
            overlay.entities[p["entity"]] = list(p["types"])
            overlay.aliases[p["entity"]] = {*p.get("aliases", []), *p.get("curator_aliases", [])}
        elif event.type == CLAIM_ASSERTED:
            self._claim_rules(p, overlay, pending_texts)
            check_claim_references(p, overlay, onto)
            overlay.claims[p["claim"]] = "live"
            overlay.statements[p["claim"]] = (p["subject"], p["predicate"], p["source"])
        elif event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            state = overlay.claim_state(p["claim"])
            if state is None:
                raise InvalidEvent(f"no claim {p['claim']}")
            if state != "live":
                raise InvalidEvent(f"claim {p['claim']} is already retracted or superseded")
            if event.type == CLAIM_SUPERSEDED:
                by = overlay.claim_state(p["by"])
                if by is None:
                    raise InvalidEvent(f"the superseding claim {p['by']} does not exist: "
                                       "assert it first")
                if by != "live":
                    raise InvalidEvent(f"the superseding claim {p['by']} is not live: it is "
                                       "itself retracted or superseded")
                supersession_rules(p, overlay)
            overlay.claims[p["claim"]] = "ended"
        elif event.type in (CLAIMS_LINKED, ENTITY_AMENDED, SOURCE_RETRACTED):
            check_new_event(event.type, p, overlay, onto)
        elif event.type == GRAPH_UPDATED:  # built by the SPARQL update path, checked per
            # operation there; here whole, so no GraphUpdated bypasses the evidence model
            check_operation(self.store, "GraphUpdated", parse_lines(p["delete"]),
                            parse_lines(p["insert"]))

    def _claim_rules(self, p: Mapping[str, object], overlay: Overlay,
                     pending_texts: Mapping[str, str]) -> None:
        onto = self.ontology
        claim = str(p["claim"])
        if overlay.claim_state(claim) is not None:
            raise InvalidEvent(f"claim {claim} already exists (a claim is asserted once; "
                               "supersede it to change it)")
        self._entity(overlay, str(p["subject"]), "subject")
        predicate = str(p["predicate"])
        kind = onto.statement_properties.get(predicate)
        if kind is None:
            raise InvalidEvent(f"unknown predicate {predicate}: claims state properties of the "
                               "ontology typed gk:StatementProperty")
        obj = p["object"]
        assert isinstance(obj, dict)
        if "iri" in obj:
            if kind == "literal":
                raise InvalidEvent(f"{predicate} takes a literal, not an IRI")
            if obj["iri"].startswith(STATUS.base) and obj["iri"] not in onto.concepts:
                raise InvalidEvent(f"unknown status {obj['iri']}: "
                                   f"use one of {', '.join(allowed(STATUSES, STATUS.base))}"
                                   + did_you_mean(obj["iri"], STATUSES))
            if obj["iri"] not in onto.concepts:
                self._entity(overlay, obj["iri"], "object")
        elif kind == "object":
            raise InvalidEvent(f"{predicate} takes an entity or concept, not a literal")
        if p["modality"] not in MODALITIES:
            raise InvalidEvent(f"unknown modality {p['modality']}: use one of "
                               f"{', '.join(allowed(MODALITIES, MODALITY.base))}"
                               + did_you_mean(str(p["modality"]), MODALITIES))
        sha = overlay.source_sha(str(p["source"]))
        if sha is None:
            raise InvalidEvent(f"unknown source {p['source']}: register it first")
        evidence = p["evidence"]
        assert isinstance(evidence, dict)
        if evidence["sha256"] != sha:
            raise InvalidEvent("the evidence's sha256 is not the hash of its source's text")
        text = pending_texts.get(sha)
        if text is None:
            text = self.texts.get(sha)
        check_evidence(text, evidence)
        for outlet in p.get("reported_via") or []:  # type: ignore[attr-defined]
            self._entity(overlay, str(outlet), "reported_via")


def supersession_rules(p: Mapping[str, object], overlay: Overlay) -> None:
    """Raise :class:`ModelViolation` unless ``p['by']`` may replace ``p['claim']``: it was
    recorded later, and it is about the same subject, or ``cross_entity`` says why not.
    (The one rule of the CLI, HTTP and claim-file supersessions: all are this event.)"""
    claim, by = str(p["claim"]), str(p["by"])
    if _recorded(overlay, by) < _recorded(overlay, claim):
        raise ModelViolation(f"the superseding claim {by} was recorded before {claim}: a "
                             "claim is replaced by a later one; assert what is so now as a "
                             "new claim and supersede by that")
    old, new = overlay.claim_statement(claim), overlay.claim_statement(by)
    if old is not None and new is not None and old[0] != new[0] and not p.get("cross_entity"):
        raise ModelViolation(f"claim {claim} is about {old[0]} but {by} is about {new[0]}: a "
                             "supersession replaces a claim about the same subject; if this one "
                             "must cross entities, say why (--cross-entity REASON, or a "
                             "'cross_entity' key), which the log keeps")


def _recorded(overlay: Overlay, claim: str) -> tuple[int, int]:
    """When ``claim`` was recorded: ``(0, position)`` in the log, ``(1, index)`` in the batch."""
    if claim in overlay.statements:
        return 1, list(overlay.statements).index(claim)
    node = overlay.store.one(NamedNode(claim), GK.knownFromPosition)
    return 0, int(node.value) if node is not None else 0


def check_evidence(text: str, evidence: Mapping[str, object]) -> None:
    """Raise :class:`InvalidEvent` unless the quote stands verbatim at its offsets."""
    start, end = evidence["start"], evidence["end"]
    assert isinstance(start, int) and isinstance(end, int)
    if text[start:end] != evidence["quote"]:
        raise InvalidEvent(f"the quote does not occur at {start}-{end} of its source")
    if not text[:start].endswith(str(evidence["prefix"])) or \
            not text[end:].startswith(str(evidence["suffix"])):
        raise InvalidEvent("the quote's prefix/suffix do not match its source")


def allowed(iris: frozenset[str], base: str) -> list[str]:
    """The short names of ``iris`` (in ``base``), sorted."""
    return sorted(i.removeprefix(base) for i in iris)
