"""Official calendars, dated FX, exact public totals: through the sandbox and the HTTP API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from spiko.context import AppContext
from spiko.db.models.funds import ExchangeRate
from spiko.services import clock, reference, sandbox, seed
from tests.conftest import InvestorFixture
from tests.spec import assert_matches


def _walk(ctx: AppContext, until: date) -> None:
    """The sandbox clock, one business day at a time, up to ``until``."""
    for _ in range(30):
        with ctx.transaction() as session:
            if clock.today(session) >= until:
                return
            sandbox.advance_one_day(session, Decimal("0.035"))
    raise AssertionError("the sandbox did not reach the day")


def _nav_days(client: TestClient, symbol: str, start: date) -> set[str]:
    response = client.get(f"/v0/net-asset-values/{symbol}", params={"startDay": start.isoformat()})
    return {
        nav["day"] for nav in assert_matches(response, "/net-asset-values/{shareClassSymbol}", spec="public")
    }


def test_observed_and_substitute_holidays_strike_no_nav(ctx: AppContext, client: TestClient) -> None:
    with ctx.transaction() as session:
        clock.set_today(session, date(2026, 6, 30))
        seed.seed_history(session, date(2026, 6, 30))
    _walk(ctx, date(2026, 7, 7))
    # Independence Day 2026 is a Saturday: the US market closes on Friday 3 July instead.
    assert "2026-07-03" not in _nav_days(client, "USTBL", date(2026, 7, 1))
    assert {"2026-07-02", "2026-07-06"} <= _nav_days(client, "USTBL", date(2026, 7, 1))
    assert "2026-07-03" in _nav_days(client, "EUTBL", date(2026, 7, 1))  # TARGET2 is open
    carried = client.get("/v0/net-asset-values/USTBL/2026-07-03")
    assert (
        assert_matches(carried, "/net-asset-values/{shareClassSymbol}/{day}", spec="public")["day"]
        == "2026-07-02"
    )

    with ctx.transaction() as session:
        clock.set_today(session, date(2026, 12, 22))
        seed.seed_history(session, date(2026, 12, 22))
    _walk(ctx, date(2026, 12, 30))
    # Boxing Day 2026 is a Saturday: England and Wales take Monday 28 December off.
    uk = _nav_days(client, "UKTBL", date(2026, 12, 21))
    assert "2026-12-28" not in uk and "2026-12-25" not in uk
    assert {"2026-12-24", "2026-12-29"} <= uk


def test_operators_still_add_their_own_closing_days(ctx: AppContext, client: TestClient) -> None:
    with ctx.transaction() as session:
        clock.set_today(session, date(2026, 6, 30))
        seed.seed_history(session, date(2026, 6, 30))
        fund = reference.get_fund_by_slug(session, "EUTBL")
        reference.add_non_operating_day(session, fund.id, date(2026, 7, 2), "Exceptional closure")
    _walk(ctx, date(2026, 7, 3))
    assert "2026-07-02" not in _nav_days(client, "EUTBL", date(2026, 7, 1))
    assert "2026-07-03" in _nav_days(client, "EUTBL", date(2026, 7, 1))


def test_the_sandbox_publishes_rates_each_business_day_and_crosses_agree(ctx: AppContext) -> None:
    with ctx.transaction() as session:
        clock.set_today(session, date(2026, 6, 30))
        seed.seed_history(session, date(2026, 6, 30))
    _walk(ctx, date(2026, 7, 7))
    with ctx.transaction(write=False) as session:
        days = set(session.scalars(select(ExchangeRate.day).where(ExchangeRate.day > date(2026, 6, 30))))
        assert days == {
            date(2026, 7, 1),
            date(2026, 7, 2),
            date(2026, 7, 3),
            date(2026, 7, 6),
            date(2026, 7, 7),
        }
        on = date(2026, 7, 5)  # a Sunday: Friday's rates are in force, and say so
        eur_usd = reference.fx_quote(session, "EUR", "USD", on)
        usd_gbp = reference.fx_quote(session, "USD", "GBP", on)
        eur_gbp = reference.fx_quote(session, "EUR", "GBP", on)
        gbp_usd = reference.fx_quote(session, "GBP", "USD", on)
        assert eur_usd and usd_gbp and eur_gbp and gbp_usd
        assert {eur_usd.day, usd_gbp.day, eur_gbp.day, gbp_usd.day} == {date(2026, 7, 3)}
        # One base: EUR -> USD -> GBP is EUR -> GBP, and GBP -> USD is the inverse of USD -> GBP.
        assert abs(eur_usd.rate * usd_gbp.rate - eur_gbp.rate) < Decimal("1e-30")
        assert abs(gbp_usd.rate * usd_gbp.rate - 1) < Decimal("1e-30")


def test_a_stale_rate_is_refused_with_its_date(
    ctx: AppContext, client: TestClient, investor: InvestorFixture
) -> None:
    with ctx.transaction() as session:
        clock.set_today(session, date(2025, 3, 3))
        share_classes = seed.seed_reference_data(session, until_year=2026)
        eutbl = share_classes["EUTBL"]
        reference.publish_nav(session, eutbl.id, date(2025, 2, 28), Decimal("1.045000"))
        reference.publish_fx_rate(
            session, base="EUR", quote="USD", day=date(2025, 2, 28), rate=Decimal("1.04")
        )
    account = client.post(
        "/v1/accounts",
        json={"type": "internal", "investorId": investor.investor_id, "shareClassId": eutbl.id},
        headers=investor.basic,
    ).json()["id"]
    with ctx.transaction() as session:
        from spiko.services import deposits, execution

        order = deposits.create_deposit(
            session,
            investor_id=investor.investor_id,
            account_id=account,
            share_class_id=eutbl.id,
            amount=Decimal("10000.00"),
            currency="EUR",
            day=date(2025, 2, 28),  # funded that day: the order existed by then
        )
        deposits.fund_deposit(session, reference_text=order.wire_reference, day=date(2025, 2, 28))
        execution.execute_orders(session, date(2025, 2, 28))

    def totals(currency: str) -> tuple[int, dict[str, object] | list[dict[str, object]]]:
        response = client.get(
            "/v1/portfolio/totals",
            params={"investorId": investor.investor_id, "currency": currency},
            headers=investor.basic,
        )
        return response.status_code, assert_matches(response, "/portfolio/totals")

    status, body = totals("USD")
    assert status == 200  # Friday's rate on Monday: three days old
    # 9569.37799 shares x 1.045 = 9999.99999955 -> 9999.99 EUR; x 1.04 = 10399.9896 -> 10399.99 USD.
    assert body[0]["totalBalance"] == {"value": "10399.99", "currency": "USD"}  # type: ignore[index]
    with ctx.transaction() as session:
        clock.set_today(session, date(2025, 3, 3) + timedelta(days=10))
    status, body = totals("USD")
    assert status == 400
    assert body["_tag"] == "HttpApiDecodeError"  # type: ignore[index]
    message = body["issues"][0]["message"]  # type: ignore[index]
    assert "2025-02-28" in message and "SPIKO_FX_MAX_AGE_DAYS" in message
    assert totals("EUR")[0] == 200  # no conversion, no rate needed


def test_public_totals_are_exact_sums(ctx: AppContext, client: TestClient, investor: InvestorFixture) -> None:
    """Shares of deposits near 10^12 EUR need 17 digits: a float sum would drift, this one cannot."""
    with ctx.transaction() as session:
        clock.set_today(session, date(2025, 3, 3))
        share_classes = seed.seed_reference_data(session, until_year=2026)
        eutbl = share_classes["EUTBL"]
        reference.publish_nav(session, eutbl.id, date(2025, 3, 3), Decimal("1.047361"))
    accounts = [
        client.post(
            "/v1/accounts",
            json={"type": "internal", "investorId": investor.investor_id, "shareClassId": eutbl.id},
            headers=investor.basic,
        ).json()["id"]
        for _ in range(3)
    ]
    amounts = ["999999999999.99", "123456789012.34", "987654321098.77"]
    ids = []
    for account, amount in zip(accounts, amounts, strict=True):
        created = client.post(
            "/v1/deposit-orders",
            json={
                "accountId": account,
                "shareClassId": eutbl.id,
                "amount": {"value": amount, "currency": "EUR"},
            },
            headers=investor.basic,
        )
        assert created.status_code == 200, created.text
        ids.append(created.json()["id"])
        with ctx.transaction() as session:
            from spiko.services import deposits

            deposits.fund_deposit(session, reference_text=created.json()["wireInstructions"]["reference"])
    with ctx.transaction() as session:
        from spiko.services import execution

        execution.execute_orders(session)
    portfolio = client.get(
        "/v1/portfolio", params={"investorId": investor.investor_id}, headers=investor.basic
    )
    shares = [
        Decimal(item["totalNumberOfShares"]) for item in assert_matches(portfolio, "/portfolio/")["items"]
    ]
    assert len(shares) == 3 and len(ids) == 3
    response = client.get("/v0/share-classes/EUTBL/totals")
    body = assert_matches(response, "/share-classes/{shareClassSymbol}/totals", spec="public")
    assert Decimal(body["totalShares"]) == sum(shares, Decimal(0))
    assert Decimal(body["totalOrders"]["value"]) == sum((Decimal(a) for a in amounts), Decimal(0))
    assert Decimal(body["totalAssets"]["value"]) == (sum(shares, Decimal(0)) * Decimal("1.047361")).quantize(
        Decimal("0.01"), rounding="ROUND_FLOOR"
    )
