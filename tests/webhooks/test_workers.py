"""Two ``spiko worker`` processes sharing one queue: every endpoint gets every event of its
investor once, numbered by ``sequence`` in the order the events were committed, without gaps,
while the events are still being written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

from sqlalchemy import select

from spiko.db.models.webhooks import WebhookDelivery
from spiko.services import events
from tests.orders.conftest import World
from tests.webhooks.conftest import endpoint

EVENTS_PER_INVESTOR = 60
EVENTS_PER_TRANSACTION = 6


def _start_workers(settings: Any, tmp_path: Any, count: int) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "SPIKO_DATABASE_URL": settings.database_url,
        "SPIKO_SECRET_KEY": settings.secret_key,
        "SPIKO_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
        # Long leases: on a loaded machine no delivery outlives its lease and is taken twice.
        "SPIKO_WEBHOOK_TIMEOUT_SECONDS": "10",
    }
    return [
        subprocess.Popen(
            [sys.executable, "-m", "spiko.cli", "worker", "--concurrency", "4"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_two_worker_processes_deliver_every_event_once_in_sequence(
    world: World,
    ctx: Any,
    investor: Any,
    other_investor: Any,
    receivers: Any,
    settings: Any,
    tmp_path: Any,
) -> None:
    subscribed = ["deposit_order.created"]
    hooks = {}  # receiver -> (investor id, endpoint id)
    for who, count in ((investor, 2), (other_investor, 1)):
        for _ in range(count):
            receiver = receivers()
            hook = endpoint(world.client, who, receiver.url, eventTypes=subscribed)
            receiver.secret = hook["secret"]
            hooks[id(receiver)] = (receiver, who.investor_id, hook["id"])
    written: dict[str, list[str]] = {investor.investor_id: [], other_investor.investor_id: []}
    workers = _start_workers(settings, tmp_path, 2)
    try:
        for _ in range(EVENTS_PER_INVESTOR // EVENTS_PER_TRANSACTION):
            for investor_id, ids in written.items():
                with ctx.transaction() as session:
                    for _ in range(EVENTS_PER_TRANSACTION):
                        data = {"id": str(uuid.uuid4()), "status": "pending"}
                        made = events.record(session, investor_id, "deposit_order.created", data)
                        assert made is not None
                        ids.append(made.id)
        deadline = time.monotonic() + 120  # only stops a broken test from hanging
        while any(len(r.verified()) < EVENTS_PER_INVESTOR for r, _, _ in hooks.values()):
            assert time.monotonic() < deadline, [len(r.verified()) for r, _, _ in hooks.values()]
            assert all(process.poll() is None for process in workers), "a worker died"
            time.sleep(0.1)
    finally:
        _stop(workers)
    for receiver, investor_id, endpoint_id in hooks.values():
        messages = receiver.verified()
        assert len(messages) == len(receiver.received) == EVENTS_PER_INVESTOR, "each once, each signed"
        by_sequence = {m.payload["sequence"]: m.headers["webhook-id"] for m in messages}
        first = min(by_sequence)  # the investor's earlier events (its API key's) came before
        assert sorted(by_sequence) == list(range(first, first + EVENTS_PER_INVESTOR)), "no gap, no repeat"
        assert [by_sequence[n] for n in sorted(by_sequence)] == written[investor_id], "commit order"
        assert all(json.loads(m.body)["id"] == m.headers["webhook-id"] for m in messages)
        with ctx.transaction(write=False) as session:
            rows = session.execute(
                select(WebhookDelivery.status, WebhookDelivery.attempts).where(
                    WebhookDelivery.endpoint_id == endpoint_id
                )
            ).all()
        assert len(rows) == EVENTS_PER_INVESTOR
        assert set(rows) == {("succeeded", 1)}, "no delivery claimed by both workers"
