"""Account transactions (every page), portfolio, accounting positions, statement and yields through
the SDK, against a real server with a few days of history."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from spiko.client import (
    AccountingPosition,
    AccountTransaction,
    Amount,
    ApiKeyAuth,
    AsyncSpikoClient,
    DailyYield,
    SpikoClient,
)
from tests.client.conftest import TODAY, Server
from tests.conftest import InvestorFixture
from tests.world import World

DEPOSITS = 5


@dataclass
class History:
    investor: InvestorFixture
    account_id: str
    share_class_id: str
    first_day: date
    last_day: date


@pytest.fixture(scope="module")
def history(server: Server, market: World) -> History:
    """Five executed deposits, then three business days of NAV growth (daily yield accruals)."""
    investor = server.investor("Reporting Treasury SAS")
    with server.client(investor) as client:
        account = client.accounts.create(market.id("EUTBL"), name="Main")
        for index in range(DEPOSITS):
            created = client.deposit_orders.create(
                account.id, market.id("EUTBL"), Amount(value=Decimal(1000 + index), currency="EUR")
            )
            market.fund(created.wire_instructions.reference)
        market.execute()
    summary = server.cli("sandbox", "advance", "--days", "3")
    clock = server.cli("clock", "show")
    last_day = date.fromisoformat(str(clock.get("today") or clock.get("day")))
    assert summary is not None
    return History(investor, account.id, market.id("EUTBL"), date.fromisoformat(TODAY), last_day)


@pytest.fixture
def client(server: Server, history: History):  # type: ignore[no-untyped-def]
    with server.client(history.investor) as sdk:
        yield sdk


def test_a_page_of_transactions_and_its_cursor(client: SpikoClient, history: History):
    page = client.account_transactions.list(history.account_id, limit=2)
    assert len(page.items) == 2
    assert page.has_more is True and page.next_cursor
    following = client.account_transactions.list(history.account_id, limit=2, cursor=page.next_cursor)
    assert not {item.id for item in page.items} & {item.id for item in following.items}


def test_iter_walks_every_page_newest_first(client: SpikoClient, history: History):
    everything = client.account_transactions.list(history.account_id, limit=1000)
    assert everything.has_more is False
    walked = list(client.account_transactions.iter(history.account_id, limit=2))
    assert all(isinstance(item, AccountTransaction) for item in walked)
    assert [item.id for item in walked] == [item.id for item in everything.items]
    assert len(walked) > 2 * 2  # several pages
    stamps = [item.created_at for item in walked]
    assert stamps == sorted(stamps, reverse=True)
    oldest_first = list(client.account_transactions.iter(history.account_id, direction="asc", limit=3))
    assert [item.id for item in oldest_first] == [item.id for item in reversed(walked)]


def test_transactions_by_type(client: SpikoClient, history: History):
    deposits = list(client.account_transactions.iter(history.account_id, transaction_type="deposit"))
    assert len(deposits) == DEPOSITS
    assert {item.order_type for item in deposits} == {"Subscription"}
    assert sorted(item.amount.value for item in deposits if item.amount) == [
        Decimal(1000 + index) for index in range(DEPOSITS)
    ]
    yields = list(client.account_transactions.iter(history.account_id, transaction_type="yield"))
    assert yields and {item.order_type for item in yields} == {"Yield"}


def test_portfolio_and_totals(client: SpikoClient, history: History):
    portfolio = client.portfolio.get()
    assert portfolio.investor_id == history.investor.investor_id
    (item,) = portfolio.items
    assert item.account["id"] == history.account_id
    assert item.share_class.id == history.share_class_id
    assert isinstance(item.total_number_of_shares, Decimal) and item.total_number_of_shares > 0
    assert item.total_shares_amount.value > Decimal(5010)  # the deposits plus some yield
    (total,) = client.portfolio.totals()
    assert total.account_id == history.account_id
    assert total.total_balance.currency == "EUR"
    assert total.total_balance.value == item.total_shares_amount.value


def test_accounting_positions_and_yields_reconcile(client: SpikoClient, history: History):
    positions = client.accounting_positions.history(
        history.share_class_id, history.first_day, history.last_day
    )
    assert all(isinstance(position, AccountingPosition) for position in positions)
    assert [position.day for position in positions] == [
        history.first_day + timedelta(days=offset)
        for offset in range((history.last_day - history.first_day).days + 1)
    ]
    per_account = client.accounting_positions.account_history(
        history.account_id, history.share_class_id, history.first_day, history.last_day
    )
    assert [position.holdings for position in per_account] == [position.holdings for position in positions]
    yields = client.yields.history(
        history.account_id, history.share_class_id, history.first_day, history.last_day
    )
    assert yields and all(isinstance(item, DailyYield) for item in yields)
    total_yield = sum((item.yield_.value for item in yields), Decimal(0))
    assert total_yield > 0
    assert (
        per_account[-1].yield_.total.value
        - per_account[0].yield_.total.value
        + per_account[0].yield_.of_day.value
        == total_yield
    )


def test_account_statement_is_a_pdf(client: SpikoClient, history: History):
    pdf = client.accounting_positions.account_statement(
        "EUTBL", history.first_day, history.last_day, account_id=history.account_id, locale="fr",
        show_number_of_shares=True,
    )  # fmt: skip
    assert pdf.startswith(b"%PDF")


def test_async_iter_walks_every_page(server: Server, history: History):
    async def main() -> list[str]:
        auth = ApiKeyAuth(history.investor.client_id, history.investor.client_secret)
        async with AsyncSpikoClient(server.url, auth=auth, transport=server.transport) as client:
            return [item.id async for item in client.account_transactions.iter(history.account_id, limit=2)]

    with server.client(history.investor) as sync:
        expected = [item.id for item in sync.account_transactions.list(history.account_id, limit=1000).items]
    assert asyncio.run(main()) == expected
