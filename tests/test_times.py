"""The answer rules of the three times (belief model, section b), on the fixture's claims."""

from __future__ import annotations

from datetime import date

import pytest

from geokb.errors import BadTime
from geokb.times import (
    ClaimTimes,
    Reported,
    Span,
    covers,
    day_of,
    denial_times,
    holding,
    known_interval,
    span,
)

WIRE = Reported(date(2025, 9, 16), date(2025, 9, 16))
# the officials' claim: valid from 2025-09-15, no end, reported on 2025-09-16
WITHDRAWN = ClaimTimes(valid_start=date(2025, 9, 15), valid_start_last=date(2025, 9, 15),
                       reported=WIRE)
# the ministry's denial: no valid time of its own, same report
DENIAL = ClaimTimes(reported=WIRE)


@pytest.mark.parametrize(("at", "expected"), [
    ("2025-09-14", None),
    ("2025-09-15", "holds"),
    ("2025-09", "holds"),
    ("2026-06", "last_reported"),
    ("2014", None),
])
def test_the_withdrawal_and_its_denial_at_each_world_time(at: str,
                                                          expected: str | None) -> None:
    t = span(at)
    assert holding(WITHDRAWN, t) == expected
    assert holding(denial_times(DENIAL, WITHDRAWN), t) == expected


def test_an_undated_claim_is_undated_at_any_time() -> None:
    for at in ("2014", "2025-09-15", "2999"):
        assert holding(ClaimTimes(), span(at)) == "undated"
    assert known_interval(ClaimTimes()) is None


def test_a_start_with_no_end_and_no_report_holds_in_its_own_period_only() -> None:
    # Russia's support for Assad, "from 2015", from an undated article
    support = ClaimTimes(valid_start=date(2015, 1, 1), valid_start_last=date(2015, 12, 31))
    assert known_interval(support) == Span(date(2015, 1, 1), date(2015, 12, 31))
    assert holding(support, span("2015-06")) == "holds"
    assert holding(support, span("2026-06")) == "last_reported"  # never "holds"
    assert holding(support, span("2014")) is None


def test_a_closed_interval_ends() -> None:
    support = ClaimTimes(valid_start=date(2015, 9, 30), valid_end=date(2024, 12, 31))
    assert holding(support, span("2024-12")) == "holds"
    assert holding(support, span("2026-06")) is None  # ended: not "last reported"


def test_an_end_without_a_start_holds_at_any_time_before_the_end() -> None:
    ruled = ClaimTimes(valid_end=date(2024, 12, 8))
    assert holding(ruled, span("1971")) == "holds"
    assert holding(ruled, span("2025")) is None


def test_reported_only_claims_hold_when_said() -> None:
    said = ClaimTimes(reported=Reported(date(2025, 9, 1), date(2025, 9, 30), "claim"))
    assert holding(said, span("2025-09-15")) == "holds"
    assert holding(said, span("2025-10")) == "last_reported"
    assert holding(said, span("2025-08")) is None  # reported after T


def test_a_denial_with_its_own_valid_time_keeps_it() -> None:
    own = ClaimTimes(valid_start=date(2020, 1, 1), valid_end=date(2020, 12, 31))
    assert denial_times(own, WITHDRAWN) == own


def test_conflict_cover() -> None:
    since = date(2025, 9, 15)
    assert covers(since, [None, None], span("2025-09-15"))
    assert not covers(since, [None, None], span("2025-09-14"))
    assert covers(since, [date(2025, 9, 20), None], span("2025-09"))
    assert not covers(since, [date(2025, 9, 20), None], span("2025-10"))


@pytest.mark.parametrize("bad", ["2025-13", "2025-02-30", "yesterday", "25", ""])
def test_bad_dates_are_bad_time(bad: str) -> None:
    with pytest.raises(BadTime):
        span(bad)


def test_t_of_a_recorded_time_is_its_day() -> None:
    assert day_of("2026-11-28T10:11:12Z") == span("2026-11-28")
