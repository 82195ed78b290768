"""What a person or outlet said, and what it passed on (belief model, section e).

*Said*: live claims whose ``gk:speaker`` is the entity (``"as": "speaker"``), or an unnamed
speaker whose ``gk:affiliation`` is the entity (``"affiliate"``). *Passed on*: live claims
that name the entity in their chain of attribution (``gk:reportedVia``: ``"cited"``), or
whose source the entity published (``dcterms:publisher``: ``"publisher"``). Both are apart
from the claims *about* the entity.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pyoxigraph import NamedNode

from geokb.projection.quads import DEFAULT
from geokb.projection.store import ProjectionStore
from geokb.read.queries import as_int, one
from geokb.vocab import DCTERMS, GK, PROV


class Voiced(NamedTuple):
    claim: NamedNode
    role: str  # "speaker" | "affiliate" | "cited" | "publisher"


def _subjects(store: ProjectionStore, p: NamedNode, o: Any) -> list[NamedNode]:
    return [q.subject for q in store.store.quads_for_pattern(None, p, o, DEFAULT)
            if isinstance(q.subject, NamedNode)]


def _ordered(store: ProjectionStore, found: dict[str, Voiced]) -> list[Voiced]:
    def key(v: Voiced) -> tuple[int, str]:
        return (as_int(one(store, v.claim, GK.knownFromPosition)) or 0, v.claim.value)
    return sorted(found.values(), key=key)


def said(store: ProjectionStore, entity: NamedNode) -> list[Voiced]:
    """Every claim ever recorded with ``entity`` as speaker or as an unnamed speaker's body,
    in log order (the caller keeps the live ones)."""
    found: dict[str, Voiced] = {}
    for claim in _subjects(store, GK.speaker, entity):
        found.setdefault(claim.value, Voiced(claim, "speaker"))
    for node in {*_subjects(store, GK.affiliation, entity),
                 *_subjects(store, GK.spokespersonFor, entity)}:
        for claim in _subjects(store, GK.speaker, node):
            found.setdefault(claim.value, Voiced(claim, "affiliate"))
    return _ordered(store, found)


def passed_on(store: ProjectionStore, entity: NamedNode) -> list[Voiced]:
    """Every claim ever recorded that cites ``entity`` or comes from a source it published."""
    found: dict[str, Voiced] = {}
    for claim in _subjects(store, GK.reportedVia, entity):
        found.setdefault(claim.value, Voiced(claim, "cited"))
    for step in _subjects(store, PROV.agent, entity):
        for claim in _subjects(store, GK.attributionStep, step):
            found.setdefault(claim.value, Voiced(claim, "cited"))
    for source in _subjects(store, DCTERMS.publisher, entity):
        for claim in _subjects(store, PROV.wasDerivedFrom, source):
            found.setdefault(claim.value, Voiced(claim, "publisher"))
    return _ordered(store, found)
