"""A small thread-safe TTL cache for per-process lookups on the request path.

Staleness is bounded by ``ttl`` measured from *before* the value was read: a reader takes a
``ticket()`` before it queries the database and stores the result with ``set_if_current``. The
entry then expires ``ttl`` seconds after the read began (not after it ended), and an
``invalidate`` that happened while the read was in flight makes the store a no-op, so a slow
read that saw the old row can never put it back after an invalidation.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass(frozen=True)
class Ticket:
    started: float
    generation: int


class TTLCache(Generic[V]):
    """Entries live ``ttl`` seconds at most; ``invalidate`` drops one at once; the oldest-stored go first."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0

    def get(self, key: str) -> V | None:
        # Lock-free fast path: dict reads are atomic under the GIL, and a stale LRU order only
        # changes which entry is evicted first.
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= time.monotonic():
            with self._lock:
                current = self._data.get(key)
                if current is not None and current[0] <= time.monotonic():
                    del self._data[key]
            return None
        return value

    def ticket(self) -> Ticket:
        """Take before reading the value from its source; pass to ``set_if_current``."""
        return Ticket(time.monotonic(), self._generation)

    def set_if_current(self, key: str, value: V, ticket: Ticket) -> bool:
        """Store unless something was invalidated since ``ticket``; expiry counts from the ticket."""
        with self._lock:
            if ticket.generation != self._generation:
                return False
            self._store(key, value, ticket.started + self.ttl)
            return True

    def set(self, key: str, value: V) -> None:
        with self._lock:
            self._store(key, value, time.monotonic() + self.ttl)

    def _store(self, key: str, value: V, expires: float) -> None:
        self._data[key] = (expires, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def invalidate(self, key: str) -> None:
        with self._lock:
            self._generation += 1
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
