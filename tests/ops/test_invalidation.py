"""Revocations told to every process through Redis publish/subscribe (``spiko.core.invalidation``).

Everything here talks to the real Redis at ``SPIKO_TEST_REDIS_URL``. Each test uses its own key
prefix, so tests running in parallel never hear each other. Whether a cache entry was dropped
by a message, and not by its one-second expiry, is told by the cache's size: an expired entry
stays stored until something reads it, and these tests never read it.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
import redis

from spiko.context import AppContext
from spiko.core.invalidation import Invalidations
from spiko.services import identity
from tests.conftest import basic_auth, create_investor, run_cli, start_server, stop_server

REDIS_URL = os.environ.get("SPIKO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def prefix() -> str:
    return f"spiko-test-{uuid.uuid4().hex[:10]}:"


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    yield client
    client.close()


@pytest.fixture
def contexts(settings, prefix) -> Iterator[Callable[[], AppContext]]:  # type: ignore[no-untyped-def]
    """Processes' worth of context: same database, same Redis, same prefix."""
    made: list[AppContext] = []

    def make() -> AppContext:
        context = AppContext(settings.with_overrides(redis_url=REDIS_URL, redis_prefix=prefix))
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def listening(context: AppContext) -> AppContext:
    context.invalidations.start()
    assert context.invalidations.wait_until_subscribed(10), "the listener did not subscribe"
    return context


def cached_key(context: AppContext, client_id: str) -> None:
    context.api_keys.load(client_id)
    assert len(context.api_keys._cache) == 1


def test_a_revoked_api_key_leaves_a_listening_process_cache_at_once(contexts, investor):
    worker = listening(contexts())
    cached_key(worker, investor.client_id)
    operator = contexts()  # the CLI, another worker: publishes, does not listen
    with operator.transaction() as session:
        identity.revoke_api_key(session, client_id=investor.client_id)
    operator.api_keys.invalidate(investor.client_id)
    assert eventually(lambda: len(worker.api_keys._cache) == 0), "the message did not arrive"
    assert not worker.api_keys.load(investor.client_id).live


def test_an_oauth_revocation_clears_listening_processes_token_caches(contexts):
    from spiko.auth.oauth.runtime import oauth_server
    from spiko.auth.oauth.tokens import AccessEntry

    worker = listening(contexts())
    verifier = oauth_server(worker).access_tokens
    ticket = verifier._cache.ticket()
    verifier._cache.set_if_current("h" * 64, AccessEntry("i", "g", "c", "offline", 0.0, True, True), ticket)
    assert len(verifier._cache) == 1
    oauth_server(contexts()).access_tokens.clear()  # what every revocation calls after its commit
    assert eventually(lambda: len(verifier._cache) == 0)


def test_other_deployments_on_the_same_redis_are_not_told(contexts, settings, investor):
    worker = listening(contexts())
    cached_key(worker, investor.client_id)
    elsewhere = AppContext(
        settings.with_overrides(redis_url=REDIS_URL, redis_prefix="spiko-other-deployment:")
    )
    try:
        listening(elsewhere)
        elsewhere.api_keys.invalidate(investor.client_id)
    finally:
        elsewhere.close()
    # A message on our channel, published after the other one, arrives; the other never did.
    witness = contexts()
    witness.invalidations.publish("api_keys", "spk_someoneelse")
    received: list[str] = []
    worker.invalidations.on("api_keys", received.append, lambda: None)
    witness.invalidations.publish("api_keys", "spk_marker")
    assert eventually(lambda: "spk_marker" in received)
    assert len(worker.api_keys._cache) == 1


def test_the_listener_comes_back_after_losing_redis_and_starts_clean(contexts, investor, redis_client):
    worker = listening(contexts())
    cached_key(worker, investor.client_id)
    name = worker.invalidations.client_name
    killed = [c for c in redis_client.client_list() if c.get("name") == name]
    assert killed, "the listener's connection is named after its process"
    for connection in killed:
        redis_client.client_kill_filter(_id=connection["id"])
    # Messages sent while it was away are lost: on subscribing again it clears what it serves.
    assert eventually(lambda: len(worker.api_keys._cache) == 0), "caches not cleared after reconnecting"
    assert eventually(lambda: worker.invalidations.wait_until_subscribed(0))
    cached_key(worker, investor.client_id)
    contexts().api_keys.invalidate(investor.client_id)
    assert eventually(lambda: len(worker.api_keys._cache) == 0), "no messages after reconnecting"


