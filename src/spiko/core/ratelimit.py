"""Fixed-window rate limiting, shared by every worker: in Redis when it is configured, otherwise in
the database (``rate_limit_windows``).

A limit of N per window means the (N+1)th hit inside a window is refused, whichever worker or
process receives it: the counters live where every worker sees them.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window resets; 0 when allowed


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_seconds: int, session: Any = None) -> Verdict: ...

    def peek(self, key: str, limit: int, window_seconds: int, session: Any = None) -> Verdict: ...

    def peek_all(
        self, checks: Sequence[tuple[str, int]], window_seconds: int, session: Any = None
    ) -> Verdict: ...

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

    def peek_all(
        self, checks: Sequence[tuple[str, int]], window_seconds: int, session: Any = None
    ) -> Verdict:
        """``peek`` of each (key, limit), in one round trip: the first refusal, in their order."""
        pipe = self._redis.pipeline()
        for key, _ in checks:
            pipe.get(self._prefix + key)
            pipe.ttl(self._prefix + key)
        answers = pipe.execute()
        for index, (_, limit) in enumerate(checks):
            count, ttl = answers[2 * index], answers[2 * index + 1]
            if count is not None and int(count) >= limit:
                return Verdict(False, max(1, int(ttl)))
        return Verdict(True, 0)

    def reset(self, key: str) -> None:
        self._redis.delete(self._prefix + key)


class DatabaseRateLimiter:
    """Counters in ``rate_limit_windows``, one short write transaction per hit.

    ``session``: count in the caller's open write transaction instead (on SQLite, where writers
    take turns anyway, that saves taking the write lock again; see ``oauth.flows.token``).

    The count is incremented by one atomic ``UPDATE ... RETURNING`` (a row lock on PostgreSQL, the write lock
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
        return _stored_key(key)

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
        bump, first, _ = _statements()
        connection = session.connection()
        row = connection.execute(bump, {"k": key, "now": now, "cutoff": now - window_seconds}).first()
        if row is None:
            connection.execute(first, {"k": key, "now": now})
            return now, 1
        return float(row[0]), int(row[1])

    def peek(self, key: str, limit: int, window_seconds: int, session: Any = None) -> Verdict:
        _, _, read = _statements()
        key = self._stored(key)
        now = time.time()
        if session is not None:
            row = session.connection().execute(read, {"k": key}).first()
        else:
            with self._ctx.transaction(write=False) as own:
                row = own.connection().execute(read, {"k": key}).first()
        if row is None or row.window_started <= now - window_seconds or row.count < limit:
            return Verdict(True, 0)
        return Verdict(False, max(1, int(window_seconds - (now - row.window_started)) + 1))

    def peek_all(
        self, checks: Sequence[tuple[str, int]], window_seconds: int, session: Any = None
    ) -> Verdict:
        """``peek`` of each (key, limit), read in one statement: the first refusal, in their order."""
        stored = [self._stored(key) for key, _ in checks]
        statement = _peek_statement(len(stored))
        parameters = {f"k{index}": key for index, key in enumerate(stored)}
        now = time.time()
        if session is not None:
            rows = session.connection().execute(statement, parameters).all()
        else:
            with self._ctx.transaction(write=False) as own:
                rows = own.connection().execute(statement, parameters).all()
        windows = {row.key: (row.window_started, row.count) for row in rows}
        for key, (_, limit) in zip(stored, checks, strict=True):
            window = windows.get(key)
            if window is None or window[0] <= now - window_seconds or window[1] < limit:
                continue
            return Verdict(False, max(1, int(window_seconds - (now - window[0])) + 1))
        return Verdict(True, 0)

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


@functools.lru_cache(maxsize=4096)
def _stored_key(key: str) -> str:
    """Keys carry what clients sent (a client id, an address): stored as their SHA-256, always 64
    safe characters whatever bytes came in. The same few keys come back on every request: their
    digests are remembered (a bounded number of them)."""
    return hashlib.sha256(key.encode("utf-8", "backslashreplace")).hexdigest()


@functools.cache
def _peek_statement(count: int) -> Any:
    """The read of ``peek_all`` for ``count`` keys (bound as ``k0``, ``k1``...), built once."""
    from sqlalchemy import Table, bindparam, select

    from spiko.db.models.limits import RateLimitWindow

    table = RateLimitWindow.__table__
    assert isinstance(table, Table)
    keys: list[Any] = [bindparam(f"k{index}") for index in range(count)]
    return select(table.c.key, table.c.window_started, table.c.count).where(table.c.key.in_(keys))


@functools.cache
def _statements() -> tuple[Any, Any, Any]:
    """The counter's statements, built once (on the token endpoint's path, building them cost
    about as much as running them): the atomic bump, which returns the window it counted in
    (starting a new one when the stored one is over), the first hit's insert, the read of ``peek``."""
    from sqlalchemy import Table, bindparam, case, insert, select, update

    from spiko.db.models.limits import RateLimitWindow

    table = RateLimitWindow.__table__
    assert isinstance(table, Table)
    over = table.c.window_started <= bindparam("cutoff")
    bump = (
        update(table)
        .where(table.c.key == bindparam("k"))
        .values(
            count=case((over, 1), else_=table.c.count + 1),
            window_started=case((over, bindparam("now")), else_=table.c.window_started),
        )
        .returning(table.c.window_started, table.c.count)
    )
    first = insert(table).values(key=bindparam("k"), window_started=bindparam("now"), count=1)
    read = select(table.c.window_started, table.c.count).where(table.c.key == bindparam("k"))
    return bump, first, read


def make_rate_limiter(ctx: Any, redis_url: str | None, prefix: str = "spiko:") -> RateLimiter:
    """Redis when configured; otherwise the database, which every worker shares too."""
    if redis_url:
        return RedisRateLimiter(redis_url, prefix=prefix + "rl:")
    return DatabaseRateLimiter(ctx)
