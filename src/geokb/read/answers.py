"""Status, timeline and conflicts answers at a world time T (belief model, b, c.3–c.4, e).

Every answer says where it stands: ``as_of`` (log position), ``valid_at`` (as asked) and
``at`` — the world time T, the ``valid_at`` interval, or the day of the recorded time of the
answer's log position ("now, as the KB knows it"). Each claim carries its ``holding`` at T
(``holds``, ``last_reported``, ``undated``, or ``null``: not at T) and ``reported_time``.
The status list keeps the claims that hold or were last reported; undated ones are listed
apart and never hold. ``assessment`` is ``contested`` when a conflict on the entity's status
covers T, ``settled`` when the claims at T give one value, ``unknown`` otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pyoxigraph import Literal, NamedNode

from geokb.errors import InvalidEvent
from geokb.projection.store import ProjectionStore
from geokb.read import disputes, queries
from geokb.read.beliefs import belief_json, holding_at, is_negated, local, reported_time
from geokb.read.beliefs import side_claim_json as _side_claim
from geokb.read.queries import TimeFilter, one
from geokb.read.voices import Voiced, passed_on, said
from geokb.times import Span, day_of, span
from geokb.vocab import GK, PROV, RDF, XSD

_STATUS = GK.status


def world_time(store: ProjectionStore, as_of: int | None, valid_at: str | None) -> Span:
    """T: ``valid_at``'s days, else the day the answer's log position was recorded (today
    for an empty log). Raises :class:`~geokb.errors.BadTime` for a malformed ``valid_at``."""
    if valid_at is not None:
        return span(valid_at)
    position = store.position if as_of is None else as_of
    literal = Literal(str(position), datatype=XSD.integer)
    for q in store.store.quads_for_pattern(None, GK.position, literal, None):
        # the log's events are in the default graph, or in the system graph (layout 2)
        recorded = next((r.object for r in store.store.quads_for_pattern(
            q.subject, GK.recordedAt, None, q.graph_name)), None)
        if isinstance(recorded, Literal):
            return day_of(str(recorded.value))
    return span(datetime.now(UTC).date().isoformat())


def at_json(t: Span) -> dict[str, str]:
    return {"from": t.first.isoformat(), "until": t.last.isoformat()}


def _claims(store: ProjectionStore, window: list[NamedNode], labels: dict[str, str],
            when: TimeFilter, t: Span) -> list[dict[str, Any]]:
    return [{**queries.claim_json(store, c, labels, when.as_of), **belief_json(store, c, labels, t)}
            for c in window]


def _voiced(store: ProjectionStore, found: list[Voiced], when: TimeFilter, t: Span,
            labels: dict[str, str], limit: int | None,
            offset: int) -> tuple[list[dict[str, Any]], int, bool]:
    kept = [v for v in found if disputes.live_at(store, v.claim, when.as_of)
            and (when.valid_at_text is None or holding_at(store, v.claim, t) is not None)]
    end = len(kept) if limit is None else offset + limit
    shown = [{**c, "as": v.role} for v, c in
             zip(kept[offset:end], _claims(store, [v.claim for v in kept[offset:end]], labels,
                                            when, t), strict=True)]
    return shown, len(kept), end < len(kept)


def _entity_answer(store: ProjectionStore, entity: NamedNode, when: TimeFilter, t: Span,
                   labels: dict[str, str], limit: int | None,
                   offset: int) -> tuple[dict[str, Any], list[queries.Ranked]]:
    live = queries.claims_about(store, entity, TimeFilter(as_of=when.as_of))
    if when.valid_at_text is not None:
        ranked = [r for r in live if holding_at(store, r.claim, t) is not None]
    else:
        ranked = live
    window, page = queries._page(store, ranked, when, limit, offset)
    said_list, said_total, more_said = _voiced(store, said(store, entity), when, t, labels,
                                               limit, offset)
    passed, passed_total, more_passed = _voiced(store, passed_on(store, entity), when, t,
                                                labels, limit, offset)
    page["said_total"], page["passed_on_total"] = said_total, passed_total
    if page["next"] is None and (more_said or more_passed):
        page["next"] = {"as_of": when.as_of if when.as_of is not None else store.position,
                        "valid_at": when.valid_at_text, "offset": offset + (limit or 0),
                        "limit": limit}
    answer = {"entity": queries.entity_json(store, entity, labels), "as_of": when.as_of,
              "valid_at": when.valid_at_text, "at": at_json(t),
              "claims": _claims(store, [r.claim for r in window], labels, when, t),
              "said": said_list, "passed_on": passed, "page": page}
    return answer, live


def status(store: ProjectionStore, entity: NamedNode, when: TimeFilter, labels: dict[str, str],
           *, t: Span, single_valued: frozenset[str] = disputes.SINGLE_VALUED,
           limit: int | None = queries.PAGE_SIZE, offset: int = 0) -> dict[str, Any]:
    """The entity's status at T, its assessment and conflicts, and a page of the claims
    about it, of what it said and of what it passed on.

    Raises :class:`~geokb.errors.InvalidEvent` for a ``limit`` under 1 or a negative offset.
    """
    answer, live = _entity_answer(store, entity, when, t, labels, limit, offset)
    values: list[dict[str, Any]] = []
    undated: list[str] = []
    for r in live:
        if not r.status:
            continue
        value = queries._status_value(store, r.claim, entity, {}, labels)
        if value is None:
            continue
        held = holding_at(store, r.claim, t)
        if held == "undated":
            undated.append(r.claim.value)
        elif held is not None:
            reported = reported_time(store, r.claim)
            values.append({**value, "negated": is_negated(store, r.claim), "holding": held,
                           "reported_time": reported.json() if reported else None})
    conflicts = [c for c in disputes.find(store, as_of=when.as_of, entity=entity,
                                          single_valued=single_valued)
                 if c.on == entity and c.covers(t)]
    contested = any(c.property == _STATUS for c in conflicts)
    positions = {(v["value"], v["negated"]) for v in values}
    assessment = "contested" if contested else "settled" if len(positions) == 1 else "unknown"
    shown = [disputes.conflict_json(store, c, labels, t) for c in conflicts]
    answer.update({"assessment": assessment, "status": values, "undated": undated,
                   "conflicts": shown})
    answer["line"] = status_line(store, answer, labels, t)
    return {k: answer[k] for k in ("entity", "as_of", "valid_at", "at", "assessment", "line",
                                   "status", "undated", "conflicts", "claims", "said",
                                   "passed_on", "page")}


def status_line(store: ProjectionStore, answer: dict[str, Any], labels: dict[str, str],
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
        side = {"label": label, "claims": [_side_claim(store, NamedNode(v["claim"]), labels, t)
                                           for v in answer["status"]]}
        return f"settled: {disputes.side_words(side)}"
    parts = []
    if answer["status"]:
        listed = ", ".join(f"{v['label']} [{v['modality']}]" for v in answer["status"])
        parts.append(f"{len(answer['status'])} claims that differ, no conflict: {listed}")
    if answer["undated"]:
        n = len(answer["undated"])
        parts.append(f"{n} undated claim{'s' if n > 1 else ''}: " + ", ".join(
            undated_words(store, NamedNode(c), labels) for c in answer["undated"]))
    return "unknown — " + "; ".join(parts) if parts else "unknown — no status claim"


def undated_words(store: ProjectionStore, claim: NamedNode, labels: dict[str, str]) -> str:
    """``uncertain (asserted, article-syria-russia)``: value, modality and source."""
    obj = one(store, claim, GK.modality)
    value = one(store, claim, RDF.object)
    label = queries.label_of(store, value, labels) if isinstance(value, NamedNode) \
        else str(value.value) if value is not None else "?"
    negated = "not " if is_negated(store, claim) else ""
    src = one(store, claim, PROV.wasDerivedFrom)
    where = local(src) if src is not None else "?"
    return f"{negated}{label} ({local(obj) if obj is not None else '?'}, {where})"


def timeline(store: ProjectionStore, entity: NamedNode, when: TimeFilter,
             labels: dict[str, str], *, t: Span, limit: int | None = queries.PAGE_SIZE,
             offset: int = 0) -> dict[str, Any]:
    """A page of the claims about ``entity`` in world-time order (unknown dates last), each
    with its holding at T; with ``valid_at``, only the claims that are part of T.

    Raises :class:`~geokb.errors.InvalidEvent` for a ``limit`` under 1 or a negative offset.
    """
    answer, _ = _entity_answer(store, entity, when, t, labels, limit, offset)
    return answer


def conflicts(store: ProjectionStore, entity: NamedNode | None, when: TimeFilter,
              labels: dict[str, str], *, t: Span,
              single_valued: frozenset[str] = disputes.SINGLE_VALUED,
              limit: int | None = queries.PAGE_SIZE, offset: int = 0) -> dict[str, Any]:
    """The conflicts covering T among the claims live at ``as_of``: all, or those on
    ``entity`` or whose sides mention it; paged like ``status``.

    Raises :class:`~geokb.errors.InvalidEvent` for a ``limit`` under 1 or a negative offset.
    """
    found = [c for c in disputes.find(store, as_of=when.as_of, entity=entity,
                                      single_valued=single_valued) if c.covers(t)]
    if limit is not None and limit < 1:
        raise InvalidEvent(f"limit {limit}: give 1 or more conflicts per page")
    if offset < 0:
        raise InvalidEvent(f"offset {offset}: give 0 or more")
    end = len(found) if limit is None else offset + limit
    following = {"as_of": when.as_of if when.as_of is not None else store.position,
                 "valid_at": when.valid_at_text, "offset": end, "limit": limit}
    return {"as_of": when.as_of, "valid_at": when.valid_at_text, "at": at_json(t),
            "entity": queries.entity_json(store, entity, labels) if entity is not None
            else None,
            "conflicts": [disputes.conflict_json(store, c, labels, t) for c in found[offset:end]],
            "page": {"offset": offset, "limit": limit, "total": len(found),
                     "next": following if end < len(found) else None}}

