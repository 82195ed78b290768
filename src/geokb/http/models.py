"""The API's documentation models: what ``/openapi.json`` and ``/docs`` show.

The handlers return the facade's JSON as it is; these models describe it (and check the
bodies of writes: :class:`ClaimIn`, :class:`RetractIn`, :class:`SupersedeIn`). Error
responses are problems (:class:`ErrorOut`, ``application/problem+json``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ErrorOut(_Open):
    """A problem (RFC 9457, ``application/problem+json``); see docs/http.md for the types."""

    type: str = Field(examples=["https://w3id.org/geokb/problems/not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["no entity is named 'Tartous' (try a label, an alias or a "
                                  "slug)"])
    error: str | None = Field(None, description="The same as detail (deprecated)")
    results: list[dict[str, Any]] | None = Field(None, description="SHACL results (422)")
    candidates: list[dict[str, str]] | None = Field(None, description="Ambiguous name (409)")


class EntityMatch(_Open):
    iri: str = Field(examples=["https://w3id.org/geokb/id/tartus-naval-base"])
    id: str = Field(examples=["tartus-naval-base"])
    label: str = Field(examples=["Tartus naval base"])
    types: list[str] = Field(examples=[["gk:NavalBase"]])
    aliases: list[str] = Field(examples=[["Tartus"]])


class EntityMatches(_Open):
    matches: list[EntityMatch]


class EntityRow(EntityMatch):
    claims: int = Field(description="Live claims about it", examples=[5])


class EntityList(_Open):
    """Without ``q``: ``entities`` and ``types`` (how many of each); with ``q``:
    ``matches``."""

    entities: list[EntityRow] | None = None
    types: dict[str, int] | None = Field(None, examples=[{"gk:Person": 4}])
    matches: list[EntityMatch] | None = None


class SourceRow(_Open):
    iri: str = Field(examples=["https://w3id.org/geokb/source/article-syria-russia"])
    id: str = Field(examples=["article-syria-russia"])
    title: str | None = None
    publisher: str | None = Field(None, description="The publisher's label")
    published: str | None = Field(None, examples=["2025-09-16"])
    reliability: str | None = Field(None, description="Admiralty grade A–F",
                                    examples=["B"])
    credibility: str | None = Field(None, description="Admiralty grade 1–6", examples=["2"])
    claims: int = Field(description="Live claims citing it")
    retracted: bool


class SourceList(_Open):
    sources: list[SourceRow]


class RecentEvent(_Open):
    position: int
    type: str = Field(examples=["ClaimAsserted"])
    recorded_at: str
    recorded_by: str
    summary: str = Field(examples=["claim tartus-withdrawn-per-syrian-officials"])
    link: str | None = Field(None, description="The page route of what it is about",
                             examples=["#/claim/tartus-withdrawn-per-syrian-officials"])


class RecentEvents(_Open):
    events: list[RecentEvent] = Field(description="Newest first")
    head: int


class SearchOut(_Open):
    """Entities by name, and the passages of source texts that hold the words."""

    q: str
    entities: list[EntityRow]
    sources: list[dict[str, Any]] = Field(description="{iri, id, title, count, passages: "
                                          "[{start, end, before, match, after}]}")


class DeskOut(_Open):
    """What the home page opens on."""

    position: int
    counts: dict[str, int]
    contested: list[dict[str, Any]] = Field(description="As /api/conflicts gives them")
    latest_claims: list[dict[str, Any]] = Field(description="As /api/claims/{id} gives "
                                                "them, newest first")


class TermOut(_Open):
    iri: str | None = None
    label: str | None = None
    value: str | None = None
    lang: str | None = None
    datatype: str | None = None


class StatementOut(_Open):
    subject: TermOut
    predicate: TermOut
    object: TermOut


class SourceRef(_Open):
    iri: str
    title: str
    sha256: str


class EvidenceOut(_Open):
    quote: str = Field(examples=["remains unclear"])
    start: int
    end: int
    prefix: str
    suffix: str
    sha256: str


class DateOut(_Open):
    value: str = Field(examples=["2024-12"])
    precision: str = Field(examples=["month"])


class ValidTimeOut(_Open):
    from_: DateOut | None = Field(None, alias="from")
    until: DateOut | None = None


class LogRef(_Open):
    event: str
    position: int
    recorded_at: str
    recorded_by: str


class LifecycleOut(_Open):
    state: str = Field(examples=["live"], description="live, retracted or superseded")
    asserted: LogRef
    retracted: dict[str, Any] | None = None
    superseded: dict[str, Any] | None = None


class ClaimOut(_Open):
    claim: str = Field(examples=["https://w3id.org/geokb/claim/tartus-status"])
    id: str = Field(examples=["tartus-status"])
    statement: StatementOut
    modality: str = Field(examples=["asserted"])
    source: SourceRef
    evidence: EvidenceOut
    speaker: TermOut | None = None
    reported_via: list[TermOut] = []
    valid_time: ValidTimeOut
    confidence: str | None = None
    note: str | None = None
    lifecycle: LifecycleOut


class EntityOut(_Open):
    iri: str
    label: str
    types: list[str]
    aliases: list[str]
    same_as: list[str]


class StatusValue(_Open):
    value: str = Field(examples=["https://w3id.org/geokb/status/uncertain"])
    label: str
    modality: str
    claim: str
    negated: bool = Field(False, description="true for a denied claim: 'not <label>'")
    holding: str | None = Field(None, description="holds | last_reported at the world time")
    reported_time: dict[str, Any] | None = Field(
        None, description="{value, precision, from: claim | source}, or null when unknown")


class AtOut(_Open):
    from_: str = Field(alias="from", description="First day of the world time T")
    until: str = Field(description="Last day of T")


class ConflictOut(_Open):
    conflict: str = Field(examples=["https://w3id.org/geokb/conflict/a20b681396573863"])
    on: dict[str, Any] | None
    property: dict[str, Any] | None
    rules: list[str] = Field(description="single-valued | denial | contradiction")
    contested_since: str | None
    sides: list[dict[str, Any]] = Field(description="Claims grouped by what they say: value, "
                                                    "negated, label, claims")
    line: str = Field(description="The conflict in words")


class NextPage(_Open):
    as_of: int = Field(description="The log position the first page was read at")
    valid_at: str | None = None
    offset: int
    limit: int | None


class PageOut(_Open):
    offset: int
    limit: int | None = Field(description="null: every claim on one page")
    total: int = Field(description="Claims about the entity in this view, on every page")
    next: NextPage | None = Field(description="The query parameters of the next page "
                                              "(also in the Link header); null at the end")


class StatusOut(_Open):
    entity: EntityOut
    as_of: int | None = None
    valid_at: str | None = None
    at: AtOut | None = None
    assessment: str | None = Field(None, description="settled | contested | unknown")
    line: str | None = Field(None, description="The status in words")
    status: list[StatusValue] = Field(description="The status claims that hold or were last "
                                                  "reported at the world time, on every page")
    undated: list[str] = Field([], description="Undated status claims: never holding")
    conflicts: list[ConflictOut] = Field([], description="Conflicts on the entity at T")
    claims: list[ClaimOut]
    page: PageOut


class ConflictsOut(_Open):
    as_of: int | None = None
    valid_at: str | None = None
    at: AtOut
    conflicts: list[ConflictOut]
    page: PageOut


class TimelineOut(_Open):
    entity: EntityOut
    as_of: int | None = None
    valid_at: str | None = None
    claims: list[ClaimOut]
    page: PageOut


class SpanOut(_Open):
    claim: str
    id: str
    start: int
    end: int
    quote: str
    modality: str
    live: bool


class SourceOut(_Open):
    iri: str
    id: str
    title: str | None
    sha256: str
    text: str
    spans: list[SpanOut]


class EnvelopeOut(_Open):
    id: str
    type: str = Field(examples=["ClaimAsserted"])
    schema_version: int = Field(alias="schema")
    seq: int
    recorded_at: str
    recorded_by: str
    payload: dict[str, Any]
    prev: str
    hash: str
    idem: str | None = None


class EventsPage(_Open):
    events: list[EnvelopeOut]
    next: int | None = Field(description="Pass as ?after= for the next page; null at the end")
    head: int = Field(description="The log's last position")


class Health(_Open):
    position: int


class UpdateOut(_Open):
    position: int
    events: list[dict[str, Any]]


class ClaimIn(BaseModel):
    """A claim, with the keys of a claim in a YAML claim file."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "subject": "tartus-naval-base", "predicate": "gk:status", "object": "status:uncertain",
        "modality": "asserted", "source": "article-one", "quote": "remains unclear"}]})

    subject: str
    predicate: str
    object: str | dict[str, str]
    modality: str
    source: str
    quote: str
    occurrence: int | None = None
    start: int | None = None
    speaker: str | None = None
    reported_via: list[str] | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    valid_at: str | None = None
    confidence: str | int | float | None = None
    note: str | None = None
    id: str | None = None


class RetractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(examples=["the source corrected itself"])


class SupersedeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(examples=["tartus-status-2025"])
    reason: str = Field(examples=["a later report settles it"])
    cross_entity: str | None = Field(
        None, description="Why the replacing claim is about another subject (required then)")


class AmendIn(BaseModel):
    """An entity amendment (``EntityAmended``): a reason and at least one change."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(examples=["the alias is not in the article"])
    label: str | None = None
    description: str | None = None
    add_aliases: list[str] = Field(default_factory=list, description="names the sources use")
    curator_aliases: list[str] = Field(default_factory=list,
                                       description="names from the curator's knowledge")
    remove_aliases: list[str] = Field(default_factory=list)
    add_types: list[str] = Field(default_factory=list, examples=[["gk:Airfield"]])
    add_same_as: list[str] = Field(default_factory=list)


class SourceRetractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(examples=["the outlet withdrew the report"])


class LinksIn(BaseModel):
    """Claims that the claim of the path denies, confirms or contradicts (``ClaimsLinked``)."""

    model_config = ConfigDict(extra="forbid")
    denies: list[str] = Field(default_factory=list, examples=[["tartus-withdrawn"]])
    confirms: list[str] = Field(default_factory=list)
    contradicts: list[str] = Field(default_factory=list)
    note: str | None = None


def docs(model: type[BaseModel], *errors: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses``: ``model`` for 200, a problem for each status in ``errors``."""
    out: dict[int | str, dict[str, Any]] = {200: {"model": model}}
    for status in errors:
        out[status] = PROBLEM
    return out


#: An error response in OpenAPI: a problem body, typed application/problem+json.
PROBLEM: dict[str, Any] = {"model": ErrorOut, "content": {"application/problem+json": {
    "schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
