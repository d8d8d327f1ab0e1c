"""One whole cycle through the API: account, deposit, funding, execution, withdrawal, transfer."""

from __future__ import annotations

from decimal import Decimal

from tests.orders.conftest import TODAY
from tests.spec import assert_matches


def test_a_whole_cycle(world, investor):
    account = world.account(investor)
    second = world.account(investor, name="Reserve")
    bank = world.bank_account(investor)
    world.publish("EUTBL", TODAY, "1.045300")
    created = world.deposit(investor, account, "10000.00").json()
    assert created["status"] == "created"
    world.fund(created["wireInstructions"]["reference"])
    summary = world.execute()
    assert summary["depositsExecuted"] == 1
    # 10000 / 1.0453 = 9566.631589... -> 9566.63158 (5 decimals, rounded down)
    assert world.holdings(account) == Decimal("9566.63158")
    order = world.client.get(f"/v1/deposit-orders/{created['id']}", headers=investor.basic)
    assert assert_matches(order, "/deposit-orders/{depositOrderId}")["status"] == "executed"

    withdrawal = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "1000"})
    assert_matches(withdrawal, "/withdrawal-orders/", "post")
    assert withdrawal.status_code == 200, withdrawal.text
    transfer = world.transfer(investor, account, second, {"type": "in-shares", "sharesAmount": "500"})
    assert_matches(transfer, "/transfer-orders/", "post")
    assert transfer.status_code == 200, transfer.text
    assert world.holdings(second) == Decimal("500")
    world.execute()
    assert world.holdings(account) == Decimal("8066.63158")
    executed = world.client.get(f"/v1/withdrawal-orders/{withdrawal.json()['id']}", headers=investor.basic)
    assert assert_matches(executed, "/withdrawal-orders/{withdrawalOrderId}")["status"] == "executed"
