"""API key verification: the per-process cache, its invalidation, and last use without a write per call."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from spiko.auth.api_keys import new_client_secret
from spiko.context import AppContext
from spiko.core.cache import TTLCache
from spiko.db.models.identity import ApiKey
from spiko.db.types import utcnow
from spiko.services import identity
from tests.conftest import basic_auth


@contextmanager
def statements(ctx: AppContext):
    """Collect the SQL statements the context's engine sends."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        seen.append(" ".join(statement.split()).upper())

    event.listen(ctx.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(ctx.engine, "before_cursor_execute", record)


def updates_of_api_keys(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("UPDATE API_KEYS")]


def test_n_requests_cause_no_write_until_one_flush(client_with, ctx, investor):
    # The background flush is set far out, so only the explicit flush below writes, however
    # long the requests take on a loaded machine.
    client = client_with(api_key_last_used_flush_seconds=3600)
    app_ctx = client.app.state.ctx
    with statements(app_ctx) as seen:
        for _ in range(50):
            assert client.get("/v1/investors/me", headers=investor.basic).status_code == 200
        assert updates_of_api_keys(seen) == []
        assert app_ctx.api_keys.flush_last_used() == 1
        assert len(updates_of_api_keys(seen)) == 1
        # Nothing new to write: no statement at all.
        assert app_ctx.api_keys.flush_last_used() == 0
        assert len(updates_of_api_keys(seen)) == 1
    with ctx.transaction(write=False) as session:
        used = session.scalar(select(ApiKey.last_used_at).where(ApiKey.client_id == investor.client_id))
    assert used is not None and utcnow() - used < timedelta(minutes=1)


def test_the_background_flush_writes_a_few_times_not_per_request(client_with, ctx, investor):
    browser = client_with(api_key_last_used_flush_seconds=0.25)
    app_ctx = browser.app.state.ctx
    requests = 60
    with statements(app_ctx) as seen:
        started = time.monotonic()
        for _ in range(requests):
            assert browser.get("/v1/investors/me", headers=investor.basic).status_code == 200
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not updates_of_api_keys(seen):
            time.sleep(0.05)
        time.sleep(0.6)  # let a couple more intervals pass: nothing new to write, nothing written
        writes = len(updates_of_api_keys(seen))
    assert 1 <= writes <= elapsed / 0.25 + 2
    assert writes < requests
    with ctx.transaction(write=False) as session:
        used = session.scalar(select(ApiKey.last_used_at).where(ApiKey.client_id == investor.client_id))
    assert used is not None


def test_last_use_never_moves_backwards(ctx, investor):
    verifier = ctx.api_keys
    with ctx.transaction(write=False) as session:
        key_id = session.scalar(select(ApiKey.id).where(ApiKey.client_id == investor.client_id))
    verifier.record_use(key_id)
    verifier.flush_last_used()
    with ctx.transaction(write=False) as session:
        first = session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))
    # Another worker flushing an older use afterwards leaves the newer time in place.
    verifier._last_used[key_id] = time.time() - 3600
    verifier.flush_last_used()
    with ctx.transaction(write=False) as session:
        assert session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id)) == first


def test_a_cached_key_costs_no_query(client, ctx, investor):
    assert client.get("/v1/investors/me", headers=investor.basic).status_code == 200
    with statements(ctx) as seen:
        for _ in range(20):
            assert client.get("/v1/investors/me", headers=investor.basic).status_code == 200
    assert [s for s in seen if "API_KEYS" in s] == []


def test_unknown_client_ids_are_cached_too(client, ctx):
    headers = basic_auth("spk_doesnotexist", new_client_secret())
    with statements(ctx) as seen:
        for _ in range(10):
            assert client.get("/v1/investors/me", headers=headers).status_code == 401
    assert len([s for s in seen if "FROM API_KEYS" in s]) == 1


def test_revocation_elsewhere_is_seen_within_the_cache_ttl(client, ctx, settings, investor):
    """Another process (a worker, the CLI) revokes: every request this process *begins* one cache
    TTL or more after the revocation committed is refused.

    The bound is on when a request starts, not on how long it takes: a cached entry expires one
    TTL after its database read began, and that read began before the revocation.
    """
    ttl = ctx.api_keys._cache.ttl
    assert ttl <= 1.0
    assert client.get("/v1/investors/me", headers=investor.basic).status_code == 200  # cached here
    elsewhere = AppContext(settings)
    try:
        with elsewhere.transaction() as session:
            identity.revoke_api_key(session, client_id=investor.client_id)
    finally:
        elsewhere.close()
    revoked_at = time.monotonic()  # after the commit
    while True:
        began = time.monotonic() - revoked_at
        status = client.get("/v1/investors/me", headers=investor.basic).status_code
        if status == 401:
            break
        assert status == 200
        assert began < ttl, f"a request begun {began:.3f} s after the revocation was accepted"
        time.sleep(0.02)
    # And it stays refused.
    for _ in range(5):
        assert client.get("/v1/investors/me", headers=investor.basic).status_code == 401


