"""Hand memory the process has freed back to the system.

glibc keeps what a thread freed in that thread's arena (up to eight per core), so a
process that now and then does one big piece of work in a new thread — a closed RocksDB
store, a parse of a 900 kB query in :mod:`geokb.grammar`'s fresh thread — grows by that
work's peak once per arena, and stays grown. ``malloc_trim(0)`` returns the free pages of
every arena. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        found: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return found


_TRIM = _malloc_trim()


def trim() -> None:
    """Return the free memory of every malloc arena to the system (a few milliseconds)."""
    if _TRIM is not None:
        _TRIM(0)
