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
from geokb.read.reader import Reader, as_int
from geokb.vocab import DCTERMS, GK, PROV

# The terms of the hot path, made once (``GK.x`` builds a new term at each use).
_AFFILIATION = GK.affiliation
_ATTRIBUTION_STEP = GK.attributionStep
_KNOWN_FROM_POSITION = GK.knownFromPosition
_REPORTED_VIA = GK.reportedVia
_SPEAKER = GK.speaker
_SPOKESPERSON_FOR = GK.spokespersonFor


class Voiced(NamedTuple):
    claim: NamedNode
    role: str  # "speaker" | "affiliate" | "cited" | "publisher"


def _subjects(r: Reader, p: NamedNode, o: Any) -> list[NamedNode]:
    return [q.subject for q in r.store.quads(None, p, o, DEFAULT)
            if isinstance(q.subject, NamedNode)]


def _ordered(r: Reader, found: dict[str, Voiced]) -> list[Voiced]:
    def key(v: Voiced) -> tuple[int, str]:
        return (as_int(r.store.one(v.claim, _KNOWN_FROM_POSITION)) or 0, v.claim.value)
    return sorted(found.values(), key=key)


def said(r: Reader, entity: NamedNode) -> list[Voiced]:
    """Every claim ever recorded with ``entity`` as speaker or as an unnamed speaker's body,
    in log order (the caller keeps the live ones)."""
    found: dict[str, Voiced] = {}
    for claim in _subjects(r, _SPEAKER, entity):
        found.setdefault(claim.value, Voiced(claim, "speaker"))
    for node in {*_subjects(r, _AFFILIATION, entity),
                 *_subjects(r, _SPOKESPERSON_FOR, entity)}:
        for claim in _subjects(r, _SPEAKER, node):
            found.setdefault(claim.value, Voiced(claim, "affiliate"))
    return _ordered(r, found)


def passed_on(r: Reader, entity: NamedNode) -> list[Voiced]:
    """Every claim ever recorded that cites ``entity`` or comes from a source it published."""
    found: dict[str, Voiced] = {}
    for claim in _subjects(r, _REPORTED_VIA, entity):
        found.setdefault(claim.value, Voiced(claim, "cited"))
    for step in _subjects(r, PROV.agent, entity):
        for claim in _subjects(r, _ATTRIBUTION_STEP, step):
            found.setdefault(claim.value, Voiced(claim, "cited"))
    for source in _subjects(r, DCTERMS.publisher, entity):
        for claim in _subjects(r, PROV.wasDerivedFrom, source):
            found.setdefault(claim.value, Voiced(claim, "publisher"))
    return _ordered(r, found)
