"""Every /v0 route: success and errors, each response validated against the public specification."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from spiko.context import AppContext
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import Account
from spiko.db.types import new_id
from spiko.services import reference
from tests.conftest import create_investor
from tests.reference.conftest import SEEDED_TODAY
from tests.spec import assert_matches
from tests.world import World

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def get(client: TestClient, url: str, path: str, status: int) -> object:
    response = client.get(url)
    assert response.status_code == status, response.text
    body = assert_matches(response, path, "get", spec="public")
    if status >= 400:
        assert response.json()["_tag"] == {400: "HttpApiDecodeError", 404: "NotFoundError"}[status]
    return body


def test_funds(client: TestClient, seeded: World) -> None:
    funds = get(client, "/v0/funds", "/funds/", 200)
    assert [f["slug"] for f in funds] == ["EUTBL", "USTBL", "UKTBL"]
    eutbl = get(client, f"/v0/funds/{seeded.fund_ids['EUTBL']}/", "/funds/{fundId}", 200)
    assert eutbl["launchDay"] == "2024-04-30"
    assert "2024-12-25" in eutbl["nonOperatingDays"] and "2024-12-28" not in eutbl["nonOperatingDays"]
    get(client, f"/v0/funds/{UNKNOWN_ID}", "/funds/{fundId}", 404)
    error = get(client, "/v0/funds/not-a-uuid", "/funds/{fundId}", 400)
    assert error["issues"][0]["path"] == ["path", "fundId"]


def test_fund_assets_are_an_empty_list(client: TestClient, seeded: World) -> None:
    fund_id = seeded.fund_ids["EUTBL"]
    assert get(client, f"/v0/fund-assets?fundId={fund_id}", "/fund-assets/", 200) == []
    assert (
        get(client, f"/v0/fund-assets?fundId={fund_id}&valuationDay=2024-06-28", "/fund-assets/", 200) == []
    )
    get(client, f"/v0/fund-assets?fundId={UNKNOWN_ID}", "/fund-assets/", 404)
    get(client, "/v0/fund-assets", "/fund-assets/", 400)
    get(client, f"/v0/fund-assets?fundId={fund_id}&valuationDay=28/06/2024", "/fund-assets/", 400)


def test_share_classes(client: TestClient, seeded: World) -> None:
    listed = get(client, "/v0/share-classes", "/share-classes/", 200)
    assert [sc["symbol"] for sc in listed] == ["EUTBL", "UKTBL", "USTBL"]
    eutbl = get(client, "/v0/share-classes/EUTBL", "/share-classes/{shareClassSymbol}", 200)
    assert eutbl["id"] == seeded.share_classes["EUTBL"]
    assert (eutbl["isin"], eutbl["currency"], eutbl["navDecimals"], eutbl["shareDecimals"]) == (
        "FR001400OHF4",
        "EUR",
        6,
        5,
    )
    assert eutbl["minimumInitialSubscription"] == "1000" and eutbl["managementFees"] == "0.0025"
    get(client, "/v0/share-classes/SAFO", "/share-classes/{shareClassSymbol}", 404)
    get(client, "/v0/share-classes/NOPE", "/share-classes/{shareClassSymbol}", 400)


def test_navs_by_day_latest_and_from_a_day(client: TestClient, seeded: World) -> None:
    latest = get(
        client, "/v0/net-asset-values/EUTBL/latest", "/net-asset-values/{shareClassSymbol}/latest", 200
    )
    assert latest["day"] == SEEDED_TODAY.isoformat()
    assert latest["amount"]["currency"] == "EUR" and len(latest["amount"]["value"].split(".")[1]) == 6
    by_day = "/net-asset-values/{shareClassSymbol}/{day}"
    friday = get(client, "/v0/net-asset-values/EUTBL/2024-06-28", by_day, 200)
    assert friday == latest
    # A weekend answers the previous business day's NAV, which carries over, with its own day.
    assert get(client, "/v0/net-asset-values/EUTBL/2024-06-30", by_day, 200) == friday
    assert get(client, "/v0/net-asset-values/EUTBL/2024-04-30", by_day, 200)["amount"]["value"] == "1.000000"
    get(client, "/v0/net-asset-values/EUTBL/2024-07-01", by_day, 404)  # not published yet
    get(client, "/v0/net-asset-values/EUTBL/2024-04-29", by_day, 404)  # before launch
    get(client, "/v0/net-asset-values/EUTBL/2024-02-30", by_day, 400)
    get(client, "/v0/net-asset-values/EUTBL/yesterday", by_day, 400)
    get(client, "/v0/net-asset-values/SAFO/2024-06-28", by_day, 404)
    get(client, "/v0/net-asset-values/UKTBL/latest", "/net-asset-values/{shareClassSymbol}/latest", 404)

    listed = get(
        client, "/v0/net-asset-values/EUTBL?startDay=2024-06-20", "/net-asset-values/{shareClassSymbol}", 200
    )
    assert [n["day"] for n in listed] == [
        "2024-06-20",
        "2024-06-21",
        "2024-06-24",
        "2024-06-25",
        "2024-06-26",
        "2024-06-27",
        "2024-06-28",
    ]
    values = [Decimal(n["amount"]["value"]) for n in listed]
    assert values == sorted(values)
    assert (
        get(
            client,
            "/v0/net-asset-values/UKTBL?startDay=2024-01-01",
            "/net-asset-values/{shareClassSymbol}",
            200,
        )
        == []
    )
    get(client, "/v0/net-asset-values/EUTBL", "/net-asset-values/{shareClassSymbol}", 400)
    get(client, "/v0/net-asset-values/EUTBL?startDay=20240620", "/net-asset-values/{shareClassSymbol}", 400)
    get(client, "/v0/net-asset-values/SAFO?startDay=2024-06-20", "/net-asset-values/{shareClassSymbol}", 404)


def test_yield(client: TestClient, ctx: AppContext, seeded: World) -> None:
    path = "/share-classes/{shareClassSymbol}/yield"
    body = get(client, "/v0/share-classes/EUTBL/yield", path, 200)
    assert body["shareClassId"] == seeded.share_classes["EUTBL"]
    # The demo history grows at 3.5 %/year; 6-decimal NAVs make the daily figure approximate.
    assert abs(Decimal(body["dailyYield"]) - Decimal("0.035")) < Decimal("0.003")
    assert abs(Decimal(body["weeklyYield"]) - Decimal("0.035")) < Decimal("0.001")
    assert abs(Decimal(body["monthlyYield"]) - Decimal("0.035")) < Decimal("0.001")
    assert body["previousYieldTimestamp"]["_tag"] == "Some"
    # The next NAV is Monday's.
    assert int(body["nextYieldTimestamp"]) == int(datetime(2024, 7, 1, tzinfo=UTC).timestamp())
    get(client, "/v0/share-classes/UKTBL/yield", path, 404)
    get(client, "/v0/share-classes/SAFO/yield", path, 404)
    get(client, "/v0/share-classes/nope/yield", path, 400)


def test_yield_with_a_single_nav(client: TestClient, ctx: AppContext, reference_only: World) -> None:
    reference_only.set_today(date(2025, 1, 6))
    with ctx.transaction() as session:
        reference.publish_nav(session, reference_only.share_classes["UKTBL"], date(2025, 1, 6), Decimal("1"))
    body = get(client, "/v0/share-classes/UKTBL/yield", "/share-classes/{shareClassSymbol}/yield", 200)
    assert body["dailyYield"] == "0" and body["weeklyYield"] is None and body["monthlyYield"] is None
    assert body["previousYieldTimestamp"] == {"_tag": "None"}


def _holdings(ctx: AppContext, seeded: World) -> tuple[str, str]:
    """Two investors' subscriptions and a redemption in EUTBL, straight into the share ledger."""
    eutbl = seeded.share_classes["EUTBL"]
    alice, bob = create_investor(ctx), create_investor(ctx)
    with ctx.transaction() as session:
        accounts = []
        for index, holder in enumerate((alice, bob)):
            account = Account(
                investor_id=holder.investor_id,
                share_class_id=eutbl,
                name="Main",
                network="Ethereum",
                blockchain_address="0x" + f"{index:040x}",
                virtual_iban=f"FR76TEST{index:019d}",
            )
            session.add(account)
            session.flush()
            accounts.append(account)

        def move(holder: object, account: Account, kind: str, day: date, shares: str, amount: str) -> None:
            nav = reference.nav_on(session, eutbl, day)
            session.add(
                ShareMovement(
                    investor_id=holder.investor_id,  # type: ignore[attr-defined]
                    account_id=account.id,
                    share_class_id=eutbl,
                    kind=kind,
                    order_id=new_id(),
                    day=day,
                    executed_at=datetime(day.year, day.month, day.day, 16, tzinfo=UTC),
                    shares=Decimal(shares),
                    amount=Decimal(amount),
                    nav=nav.value,
                    currency="EUR",
                )
            )

        move(alice, accounts[0], "subscription", date(2024, 6, 3), "9000.00000", "9030.00")
        move(bob, accounts[1], "subscription", date(2024, 6, 24), "1000.00000", "1006.40")
        move(bob, accounts[1], "redemption", date(2024, 6, 26), "-1000.00000", "1006.60")
    return alice.investor_id, bob.investor_id


