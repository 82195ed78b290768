"""The reference rules of admission: what a payload names must exist, as the batch leaves
the log (the projection plus the batch's earlier events), and make sense.

- a claim's speakers, their affiliations and its occasion are declared entities; a quoted
  claim names at least one speaker, an asserted one none (the source's own voice);
- its speech act and basis are concepts of their schemes; ``said_on`` is not after its
  source's publication date; its source is not retracted;
- a link (``denies``/``confirms``/``contradicts``, in a claim or a ``ClaimsLinked``)
  targets a claim of the log or of the batch, not itself; ``denies`` one of the same
  subject and predicate;
- an ``EntityAmended`` amends a declared entity, removes aliases it has and adds world
  classes only;
- a ``SourceRetracted`` retracts a registered, unretracted source, and every claim of it
  live at the batch's end is retracted by the same batch.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rdflib
from pyoxigraph import DefaultGraph, Literal, NamedNode

from geokb.errors import InvalidEvent
from geokb.log.events import CLAIMS_LINKED, ENTITY_AMENDED, SOURCE_RETRACTED
from geokb.log.schemas import date_bounds
from geokb.ontology import Ontology
from geokb.projection.store import ProjectionStore
from geokb.vocab import DCTERMS, GK, MODALITY, PROV, RDF, SKOS, term_value
from geokb.write.context import ContextCache

DEFAULT = DefaultGraph()
LINK_KEYS = ("denies", "confirms", "contradicts")
_QUOTED, _ASSERTED = MODALITY.quoted.value, MODALITY.asserted.value


@dataclass
class Overlay:
    """The projection as the batch would leave it, for the questions the rules ask."""

    store: ProjectionStore
    entities: dict[str, list[str]] = field(default_factory=dict)
    aliases: dict[str, set[str]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    published: dict[str, str | None] = field(default_factory=dict)
    retracted_sources: dict[str, str] = field(default_factory=dict)  # IRI -> reason
    claims: dict[str, str] = field(default_factory=dict)  # IRI -> "live" | "ended"
    statements: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    #: remembered lookups of the projection between writes (see :mod:`geokb.write.context`)
    cache: ContextCache | None = None

    def _quads(self, s: str | None, p: NamedNode, o: NamedNode | None = None) -> Any:
        if s is not None and o is None and self.cache is not None:
            return iter(self.cache.quads(NamedNode(s), p, DEFAULT))
        node = NamedNode(s) if s is not None else None
        return self.store.quads(node, p, o, DEFAULT)

    def entity_types(self, iri: str) -> list[str] | None:
        if iri in self.entities:
            return self.entities[iri]
        if next(self._quads(iri, GK.declaredIn), None) is None:
            return None
        return [term_value(q.object) for q in self._quads(iri, RDF.type)]

    def declared(self) -> list[str]:
        """The IRIs of every entity declared in the projection or the batch so far."""
        stored = {q.subject.value for q in self._quads(None, GK.declaredIn)
                  if isinstance(q.subject, NamedNode) and "#" not in q.subject.value}
        return sorted(stored | set(self.entities))

    def entity_aliases(self, iri: str) -> set[str]:
        if iri not in self.aliases:
            self.aliases[iri] = {q.object.value for q in self._quads(iri, SKOS.altLabel)
                                 if isinstance(q.object, Literal)}
        return self.aliases[iri]

    def source_sha(self, iri: str) -> str | None:
        if iri in self.sources:
            return self.sources[iri]
        q = next(self._quads(iri, GK.sha256), None)
        return term_value(q.object) if q is not None else None

    def source_published(self, iri: str) -> str | None:
        if iri in self.published:
            return self.published[iri]
        q = next(self._quads(iri, DCTERMS.issued), None)
        return q.object.value if q is not None and isinstance(q.object, Literal) else None

    def source_retracted(self, iri: str) -> bool:
        return iri in self.retracted_sources or \
            next(self._quads(iri, GK.retractedIn), None) is not None

    def claim_state(self, iri: str) -> str | None:
        if iri in self.claims:
            return self.claims[iri]
        if next(self._quads(iri, GK.assertedIn), None) is None:
            return None
        ended = next(self._quads(iri, GK.knownUntilPosition), None)
        return "ended" if ended is not None else "live"

    def claim_statement(self, iri: str) -> tuple[str, str] | None:
        """The subject and predicate IRIs of a claim of the log or the batch."""
        if iri in self.statements:
            return self.statements[iri][:2]
        s = next(self._quads(iri, RDF.subject), None)
        p = next(self._quads(iri, RDF.predicate), None)
        if s is None or p is None:
            return None
        return term_value(s.object), term_value(p.object)

    def live_claims_of(self, source: str) -> list[str]:
        """The claims deriving from ``source`` that are live as the batch leaves them."""
        found = {term_value(q.subject)
                 for q in self._quads(None, PROV.wasDerivedFrom, NamedNode(source))}
        found |= {c for c, (_, _, src) in self.statements.items() if src == source}
        return sorted(c for c in found if self.claim_state(c) == "live")

    def check_source_retractions(self) -> None:
        """Raise unless no retracted source of the batch keeps a live claim."""
        for source in sorted(self.retracted_sources):
            live = self.live_claims_of(source)
            if live:
                raise InvalidEvent(
                    f"SourceRetracted {source}: its claim(s) {', '.join(live)} stay live; "
                    "retract them in the same batch (a claim file's retract_sources and "
                    "`geokb source retract` do)")


def _entity(overlay: Overlay, iri: str, role: str) -> list[str]:
    types = overlay.entity_types(iri)
    if types is None:
        raise InvalidEvent(unknown_entity(overlay, iri, role))
    return types


def unknown_entity(overlay: Overlay, iri: str, role: str) -> str:
    """The message for an undeclared entity, with the nearest declared slugs if any."""
    hint = did_you_mean(iri, overlay.declared())
    return f"unknown entity {iri} as {role}: declare it first{hint}"


def did_you_mean(iri: str, known: Iterable[str]) -> str:
    """``"; did you mean tartus-naval-base?"`` for the known IRIs whose last segment is close
    to ``iri``'s, or "".

    >>> did_you_mean("https://w3id.org/geokb/id/tartus-navalbase",
    ...              ["https://w3id.org/geokb/id/tartus-naval-base"])
    '; did you mean tartus-naval-base?'
    """
    by_slug = {k.rsplit("/", 1)[-1]: k for k in known}
    close = difflib.get_close_matches(iri.rsplit("/", 1)[-1], list(by_slug), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def _in_scheme(onto: Ontology, iri: str, scheme: str) -> bool:
    return (rdflib.URIRef(iri), rdflib.URIRef(SKOS.inScheme.value),
            rdflib.URIRef(GK[scheme].value)) in onto.graph


def check_claim_references(p: Mapping[str, Any], overlay: Overlay, onto: Ontology) -> None:
    """The belief-model references of a ``ClaimAsserted`` payload (schema 2)."""
    speakers = p.get("speakers") or []
    for n, speaker in enumerate(speakers, start=1):
        if "entity" in speaker:
            _entity(overlay, speaker["entity"], f"speaker {n}")
            continue
        for key in ("affiliation", "spokesperson_for"):
            if key in speaker["anonymous"]:
                _entity(overlay, speaker["anonymous"][key], f"speaker {n} {key}")
    if p["modality"] == _QUOTED and not speakers:
        raise InvalidEvent("a quoted claim names at least one speaker (speakers: [...]); "
                           "if the source says it in its own voice, make it asserted")
    if p["modality"] == _ASSERTED and speakers:
        raise InvalidEvent("an asserted claim is the source's own voice and has no speaker; "
                           "make it quoted")
    if p.get("occasion"):
        _entity(overlay, p["occasion"], "occasion")
    for key, scheme in (("speech_act", "SpeechActScheme"), ("basis", "BasisScheme")):
        values = p.get(key)
        for value in [values] if isinstance(values, str) else values or []:
            if not _in_scheme(onto, value, scheme):
                raise InvalidEvent(f"{key} {value} is not a concept of gk:{scheme}")
    source = str(p["source"])
    if overlay.source_retracted(source):
        raise InvalidEvent(f"source {source} is retracted: a claim cannot cite it")
    if p.get("said_on") is not None:
        published = overlay.source_published(source)
        if published is not None and \
                date_bounds(p["said_on"])[0] > date_bounds(published)[1]:
            raise InvalidEvent(f"said_on {p['said_on']} is after the source's publication "
                               f"date {published}: a source reports what was said before it")
    check_links(str(p["claim"]), p, overlay, own=(str(p["subject"]), str(p["predicate"])))


def check_links(claim: str, p: Mapping[str, Any], overlay: Overlay, *,
                own: tuple[str, str] | None) -> None:
    for key in LINK_KEYS:
        for target in p.get(key) or []:
            if target == claim:
                raise InvalidEvent(f"a claim cannot {key[:-1]} itself")
            if overlay.claim_state(target) is None:
                raise InvalidEvent(f"{key}: no claim {target} in the log or this batch")
            if key == "denies" and own is not None and overlay.claim_statement(target) != own:
                raise InvalidEvent(f"{claim} denies {target}, a claim of another subject or "
                                   "predicate: write contradicts")


def check_new_event(event_type: str, p: Mapping[str, Any], overlay: Overlay,
                    onto: Ontology) -> None:
    """The rules of ``ClaimsLinked``, ``EntityAmended`` and ``SourceRetracted``."""
    if event_type == CLAIMS_LINKED:
        claim = str(p["claim"])
        if overlay.claim_state(claim) is None:
            raise InvalidEvent(f"no claim {claim} in the log or this batch")
        check_links(claim, p, overlay, own=overlay.claim_statement(claim))
    elif event_type == ENTITY_AMENDED:
        entity = str(p["entity"])
        types = _entity(overlay, entity, "entity to amend")
        for t in p.get("add_types", []):
            if not onto.is_world_class(t):
                raise InvalidEvent(f"unknown class {t}: add a class of the ontology "
                                   "(e.g. gk:Airfield)")
        aliases = overlay.entity_aliases(entity)
        missing = [a for a in p.get("remove_aliases", []) if a not in aliases]
        if missing:
            raise InvalidEvent(f"{entity} has no alias {', '.join(map(repr, missing))} to remove")
        aliases -= set(p.get("remove_aliases", []))
        aliases |= {*p.get("add_aliases", []), *p.get("curator_aliases", [])}
        overlay.entities[entity] = [*types, *(t for t in p.get("add_types", []) if t not in types)]
    elif event_type == SOURCE_RETRACTED:
        source = str(p["source"])
        if overlay.source_sha(source) is None:
            raise InvalidEvent(f"unknown source {source}: nothing to retract")
        if overlay.source_retracted(source):
            raise InvalidEvent(f"source {source} is already retracted")
        overlay.retracted_sources[source] = str(p["reason"])
