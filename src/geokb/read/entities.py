"""Entity lookup: an entity by name (label or alias in any case, slug, prefixed name or
IRI), and the entity as answers show it.

Names are found through an index (lower-cased label or alias → IRIs) kept in the KB's
:class:`~geokb.read.memo.AnswerMemo`. It follows the projection event by event: a new
position is caught up by looking at the events between in the projection (declarations,
and claims whose statement is a label), and rebuilt after a SPARQL update or a long gap.
"""

from __future__ import annotations

from typing import Any

from pyoxigraph import Literal, NamedNode

from geokb.errors import Ambiguous, NotFound
from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    ENTITY_DECLARED,
    SOURCE_REGISTERED,
)
from geokb.projection.quads import DEFAULT, SYSTEM_GRAPH
from geokb.projection.store import ProjectionStore
from geokb.projection.timeview import event_at
from geokb.read.memo import NameIndex
from geokb.read.namekey import name_key
from geokb.read.reader import (
    ALT_LABEL,
    ASSERTED_IN,
    DECLARED_IN,
    EVENT_TYPE,
    KNOWN_FROM,
    LABEL,
    PREDICATE,
    RETRACTED_IN,
    SAME_AS,
    SUBJECT,
    SUPERSEDED_IN,
    TYPE,
    Reader,
    as_int,
    label_of,
)
from geokb.vocab import ID, compact, expand, is_slug

#: Past this many new events, the name index is rebuilt rather than brought up to date.
NAME_INDEX_CATCH_UP = 5000
_LABEL_PREDICATES = frozenset({LABEL.value, ALT_LABEL.value})


def entity_json(r: Reader, entity: NamedNode) -> dict[str, Any]:
    """An entity as answers show it: IRI, label, types, aliases, ``owl:sameAs`` links."""
    store = r.store
    return {
        "iri": entity.value,
        "label": label_of(r, entity),
        "types": sorted(compact(t.value) for t in store.objects(entity, TYPE)),
        "aliases": sorted(str(a.value) for a in store.objects(entity, ALT_LABEL)),
        "same_as": sorted(t.value for t in store.objects(entity, SAME_AS)),
    }


def declared_entities(r: Reader) -> list[dict[str, Any]]:
    """Every declared entity as a claim-file entry: ``{id, label, aliases, types}``."""
    store = r.store
    out = []
    for quad in store.quads(None, DECLARED_IN, None, DEFAULT):
        entity = quad.subject
        if not isinstance(entity, NamedNode):
            continue
        out.append({
            "id": compact(entity.value).removeprefix("id:"),
            "label": label_of(r, entity),
            "aliases": sorted(str(a.value) for a in store.objects(entity, ALT_LABEL)),
            "types": sorted(compact(t.value) for t in store.objects(entity, TYPE)),
        })
    return sorted(out, key=lambda e: str(e["id"]))


# -- names ------------------------------------------------------------------------------


def _name(term: Any) -> str | None:
    """A label as the name index keys it (SPARQL's ``LCASE(STR(?name))``)."""
    return name_key(term.value) if isinstance(term, NamedNode | Literal) else None


def _names_of(store: ProjectionStore, node: NamedNode) -> set[str]:
    """The lower-cased labels and aliases of ``node`` (none if it has no label)."""
    labels = store.objects(node, LABEL)
    if not labels:
        return set()
    return {n for t in [*labels, *store.objects(node, ALT_LABEL)] if (n := _name(t)) is not None}


def _build_names(store: ProjectionStore, position: int) -> NameIndex:
    names: dict[str, set[str]] = {}
    for q in store.quads(None, LABEL, None, DEFAULT):
        name = _name(q.object)
        if isinstance(q.subject, NamedNode):
            found = names.setdefault(q.subject.value, set())
            if name is not None:
                found.add(name)
    for q in store.quads(None, ALT_LABEL, None, DEFAULT):
        name = _name(q.object)
        known = names.get(q.subject.value) if isinstance(q.subject, NamedNode) else None
        if known is not None and name is not None:  # an alias counts beside a label only
            known.add(name)
    index = NameIndex(position)
    for iri, found in names.items():
        index.put(iri, found)
    return index


def _catch_up_names(store: ProjectionStore, index: NameIndex, position: int) -> bool:
    """Bring ``index`` from its position to ``position`` by looking at the events between
    in the projection; ``False`` if it must be rebuilt (an update, or an event not found)."""
    for pos in range(index.position + 1, position + 1):
        ev = event_at(store, pos)
        kind = store.one(ev, EVENT_TYPE, graph=SYSTEM_GRAPH) if ev is not None else None
        if kind is None:
            return False
        if kind.value == ENTITY_DECLARED:
            for q in store.quads(None, DECLARED_IN, ev, DEFAULT):
                if isinstance(q.subject, NamedNode):
                    index.put(q.subject.value, _names_of(store, q.subject))
        elif kind.value in (CLAIM_ASSERTED, CLAIM_RETRACTED, CLAIM_SUPERSEDED):
            # a live claim "x rdfs:label y" puts the label in the current view
            link = {CLAIM_ASSERTED: ASSERTED_IN, CLAIM_RETRACTED: RETRACTED_IN,
                    CLAIM_SUPERSEDED: SUPERSEDED_IN}[kind.value]
            for q in store.quads(None, link, ev, DEFAULT):
                pred, subject = store.one(q.subject, PREDICATE), store.one(q.subject, SUBJECT)
                if isinstance(pred, NamedNode) and pred.value in _LABEL_PREDICATES \
                        and isinstance(subject, NamedNode):
                    index.put(subject.value, _names_of(store, subject))
        elif kind.value != SOURCE_REGISTERED:  # GraphUpdated, or a type we do not know
            return False
    index.position = position
    return True


def _named(r: Reader, name: str) -> list[str]:
    """The IRIs labelled or also known as ``name`` (any case), declared or not."""
    store, memo = r.store, r.memo
    with memo.lock:
        position = store.position
        index = memo.names
        if index is None or index.position > position or \
                position - index.position > NAME_INDEX_CATCH_UP or \
                (index.position < position and not _catch_up_names(store, index, position)):
            index = memo.names = _build_names(store, position)
        return sorted(index.by_name.get(name_key(name), ()))


def resolve_entity(r: Reader, name: str, as_of: int | None = None) -> NamedNode:
    """The entity named ``name`` (label or alias, any case; or slug, prefixed name, IRI),
    declared at ``as_of`` (now if ``None``).

    Raises :class:`NotFound`, or :class:`Ambiguous` listing the candidates.
    """
    store = r.store
    direct: str | None = None
    if is_slug(name):
        direct = ID[name].value
    elif ":" in name:
        try:
            direct = NamedNode(expand(name)).value  # NamedNode: "http://x y" is no IRI
        except ValueError:
            direct = None
    if direct is not None and store.one(NamedNode(direct), DECLARED_IN) is not None \
            and (as_of is None or (as_int(store.one(NamedNode(direct), KNOWN_FROM))
                                   or 0) <= as_of):
        return NamedNode(direct)
    candidates: list[tuple[str, str]] = []
    for iri in _named(r, name):
        entity = NamedNode(iri)
        start = as_int(store.one(entity, KNOWN_FROM))
        if start is None or (as_of is not None and start > as_of) \
                or store.one(entity, DECLARED_IN) is None:
            continue
        candidates.append((iri, str(store.one(entity, LABEL).value)))
    if not candidates:
        raise NotFound(f"no entity is named {name!r} (try a label, an alias or a slug)")
    if len(candidates) > 1:
        raise Ambiguous(name, candidates)
    return NamedNode(candidates[0][0])
