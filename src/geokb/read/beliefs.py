"""What the belief model adds to a claim's answer: its times, speakers, speech act, basis,
grades and links, read from the claim's record in the default graph (never from the
attributed or conflicts graphs, so as-of answers need no replay).

Every function takes the projection and a claim IRI and reads a handful of triples; the
times verdicts themselves are :mod:`geokb.times`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pyoxigraph import NamedNode

from geokb.errors import BadTime
from geokb.projection.quads import DEFAULT
from geokb.projection.timeview import recorded_at
from geokb.read.memo import REMEMBERED_TERMS
from geokb.read.reader import Reader, as_int, label_of, props, term_json
from geokb.times import (
    ClaimTimes,
    Holding,
    Reported,
    Span,
    day_of,
    denial_times,
    holding,
    period,
    span,
)
from geokb.vocab import DCTERMS, GK, MODALITY, PROV, RDF

# The terms of the hot path, made once (``GK.x`` builds a new term at each use).
_AFFILIATION = GK.affiliation
_BASIS = GK.basis
_CONFIRMS = GK.confirms
_CONTRADICTS = GK.contradicts
_COUNT = GK.count
_DENIES = GK.denies
_DESCRIPTION = GK.description
_INFORMATION_CREDIBILITY = GK.informationCredibility
_MODALITY = GK.modality
_OCCASION = GK.occasion
_PUBLICATION_PRECISION = GK.publicationPrecision
_PUBLISHED_END = GK.publishedEnd
_PUBLISHED_START = GK.publishedStart
_SAID_END = GK.saidEnd
_SAID_ON = GK.saidOn
_SAID_ON_PRECISION = GK.saidOnPrecision
_SAID_START = GK.saidStart
_SOURCE_RELIABILITY = GK.sourceReliability
_SPEAKER = GK.speaker
_SPEECH_ACT = GK.speechAct
_SPOKESPERSON_FOR = GK.spokespersonFor
_VALID_END = GK.validEnd
_VALID_FROM = GK.validFrom
_VALID_FROM_PRECISION = GK.validFromPrecision
_VALID_START = GK.validStart
_VALID_UNTIL = GK.validUntil
_VALID_UNTIL_PRECISION = GK.validUntilPrecision

_DENIED = MODALITY.denied.value
_QUOTED = MODALITY.quoted.value
_ANONYMOUS = GK.AnonymousSpeaker


def local(iri: Any) -> str:
    """The last segment of an IRI (``…/speech-act/pledges`` → ``pledges``)."""
    value = iri.value if hasattr(iri, "value") else str(iri)
    return str(value).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _day(term: Any) -> date | None:
    if term is None:
        return None
    try:
        return date.fromisoformat(str(term.value))
    except ValueError:
        return None


def _period_last(term: Any) -> date | None:
    if term is None:
        return None
    try:
        return period(str(term.value))[1]
    except BadTime:
        return None


@dataclass(frozen=True)
class ReportedTime:
    """A claim's reported time: the days, and what the answer shows of it."""

    span: Reported
    value: str
    precision: str

    def json(self) -> dict[str, str]:
        return {"value": self.value, "precision": self.precision, "from": self.span.origin}


def source_of(r: Reader, claim: NamedNode) -> NamedNode | None:
    src = r.store.one(claim, PROV.wasDerivedFrom)
    return src if isinstance(src, NamedNode) else None


def reported_time(r: Reader, claim: NamedNode) -> ReportedTime | None:
    """The claim's ``said_on``, else its source's publication date; ``None`` if neither."""
    said = r.store.one(claim, _SAID_ON)
    if said is not None:
        first = _day(r.store.one(claim, _SAID_START))
        last = _day(r.store.one(claim, _SAID_END))
        precision = r.store.one(claim, _SAID_ON_PRECISION)
        if first is None or last is None:
            try:
                first, last, prec = period(str(said.value))
            except BadTime:
                return None
        else:
            prec = local(precision) if precision is not None else "day"
        return ReportedTime(Reported(first, last, "claim"), str(said.value),
                            local(precision) if precision is not None else prec)
    src = source_of(r, claim)
    issued = r.store.one(src, DCTERMS.issued) if src is not None else None
    if src is None or issued is None:
        return None
    first = _day(r.store.one(src, _PUBLISHED_START))
    last = _day(r.store.one(src, _PUBLISHED_END))
    try:
        p_first, p_last, prec = period(str(issued.value)[:10])
    except BadTime:
        return None
    precision = r.store.one(src, _PUBLICATION_PRECISION)
    return ReportedTime(Reported(first or p_first, last or p_last, "source"), str(issued.value),
                        local(precision) if precision is not None else prec)


def own_times(r: Reader, claim: NamedNode) -> ClaimTimes:
    """The claim's own valid time and reported time, as :mod:`geokb.times` takes them."""
    return _own_times(r, claim, reported_time(r, claim))


