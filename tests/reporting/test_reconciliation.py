"""A year of random orders, built through the orders services, reconciles to the cent every day."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from spiko.db.models.ledger import ShareMovement
from spiko.services.reporting.positions import _navs
from tests.conftest import InvestorFixture
from tests.reporting.conftest import START, random_history
from tests.spec import assert_matches
from tests.world import World

CENT = Decimal("0.01")


def _d(amount: dict[str, str]) -> Decimal:
    assert amount["currency"] == "EUR"
    return Decimal(amount["value"])


def _all_pages(client: TestClient, investor: InvestorFixture, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = assert_matches(
            client.get("/v1/account-transactions", params=query, headers=investor.basic),
            "/account-transactions/",
        )
        items += page["items"]
        if not page["hasMore"]:
            return items
        cursor = page["nextCursor"]
    raise AssertionError("too many pages")


def test_a_year_of_orders_reconciles_to_the_cent(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    books = [ledger.open_account(investor, name=f"Book {index}") for index in range(3)]
    count = random_history(ledger, investor, books, days=372, seed_value=11)
    assert count >= 250, count
    sc = ledger.share_classes["EUTBL"]
    first, last = START, ledger.today
    period = {"from": first.isoformat(), "to": last.isoformat()}
    with ledger.ctx.transaction(write=False) as session:
        navs = _navs(session, sc, first, last)
        movements: dict[tuple[str, date, str], Decimal] = defaultdict(Decimal)
        for row in session.scalars(select(ShareMovement).where(ShareMovement.share_class_id == sc)):
            # A transfer between one investor's own accounts counts at the cost basis it carries.
            carried = row.cost if row.kind.startswith("transfer") and row.cost is not None else None
            movements[(row.account_id, row.day, row.kind)] += row.amount if carried is None else carried
    assert len({key[1] for key in movements}) > 150  # movements on most business days

    histories: dict[str, list[dict[str, Any]]] = {}
    for book in books:
        response = client.get(
            "/v1/accounting-positions/account-history",
            params={"accountId": book, "shareClassId": sc, **period},
            headers=investor.basic,
        )
        days = assert_matches(response, "/accounting-positions/account-history")
        assert len(days) == (last - first).days + 1
        histories[book] = days
        previous_holdings = Decimal(0)
        nav = None
        for day in days:
            current = date.fromisoformat(day["day"])
            nav = navs[current].value if current in navs else nav
            assert day["status"] == ("nav" if current in navs else "noNav")
            shares = Decimal(day["sharesHoldings"]).scaleb(-5)
            holdings = _d(day["holdings"])
            # Every day, holdings = shares x NAV rounded down to the cent (the value of a holding).
            assert holdings == (shares * nav).quantize(CENT, rounding=ROUND_FLOOR)
            of_day = {k: _d(day[k]["ofDay"]) for k in ("subscriptions", "redemptions", "transfers", "yield")}
            # The change in holdings = yield + subscriptions + transfers - redemptions.
            assert holdings - previous_holdings == (
                of_day["yield"] + of_day["subscriptions"] + of_day["transfers"] - of_day["redemptions"]
            )
            # The day's flows are the ledger's, read independently.
            assert of_day["subscriptions"] == movements[(book, current, "subscription")].quantize(CENT)
            assert of_day["redemptions"] == movements[(book, current, "redemption")].quantize(CENT)
            assert of_day["transfers"] == (
                movements[(book, current, "transfer_in")] - movements[(book, current, "transfer_out")]
            ).quantize(CENT)
            assert _d(day["realizedGain"]["total"]) + _d(day["transferredGain"]["total"]) + _d(
                day["totalUnrealizedGain"]
            ) == _d(day["yield"]["total"])
            previous_holdings = holdings
        closing = days[-1]
        assert Decimal(closing["sharesHoldings"]).scaleb(-5) == ledger.holdings(book)
        for flow in ("subscriptions", "redemptions", "transfers", "yield", "realizedGain", "transferredGain"):
            assert sum(_d(day[flow]["ofDay"]) for day in days) == _d(closing[flow]["total"]), flow

        # The sum of the daily yields is the positions' yield total: in the yield history...
        response = client.get(
            "/v1/yields/history",
            params={"accountId": book, "shareClassId": sc, **period},
            headers=investor.basic,
        )
        yields = assert_matches(response, "/yields/history")
        assert sum(_d(item["yield"]) for item in yields) == _d(closing["yield"]["total"])
        # ... and in the yield accruals of the transactions listing, walked page by page.
        accruals = _all_pages(client, investor, accountId=book, transactionType="yield", limit="37")
        assert sum(_d(item["amount"]) for item in accruals) == _d(closing["yield"]["total"])
        assert [item["yieldDay"] for item in accruals] == sorted(
            (item["day"] for item in yields), reverse=True
        )
        # A mid-year window starts from the running totals of the day before it.
        window = client.get(
            "/v1/accounting-positions/account-history",
            params={"accountId": book, "shareClassId": sc, "from": "2025-06-30", "to": "2025-07-02"},
            headers=investor.basic,
        ).json()
        offset = (date(2025, 6, 30) - first).days
        assert window == days[offset : offset + 3]

    # The investor's positions are the sum of its accounts', every day; internal transfers cancel.
    response = client.get(
        "/v1/accounting-positions/history",
        params={"investorId": investor.investor_id, "shareClassId": sc, **period},
        headers=investor.basic,
    )
    combined = assert_matches(response, "/accounting-positions/history")
    for index, day in enumerate(combined):
        parts = [histories[book][index] for book in books]
        assert _d(day["holdings"]) == sum(_d(p["holdings"]) for p in parts)
        assert _d(day["yield"]["total"]) == sum(_d(p["yield"]["total"]) for p in parts)
        assert int(day["sharesHoldings"]) == sum(int(p["sharesHoldings"]) for p in parts)
        assert _d(day["transfers"]["total"]) == 0

    # Portfolio totals = the sum of the positions, to the cent.
    portfolio = assert_matches(
        client.get("/v1/portfolio", params={"investorId": investor.investor_id}, headers=investor.basic),
        "/portfolio/",
    )
    totals = assert_matches(
        client.get(
            "/v1/portfolio/totals", params={"investorId": investor.investor_id}, headers=investor.basic
        ),
        "/portfolio/totals",
    )
    by_account = {total["accountId"]: total for total in totals}
    for item in portfolio["items"]:
        book = item["account"]["id"]
        closing = histories[book][-1]
        assert item["totalSharesAmount"] == closing["holdings"]
        assert item["totalGainSinceStart"] == closing["yield"]["total"]
        if Decimal(closing["sharesHoldings"]) > 0:
            assert by_account[book]["breakdown"] == [closing["holdings"]]
            assert by_account[book]["totalBalance"] == closing["holdings"]
    assert sum(_d(t["totalBalance"]) for t in totals) == _d(combined[-1]["holdings"])
    assert last - first >= timedelta(days=365)
