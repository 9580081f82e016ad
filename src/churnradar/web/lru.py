"""A small thread-safe least-recently-used cache for the web's per-snapshot answers.

``functools.lru_cache`` caches a function's calls; here one cache holds values built by
many functions (files read, pages drawn, filter masks) under keys that carry the version
of what they were made from, so an entry is never stale: a new version is a new key and
the old one ages out."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class LRU:
    """At most ``size`` entries (and, with ``weigh``, at most ``budget`` in all: e.g.
    bytes), the least recently used dropped first. ``build`` runs outside the lock: two
    threads asking for the same missing key may both build it (the values are equal)."""

    def __init__(self, size: int, *, budget: float | None = None,
                 weigh: Callable[[Any], float] | None = None) -> None:
        self.size = size
        self.budget = budget
        self.weigh = weigh
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._weights: dict[Hashable, float] = {}
        self._total = 0.0
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[no-any-return]
        value = build()
        weight = self.weigh(value) if self.weigh is not None else 0.0
        with self._lock:
            if key in self._items:
                self._total -= self._weights.pop(key, 0.0)
            self._items[key] = value
            self._weights[key] = weight
            self._total += weight
            while len(self._items) > 1 and (
                    len(self._items) > self.size
                    or (self.budget is not None and self._total > self.budget)):
                old, _ = self._items.popitem(last=False)
                self._total -= self._weights.pop(old, 0.0)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._weights.clear()
            self._total = 0.0
