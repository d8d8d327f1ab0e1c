"""Fixtures for reporting: the shared test world, and histories of orders booked through the services."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from fastapi.testclient import TestClient

from spiko.context import AppContext
from spiko.errors import ApiError
from tests.conftest import InvestorFixture
from tests.world import World, build_world

START = date(2025, 1, 6)  # a Monday


def random_history(
    ledger: World,
    investor: InvestorFixture,
    account_ids: list[str],
    *,
    days: int,
    seed_value: int = 7,
    symbol: str = "EUTBL",
) -> int:
    """Walk ``days`` calendar days of random deposits, withdrawals and transfers; returns the order count."""
    rng = random.Random(seed_value)
    count = 0
    for _ in range(days):
        day = ledger.next_day(rng=rng)
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            action = rng.random()
            account_id = rng.choice(account_ids)
            try:
                if action < 0.45 or ledger.holdings(account_id, symbol) == 0:
                    if day.weekday() >= 5:
                        continue
                    amount = Decimal(rng.randint(100_000, 5_000_000)) / 100
                    ledger.book_deposit(investor, account_id, str(amount), symbol)
                elif action < 0.75:
                    if day.weekday() >= 5:
                        continue
                    available = ledger.available(account_id, symbol)
                    if available <= 0:
                        continue
                    choice = rng.random()
                    if choice < 0.1:
                        ledger.book_withdrawal(investor, account_id, symbol, mode="total")
                    elif choice < 0.55:
                        shares = (available * Decimal(rng.uniform(0.05, 0.6))).quantize(
                            Decimal("0.00001"), rounding=ROUND_DOWN
                        )
                        if shares <= 0:
                            continue
                        ledger.book_withdrawal(investor, account_id, symbol, mode="shares", shares=shares)
                    else:
                        worth = available * ledger.navs[symbol]
                        amount = (worth * Decimal(rng.uniform(0.05, 0.5))).quantize(
                            Decimal("0.01"), rounding=ROUND_DOWN
                        )
                        if amount < 100:
                            continue
                        ledger.book_withdrawal(investor, account_id, symbol, mode="amount", amount=amount)
                else:
                    others = [a for a in account_ids if a != account_id]
                    available = ledger.available(account_id, symbol)
                    if not others or available <= 0:
                        continue
                    shares = (available * Decimal(rng.uniform(0.05, 0.9))).quantize(
                        Decimal("0.00001"), rounding=ROUND_DOWN
                    )
                    if shares <= 0:
                        continue
                    ledger.book_transfer(investor, account_id, rng.choice(others), shares, symbol)
                count += 1
            except ApiError:
                continue
        if day.weekday() < 5:
            ledger.execute()
    return count


@pytest.fixture
def ledger(ctx: AppContext, client: TestClient) -> World:
    """The shared test world the day before ``START``, acting on EUTBL and USTBL, no NAV yet."""
    return build_world(
        ctx, START - timedelta(days=1), client=client, until_year=2024, symbols=("EUTBL", "USTBL")
    )
