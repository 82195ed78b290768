"""What the KB holds, to browse: its entities (by type, with claim counts), its sources
(with claim counts and Admiralty grades), and entities found by any part of a name.

Claim counts are of the current view: a claim counts while it is live (not retracted or
superseded), for the entity it is about (its subject) and for the source it derives from.

>>> normalise("Ḥmeimim’s  Air-Base")
"hmeimim's air base"
>>> normalise("al‑Assad") == normalise("AL ASSAD")
True
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pyoxigraph import NamedNode

from geokb.log.sources import SourceTexts
from geokb.projection.quads import DEFAULT
from geokb.read.namekey import name_key
from geokb.read.reader import (
    ALT_LABEL,
    DECLARED_IN,
    KNOWN_UNTIL,
    SHA256,
    SUBJECT,
    TYPE,
    Reader,
    as_int,
    label_of,
)
from geokb.vocab import CONFLICTS_GRAPH, DCTERMS, GK, PROV, RDF, compact, expand

_SEPARATORS = re.compile(r"[-_.]+")


def normalise(name: str) -> str:
    """A name folded for matching: its :func:`~geokb.read.namekey.name_key` (case,
    diacritics, apostrophe and dash styles, spacing), with dashes, underscores and dots as
    spaces, so "al Assad" finds "al-Assad"."""
    return " ".join(_SEPARATORS.sub(" ", name_key(name)).split())


def _fold_char(ch: str) -> str:
    return _SEPARATORS.sub(" ", name_key(ch)) if not ch.isspace() else " "


def passages(text: str, needle: str, *, context: int = 60,
             limit: int = 20) -> list[dict[str, Any]]:
    """Where ``needle`` occurs in ``text``, compared :func:`normalised <normalise>`: each
    ``{start, end, before, match, after}`` with code point offsets into ``text``.

    >>> [p["match"] for p in passages("Damascus; in DAMASCUS, Ḍamascus.", "damascus")]
    ['Damascus', 'DAMASCUS', 'Ḍamascus']
    """
    want = normalise(needle)
    if not want:
        return []
    folded: list[str] = []
    origin: list[int] = []  # the index in ``text`` of each folded character
    for i, ch in enumerate(text):
        piece = _fold_char(ch)
        if piece == " " and folded and folded[-1] == " ":
            continue  # runs of spaces fold to one, as in normalise()
        for f in piece:
            folded.append(f)
            origin.append(i)
    flat = "".join(folded)
    found: list[dict[str, Any]] = []
    at = flat.find(want)
    while at != -1 and len(found) < limit:
        start, end = origin[at], origin[at + len(want) - 1] + 1
        found.append({"start": start, "end": end, "match": text[start:end],
                      "before": text[max(0, start - context):start],
                      "after": text[end:end + context]})
        at = flat.find(want, at + len(want))
    return found


def _live_counts(r: Reader, link: NamedNode) -> Counter[str]:
    """How many live claims name each IRI by ``link`` (rdf:subject, prov:wasDerivedFrom)."""
    store = r.store
    counts: Counter[str] = Counter()
    for q in store.quads(None, link, None, DEFAULT):
        claim, target = q.subject, q.object
        if not isinstance(claim, NamedNode) or not isinstance(target, NamedNode):
            continue
        if store.one(claim, KNOWN_UNTIL) is None and store.one(claim, GK.knownFromPosition) \
                is not None:
            counts[target.value] += 1
    return counts


def _declared(r: Reader) -> list[NamedNode]:
    return sorted((q.subject for q in r.store.quads(None, DECLARED_IN, None, DEFAULT)
                   if isinstance(q.subject, NamedNode)), key=lambda n: n.value)


def _entity_row(r: Reader, entity: NamedNode, claims: int) -> dict[str, Any]:
    store = r.store
    return {
        "iri": entity.value,
        "id": entity.value.rsplit("/", 1)[-1],
        "label": label_of(r, entity),
        "types": sorted(compact(t.value) for t in store.objects(entity, TYPE)),
        "aliases": sorted(str(a.value) for a in store.objects(entity, ALT_LABEL)),
        "claims": claims,
    }


def entities(r: Reader, *, type: str | None = None) -> list[dict[str, Any]]:
    """Every declared entity (or those of ``type``, a compact name like ``gk:NavalBase``
    or an IRI), by label: ``{iri, id, label, types, aliases, claims}``.

    Raises ``ValueError`` for a ``type`` with an unknown prefix.
    """
    wanted = expand(type) if type is not None and "://" not in type else type
    counts = _live_counts(r, SUBJECT)
    rows = []
    for entity in _declared(r):
        if wanted is not None and NamedNode(wanted) not in r.store.objects(entity, TYPE):
            continue
        rows.append(_entity_row(r, entity, counts[entity.value]))
    return sorted(rows, key=lambda e: (normalise(str(e["label"])), e["id"]))


def find_entities(r: Reader, text: str) -> list[dict[str, Any]]:
    """The declared entities whose slug, label or an alias contains ``text``, compared
    normalised (case, diacritics, apostrophes, hyphens): exact names first, then names
    that start with it, then names with a word that does, then any other match, then
    names that hold every word of ``text`` apart ("Tartus base") — within
    each, the shorter matching name first; each row as :func:`entities` gives it, with
    ``matched`` (the name that matched)."""
    needle = normalise(text)
    if not needle:
        return []
    words = needle.split()
    counts = _live_counts(r, SUBJECT)
    found: list[tuple[int, int, str, dict[str, Any]]] = []
    for entity in _declared(r):
        row = _entity_row(r, entity, counts[entity.value])
        best: tuple[int, int, str] | None = None
        for name in [str(row["label"]), *row["aliases"], row["id"]]:
            folded = normalise(name)
            if needle in folded:
                rank = (0 if folded == needle else 1 if folded.startswith(needle)
                        else 2 if re.search(r"(?<![a-z0-9])" + re.escape(needle), folded)
                        else 3)
            elif all(w in folded for w in words):
                rank = 4
            else:
                continue
            if best is None or (rank, len(folded)) < best[:2]:
                best = (rank, len(folded), name)
        if best is not None:
            row["matched"] = best[2]
            found.append((best[0], best[1], normalise(str(row["label"])), row))
    found.sort(key=lambda f: (f[0], f[1], f[2], f[3]["id"]))
    return [row for *_, row in found]


def sources(r: Reader) -> list[dict[str, Any]]:
    """Every registered source, by title: ``{iri, id, title, publisher, published,
    reliability, credibility, claims, retracted}`` (grades are the Admiralty codes, or
    None)."""
    store = r.store
    counts = _live_counts(r, PROV.wasDerivedFrom)
    rows = []
    for q in store.quads(None, SHA256, None, DEFAULT):
        source = q.subject
        if not isinstance(source, NamedNode) or "#" in source.value:
            continue

        def value(pred: NamedNode, node: NamedNode = source) -> str | None:
            term = store.one(node, pred)
            return str(term.value) if term is not None else None

        publisher = store.one(source, DCTERMS.publisher)
        rows.append({
            "iri": source.value,
            "id": source.value.rsplit("/", 1)[-1],
            "title": value(DCTERMS.title),
            "publisher": label_of(r, publisher) if isinstance(publisher, NamedNode) else None,
            "published": value(DCTERMS.issued),
            "reliability": _grade(value(GK.sourceReliability)),
            "credibility": _grade(value(GK.informationCredibility)),
            "claims": counts[source.value],
            "retracted": store.one(source, GK.retractedIn) is not None,
        })
    return sorted(rows, key=lambda s: (normalise(str(s["title"] or "")), s["id"]))


def _grade(iri: str | None) -> str | None:
    return iri.rsplit("/", 1)[-1] if iri is not None else None


def conflicts(r: Reader) -> dict[str, dict[str, Any]]:
    """The conflicts the projection derived (``graph/conflicts``), by IRI: ``{iri, on,
    property, rules, claims}`` (``on``: the entities; ``claims``: of every side)."""
    store = r.store
    graph = CONFLICTS_GRAPH
    out: dict[str, dict[str, Any]] = {}
    for q in store.quads(None, RDF.type, GK.Conflict, graph):
        node = q.subject
        if not isinstance(node, NamedNode):
            continue

        def values(pred: NamedNode, of: NamedNode = node) -> list[str]:
            return sorted(str(t.value) for t in store.objects(of, pred, graph=graph))

        sides = [s for s in store.objects(node, GK.conflictSide, graph=graph)
                 if isinstance(s, NamedNode)]
        out[node.value] = {
            "iri": node.value,
            "on": values(GK.conflictOn),
            "property": next(iter(values(GK.conflictProperty)), None),
            "rules": [v.rsplit("/", 1)[-1] for v in values(GK.conflictRule)],
            "claims": sorted(c for s in sides for c in values(GK.sideClaim, s)),
        }
    return out


def latest_claims(r: Reader, limit: int) -> list[NamedNode]:
    """The ``limit`` live claims recorded last, newest first."""
    store = r.store
    live = []
    for q in store.quads(None, GK.knownFromPosition, None, DEFAULT):
        claim = q.subject
        if isinstance(claim, NamedNode) and store.one(claim, KNOWN_UNTIL) is None \
                and store.one(claim, SUBJECT) is not None:
            live.append((as_int(q.object) or 0, claim.value, claim))
    live.sort(reverse=True)
    return [claim for *_, claim in live[:limit]]


def mentions(r: Reader, texts: SourceTexts, needle: str, *,
             limit: int = 20) -> list[dict[str, Any]]:
    """The sources whose text holds ``needle`` (:func:`passages`), by title: ``{iri, id,
    title, count, passages}`` (``count`` of all, ``passages`` the first ``limit``)."""
    out = []
    for row in sources(r):
        sha = r.store.one(NamedNode(row["iri"]), SHA256)
        if sha is None or not texts.has(str(sha.value)):
            continue
        found = passages(texts.get(str(sha.value)), needle, limit=10_000)
        if found:
            out.append({"iri": row["iri"], "id": row["id"], "title": row["title"],
                        "count": len(found), "passages": found[:limit]})
    return out


def described(r: Reader, text: str) -> list[dict[str, Any]]:
    """The declared entities whose description holds ``text`` (normalised), as
    :func:`entities` gives them, each with its ``description``."""
    needle = normalise(text)
    if not needle:
        return []
    counts = _live_counts(r, SUBJECT)
    out = []
    for entity in _declared(r):
        note = r.store.one(entity, DCTERMS.description)
        if note is not None and needle in normalise(str(note.value)):
            out.append({**_entity_row(r, entity, counts[entity.value]),
                        "description": str(note.value)})
    return out
