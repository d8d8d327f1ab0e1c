"""The demo investor's year of activity seeded by ``spiko serve --demo``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import DepositOrder, TransferOrder, WithdrawalOrder
from spiko.services import clock, seed
from tests.conftest import create_investor
from tests.spec import assert_matches

DEMO_TODAY = date(2025, 11, 28)


def test_demo_activity_is_a_consistent_year_of_orders(ctx, client):
    demo = create_investor(ctx, name="Demo Treasury SAS")
    with ctx.transaction() as session:
        clock.set_today(session, DEMO_TODAY)
        seed.seed_demo_funds(session, investor_id=demo.investor_id)
    with ctx.transaction() as session:
        seed.seed_demo_funds(session, investor_id=demo.investor_id)  # again: seeds nothing more
    with ctx.transaction(write=False) as session:
        deposits = list(session.scalars(select(DepositOrder)))
        withdrawals = list(session.scalars(select(WithdrawalOrder)))
        transfers = list(session.scalars(select(TransferOrder)))
        movements = list(session.scalars(select(ShareMovement)))
    assert len(deposits) == 5 and all(d.status == "executed" for d in deposits)
    assert len(withdrawals) == 3 and all(w.status == "executed" for w in withdrawals)
    assert len(transfers) == 1
    assert len(movements) == 5 + 3 + 2
    days = [m.day for m in movements]
    assert min(days) >= date(2024, 11, 28) and max(days) < DEMO_TODAY
    assert all(m.executed_at.date() == m.day for m in movements)
    per_account: dict[str, Decimal] = {}
    for movement in movements:
        per_account[movement.account_id] = per_account.get(movement.account_id, Decimal(0)) + movement.shares
    assert all(holding > 0 for holding in per_account.values())

    accounts = client.get("/v1/accounts", params={"investorId": demo.investor_id}, headers=demo.basic)
    assert [a["name"] for a in assert_matches(accounts, "/accounts/")] == [
        "Treasury",
        "Reserve",
        "Dollar treasury",
    ]
    listed = client.get("/v1/deposit-orders", params={"investorId": demo.investor_id}, headers=demo.basic)
    assert len(assert_matches(listed, "/deposit-orders/")) == 5
    redemptions = client.get(
        "/v1/redemption-orders", params={"investorId": demo.investor_id}, headers=demo.basic
    )
    assert len(assert_matches(redemptions, "/redemption-orders/")) == 3
    banks = client.get("/v1/bank-accounts", params={"investorId": demo.investor_id}, headers=demo.basic)
    assert assert_matches(banks, "/bank-accounts/")[0]["name"] == "Main operating account"
