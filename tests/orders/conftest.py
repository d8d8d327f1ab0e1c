"""Fixtures for the orders area: seeded share classes on a fixed sandbox day, and order helpers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from spiko.context import AppContext
from spiko.presenters.operations import execution_summary
from spiko.services import bank_accounts, clock, deposits, execution, orders, reference, seed
from tests.conftest import InvestorFixture
from tests.spec import assert_matches

# Monday 2025-03-03: a business day of every fund, with a Friday NAV behind it.
TODAY = date(2025, 3, 3)
PREVIOUS = date(2025, 2, 28)
IBANS = ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606"]


@dataclass
class World:
    ctx: AppContext
    client: TestClient
    share_classes: dict[str, str]
    today: date = TODAY
    _ibans: dict[str, int] = field(default_factory=dict)

    # --- reference data and the clock ------------------------------------------------------------

    def publish(self, symbol: str, day: date, value: str) -> None:
        with self.ctx.transaction() as session:
            reference.publish_nav(session, self.share_classes[symbol], day, Decimal(value))

    def set_today(self, day: date) -> None:
        with self.ctx.transaction() as session:
            clock.set_today(session, day)
        self.today = day

    # --- objects -----------------------------------------------------------------------------------

    def account(self, investor: InvestorFixture, symbol: str = "EUTBL", name: str | None = None) -> str:
        body: dict[str, Any] = {
            "type": "internal",
            "investorId": investor.investor_id,
            "shareClassId": self.share_classes[symbol],
        }
        if name:
            body["name"] = name
        response = self.client.post("/v1/accounts", json=body, headers=investor.basic)
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def bank_account(self, investor: InvestorFixture, currency: str = "EUR") -> str:
        index = self._ibans.get(investor.investor_id, 0)
        self._ibans[investor.investor_id] = index + 1
        with self.ctx.transaction() as session:
            row = bank_accounts.add_bank_account(
                session,
                investor_id=investor.investor_id,
                iban=IBANS[index],
                bic="DEUTDEFFXXX",
                name=f"Main {index}",
                currency=currency,
            )
            return row.id

    def deposit(
        self,
        investor: InvestorFixture,
        account_id: str,
        value: str,
        symbol: str = "EUTBL",
        currency: str = "EUR",
    ) -> Any:
        response = self.client.post(
            "/v1/deposit-orders",
            json={
                "accountId": account_id,
                "shareClassId": self.share_classes[symbol],
                "amount": {"value": value, "currency": currency},
            },
            headers=investor.basic,
        )
        assert_matches(response, "/deposit-orders/", "post")
        return response

    def fund(self, wire_reference: str, day: date | None = None) -> None:
        with self.ctx.transaction() as session:
            deposits.fund_deposit(session, reference_text=wire_reference, day=day)

    def execute(self, day: date | None = None) -> dict[str, Any]:
        with self.ctx.transaction() as session:
            return execution_summary(execution.execute_orders(session, day))

    def invest(
        self,
        investor: InvestorFixture,
        account_id: str,
        value: str,
        symbol: str = "EUTBL",
        currency: str = "EUR",
    ) -> str:
        """Deposit, fund and execute today; returns the deposit order's id."""
        created = self.deposit(investor, account_id, value, symbol, currency)
        assert created.status_code == 200, created.text
        self.fund(created.json()["wireInstructions"]["reference"])
        self.execute()
        return str(created.json()["id"])

    def holdings(self, account_id: str, symbol: str = "EUTBL") -> Decimal:
        with self.ctx.transaction(write=False) as session:
            return orders.holdings(session, account_id, self.share_classes[symbol])

    def withdraw(
        self,
        investor: InvestorFixture,
        account_id: str,
        bank_id: str,
        quantity: dict[str, Any],
        symbol: str = "EUTBL",
    ) -> Any:
        return self.client.post(
            "/v1/withdrawal-orders",
            json={
                "accountId": account_id,
                "shareClassId": self.share_classes[symbol],
                "destination": {"type": "bank-transfer", "bankAccountId": bank_id},
                "quantity": quantity,
            },
            headers=investor.basic,
        )

    def transfer(
        self,
        investor: InvestorFixture,
        source: str,
        target: str,
        amount: dict[str, Any],
        *,
        investor_id: str | None = None,
        symbol: str = "EUTBL",
    ) -> Any:
        return self.client.post(
            "/v1/transfer-orders",
            json={
                "investorId": investor_id or investor.investor_id,
                "fromAccountId": source,
                "toAccountId": target,
                "shareClassId": self.share_classes[symbol],
                "transferAmount": amount,
            },
            headers=investor.basic,
        )


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> Any:
    """Run ``spiko ...`` in-process on the test database; returns (exit code, parsed stdout, stderr)."""
    from spiko.cli import main

    monkeypatch.setenv("SPIKO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SPIKO_SECRET_KEY", settings.secret_key)
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, Any, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        out = json.loads(captured.out) if captured.out.strip() else None
        return code, out, captured.err

    return run


@pytest.fixture
def world(ctx: AppContext, client: TestClient) -> World:
    with ctx.transaction() as session:
        clock.set_today(session, TODAY)
        share_classes = seed.seed_reference_data(session, until_year=2026)
        ids = {symbol: sc.id for symbol, sc in share_classes.items()}
        reference.publish_nav(session, ids["EUTBL"], PREVIOUS, Decimal("1.045000"))
        reference.publish_nav(session, ids["USTBL"], PREVIOUS, Decimal("1.062000"))
    return World(ctx, client, ids)


def random_id() -> str:
    return str(uuid.uuid4())


def assert_component(response: Any, component: str) -> Any:
    """Validate a body against one of the reference's component schemas (for errors the reference
    documents under another status than the one this service answers with)."""
    from jsonschema import Draft202012Validator

    from spiko.api.ops import load_spec

    document = load_spec("investor")
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    body = response.json()
    errors = list(Draft202012Validator(schema).iter_errors(body))
    assert not errors, [e.message for e in errors]
    return body
