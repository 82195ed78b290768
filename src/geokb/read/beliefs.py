"""What the belief model adds to a claim's answer: its times, speakers, speech act, basis,
grades and links, read from the claim's record in the default graph (never from the
attributed or conflicts graphs, so as-of answers need no replay).

Every function takes the projection and a claim IRI and reads a handful of triples; the
times verdicts themselves are :mod:`geokb.times`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pyoxigraph import NamedNode

from geokb.errors import BadTime
from geokb.projection.quads import DEFAULT
from geokb.projection.store import ProjectionStore
from geokb.read.queries import as_int, label_of, one, props, term_json
from geokb.times import ClaimTimes, Holding, Reported, Span, denial_times, holding, period
from geokb.vocab import DCTERMS, GK, MODALITY, PROV, RDF

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


def source_of(store: ProjectionStore, claim: NamedNode) -> NamedNode | None:
    src = one(store, claim, PROV.wasDerivedFrom)
    return src if isinstance(src, NamedNode) else None


def reported_time(store: ProjectionStore, claim: NamedNode) -> ReportedTime | None:
    """The claim's ``said_on``, else its source's publication date; ``None`` if neither."""
    said = one(store, claim, GK.saidOn)
    if said is not None:
        first = _day(one(store, claim, GK.saidStart))
        last = _day(one(store, claim, GK.saidEnd))
        precision = one(store, claim, GK.saidOnPrecision)
        if first is None or last is None:
            try:
                first, last, prec = period(str(said.value))
            except BadTime:
                return None
        else:
            prec = local(precision) if precision is not None else "day"
        return ReportedTime(Reported(first, last, "claim"), str(said.value),
                            local(precision) if precision is not None else prec)
    src = source_of(store, claim)
    issued = one(store, src, DCTERMS.issued) if src is not None else None
    if src is None or issued is None:
        return None
    first = _day(one(store, src, GK.publishedStart))
    last = _day(one(store, src, GK.publishedEnd))
    try:
        p_first, p_last, prec = period(str(issued.value)[:10])
    except BadTime:
        return None
    precision = one(store, src, GK.publicationPrecision)
    return ReportedTime(Reported(first or p_first, last or p_last, "source"), str(issued.value),
                        local(precision) if precision is not None else prec)


def own_times(store: ProjectionStore, claim: NamedNode) -> ClaimTimes:
    """The claim's own valid time and reported time, as :mod:`geokb.times` takes them."""
    reported = reported_time(store, claim)
    start = _day(one(store, claim, GK.validStart))
    return ClaimTimes(valid_start=start, valid_end=_day(one(store, claim, GK.validEnd)),
                      valid_start_last=_period_last(one(store, claim, GK.validFrom)) or start,
                      reported=reported.span if reported is not None else None)


def denied_targets(store: ProjectionStore, claim: NamedNode) -> list[NamedNode]:
    return sorted((q.object for q in store.store.quads_for_pattern(claim, GK.denies, None, DEFAULT)
                   if isinstance(q.object, NamedNode)), key=lambda n: n.value)


def judged_times(store: ProjectionStore, claim: NamedNode) -> ClaimTimes:
    """The times a claim is judged by at T: a denial with no valid time of its own takes
    the time of the claim it denies (it speaks of that time)."""
    own = own_times(store, claim)
    if own.dated:
        return own
    targets = denied_targets(store, claim)
    if not targets:
        return own
    return denial_times(own, own_times(store, targets[0]))


def holding_at(store: ProjectionStore, claim: NamedNode, t: Span) -> Holding | None:
    """``holds``, ``last_reported``, ``undated`` or ``None`` (not part of the answer at T)."""
    return holding(judged_times(store, claim), t)


def is_negated(store: ProjectionStore, claim: NamedNode) -> bool:
    m = one(store, claim, GK.modality)
    return m is not None and m.value == _DENIED


def speakers_json(store: ProjectionStore, claim: NamedNode,
                  labels: dict[str, str]) -> list[dict[str, Any]]:
    """Named speakers as ``{"iri", "label"}``, unnamed ones as ``{"anonymous", "count",
    "affiliation", "spokesperson_for"}``: named first (by label), then unnamed in the
    source's order."""
    named: list[dict[str, Any]] = []
    unnamed: list[tuple[int, dict[str, Any]]] = []
    for q in store.store.quads_for_pattern(claim, GK.speaker, None, DEFAULT):
        node = q.object
        if not isinstance(node, NamedNode):
            continue
        p = props(store, node)
        if _ANONYMOUS.value in {t.value for t in p.get(RDF.type.value, [])} \
                or GK.description.value in p:
            description = p.get(GK.description.value, [None])[0]
            affiliation = p.get(GK.affiliation.value, [None])[0]
            spokes = p.get(GK.spokespersonFor.value, [None])[0]
            count = p.get(GK.count.value, [None])[0]
            index = node.value.rsplit("-", 1)[-1]
            unnamed.append((int(index) if index.isdigit() else 0, {
                "anonymous": str(description.value) if description is not None else None,
                "count": as_int(count),
                "affiliation": term_json(store, affiliation, labels)
                if affiliation is not None else None,
                "spokesperson_for": term_json(store, spokes, labels)
                if spokes is not None else None,
            }))
        else:
            named.append({"iri": node.value, "label": label_of(store, node, labels)})
    named.sort(key=lambda s: (s["label"], s["iri"]))
    return named + [s for _, s in sorted(unnamed, key=lambda x: x[0])]


