"""The status and timeline answers about an entity at a world time T, a page at a time
(belief model, sections b, c.3–c.4, e; shapes in ``docs/json-schema.md``).

Every answer says where it stands: ``as_of`` (log position), ``valid_at`` (as asked) and
``at`` — the world time T, the ``valid_at`` interval, or the day of the recorded time of the
answer's log position ("now, as the KB knows it"). Each claim carries its ``holding`` at T
(``holds``, ``last_reported``, ``undated``, or ``null``: not at T) and ``reported_time``.
The status list keeps the claims that hold or were last reported; undated ones are listed
apart and never hold. ``assessment`` is ``contested`` when a conflict on the entity's status
covers T, ``settled`` when the claims at T give one value, ``unknown`` otherwise.
"""

from __future__ import annotations

from typing import Any

from pyoxigraph import NamedNode

from geokb.projection.timeview import TimeFilter
from geokb.read import about, conflicts, disputes
from geokb.read.about import Ranked
from geokb.read.beliefs import (
    at_json,
    belief_json,
    holding_at,
    is_negated,
    local,
    reported_of,
)
from geokb.read.beliefs import side_claim_json as _side_claim
from geokb.read.claims import claim_json
from geokb.read.entities import entity_json
from geokb.read.paging import PAGE_SIZE
from geokb.read.paging import page as page_of
from geokb.read.reader import STATUS, P, Reader, first, label_of, props
from geokb.read.voices import Voiced, passed_on, said
from geokb.times import Span
from geokb.vocab import GK, PROV, RDF

# The terms of the hot path, made once (``GK.x`` builds a new term at each use).
_MODALITY = GK.modality
_STATUS = GK.status


def _claims(r: Reader, window: list[NamedNode],
            when: TimeFilter, t: Span) -> list[dict[str, Any]]:
    return [{**claim_json(r, c, when.as_of), **belief_json(r, c, t)}
            for c in window]


def _voiced(r: Reader, found: list[Voiced], when: TimeFilter, t: Span, limit: int | None,
            offset: int) -> tuple[list[dict[str, Any]], int, bool]:
    kept = [v for v in found if disputes.live_at(r, v.claim, when.as_of)
            and (when.valid_at_text is None or holding_at(r, v.claim, t) is not None)]
    end = len(kept) if limit is None else offset + limit
    shown = [{**c, "as": v.role} for v, c in
             zip(kept[offset:end], _claims(r, [v.claim for v in kept[offset:end]],
                                            when, t), strict=True)]
    return shown, len(kept), end < len(kept)


def _entity_answer(r: Reader, entity: NamedNode, when: TimeFilter, t: Span, limit: int | None,
                   offset: int) -> tuple[dict[str, Any], list[Ranked]]:
    live = about.claims_about(r, entity, TimeFilter(as_of=when.as_of))
    if when.valid_at_text is not None:
        ranked = [c for c in live if holding_at(r, c.claim, t) is not None]
    else:
        ranked = live
    window, page = page_of(ranked, when, r.store.position, limit, offset)
    said_list, said_total, more_said = _voiced(r, said(r, entity), when, t,
                                               limit, offset)
    passed, passed_total, more_passed = _voiced(r, passed_on(r, entity), when, t,
                                                limit, offset)
    page["said_total"], page["passed_on_total"] = said_total, passed_total
    if page["next"] is None and (more_said or more_passed):
        page["next"] = {"as_of": when.as_of if when.as_of is not None else r.store.position,
                        "valid_at": when.valid_at_text, "offset": offset + (limit or 0),
                        "limit": limit}
    answer = {"entity": entity_json(r, entity), "as_of": when.as_of,
              "valid_at": when.valid_at_text, "at": at_json(t),
              "claims": _claims(r, [c.claim for c in window], when, t),
              "said": said_list, "passed_on": passed, "page": page}
    return answer, live


