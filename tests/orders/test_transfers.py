"""Transfer orders: shares move at once between two accounts of the investor, valued at the latest NAV."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.orders.conftest import TODAY, assert_component, random_id
from tests.spec import assert_matches


@pytest.fixture
def accounts(world, investor):
    world.publish("EUTBL", TODAY, "1.045300")
    source = world.account(investor)
    target = world.account(investor, name="Reserve")
    world.invest(investor, source, "10000.00")  # 9566.63158 shares
    return source, target


def test_transfers_in_shares_amount_and_total(world, investor, accounts):
    source, target = accounts
    in_shares = world.transfer(investor, source, target, {"type": "in-shares", "sharesAmount": "1000"})
    body = assert_matches(in_shares, "/transfer-orders/", "post")
    assert body["status"] == "executed" and body["executedAt"]
    assert body["sharesAmount"] == "1000.00000"
    assert body["amount"] == {"value": "1045.30", "currency": "EUR"}
    assert body["fromInvestorId"] == body["toInvestorId"] == investor.investor_id
    assert world.holdings(target) == Decimal("1000")

    in_amount = world.transfer(
        investor,
        source,
        target,
        {"type": "in-amount", "amount": {"value": "100.00", "currency": "EUR"}},
    )
    # 100 / 1.0453 = 95.66631... -> 95.66631 shares, worth 99.99998... -> 99.99
    moved = assert_matches(in_amount, "/transfer-orders/", "post")
    assert moved["sharesAmount"] == "95.66631" and moved["amount"]["value"] == "99.99"

    total = assert_matches(
        world.transfer(investor, source, target, {"type": "total"}), "/transfer-orders/", "post"
    )
    assert total["sharesAmount"] == "8470.96527"
    assert world.holdings(source) == 0
    assert world.holdings(target) == Decimal("9566.63158")

    listed = world.client.get(
        "/v1/transfer-orders", params={"investorId": investor.investor_id}, headers=investor.basic
    )
    assert len(assert_matches(listed, "/transfer-orders/")) == 3
    filtered = world.client.get(
        "/v1/transfer-orders",
        params=[("investorId", investor.investor_id), ("status", "pending"), ("status", "failed")],
        headers=investor.basic,
    )
    assert filtered.json() == []
    one = world.client.get(f"/v1/transfer-orders/{total['id']}", headers=investor.basic)
    assert assert_matches(one, "/transfer-orders/{transferOrderId}") == total


def test_transfers_are_valued_at_the_latest_nav(world, investor):
    world.publish("EUTBL", TODAY, "1.045300")
    source = world.account(investor)
    target = world.account(investor)
    world.invest(investor, source, "10000.00")
    # The clock moves to Saturday: the latest NAV is still Monday's.
    world.set_today(TODAY + timedelta(days=5))
    moved = world.transfer(investor, source, target, {"type": "in-shares", "sharesAmount": "1000"}).json()
    assert moved["amount"]["value"] == "1045.30"


def test_transfer_refusals(world, investor, other_investor, accounts):
    source, target = accounts
    theirs = world.account(other_investor)
    too_many = world.transfer(investor, source, target, {"type": "in-shares", "sharesAmount": "9566.63159"})
    assert too_many.status_code == 400
    assert assert_component(too_many, "InsufficientBalanceError")["payload"]["type"] == "shares"
    ten_thousand = {"type": "in-amount", "amount": {"value": "10000.00", "currency": "EUR"}}
    too_much = world.transfer(investor, source, target, ten_thousand)
    assert too_much.status_code == 400 and too_much.json()["payload"]["type"] == "amount"
    empty = world.transfer(investor, target, source, {"type": "total"})
    assert empty.status_code == 400 and empty.json()["payload"] == {"type": "empty-account"}
    for amount in (
        {"type": "in-shares", "sharesAmount": "0"},
        {"type": "in-shares", "sharesAmount": "0.000001"},
    ):
        response = world.transfer(investor, source, target, amount)
        assert assert_matches(response, "/transfer-orders/", "post")["_tag"] == "BadRequestError"
    same = world.transfer(investor, source, source, {"type": "total"})
    assert assert_matches(same, "/transfer-orders/", "post")["_tag"] == "BadRequestError"
    assert world.transfer(investor, source, theirs, {"type": "total"}).status_code == 404
    assert world.transfer(investor, source, random_id(), {"type": "total"}).status_code == 404
    forbidden = world.transfer(
        investor, source, target, {"type": "total"}, investor_id=other_investor.investor_id
    )
    assert forbidden.status_code == 403
    # Nothing moved.
    assert world.holdings(source) == Decimal("9566.63158") and world.holdings(target) == 0


def test_pending_withdrawals_are_not_transferable(world, investor, accounts):
    source, target = accounts
    bank = world.bank_account(investor)
    assert world.withdraw(investor, source, bank, {"mode": "shares", "shares": "9000"}).status_code == 200
    response = world.transfer(investor, source, target, {"type": "total"})
    assert response.json()["sharesAmount"] == "566.63158"


def test_transfer_isolation(world, investor, other_investor, accounts):
    source, target = accounts
    order = world.transfer(investor, source, target, {"type": "total"}).json()
    assert (
        world.client.get(f"/v1/transfer-orders/{order['id']}", headers=other_investor.basic).status_code
        == 404
    )
    forbidden = world.client.get(
        "/v1/transfer-orders", params={"investorId": investor.investor_id}, headers=other_investor.basic
    )
    assert forbidden.status_code == 403


def test_no_nav_no_transfer(world, investor):
    source = world.account(investor, "UKTBL")
    target = world.account(investor, "UKTBL")
    response = world.client.post(
        "/v1/transfer-orders",
        json={
            "investorId": investor.investor_id,
            "fromAccountId": source,
            "toAccountId": target,
            "shareClassId": world.share_classes["UKTBL"],
            "transferAmount": {"type": "total"},
        },
        headers=investor.basic,
    )
    body = assert_matches(response, "/transfer-orders/", "post")
    assert body["_tag"] == "BadRequestError" and "no NAV" in body["reason"]
