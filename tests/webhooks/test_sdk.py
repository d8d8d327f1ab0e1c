"""The SDK's events and webhook endpoints, and ``spiko.client.webhooks.verify`` on a real delivery."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest

from spiko.client import ApiKeyAuth, AsyncSpikoClient, NotFoundError, SpikoClient
from spiko.client import webhooks as client_webhooks
from spiko.outbox.delivery import Worker
from tests.orders.conftest import World
from tests.webhooks.conftest import deliver_until


def sdk(world: World, investor: Any) -> SpikoClient:
    # The SDK over the test client's in-process transport: the same app, no network.
    return SpikoClient(
        "http://testserver",
        auth=ApiKeyAuth(investor.client_id, investor.client_secret),
        transport=world.client._transport,
    )


def test_endpoints_events_and_verify(world: World, investor: Any, receivers: Any, worker: Worker) -> None:
    receiver = receivers()
    client = sdk(world, investor)
    created = client.webhook_endpoints.create(receiver.url, event_types=["deposit_order.created"])
    assert created.secret.startswith("whsec_")
    assert [e.id for e in client.webhook_endpoints.list()] == [created.id]
    account = world.account(investor)
    order_ids = [world.deposit(investor, account, "1000.00").json()["id"] for _ in range(3)]
    events = list(client.events.iter(type="deposit_order.created", direction="asc", limit=2))
    assert [e.data["id"] for e in events] == order_ids
    assert client.events.get(events[0].id) == events[0]
    deliver_until(worker, lambda: len(receiver.received) == 3)
    message = receiver.received[0]
    verified = client_webhooks.verify(message.body, message.headers, created.secret)
    assert verified.type == "deposit_order.created" and verified.id == message.headers["webhook-id"]
    with pytest.raises(client_webhooks.WebhookVerificationError):
        client_webhooks.verify(message.body + b" ", message.headers, created.secret)
    log = client.webhook_endpoints.deliveries(created.id)
    assert {d.status for d in log.data} == {"succeeded"} and log.data[0].log[0].status_code == 200
    assert client.webhook_endpoints.redeliver(created.id, event_id=events[0].id).queued == 1
    rotated = client.webhook_endpoints.rotate_secret(created.id)
    assert rotated.secret != created.secret
    updated = client.webhook_endpoints.update(created.id, event_types=None, description="all of it")
    assert updated.event_types is None and updated.description == "all of it"
    client.webhook_endpoints.delete(created.id)
    with pytest.raises(NotFoundError):
        client.webhook_endpoints.get(created.id)


def test_the_async_client_lists_events(world: World, investor: Any) -> None:
    import httpx

    world.account(investor)

    async def run() -> list[str]:
        transport = httpx.ASGITransport(app=world.client.app)
        async with AsyncSpikoClient(
            "http://testserver",
            auth=ApiKeyAuth(investor.client_id, investor.client_secret),
            transport=transport,
        ) as client:
            return [event.type async for event in client.events.iter()]

    assert "api_key.created" in asyncio.run(run())


def test_the_webhook_helper_loads_nothing_of_the_server() -> None:
    code = "import sys, json, spiko.client.webhooks; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not [name for name in result.stdout.split('"') if name.startswith(("spiko.services", "spiko.db"))]
