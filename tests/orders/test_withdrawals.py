"""Withdrawal orders: quantities, the balance check, cancellation, execution and the deprecated routes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import create_investor
from tests.orders.conftest import TODAY, assert_component, random_id
from tests.spec import assert_matches


@pytest.fixture
def funded(world, investor):
    """An account holding 10000 / 1.0453 = 9566.63158 EUTBL shares, and a bank account."""
    world.publish("EUTBL", TODAY, "1.045300")
    account = world.account(investor)
    world.invest(investor, account, "10000.00")
    return account, world.bank_account(investor)


def test_three_quantity_modes_reserve_and_execute(world, investor, funded):
    account, bank = funded
    by_shares = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "1000.5"})
    body = assert_matches(by_shares, "/withdrawal-orders/", "post")
    assert body["status"] == "pending"
    assert body["quantity"] == {"mode": "shares", "shares": "1000.5"}
    assert body["destination"] == {"type": "bank-transfer", "bankAccountId": bank}
    by_amount = world.withdraw(
        investor, account, bank, {"mode": "amount", "amount": {"value": "2000.00", "currency": "EUR"}}
    )
    assert (
        assert_matches(by_amount, "/withdrawal-orders/", "post")["quantity"]["amount"]["value"] == "2000.00"
    )
    total = world.withdraw(investor, account, bank, {"mode": "total"})
    assert assert_matches(total, "/withdrawal-orders/", "post")["quantity"] == {"mode": "total"}
    # Everything is reserved now: nothing more can be asked for.
    more = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "1"})
    assert more.status_code == 400
    assert assert_component(more, "InsufficientBalanceError")["payload"] == {"type": "empty-account"}

    world.set_today(TODAY)
    summary = world.execute()
    assert summary["withdrawalsExecuted"] == 3
    shares = {w["id"]: (w["shares"], w["amount"]) for w in summary["withdrawals"]}
    # 1000.5 shares x 1.0453 = 1045.82265 -> 1045.82 (rounded down to the cent)
    assert shares[by_shares.json()["id"]] == ("1000.50000", "1045.82")
    # 2000 / 1.0453 = 1913.32631... -> 1913.32632 shares (rounded up), worth 2000.000002... -> 2000.00
    assert shares[by_amount.json()["id"]] == ("1913.32632", "2000.00")
    # The rest: 9566.63158 - 1000.5 - 1913.32632 = 6652.80526 shares
    assert shares[total.json()["id"]] == ("6652.80526", ["6954", "17733"][0] + ".17")
    assert world.holdings(account) == 0
    for order in (by_shares, by_amount, total):
        one = world.client.get(f"/v1/withdrawal-orders/{order.json()['id']}", headers=investor.basic)
        assert assert_matches(one, "/withdrawal-orders/{withdrawalOrderId}")["status"] == "executed"


def test_insufficient_balance_payloads(world, investor, funded):
    account, bank = funded
    shares = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "9566.63159"})
    assert shares.status_code == 400
    assert assert_component(shares, "InsufficientBalanceError") == {
        "_tag": "InsufficientBalanceError",
        "payload": {"type": "shares", "requested": "9566.63159", "available": "9566.63158"},
    }
    amount = world.withdraw(
        investor, account, bank, {"mode": "amount", "amount": {"value": "10000.00", "currency": "EUR"}}
    )
    assert amount.status_code == 400
    # 9566.63158 x 1.0453 = 9999.999990... -> 9999.99 available
    assert assert_component(amount, "InsufficientBalanceError")["payload"] == {
        "type": "amount",
        "requested": {"value": "10000.00", "currency": "EUR"},
        "available": {"value": "9999.99", "currency": "EUR"},
    }
    empty_account = world.account(investor)
    empty = world.withdraw(investor, empty_account, bank, {"mode": "total"})
    assert assert_component(empty, "InsufficientBalanceError")["payload"] == {"type": "empty-account"}
    # Pending withdrawals count against the balance.
    assert world.withdraw(investor, account, bank, {"mode": "shares", "shares": "9000"}).status_code == 200
    second = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "600"})
    assert second.json()["payload"] == {"type": "shares", "requested": "600.00000", "available": "566.63158"}


def test_refusals(world, investor, other_investor, funded):
    account, bank = funded
    for quantity in (
        {"mode": "shares", "shares": "0"},
        {"mode": "shares", "shares": "1.123456"},
        {"mode": "amount", "amount": {"value": "50.00", "currency": "EUR"}},
        {"mode": "amount", "amount": {"value": "500.001", "currency": "EUR"}},
        {"mode": "amount", "amount": {"value": "500", "currency": "USD"}},
    ):
        response = world.withdraw(investor, account, bank, quantity)
        assert response.status_code == 400, (quantity, response.text)
        assert_matches(response, "/withdrawal-orders/", "post")
    for quantity in ({"mode": "shares", "shares": "-1"}, {"mode": "shares"}, {"mode": "all"}):
        response = world.withdraw(investor, account, bank, quantity)
        assert assert_matches(response, "/withdrawal-orders/", "post")["_tag"] == "HttpApiDecodeError"
    stablecoin = world.client.post(
        "/v1/withdrawal-orders",
        json={
            "accountId": account,
            "shareClassId": world.share_classes["EUTBL"],
            "destination": {"type": "stablecoin-transfer", "walletId": random_id()},
            "quantity": {"mode": "total"},
        },
        headers=investor.basic,
    )
    assert assert_matches(stablecoin, "/withdrawal-orders/", "post")["_tag"] == "BadRequestError"
    # Someone else's bank account, or an unknown one, is not a destination.
    foreign_bank = world.bank_account(other_investor)
    assert world.withdraw(investor, account, foreign_bank, {"mode": "total"}).status_code == 404
    assert world.withdraw(investor, account, random_id(), {"mode": "total"}).status_code == 404
    assert world.withdraw(other_investor, account, foreign_bank, {"mode": "total"}).status_code == 404
    listed = world.client.get(
        "/v1/withdrawal-orders", params={"investorId": investor.investor_id}, headers=investor.basic
    )
    assert assert_matches(listed, "/withdrawal-orders/") == []


def test_cancel_while_pending_frees_the_reservation(world, investor, funded):
    account, bank = funded
    order = world.withdraw(investor, account, bank, {"mode": "total"}).json()
    canceled = world.client.post(f"/v1/withdrawal-orders/{order['id']}/cancel", headers=investor.basic)
    body = assert_matches(canceled, "/withdrawal-orders/{withdrawalOrderId}/cancel", "post")
    assert body["status"] == "canceled" and body["canceledAt"]
    again = world.client.post(f"/v1/withdrawal-orders/{order['id']}/cancel", headers=investor.basic)
    assert again.status_code == 400
    assert (
        assert_matches(again, "/withdrawal-orders/{withdrawalOrderId}/cancel", "post")["_tag"]
        == "BadRequestError"
    )
    assert world.withdraw(investor, account, bank, {"mode": "total"}).status_code == 200
    assert world.execute()["withdrawalsExecuted"] == 1
    statuses = {
        o["id"]: o["status"]
        for o in world.client.get(
            "/v1/withdrawal-orders", params={"investorId": investor.investor_id}, headers=investor.basic
        ).json()
    }
    assert statuses[order["id"]] == "canceled" and sorted(statuses.values()) == ["canceled", "executed"]
    executed = world.client.get(
        "/v1/withdrawal-orders", params={"investorId": investor.investor_id, "status": "executed"},
        headers=investor.basic,
    )  # fmt: skip
    assert len(executed.json()) == 1
    refused = world.client.post(
        f"/v1/withdrawal-orders/{executed.json()[0]['id']}/cancel", headers=investor.basic
    )
    assert refused.status_code == 400


def test_withdrawal_isolation(world, investor, other_investor, funded):
    account, bank = funded
    order = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "100"}).json()
    assert (
        world.client.get(f"/v1/withdrawal-orders/{order['id']}", headers=other_investor.basic).status_code
        == 404
    )
    cancel = world.client.post(f"/v1/withdrawal-orders/{order['id']}/cancel", headers=other_investor.basic)
    assert cancel.status_code == 404
    forbidden = world.client.get(
        "/v1/withdrawal-orders", params={"investorId": investor.investor_id}, headers=other_investor.basic
    )
    assert forbidden.status_code == 403
    mine = world.client.get(f"/v1/withdrawal-orders/{order['id']}", headers=investor.basic).json()
    assert mine["status"] == "pending"


def test_deprecated_redemption_routes(world, investor, funded):
    account, bank = funded
    body = {
        "accountId": account,
        "shareClassId": world.share_classes["EUTBL"],
        "amount": {"value": "1045.30", "currency": "EUR"},
        "bankAccountId": bank,
    }
    created = world.client.post("/v1/redemption-orders", json=body, headers=investor.basic)
    redemption = assert_matches(created, "/redemption-orders/", "post")
    assert redemption["status"] == "pending" and redemption["sharesAmount"] is None
    assert redemption["amount"] == {"value": "1045.30", "currency": "EUR"}
    world.execute()
    one = world.client.get(f"/v1/redemption-orders/{redemption['id']}", headers=investor.basic)
    executed = assert_matches(one, "/redemption-orders/{redemptionOrderId}")
    assert executed["status"] == "executed"
    assert executed["sharesAmount"] == "1000.00000" and executed["amount"]["value"] == "1045.30"
    # The same order is a withdrawal order too.
    as_withdrawal = world.client.get(f"/v1/withdrawal-orders/{redemption['id']}", headers=investor.basic)
    assert as_withdrawal.json()["quantity"] == {
        "mode": "amount",
        "amount": {"value": "1045.30", "currency": "EUR"},
    }
    listed = world.client.get(
        "/v1/redemption-orders", params={"investorId": investor.investor_id}, headers=investor.basic
    )
    assert [o["id"] for o in assert_matches(listed, "/redemption-orders/")] == [redemption["id"]]
    too_much = world.client.post(
        "/v1/redemption-orders",
        json={**body, "amount": {"value": "9999.00", "currency": "EUR"}},
        headers=investor.basic,
    )
    assert too_much.status_code == 400
    assert assert_component(too_much, "InsufficientBalanceError")["payload"]["type"] == "amount"


def test_instant_redemption_pays_at_once_at_the_latest_nav(world, investor, funded):
    account, bank = funded
    body = {
        "accountId": account,
        "shareClassId": world.share_classes["EUTBL"],
        "amount": {"value": "2090.60", "currency": "EUR"},
        "bankAccountId": bank,
    }
    response = world.client.post("/v1/redemption-orders/instant", json=body, headers=investor.basic)
    instant = assert_matches(response, "/redemption-orders/instant", "post")
    assert instant["status"] == "executed"
    assert instant["amount"] == {"value": "2090.60", "currency": "EUR"}
    # 2090.60 / 1.0453 = 2000 shares exactly
    assert world.holdings(account) == Decimal("7566.63158")

    person = create_investor(world.ctx, name="Jeanne Martin", investor_type="individual")
    refused = world.client.post("/v1/redemption-orders/instant", json=body, headers=person.basic)
    assert refused.status_code == 403


def test_cancel_rereads_the_order_it_locks(world, investor, funded, databases):
    """A cancel that read the order before an execution committed must not cancel an executed order."""
    if not databases.is_postgres:
        pytest.skip("SQLite serializes write transactions: this interleaving cannot happen there")
    from spiko.errors import BadRequestError
    from spiko.services import withdrawals

    account, bank = funded
    order = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "1000"}).json()
    session = world.ctx.session_factory()
    try:
        assert withdrawals.get_withdrawal(session, order["id"], investor.investor_id).status == "pending"
        assert world.execute()["withdrawalsExecuted"] == 1  # another transaction, committed
        with pytest.raises(BadRequestError):
            withdrawals.cancel_withdrawal(session, order["id"], investor.investor_id)
    finally:
        session.rollback()
        session.close()
    assert world.client.get(f"/v1/withdrawal-orders/{order['id']}", headers=investor.basic).json()[
        "status"
    ] == ("executed")
