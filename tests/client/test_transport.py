"""Retries, backoff, Retry-After, idempotency keys and error mapping, at the transport level.

The real server does not answer 503 or 429 on demand, so these use a scripted stand-in HTTP
server on 127.0.0.1; idempotency against the real server is in test_idempotency.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from spiko.client import (
    Amount,
    ApiKeyAuth,
    InsufficientBalanceError,
    RetryPolicy,
    ServiceUnavailableError,
    SpikoClient,
    SpikoConnectionError,
    SpikoError,
    TooManyRequestsError,
)
from tests.client.standin import INVESTOR, Reply, StandIn, stand_in
from tests.conftest import free_port

FAST = RetryPolicy(max_retries=3, backoff=0.01, max_backoff=0.05)
SHARE_CLASS = "5e0b1f6a-0000-4000-8000-000000000001"
ACCOUNT = {
    "id": "7c1f0a7e-1111-4222-8333-444455556666",
    "investorId": INVESTOR["id"],
    "blockchainAccount": None,
    "type": "internal",
    "createdAt": "2026-11-28T10:00:00Z",
    "name": "Main",
}
UNAVAILABLE = {"_tag": "ServiceUnavailableError", "reason": "maintenance"}
TOO_MANY = {"_tag": "TooManyRequestsError", "message": "slow down"}


@contextmanager
def serving(*replies: Reply, retry: RetryPolicy = FAST) -> Iterator[tuple[StandIn, SpikoClient]]:
    """A stand-in answering ``replies`` and an SDK client pointed at it."""
    with stand_in(*replies) as server:  # noqa: SIM117
        with SpikoClient(server.url, auth=ApiKeyAuth("id", "secret"), retry=retry) as sdk:  # noqa: SIM117
            yield server, sdk


SERVER_SIDE = [
    "fastapi",
    "starlette",
    "sqlalchemy",
    "psycopg",
    "authlib",
    "alembic",
    "uvicorn",
    "jinja2",
    "redis",
    "argon2",
    "joserfc",
    "reportlab",
    "spiko.db",
    "spiko.app",
    "spiko.config",
    "spiko.context",
    "spiko.services",
    "spiko.api",
    "spiko.auth",
    "spiko.cli",
    "spiko.web",
]


def test_importing_the_sdk_loads_nothing_of_the_server():
    code = "import sys, json, spiko.client; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(result.stdout)
    assert "spiko.client" in loaded and "httpx" in loaded
    leaked = [name for name in loaded if any(name == s or name.startswith(s + ".") for s in SERVER_SIDE)]
    assert leaked == []


def test_503_with_retry_after_is_retried_after_the_asked_delay():
    with serving(Reply(503, UNAVAILABLE, {"Retry-After": "1"}), Reply(200, INVESTOR)) as (server, sdk):
        assert sdk.investors.me().name == "Stand-in Investor"
    first, second = server.seen
    assert second.at - first.at >= 0.95


def test_429_is_retried_with_exponential_backoff_and_jitter():
    policy = RetryPolicy(max_retries=4, backoff=0.1, max_backoff=10)
    replies = [Reply(429, TOO_MANY)] * 3 + [Reply(200, INVESTOR)]
    with serving(*replies, retry=policy) as (server, sdk):
        sdk.investors.me()
    gaps = [later.at - earlier.at for earlier, later in zip(server.seen, server.seen[1:], strict=False)]
    assert len(gaps) == 3
    for attempt, gap in enumerate(gaps):
        assert gap <= 0.1 * 2**attempt + 0.75  # full jitter: random in [0, backoff * 2**attempt]


def test_backoff_delays_grow_and_stay_random_within_the_cap():
    policy = RetryPolicy(backoff=0.5, max_backoff=4)
    samples = {attempt: [policy.delay(attempt) for _ in range(200)] for attempt in range(6)}
    for attempt, values in samples.items():
        cap = min(4, 0.5 * 2**attempt)
        assert all(0 <= value <= cap for value in values)
        assert len(set(values)) > 150  # jitter: not a fixed schedule
    assert max(samples[3]) > max(samples[0]) * 3
    assert policy.delay(0, "2") == 2.0
    assert policy.delay(0, "10000") == policy.max_retry_after


def test_persistent_503_raises_the_tagged_error_after_every_retry():
    with serving(Reply(503, {**UNAVAILABLE, "reason": "down"})) as (server, sdk):  # noqa: SIM117
        with pytest.raises(ServiceUnavailableError) as caught:
            sdk.investors.me()
    assert len(server.seen) == 1 + FAST.max_retries
    assert caught.value.status == 503
    assert caught.value.reason == "down"


def test_persistent_429_raises_too_many_requests():
    with serving(Reply(429, TOO_MANY)) as (server, sdk), pytest.raises(TooManyRequestsError):
        sdk.investors.me()
    assert len(server.seen) == 1 + FAST.max_retries


def test_a_post_and_its_retries_carry_one_idempotency_key():
    with serving(Reply(503, UNAVAILABLE), Reply(503, UNAVAILABLE), Reply(200, ACCOUNT)) as (server, sdk):
        sdk.accounts.create(SHARE_CLASS, investor_id=INVESTOR["id"])
    keys = {seen.headers.get("idempotency-key") for seen in server.seen}
    assert len(server.seen) == 3
    assert len(keys) == 1 and None not in keys
    assert 8 <= len(next(iter(keys))) <= 255


def test_each_post_gets_its_own_key_and_a_given_key_is_used_as_is():
    with serving(Reply(200, ACCOUNT)) as (server, sdk):
        sdk.accounts.create(SHARE_CLASS, investor_id=INVESTOR["id"])
        sdk.accounts.create(SHARE_CLASS, investor_id=INVESTOR["id"])
        sdk.accounts.create(SHARE_CLASS, investor_id=INVESTOR["id"], idempotency_key="my-key-0001")
    keys = [seen.headers["idempotency-key"] for seen in server.seen]
    assert keys[0] != keys[1]
    assert keys[2] == "my-key-0001"


def test_gets_carry_no_idempotency_key():
    with serving(Reply(200, INVESTOR)) as (server, sdk):
        sdk.investors.me()
    assert "idempotency-key" not in server.seen[0].headers


def test_the_callers_investor_id_is_filled_in_once():
    with serving(Reply(200, INVESTOR), Reply(200, [ACCOUNT])) as (server, sdk):
        assert [account.id for account in sdk.accounts.list()] == [ACCOUNT["id"]]
        sdk.accounts.list()
    assert [seen.path for seen in server.seen] == [
        "/v1/investors/me",
        f"/v1/accounts/?investorId={INVESTOR['id']}",
        f"/v1/accounts/?investorId={INVESTOR['id']}",
    ]


def test_amounts_travel_as_decimal_strings():
    created = {
        "id": "7c1f0a7e-1111-4222-8333-444455556666",
        "wireInstructions": {
            "reference": "ABC12345",
            "iban": "FR7612345",
            "intermediaryBic": None,
            "bic": "BANKFRPP",
            "currency": "EUR",
        },
        "status": "created",
        "createdAt": "2026-11-28T10:00:00Z",
        "someFutureField": 1,
    }
    with serving(Reply(200, created)) as (server, sdk):
        order = sdk.deposit_orders.create(
            "acc", SHARE_CLASS, Amount(value=Decimal("1000.10"), currency="EUR")
        )
    assert json.loads(server.seen[0].body)["amount"] == {"value": "1000.10", "currency": "EUR"}
    assert order.wire_instructions.reference == "ABC12345"
    assert order.model_extra == {"someFutureField": 1}  # unknown fields are kept, not refused


def test_floats_are_refused_for_amounts():
    with pytest.raises(ValueError, match="never float"):
        Amount(value=0.1, currency="EUR")  # type: ignore[arg-type]


def test_unreachable_server_is_retried_then_raises_a_connection_error():
    port = free_port()  # nothing listens there
    started = time.monotonic()
    with SpikoClient(f"http://127.0.0.1:{port}", auth=ApiKeyAuth("id", "secret"), retry=FAST) as sdk:  # noqa: SIM117
        with pytest.raises(SpikoConnectionError) as caught:
            sdk.investors.me()
    assert caught.value.__cause__ is not None
    assert time.monotonic() - started < 5


def test_unknown_tags_still_raise_a_class_named_after_the_tag():
    with serving(Reply(418, {"_tag": "TeapotError", "message": "short and stout"})) as (server, sdk):  # noqa: SIM117
        with pytest.raises(SpikoError) as caught:
            sdk.investors.me()
    assert type(caught.value).__name__ == "TeapotError"
    assert caught.value.tag == "TeapotError"
    assert caught.value.status == 418
    assert caught.value.message == "short and stout"


def test_insufficient_balance_carries_its_payload():
    payload = {"type": "insufficient-balance", "requested": {"value": "10", "currency": "EUR"}}
    with serving(Reply(400, {"_tag": "InsufficientBalanceError", "payload": payload})) as (server, sdk):  # noqa: SIM117
        with pytest.raises(InsufficientBalanceError) as caught:
            sdk.accounts.get("x")
    assert caught.value.payload == payload
    assert caught.value.status == 400
