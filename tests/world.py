"""The test world every area builds on: investors with API keys, reference data on a fixed sandbox day,
NAVs, bank accounts, and orders placed the investor's way (through the API) or booked the back office's
way (through the services), executed day by day.

``build_world`` seeds a database and returns a ``World``; each area's conftest picks its day and data
(``world`` for orders, ``ledger`` for reporting, ``seeded`` for reference data, ``market`` for the SDK).
"""

from __future__ import annotations

import base64
import html
import random
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from spiko.context import AppContext
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

IBANS = ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606"]
PASSWORD = "correct horse battery"

# --- investors ----------------------------------------------------------------------------------------


@dataclass
class InvestorFixture:
    investor_id: str
    email: str
    password: str
    client_id: str
    client_secret: str

    @property
    def basic(self) -> dict[str, str]:
        return basic_auth(self.client_id, self.client_secret)


def basic_auth(client_id: str, client_secret: str) -> dict[str, str]:
    raw = f"{client_id}:{client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def create_investor(
    ctx: AppContext, *, name: str | None = None, investor_type: str = "organization"
) -> InvestorFixture:
    """An investor, its sign-in (``email``/``password``) and one API key."""
    from spiko.services import identity

    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    with ctx.transaction() as session:
        investor, _ = identity.create_investor(
            session,
            name=name or f"Investor {email[:15]}",
            email=email,
            password=PASSWORD,
            investor_type=investor_type,
            tax_identification_number="FR123" if investor_type == "individual" else None,
        )
        key = identity.create_api_key(
            session, ctx.api_keys, investor_id=investor.id, name="test key", max_live_keys=20
        )
    return InvestorFixture(investor.id, email, PASSWORD, key.client_id, key.client_secret)


# --- the investor app's pages -------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: str) -> str:
    """The CSRF token a page's form carries."""
    match = CSRF_RE.search(page)
    assert match, "the page carries no csrf_token"
    return html.unescape(match.group(1))


def sign_in(client: Any, email: str, password: str, next_path: str = "") -> Any:
    """Post the sign-in form as a browser does; the answer (a 303 when it worked)."""
    data = {"email": email, "password": password, "csrf_token": csrf_token(client.get("/login").text)}
    if next_path:
        data["next"] = next_path
    return client.post("/login", data=data, follow_redirects=False)


# --- reference data, accounts and orders --------------------------------------------------------------


