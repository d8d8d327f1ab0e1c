"""Abuse resistance: token endpoint rate limits (in memory and shared through Redis), no token in logs."""

from __future__ import annotations

import io
import logging
import os
import uuid

import pytest
from fastapi.testclient import TestClient

from spiko.app import create_app
from spiko.context import AppContext
from spiko.core.ratelimit import RedisRateLimiter
from tests.oauth.helpers import bearer, exchange, obtain_code, refresh, register_app, sign_in, tokens_for

REDIS_URL = os.environ.get("SPIKO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _token_request(client, app, secret=None):  # type: ignore[no-untyped-def]
    import base64

    raw = f"{app.client_id}:{secret or app.client_secret}".encode()
    return client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": "nope"},
        headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
    )


@pytest.fixture
def limited_ctx(settings, request):  # type: ignore[no-untyped-def]
    per_client, per_address = request.param
    ctx = AppContext(
        settings.with_overrides(token_requests_per_client=per_client, token_requests_per_address=per_address)
    )
    yield ctx
    ctx.close()


@pytest.mark.parametrize("limited_ctx", [(3, 100)], indirect=True)
def test_token_requests_are_limited_per_client(limited_ctx):
    app = register_app(limited_ctx)
    other = register_app(limited_ctx, name="Other")
    with TestClient(create_app(ctx=limited_ctx), base_url="http://testserver") as client:
        statuses = [_token_request(client, app).status_code for _ in range(4)]
        assert statuses == [400, 400, 400, 429]
        refused = _token_request(client, app)
        assert refused.json()["error"] == "temporarily_unavailable"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["cache-control"] == "no-store"
        # Wrong secrets count too: guessing a client's secret is what the limit is for.
        assert _token_request(client, other, secret="guess").status_code == 401


@pytest.mark.parametrize("limited_ctx", [(100, 5)], indirect=True)
def test_token_requests_are_limited_per_address(limited_ctx):
    apps = [register_app(limited_ctx, name=f"App {n}") for n in range(6)]
    with TestClient(create_app(ctx=limited_ctx), base_url="http://testserver") as client:
        statuses = [_token_request(client, app).status_code for app in apps]
    assert statuses[:5] == [400] * 5
    assert statuses[5] == 429


@pytest.mark.server
def test_the_redis_backend_shares_the_limit_between_workers(settings):
    """Two application instances (as two workers) count against one Redis, under a unique prefix."""
    import redis

    prefix = f"spiko-test:{uuid.uuid4().hex}:"
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.RedisError as error:  # pragma: no cover - CI starts Redis
        pytest.fail(f"Redis is required at {REDIS_URL}: {error}")
    overrides = {"token_requests_per_client": 4, "token_requests_per_address": 100, "redis_url": REDIS_URL}
    workers = [AppContext(settings.with_overrides(**overrides)) for _ in range(2)]
    try:
        for ctx in workers:
            ctx.__dict__["rate_limiter"] = RedisRateLimiter(REDIS_URL, prefix=prefix)
        app = register_app(workers[0])
        clients = [TestClient(create_app(ctx=ctx), base_url="http://testserver") for ctx in workers]
        statuses = [_token_request(clients[n % 2], app).status_code for n in range(6)]
        assert statuses == [400, 400, 400, 400, 429, 429]
        keys = {key.decode() for key in connection.scan_iter(match=prefix + "*")}
        assert keys == {
            prefix + f"oauth:token:client:{app.client_id}",
            prefix + "oauth:token:address:testclient",
        }
        assert all(0 < connection.ttl(key) <= 60 for key in keys)
    finally:
        for key in connection.scan_iter(match=prefix + "*"):
            connection.delete(key)
        for ctx in workers:
            ctx.close()


def test_no_token_code_or_secret_reaches_any_log(app, ctx, investor, app_client, client):
    records = io.StringIO()
    handler = logging.StreamHandler(records)
    handler.setLevel(logging.DEBUG)
    watched = [logging.getLogger(), logging.getLogger("spiko"), logging.getLogger("authlib")]
    levels = [logger.level for logger in watched]
    for logger in watched[:2]:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        with TestClient(app, base_url="http://testserver") as browser:
            sign_in(browser, investor.email, investor.password)
            code = obtain_code(browser, app_client, scope="openid offline", nonce="nonce-for-logs")
            tokens = exchange(client, app_client, code).json()
            renewed = refresh(client, app_client, tokens["refresh_token"]).json()
            client.get("/v1/investors/me", headers=bearer(renewed["access_token"]))
            client.post(
                "/oauth2/introspect", data={"token": renewed["access_token"]}, headers=app_client.basic
            )
            client.post("/oauth2/revoke", data={"token": renewed["refresh_token"]}, headers=app_client.basic)
            client.get("/v1/investors/me", headers=bearer(renewed["access_token"]))
            exchange(client, app_client, code)  # a replay, logged as a failure at most
    finally:
        for logger, level in zip(watched, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
    text = records.getvalue()
    assert "sign-in" in text  # the application's own log lines were captured
    secrets_seen = [
        code,
        tokens["access_token"],
        tokens["refresh_token"],
        tokens["id_token"],
        renewed["access_token"],
        renewed["refresh_token"],
        app_client.client_secret,
    ]
    for secret in secrets_seen:
        assert secret not in text


@pytest.mark.server
def test_a_live_server_logs_no_token(live_server, database_url):
    """The real server's log output (stderr, JSON lines), after a full flow."""
    import httpx

    from spiko.config import Settings
    from tests.conftest import TEST_SECRET_KEY, create_investor, stop_server
    from tests.oauth.helpers import RegisteredApp

    ctx = AppContext(Settings(database_url=database_url, secret_key=TEST_SECRET_KEY, issuer=live_server.url))
    try:
        person = create_investor(ctx)
        app: RegisteredApp = register_app(ctx)
    finally:
        ctx.close()
    with httpx.Client(base_url=live_server.url, timeout=10) as browser:
        sign_in(browser, person.email, person.password)
        tokens = tokens_for(browser, app)
        assert browser.get("/v1/investors/me", headers=bearer(tokens["access_token"])).status_code == 200
    stop_server(live_server)  # flushes what the server buffered
    log = live_server.log()
    assert "/oauth2/token" in log
    for secret in (tokens["access_token"], tokens["refresh_token"], app.client_secret):
        assert secret not in log
