"""``/metrics`` is refused on the public listener unless a token or allowed addresses are set."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from spiko.app import create_app
from spiko.config import Settings
from spiko.context import AppContext

TOKEN = "scrape-" + "s" * 32


@pytest.fixture
def metrics_from(settings):  # type: ignore[no-untyped-def]
    """GET /metrics from an address, on an app with some metrics settings."""
    contexts: list[AppContext] = []

    def get(address: str, headers: dict[str, str] | None = None, **overrides: object) -> int:
        ctx = AppContext(settings.with_overrides(**overrides))
        contexts.append(ctx)
        with TestClient(create_app(ctx=ctx), client=(address, 40000)) as http:
            response = http.get("/metrics", headers=headers or {})
        if response.status_code == 403:
            assert response.json()["_tag"] == "ForbiddenError"
        return response.status_code

    yield get
    for ctx in contexts:
        ctx.close()


def test_without_settings_metrics_are_served_to_nobody(metrics_from):  # type: ignore[no-untyped-def]
    for address in ("127.0.0.1", "203.0.113.5", "10.0.0.1"):
        assert metrics_from(address) == 403
    assert metrics_from("127.0.0.1", {"Authorization": "Bearer anything"}) == 403


def test_a_configured_bearer_token_opens_metrics(metrics_from):  # type: ignore[no-untyped-def]
    assert metrics_from("203.0.113.5", {"Authorization": f"Bearer {TOKEN}"}, metrics_token=TOKEN) == 200
    assert metrics_from("203.0.113.5", {"Authorization": "Bearer wrong"}, metrics_token=TOKEN) == 403
    assert metrics_from("203.0.113.5", {"Authorization": f"Basic {TOKEN}"}, metrics_token=TOKEN) == 403
    assert metrics_from("203.0.113.5", metrics_token=TOKEN) == 403


def test_allowed_addresses_and_networks_open_metrics(metrics_from):  # type: ignore[no-untyped-def]
    allowed = {"metrics_allowed_addresses": "127.0.0.1, 10.0.0.0/8, ::1"}
    assert metrics_from("127.0.0.1", **allowed) == 200
    assert metrics_from("10.20.30.40", **allowed) == 200
    assert metrics_from("::1", **allowed) == 200
    assert metrics_from("203.0.113.5", **allowed) == 403
    assert metrics_from("testclient", **allowed) == 403  # not an address at all


def test_a_malformed_address_list_stops_the_start() -> None:
    with pytest.raises(ValueError, match="SPIKO_METRICS_ALLOWED_ADDRESSES"):
        Settings(metrics_allowed_addresses="10.0.0.0/8, not-an-address")
