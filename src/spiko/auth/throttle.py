"""Sign-in throttling: failed guesses slow the guesser down, and never lock the owner out.

Failures are counted per (account, address) and per address. After a number of free failures,
each further attempt from there must wait: ``delay``, then twice as long after each failure, up
to ``max_delay``. An attempt made before its time is refused without its password being checked
(so it tells the guesser nothing) and without counting (so hammering does not lengthen the wait).

The owner is never locked out by others: failures from other addresses do not delay their own
address, and a browser the account signed in from before (a signed ``known device`` cookie) is
counted apart from its address, so the owner gets in from there while guesses from the same
network wait. A successful sign-in clears what it proves was the owner's: the (account, address)
or (account, device) failures.

The counts live where every worker sees them: in Redis when configured, else in the database
(``rate_limit_windows``, a row per key holding the failure count and the last failure's time;
forgotten a day after the last failure). ``clock`` is injectable, for tests.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from spiko.auth.secrets import random_token, sha256_hex

DEVICE_COOKIE = "spiko_device"
DEVICE_COOKIE_LIFETIME_SECONDS = 365 * 24 * 3600
FORGET_AFTER_SECONDS = 86_400


@dataclass(frozen=True)
class Counter:
    """One key counted, with the failures it may have before attempts must wait."""

    key: str
    free_failures: int


@dataclass(frozen=True)
class Wait:
    """When the next attempt is allowed (epoch seconds); ``allowed`` when that is not later than now."""

    allowed: bool
    retry_at: float
    now: float

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.retry_at - self.now)) if not self.allowed else 0

    @property
    def retry_at_text(self) -> str:
        return datetime.fromtimestamp(self.retry_at, UTC).strftime("%H:%M:%S UTC")


Verdict = Callable[[int, float], "float | None"]  # (failures, last failure) -> refused until, or None


class FailureStore(Protocol):
    def claim(self, key: str, now: float, verdict: Verdict) -> float | None:
        """Atomically: judge the key's (failures, last) — (0, 0) when none or forgotten — and,
        unless refused, count the attempt as a failure made ``now``. Returns the refusal's time."""
        ...

    def forgive(self, key: str) -> None:
        """Take back one failure: a claimed attempt that turned out not to be one."""
        ...

    def clear(self, key: str) -> None: ...


def _remembered(failures: int, last: float, now: float) -> tuple[int, float]:
    return (failures, last) if last > now - FORGET_AFTER_SECONDS else (0, 0.0)


