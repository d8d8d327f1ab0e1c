"""Delivery to real receivers (HTTP servers on 127.0.0.1 verifying with ``standardwebhooks``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from spiko.db.models.webhooks import WebhookDelivery, WebhookEndpoint
from spiko.db.types import utcnow
from spiko.outbox.delivery import Worker
from tests.orders.conftest import World
from tests.webhooks.conftest import deliver_until, endpoint


def deposit_created(world: World, investor: Any) -> dict[str, Any]:
    account = world.account(investor)
    order = world.deposit(investor, account, "1000.00").json()
    (event,) = [
        e
        for e in world.client.get(
            "/v1/events", params={"type": "deposit_order.created"}, headers=investor.basic
        ).json()["data"]
        if e["data"]["id"] == order["id"]
    ]
    return dict(event)


def log(world: World, investor: Any, endpoint_id: str) -> list[dict[str, Any]]:
    response = world.client.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=investor.basic)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def test_an_event_is_delivered_signed_and_logged(
    world: World, investor: Any, receivers: Any, worker: Worker
) -> None:
    receiver = receivers()
    hook = endpoint(world.client, investor, receiver.url, eventTypes=["deposit_order.created"])
    receiver.secret = hook["secret"]
    event = deposit_created(world, investor)
    deliver_until(worker, lambda: len(receiver.verified()) == 1)
    (message,) = receiver.received
    assert message.verified and message.payload == event
    assert message.headers["webhook-id"] == event["id"]
    assert message.headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):  # another secret does not verify
        Webhook("whsec_" + "A" * 32).verify(message.body, message.headers)
    (entry,) = log(world, investor, hook["id"])
    assert entry["status"] == "succeeded" and entry["eventId"] == event["id"] and entry["attempts"] == 1
    (attempt,) = entry["log"]
    assert attempt["statusCode"] == 200 and attempt["latencyMs"] >= 0 and '"ok"' in attempt["responseExcerpt"]


def test_a_failing_hanging_closing_or_redirecting_receiver_is_retried(
    world: World, investor: Any, receivers: Any, worker: Worker
) -> None:
    receiver = receivers(script=["fail", "hang", "close", "redirect"], hang_seconds=5)
    hook = endpoint(world.client, investor, receiver.url, eventTypes=["deposit_order.created"])
    receiver.secret = hook["secret"]
    worker.schedule = [0.1] * 5
    event = deposit_created(world, investor)
    deliver_until(worker, lambda: log(world, investor, hook["id"])[0]["status"] == "succeeded")
    (entry,) = log(world, investor, hook["id"])
    outcomes = [(a["statusCode"], a["error"]) for a in entry["log"]]
    assert outcomes[0] == (500, None)
    assert outcomes[1] == (None, "timeout")
    assert outcomes[2][0] is None and outcomes[2][1]
    assert outcomes[3] == (307, None)  # a redirect is not followed
    assert outcomes[4] == (200, None)
    assert len(receiver.received) == 5 and all(m.verified for m in receiver.received)
    assert {m.headers["webhook-id"] for m in receiver.received} == {event["id"]}
    assert not any("/elsewhere" in str(m.headers) for m in receiver.received)


def test_an_endpoint_failing_every_attempt_is_disabled_and_its_owner_told(
    world: World, investor: Any, receivers: Any, worker: Worker
) -> None:
    broken = receivers(then="fail")
    watcher = receivers()
    hook = endpoint(world.client, investor, broken.url, eventTypes=["deposit_order.created"])
    watch = endpoint(world.client, investor, watcher.url, eventTypes=["webhook_endpoint.disabled"])
    watcher.secret = watch["secret"]
    deposit_created(world, investor)
    deliver_until(worker, lambda: len(watcher.verified()) == 1)
    shown = world.client.get(f"/v1/webhook-endpoints/{hook['id']}", headers=investor.basic).json()
    assert shown["enabled"] is False and "HTTP 500" in shown["disabledReason"]
    (entry,) = log(world, investor, hook["id"])
    assert entry["status"] == "failed" and entry["attempts"] == len(worker.schedule) + 1
    assert len(broken.received) == len(worker.schedule) + 1
    told = world.client.get(
        "/v1/events", params={"type": "webhook_endpoint.disabled"}, headers=investor.basic
    ).json()["data"]
    assert [e["data"]["id"] for e in told] == [hook["id"]]
    assert watcher.verified()[0].payload["data"]["id"] == hook["id"]
    # A disabled endpoint is sent nothing; enabled again, it is sent what is redelivered to it.
    broken.then = "ok"
    missed = deposit_created(world, investor)
    worker.run_once()
    assert len(broken.received) == len(worker.schedule) + 1
    enabled = world.client.patch(
        f"/v1/webhook-endpoints/{hook['id']}", json={"enabled": True}, headers=investor.basic
    )
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    queued = world.client.post(
        f"/v1/webhook-endpoints/{hook['id']}/redeliver",
        json={"eventId": missed["id"]},
        headers=investor.basic,
    )
    assert queued.json() == {"queued": 1}
    deliver_until(worker, lambda: len(broken.received) == len(worker.schedule) + 2)
    assert broken.received[-1].headers["webhook-id"] == missed["id"]


def test_after_a_rotation_both_secrets_verify_for_a_day(
    world: World, investor: Any, receivers: Any, worker: Worker, ctx: Any
) -> None:
    receiver = receivers()
    hook = endpoint(world.client, investor, receiver.url, eventTypes=["deposit_order.created"])
    old = hook["secret"]
    new = world.client.post(
        f"/v1/webhook-endpoints/{hook['id']}/rotate-secret", headers=investor.basic
    ).json()["secret"]
    deposit_created(world, investor)
    deliver_until(worker, lambda: len(receiver.received) == 1)
    message = receiver.received[0]
    assert len(message.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(message.body, message.headers)
    with ctx.transaction() as session:  # a day later
        session.execute(
            update(WebhookEndpoint).values(previous_secret_expires_at=utcnow() - timedelta(seconds=1))
        )
    deposit_created(world, investor)
    deliver_until(worker, lambda: len(receiver.received) == 2)
    later = receiver.received[1]
    Webhook(new).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(later.body, later.headers)


def test_redelivery_of_one_event_or_everything_since_a_time(
    world: World, investor: Any, receivers: Any, worker: Worker
) -> None:
    receiver = receivers()
    hook = endpoint(world.client, investor, receiver.url, eventTypes=["deposit_order.created"])
    receiver.secret = hook["secret"]
    first = deposit_created(world, investor)
    second = deposit_created(world, investor)
    deliver_until(worker, lambda: len(receiver.verified()) == 2)
    path = f"/v1/webhook-endpoints/{hook['id']}/redeliver"
    one = world.client.post(path, json={"eventId": first["id"]}, headers=investor.basic)
    assert one.status_code == 200 and one.json() == {"queued": 1}
    deliver_until(worker, lambda: len(receiver.verified()) == 3)
    assert receiver.verified()[2].headers["webhook-id"] == first["id"]
    since = world.client.post(path, json={"since": first["createdAt"]}, headers=investor.basic)
    assert since.status_code == 200 and since.json() == {"queued": 2}
    deliver_until(worker, lambda: len(receiver.verified()) == 5)
    assert sorted(m.headers["webhook-id"] for m in receiver.verified()[3:]) == sorted(
        [first["id"], second["id"]]
    )
    bad = world.client.post(path, json={}, headers=investor.basic)
    assert bad.status_code == 400 and bad.json()["customErrorCode"] == "InvalidRedelivery"


def test_delivery_checks_the_address_again(
    world: World, investor: Any, receivers: Any, worker: Worker
) -> None:
    receiver = receivers()
    hook = endpoint(world.client, investor, receiver.url, eventTypes=["deposit_order.created"])
    worker.allow_private = False  # the operator no longer allows private networks
    deposit_created(world, investor)
    deliver_until(worker, lambda: bool(log(world, investor, hook["id"])[0]["log"]))
    attempt = log(world, investor, hook["id"])[0]["log"][0]
    assert attempt["statusCode"] is None and attempt["error"].startswith("refused: ")
    assert receiver.received == []


def test_workers_share_the_queue_without_taking_the_same_delivery(
    world: World, investor: Any, receivers: Any, ctx: Any
) -> None:
    receiver = receivers()
    endpoint(world.client, investor, receiver.url, eventTypes=["deposit_order.created"])
    for _ in range(6):
        deposit_created(world, investor)
    first, second = Worker(ctx, concurrency=4), Worker(ctx, concurrency=4)
    try:
        if ctx.settings.sqlalchemy_url.startswith("sqlite"):
            taken_first = first.claim()
            taken_second = second.claim()
        else:
            # A worker holding its claim transaction open does not block the other: SKIP LOCKED.
            with ctx.transaction() as session:
                held = session.scalars(
                    select(WebhookDelivery.id)
                    .order_by(WebhookDelivery.next_attempt_at)
                    .limit(4)
                    .with_for_update()
                ).all()
                taken_second = second.claim()
            taken_first = first.claim()
            assert not set(held) & {job.delivery_id for job in taken_second}
        ids_first = {job.delivery_id for job in taken_first}
        ids_second = {job.delivery_id for job in taken_second}
        assert len(ids_first) + len(ids_second) == 6 and not ids_first & ids_second
    finally:
        first.close()
        second.close()


def test_a_worker_killed_mid_delivery_leaves_it_to_another(
    world: World, investor: Any, receivers: Any, worker: Worker, settings: Any, tmp_path: Any
) -> None:
    reached = threading.Event()
    receiver = receivers(script=["hang"], hang_seconds=60)
    receiver.on_request = reached.set
    hook = endpoint(world.client, investor, receiver.url, eventTypes=["deposit_order.created"])
    receiver.secret = hook["secret"]
    event = deposit_created(world, investor)
    env = {
        **os.environ,
        "SPIKO_DATABASE_URL": settings.database_url,
        "SPIKO_SECRET_KEY": settings.secret_key,
        "SPIKO_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
        "SPIKO_WEBHOOK_TIMEOUT_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "spiko.cli", "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert reached.wait(60), "the worker never reached the receiver"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    (entry,) = log(world, investor, hook["id"])
    assert entry["status"] == "pending" and entry["attempts"] == 0  # the killed attempt left no record
    deliver_until(worker, lambda: len(receiver.verified()) == 2)
    assert [m.headers["webhook-id"] for m in receiver.received] == [event["id"], event["id"]]
    assert json.loads(receiver.received[1].body) == event
    assert log(world, investor, hook["id"])[0]["status"] == "succeeded"
