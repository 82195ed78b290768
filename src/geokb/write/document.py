"""A claim file → one batch of events, in the order their references need.

The sections of a file may come in any order and so may the entries of ``entities``; the
events are ordered: ``EntityDeclared`` (file order) → ``EntityAmended`` →
``SourceRegistered`` (a source's ``publisher`` is an entity) → ``ClaimAsserted`` (a claim
after the claims of the file it denies, confirms or contradicts; otherwise file order) →
``ClaimsLinked`` → ``ClaimSuperseded`` → ``ClaimRetracted`` → for each retracted source, a
``ClaimRetracted`` of each of its live claims, then its ``SourceRetracted``. The batch is
admitted and appended all or nothing (:class:`geokb.kb.KnowledgeBase.ingest`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pyoxigraph import DefaultGraph, Literal, NamedNode

from geokb.errors import InvalidClaimFile, InvalidEvent, NotFound
from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    CLAIMS_LINKED,
    ENTITY_AMENDED,
    SOURCE_RETRACTED,
    Event,
    RecordedEvent,
)
from geokb.log.sources import normalise_text
from geokb.projection.store import ProjectionStore
from geokb.vocab import CLAIM, GK, ID, PROV, RDFS, SOURCE, is_slug
from geokb.write import claimfile
from geokb.write.attribution import LINK_KEYS, links_payload
from geokb.write.problems import Origin, Problem, Problems
from geokb.write.references import Overlay

#: ``progress(stage, done, total)``, as :data:`geokb.kb.Progress`.
Progress = Callable[[str, int, int], None]
PROGRESS_EVERY = 64


@dataclass(frozen=True)
class LogLookup:
    """What compiling a file needs to know of the log (through the projection)."""

    #: the text of a registered source (by IRI); raises :class:`NotFound`
    source_text: Callable[[str], str]
    #: the label of a declared entity (by IRI), or None
    label: Callable[[str], str | None] = lambda iri: None
    #: the live claims deriving from a source (by IRI)
    live_claims_of: Callable[[str], list[str]] = lambda iri: []


def projection_lookup(store: ProjectionStore, source_text: Callable[[str], str]) -> LogLookup:
    """A :class:`LogLookup` that reads the projection's current view."""
    quads = store.quads
    default = DefaultGraph()

    def label(iri: str) -> str | None:
        q = next(quads(NamedNode(iri), RDFS.label, None, default), None)
        return q.object.value if q is not None and isinstance(q.object, Literal) else None

    def live_claims_of(source: str) -> list[str]:
        found = [q.subject for q in quads(None, PROV.wasDerivedFrom, NamedNode(source), default)
                 if isinstance(q.subject, NamedNode)]
        live = [c for c in found if next(quads(c, GK.knownUntilPosition, None, default),
                                         None) is None]
        return sorted(c.value for c in live)

    return LogLookup(source_text=source_text, label=label, live_claims_of=live_claims_of)


@dataclass
class Batch:
    """The events of one claim file and the source texts they register.

    ``origins`` names where each event comes from (``"FILE:LINE: claim <id>"``), by
    :func:`event_key`, so admission's problems can be reported against the file.
    """

    events: list[Event] = field(default_factory=list)
    pending_texts: dict[str, str] = field(default_factory=dict)
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)
    #: the entries that did not compile (:func:`compile_all`), in file order
    problems: list[Problem] = field(default_factory=list)

    def origin(self, event: Event) -> Origin | None:
        return self.origins.get(event_key(event))


@dataclass(frozen=True)
class Plan:
    """What an ingest would do (``geokb ingest --dry-run``): the events, sealed as drafts
    after the log's head, and for each entity they touch its status values before and
    after (``None`` before: a new entity) and whether a conflict would stand on it; the
    conflicts (``graph/conflicts``) the batch would raise and end."""

    events: list[RecordedEvent]
    effects: list[dict[str, Any]]
    new_conflicts: list[dict[str, Any]] = field(default_factory=list)
    ended_conflicts: list[dict[str, Any]] = field(default_factory=list)


