"""Single use of DPoP proofs' identifiers on /v1 (RFC 9449 section 11.1) when concurrent requests
share one record (group commit): in the database without Redis, in Redis with it."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from spiko.auth.oauth.replay import (
    DatabaseJtiRecorder,
    DatabaseResourceReplayStore,
    PostgresLoopRecorder,
    RedisAnswerError,
    RedisJtiRecorder,
    RedisLoopRecorder,
    RedisResourceReplayStore,
    SqliteLoopRecorder,
    replay_key,
)
from spiko.db.models.fapi import ResourceProofJti
from tests.oauth.conftest import ISSUER
from tests.oauth.fapi_helpers import DPoPKey, dpop_nonce
from tests.oauth.test_fapi import ME, _code_via_par, _dpop_exchange

REDIS_URL = os.environ.get("SPIKO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _recorded(ctx: Any, keys: list[str]) -> set[str]:
    with ctx.transaction(write=False) as session:
        return set(session.scalars(select(ResourceProofJti.key).where(ResourceProofJti.key.in_(keys))))


def _assert_expired_records_are_deleted(ctx: Any, recorder: Any) -> None:
    """A loop recorder deletes, off the loop, the records of proofs issued too long ago."""
    issued = time.time()  # the fresh proofs' iat
    recorder.CLEANUP_EVERY = 10
    expired, fresh = _keys(6), _keys(6)

    async def record_both() -> None:
        assert await recorder.record([(key, time.time() - 1000) for key in expired]) == set(expired)
        assert await recorder.record([(key, issued) for key in fresh]) == set(fresh)
        deadline = time.monotonic() + 10
        while _recorded(ctx, expired) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await recorder.aclose()

    asyncio.run(record_both())
    assert _recorded(ctx, expired + fresh) == set(fresh)


def _keys(count: int) -> list[str]:
    return [replay_key("dpop", "jkt " + ISSUER + ME, uuid.uuid4().hex) for _ in range(count)]


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    import redis

    prefix = f"spiko-test-{uuid.uuid4().hex[:8]}:jti:"
    yield prefix
    store = redis.Redis.from_url(REDIS_URL)
    try:
        names = list(store.scan_iter(match=prefix + "*"))
        if names:
            store.delete(*names)
    finally:
        store.close()


def _stores(ctx: Any, backend: str, prefix: str) -> tuple[Any, Any]:
    """Two workers' stores on the same database or Redis."""
    if backend == "database":
        return DatabaseResourceReplayStore(ctx), DatabaseResourceReplayStore(ctx)
    return RedisResourceReplayStore(REDIS_URL, prefix), RedisResourceReplayStore(REDIS_URL, prefix)