def _status_value(r: Reader, claim: NamedNode, entity: NamedNode,
                  shown: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The status a gk:status claim gives ``entity``, or ``None`` if it is not one (its
    subject is another entity, or its object a literal)."""
    c = shown.get(claim.value)
    if c is not None:
        s, p, o = c["statement"]["subject"], c["statement"]["predicate"], \
            c["statement"]["object"]
        if p["iri"] != STATUS.value or s["iri"] != entity.value or "iri" not in o:
            return None
        return {"value": o["iri"], "label": o["label"], "modality": c["modality"],
                "claim": c["claim"]}
    node = props(r.store, claim)
    subject, obj = first(node, P.subject), first(node, P.object)
    if first(node, P.predicate) != STATUS or subject != entity \
            or not isinstance(obj, NamedNode):
        return None
    return {"value": obj.value, "label": label_of(r, obj),
            "modality": first(node, P.modality).value.rsplit("/", 1)[-1],
            "claim": claim.value}


def status(r: Reader, entity: NamedNode, when: TimeFilter,
           *, t: Span, single_valued: frozenset[str] = disputes.SINGLE_VALUED,
           limit: int | None = PAGE_SIZE, offset: int = 0) -> dict[str, Any]:
    """The entity's status at T, its assessment and conflicts, and a page of the claims
    about it, of what it said and of what it passed on.

    Raises :class:`~geokb.errors.InvalidEvent` for a ``limit`` under 1 or a negative offset.
    """
    answer, live = _entity_answer(r, entity, when, t, limit, offset)
    values: list[dict[str, Any]] = []
    undated: list[str] = []
    for ranked in live:
        if not ranked.status:
            continue
        value = _status_value(r, ranked.claim, entity, {})
        if value is None:
            continue
        held = holding_at(r, ranked.claim, t)
        if held == "undated":
            undated.append(ranked.claim.value)
        elif held is not None:
            reported = reported_of(r, ranked.claim)
            values.append({**value, "negated": is_negated(r, ranked.claim), "holding": held,
                           "reported_time": reported.json() if reported else None})
    found = [c for c in disputes.find(r, as_of=when.as_of, entity=entity,
                                      single_valued=single_valued)
             if c.on == entity and c.covers(t)]
    contested = any(c.property == _STATUS for c in found)
    positions = {(v["value"], v["negated"]) for v in values}
    assessment = "contested" if contested else "settled" if len(positions) == 1 else "unknown"
    shown = [conflicts.conflict_json(r, c, t) for c in found]
    answer.update({"assessment": assessment, "status": values, "undated": undated,
                   "conflicts": shown})
    answer["line"] = status_line(r, answer, t)
    return {k: answer[k] for k in ("entity", "as_of", "valid_at", "at", "assessment", "line",
                                   "status", "undated", "conflicts", "claims", "said",
                                   "passed_on", "page")}


def status_line(r: Reader, answer: dict[str, Any],
                t: Span) -> str:
    """The status in words: ``contested since …: a (…) vs b (…)``, ``settled: a (…)``, or
    ``unknown — …`` with what there is."""
    if answer["assessment"] == "contested":
        status_conflicts = [c for c in answer["conflicts"]
                            if c["property"] and c["property"]["iri"] == _STATUS.value]
        return str(status_conflicts[0]["line"])
    if answer["assessment"] == "settled":
        first = answer["status"][0]
        label = f"not {first['label']}" if first["negated"] else first["label"]
        side = {"label": label, "claims": [_side_claim(r, NamedNode(v["claim"]), t)
                                           for v in answer["status"]]}
        return f"settled: {conflicts.side_words(side)}"
    parts = []
    if answer["status"]:
        listed = ", ".join(f"{'not ' if v['negated'] else ''}{v['label']} [{v['modality']}]"
                           for v in answer["status"])
        parts.append(f"{len(answer['status'])} claims that differ, no conflict: {listed}")
    if answer["undated"]:
        n = len(answer["undated"])
        parts.append(f"{n} undated claim{'s' if n > 1 else ''}: " + ", ".join(
            undated_words(r, NamedNode(c)) for c in answer["undated"]))
    return "unknown — " + "; ".join(parts) if parts else "unknown — no status claim"


def undated_words(r: Reader, claim: NamedNode) -> str:
    """``uncertain (asserted, article-syria-russia)``: value, modality and source."""
    obj = r.store.one(claim, _MODALITY)
    value = r.store.one(claim, RDF.object)
    label = label_of(r, value) if isinstance(value, NamedNode) \
        else str(value.value) if value is not None else "?"
    negated = "not " if is_negated(r, claim) else ""
    src = r.store.one(claim, PROV.wasDerivedFrom)
    where = local(src) if src is not None else "?"
    return f"{negated}{label} ({local(obj) if obj is not None else '?'}, {where})"


def timeline(r: Reader, entity: NamedNode, when: TimeFilter, *, t: Span,
             limit: int | None = PAGE_SIZE, offset: int = 0) -> dict[str, Any]:
    """A page of the claims about ``entity`` in world-time order (unknown dates last), each
    with its holding at T; with ``valid_at``, only the claims that are part of T.

    Raises :class:`~geokb.errors.InvalidEvent` for a ``limit`` under 1 or a negative offset.
    """
    answer, _ = _entity_answer(r, entity, when, t, limit, offset)
    return answer