@dataclass
class World:
    """Share classes on a sandbox day, and the ways tests act on them.

    ``client`` (a test client of the app on the same database) is what the API methods use; the
    back-office methods act through the services, in a transaction each, as operators' commands do.
    """

    ctx: AppContext
    share_classes: dict[str, str]  # symbol -> id
    fund_ids: dict[str, str]  # symbol -> fund id
    today: date
    client: Any = None
    navs: dict[str, Decimal] = field(default_factory=dict)  # the latest NAV published per symbol
    banks: dict[str, list[str]] = field(default_factory=dict)  # investor id -> bank account ids

    def id(self, symbol: str) -> str:
        return self.share_classes[symbol]

    def investor(self, name: str | None = None, investor_type: str = "organization") -> InvestorFixture:
        return create_investor(self.ctx, name=name, investor_type=investor_type)

    # --- the clock and NAVs --------------------------------------------------------------------------

    def set_today(self, day: date) -> None:
        with self.ctx.transaction() as session:
            clock.set_today(session, day)
        self.today = day

    def publish(self, symbol: str, day: date, value: str | Decimal) -> None:
        with self.ctx.transaction() as session:
            reference.publish_nav(session, self.share_classes[symbol], day, Decimal(value))
        self.navs[symbol] = Decimal(value)

    def next_day(
        self, *, publish: bool = True, rate: Decimal = Decimal("0.035"), rng: random.Random | None = None
    ) -> date:
        """Move the clock one calendar day; on a weekday publish each share class's NAV, grown at ``rate``
        a year (with a few millionths of noise drawn from ``rng``)."""
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

    # --- bank accounts (an operator registers them) --------------------------------------------------

    def bank_account(self, investor: InvestorFixture, currency: str = "EUR") -> str:
        """Register another bank account of the investor (a different IBAN each time, up to three)."""
        held = self.banks.setdefault(investor.investor_id, [])
        index = len(held)
        with self.ctx.transaction() as session:
            row = bank_accounts.add_bank_account(
                session,
                investor_id=investor.investor_id,
                iban=IBANS[index],
                bic="DEUTDEFFXXX",
                name=f"Main {index}",
                currency=currency,
            )
            held.append(row.id)
            return row.id

    def bank(self, investor: InvestorFixture) -> str:
        """The investor's first bank account, registered if need be."""
        held = self.banks.get(investor.investor_id)
        return held[0] if held else self.bank_account(investor)

    # --- the investor's way: through the API ---------------------------------------------------------

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

    def deposit(
        self,
        investor: InvestorFixture,
        account_id: str,
        value: str,
        symbol: str = "EUTBL",
        currency: str = "EUR",
    ) -> Any:
        from tests.spec import assert_matches

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

    # --- the back office's way: through the services -------------------------------------------------

    def open_account(self, investor: InvestorFixture, symbol: str = "EUTBL", name: str | None = None) -> str:
        with self.ctx.transaction() as session:
            return accounts.create_account(
                session,
                investor_id=investor.investor_id,
                share_class_id=self.share_classes[symbol],
                name=name,
            ).id

    def book_deposit(
        self, investor: InvestorFixture, account_id: str, amount: str, symbol: str = "EUTBL"
    ) -> str:
        """Create and fund a deposit (it executes at the next ``execute``); its id."""
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

    def book_withdrawal(
        self, investor: InvestorFixture, account_id: str, symbol: str = "EUTBL", **quantity: Any
    ) -> str:
        """A withdrawal to the investor's bank account; ``quantity`` as the service takes it."""
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

    def book_transfer(
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

    def fund(self, wire_reference: str, day: date | None = None) -> None:
        with self.ctx.transaction() as session:
            deposits.fund_deposit(session, reference_text=wire_reference, day=day)

    def execute(self, day: date | None = None) -> dict[str, Any]:
        """Execute the orders due (on ``day``, by default the sandbox clock's today); the summary."""
        with self.ctx.transaction() as session:
            return execution_summary(execution.execute_orders(session, day))

    def holdings(self, account_id: str, symbol: str = "EUTBL") -> Decimal:
        with self.ctx.transaction(write=False) as session:
            return orders.holdings(session, account_id, self.share_classes[symbol])

    def available(self, account_id: str, symbol: str = "EUTBL") -> Decimal:
        with self.ctx.transaction(write=False) as session:
            return orders.available(session, account_id, self.share_classes[symbol])


def build_world(
    ctx: AppContext,
    today: date,
    *,
    client: Any = None,
    until_year: int | None = None,
    symbols: Iterable[str] | None = None,
    history: bool = False,
    navs: Iterable[tuple[str, date, str]] = (),
) -> World:
    """Seed funds, share classes and calendars (holidays ``until_year``) with the sandbox clock on
    ``today``; with ``history``, NAV and FX history up to ``today``; then publish ``navs``
    (symbol, day, value). ``symbols`` narrows the share classes the world acts on."""
    with ctx.transaction() as session:
        clock.set_today(session, today)
        share_classes = seed.seed_reference_data(session, until_year=until_year)
        if history:
            seed.seed_history(session, today)
    wanted = set(symbols) if symbols is not None else set(share_classes)
    world = World(
        ctx,
        {symbol: sc.id for symbol, sc in share_classes.items() if symbol in wanted},
        {symbol: sc.fund_id for symbol, sc in share_classes.items() if symbol in wanted},
        today,
        client,
    )
    for symbol, day, value in navs:
        world.publish(symbol, day, value)
    return world
