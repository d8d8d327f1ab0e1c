"""Fixed-window rate limiting, shared by every worker: in Redis when it is configured, otherwise in
the database (``rate_limit_windows``).

A limit of N per window means the (N+1)th hit inside a window is refused, whichever worker or
process receives it: the counters live where every worker sees them.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window resets; 0 when allowed


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_seconds: int, session: Any = None) -> Verdict: ...

    def peek(self, key: str, limit: int, window_seconds: int, session: Any = None) -> Verdict: ...

    def reset(self, key: str) -> None: ...


class RedisRateLimiter:
    """Counters in Redis (INCR + EXPIRE), shared by every worker and every process."""

    def __init__(self, redis_url: str, prefix: str = "spiko:rl:") -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url)
        self._prefix = prefix

    def hit(self, key: str, limit: int, window_seconds: int, session: Any = None) -> Verdict:
        name = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window_seconds, nx=True)
        pipe.ttl(name)
        count, _, ttl = pipe.execute()
        if int(count) > limit:
            return Verdict(False, max(1, int(ttl)))
        return Verdict(True, 0)

    def peek(self, key: str, limit: int, window_seconds: int, session: Any = None) -> Verdict:
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


class DatabaseRateLimiter:
    """Counters in ``rate_limit_windows``, one short write transaction per hit.

    ``session``: count in the caller's open write transaction instead (on SQLite, where writers
    take turns anyway, that saves taking the write lock again; see ``oauth.flows.token``).

    The count is incremented by one atomic ``UPDATE`` (a row lock on PostgreSQL, the write lock
    on SQLite), which also starts a new window when the stored one is over; the first hit of a
    key inserts its row, and a concurrent first hit that loses the race on the primary key
    retries as an update. Every ``CLEANUP_EVERY`` hits, windows that began more than a day ago
    (or than the longest window in use, if longer) are deleted.
    """

    CLEANUP_EVERY = 1000  # hits
    KEEP_SECONDS = 86_400

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        self._hits = 0
        self._longest_window = 0

    @staticmethod
    def _stored(key: str) -> str:
        # Keys carry what clients sent (a client id, an address): stored as their SHA-256, always
        # 64 safe characters whatever bytes came in.
        return hashlib.sha256(key.encode("utf-8", "backslashreplace")).hexdigest()

    def hit(self, key: str, limit: int, window_seconds: int, session: Any = None) -> Verdict:
        from sqlalchemy.exc import IntegrityError

        key = self._stored(key)
        now = time.time()
        self._longest_window = max(self._longest_window, window_seconds)
        if session is not None:
            started, count = self._count(session, key, now, window_seconds)
        else:
            for _ in range(3):
                try:
                    with self._ctx.transaction() as own:
                        started, count = self._count(own, key, now, window_seconds)
                    break
                except IntegrityError:
                    continue  # another process inserted the key first: count on its row
            else:
                raise RuntimeError("rate-limit counter kept conflicting")
        self._maybe_clean_up(now, session)
        if count > limit:
            return Verdict(False, max(1, int(window_seconds - (now - started)) + 1))
        return Verdict(True, 0)

    @staticmethod
    def _count(session: Any, key: str, now: float, window_seconds: int) -> tuple[float, int]:
        from sqlalchemy import case, insert, select, update

        from spiko.db.models.limits import RateLimitWindow as W

        over = W.window_started <= now - window_seconds
        updated = session.execute(
            update(W)
            .where(W.key == key)
            .values(
                count=case((over, 1), else_=W.count + 1),
                window_started=case((over, now), else_=W.window_started),
            )
            .execution_options(synchronize_session=False)
        )
        if updated.rowcount == 0:
            session.execute(insert(W).values(key=key, window_started=now, count=1))
            return now, 1
        started, count = session.execute(select(W.window_started, W.count).where(W.key == key)).one()
        return float(started), int(count)

    def peek(self, key: str, limit: int, window_seconds: int, session: Any = None) -> Verdict:
        from sqlalchemy import select

        from spiko.db.models.limits import RateLimitWindow as W

        key = self._stored(key)
        now = time.time()
        query = select(W.window_started, W.count).where(W.key == key)
        if session is not None:
            row = session.execute(query).first()
        else:
            with self._ctx.transaction(write=False) as own:
                row = own.execute(query).first()
        if row is None or row.window_started <= now - window_seconds or row.count < limit:
            return Verdict(True, 0)
        return Verdict(False, max(1, int(window_seconds - (now - row.window_started)) + 1))

    def reset(self, key: str) -> None:
        from sqlalchemy import delete

        from spiko.db.models.limits import RateLimitWindow as W

        with self._ctx.transaction() as session:
            session.execute(delete(W).where(W.key == self._stored(key)))

    def _maybe_clean_up(self, now: float, session: Any = None) -> None:
        self._hits += 1
        if self._hits % self.CLEANUP_EVERY:
            return
        from sqlalchemy import delete

        from spiko.db.models.limits import RateLimitWindow as W

        keep = max(self.KEEP_SECONDS, self._longest_window)
        if session is not None:
            session.execute(delete(W).where(W.window_started < now - keep))
            return
        with self._ctx.transaction() as own:
            own.execute(delete(W).where(W.window_started < now - keep))


def make_rate_limiter(ctx: Any, redis_url: str | None, prefix: str = "spiko:") -> RateLimiter:
    """Redis when configured; otherwise the database, which every worker shares too."""
    if redis_url:
        return RedisRateLimiter(redis_url, prefix=prefix + "rl:")
    return DatabaseRateLimiter(ctx)
