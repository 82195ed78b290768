"""Pages of an answer: status and timeline answers come :data:`PAGE_SIZE` claims at a time.

An entity with thousands of claims costs one page, plus a few index lookups per claim to
put them in order. Each page says where it is, how many claims there are, and the
arguments that fetch the next one, which pin ``as_of`` so that every page comes from the
state the first one was read in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from geokb.errors import InvalidEvent
from geokb.projection.timeview import TimeFilter

#: Claims per page of a status or timeline answer, unless the caller asks otherwise.
PAGE_SIZE = 50

T = TypeVar("T")


def page(items: Sequence[T], when: TimeFilter, position: int, limit: int | None,
         offset: int) -> tuple[Sequence[T], dict[str, Any]]:
    """The window of ``items`` to show, and the answer's ``page``: where the window is,
    how many items there are, and the arguments that fetch the next window (``None`` at
    the end), with ``as_of`` pinned to ``position`` unless the answer already stands at one.

    Raises :class:`InvalidEvent` for a ``limit`` under 1 or a negative ``offset``.

    >>> window, where = page("abcde", TimeFilter(), 7, limit=2, offset=2)
    >>> window, where["total"], where["next"]["offset"], where["next"]["as_of"]
    ('cd', 5, 4, 7)
    >>> page("abcde", TimeFilter(), 7, limit=2, offset=4)[1]["next"] is None
    True
    """
    if limit is not None and limit < 1:
        raise InvalidEvent(f"limit {limit}: give 1 or more claims per page")
    if offset < 0:
        raise InvalidEvent(f"offset {offset}: give 0 or more")
    end = len(items) if limit is None else offset + limit
    window = items[offset:end]
    more = end < len(items)
    following = {"as_of": when.as_of if when.as_of is not None else position,
                 "valid_at": when.valid_at_text, "offset": end, "limit": limit}
    return window, {"offset": offset, "limit": limit, "total": len(items),
                    "next": following if more else None}
