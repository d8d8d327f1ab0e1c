"""Reporting routes on a small, known history: values, shapes, filters, pages and the statement."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_FLOOR, Decimal
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader

from spiko.db.models.reporting import DailyPosition
from tests.conftest import InvestorFixture
from tests.reporting.conftest import START
from tests.spec import assert_matches
from tests.world import World

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    """The value of a holding: rounded down to the cent."""
    return value.quantize(CENT, rounding=ROUND_FLOOR)


def get(client: TestClient, investor: InvestorFixture, path: str, **params: Any) -> Any:
    return client.get(f"/v1{path}", params=params, headers=investor.basic)


def known_history(ledger: World, investor: InvestorFixture) -> dict[str, Any]:
    """Mon: deposit 10,000 in A. Wed: redeem 1,000 shares. Sat: move 500 shares A -> B. Tue 14th: end."""
    a = ledger.open_account(investor, name="Operating cash")
    b = ledger.open_account(investor, name="Reserve")
    ledger.next_day()  # Monday 6 January
    deposit_id = ledger.book_deposit(investor, a, "10000.00")
    ledger.execute()
    ledger.next_day()  # Tuesday
    ledger.next_day()  # Wednesday
    withdrawal_id = ledger.book_withdrawal(investor, a, mode="shares", shares=Decimal("1000"))
    ledger.execute()
    ledger.next_day()  # Thursday
    ledger.next_day()  # Friday
    ledger.next_day()  # Saturday
    transfer_id = ledger.book_transfer(investor, a, b, Decimal("500"))
    for _ in range(3):  # Sunday to Tuesday
        ledger.next_day()
    return {"a": a, "b": b, "deposit": deposit_id, "withdrawal": withdrawal_id, "transfer": transfer_id}


def test_account_positions_follow_the_rules_day_by_day(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    ids = known_history(ledger, investor)
    sc = ledger.share_classes["EUTBL"]
    response = get(
        client,
        investor,
        "/accounting-positions/account-history",
        accountId=ids["a"],
        shareClassId=sc,
        **{"from": "2025-01-05", "to": "2025-01-14"},
    )
    days = assert_matches(response, "/accounting-positions/account-history")
    assert response.status_code == 200
    assert [d["day"] for d in days] == [(date(2025, 1, 5) + timedelta(days=i)).isoformat() for i in range(10)]
    by_day = {d["day"]: d for d in days}
    # Sunday before the first movement: nothing, no NAV.
    assert by_day["2025-01-05"]["status"] == "noNav" and by_day["2025-01-05"]["holdings"]["value"] == "0.00"
    assert by_day["2025-01-05"]["navId"] is None
    monday = by_day["2025-01-06"]
    assert monday["status"] == "nav" and monday["navId"] is not None
    assert monday["subscriptions"] == {
        "ofDay": {"value": "10000.00", "currency": "EUR"},
        "total": {"value": "10000.00", "currency": "EUR"},
    }
    assert by_day["2025-01-11"]["status"] == "noNav"  # Saturday
    assert by_day["2025-01-11"]["transfers"]["ofDay"]["value"].startswith("-")
    previous = Decimal(0)
    with ledger.ctx.transaction(write=False) as session:
        from spiko.services.reporting.positions import _navs

        navs = _navs(session, sc, date(2025, 1, 1), date(2025, 1, 14))
    nav = None
    for day in days:
        current = date.fromisoformat(day["day"])
        nav = navs[current].value if current in navs else nav
        shares = Decimal(day["sharesHoldings"]).scaleb(-5)
        holdings = Decimal(day["holdings"]["value"])
        assert holdings == (cents(shares * nav) if nav else Decimal(0))
        flows = {
            k: Decimal(day[k]["ofDay"]["value"])
            for k in ("subscriptions", "redemptions", "transfers", "yield")
        }
        assert (
            holdings - previous
            == flows["yield"] + flows["subscriptions"] + flows["transfers"] - flows["redemptions"]
        )
        assert Decimal(day["realizedGain"]["total"]["value"]) + Decimal(
            day["transferredGain"]["total"]["value"]
        ) + Decimal(day["totalUnrealizedGain"]["value"]) == Decimal(day["yield"]["total"]["value"])
        previous = holdings
    last = days[-1]
    assert Decimal(last["sharesHoldings"]) == ledger.holdings(ids["a"]).scaleb(5)
    assert Decimal(last["redemptions"]["total"]["value"]) > 0
    assert Decimal(last["realizedGain"]["total"]["value"]) > 0  # NAV rose between purchase and sale.

    # The investor's positions are the sum of both accounts; the internal transfer nets to zero.
    response = get(
        client,
        investor,
        "/accounting-positions/history",
        investorId=investor.investor_id,
        shareClassId=sc,
        **{"from": "2025-01-05", "to": "2025-01-14"},
    )
    combined = assert_matches(response, "/accounting-positions/history")
    b_days = get(
        client,
        investor,
        "/accounting-positions/account-history",
        accountId=ids["b"],
        shareClassId=sc,
        **{"from": "2025-01-05", "to": "2025-01-14"},
    ).json()
    for total, one, two in zip(combined, days, b_days, strict=True):
        assert sorted(total["accountIds"]) == sorted([ids["a"], ids["b"]])
        assert Decimal(total["holdings"]["value"]) == Decimal(one["holdings"]["value"]) + Decimal(
            two["holdings"]["value"]
        )
        assert int(total["sharesHoldings"]) == int(one["sharesHoldings"]) + int(two["sharesHoldings"])
    assert combined[-1]["transfers"]["total"]["value"] == "0.00"

    # Yield history: the listed days add up to the yield total.
    response = get(
        client,
        investor,
        "/yields/history",
        accountId=ids["a"],
        shareClassId=sc,
        **{"from": "2025-01-05", "to": "2025-01-14"},
    )
    yields = assert_matches(response, "/yields/history")
    assert yields and all(item["accountId"] == ids["a"] for item in yields)
    assert sum(Decimal(item["yield"]["value"]) for item in yields) == Decimal(last["yield"]["total"]["value"])
    # Tuesday's yield is shares held x the NAV's change, to the cent.
    tuesday = next(item for item in yields if item["day"] == "2025-01-07")
    shares_monday = Decimal(by_day["2025-01-06"]["sharesHoldings"]).scaleb(-5)
    exact = shares_monday * (navs[date(2025, 1, 7)].value - navs[date(2025, 1, 6)].value)
    assert abs(Decimal(tuesday["yield"]["value"]) - exact) <= CENT


def test_transactions_list_orders_and_yields_in_the_reference_shapes(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    ids = known_history(ledger, investor)
    response = get(client, investor, "/account-transactions", accountId=ids["a"])
    body = assert_matches(response, "/account-transactions/")
    kinds = [item["orderType"] for item in body["items"]]
    assert {"Subscription", "Redemption", "TransferFrom", "Yield"} <= set(kinds)
    assert body["hasMore"] is False and body["nextCursor"] is None
    by_id = {item["id"]: item for item in body["items"]}
    assert (
        by_id[ids["deposit"]]["status"] == "executed"
        and by_id[ids["deposit"]]["amount"]["value"] == "10000.00"
    )
    assert by_id[ids["withdrawal"]]["sharesAmount"] == "1000.00000"
    assert by_id[ids["transfer"]]["toInvestorName"] == "Alice Treasury SAS"
    # Yield accruals: one per business day on which shares were held (Tue 7 .. Tue 14), plus the
    # deposit's day when the cash that bought no share leaves a cent there, plus Saturday, when the
    # shares moved to the other account took the gain they carry with them.
    yields = {item["yieldDay"]: item for item in body["items"] if item["orderType"] == "Yield"}
    business = ["2025-01-07", "2025-01-08", "2025-01-09", "2025-01-10", "2025-01-13", "2025-01-14"]
    assert set(business) <= set(yields) <= {*business, "2025-01-06", "2025-01-11"}
    if "2025-01-06" in yields:
        assert Decimal(yields["2025-01-06"]["amount"]["value"]) == -CENT
    assert Decimal(yields["2025-01-11"]["amount"]["value"]) < 0
    # Newest first by default; oldest first with direction=asc.
    keys = [(item["createdAt"], item["id"]) for item in body["items"]]
    assert keys == sorted(keys, reverse=True)
    ascending = assert_matches(
        get(client, investor, "/account-transactions", accountId=ids["a"], direction="asc"),
        "/account-transactions/",
    )
    assert [item["id"] for item in ascending["items"]] == [item["id"] for item in reversed(body["items"])]

    only_yields = get(
        client, investor, "/account-transactions", accountId=ids["a"], transactionType="yield"
    ).json()
    assert {item["orderType"] for item in only_yields["items"]} == {"Yield"}
    transfers_b = get(
        client, investor, "/account-transactions", accountId=ids["b"], transactionType="transfer"
    ).json()
    assert [item["orderType"] for item in transfers_b["items"]] == ["TransferTo"]
    assert transfers_b["items"][0]["fromInvestorName"] == "Alice Treasury SAS"
    deposits = get(
        client, investor, "/account-transactions", accountId=ids["a"], transactionType="deposit"
    ).json()
    reference = deposits["items"][0]["wireReference"]
    found = get(
        client, investor, "/account-transactions", accountId=ids["a"], search=reference.lower()
    ).json()
    assert [item["id"] for item in found["items"]] == [ids["deposit"]]
    assert (
        get(client, investor, "/account-transactions", accountId=ids["a"], search="2025-01-08").json()[
            "items"
        ][0]["yieldDay"]
        == "2025-01-08"
    )
    nothing = get(
        client, investor, "/account-transactions", accountId=ids["a"], search="no-such-thing%_"
    ).json()
    assert nothing == {"items": [], "nextCursor": None, "hasMore": False}


def test_pages_walk_every_transaction_once_and_stay_stable_while_new_ones_arrive(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    ids = known_history(ledger, investor)
    everything = get(client, investor, "/account-transactions", accountId=ids["a"], limit="1000").json()[
        "items"
    ]
    assert len(everything) >= 9
    for direction in ("desc", "asc"):
        seen: list[str] = []
        cursor = None
        for page_number in range(20):
            params: dict[str, Any] = {"accountId": ids["a"], "limit": "2", "direction": direction}
            if cursor:
                params["cursor"] = cursor
            page = assert_matches(
                get(client, investor, "/account-transactions", **params), "/account-transactions/"
            )
            seen += [item["id"] for item in page["items"]]
            if page_number == 1 and direction == "desc":
                # A new order arrives between two pages, a day later: it is newer than everything
                # listed, so the pages still to come neither repeat nor skip anything.
                ledger.next_day()
                ledger.book_deposit(investor, ids["a"], "500.00")
            if not page["hasMore"]:
                assert page["nextCursor"] is None
                break
            cursor = page["nextCursor"]
        expected = [item["id"] for item in everything]
        assert seen == (expected if direction == "desc" else list(reversed(expected)) + seen[len(expected) :])
        assert len(set(seen)) == len(seen)


def test_bad_parameters_are_tagged_decode_errors(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    ids = known_history(ledger, investor)
    for params in (
        {"limit": "0"},
        {"limit": "10001"},
        {"limit": "ten"},
        {"cursor": "garbage"},
        {"cursor": "Y2F0"},
        {"direction": "sideways"},
        {"transactionType": "dividend"},
    ):
        response = get(client, investor, "/account-transactions", accountId=ids["a"], **params)
        assert response.status_code == 400, (params, response.text)
        assert assert_matches(response, "/account-transactions/")["_tag"] == "HttpApiDecodeError"
    first = get(client, investor, "/account-transactions", accountId=ids["a"], limit="1").json()
    # A cursor is bound to its account and its direction.
    for params in ({"accountId": ids["b"]}, {"accountId": ids["a"], "direction": "asc"}):
        response = get(client, investor, "/account-transactions", cursor=first["nextCursor"], **params)
        assert response.status_code == 400
    assert get(client, investor, "/account-transactions", accountId="not-a-uuid").status_code == 400
    sc = ledger.share_classes["EUTBL"]
    for route in ("/accounting-positions/account-history", "/yields/history"):
        for period in (
            {"from": "2025-01-10", "to": "2025-01-01"},
            {"from": "2025-13-01", "to": "2025-01-01"},
        ):
            response = get(client, investor, route, accountId=ids["a"], shareClassId=sc, **period)
            assert response.status_code == 400, response.text
    response = get(
        client,
        investor,
        "/accounting-positions/account-history",
        accountId=ids["a"],
        shareClassId=ids["a"],
        **{"from": "2025-01-01", "to": "2025-01-02"},
    )
    assert response.status_code == 404


def test_portfolio_and_totals_are_the_positions_of_today(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    ids = known_history(ledger, investor)
    usd = ledger.open_account(investor, "USTBL", name="Dollar book")
    ledger.book_deposit(investor, usd, "25000.00", "USTBL")
    ledger.execute()
    with ledger.ctx.transaction() as session:
        from spiko.services import reference

        reference.publish_fx_rate(session, base="USD", quote="EUR", day=ledger.today, rate=Decimal("0.92"))
    portfolio = assert_matches(
        get(client, investor, "/portfolio", investorId=investor.investor_id), "/portfolio/"
    )
    items = {(item["account"]["id"], item["shareClass"]["id"]): item for item in portfolio["items"]}
    assert len(items) == 3
    today = ledger.today.isoformat()
    for (account_id, share_class_id), item in items.items():
        day = get(
            client,
            investor,
            "/accounting-positions/account-history",
            accountId=account_id,
            shareClassId=share_class_id,
            **{"from": today, "to": today},
        ).json()[0]
        assert item["totalSharesAmount"] == day["holdings"]
        assert item["totalGainSinceStart"] == day["yield"]["total"]
        assert Decimal(item["totalNumberOfShares"]).scaleb(5) == Decimal(day["sharesHoldings"])
    totals = assert_matches(
        get(client, investor, "/portfolio/totals", investorId=investor.investor_id), "/portfolio/totals"
    )
    by_account = {total["accountId"]: total for total in totals}
    assert set(by_account) == {ids["a"], ids["b"], usd}
    usd_value = Decimal(items[(usd, ledger.share_classes["USTBL"])]["totalSharesAmount"]["value"])
    assert by_account[usd]["breakdown"] == [{"value": f"{usd_value:.2f}", "currency": "USD"}]
    assert by_account[usd]["totalBalance"] == {
        "value": f"{cents(usd_value * Decimal('0.92')):.2f}",
        "currency": "EUR",
    }
    a_value = items[(ids["a"], ledger.share_classes["EUTBL"])]["totalSharesAmount"]
    assert by_account[ids["a"]]["totalBalance"] == a_value and by_account[ids["a"]]["breakdown"] == [a_value]
    in_usd = get(
        client, investor, "/portfolio/totals", investorId=investor.investor_id, currency="USD"
    ).json()
    assert {t["accountId"]: t["totalBalance"]["currency"] for t in in_usd} == dict.fromkeys(by_account, "USD")
    assert next(t for t in in_usd if t["accountId"] == usd)["totalBalance"]["value"] == f"{usd_value:.2f}"


def test_statement_pdf_names_everything_a_treasurer_files(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    ids = known_history(ledger, investor)
    params = {
        "investorId": investor.investor_id,
        "shareClassSymbol": "EUTBL",
        "from": "2025-01-01",
        "to": "2025-01-14",
    }
    response = get(client, investor, "/accounting-positions/account-statement", accountId=ids["a"], **params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    positions = get(
        client,
        investor,
        "/accounting-positions/account-history",
        accountId=ids["a"],
        shareClassId=ledger.share_classes["EUTBL"],
        **{"from": "2025-01-14", "to": "2025-01-14"},
    ).json()[0]
    closing = Decimal(positions["holdings"]["value"])
    yield_total = Decimal(positions["yield"]["total"]["value"])
    for expected in (
        "Account statement",
        "Alice Treasury SAS",
        "Operating cash",
        "EUTBL",
        "FR001400OHF4",
        "from 1 January 2025 to 14 January 2025",
        "€10,000.00",
        f"€{closing:,.2f}",
        f"€{yield_total:,.2f}",
        "Subscription",
        "Redemption",
        "Transfer out",
    ):
        assert expected in text, expected
    assert "1,000.00000" not in text
    german = get(
        client,
        investor,
        "/accounting-positions/account-statement",
        locale="de",
        showNumberOfShares="true",
        **params,
    )
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(german.content)).pages)
    text = text.replace("\u00a0", " ")
    assert (
        "Kontoauszug" in text and "Alle Konten" in text and "-1.000,00000" in text and "10.000,00 €" in text
    )
    for bad in ({"locale": "pt"}, {"showNumberOfShares": "yes"}, {"shareClassSymbol": "NOPE"}):
        response = get(client, investor, "/accounting-positions/account-statement", **{**params, **bad})
        assert response.status_code in (400, 404), bad


def test_stored_positions_are_invalidated_by_late_movements(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    ids = known_history(ledger, investor)
    sc = ledger.share_classes["EUTBL"]
    period = {"from": "2025-01-06", "to": ledger.today.isoformat()}
    before = get(
        client,
        investor,
        "/accounting-positions/account-history",
        accountId=ids["b"],
        shareClassId=sc,
        **period,
    ).json()
    with ledger.ctx.transaction(write=False) as session:
        stored = session.query(DailyPosition).filter(DailyPosition.account_id == ids["b"]).count()
    assert stored > 0
    # Today already has its NAV (it is stored); a transfer today changes today's position.
    ledger.book_transfer(investor, ids["a"], ids["b"], Decimal("100"))
    after = get(
        client,
        investor,
        "/accounting-positions/account-history",
        accountId=ids["b"],
        shareClassId=sc,
        **period,
    ).json()
    assert after[:-1] == before[:-1]
    assert int(after[-1]["sharesHoldings"]) == int(before[-1]["sharesHoldings"]) + 100 * 10**5
    # Stored positions equal positions recomputed from the ledger alone.
    with ledger.ctx.transaction() as session:
        session.query(DailyPosition).delete()
    fresh = get(
        client,
        investor,
        "/accounting-positions/account-history",
        accountId=ids["b"],
        shareClassId=sc,
        **period,
    ).json()
    assert fresh == after


def test_positions_after_the_latest_nav_are_computed_not_stored(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    ids = known_history(ledger, investor)
    sc = ledger.share_classes["EUTBL"]
    ledger.next_day(publish=False)  # Wednesday, NAV not published yet
    last = ledger.today.isoformat()
    days = get(
        client,
        investor,
        "/accounting-positions/account-history",
        accountId=ids["a"],
        shareClassId=sc,
        **{"from": START.isoformat(), "to": last},
    ).json()
    assert days[-1]["status"] == "noNav" and days[-1]["yield"]["ofDay"]["value"] == "0.00"
    with ledger.ctx.transaction(write=False) as session:
        assert session.query(DailyPosition).filter(DailyPosition.day == ledger.today).count() == 0
    ledger.today -= timedelta(days=1)
    ledger.next_day()  # the NAV arrives: the day becomes a NAV day with its yield
    days = get(
        client,
        investor,
        "/accounting-positions/account-history",
        accountId=ids["a"],
        shareClassId=sc,
        **{"from": last, "to": last},
    ).json()
    assert days[0]["status"] == "nav" and Decimal(days[0]["yield"]["ofDay"]["value"]) > 0
    shares = Decimal(days[0]["sharesHoldings"]).scaleb(-5)
    assert Decimal(days[0]["holdings"]["value"]) == cents(shares * ledger.navs["EUTBL"])
    assert shares == shares.quantize(Decimal("0.00001"), ROUND_DOWN)


def test_concurrent_first_reads_store_each_day_once(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from spiko.services.reporting import history

    ids = known_history(ledger, investor)
    sc = ledger.share_classes["EUTBL"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(
            pool.map(
                lambda _: history.refresh_account(ledger.ctx, investor.investor_id, ids["a"], sc), range(8)
            )
        )
    with ledger.ctx.transaction(write=False) as session:
        days = [row.day for row in session.query(DailyPosition).filter(DailyPosition.account_id == ids["a"])]
    assert len(days) == len(set(days)) == (ledger.today - START).days + 1