def _own_times(r: Reader, claim: NamedNode, reported: ReportedTime | None) -> ClaimTimes:
    start = _day(r.store.one(claim, _VALID_START))
    return ClaimTimes(valid_start=start, valid_end=_day(r.store.one(claim, _VALID_END)),
                      valid_start_last=_period_last(r.store.one(claim, _VALID_FROM)) or start,
                      reported=reported.span if reported is not None else None)


def denied_targets(r: Reader, claim: NamedNode) -> list[NamedNode]:
    return sorted((q.object for q in r.store.quads(claim, _DENIES, None, DEFAULT)
                   if isinstance(q.object, NamedNode)), key=lambda n: n.value)


def _times(r: Reader, claim: NamedNode) -> tuple[ClaimTimes, ReportedTime | None]:
    """The claim's judged times and reported time, remembered for the log position."""
    memo = r.remembered().claim_times
    known = memo.get(claim.value)
    if known is None:
        if len(memo) >= REMEMBERED_TERMS:
            memo.clear()
        reported = reported_time(r, claim)
        own = _own_times(r, claim, reported)
        if not own.dated:
            targets = denied_targets(r, claim)
            if targets:
                target = targets[0]
                own = denial_times(own, _own_times(r, target, reported_time(r, target)))
        known = memo[claim.value] = (own, reported)
    return known


def judged_times(r: Reader, claim: NamedNode) -> ClaimTimes:
    """The times a claim is judged by at T: a denial with no valid time of its own takes
    the time of the claim it denies (it speaks of that time)."""
    return _times(r, claim)[0]


def reported_of(r: Reader, claim: NamedNode) -> ReportedTime | None:
    """:func:`reported_time`, remembered for the log position."""
    return _times(r, claim)[1]


def holding_at(r: Reader, claim: NamedNode, t: Span) -> Holding | None:
    """``holds``, ``last_reported``, ``undated`` or ``None`` (not part of the answer at T)."""
    return holding(judged_times(r, claim), t)


def is_negated(r: Reader, claim: NamedNode) -> bool:
    m = r.store.one(claim, _MODALITY)
    return m is not None and m.value == _DENIED


def speakers_json(r: Reader, claim: NamedNode) -> list[dict[str, Any]]:
    """Named speakers as ``{"iri", "label"}``, unnamed ones as ``{"anonymous", "count",
    "affiliation", "spokesperson_for"}``: named first (by label), then unnamed in the
    source's order."""
    named: list[dict[str, Any]] = []
    unnamed: list[tuple[int, dict[str, Any]]] = []
    for q in r.store.quads(claim, _SPEAKER, None, DEFAULT):
        node = q.object
        if not isinstance(node, NamedNode):
            continue
        p = props(r.store, node)
        if _ANONYMOUS.value in {t.value for t in p.get(RDF.type.value, [])} \
                or _DESCRIPTION.value in p:
            description = p.get(_DESCRIPTION.value, [None])[0]
            affiliation = p.get(_AFFILIATION.value, [None])[0]
            spokes = p.get(_SPOKESPERSON_FOR.value, [None])[0]
            count = p.get(_COUNT.value, [None])[0]
            index = node.value.rsplit("-", 1)[-1]
            unnamed.append((int(index) if index.isdigit() else 0, {
                "anonymous": str(description.value) if description is not None else None,
                "count": as_int(count),
                "affiliation": term_json(r, affiliation)
                if affiliation is not None else None,
                "spokesperson_for": term_json(r, spokes)
                if spokes is not None else None,
            }))
        else:
            named.append({"iri": node.value, "label": label_of(r, node)})
    named.sort(key=lambda s: (s["label"], s["iri"]))
    return named + [s for _, s in sorted(unnamed, key=lambda x: x[0])]


def grades_json(r: Reader, claim: NamedNode) -> dict[str, Any]:
    """The claim's Admiralty grades, else its source's, and which they are."""
    for holder, origin in ((claim, "claim"), (source_of(r, claim), "source")):
        if holder is None:
            continue
        grade = r.store.one(holder, _SOURCE_RELIABILITY)
        c = r.store.one(holder, _INFORMATION_CREDIBILITY)
        if grade is not None or c is not None:
            return {"reliability": local(grade) if grade is not None else None,
                    "credibility": local(c) if c is not None else None, "from": origin}
    return {"reliability": None, "credibility": None, "from": None}


def speech_act(r: Reader, claim: NamedNode) -> str | None:
    """The claim's speech act; ``states`` for a quoted claim that names none."""
    act = r.store.one(claim, _SPEECH_ACT)
    if act is not None:
        return local(act)
    m = r.store.one(claim, _MODALITY)
    return "states" if m is not None and m.value == _QUOTED else None


