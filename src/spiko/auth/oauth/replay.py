"""Single-use JWT identifiers (``jti``) of DPoP proofs (RFC 9449 section 11.1) and client
assertions (RFC 7523 section 3), remembered where every worker and process sees them: at the
authorization server's endpoints, on /userinfo and on /v1 alike.

In Redis when it is configured (``SET NX`` with an expiry), otherwise in the database
(``oauth_used_jtis``, an insert that does nothing on conflict). An identifier is kept only until
the token carrying it would be refused as stale anyway, so the store stays small.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import weakref
from typing import Any, Protocol

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from spiko.db.models.fapi import UsedJti


def replay_key(purpose: str, issuer: str, jti: str) -> str:
    """What is stored: a digest of what was sent, always 64 safe characters."""
    raw = "\0".join((purpose, issuer, jti)).encode("utf-8", "backslashreplace")
    return hashlib.sha256(raw).hexdigest()


class ReplayStore(Protocol):
    def first_use(self, key: str, expires_at: float, session: Session | None = None) -> bool:
        """True the first time ``key`` is seen (and remember it until ``expires_at``), else False."""
        ...


class RedisReplayStore:
    def __init__(self, redis_url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url)
        self._prefix = prefix

    def first_use(self, key: str, expires_at: float, session: Session | None = None) -> bool:
        ttl_ms = max(1000, int((expires_at - time.time()) * 1000))
        return bool(self._redis.set(self._prefix + key, b"1", nx=True, px=ttl_ms))


class DatabaseReplayStore:
    """``oauth_used_jtis``: in the caller's transaction when it has one, else in a short one of its own.

    Every ``CLEANUP_EVERY`` identifiers, those past their expiry are deleted.

    A transaction of its own on PostgreSQL commits with ``synchronous_commit = off``: the row is
    visible to every other worker as soon as the commit returns, but the commit does not wait for
    the WAL flush. Only a crash of the database server itself within that flush delay (a fraction
    of a second) could forget an identifier, which a proof carries for about a minute at most.
    """

    CLEANUP_EVERY = 500
    # One statement both databases run as is, compiled once: a record costs a round trip, not an
    # ORM flush (this runs once per DPoP call on /v1).
    INSERT = text(
        'INSERT INTO oauth_used_jtis ("key", expires_at) VALUES (:key, :expires_at) '
        'ON CONFLICT ("key") DO NOTHING'
    )

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        self._seen = 0

    def first_use(self, key: str, expires_at: float, session: Session | None = None) -> bool:
        params = {"key": key, "expires_at": expires_at}
        if session is not None:
            first = session.execute(self.INSERT, params).rowcount == 1  # type: ignore[attr-defined]
            if self._cleanup_due():
                session.execute(delete(UsedJti).where(UsedJti.expires_at < time.time()))
            return bool(first)
        with self._ctx.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            first = connection.execute(self.INSERT, params).rowcount == 1
            if self._cleanup_due():
                connection.execute(delete(UsedJti).where(UsedJti.expires_at < time.time()))
        return bool(first)

    def _cleanup_due(self) -> bool:
        self._seen += 1
        return self._seen % self.CLEANUP_EVERY == 0


class MemoryReplayStore:
    """Identifiers seen by this process, each kept until its expiry.

    Alone it is no replay check for a server of several workers; ``DatabaseResourceReplayStore``
    puts one in front of the database so that a replay to the same worker costs no query.
    Bounded: expired entries are dropped every ``PRUNE_EVERY`` insertions.
    """

    PRUNE_EVERY = 1000

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._inserted = 0

    def seen(self, key: str) -> bool:
        known = self._seen.get(key)
        return known is not None and known > time.time()

    def first_use(self, key: str, expires_at: float, session: Session | None = None) -> bool:
        now = time.time()
        with self._lock:
            known = self._seen.get(key)
            if known is not None and known > now:
                return False
            self._seen[key] = expires_at
            self._inserted += 1
            if self._inserted % self.PRUNE_EVERY == 0:
                self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
        return True


class AsyncReplayStore(Protocol):
    async def first_use_async(self, key: str, expires_at: float) -> bool:
        """True the first time ``key`` is seen by any worker (and remember it), else False."""
        ...


class DatabaseResourceReplayStore:
    """Proofs sent to /v1 without Redis: ``oauth_used_jtis``, shared by every worker and process.

    One short write transaction per proof, in the thread pool. This process's memory sits in
    front of it and holds only identifiers the database has recorded, so it may refuse a replay
    without a query but never accepts one the database would refuse.
    """

    def __init__(self, ctx: Any) -> None:
        self._memory = MemoryReplayStore()
        self._database = DatabaseReplayStore(ctx)

    async def first_use_async(self, key: str, expires_at: float) -> bool:
        import anyio.to_thread  # the thread pool, without the web framework (``tests/auth/test_layers.py``)

        if self._memory.seen(key):
            return False
        first = await anyio.to_thread.run_sync(self._database.first_use, key, expires_at)
        if first:
            self._memory.first_use(key, expires_at)
        return first


class AsyncRedisReplayStore:
    """Redis from the event loop (``SET NX`` with an expiry), for proofs sent to /v1: no thread hop.

    One client per event loop, since an asyncio connection belongs to the loop that opened it.
    """

    def __init__(self, redis_url: str, prefix: str) -> None:
        self._url = redis_url
        self._prefix = prefix
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    async def first_use_async(self, key: str, expires_at: float) -> bool:
        import redis.asyncio

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients.setdefault(loop, redis.asyncio.Redis.from_url(self._url))
        ttl_ms = max(1000, int((expires_at - time.time()) * 1000))
        return bool(await client.set(self._prefix + key, b"1", nx=True, px=ttl_ms))


class DeferredRecord:
    """Takes the identifier a check would record, for the caller to record asynchronously."""

    key = ""
    expires_at = 0.0

    def first_use(self, key: str, expires_at: float, session: Session | None = None) -> bool:
        self.key, self.expires_at = key, expires_at
        return True


def make_resource_replay_store(ctx: Any) -> AsyncReplayStore:
    """The store of proofs' identifiers on /v1: Redis when configured, else the database."""
    settings = ctx.settings
    if settings.redis_url:
        return AsyncRedisReplayStore(settings.redis_url, settings.redis_prefix + "jti:")
    return DatabaseResourceReplayStore(ctx)


def make_replay_store(ctx: Any) -> ReplayStore:
    settings = ctx.settings
    if settings.redis_url:
        return RedisReplayStore(settings.redis_url, settings.redis_prefix + "jti:")
    return DatabaseReplayStore(ctx)
