"""The deprecated subscription routes: the same deposit orders, in the older shape."""

from __future__ import annotations

from tests.orders.conftest import TODAY, random_id
from tests.spec import assert_matches


def test_subscriptions_are_deposit_orders(world, investor, other_investor):
    account = world.account(investor)
    body = {
        "amount": {"value": "2000.00", "currency": "EUR"},
        "shareClassId": world.share_classes["EUTBL"],
        "accountId": account,
    }
    created = world.client.post("/v1/subscription-orders", json=body, headers=investor.basic)
    subscription = assert_matches(created, "/subscription-orders/", "post")
    assert subscription["status"] == "pending" and subscription["sharesAmount"] is None
    assert subscription["amountInShareClassCurrency"] == {"value": "2000.00", "currency": "EUR"}

    deposit = world.client.get(f"/v1/deposit-orders/{subscription['id']}", headers=investor.basic).json()
    assert deposit["wireReference"] == subscription["wireReference"]
    world.publish("EUTBL", TODAY, "1.045300")
    world.fund(subscription["wireReference"])
    world.execute()
    one = world.client.get(f"/v1/subscription-orders/{subscription['id']}", headers=investor.basic)
    executed = assert_matches(one, "/subscription-orders/{subscriptionOrderId}")
    assert executed["status"] == "executed"
    assert executed["sharesAmount"] == "1913.32631"  # 2000 / 1.0453, rounded down

    params = {"investorId": investor.investor_id, "status": "executed"}
    listed = world.client.get("/v1/subscription-orders", params=params, headers=investor.basic)
    assert [o["id"] for o in assert_matches(listed, "/subscription-orders/")] == [subscription["id"]]

    low = world.client.post(
        "/v1/subscription-orders",
        json={**body, "amount": {"value": "50", "currency": "EUR"}},
        headers=investor.basic,
    )
    assert (
        assert_matches(low, "/subscription-orders/", "post")["customErrorCode"]
        == "SubsequentSubscriptionTooLow"
    )

    # Isolation.
    assert (
        world.client.get(
            f"/v1/subscription-orders/{subscription['id']}", headers=other_investor.basic
        ).status_code
        == 404
    )
    assert (
        world.client.get(
            "/v1/subscription-orders",
            params={"investorId": investor.investor_id},
            headers=other_investor.basic,
        ).status_code
        == 403
    )
    assert (
        world.client.get(f"/v1/subscription-orders/{random_id()}", headers=investor.basic).status_code == 404
    )


def test_initial_subscription_minimum_and_direct_debit(world, investor):
    account = world.account(investor)
    bank = world.bank_account(investor)
    body = {"amount": {"value": "500", "currency": "EUR"}, "shareClassId": world.share_classes["EUTBL"]}
    low = world.client.post(
        "/v1/subscription-orders", json={**body, "accountId": account}, headers=investor.basic
    )
    assert low.json()["customErrorCode"] == "InitialSubscriptionTooLow"
    debit = world.client.post(
        "/v1/subscription-orders/direct-debit",
        json={
            **body,
            "amount": {"value": "5000", "currency": "EUR"},
            "accountId": account,
            "bankAccountId": bank,
        },
        headers=investor.basic,
    )
    created = assert_matches(debit, "/subscription-orders/direct-debit/", "post")
    assert created["status"] == "pending" and created["amount"]["value"] == "5000.00"


def test_deprecated_routes_are_marked_in_the_openapi_document(client):
    document = client.get("/openapi.json").json()
    deprecated = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("deprecated")
    }
    for route in (
        ("POST", "/v1/subscription-orders"),
        ("GET", "/v1/subscription-orders"),
        ("POST", "/v1/subscription-orders/direct-debit"),
        ("GET", "/v1/subscription-orders/{subscriptionOrderId}"),
        ("POST", "/v1/redemption-orders"),
        ("GET", "/v1/redemption-orders"),
        ("POST", "/v1/redemption-orders/instant"),
        ("GET", "/v1/redemption-orders/{redemptionOrderId}"),
    ):
        assert route in deprecated, route
    assert ("POST", "/v1/deposit-orders") not in deprecated
