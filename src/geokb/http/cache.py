"""A result cache keyed by request and log position.

An event-sourced KB knows exactly when its state changes: every change moves the log
position. An answer cached under (request, position) is therefore correct by
construction for as long as the position stands, and needs no invalidation.

>>> cache = ResultCache(max_entries=2)
>>> cache.put(("q", 1), b"a")
>>> cache.get(("q", 1)), cache.get(("q", 2))
(b'a', None)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ResultCache(Generic[V]):
    """A thread-safe LRU cache bounded in entries and in total size of the values."""

    def __init__(self, *, max_entries: int = 2048, max_bytes: int = 64 * 1024 * 1024,
                 max_item_bytes: int = 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_item_bytes = max_item_bytes
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: Hashable, value: V, size: int | None = None) -> None:
        """Keep ``value`` (of ``size`` bytes; ``len(value)`` by default) unless too big."""
        if size is None:
            size = len(value)  # type: ignore[arg-type]
        if size > self.max_item_bytes or self.max_entries <= 0:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def __len__(self) -> int:
        return len(self._items)
