"""Conflicts as answers show them: each with its sides and their claims, and in words
(``contested since …: a (…) vs b (…)``); and the ``conflicts`` answer, paged like
``status`` (shapes in ``docs/json-schema.md``). Found by :mod:`geokb.read.disputes`.
"""

from __future__ import annotations

from typing import Any

from pyoxigraph import Literal, NamedNode

from geokb.errors import InvalidEvent
from geokb.projection.timeview import TimeFilter
from geokb.read import disputes
from geokb.read.beliefs import at_json, outlet, side_claim_json, who
from geokb.read.disputes import RULES, SINGLE_VALUED, Conflict, find
from geokb.read.entities import entity_json
from geokb.read.kept import kept_conflicts
from geokb.read.paging import PAGE_SIZE
from geokb.read.reader import Reader, label_of, term_json
from geokb.times import Span


def _value_label(r: Reader, term: Any) -> str:
    if isinstance(term, NamedNode):
        return label_of(r, term)
    return str(term.value) if isinstance(term, Literal) else str(term)


def conflict_json(r: Reader, conflict: Conflict,
                  t: Span) -> dict[str, Any]:
    """A conflict as answers show it, with its status line in words (``line``)."""
    sides = []
    for (_, negated), claims in conflict.sides:
        value = claims[0].object
        label = _value_label(r, value)
        sides.append({"value": term_json(r, value), "negated": negated,
                      "label": f"not {label}" if negated else label,
                      "claims": [side_claim_json(r, c.iri, t) for c in claims]})
    out = {
        "conflict": conflict.iri,
        "on": term_json(r, conflict.on) if conflict.on is not None else None,
        "property": term_json(r, conflict.property)
        if conflict.property is not None else None,
        "rules": [rule for rule in RULES if rule in conflict.rules],
        "contested_since": conflict.since.isoformat() if conflict.since else None,
        "sides": sides,
    }
    out["line"] = conflict_line(out)
    return out


def side_words(side: dict[str, Any]) -> str:
    """``withdrawn (two Syrian officials, unnamed, via Example Wire)``."""
    speakers: list[str] = []
    outlets: list[str] = []
    for c in side["claims"]:
        for part in filter(None, who(c).split("; ")):
            if part not in speakers:
                speakers.append(part)
        via = outlet(c)
        if via and via not in outlets:
            outlets.append(via)
    via_text = ", ".join(outlets)
    if not speakers:
        return f"{side['label']} ({via_text})" if via_text else side["label"]
    voice = "; ".join(speakers) + (f", via {via_text}" if via_text else "")
    return f"{side['label']} ({voice})"


def conflict_line(conflict: dict[str, Any]) -> str:
    """``contested since <date>: <side> vs <side>``."""
    since = conflict["contested_since"]
    head = f"contested since {since}" if since else "contested"
    return f"{head}: " + " vs ".join(side_words(s) for s in conflict["sides"])


def conflicts(r: Reader, entity: NamedNode | None, when: TimeFilter, *, t: Span,
              single_valued: frozenset[str] = SINGLE_VALUED,
              limit: int | None = PAGE_SIZE, offset: int = 0) -> dict[str, Any]:
    """The conflicts covering T among the claims live at ``as_of``: all, or those on
    ``entity`` or whose sides mention it; paged like ``status``.

    Raises :class:`~geokb.errors.InvalidEvent` for a ``limit`` under 1 or a negative offset.
    """
    if limit is not None and limit < 1:
        raise InvalidEvent(f"limit {limit}: give 1 or more conflicts per page")
    if offset < 0:
        raise InvalidEvent(f"offset {offset}: give 0 or more")
    if entity is None and disputes.at_head(r, when.as_of, single_valued):
        page, total = _head_page(r, t, single_valued, offset, limit)
    else:
        found = [c for c in find(r, as_of=when.as_of, entity=entity,
                                 single_valued=single_valued) if c.covers(t)]
        total = len(found)
        page = found[offset:] if limit is None else found[offset:offset + limit]
    end = total if limit is None else offset + limit
    following = {"as_of": when.as_of if when.as_of is not None else r.store.position,
                 "valid_at": when.valid_at_text, "offset": end, "limit": limit}
    return {"as_of": when.as_of, "valid_at": when.valid_at_text, "at": at_json(t),
            "entity": entity_json(r, entity) if entity is not None
            else None,
            "conflicts": [conflict_json(r, c, t) for c in page],
            "page": {"offset": offset, "limit": limit, "total": total,
                     "next": following if end < total else None}}


def _head_page(r: Reader, t: Span, single_valued: frozenset[str], offset: int,
               limit: int | None) -> tuple[list[Conflict], int]:
    """One page of the head's conflicts covering T, and how many there are: which ones
    cover T is read from ``graph/conflicts`` (:mod:`geokb.read.kept`), and only the page's
    own are worked out (the same conflicts, in the same order, as ``find``'s)."""
    kept = [k for k in kept_conflicts(r) if k.covers(t)]
    cross = [c for c in disputes.cross_contradictions(r, None) if c.covers(t)]
    total = len(kept) + len(cross)
    end = total if limit is None else offset + limit
    page = [c for k in kept[offset:end]
            if (c := disputes.conflict_on(r, k.on, k.property, None, single_valued))
            is not None]
    page += cross[max(offset - len(kept), 0):max(end - len(kept), 0)]
    return page, total
