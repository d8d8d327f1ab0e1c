"""Helpers for the investor app: create keys on its pages, a signed-in client, the test Redis (reading CSRF
tokens and signing in come from the shared test world)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.world import CSRF_RE, sign_in  # noqa: F401 - the investor app's helpers, shared
from tests.world import csrf_token as csrf_from

SECRET_RE = re.compile(r'data-testid="client-secret">([^<]+)<')
CLIENT_ID_RE = re.compile(r'data-testid="client-id">([^<]+)<')


def replace_cookie(client: TestClient, name: str, value: str) -> None:
    """Put ``value`` in the browser's cookie jar in place of whatever ``name`` holds."""
    domains = {cookie.domain for cookie in client.cookies.jar if cookie.name == name} or {"testserver.local"}
    client.cookies.delete(name)
    for domain in domains:
        client.cookies.set(name, value, domain=domain)


def create_key_on_page(client: TestClient, name: str) -> tuple[str, str, Any]:
    """Create a key through the integrations form; return (client_id, client_secret, response)."""
    token = csrf_from(client.get("/integrations").text)
    response = client.post("/integrations", data={"name": name, "csrf_token": token})
    assert response.status_code == 200, response.text
    client_id = CLIENT_ID_RE.search(response.text)
    secret = SECRET_RE.search(response.text)
    assert client_id and secret
    return html.unescape(client_id.group(1)), html.unescape(secret.group(1)), response


@pytest.fixture
def signed_in_client(client: TestClient, investor: Any) -> TestClient:
    response = sign_in(client, investor.email, investor.password)
    assert response.status_code == 303
    return client


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The test Redis; the sign-in counters of the test client's address are cleared around the test."""
    import os

    import redis

    url = os.environ.get("SPIKO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    connection = redis.Redis.from_url(url)
    connection.delete("spiko:rl:login:address:testclient", "spiko:signin:login:address:testclient")
    yield url
    connection.delete("spiko:rl:login:address:testclient", "spiko:signin:login:address:testclient")
    connection.close()
