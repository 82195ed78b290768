"""Rule 1 of the conflicts (:mod:`geokb.projection.conflicts`) without every pair: which
claims of a single-valued property another claim is set against.

Two asserted or quoted claims of a ``gk:SingleValuedProperty`` conflict when their objects
differ, their origins (source, speakers) differ and their known intervals overlap. A busy
key holds thousands of claims, and trying every pair of them after each batch took most of
a batch at 1M claims; this finds the same claims in O(n log n) for n claims of the key
(``tests/projection/test_conflicts.py`` holds it to the pairwise rule).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date

from geokb.projection.claimtimes import ClaimTimes
from geokb.vocab import MODALITY

_ASSERTED_OR_QUOTED = frozenset({MODALITY.asserted.value, MODALITY.quoted.value})
Origin = tuple[str, frozenset[str]]  # a claim's source and speakers


def single_valued(claims: list[ClaimTimes]) -> set[str]:
    """The claims that rule 1 sets against another: dated, asserted or quoted, and some
    claim of another object from another origin overlaps its known interval.

    Not pair by pair (a busy key holds thousands of claims): for each object, its claims
    sorted by start, and for each prefix the latest end and the latest end of an origin
    other than that one's. A claim overlaps one of another object from another origin iff,
    among that object's claims that start by its end, one from another origin ends on or
    after its start: the prefix's latest end, or its second if the latest is its own
    origin's.
    """
    dated = [c for c in claims if c.modality in _ASSERTED_OR_QUOTED and c.known is not None]
    by_object: dict[str, list[ClaimTimes]] = {}
    for c in dated:
        by_object.setdefault(str(c.object), []).append(c)
    if len(by_object) < 2:
        return set()
    prefixes: dict[str, tuple[list[date], list[tuple[date, Origin | None, date | None]]]] = {}
    for obj, group in by_object.items():
        group.sort(key=_start)
        starts: list[date] = []
        best: list[tuple[date, Origin | None, date | None]] = []
        # the latest end and its origin, the latest end of another origin
        e1: date = date.min
        o1: Origin | None = None
        e2: date | None = None
        for c in group:
            e, o = c.known[1], c.origin  # type: ignore[index]
            if o1 is None or o == o1:
                e1, o1 = (e, o) if o1 is None else (max(e1, e), o1)
            elif e > e1:
                e1, o1, e2 = e, o, e1
            else:
                e2 = e if e2 is None else max(e2, e)
            starts.append(_start(c))
            best.append((e1, o1, e2))
        prefixes[obj] = starts, best
    out: set[str] = set()
    for c in dated:
        start, end = _start(c), c.known[1]  # type: ignore[index]
        for obj, (starts, best) in prefixes.items():
            if obj == str(c.object):
                continue
            n = bisect_right(starts, end)
            if not n:
                continue
            e1, o1, e2 = best[n - 1]
            if (o1 != c.origin and e1 >= start) or (o1 == c.origin and e2 is not None
                                                     and e2 >= start):
                out.add(c.iri)
                break
    return out


def _start(c: ClaimTimes) -> date:
    """The first day of a dated claim's known interval (``date.min``: no known start)."""
    first = c.known[0]  # type: ignore[index]
    return date.min if first is None else first