@pytest.mark.parametrize("backend", ["database", "redis"])
class TestGroupCommit:
    def test_of_concurrent_uses_of_one_identifier_exactly_one_is_first(self, ctx, backend, redis_prefix):
        """The same proofs sent at once, several times to each of two workers: one batch each."""
        first_worker, second_worker = _stores(ctx, backend, redis_prefix)
        keys = _keys(20)
        issued = int(time.time())
        expires = issued + 60

        async def send_all() -> list[bool]:
            uses = [
                store.first_use_async(key, expires, issued)
                for key in keys
                for store in (first_worker, second_worker)
            ]
            uses += [
                first_worker.first_use_async(key, expires, issued) for key in keys
            ]  # the same key twice in a batch
            return list(await asyncio.gather(*uses))

        answers = asyncio.run(send_all())
        per_key = {key: 0 for key in keys}
        for index, first in enumerate(answers[: 2 * len(keys)]):
            per_key[keys[index // 2]] += first
        for index, first in enumerate(answers[2 * len(keys) :]):
            per_key[keys[index]] += first
        assert per_key == {key: 1 for key in keys}
        assert asyncio.run(second_worker.first_use_async(keys[0], expires, issued)) is False
        assert asyncio.run(first_worker.first_use_async(_keys(1)[0], expires, issued)) is True

    def test_a_request_is_answered_only_once_its_identifier_is_recorded(self, ctx, backend, redis_prefix):
        store, _ = _stores(ctx, backend, redis_prefix)
        keys = _keys(30)
        issued = int(time.time())
        missing: list[str] = []

        def recorded_elsewhere(key: str) -> bool:
            if backend == "database":
                return key in _recorded(ctx, [key])
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            try:
                return bool(client.exists(redis_prefix + key))
            finally:
                client.close()

        async def use(key: str) -> None:
            assert await store.first_use_async(key, time.time() + 60, issued)
            if not recorded_elsewhere(key):  # read at once, through a connection of its own
                missing.append(key)

        async def send_all() -> None:
            await asyncio.gather(*(use(key) for key in keys))

        asyncio.run(send_all())
        assert missing == []

    def test_a_record_outlives_the_event_loop_that_made_it(self, ctx, backend, redis_prefix):
        """A worker's loops come and go (tests, restarts): what one recorded, the next refuses."""
        store, _ = _stores(ctx, backend, redis_prefix)
        key = _keys(1)[0]
        issued = int(time.time())
        assert asyncio.run(store.first_use_async(key, time.time() + 60, issued)) is True
        assert asyncio.run(store.first_use_async(key, time.time() + 60, issued)) is False


class TestDatabaseRecorder:
    def test_expired_identifiers_are_deleted_as_new_ones_come(self, ctx):
        issued = time.time()  # the proofs' iat: one value for the whole test
        recorder = DatabaseJtiRecorder(ctx.engine)
        recorder.CLEANUP_EVERY = 10
        expired, fresh = _keys(6), _keys(6)

        async def record(entries: list[tuple[str, float]]) -> set[str]:
            return await recorder.submit(entries)

        assert asyncio.run(record([(key, time.time() - 1000) for key in expired])) == set(expired)
        assert _recorded(ctx, expired) == set(expired)
        assert asyncio.run(record([(key, issued) for key in fresh])) == set(fresh)
        assert _recorded(ctx, expired + fresh) == set(fresh)

    def test_a_connection_lost_meanwhile_is_replaced(self, ctx, databases):
        if not databases.is_postgres:
            pytest.skip("the recorder keeps a server connection only on PostgreSQL")
        import psycopg

        from tests.databases import POSTGRES_ADMIN_URL

        issued = time.time()  # the proofs' iat: one value for the whole test
        recorder = DatabaseJtiRecorder(ctx.engine)
        first, second = _keys(1), _keys(1)

        async def record(keys: list[str]) -> set[str]:
            return await recorder.submit([(key, issued) for key in keys])

        assert asyncio.run(record(first)) == set(first)
        database = ctx.engine.url.database
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
        assert asyncio.run(record(second + first)) == set(second)

    def test_the_recorder_gives_its_connection_back_when_idle(self, ctx):
        issued = time.time()  # the proofs' iat: one value for the whole test
        recorder = DatabaseJtiRecorder(ctx.engine)
        recorder.IDLE_SECONDS = 0.05
        checked_out = ctx.engine.pool.checkedout()

        async def record() -> set[str]:
            return await recorder.submit([(_keys(1)[0], issued)])

        assert len(asyncio.run(record())) == 1
        deadline = time.monotonic() + 10
        while ctx.engine.pool.checkedout() > checked_out and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ctx.engine.pool.checkedout() == checked_out
        assert len(asyncio.run(record())) == 1


class TestSqliteLoopRecorder:
    """SQLite: batches written from the event loop while the write lock is free, else by the
    recorder thread that waits for it."""

    @pytest.fixture(autouse=True)
    def _sqlite_only(self, databases):
        if databases.is_postgres:
            pytest.skip("the event loop writes the batches itself on SQLite only")

    def test_a_batch_meeting_a_held_write_lock_is_recorded_once_the_lock_is_free(self, ctx):
        import sqlite3
        import threading

        issued = time.time()  # the proofs' iat: one value for the whole test
        recorder = SqliteLoopRecorder(ctx.engine)
        keys = _keys(3)
        holder = sqlite3.connect(ctx.engine.url.database, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # another process's long write
        released = threading.Event()

        def release_later() -> None:
            time.sleep(0.3)
            holder.execute("COMMIT")
            released.set()

        async def record() -> set[str]:
            threading.Thread(target=release_later, daemon=True).start()
            return await recorder.record([(key, issued) for key in keys])

        try:
            assert asyncio.run(record()) == set(keys)
        finally:
            released.wait(10)
            holder.close()
        assert released.is_set()
        assert recorder.handed_over == 1
        assert _recorded(ctx, keys) == set(keys)

        async def again() -> tuple[set[str], set[str]]:  # the lock free: written on the loop
            fresh = _keys(1)
            return await recorder.record([(key, issued) for key in fresh + keys]), set(fresh)

        first, fresh = asyncio.run(again())
        assert first == fresh and recorder.handed_over == 1

    def test_a_lock_freed_between_tries_is_taken_from_the_loop_without_the_thread(self, ctx):
        import sqlite3

        issued = time.time()  # the proofs' iat: one value for the whole test
        recorder = SqliteLoopRecorder(ctx.engine)
        keys = _keys(2)
        holder = sqlite3.connect(ctx.engine.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the other worker's batch, say

        async def record() -> set[str]:
            # The holder commits on the loop's next turn: after the first try met its lock and
            # before the retry (whatever the machine's load, the order of the loop's work holds).
            asyncio.get_running_loop().call_soon(holder.execute, "COMMIT")
            return await recorder.record([(key, issued) for key in keys])

        try:
            assert asyncio.run(record()) == set(keys)
        finally:
            holder.close()
        assert recorder.retried >= 1 and recorder.handed_over == 0
        assert _recorded(ctx, keys) == set(keys)

    def test_expired_identifiers_are_deleted_off_the_loop(self, ctx):
        _assert_expired_records_are_deleted(ctx, SqliteLoopRecorder(ctx.engine))

    def test_the_loop_gives_its_connection_back_when_idle(self, ctx):
        issued = time.time()  # the proofs' iat: one value for the whole test
        recorder = SqliteLoopRecorder(ctx.engine)
        recorder.IDLE_SECONDS = 0.05
        checked_out = ctx.engine.pool.checkedout()

        async def record_then_idle() -> tuple[int, int]:
            await recorder.record([(_keys(1)[0], issued)])
            held = ctx.engine.pool.checkedout()
            deadline = time.monotonic() + 10
            while ctx.engine.pool.checkedout() > checked_out and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            return held, ctx.engine.pool.checkedout()

        held, after = asyncio.run(record_then_idle())
        assert held == checked_out + 1 and after == checked_out


class TestPostgresLoopRecorder:
    """PostgreSQL: batches sent from the event loop on a libpq connection the loop keeps."""

    @pytest.fixture(autouse=True)
    def _postgres_only(self, databases):
        if not databases.is_postgres:
            pytest.skip("the event loop keeps a libpq connection on PostgreSQL only")

    def test_the_store_records_from_the_loop_and_refuses_a_replay(self, ctx):
        issued = time.time()  # the proofs' iat: one value for the whole test
        store = DatabaseResourceReplayStore(ctx)
        assert isinstance(store._loop_recorder, PostgresLoopRecorder)
        keys = _keys(5)
        issued = int(issued)

        async def use_twice() -> tuple[list[bool], list[bool]]:
            first = await asyncio.gather(*(store.first_use_async(key, issued + 60, issued) for key in keys))
            again = await asyncio.gather(*(store.first_use_async(key, issued + 60, issued) for key in keys))
            await store.aclose()
            return list(first), list(again)

        first, again = asyncio.run(use_twice())
        assert first == [True] * 5 and again == [False] * 5
        assert _recorded(ctx, keys) == set(keys)

    def test_a_connection_lost_meanwhile_is_replaced(self, ctx):
        import psycopg

        from tests.databases import POSTGRES_ADMIN_URL

        issued = time.time()  # the proofs' iat: one value for the whole test
        recorder = PostgresLoopRecorder(ctx.engine)
        first, second = _keys(1), _keys(2)

        async def record_kill_record() -> tuple[set[str], set[str]]:
            before = await recorder.record([(key, issued) for key in first])
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    (ctx.engine.url.database,),
                )
            after = await recorder.record([(key, issued) for key in second + first])
            await recorder.aclose()
            return before, after

        before, after = asyncio.run(record_kill_record())
        assert before == set(first) and after == set(second)

    def test_a_refused_statement_fails_its_batch_and_the_connection_serves_on(self, ctx):
        from spiko.auth.oauth.replay import DatabaseRecordError

        issued = time.time()  # the proofs' iat: one value for the whole test
        recorder = PostgresLoopRecorder(ctx.engine)
        keys = _keys(2)

        async def refused_then_fine() -> set[str]:
            await recorder.record([(keys[0], issued)])
            with pytest.raises(DatabaseRecordError):  # a key longer than the column
                await recorder.record([("x" * 65, issued)])
            answer = await recorder.record([(keys[1], issued)])
            await recorder.aclose()
            return answer

        assert asyncio.run(refused_then_fine()) == {keys[1]}

    def test_the_loop_closes_its_connection_when_idle(self, ctx):
        issued = time.time()  # the proofs' iat: one value for the whole test
        recorder = PostgresLoopRecorder(ctx.engine)
        recorder.IDLE_SECONDS = 0.05

        async def record_then_idle() -> tuple[int, int]:
            await recorder.record([(_keys(1)[0], issued)])
            held = len(recorder._connections)
            deadline = time.monotonic() + 10
            while recorder._connections and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            return held, len(recorder._connections)

        assert asyncio.run(record_then_idle()) == (1, 0)

    def test_expired_identifiers_are_deleted_off_the_loop(self, ctx):
        _assert_expired_records_are_deleted(ctx, PostgresLoopRecorder(ctx.engine))


class TestRedisLoopRecorder:
    """Redis from the event loop over the connection it keeps."""

    def test_a_connection_lost_meanwhile_is_replaced(self, redis_prefix):
        import redis

        name = f"spiko-test-{uuid.uuid4().hex[:8]}"
        recorder = RedisLoopRecorder(f"{REDIS_URL}?client_name={name}", redis_prefix)
        first, second = _keys(1), _keys(1)

        async def scenario() -> tuple[set[str], set[str]]:
            before = await recorder.record([(key, time.time() + 60) for key in first])
            admin = redis.Redis.from_url(REDIS_URL)
            try:
                ours = [client["id"] for client in admin.client_list() if client["name"] == name]
                assert ours and all(admin.client_kill_filter(_id=client_id) for client_id in ours)
            finally:
                admin.close()
            after = await recorder.record([(key, time.time() + 60) for key in second + first])
            await recorder.aclose()
            return before, after

        assert asyncio.run(scenario()) == (set(first), set(second))

    def test_a_script_flushed_meanwhile_is_loaded_again(self, redis_prefix):
        import redis

        recorder = RedisLoopRecorder(REDIS_URL, redis_prefix)
        first, second = _keys(2), _keys(2)

        async def scenario() -> tuple[set[str], set[str]]:
            before = await recorder.record([(key, time.time() + 60) for key in first])
            admin = redis.Redis.from_url(REDIS_URL)
            try:
                admin.script_flush()
            finally:
                admin.close()
            after = await recorder.record([(key, time.time() + 60) for key in second + first[:1]])
            await recorder.aclose()
            return before, after

        assert asyncio.run(scenario()) == (set(first), set(second))

    def test_the_database_number_of_the_url_is_used(self, redis_prefix):
        import redis

        recorder = RedisLoopRecorder(REDIS_URL.rsplit("/", 1)[0] + "/3", redis_prefix)
        keys = _keys(2)

        async def record() -> set[str]:
            try:
                return await recorder.record([(key, time.time() + 60) for key in keys])
            finally:
                await recorder.aclose()

        assert asyncio.run(record()) == set(keys)
        third = redis.Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + "/3")
        try:
            assert third.exists(*(redis_prefix + key for key in keys)) == 2
            third.delete(*(redis_prefix + key for key in keys))
        finally:
            third.close()

    def test_a_refused_password_fails_the_batch_with_a_clear_error(self, redis_prefix):
        recorder = RedisLoopRecorder(
            REDIS_URL.replace("redis://", "redis://:not-the-password@"), redis_prefix
        )

        async def record() -> set[str]:
            return await recorder.record([(_keys(1)[0], time.time() + 60)])

        with pytest.raises(RedisAnswerError, match="refused"):
            asyncio.run(record())

    def test_a_server_that_never_answers_fails_the_batch(self, redis_prefix):
        """A fresh connection that times out fails its batch (nothing is taken as recorded)."""

        async def silent_server_then_record() -> None:
            server = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            recorder = RedisLoopRecorder(f"redis://127.0.0.1:{port}/0", redis_prefix)
            recorder.TIMEOUT_SECONDS = 0.2
            try:
                await recorder.record([(_keys(1)[0], time.time() + 60)])
            finally:
                await recorder.aclose()
                server.close()

        with pytest.raises(TimeoutError):
            asyncio.run(silent_server_then_record())

    def test_tls_urls_go_through_the_recorder_thread(self):
        assert RedisLoopRecorder.serves("redis://127.0.0.1:6379/0")
        assert RedisLoopRecorder.serves("unix:///run/redis.sock")
        assert not RedisLoopRecorder.serves("rediss://cache.example:6380/0")


class TestRedisRecorder:
    def _record(self, recorder: RedisJtiRecorder, keys: list[str]) -> set[str]:
        async def record() -> set[str]:
            return await recorder.submit([(key, time.time() + 60) for key in keys])

        return asyncio.run(record())

    def test_a_connection_lost_meanwhile_is_replaced(self, redis_prefix):
        import redis

        name = f"spiko-test-{uuid.uuid4().hex[:8]}"
        recorder = RedisJtiRecorder(f"{REDIS_URL}?client_name={name}", redis_prefix)
        first, second = _keys(1), _keys(1)
        assert self._record(recorder, first) == set(first)
        admin = redis.Redis.from_url(REDIS_URL)
        try:
            ours = [client["id"] for client in admin.client_list() if client["name"] == name]
            assert ours and all(admin.client_kill_filter(_id=client_id) for client_id in ours)
        finally:
            admin.close()
        assert self._record(recorder, second + first) == set(second)

    def test_a_script_flushed_meanwhile_is_loaded_again(self, redis_prefix):
        import redis

        recorder = RedisJtiRecorder(REDIS_URL, redis_prefix)
        first, second = _keys(2), _keys(2)
        assert self._record(recorder, first) == set(first)
        admin = redis.Redis.from_url(REDIS_URL)
        try:
            admin.script_flush()
        finally:
            admin.close()
        assert self._record(recorder, second + first[:1]) == set(second)


class TestConcurrentReplaysOnV1:
    """The same proof sent at once many times to two workers (two app contexts on one database,
    each serving requests concurrently on its event loop): exactly one is answered."""

    @pytest.mark.parametrize("with_redis", [False, True], ids=["database", "redis"])
    def test_exactly_one_of_concurrent_replays_is_accepted(
        self, browser, client, app_client, client_with, with_redis, redis_prefix
    ):
        key = DPoPKey()
        nonce = dpop_nonce(client, ISSUER, key, app_client)
        code, verifier, _ = _code_via_par(browser, client, app_client, app_client.basic)
        tokens = _dpop_exchange(client, app_client, app_client.basic, code, verifier, key, nonce).json()
        token = tokens["access_token"]
        redis = (
            {"redis_url": REDIS_URL, "redis_prefix": redis_prefix.removesuffix("jti:")} if with_redis else {}
        )
        workers = [client_with(base_url="http://testserver", **redis) for _ in range(2)]
        for proof_number in range(3):
            proof = key.proof("GET", ISSUER + ME, access_token=token, nonce=nonce)
            headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
            with ThreadPoolExecutor(max_workers=16) as pool:
                sent = [pool.submit(workers[n % 2].get, ME, headers=headers) for n in range(16)]
                responses = [future.result() for future in sent]
            statuses = sorted(response.status_code for response in responses)
            assert statuses == [200] + [401] * 15, proof_number
            refused = [response for response in responses if response.status_code == 401]
            assert all('error="invalid_dpop_proof"' in r.headers["www-authenticate"] for r in refused)
            assert all("already used" in r.text for r in refused)
