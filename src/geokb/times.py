"""The three times of a claim and the answer rules at a world time (belief model, section b).

A claim has a *valid time* (when it holds in the world: ``gk:validStart``/``gk:validEnd``),
a *reported time* (when it was said: its ``gk:saidStart``/``gk:saidEnd``, else its source's
``gk:publishedStart``/``gk:publishedEnd``) and a *recorded time* (log positions, not handled
here). A question asks at a world time ``T``, an interval of days (:func:`span`). This module
is pure: dates in, verdicts out; the projection (conflicts) and the read side (answers) share
it so that they cannot disagree.

>>> from datetime import date
>>> withdrawn = ClaimTimes(valid_start=date(2025, 9, 15),
...                        reported=Reported(date(2025, 9, 16), date(2025, 9, 16)))
>>> known_interval(withdrawn)
Span(first=datetime.date(2025, 9, 15), last=datetime.date(2025, 9, 16))
>>> holding(withdrawn, span("2025-09"))
'holds'
>>> holding(withdrawn, span("2026-06"))
'last_reported'
>>> holding(withdrawn, span("2014")) is None
True
>>> holding(ClaimTimes(), span("2014"))
'undated'
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Literal

from geokb.errors import BadTime

Holding = Literal["holds", "last_reported", "undated"]
HOLDS: Holding = "holds"
LAST_REPORTED: Holding = "last_reported"
UNDATED: Holding = "undated"

# ASCII digits only and no trailing newline (``\Z``, not ``$``): full-width digits and
# "2014\n" are not dates (the bug class fixed once already in the log's schemas)
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?\Z", re.ASCII)


@dataclass(frozen=True)
class Span:
    """An interval of days, both ends included: a world time ``T`` or a known interval."""

    first: date
    last: date

    def overlaps(self, other: Span) -> bool:
        """Whether the two spans share at least one day.

        >>> span("2025").overlaps(span("2025-09-15")), span("2024").overlaps(span("2025"))
        (True, False)
        """
        return self.first <= other.last and other.first <= self.last


def period(text: str) -> tuple[date, date, str]:
    """First day, last day and precision (``day``, ``month``, ``year``) of a date text
    (surrounding spaces allowed, as typed in a request).

    >>> period("2024-02")
    (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29), 'month')

    Raises :class:`BadTime` for anything but ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.
    """
    if not isinstance(text, str):
        raise BadTime(f"invalid date {text!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
    return exact_period(text.strip())


@lru_cache(maxsize=16384)
def exact_period(text: str) -> tuple[date, date, str]:
    """:func:`period` of exactly ``text`` (nothing around it): the one date grammar, which
    the log's payload checks share.

    >>> exact_period("2024-13")
    Traceback (most recent call last):
    ...
    geokb.errors.BadTime: impossible date '2024-13': month must be in 1..12
    >>> exact_period("２０１４")
    Traceback (most recent call last):
    ...
    geokb.errors.BadTime: invalid date '２０１４': use YYYY, YYYY-MM or YYYY-MM-DD
    """
    m = _DATE.match(text)
    if not m:
        raise BadTime(f"invalid date {text!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(m.group(1))
    try:
        if m.group(3):
            day = date(year, int(m.group(2)), int(m.group(3)))
            return day, day, "day"
        if m.group(2):
            month = int(m.group(2))
            first = date(year, month, 1)
            return first, date(year, month, calendar.monthrange(year, month)[1]), "month"
        return date(year, 1, 1), date(year, 12, 31), "year"
    except ValueError as e:
        raise BadTime(f"impossible date {text!r}: {e}") from None


def span(text: str) -> Span:
    """The world time ``T`` that ``--valid-at TEXT`` asks about.

    >>> span("2014")
    Span(first=datetime.date(2014, 1, 1), last=datetime.date(2014, 12, 31))

    Raises :class:`BadTime` for a malformed or impossible date.
    """
    first, last, _ = period(text)
    return Span(first, last)


def day_of(timestamp: str) -> Span:
    """The one-day ``T`` of a recorded time (``2026-11-28T09:00:00Z``): "now, as the KB knows it".

    >>> day_of("2026-11-28T09:00:00Z")
    Span(first=datetime.date(2026, 11, 28), last=datetime.date(2026, 11, 28))

    Raises :class:`BadTime` when the text does not start with a day.
    """
    return span(timestamp[:10])


@dataclass(frozen=True)
class Reported:
    """When a claim was said or reported: first and last day, and whose date it is."""

    first: date
    last: date
    origin: Literal["claim", "source"] = "source"


@dataclass(frozen=True)
class ClaimTimes:
    """The world-time facts of one claim, as stored (days; ``None`` where absent).

    ``valid_start_last`` is the last day of the valid start's own period (``2015`` → the
    2015-12-31); it bounds a claim with no end and no reported time. It defaults to
    ``valid_start``.
    """

    valid_start: date | None = None
    valid_end: date | None = None
    valid_start_last: date | None = None
    reported: Reported | None = None

    @property
    def dated(self) -> bool:
        """Whether the claim has a valid time (a start, an end, or both)."""
        return self.valid_start is not None or self.valid_end is not None


def known_interval(times: ClaimTimes) -> Span | None:
    """The days a claim is known to hold, or ``None`` for an undated claim.

    Dated: ``[start or −∞, end or E]``, where ``E`` is the reported time's last day, else the
    last day of the start's own period. Reported only: the reported interval.

    >>> known_interval(ClaimTimes(valid_start=date(2015, 1, 1),
    ...                           valid_start_last=date(2015, 12, 31)))
    Span(first=datetime.date(2015, 1, 1), last=datetime.date(2015, 12, 31))
    >>> known_interval(ClaimTimes(valid_end=date(2024, 12, 8))).first
    datetime.date(1, 1, 1)
    >>> known_interval(ClaimTimes(reported=Reported(date(2025, 9, 16), date(2025, 9, 16))))
    Span(first=datetime.date(2025, 9, 16), last=datetime.date(2025, 9, 16))
    >>> known_interval(ClaimTimes()) is None
    True
    """
    if times.dated:
        first = times.valid_start or date.min
        if times.valid_end is not None:
            last = times.valid_end
        elif times.reported is not None:
            last = max(times.reported.last, first)
        else:
            assert times.valid_start is not None  # dated without an end: it has a start
            last = times.valid_start_last or times.valid_start
        return Span(first, last)
    if times.reported is not None:
        return Span(times.reported.first, times.reported.last)
    return None


def holding(times: ClaimTimes, t: Span) -> Holding | None:
    """Whether a live claim holds at ``T``, was last reported before it, or is undated.

    ``None``: not part of the answer at ``T`` (it starts after ``T``, ended before it, or
    was reported after it). A claim with no end whose known interval is over before ``T``
    may still hold: ``"last_reported"``, never presented as fact.

    >>> assad = ClaimTimes(valid_start=date(2015, 9, 30), valid_end=date(2024, 12, 8))
    >>> holding(assad, span("2020")), holding(assad, span("2026-06")), holding(assad, span("2014"))
    ('holds', None, None)
    >>> holding(ClaimTimes(valid_end=date(2024, 12, 8)), span("1990"))
    'holds'
    >>> said = ClaimTimes(reported=Reported(date(2025, 9, 16), date(2025, 9, 16)))
    >>> holding(said, span("2025-09-16")), holding(said, span("2026")), holding(said, span("2024"))
    ('holds', 'last_reported', None)
    """
    known = known_interval(times)
    if known is None:
        return UNDATED
    if known.overlaps(t):
        return HOLDS
    if times.valid_end is None and t.first > known.last:
        return LAST_REPORTED
    return None


def denial_times(own: ClaimTimes, denied: ClaimTimes) -> ClaimTimes:
    """The times a denial is judged by: its own if it has a valid time, else the denied claim's
    (a denial speaks of the denied claim's time), keeping its own reported time when the
    denied claim has none. An undated target leaves the denial its own times.

    >>> w = ClaimTimes(valid_start=date(2025, 9, 15),
    ...                reported=Reported(date(2025, 9, 16), date(2025, 9, 16)))
    >>> d = ClaimTimes(reported=Reported(date(2025, 9, 16), date(2025, 9, 16)))
    >>> holding(denial_times(d, w), span("2025-09-15"))
    'holds'
    >>> denial_times(d, ClaimTimes()) == d
    True
    """
    if own.dated or known_interval(denied) is None:
        return own
    if denied.reported is None and own.reported is not None:
        return replace(denied, reported=own.reported)
    return denied


def covers(contested_since: date, side_ends: list[date | None], t: Span) -> bool:
    """Whether a conflict covers ``T``: ``T``'s last day is on or after ``contested_since``
    and no side has ended before ``T`` (a side has ended when every claim in it has a valid
    end before ``T``'s first day; ``side_ends`` holds each side's latest end, ``None`` for
    a side with an open claim).

    >>> covers(date(2025, 9, 15), [None, None], span("2026-06"))
    True
    >>> covers(date(2025, 9, 15), [None, None], span("2025-09-14"))
    False
    >>> covers(date(2025, 9, 15), [date(2025, 9, 15), None], span("2025-10"))
    False
    """
    if t.last < contested_since:
        return False
    return all(end is None or end >= t.first for end in side_ends)