def test_unreadable_messages_are_ignored(contexts, prefix, investor, redis_client):
    worker = listening(contexts())
    received: list[str] = []
    worker.invalidations.on("probe", received.append, lambda: None)
    for garbage in (b"not json", b"[]", b'{"key": "no topic"}', b"\xff\xfe"):
        redis_client.publish(prefix + "invalidations", garbage)
    contexts().invalidations.publish("probe", "after-garbage")
    assert eventually(lambda: received == ["after-garbage"])


def test_a_process_does_not_apply_its_own_message_twice(contexts):
    worker = listening(contexts())
    received: list[str] = []
    worker.invalidations.on("probe", received.append, lambda: None)
    worker.invalidations.publish("probe", "mine")
    contexts().invalidations.publish("probe", "theirs")
    assert eventually(lambda: "theirs" in received)
    assert received == ["mine", "theirs"]


def test_without_redis_publishing_still_invalidates_here(settings, investor):
    context = AppContext(settings.with_overrides(redis_url="redis://127.0.0.1:1/0"))  # nothing listens there
    try:
        cached_key(context, investor.client_id)
        context.api_keys.invalidate(investor.client_id)  # logged, not raised
        assert len(context.api_keys._cache) == 0
    finally:
        context.close()
    assert not Invalidations(None).shared


@pytest.mark.server
def test_two_workers_hear_a_cli_revocation_through_redis(ctx, database_url, tmp_path, prefix):
    holder = create_investor(ctx)
    extra = {"SPIKO_REDIS_URL": REDIS_URL, "SPIKO_REDIS_PREFIX": prefix}
    extra["SPIKO_METRICS_ALLOWED_ADDRESSES"] = "127.0.0.1"
    server = start_server(database_url, tmp_path, workers=2, extra_env=extra)
    try:
        headers = basic_auth(holder.client_id, holder.client_secret)
        assert httpx.get(server.url + "/v1/investors/me", headers=headers).status_code == 200

        def subscribed_workers() -> int:
            listeners = redis.Redis.from_url(REDIS_URL).pubsub_numsub(prefix + "invalidations")
            return int(listeners[0][1]) if listeners else 0

        assert eventually(lambda: subscribed_workers() == 2), "both workers subscribe"
        revoke = run_cli(database_url, "api-keys", "revoke", holder.client_id, cwd=tmp_path, extra_env=extra)
        assert revoke.returncode == 0, revoke.stderr

        def received() -> float:
            text = httpx.get(server.url + "/metrics").text
            found = re.search(
                r'^spiko_cache_invalidations_received_total\{topic="api_keys"\} (\S+)$', text, re.M
            )
            return float(found.group(1)) if found else 0.0

        assert eventually(lambda: received() == 2.0), "each worker counts the message it applied"
        assert httpx.get(server.url + "/v1/investors/me", headers=headers).status_code == 401
    finally:
        stop_server(server)
    assert holder.client_secret not in server.log()
    assert all(
        json.loads(line).get("level") != "error" for line in server.log().splitlines() if line.startswith("{")
    )


def test_revoking_an_app_from_the_cli_clears_listening_token_caches(contexts, database_url, prefix, tmp_path):
    from spiko.auth.oauth.runtime import oauth_server
    from spiko.auth.oauth.tokens import AccessEntry
    from tests.oauth.helpers import register_app

    worker = listening(contexts())
    app = register_app(worker)
    verifier = oauth_server(worker).access_tokens
    entry = AccessEntry("i", "g", app.client_id, "offline", time.time() + 3600, True, True)
    verifier._cache.set_if_current("h" * 64, entry, verifier._cache.ticket())
    extra = {"SPIKO_REDIS_URL": REDIS_URL, "SPIKO_REDIS_PREFIX": prefix}
    revoked = run_cli(database_url, "oauth-clients", "revoke", app.client_id, cwd=tmp_path, extra_env=extra)
    assert revoked.returncode == 0, revoked.stderr
    assert eventually(lambda: len(verifier._cache) == 0), "the CLI's revocation did not reach the worker"


def test_an_unreachable_redis_is_reported_once_per_outage(caplog):
    import logging

    listener = Invalidations("redis://127.0.0.1:1/0")  # nothing listens there
    with caplog.at_level(logging.DEBUG, logger="spiko.invalidation"):
        listener.start()
        try:
            assert eventually(
                lambda: len([r for r in caplog.records if r.name == "spiko.invalidation"]) >= 3
            ), "the listener keeps retrying"
            assert not listener.wait_until_subscribed(0)
        finally:
            listener.close()
    records = [r for r in caplog.records if r.name == "spiko.invalidation"]
    assert [r.levelno for r in records].count(logging.WARNING) == 1
    assert all(r.levelno == logging.DEBUG for r in records[1:])
