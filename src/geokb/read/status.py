"""The status and timeline answers about an entity, a page at a time.

Each answer is a plain dictionary in the documented JSON shape (``docs/json-schema.md``)
that the CLI prints and the HTTP API returns. Time travel: ``as_of`` is a log position
(what the KB held then) and ``valid_at`` a world date (what was true then); see
:mod:`geokb.projection.timeview`.
"""

from __future__ import annotations

from typing import Any

from pyoxigraph import NamedNode

from geokb.projection.timeview import TimeFilter
from geokb.read import about
from geokb.read.about import Ranked
from geokb.read.claims import claim_json
from geokb.read.entities import entity_json
from geokb.read.paging import PAGE_SIZE, page
from geokb.read.reader import STATUS, P, Reader, first, label_of, props


def _answer(r: Reader, entity: NamedNode, when: TimeFilter, limit: int | None,
            offset: int) -> tuple[list[Ranked], list[dict[str, Any]], dict[str, Any]]:
    ranked = about.claims_about(r, entity, when)
    window, where = page(ranked, when, r.store.position, limit, offset)
    return ranked, [claim_json(r, c.claim, when.as_of) for c in window], where


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


def status(r: Reader, entity: NamedNode, when: TimeFilter, *,
           limit: int | None = PAGE_SIZE, offset: int = 0) -> dict[str, Any]:
    """The status claims of ``entity`` (all of them) and a page of every claim about it,
    with evidence. ``limit=None`` gives every claim on one page.

    Raises :class:`InvalidEvent` for a ``limit`` under 1 or a negative ``offset``.
    """
    ranked, claims, where = _answer(r, entity, when, limit, offset)
    shown = {c["claim"]: c for c in claims}
    values = [v for c in ranked if c.status
              for v in [_status_value(r, c.claim, entity, shown)] if v is not None]
    return {"entity": entity_json(r, entity), "as_of": when.as_of,
            "valid_at": when.valid_at_text, "status": values, "claims": claims,
            "page": where}


def timeline(r: Reader, entity: NamedNode, when: TimeFilter, *,
             limit: int | None = PAGE_SIZE, offset: int = 0) -> dict[str, Any]:
    """A page of the claims about ``entity`` in world-time order (unknown dates last).

    Raises :class:`InvalidEvent` for a ``limit`` under 1 or a negative ``offset``.
    """
    _, claims, where = _answer(r, entity, when, limit, offset)
    return {"entity": entity_json(r, entity), "as_of": when.as_of,
            "valid_at": when.valid_at_text, "claims": claims, "page": where}