def test_revocation_in_this_process_is_immediate(client, ctx, investor):
    assert client.get("/v1/investors/me", headers=investor.basic).status_code == 200
    with ctx.transaction() as session:
        identity.revoke_api_key(session, client_id=investor.client_id)
    ctx.api_keys.invalidate(investor.client_id)
    assert client.get("/v1/investors/me", headers=investor.basic).status_code == 401


def test_the_limit_of_live_keys_holds_in_the_service(ctx, investor):
    with ctx.transaction() as session:
        for index in range(19):
            identity.create_api_key(
                session, ctx.api_keys, investor_id=investor.investor_id, name=f"k{index}", max_live_keys=20
            )
    with pytest.raises(identity.ValidationFailed, match="20 active API keys"), ctx.transaction() as session:
        identity.create_api_key(
            session, ctx.api_keys, investor_id=investor.investor_id, name="x", max_live_keys=20
        )
    with ctx.transaction(write=False) as session:
        assert len(identity.list_api_keys(session, investor.investor_id)) == 20


def test_secrets_are_random_and_256_bits():
    secrets = {new_client_secret() for _ in range(200)}
    assert len(secrets) == 200
    import base64

    for secret in list(secrets)[:20]:
        body = secret.removeprefix("sks_")
        assert len(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) == 32


# --- the cache itself ------------------------------------------------------------------------


def test_cache_entries_expire_from_before_the_read():
    cache: TTLCache[str] = TTLCache(0.2)
    ticket = cache.ticket()
    time.sleep(0.15)  # a slow read
    assert cache.set_if_current("k", "v", ticket)
    assert cache.get("k") == "v"
    time.sleep(0.07)
    assert cache.get("k") is None  # 0.2 s after the read began, not after it ended


def test_an_invalidation_during_a_read_keeps_the_stale_value_out():
    cache: TTLCache[str] = TTLCache(10)
    ticket = cache.ticket()  # a read of the old row starts
    cache.invalidate("k")  # the row is revoked meanwhile
    assert not cache.set_if_current("k", "stale", ticket)
    assert cache.get("k") is None
    assert cache.set_if_current("k", "fresh", cache.ticket())
    assert cache.get("k") == "fresh"


def test_cache_is_bounded():
    cache: TTLCache[int] = TTLCache(10, max_entries=3)
    for index in range(5):
        cache.set(str(index), index)
    assert len(cache) == 3
    assert cache.get("0") is None and cache.get("4") == 4


def test_concurrent_misses_share_one_read():
    import asyncio
    import threading

    cache: TTLCache[str] = TTLCache(10)
    reads = []

    def read() -> str:
        reads.append(threading.get_ident())
        time.sleep(0.05)
        return f"value {len(reads)}"

    async def main() -> list[str]:
        return await asyncio.gather(*(cache.get_or_load("k", read) for _ in range(20)))

    assert asyncio.run(main()) == ["value 1"] * 20
    assert len(reads) == 1


def test_a_request_after_an_invalidation_does_not_join_an_older_read():
    import asyncio

    cache: TTLCache[str] = TTLCache(10)
    reads = []

    def read() -> str:
        reads.append(1)
        number = len(reads)
        time.sleep(0.1)
        return f"read {number}"

    async def main() -> tuple[str, str]:
        first = asyncio.ensure_future(cache.get_or_load("k", read))
        await asyncio.sleep(0.02)  # the first read is in flight
        cache.invalidate("k")  # e.g. the key is revoked now
        second = await cache.get_or_load("k", read)
        return await first, second

    old, new = asyncio.run(main())
    assert len(reads) == 2 and old != new
    assert cache.get("k") == new  # the older read did not overwrite the newer one


def test_the_hash_of_a_secret_is_the_keyed_hash(ctx):
    from spiko.auth.secrets import derive_key, keyed_hash

    secret = new_client_secret()
    expected = keyed_hash(derive_key(ctx.settings.secret_key, "api-key-secret"), secret)
    assert ctx.api_keys.hash_secret(secret) == expected
    assert ctx.api_keys.hash_secret(secret + "x") != expected


def test_verified_credentials_hold_only_for_the_entry_they_were_checked_against(client, ctx, investor):
    """The same credentials again skip the check, never a wrong secret, and never past the entry."""
    good = investor.basic
    wrong = basic_auth(investor.client_id, new_client_secret())
    for _ in range(3):
        assert client.get("/v1/investors/me", headers=good).status_code == 200
        assert client.get("/v1/investors/me", headers=wrong).status_code == 401
    assert all(investor.client_secret.encode() not in digest for digest in ctx.api_keys._verified)
    # A revocation from another process, seen once the entry expires: the next request is checked.
    with ctx.transaction() as session:
        identity.revoke_api_key(session, client_id=investor.client_id)
    ctx.api_keys._cache.clear()  # as the entry's expiry would, a second later at most
    assert client.get("/v1/investors/me", headers=good).status_code == 401
