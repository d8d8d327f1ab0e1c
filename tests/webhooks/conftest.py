"""Fixtures for events and webhooks: the orders world, sandbox mode, loopback receivers, a worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from spiko.config import Settings
from spiko.context import AppContext
from spiko.outbox.delivery import Worker
from tests.conftest import TEST_SECRET_KEY
from tests.orders.conftest import World, world  # noqa: F401  (the fixture, reused)
from tests.webhooks.receiver import Receiver


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        issuer="http://testserver",
        secret_key=TEST_SECRET_KEY,
        sandbox_mode=True,
        webhook_allow_private_networks=True,  # the receivers listen on 127.0.0.1
        webhook_retry_seconds="0.2,0.2,0.2",
        webhook_timeout_seconds=1.0,
        webhook_worker_concurrency=4,
    )


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def make(**kwargs: Any) -> Receiver:
        receiver = Receiver(**kwargs).start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.stop()


@pytest.fixture
def worker(ctx: AppContext) -> Iterator[Worker]:
    made = Worker(ctx, poll_seconds=0.05)
    yield made
    made.close()


def deliver_until(worker: Worker, done: Callable[[], bool], *, deadline_seconds: float = 60.0) -> None:
    """Run the worker until ``done()`` holds (the deadline only stops a broken test from hanging)."""
    deadline = time.monotonic() + deadline_seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold before the deadline")
        if worker.run_once() == 0:
            time.sleep(0.05)


def endpoint(client: Any, investor: Any, url: str, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/webhook-endpoints", json={"url": url, **body}, headers=investor.basic)
    assert response.status_code == 200, response.text
    return dict(response.json())