class RedisFailureStore:
    """A hash per key (failures, last), expiring a day after the last failure; claims are
    optimistic transactions (WATCH), retried when another worker changed the key meanwhile."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url)
        self._prefix = prefix

    def claim(self, key: str, now: float, verdict: Verdict) -> float | None:
        import redis

        name = self._prefix + key
        while True:
            with self._redis.pipeline() as pipe:
                try:
                    cast(Any, pipe).watch(name)  # redis-py leaves watch() untyped
                    raw_failures, raw_last = pipe.hmget(name, "failures", "last")
                    failures, last = _remembered(int(raw_failures or 0), float(raw_last or 0), now)
                    refused_until = verdict(failures, last)
                    if refused_until is not None:
                        pipe.unwatch()
                        return refused_until
                    pipe.multi()
                    pipe.hset(name, mapping={"failures": failures + 1, "last": repr(now)})
                    pipe.expire(name, FORGET_AFTER_SECONDS)
                    pipe.execute()
                    return None
                except redis.WatchError:
                    continue

    def forgive(self, key: str) -> None:
        name = self._prefix + key
        if self._redis.hincrby(name, "failures", -1) < 0:
            self._redis.hset(name, "failures", 0)

    def clear(self, key: str) -> None:
        self._redis.delete(self._prefix + key)


class DatabaseFailureStore:
    """Rows of ``rate_limit_windows``: ``count`` failures, the last at ``window_started``; a claim
    holds the row's lock (PostgreSQL) or the write lock (SQLite) while it judges and counts.

    The rate limiter's periodic clean-up deletes rows whose time is more than a day old, which
    is when failures are forgotten here too.
    """

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx

    @staticmethod
    def _stored(key: str) -> str:
        return hashlib.sha256(("throttle:" + key).encode("utf-8", "backslashreplace")).hexdigest()

    def claim(self, key: str, now: float, verdict: Verdict) -> float | None:
        from sqlalchemy import insert, select
        from sqlalchemy.exc import IntegrityError

        from spiko.db.models.limits import RateLimitWindow as W

        stored = self._stored(key)
        for _ in range(3):
            try:
                with self._ctx.transaction() as session:
                    row = session.scalars(select(W).where(W.key == stored).with_for_update()).first()
                    failures, last = _remembered(row.count, row.window_started, now) if row else (0, 0.0)
                    refused_until = verdict(failures, last)
                    if refused_until is not None:
                        return refused_until
                    if row is None:
                        session.execute(insert(W).values(key=stored, window_started=now, count=1))
                    else:
                        row.count, row.window_started = failures + 1, now
                return None
            except IntegrityError:
                continue  # another process inserted the key first: judge its row
        raise RuntimeError("sign-in failure counter kept conflicting")

    def forgive(self, key: str) -> None:
        from sqlalchemy import case, update

        from spiko.db.models.limits import RateLimitWindow as W

        with self._ctx.transaction() as session:
            session.execute(
                update(W)
                .where(W.key == self._stored(key))
                .values(count=case((W.count > 0, W.count - 1), else_=0))
                .execution_options(synchronize_session=False)
            )

    def clear(self, key: str) -> None:
        from sqlalchemy import delete

        from spiko.db.models.limits import RateLimitWindow as W

        with self._ctx.transaction() as session:
            session.execute(delete(W).where(W.key == self._stored(key)))


class SignInThrottle:
    def __init__(
        self,
        store: FailureStore,
        *,
        delay_seconds: float,
        max_delay_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.delay_seconds = delay_seconds
        self.max_delay_seconds = max_delay_seconds
        self.clock = clock

    def delay_after(self, failures: int, free_failures: int) -> float:
        """How long an attempt waits after ``failures`` failures: nothing, then doubling to the cap."""
        if failures < free_failures:
            return 0.0
        exponent = min(failures - free_failures, 32)
        return float(min(self.delay_seconds * 2**exponent, self.max_delay_seconds))

    def attempt(self, counters: Sequence[Counter]) -> Wait:
        """Judge an attempt against every counter and, when allowed, count it as a failure in each
        (taken back by :meth:`succeeded`): parallel guesses cannot slip past the count while the
        slow password verification runs."""
        now = self.clock()
        claimed: list[Counter] = []
        for counter in counters:

            def verdict(failures: int, last: float, free: int = counter.free_failures) -> float | None:
                retry_at = last + self.delay_after(failures, free)
                return retry_at if retry_at > now else None

            refused_until = self.store.claim(counter.key, now, verdict)
            if refused_until is not None:
                for done in claimed:
                    self.store.forgive(done.key)
                return Wait(False, refused_until, now)
            claimed.append(counter)
        return Wait(True, now, now)

    def succeeded(self, owner: Counter, others: Sequence[Counter]) -> None:
        """The owner's counter starts over; the attempt is taken back from the others."""
        self.store.clear(owner.key)
        for counter in others:
            self.store.forgive(counter.key)


def make_store(ctx: Any, redis_url: str | None, prefix: str = "spiko:") -> FailureStore:
    if redis_url:
        return RedisFailureStore(redis_url, prefix + "signin:")
    return DatabaseFailureStore(ctx)


# -- known devices: a browser that signed in to an account before -----------------------------------


def account_key(email: str) -> str:
    """The account as counted: a hash of the address typed, known or not (so nothing is revealed)."""
    return sha256_hex(email.strip().lower())


def device_cookie(secret_key: str, account: str) -> str:
    device_id = random_token(12)
    return f"{device_id}.{_device_mac(secret_key, device_id, account)}"


def known_device(secret_key: str, cookie: str | None, account: str) -> str | None:
    """The device id when the cookie was issued by this server to a browser that signed in to
    ``account``; None otherwise."""
    if not cookie or len(cookie) > 200:
        return None
    device_id, _, mac = cookie.partition(".")
    if not device_id or not hmac.compare_digest(mac, _device_mac(secret_key, device_id, account)):
        return None
    return device_id


def _device_mac(secret_key: str, device_id: str, account: str) -> str:
    message = f"spiko/known-device\x00{device_id}\x00{account}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]