def grades_json(store: ProjectionStore, claim: NamedNode) -> dict[str, Any]:
    """The claim's Admiralty grades, else its source's, and which they are."""
    for holder, origin in ((claim, "claim"), (source_of(store, claim), "source")):
        if holder is None:
            continue
        r = one(store, holder, GK.sourceReliability)
        c = one(store, holder, GK.informationCredibility)
        if r is not None or c is not None:
            return {"reliability": local(r) if r is not None else None,
                    "credibility": local(c) if c is not None else None, "from": origin}
    return {"reliability": None, "credibility": None, "from": None}


def speech_act(store: ProjectionStore, claim: NamedNode) -> str | None:
    """The claim's speech act; ``states`` for a quoted claim that names none."""
    act = one(store, claim, GK.speechAct)
    if act is not None:
        return local(act)
    m = one(store, claim, GK.modality)
    return "states" if m is not None and m.value == _QUOTED else None


def links_json(store: ProjectionStore, claim: NamedNode) -> dict[str, list[str]]:
    """The claims it denies, confirms, contradicts, and those that deny or confirm it."""
    def out(p: NamedNode) -> list[str]:
        return sorted(q.object.value for q in store.store.quads_for_pattern(claim, p, None, DEFAULT)
                      if isinstance(q.object, NamedNode))

    def into(p: NamedNode) -> list[str]:
        quads = store.store.quads_for_pattern(None, p, claim, DEFAULT)
        return sorted(q.subject.value for q in quads if isinstance(q.subject, NamedNode))

    return {"denies": out(GK.denies), "confirms": out(GK.confirms),
            "contradicts": sorted({*out(GK.contradicts), *into(GK.contradicts)}),
            "denied_by": into(GK.denies), "confirmed_by": into(GK.confirms)}


def source_brief(store: ProjectionStore, claim: NamedNode,
                 labels: dict[str, str]) -> dict[str, Any] | None:
    src = source_of(store, claim)
    if src is None:
        return None
    title = one(store, src, DCTERMS.title)
    publisher = one(store, src, DCTERMS.publisher)
    return {"iri": src.value, "title": str(title.value) if title is not None else None,
            "publisher": term_json(store, publisher, labels)
            if isinstance(publisher, NamedNode) else None}


def belief_json(store: ProjectionStore, claim: NamedNode, labels: dict[str, str],
                t: Span | None = None) -> dict[str, Any]:
    """The belief-model fields of a claim's answer (``claim_json`` gains them); with
    ``t``, also its ``holding`` at that world time."""
    occasion = one(store, claim, GK.occasion)
    reported = reported_time(store, claim)
    speakers = speakers_json(store, claim, labels)
    out: dict[str, Any] = {
        "speakers": speakers,
        "speech_act": speech_act(store, claim),
        "basis": sorted(local(q.object) for q in
                        store.store.quads_for_pattern(claim, GK.basis, None, DEFAULT)),
        "occasion": term_json(store, occasion, labels) if occasion is not None else None,
        "reported_time": reported.json() if reported is not None else None,
        "grades": grades_json(store, claim),
        "links": links_json(store, claim),
    }
    if t is not None:
        out["holding"] = holding_at(store, claim, t)
    return out


def side_claim_json(store: ProjectionStore, claim: NamedNode, labels: dict[str, str],
                    t: Span) -> dict[str, Any]:
    """A claim as a side of a conflict shows it (``docs/json-schema.md``)."""
    c = props(store, claim)

    def when(value_p: NamedNode, prec_p: NamedNode) -> dict[str, str] | None:
        value = c.get(value_p.value, [None])[0]
        if value is None:
            return None
        precision = c.get(prec_p.value, [None])[0]
        return {"value": str(value.value),
                "precision": local(precision) if precision is not None else "day"}

    reported = reported_time(store, claim)
    modality = c.get(GK.modality.value, [None])[0]
    return {
        "claim": claim.value,
        "id": local(claim),
        "modality": local(modality) if modality is not None else None,
        "speech_act": speech_act(store, claim),
        "speakers": speakers_json(store, claim, labels),
        "source": source_brief(store, claim, labels),
        "reported_time": reported.json() if reported is not None else None,
        "valid_time": {"from": when(GK.validFrom, GK.validFromPrecision),
                       "until": when(GK.validUntil, GK.validUntilPrecision)},
        "holding": holding_at(store, claim, t),
        "basis": sorted(local(q.object) for q in
                        store.store.quads_for_pattern(claim, GK.basis, None, DEFAULT)),
        "grades": grades_json(store, claim),
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
