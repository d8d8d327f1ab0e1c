"""Concurrent requests on a real server with several workers: no overdraft, idempotent POSTs act once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from spiko.db.models.orders import DepositOrder, WithdrawalOrder
from tests.conftest import create_investor, start_server, stop_server
from tests.orders.conftest import TODAY

pytestmark = pytest.mark.server

RACERS = 12


@pytest.fixture
def server(database_url, tmp_path, world):
    try:
        live = start_server(database_url, tmp_path, workers=3)
    except RuntimeError:
        # Three workers importing the app can miss the 30 s start window on a loaded machine;
        # one more try tells a slow start from a broken one.
        live = start_server(database_url, tmp_path, workers=3)
    yield live
    stop_server(live)


def fire(requests):
    """Send every request at once (one thread each) and return the responses in order."""
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(lambda send: send(), requests))


def racing_withdrawals_never_overdraw(world, investor, server):
    account = world.account(investor)
    bank = world.bank_account(investor)
    world.invest(investor, account, "10000.00")  # 9566.63158 shares: room for 4 withdrawals of 2000
    body = {
        "accountId": account,
        "shareClassId": world.share_classes["EUTBL"],
        "destination": {"type": "bank-transfer", "bankAccountId": bank},
        "quantity": {"mode": "shares", "shares": "2000"},
    }
    with httpx.Client(base_url=server.url, headers=investor.basic, timeout=30) as http:
        responses = fire([lambda: http.post("/v1/withdrawal-orders", json=body) for _ in range(RACERS)])
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 4 + [400] * (RACERS - 4), [r.text for r in responses]
    refused = [r.json() for r in responses if r.status_code == 400]
    assert all(r["_tag"] == "InsufficientBalanceError" and r["payload"]["type"] == "shares" for r in refused)
    with world.ctx.transaction(write=False) as session:
        pending = session.scalar(
            select(func.count())
            .select_from(WithdrawalOrder)
            .where(WithdrawalOrder.status == "pending", WithdrawalOrder.account_id == account)
        )
    assert pending == 4
    world.execute()
    assert world.holdings(account) == Decimal("1566.63158")


def racing_total_withdrawals_and_transfers_leave_nothing_negative(world, investor, server):
    account = world.account(investor)
    other = world.account(investor)
    bank = world.bank_account(investor)
    world.invest(investor, account, "10000.00")
    eutbl = world.share_classes["EUTBL"]
    withdrawal = {
        "accountId": account,
        "shareClassId": eutbl,
        "destination": {"type": "bank-transfer", "bankAccountId": bank},
        "quantity": {"mode": "total"},
    }
    transfer = {
        "investorId": investor.investor_id,
        "fromAccountId": account,
        "toAccountId": other,
        "shareClassId": eutbl,
        "transferAmount": {"type": "total"},
    }
    with httpx.Client(base_url=server.url, headers=investor.basic, timeout=30) as http:
        requests = [lambda: http.post("/v1/withdrawal-orders", json=withdrawal) for _ in range(RACERS // 2)]
        requests += [lambda: http.post("/v1/transfer-orders", json=transfer) for _ in range(RACERS // 2)]
        responses = fire(requests)
    assert sum(response.status_code == 200 for response in responses) == 1, [r.text for r in responses]
    assert all(r.status_code in (200, 400) for r in responses)
    world.execute()
    assert world.holdings(account) + world.holdings(other) in (Decimal(0), Decimal("9566.63158"))
    assert world.holdings(account) >= 0 and world.holdings(other) >= 0


def concurrent_retries_with_one_idempotency_key_act_once(world, investor, server):
    account = world.account(investor)
    body = {
        "accountId": account,
        "shareClassId": world.share_classes["EUTBL"],
        "amount": {"value": "5000.00", "currency": "EUR"},
    }
    headers = {"Idempotency-Key": "concurrent-retry-0001"}
    with httpx.Client(base_url=server.url, headers=investor.basic, timeout=30) as http:
        responses = fire(
            [lambda: http.post("/v1/deposit-orders", json=body, headers=headers) for _ in range(8)]
        )
    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    with world.ctx.transaction(write=False) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(DepositOrder).where(DepositOrder.account_id == account)
            )
            == 1
        )


def test_concurrent_requests_on_a_real_server(world, server):
    """One server (three workers) per database, three races: each on its own investor."""
    world.publish("EUTBL", TODAY, "1.045300")
    racing_withdrawals_never_overdraw(world, create_investor(world.ctx), server)
    racing_total_withdrawals_and_transfers_leave_nothing_negative(world, create_investor(world.ctx), server)
    concurrent_retries_with_one_idempotency_key_act_once(world, create_investor(world.ctx), server)