def test_totals(client: TestClient, ctx: AppContext, seeded: World) -> None:
    _holdings(ctx, seeded)
    path = "/share-classes/{shareClassSymbol}/totals"
    totals = get(client, "/v0/share-classes/EUTBL/totals", path, 200)
    with ctx.transaction(write=False) as session:
        nav = reference.latest_nav(session, seeded.share_classes["EUTBL"]).value
    assets = (Decimal("9000") * nav).quantize(Decimal("0.01"), rounding="ROUND_FLOOR")
    assert totals["totalShares"] == "9000.00000"
    assert totals["numberOfHolders"] == 1
    assert totals["totalAssets"] == {"value": str(assets), "currency": "EUR"}
    assert totals["totalOrders"] == {"value": "9029.80", "currency": "EUR"}
    assert Decimal(totals["totalYield"]["value"]) == assets - Decimal("9029.80")
    assert totals["netAssetValue"]["day"] == SEEDED_TODAY.isoformat()
    get(client, "/v0/share-classes/UKTBL/totals", path, 404)
    get(client, "/v0/share-classes/SAFO/totals", path, 404)
    get(client, "/v0/share-classes/bad/totals", path, 400)


def test_totals_from_day(client: TestClient, ctx: AppContext, seeded: World) -> None:
    _holdings(ctx, seeded)
    path = "/share-classes/{shareClassSymbol}/totals/from-day"
    rows = get(client, "/v0/share-classes/EUTBL/totals/from-day?startDay=2024-06-21", path, 200)
    by_day = {row["netAssetValue"]["day"]: row for row in rows}
    assert list(by_day) == [
        "2024-06-21",
        "2024-06-24",
        "2024-06-25",
        "2024-06-26",
        "2024-06-27",
        "2024-06-28",
    ]
    assert [by_day[d]["numberOfHolders"] for d in by_day] == [1, 2, 2, 1, 1, 1]
    assert by_day["2024-06-25"]["totalShares"] == "10000.00000"
    assert by_day["2024-06-25"]["totalOrders"]["value"] == "10036.40"
    assert get(client, "/v0/share-classes/UKTBL/totals/from-day?startDay=2024-06-21", path, 200) == []
    get(client, "/v0/share-classes/EUTBL/totals/from-day", path, 400)
    get(client, "/v0/share-classes/SAFO/totals/from-day?startDay=2024-06-21", path, 404)


