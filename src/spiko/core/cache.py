"""A small thread-safe TTL cache for per-process lookups on the request path.

Staleness is bounded by ``ttl`` measured from *before* the value was read: a reader takes a
``ticket()`` before it queries the database and stores the result with ``set_if_current``. The
entry then expires ``ttl`` seconds after the read began (not after it ended), and an
``invalidate`` that happened while the read was in flight makes the store a no-op, so a slow
read that saw the old row can never put it back after an invalidation.

``get_or_load`` is the async form used on the request path: a hit costs a dict lookup on the
event loop; on a miss, concurrent requests for the same key share one read in the threadpool
(when an entry expires under load, one query refills it instead of one per waiting request).
A read started before an ``invalidate`` is never joined by a request that arrives after it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

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
        self._loading: dict[tuple[int, str, int], asyncio.Task[V]] = {}

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

    async def get_or_load(self, key: str, read: Callable[[], V]) -> V:
        """The cached value, or ``read()`` run once in the threadpool for all concurrent callers."""
        value = self.get(key)
        if value is not None:
            return value
        loop = asyncio.get_running_loop()
        ticket = self.ticket()
        slot = (id(loop), key, ticket.generation)
        task = self._loading.get(slot)
        if task is None:

            async def fill() -> V:
                fresh = await run_in_threadpool(read)
                self.set_if_current(key, fresh, ticket)
                return fresh

            task = loop.create_task(fill())
            self._loading[slot] = task
            task.add_done_callback(lambda _: self._loading.pop(slot, None))
        return await asyncio.shield(task)

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
