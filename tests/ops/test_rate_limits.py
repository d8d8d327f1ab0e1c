"""Rate-limit counters in the database (``DatabaseRateLimiter``), shared by every worker when no
Redis is configured: exact counts across processes and threads, windows, reset, odd keys, and a
real 2-worker server holding a sign-in limit exactly."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid

import httpx
from sqlalchemy import select, update

from spiko.context import AppContext
from spiko.core.ratelimit import DatabaseRateLimiter, RedisRateLimiter
from spiko.db.models.limits import RateLimitWindow
from tests.conftest import create_investor, start_server, stop_server

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def key() -> str:
    return f"test:{uuid.uuid4().hex}"


def test_without_redis_the_limiter_is_the_database(ctx):
    assert isinstance(ctx.rate_limiter, DatabaseRateLimiter)


def test_the_limit_is_exact_and_says_when_to_retry(ctx):
    limiter, name = DatabaseRateLimiter(ctx), key()
    assert all(limiter.hit(name, 3, 60).allowed for _ in range(3))
    assert limiter.peek(name, 3, 60).allowed is False
    refused = limiter.hit(name, 3, 60)
    assert not refused.allowed and 1 <= refused.retry_after <= 61
    limiter.reset(name)
    assert limiter.peek(name, 3, 60).allowed and limiter.hit(name, 3, 60).allowed


def _peek_all_answers_as_peek_does(limiter) -> None:  # type: ignore[no-untyped-def]
    under, full, absent = key(), key(), key()
    limiter.hit(under, 3, 60)
    for _ in range(3):
        limiter.hit(full, 3, 60)
    assert limiter.peek_all([(under, 3), (absent, 3)], 60).allowed
    refused = limiter.peek_all([(under, 3), (full, 3), (absent, 3)], 60)
    assert not refused.allowed and 1 <= refused.retry_after <= 61
    assert refused == limiter.peek(full, 3, 60)
    assert not limiter.peek_all([(full, 4), (under, 1)], 60).allowed  # each key with its own limit
    assert limiter.peek_all([(full, 4), (under, 2)], 60).allowed


def test_peek_all_answers_as_peek_does_key_by_key(ctx):
    _peek_all_answers_as_peek_does(DatabaseRateLimiter(ctx))
    with ctx.transaction(write=False) as session:  # and in the caller's transaction
        limiter, name = DatabaseRateLimiter(ctx), key()
        assert limiter.peek_all([(name, 1)], 60, session).allowed


def test_peek_all_in_redis_answers_as_peek_does():
    redis_url = os.environ.get("SPIKO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    _peek_all_answers_as_peek_does(RedisRateLimiter(redis_url, prefix=f"test:{uuid.uuid4().hex}:"))


def test_peek_all_ignores_a_window_that_is_over(ctx):
    limiter, name = DatabaseRateLimiter(ctx), key()
    for _ in range(3):
        limiter.hit(name, 3, 60)
    with ctx.transaction() as session:
        session.execute(update(RateLimitWindow).values(window_started=RateLimitWindow.window_started - 61))
    assert limiter.peek_all([(name, 3)], 60).allowed


def test_a_new_window_starts_when_the_old_one_is_over(ctx):
    limiter, name = DatabaseRateLimiter(ctx), key()
    for _ in range(4):
        limiter.hit(name, 3, 60)
    assert not limiter.hit(name, 3, 60).allowed
    with ctx.transaction() as session:  # as if the window had begun 61 seconds ago
        session.execute(update(RateLimitWindow).values(window_started=RateLimitWindow.window_started - 61))
    assert limiter.hit(name, 3, 60).allowed
    with ctx.transaction(write=False) as session:
        assert session.scalars(select(RateLimitWindow.count)).all() == [1]


def test_processes_and_threads_share_one_exact_count(ctx, settings):
    """40 hits at once from two processes' worth of context, 8 threads each: exactly 10 pass."""
    others = AppContext(settings)
    try:
        limiters = [DatabaseRateLimiter(ctx), DatabaseRateLimiter(others)]
        name, verdicts, lock = key(), [], threading.Lock()
        start = threading.Barrier(16)

        def work(limiter: DatabaseRateLimiter) -> None:
            start.wait()
            for _ in range(5):
                allowed = limiter.hit(name, 10, 60).allowed
                with lock:
                    verdicts.append(allowed)

        threads = [threading.Thread(target=work, args=(limiters[i % 2],)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        others.close()
    assert len(verdicts) == 80
    assert verdicts.count(True) == 10


def test_keys_are_stored_hashed_whatever_bytes_they_carry(ctx):
    limiter = DatabaseRateLimiter(ctx)
    odd = ["oauth:token:client:\x00\x00", "x" * 10_000, "address:\udcff", "ключ"]
    for name in odd:
        assert limiter.hit(name, 1, 60).allowed
        assert not limiter.hit(name, 1, 60).allowed
    with ctx.transaction(write=False) as session:
        stored = session.scalars(select(RateLimitWindow.key)).all()
    assert len(stored) == len(odd) and all(re.fullmatch(r"[0-9a-f]{64}", k) for k in stored)


def test_old_windows_are_cleaned_up(ctx):
    limiter = DatabaseRateLimiter(ctx)
    limiter.CLEANUP_EVERY = 5
    stale = key()
    limiter.hit(stale, 10, 60)
    with ctx.transaction() as session:
        session.execute(
            update(RateLimitWindow).values(window_started=RateLimitWindow.window_started - 90_000)
        )
    for _ in range(4):
        limiter.hit(key(), 10, 60)
    with ctx.transaction(write=False) as session:
        assert (
            session.scalar(select(RateLimitWindow).where(RateLimitWindow.key == limiter._stored(stale)))
            is None
        )
        assert len(session.scalars(select(RateLimitWindow.key)).all()) == 4


def test_with_redis_the_counters_live_there(ctx, settings):
    with_redis = AppContext(settings.with_overrides(redis_url="redis://127.0.0.1:6379/0"))
    try:
        assert isinstance(with_redis.rate_limiter, RedisRateLimiter)
    finally:
        with_redis.close()


def test_two_workers_without_redis_hold_the_sign_in_limit_exactly(ctx, database_url, tmp_path):
    person = create_investor(ctx)
    extra = {"SPIKO_LOGIN_ATTEMPTS_PER_ACCOUNT": "3", "SPIKO_LOGIN_ATTEMPTS_PER_ADDRESS": "1000"}
    server = start_server(database_url, tmp_path, workers=2, extra_env=extra)

    def workers_that_refused_sign_ins() -> set[int]:
        time.sleep(0.7)  # the access log is written in batches
        lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
        return {e["pid"] for e in lines if e.get("path") == "/login" and e.get("method") == "POST"}

    try:
        statuses: list[int] = []
        # New connections until both workers have taken sign-ins (the kernel picks the worker).
        while len(workers_that_refused_sign_ins()) < 2:
            assert len(statuses) < 80, "the sign-ins never reached both workers"
            for _ in range(8):
                with httpx.Client(base_url=server.url, timeout=30) as http:
                    token = CSRF_RE.search(http.get("/login").text).group(1)  # type: ignore[union-attr]
                    answer = http.post(
                        "/login",
                        data={"email": person.email, "password": "wrong password", "csrf_token": token},
                    )
                    statuses.append(answer.status_code)
        # Three wrong passwords in all, whichever worker took them; every later one is refused.
        assert statuses == [400, 400, 400] + [429] * (len(statuses) - 3)
    finally:
        stop_server(server)