def test_index_values(client: TestClient, seeded: World) -> None:
    path = "/index-values/{shareClassSymbol}"
    rows = get(client, "/v0/index-values/EUTBL?startDay=2024-04-01", path, 200)
    assert rows[0] == {"day": "2024-04-30", "amount": {"value": "100.000000", "currency": "EUR"}}
    navs = get(
        client, "/v0/net-asset-values/EUTBL?startDay=2024-04-01", "/net-asset-values/{shareClassSymbol}", 200
    )
    assert [r["day"] for r in rows] == [n["day"] for n in navs]
    # First NAV is 1.000000, so the index is the NAV × 100 with 6 decimals.
    assert Decimal(rows[-1]["amount"]["value"]) == Decimal(navs[-1]["amount"]["value"]) * 100
    assert len(rows[-1]["amount"]["value"].split(".")[1]) == 6
    assert get(client, "/v0/index-values/UKTBL?startDay=2024-04-01", path, 200) == []
    get(client, "/v0/index-values/EUTBL", path, 400)
    get(client, "/v0/index-values/SAFO?startDay=2024-04-01", path, 404)
    chart = "/index-values/spkcc/with-allocation"
    get(client, "/v0/index-values/spkcc/with-allocation?startDay=2024-04-01", chart, 404)
    get(client, "/v0/index-values/spkcc/with-allocation", chart, 400)