def touched_entities(events: Sequence[Event | RecordedEvent], store: ProjectionStore) -> list[str]:
    """The entities (IRIs, in first-touched order) whose claims ``events`` add or end:
    the subjects of asserted claims, and of the claims retracted or superseded."""
    overlay = Overlay(store)
    subjects: dict[str, None] = {}
    for event in events:
        p = event.payload
        if event.type == CLAIM_ASSERTED:
            overlay.statements[p["claim"]] = (p["subject"], p["predicate"], p["source"])
            subjects[p["subject"]] = None
        elif event.type in (CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            statement = overlay.claim_statement(p["claim"])
            if statement is not None:
                subjects[statement[0]] = None
    return list(subjects)


def event_key(event: Event) -> tuple[str, str]:
    """An event's type and the claim, entity or source it is about."""
    p = event.payload
    return event.type, str(p.get("claim") or p.get("entity") or p.get("source") or "")


def compile_document(document: Mapping[str, Any], *, base_dir: Path, lookup: LogLookup,
                     progress: Progress | None = None) -> Batch:
    """The ordered batch of a parsed claim file.

    Raises :class:`InvalidClaimFile` with every problem of the file at once, each naming
    the file, the line (when the document was loaded by
    :func:`geokb.write.claimfile.load_document`) and the entry at fault.
    """
    batch = compile_all(document, base_dir=base_dir, lookup=lookup, progress=progress)
    if batch.problems:
        raise InvalidClaimFile([p.text for p in batch.problems])
    return batch


def compile_all(document: Mapping[str, Any], *, base_dir: Path, lookup: LogLookup,
                progress: Progress | None = None) -> Batch:
    """The ordered batch of the entries of a claim file that compile; the others are in
    ``batch.problems``. Raises :class:`InvalidEvent` only for a file with no entries."""
    batch = Batch()
    problems = Problems(document)

    def add(origin: Origin, make: Callable[[], Event | list[Event]]) -> list[Event]:
        try:
            made = make()
        except (InvalidEvent, NotFound) as exc:
            problems.found.append(origin.problem(str(exc)))
            return []
        events = made if isinstance(made, list) else [made]
        for event in events:
            batch.origins.setdefault(event_key(event), origin)
        return events

    labels: dict[str, str] = {}
    for _, origin, spec in problems.entries(document, "entities"):
        for event in add(origin, partial(claimfile.entity_event, spec)):
            labels[event.payload["entity"]] = str(event.payload["label"])
            batch.events.append(event)
    for _, origin, spec in problems.entries(document, "amend_entities"):
        for event in add(origin, partial(amendment_event, spec)):
            if "label" in event.payload:
                labels[event.payload["entity"]] = str(event.payload["label"])
            batch.events.append(event)
    texts_by_source: dict[str, str] = {}
    for i, origin, spec in problems.entries(document, "sources"):
        def source(spec: Mapping[str, Any] = spec, i: int = i) -> Event:
            text = source_text_of(spec, base_dir, i)
            src = claimfile.source_event(spec, text)
            batch.pending_texts[src.event.payload["sha256"]] = text
            texts_by_source[src.event.payload["source"]] = text
            return src.event
        batch.events += add(origin, source)

    def label_of(iri: str) -> str | None:
        return labels[iri] if iri in labels else lookup.label(iri)

    claims: list[Event] = []
    entries = problems.entries(document, "claims")
    for i, origin, spec in entries:
        if progress is not None and (i % PROGRESS_EVERY == 0 or i == len(entries)):
            progress("reading claims", i, len(entries))

        def claim(spec: Mapping[str, Any] = spec) -> Event:
            src_iri = claimfile.slug_iri(spec.get("source"), SOURCE, "source")
            known = texts_by_source.get(src_iri)
            text = known if known is not None else lookup.source_text(src_iri)
            return claimfile.claim_event(spec, text, label_of=label_of)
        claims += add(origin, claim)
    try:
        batch.events += dependency_order(claims)
    except InvalidEvent as exc:
        problems.found.append(Problem(None, f"{problems.name}: {exc}"))
    for _, origin, spec in problems.entries(document, "links"):
        batch.events += add(origin, partial(link_event, spec))
    ended: set[str] = set()
    for key, make in (("supersessions", _supersession), ("retractions", _retraction)):
        for _, origin, spec in problems.entries(document, key):
            for event in add(origin, partial(make, spec)):
                ended.add(event.payload["claim"])
                batch.events.append(event)
    for _, origin, spec in problems.entries(document, "retract_sources"):
        batch.events += add(origin, partial(source_retraction, spec, claims, ended, lookup))
    batch.problems = problems.found
    if not batch.events and not batch.problems:
        raise InvalidEvent(f"{problems.name}: the claim file holds no sources, entities, "
                           "claims or changes")
    return batch


def _supersession(spec: Mapping[str, Any]) -> Event:
    cross = spec.get("cross_entity")
    return claimfile.supersession_event(str(spec.get("claim")), str(spec.get("by")),
                                        str(spec.get("reason") or ""),
                                        None if cross is None else str(cross))


def _retraction(spec: Mapping[str, Any]) -> Event:
    return claimfile.retraction_event(str(spec.get("claim")), str(spec.get("reason") or ""))


def file_problems(batch: Batch, found: Sequence[tuple[int | None, str]],
                  name: str) -> InvalidClaimFile:
    """The batch's own problems and admission's (``(event index or None, message)``, each
    located at the entry its event comes from), in line order."""
    problems = list(batch.problems)
    for index, message in found:
        origin = batch.origin(batch.events[index]) if index is not None else None
        problems.append(origin.problem(message) if origin is not None
                        else Problem(None, f"{name}: {message}"))
    problems.sort(key=lambda p: -1 if p.line is None else p.line)  # stable: file-wide first
    return InvalidClaimFile([p.text for p in problems])


def dependency_order(claims: list[Event]) -> list[Event]:
    """``claims`` in a stable topological order of their links within the list.

    A claim comes after the claims of the list it denies, confirms or contradicts; claims
    with no such order between them keep their file order. Raises :class:`InvalidEvent`
    naming the claims of a cycle (a symmetric ``contradicts`` is stated once).
    """
    index = {c.payload["claim"]: i for i, c in enumerate(claims)}
    if len(index) != len(claims):
        seen: set[str] = set()
        for c in claims:
            if c.payload["claim"] in seen:
                raise InvalidEvent(f"claim {_slug(c.payload['claim'])} is given twice")
            seen.add(c.payload["claim"])
    after: dict[int, set[int]] = {i: set() for i in range(len(claims))}  # i needs these first
    for i, c in enumerate(claims):
        for key in LINK_KEYS:
            after[i] |= {index[t] for t in c.payload.get(key, []) if t in index}
    waiting = {i: len(needs) for i, needs in after.items()}
    unblocks: dict[int, list[int]] = {i: [] for i in after}
    for i, needs in after.items():
        for j in needs:
            unblocks[j].append(i)
    ready = [i for i, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for k in unblocks[i]:
            waiting[k] -= 1
            if waiting[k] == 0:
                heapq.heappush(ready, k)
    if len(order) < len(claims):
        stuck = sorted(_slug(claims[i].payload["claim"]) for i, n in waiting.items() if n)
        raise InvalidEvent("claims link to each other in a cycle: " + ", ".join(stuck)
                           + " (state a symmetric contradicts once)")
    return [claims[i] for i in order]


def link_event(spec: Mapping[str, Any]) -> Event:
    """A ``ClaimsLinked`` event for a ``links`` entry ``{claim, denies|confirms|contradicts,
    note}``."""
    unknown = set(spec) - {"claim", *LINK_KEYS, "note"}
    if unknown:
        raise InvalidEvent(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    payload: dict[str, Any] = {"claim": claimfile.slug_iri(spec.get("claim"), CLAIM,
                                                            "link claim")}
    try:
        links = links_payload(spec)
    except InvalidEvent as exc:
        raise InvalidEvent(f"link of {spec.get('claim')}: {exc}") from exc
    if not links:
        raise InvalidEvent(f"link of {spec.get('claim')}: give denies, confirms or contradicts")
    payload.update(links)
    if spec.get("note"):
        payload["note"] = spec["note"]
    return Event(CLAIMS_LINKED, payload)


def amendment_event(spec: Mapping[str, Any]) -> Event:
    """An ``EntityAmended`` event for an ``amend_entities`` entry (``reason`` required)."""
    lists = ("add_types", "add_aliases", "remove_aliases", "curator_aliases", "add_same_as")
    unknown = set(spec) - {"id", "label", "description", "reason", *lists}
    if unknown:
        raise InvalidEvent(f"amend_entities: unknown field(s) "
                           f"{', '.join(sorted(map(str, unknown)))}")
    if not is_slug(str(spec.get("id", ""))):
        raise InvalidEvent(f"amend_entities: id must be an entity slug: {spec.get('id')!r}")
    what = f"amendment of {spec['id']}"
    if not isinstance(spec.get("reason"), str) or not spec["reason"].strip():
        raise InvalidEvent(f"{what}: 'reason' is required (why the entity changes)")
    payload: dict[str, Any] = {"entity": ID[str(spec["id"])].value, "reason": spec["reason"]}
    for key in ("label", "description"):
        if spec.get(key) is not None:
            payload[key] = spec[key]
    for key in lists:
        values = spec.get(key) or []
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            raise InvalidEvent(f"{what}: {key!r} must be a list")
        if key == "add_types":
            values = [claimfile.predicate_iri(t) for t in values]
        elif key == "add_same_as":
            values = [claimfile.expanded_iri(str(v), "add_same_as") for v in values]
        if values:
            payload[key] = values
    if set(payload) == {"entity", "reason"}:
        raise InvalidEvent(f"{what} changes nothing: give label, description, add_types, "
                           "add_aliases, remove_aliases, curator_aliases or add_same_as")
    return Event(ENTITY_AMENDED, payload)


def source_retraction(spec: Mapping[str, Any], claims: list[Event], ended: set[str],
                      lookup: LogLookup) -> list[Event]:
    """A ``ClaimRetracted`` for each live claim of the source, then its ``SourceRetracted``.

    ``ended`` holds the claims the batch already ends; it gains the ones retracted here.
    """
    unknown = set(spec) - {"source", "reason"}
    if unknown:
        raise InvalidEvent(f"retract_sources: unknown field(s) "
                           f"{', '.join(sorted(map(str, unknown)))}")
    source = claimfile.slug_iri(spec.get("source"), SOURCE, "retract_sources source")
    reason = spec.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidEvent(f"retraction of source {spec.get('source')}: 'reason' is required")
    live = list(lookup.live_claims_of(source))
    live += [c.payload["claim"] for c in claims
             if c.type == CLAIM_ASSERTED and c.payload["source"] == source]
    events = []
    for claim in dict.fromkeys(live):  # in order, once each
        if claim not in ended:
            ended.add(claim)
            events.append(claimfile.retraction_event(claim, f"source retracted: {reason}"))
    events.append(Event(SOURCE_RETRACTED, {"source": source, "reason": reason}))
    return events


def source_text_of(spec: Mapping[str, Any], base_dir: Path, index: int) -> str:
    if "text" in spec and "file" in spec:
        raise InvalidEvent(f"source {index}: give 'text' or 'file', not both")
    if "text" in spec:
        if not isinstance(spec["text"], str):
            raise InvalidEvent(f"source {index}: 'text' must be a string")
        return normalise_text(spec["text"].encode("utf-8"))
    if "file" not in spec:
        raise InvalidEvent(f"source {index}: give the text ('text') or a file path ('file')")
    # no resolve(): a NUL in the name must reach read_source_file, which refuses it
    return claimfile.read_source_file(base_dir / str(spec["file"]))


def _slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]
