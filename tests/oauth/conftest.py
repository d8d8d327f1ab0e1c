"""Fixtures of the OAuth tests: a loopback issuer, registered apps, a signed-in browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from spiko.config import Settings
from tests.conftest import TEST_SECRET_KEY
from tests.oauth.helpers import RegisteredApp, register_app, sign_in

# Authlib refuses OAuth over plain http except on loopback (RFC 8252), and judges the configured
# issuer: these tests use a loopback issuer, as a development server has by default.
ISSUER = "http://localhost"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, issuer=ISSUER, secret_key=TEST_SECRET_KEY)


@pytest.fixture
def app_client(ctx) -> RegisteredApp:  # type: ignore[no-untyped-def]
    return register_app(ctx)


@pytest.fixture
def public_app(ctx) -> RegisteredApp:  # type: ignore[no-untyped-def]
    return register_app(ctx, name="Pocket CLI", public=True)


@pytest.fixture
def browser(app, investor) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """A client signed in to the investor app as ``investor``."""
    with TestClient(app, raise_server_exceptions=False, base_url="http://testserver") as test_client:
        sign_in(test_client, investor.email, investor.password)
        yield test_client
