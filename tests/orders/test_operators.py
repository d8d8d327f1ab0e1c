"""Operator commands: ``spiko deposits fund``, ``spiko orders execute`` and ``spiko sandbox advance``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from spiko.services import clock
from tests.orders.conftest import TODAY
from tests.spec import assert_matches


def test_fund_then_execute_from_the_command_line(world, investor, cli):
    account = world.account(investor)
    created = world.deposit(investor, account, "10000.00").json()
    reference = created["wireInstructions"]["reference"]

    code, funded, _ = cli("deposits", "fund", "--reference", reference, "--amount", "10000")
    assert code == 0
    assert funded["id"] == created["id"] and funded["status"] == "pending" and funded["fundedAt"]
    code, _, err = cli("deposits", "fund", "--reference", reference)
    assert code == 1 and "already funded" in err

    code, summary, _ = cli("orders", "execute")
    assert code == 0 and summary["depositsExecuted"] == 0 and summary["waitingForNav"] == ["EUTBL"]
    code, nav, _ = cli(
        "nav", "publish", "--share-class", "EUTBL", "--day", TODAY.isoformat(), "--value", "1.0453"
    )
    assert code == 0
    code, summary, _ = cli("orders", "execute", "--day", TODAY.isoformat())
    assert code == 0
    assert summary["day"] == TODAY.isoformat() and summary["depositsExecuted"] == 1
    assert summary["deposits"][0]["shares"] == "9566.63158"
    order = world.client.get(f"/v1/deposit-orders/{created['id']}", headers=investor.basic)
    assert assert_matches(order, "/deposit-orders/{depositOrderId}")["status"] == "executed"

    code, _, err = cli("orders", "execute", "--day", "2030-01-01")
    assert code == 1 and "after today" in err
    code, _, err = cli("deposits", "fund", "--reference", "UNKNOWN1")
    assert code == 1 and "UNKNOWN1" in err


def test_sandbox_advance_walks_business_days(world, investor, cli):
    account = world.account(investor)
    bank = world.bank_account(investor)
    world.publish("EUTBL", TODAY, "1.045300")
    world.invest(investor, account, "10000.00")
    pending = world.deposit(investor, account, "5000.00").json()
    withdrawal = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "1000"}).json()
    # From Monday, three business days: Tuesday, Wednesday, Thursday.
    code, summary, _ = cli("sandbox", "advance", "--days", "3")
    assert code == 0, summary
    assert summary["days"] == 3 and summary["today"] == "2025-03-06"
    # Each day publishes one NAV for EUTBL, USTBL (UKTBL has no NAV history to grow from).
    assert [step["day"] for step in summary["steps"]] == ["2025-03-04", "2025-03-05", "2025-03-06"]
    assert summary["navsPublished"] == 6
    assert summary["depositsFunded"] == 1 and summary["ordersExecuted"] == 2
    first = summary["steps"][0]
    assert first["depositsFunded"] == [pending["wireInstructions"]["reference"]]
    assert {w["id"] for w in first["execution"]["withdrawals"]} == {withdrawal["id"]}
    eutbl_navs = [
        Decimal(nav["value"])
        for step in summary["steps"]
        for nav in step["navsPublished"]
        if nav["shareClass"] == "EUTBL"
    ]
    assert Decimal("1.045300") < eutbl_navs[0] < eutbl_navs[1] < eutbl_navs[2] < Decimal("1.0457")
    with world.ctx.transaction(write=False) as session:
        assert clock.today(session) == date(2025, 3, 6)
    deposit = world.client.get(f"/v1/deposit-orders/{pending['id']}", headers=investor.basic).json()
    assert deposit["status"] == "executed" and deposit["executedAt"].startswith("2025-03-04")
    # 9566.63158 - 1000 + floor(5000 / NAV of 2025-03-04)
    bought = (Decimal(5000) / eutbl_navs[0]).quantize(Decimal("0.00001"), rounding="ROUND_DOWN")
    assert world.holdings(account) == Decimal("8566.63158") + bought


def test_sandbox_advance_skips_weekends_and_validates_days(world, cli):
    world.set_today(date(2025, 3, 7))  # a Friday
    code, summary, _ = cli("sandbox", "advance")
    assert code == 0 and summary["today"] == "2025-03-10" and summary["days"] == 1
    assert summary["ordersExecuted"] == 0
    for bad in ("0", "-1", "x"):
        code, _, err = cli("sandbox", "advance", "--days", bad)
        assert code == 2 and len(err.strip().splitlines()) == 1  # a usage error
