"""Dates in an article, with their precision, resolved against the publication date.

Candidates are found by pattern (month names, years, weekdays, "yesterday", …) and read by
dateparser, offline, with the publication date as the base of relative expressions. A
weekday is the most recent such day on or before publication ("on Monday" in an article
published on a Monday is that day), as news writing uses it.

>>> [(d.value, d.precision) for d in find_dates("It ended in December 2024, not 2015.", None)]
[('2024-12', 'month'), ('2015', 'year')]
>>> find_dates("Talks began on Monday.", "2025-09-17")[0].value
'2025-09-15'
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_MONTH = (r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|"
          r"Aug(?:ust|\.)?|Sept?(?:ember|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CANDIDATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)? {_MONTH},? \d{{4}}"         # 15 September 2025
    rf"|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}"               # September 15, 2025
    rf"|{_MONTH} \d{{4}}"                                          # December 2024
    rf"|\d{{1,2}}(?:st|nd|rd|th)? {_MONTH}(?![\w])"                # 15 September
    rf"|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?(?![\w])"                # September 15
    rf"|(?:19|20)\d{{2}}(?![\w-])"                                 # 2015
    r"|(?:last |this |on |next )?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r"|yesterday|today|last (?:week|month|year)|this (?:week|month|year))\b",
    re.IGNORECASE)
_AMBIGUOUS_MONTH = re.compile(r"\A(?:may|march|june?)\Z", re.IGNORECASE)


@dataclass(frozen=True)
class DateMention:
    """A date in the text: offsets, the text, its value and precision."""

    start: int
    end: int
    text: str
    value: str | None  # YYYY | YYYY-MM | YYYY-MM-DD, or None when it cannot be resolved
    precision: str  # year | month | day | week
    why: str


def find_dates(text: str, published: str | None, *, start: int = 0,
               end: int | None = None) -> list[DateMention]:
    """Date mentions in ``text[start:end]`` resolved against ``published`` (YYYY-MM-DD)."""
    base = _base(published)
    out: list[DateMention] = []
    chunk = text[start:end]
    for m in _CANDIDATE.finditer(chunk):
        phrase = m.group()
        if _AMBIGUOUS_MONTH.match(phrase):
            continue
        mention = _resolve(phrase, base)
        if mention is None:
            continue
        value, precision, why = mention
        out.append(DateMention(start + m.start(), start + m.end(), phrase, value, precision, why))
    return out


def _base(published: str | None) -> dt.datetime | None:
    if not published:
        return None
    try:
        return dt.datetime.strptime(published[:10], "%Y-%m-%d")
    except ValueError:
        return None


def _resolve(phrase: str, base: dt.datetime | None) -> tuple[str | None, str, str] | None:
    words = phrase.casefold().split()
    weekday = next((w for w in words if w in _WEEKDAYS), None)
    if weekday is not None:
        if base is None:
            return None, "day", f"{phrase!r} needs the publication date (--published)"
        back = (base.weekday() - _WEEKDAYS.index(weekday)) % 7
        if words[0] == "last" and back == 0:
            back = 7
        day = base - dt.timedelta(days=back)
        return (day.strftime("%Y-%m-%d"), "day", f"{phrase!r}: the {weekday.capitalize()} "
                f"on or before publication ({base:%Y-%m-%d})")
    relative = words[0] in {"yesterday", "today", "last", "this"}
    if relative and base is None:
        return None, "day", f"{phrase!r} needs the publication date (--published)"
    from dateparser.date import DateDataParser

    settings = {"PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True,
                "REQUIRE_PARTS": [], "PREFER_DAY_OF_MONTH": "first"}
    if base is not None:
        settings["RELATIVE_BASE"] = base
    parser = DateDataParser(languages=["en"], settings=settings)
    data = parser.get_date_data(phrase.rstrip(".,"))
    if data.date_obj is None:
        return None
    period = data.period or "day"
    has_year = re.search(r"\d{4}", phrase) is not None
    if not has_year and not relative and base is None:
        return None, period, f"{phrase!r} has no year and there is no publication date"
    date = data.date_obj
    if period == "year":
        return f"{date:%Y}", "year", f"{phrase!r}: a year"
    if period == "month":
        return f"{date:%Y-%m}", "month", f"{phrase!r}: a month"
    if period == "week":
        return None, "week", f"{phrase!r}: a week, no single date (resolve by hand)"
    return f"{date:%Y-%m-%d}", "day", f"{phrase!r}: a day"
