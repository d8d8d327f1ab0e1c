"""Fixed-window rate limiting, in memory for one process or in Redis when shared by workers."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window resets; 0 when allowed


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_seconds: int) -> Verdict: ...

    def peek(self, key: str, limit: int, window_seconds: int) -> Verdict: ...

    def reset(self, key: str) -> None: ...


class MemoryRateLimiter:
    """Counters in this process; entries expire with their window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def _current(self, key: str, window_seconds: int, now: float) -> tuple[float, int]:
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window_seconds:
            started, count = now, 0
        return started, count

    def hit(self, key: str, limit: int, window_seconds: int) -> Verdict:
        now = time.monotonic()
        with self._lock:
            if len(self._windows) > 100_000:
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window_seconds}
            started, count = self._current(key, window_seconds, now)
            count += 1
            self._windows[key] = (started, count)
        if count > limit:
            return Verdict(False, max(1, int(window_seconds - (now - started)) + 1))
        return Verdict(True, 0)

    def peek(self, key: str, limit: int, window_seconds: int) -> Verdict:
        now = time.monotonic()
        with self._lock:
            started, count = self._current(key, window_seconds, now)
        if count >= limit:
            return Verdict(False, max(1, int(window_seconds - (now - started)) + 1))
        return Verdict(True, 0)

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)


class RedisRateLimiter:
    """Counters in Redis (INCR + EXPIRE), shared by every worker and every process."""

    def __init__(self, redis_url: str, prefix: str = "spiko:rl:") -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url)
        self._prefix = prefix

    def hit(self, key: str, limit: int, window_seconds: int) -> Verdict:
        name = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window_seconds, nx=True)
        pipe.ttl(name)
        count, _, ttl = pipe.execute()
        if int(count) > limit:
            return Verdict(False, max(1, int(ttl)))
        return Verdict(True, 0)

    def peek(self, key: str, limit: int, window_seconds: int) -> Verdict:
        name = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.get(name)
        pipe.ttl(name)
        count, ttl = pipe.execute()
        if count is not None and int(count) >= limit:
            return Verdict(False, max(1, int(ttl)))
        return Verdict(True, 0)

    def reset(self, key: str) -> None:
        self._redis.delete(self._prefix + key)


def make_rate_limiter(redis_url: str | None, prefix: str = "spiko:") -> RateLimiter:
    return RedisRateLimiter(redis_url, prefix=prefix + "rl:") if redis_url else MemoryRateLimiter()
