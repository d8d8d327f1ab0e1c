"""Fixtures for reporting: seeded share classes and histories of orders built through the services."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from spiko.context import AppContext
from spiko.errors import ApiError
from spiko.presenters.operations import execution_summary
from spiko.services import (
    accounts,
    bank_accounts,
    clock,
    deposits,
    execution,
    orders,
    reference,
    seed,
    transfers,
    withdrawals,
)
from tests.conftest import InvestorFixture

START = date(2025, 1, 6)  # a Monday
IBANS = ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606"]


@dataclass
class Ledger:
    """A world of share classes and NAVs, where tests act through the orders services day by day."""

    ctx: AppContext
    client: TestClient
    share_classes: dict[str, str]
    navs: dict[str, Decimal] = field(default_factory=dict)
    today: date = START - timedelta(days=1)
    banks: dict[str, str] = field(default_factory=dict)

    def account(self, investor: InvestorFixture, symbol: str = "EUTBL", name: str | None = None) -> str:
        with self.ctx.transaction() as session:
            return accounts.create_account(
                session,
                investor_id=investor.investor_id,
                share_class_id=self.share_classes[symbol],
                name=name,
            ).id

    def bank(self, investor: InvestorFixture) -> str:
        if investor.investor_id not in self.banks:
            with self.ctx.transaction() as session:
                self.banks[investor.investor_id] = bank_accounts.add_bank_account(
                    session,
                    investor_id=investor.investor_id,
                    iban=IBANS[len(self.banks) % 3],
                    bic="DEUTDEFFXXX",
                    name="Treasury bank",
                ).id
        return self.banks[investor.investor_id]

    def next_day(
        self, *, publish: bool = True, rate: Decimal = Decimal("0.035"), rng: random.Random | None = None
    ) -> date:
        """Move the clock one calendar day; on a weekday publish each share class's NAV."""
        day = self.today + timedelta(days=1)
        with self.ctx.transaction() as session:
            clock.set_today(session, day)
            if publish and day.weekday() < 5:
                for symbol, share_class_id in self.share_classes.items():
                    previous = self.navs.get(symbol, Decimal("1.000000"))
                    noise = Decimal(rng.randint(-3, 3)) / Decimal(1_000_000) if rng else Decimal(0)
                    grown = previous * (1 + rate / 365 * (3 if day.weekday() == 0 else 1)) + noise
                    value = grown.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
                    reference.publish_nav(session, share_class_id, day, value)
                    self.navs[symbol] = value
        self.today = day
        return day

    def deposit(self, investor: InvestorFixture, account_id: str, amount: str, symbol: str = "EUTBL") -> str:
        """Create and fund a deposit (it executes at the next ``execute``)."""
        with self.ctx.transaction() as session:
            sc = reference.get_share_class(session, self.share_classes[symbol])
            order = deposits.create_deposit(
                session,
                investor_id=investor.investor_id,
                account_id=account_id,
                share_class_id=sc.id,
                amount=Decimal(amount),
                currency=sc.currency,
            )
            deposits.fund_deposit(session, reference_text=order.wire_reference)
            return order.id

    def withdraw(
        self, investor: InvestorFixture, account_id: str, symbol: str = "EUTBL", **quantity: Any
    ) -> str:
        bank_id = self.bank(investor)
        with self.ctx.transaction() as session:
            sc = reference.get_share_class(session, self.share_classes[symbol])
            order = withdrawals.create_withdrawal(
                session,
                investor_id=investor.investor_id,
                account_id=account_id,
                share_class_id=sc.id,
                bank_account_id=bank_id,
                currency=sc.currency,
                **quantity,
            )
            return order.id

    def transfer(
        self, investor: InvestorFixture, source: str, target: str, shares: Decimal, symbol: str = "EUTBL"
    ) -> str:
        with self.ctx.transaction() as session:
            return transfers.create_transfer(
                session,
                investor_id=investor.investor_id,
                from_account_id=source,
                to_account_id=target,
                share_class_id=self.share_classes[symbol],
                mode="in-shares",
                shares=shares,
            ).id

    def execute(self) -> dict[str, Any]:
        with self.ctx.transaction() as session:
            return execution_summary(execution.execute_orders(session, self.today))

    def available(self, account_id: str, symbol: str = "EUTBL") -> Decimal:
        with self.ctx.transaction(write=False) as session:
            return orders.available(session, account_id, self.share_classes[symbol])

    def holdings(self, account_id: str, symbol: str = "EUTBL") -> Decimal:
        with self.ctx.transaction(write=False) as session:
            return orders.holdings(session, account_id, self.share_classes[symbol])


def random_history(
    ledger: Ledger,
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
                    ledger.deposit(investor, account_id, str(amount), symbol)
                elif action < 0.75:
                    if day.weekday() >= 5:
                        continue
                    available = ledger.available(account_id, symbol)
                    if available <= 0:
                        continue
                    choice = rng.random()
                    if choice < 0.1:
                        ledger.withdraw(investor, account_id, symbol, mode="total")
                    elif choice < 0.55:
                        shares = (available * Decimal(rng.uniform(0.05, 0.6))).quantize(
                            Decimal("0.00001"), rounding=ROUND_DOWN
                        )
                        if shares <= 0:
                            continue
                        ledger.withdraw(investor, account_id, symbol, mode="shares", shares=shares)
                    else:
                        worth = available * ledger.navs[symbol]
                        amount = (worth * Decimal(rng.uniform(0.05, 0.5))).quantize(
                            Decimal("0.01"), rounding=ROUND_DOWN
                        )
                        if amount < 100:
                            continue
                        ledger.withdraw(investor, account_id, symbol, mode="amount", amount=amount)
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
                    ledger.transfer(investor, account_id, rng.choice(others), shares, symbol)
                count += 1
            except ApiError:
                continue
        if day.weekday() < 5:
            ledger.execute()
    return count


@pytest.fixture
def ledger(ctx: AppContext, client: TestClient) -> Ledger:
    with ctx.transaction() as session:
        clock.set_today(session, START - timedelta(days=1))
        share_classes = seed.seed_reference_data(session, until_year=2024)
        ids = {symbol: sc.id for symbol, sc in share_classes.items() if symbol in ("EUTBL", "USTBL")}
    return Ledger(ctx, client, ids)
