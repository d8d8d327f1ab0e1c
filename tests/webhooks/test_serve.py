"""``spiko serve`` delivers webhooks from a worker thread of its own, and never waits for a receiver."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from spiko.context import AppContext
from spiko.services import clock, seed
from tests.conftest import basic_auth, create_investor, start_server, stop_server


def test_serve_delivers_in_process_while_a_receiver_hangs(
    database_url: str, tmp_path: Path, ctx: AppContext, receivers: Any
) -> None:
    slow = receivers(then="hang", hang_seconds=20)
    fast = receivers()
    with ctx.transaction() as session:
        seed.seed_reference_data(session, until_year=2026)
        clock.set_today(session, clock.real_today())
    investor = create_investor(ctx)
    server = start_server(
        database_url,
        tmp_path,
        extra_env={
            "SPIKO_WEBHOOK_IN_PROCESS_WORKER": "1",
            "SPIKO_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
            "SPIKO_WEBHOOK_TIMEOUT_SECONDS": "15",
        },
    )
    try:
        headers = basic_auth(investor.client_id, investor.client_secret)
        hooks = []
        for receiver in (slow, fast):
            created = httpx.post(
                server.url + "/v1/webhook-endpoints",
                json={"url": receiver.url, "eventTypes": ["api_key.created", "app.revoked"]},
                headers=headers,
            )
            assert created.status_code == 200, created.text
            hooks.append(created.json())
        fast.secret = hooks[1]["secret"]
        with ctx.transaction() as session:
            from spiko.services import identity

            identity.create_api_key(
                session, ctx.api_keys, investor_id=investor.investor_id, name="n", max_live_keys=5
            )
        deadline = time.monotonic() + 60
        while not (fast.verified() and slow.received) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fast.verified() and fast.verified()[0].payload["type"] == "api_key.created"
        # The slow receiver is still holding its request: the API answers meanwhile.
        assert slow.received and httpx.get(server.url + "/v1/events", headers=headers).status_code == 200
    finally:
        stop_server(server)