def links_json(r: Reader, claim: NamedNode) -> dict[str, list[str]]:
    """The claims it denies, confirms, contradicts, and those that deny or confirm it."""
    def out(p: NamedNode) -> list[str]:
        return sorted(q.object.value for q in r.store.quads(claim, p, None, DEFAULT)
                      if isinstance(q.object, NamedNode))

    def into(p: NamedNode) -> list[str]:
        quads = r.store.quads(None, p, claim, DEFAULT)
        return sorted(q.subject.value for q in quads if isinstance(q.subject, NamedNode))

    return {"denies": out(_DENIES), "confirms": out(_CONFIRMS),
            "contradicts": sorted({*out(_CONTRADICTS), *into(_CONTRADICTS)}),
            "denied_by": into(_DENIES), "confirmed_by": into(_CONFIRMS)}


def source_brief(r: Reader, claim: NamedNode) -> dict[str, Any] | None:
    src = source_of(r, claim)
    if src is None:
        return None
    title = r.store.one(src, DCTERMS.title)
    publisher = r.store.one(src, DCTERMS.publisher)
    return {"iri": src.value, "title": str(title.value) if title is not None else None,
            "publisher": term_json(r, publisher)
            if isinstance(publisher, NamedNode) else None}


def belief_json(r: Reader, claim: NamedNode,
                t: Span | None = None) -> dict[str, Any]:
    """The belief-model fields of a claim's answer (``claim_json`` gains them); with
    ``t``, also its ``holding`` at that world time."""
    occasion = r.store.one(claim, _OCCASION)
    reported = reported_of(r, claim)
    speakers = speakers_json(r, claim)
    out: dict[str, Any] = {
        "speakers": speakers,
        "speech_act": speech_act(r, claim),
        "basis": sorted(local(q.object) for q in
                        r.store.quads(claim, _BASIS, None, DEFAULT)),
        "occasion": term_json(r, occasion) if occasion is not None else None,
        "reported_time": reported.json() if reported is not None else None,
        "grades": grades_json(r, claim),
        "links": links_json(r, claim),
    }
    if t is not None:
        out["holding"] = holding_at(r, claim, t)
    return out


def side_claim_json(r: Reader, claim: NamedNode,
                    t: Span) -> dict[str, Any]:
    """A claim as a side of a conflict shows it (``docs/json-schema.md``)."""
    c = props(r.store, claim)

    def when(value_p: NamedNode, prec_p: NamedNode) -> dict[str, str] | None:
        value = c.get(value_p.value, [None])[0]
        if value is None:
            return None
        precision = c.get(prec_p.value, [None])[0]
        return {"value": str(value.value),
                "precision": local(precision) if precision is not None else "day"}

    reported = reported_of(r, claim)
    modality = c.get(_MODALITY.value, [None])[0]
    return {
        "claim": claim.value,
        "id": local(claim),
        "modality": local(modality) if modality is not None else None,
        "speech_act": speech_act(r, claim),
        "speakers": speakers_json(r, claim),
        "source": source_brief(r, claim),
        "reported_time": reported.json() if reported is not None else None,
        "valid_time": {"from": when(_VALID_FROM, _VALID_FROM_PRECISION),
                       "until": when(_VALID_UNTIL, _VALID_UNTIL_PRECISION)},
        "holding": holding_at(r, claim, t),
        "basis": sorted(local(q.object) for q in
                        r.store.quads(claim, _BASIS, None, DEFAULT)),
        "grades": grades_json(r, claim),
    }


def who(side_claim: dict[str, Any]) -> str:
    """The speakers of a side claim in words: ``two Syrian officials, unnamed``,
    ``spokesperson, Russian defence ministry``, a named speaker's label."""
    parts = []
    for s in side_claim["speakers"]:
        if "iri" in s:
            parts.append(s["label"])
        elif s.get("spokesperson_for") is not None:
            parts.append(f"spokesperson, {s['spokesperson_for']['label']}")
        else:
            parts.append(f"{s['anonymous']}, unnamed")
    return "; ".join(parts)


def outlet(side_claim: dict[str, Any]) -> str | None:
    src = side_claim.get("source")
    if not src:
        return None
    if src.get("publisher"):
        return str(src["publisher"]["label"])
    return str(src["title"]) if src.get("title") else None


def voice(side_claim: dict[str, Any]) -> str:
    """``(<who>, via <outlet>)``; the source's own assertion is ``(<outlet>)``."""
    speakers, via = who(side_claim), outlet(side_claim)
    if not speakers:
        return f"({via})" if via else ""
    return f"({speakers}, via {via})" if via else f"({speakers})"


def world_time(r: Reader, as_of: int | None, valid_at: str | None) -> Span:
    """T: ``valid_at``'s days, else the day the answer's log position was recorded (today
    for an empty log). Raises :class:`~geokb.errors.BadTime` for a malformed ``valid_at``."""
    if valid_at is not None:
        return span(valid_at)
    recorded = recorded_at(r.store, r.store.position if as_of is None else as_of)
    if recorded is not None:
        return day_of(recorded)
    return span(datetime.now(UTC).date().isoformat())


def at_json(t: Span) -> dict[str, str]:
    return {"from": t.first.isoformat(), "until": t.last.isoformat()}
