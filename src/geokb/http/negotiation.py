"""Media types and ``Accept`` negotiation (q-values, then specificity, then our order).

The formats behind the media types are pyoxigraph's own (looked up with
``QueryResultsFormat.from_media_type`` and ``RdfFormat.from_media_type``); the order in
which we offer them, and the negotiation, are ours: they pass the W3C protocol suite.

>>> negotiate("text/csv;q=0.5, application/sparql-results+json", SOLUTION_TYPES)
'application/sparql-results+json'
>>> negotiate("application/xml;q=0.9, */*;q=0.1", SOLUTION_TYPES)
'application/xml'
>>> negotiate("image/png", SOLUTION_TYPES) is None
True
>>> SOLUTION_TYPES["text/csv"] == QueryResultsFormat.CSV
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pyoxigraph import QueryResultsFormat, RdfFormat


def _results_format(media_type: str) -> QueryResultsFormat:
    found = QueryResultsFormat.from_media_type(media_type)
    assert found is not None, media_type  # a media type pyoxigraph knows, or a typo here
    return found


def _rdf_format(media_type: str) -> RdfFormat:
    found = RdfFormat.from_media_type(media_type)
    assert found is not None, media_type
    return found


#: Media types for SELECT and ASK results, in the server's order of preference.
SOLUTION_TYPES: dict[str, QueryResultsFormat] = {m: _results_format(m) for m in (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "application/json",
    "application/xml",
    "text/xml",
)}
#: Media types for CONSTRUCT and DESCRIBE results (graphs), in order of preference.
GRAPH_TYPES: dict[str, RdfFormat] = {m: _rdf_format(m) for m in (
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "application/ld+json",
    "application/trig",
    "application/n-quads",
    "application/x-turtle",
)}


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` (lower case) and its parameters.

    >>> parse_media_type('Application/SPARQL-Query; charset="UTF-8"')
    ('application/sparql-query', {'charset': 'UTF-8'})
    """
    main, *params = value.split(";")
    out: dict[str, str] = {}
    for p in params:
        key, sep, val = p.partition("=")
        if sep:
            out[key.strip().lower()] = val.strip().strip('"')
    return main.strip().lower(), out


@dataclass(frozen=True)
class _Range:
    type: str
    subtype: str
    q: float


def _accept_ranges(header: str) -> list[_Range]:
    ranges = []
    for part in header.split(","):
        if not part.strip():
            continue
        mt, params = parse_media_type(part)
        kind, _, sub = mt.partition("/")
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            continue
        ranges.append(_Range(kind, sub or "*", max(0.0, min(q, 1.0))))
    return ranges


def negotiate(accept: str | None, offers: Iterable[str]) -> str | None:
    """The offer the client prefers (q-values, then specificity, then our order), or
    ``None`` if it accepts none. No ``Accept`` header accepts our first offer."""
    offered = list(offers)
    if accept is None or not accept.strip():
        return offered[0] if offered else None
    ranges = _accept_ranges(accept)
    best: tuple[float, int] | None = None
    choice: str | None = None
    for index, offer in enumerate(offered):
        kind, _, sub = offer.partition("/")
        q: float | None = None
        specificity = -1
        for r in ranges:
            if r.type == kind and r.subtype == sub:
                level = 2
            elif r.type == kind and r.subtype == "*":
                level = 1
            elif r.type == "*":
                level = 0
            else:
                continue
            if level > specificity:
                specificity, q = level, r.q
        if q is None or q <= 0:
            continue
        if best is None or q > best[0]:
            best, choice = (q, index), offer
    return choice


def typed(media: str) -> str:
    """The Content-Type for ``media``: JSON types as they are, text with ``charset=utf-8``.

    >>> typed("text/csv"), typed("application/sparql-results+json")
    ('text/csv; charset=utf-8', 'application/sparql-results+json')
    """
    return media if media.endswith("+json") or media == "application/json" \
        else f"{media}; charset=utf-8"
