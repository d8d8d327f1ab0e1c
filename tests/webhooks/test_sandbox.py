"""Sandbox simulations over HTTP: only in sandbox mode, authenticated, on the caller's own orders."""

from __future__ import annotations

from typing import Any

from tests.orders.conftest import World
from tests.webhooks.conftest import deliver_until, endpoint


def test_the_routes_do_not_exist_outside_sandbox_mode(client_with: Any, investor: Any) -> None:
    production = client_with(sandbox_mode=False)
    for path, body in (
        ("/sandbox/advance", {"days": 1}),
        ("/sandbox/nav", {"shareClassId": "x", "value": "1"}),
        ("/sandbox/deposits/x/fund", None),
    ):
        response = production.post(path, json=body, headers=investor.basic)
        assert response.status_code == 404 and response.json()["_tag"] == "NotFoundError"
    assert not [p for p in production.get("/openapi.json").json()["paths"] if p.startswith("/sandbox")]


def test_fund_acts_on_the_callers_own_deposits_only(world: World, investor: Any, other_investor: Any) -> None:
    account = world.account(investor)
    order = world.deposit(investor, account, "1000.00").json()
    path = f"/sandbox/deposits/{order['id']}/fund"
    assert world.client.post(path).status_code == 401
    theirs = world.client.post(path, headers=other_investor.basic)
    assert theirs.status_code == 404
    funded = world.client.post(path, headers=investor.basic)
    assert funded.status_code == 200, funded.text
    assert funded.json()["id"] == order["id"] and funded.json()["fundedAt"] is not None
    again = world.client.post(path, headers=investor.basic)
    assert (
        again.status_code == 400 and again.json()["customErrorCode"] == "IncomingBankTransferAlreadyHandled"
    )


def test_nav_and_advance_cause_events_delivered_like_real_ones(
    world: World, investor: Any, receivers: Any, worker: Any
) -> None:
    receiver = receivers()
    hook = endpoint(
        world.client, investor, receiver.url, eventTypes=["nav.published", "deposit_order.executed"]
    )
    receiver.secret = hook["secret"]
    published = world.client.post(
        "/sandbox/nav",
        json={"shareClassId": world.share_classes["EUTBL"], "value": "1.046000"},
        headers=investor.basic,
    )
    assert published.status_code == 200, published.text
    bad = world.client.post(
        "/sandbox/nav",
        json={"shareClassId": world.share_classes["EUTBL"], "value": "abc"},
        headers=investor.basic,
    )
    assert bad.status_code == 400 and bad.json()["_tag"] == "HttpApiDecodeError"
    account = world.account(investor)
    world.deposit(investor, account, "1000.00")
    walked = world.client.post("/sandbox/advance", json={"days": 2}, headers=investor.basic)
    assert walked.status_code == 200, walked.text
    assert walked.json()["days"] == 2 and walked.json()["ordersExecuted"] == 1
    too_far = world.client.post("/sandbox/advance", json={"days": 100000}, headers=investor.basic)
    assert too_far.status_code == 400
    deliver_until(
        worker, lambda: any(m.payload["type"] == "deposit_order.executed" for m in receiver.verified())
    )
    types = [m.payload["type"] for m in receiver.verified()]
    assert types.count("nav.published") >= 2