def test_exchange_rates(client: TestClient, seeded: World) -> None:
    latest_path, by_id = "/exchange-rates/latest", "/exchange-rates/{exchangeRateId}"
    fund = seeded.fund_ids["USTBL"]
    url = f"/v0/exchange-rates/latest?fundId={fund}&baseCurrency=EUR&quoteCurrency=USD"
    latest = get(client, url, latest_path, 200)
    assert (latest["fundId"], latest["day"], latest["kind"]) == (fund, SEEDED_TODAY.isoformat(), "indicative")
    assert Decimal("1.0") < Decimal(latest["fxRate"]) < Decimal("1.2")
    earlier = get(client, url + "&latestUpdateDate=2024-06-15", latest_path, 200)
    assert earlier["day"] == "2024-06-14"
    assert get(client, url + "&latestUpdateDate=2024-06-15T10:00:00.000Z", latest_path, 200) == earlier
    assert get(client, f"/v0/exchange-rates/{latest['id']}", by_id, 200) == latest
    get(client, url + "&latestUpdateDate=2020-01-01", latest_path, 404)
    get(client, url + "&latestUpdateDate=someday", latest_path, 400)
    get(
        client,
        f"/v0/exchange-rates/latest?fundId={fund}&baseCurrency=EUR&quoteCurrency=JPY",
        latest_path,
        404,
    )
    get(
        client,
        f"/v0/exchange-rates/latest?fundId={fund}&baseCurrency=EUR&quoteCurrency=XXX",
        latest_path,
        400,
    )
    get(client, f"/v0/exchange-rates/latest?fundId={fund}&baseCurrency=EUR", latest_path, 400)
    get(
        client,
        f"/v0/exchange-rates/latest?fundId={UNKNOWN_ID}&baseCurrency=EUR&quoteCurrency=USD",
        latest_path,
        404,
    )
    get(client, "/v0/exchange-rates/latest?fundId=x&baseCurrency=EUR&quoteCurrency=USD", latest_path, 400)
    get(client, f"/v0/exchange-rates/{UNKNOWN_ID}", by_id, 404)
    get(client, "/v0/exchange-rates/123", by_id, 400)


def test_exchange_rate_fallback_to_another_fund(
    client: TestClient, ctx: AppContext, reference_only: World
) -> None:
    eutbl, ustbl = reference_only.fund_ids["EUTBL"], reference_only.fund_ids["USTBL"]
    with ctx.transaction() as session:
        published = reference.publish_fx_rate(
            session, base="EUR", quote="GBP", day=date(2024, 6, 28), rate=Decimal("0.8461"), fund_id=eutbl
        )
        market = reference.publish_fx_rate(
            session, base="EUR", quote="CHF", day=date(2024, 6, 28), rate=Decimal("0.96")
        )
    url = f"/v0/exchange-rates/latest?fundId={ustbl}&baseCurrency=EUR&quoteCurrency=GBP"
    path = "/exchange-rates/latest"
    get(client, url, path, 404)
    get(client, url + "&fallbackToAnyOtherFund=false", path, 404)
    found = get(client, url + "&fallbackToAnyOtherFund=true", path, 200)
    assert (found["id"], found["fundId"], found["fxRate"]) == (published.id, eutbl, "0.8461")
    get(client, url + "&fallbackToAnyOtherFund=yes", path, 400)
    # A market rate (no fund) is not a fund's published rate: /v0 does not serve it.
    get(client, f"/v0/exchange-rates/{market.id}", "/exchange-rates/{exchangeRateId}", 404)


@pytest.mark.parametrize(
    "url",
    ["/v0/funds", "/v0/share-classes/EUTBL", "/v0/net-asset-values/EUTBL/latest"],
)
def test_public_routes_need_no_credentials_and_ignore_bad_ones(
    client: TestClient, seeded: World, url: str
) -> None:
    assert client.get(url).status_code == 200
    assert client.get(url, headers={"Authorization": "Basic !!!"}).status_code == 200


def test_routes_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v0/funds",
        "/v0/funds/{fundId}",
        "/v0/fund-assets",
        "/v0/share-classes",
        "/v0/share-classes/{shareClassSymbol}",
        "/v0/share-classes/{shareClassSymbol}/yield",
        "/v0/share-classes/{shareClassSymbol}/totals",
        "/v0/share-classes/{shareClassSymbol}/totals/from-day",
        "/v0/net-asset-values/{shareClassSymbol}",
        "/v0/net-asset-values/{shareClassSymbol}/latest",
        "/v0/net-asset-values/{shareClassSymbol}/{day}",
        "/v0/index-values/{shareClassSymbol}",
        "/v0/index-values/spkcc/with-allocation",
        "/v0/exchange-rates/latest",
        "/v0/exchange-rates/{exchangeRateId}",
    ):
        assert "get" in paths[path], path
