"""The investor app's own pages: dashboard, account, orders, statements and bank accounts, each over
the same services as /v1, each reaching only the signed-in investor's data."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from spiko.context import AppContext
from spiko.i18n import format_money
from spiko.services import bank_accounts, withdrawals
from tests.spec import assert_matches
from tests.world import InvestorFixture, World, build_world, csrf_token, sign_in

TODAY = date(2025, 3, 3)  # a Monday
PREVIOUS = date(2025, 2, 28)


@pytest.fixture
def world(ctx: AppContext, client: TestClient) -> World:
    navs = [("EUTBL", PREVIOUS, "1.045000"), ("EUTBL", TODAY, "1.045100"), ("USTBL", PREVIOUS, "1.062000")]
    return build_world(ctx, TODAY, client=client, until_year=2026, navs=navs)


def browser(app_client: TestClient, person: InvestorFixture) -> TestClient:
    app_client.cookies.clear()
    assert sign_in(app_client, person.email, person.password).status_code == 303
    return app_client


def invested(world: World, person: InvestorFixture, name: str, value: str = "100000.00") -> str:
    account = world.account(person, name=name)
    world.invest(person, account, value)
    return account


def post_form(client: TestClient, page: str, action: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def test_pages_need_a_signed_in_investor(client: TestClient, world: World) -> None:
    for path in ("/", "/orders", "/orders/new", "/statements", "/bank-accounts"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path


def test_the_dashboard_shows_value_holdings_yield_pending_orders_and_charts(
    client: TestClient, world: World
) -> None:
    person = world.investor("Dashboard SAS")
    account = invested(world, person, "Treasury")
    for _ in range(5):
        world.next_day()
    world.deposit(person, account, "5000.00")  # pending: waiting for its wire
    page = browser(client, person).get("/")
    assert page.status_code == 200
    text = page.text
    portfolio = client.get(
        f"/v1/portfolio/totals?investorId={person.investor_id}", headers=person.basic
    ).json()
    total = Decimal(portfolio[0]["totalBalance"]["value"])
    assert total > 100000
    assert f'data-value="{total}"' in text  # the very figure of GET /v1/portfolio/totals
    assert format_money(total, "EUR", "en") in text
    assert 'data-testid="share-class-summary"' in text and "EUTBL" in text
    assert 'data-testid="pending-orders"' in text and "if the wire has arrived" in text
    assert '<svg class="chart chart-line"' in text and 'aria-labelledby="holdings-EUTBL"' in text
    assert 'id="holdings-EUTBL"' in text  # the chart is labelled by its caption
    assert 'data-testid="chart-table-EUTBL"' in text
    # The yield month to date is the sum of the yield history's days of this month.
    history = client.get(
        f"/v1/yields/history?shareClassId={world.id('EUTBL')}&accountId={account}"
        f"&from={world.today.replace(day=1)}&to={world.today}",
        headers=person.basic,
    ).json()
    month = sum((Decimal(day["yield"]["value"]) for day in history), Decimal(0))
    found = re.search(r'data-testid="yield-month" data-value="([^"]+)"', text)
    assert found and Decimal(found.group(1)) == month
    for period in ("1m", "1y", "2y", "bogus"):
        assert client.get(f"/?period={period}").status_code == 200


def test_a_deposit_is_reviewed_then_placed_once_however_often_the_form_is_posted(
    client: TestClient, world: World
) -> None:
    person = world.investor("Orders SAS")
    account = world.account(person, name="Main")
    browser(client, person)
    form = client.get("/orders/new?kind=deposit").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key
    fields = {"kind": "deposit", "account_id": account, "amount": "25000.00", "idempotency_key": key.group(1)}
    review = client.post("/orders/new", data={**fields, "step": "review", "csrf_token": csrf_token(form)})
    assert review.status_code == 200 and 'data-testid="review"' in review.text
    assert "€25,000.00" in review.text
    confirm = {**fields, "step": "confirm", "csrf_token": csrf_token(review.text)}
    first = client.post("/orders/new", data=confirm, follow_redirects=False)
    second = client.post("/orders/new", data=confirm, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    listed = client.get(f"/v1/deposit-orders?investorId={person.investor_id}", headers=person.basic).json()
    assert len(listed) == 1
    order = client.get(first.headers["location"]).text
    assert listed[0]["wireReference"] in order and 'data-testid="wire-instructions"' in order


def test_a_withdrawal_shows_its_trade_day_and_can_be_canceled(
    client: TestClient, world: World, ctx: AppContext
) -> None:
    person = world.investor("Withdraw SAS")
    account = invested(world, person, "Main")
    bank = world.bank(person)
    browser(client, person)
    form = client.get("/orders/new?kind=withdrawal").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key
    fields = {
        "kind": "withdrawal",
        "account_id": account,
        "bank_account_id": bank,
        "mode": "amount",
        "amount": "1000.00",
        "idempotency_key": key.group(1),
    }
    review = client.post("/orders/new", data={**fields, "step": "review", "csrf_token": csrf_token(form)})
    assert review.status_code == 200, review.text
    trade_day = re.search(r'data-testid="review-trade-day"><time datetime="([^"]+)"', review.text)
    assert trade_day and date.fromisoformat(trade_day.group(1)) >= world.today
    placed = client.post(
        "/orders/new",
        data={**fields, "step": "confirm", "csrf_token": csrf_token(review.text)},
        follow_redirects=False,
    )
    assert placed.status_code == 303
    withdrawal_id = placed.headers["location"].split("/")[3].split("?")[0]
    with ctx.transaction(write=False) as session:  # the day shown is the engine's for the order
        stored = withdrawals.get_withdrawal(session, withdrawal_id, person.investor_id)
        assert stored.trade_day == date.fromisoformat(trade_day.group(1))
    shown = client.get(placed.headers["location"]).text
    assert f'data-testid="trade-day"><time datetime="{stored.trade_day.isoformat()}"' in shown
    cancel = post_form(client, "/orders", f"/orders/withdrawal/{withdrawal_id}/cancel", {})
    assert cancel.status_code == 303
    got = client.get(f"/v1/withdrawal-orders/{withdrawal_id}", headers=person.basic).json()
    assert got["status"] == "canceled"


def test_an_investor_adds_a_bank_account_usable_after_the_cooling_off(
    client: TestClient, world: World, ctx: AppContext
) -> None:
    person = world.investor("Bank SAS")
    account = invested(world, person, "Main")
    browser(client, person)
    refused = post_form(
        client,
        "/bank-accounts",
        "/bank-accounts",
        {"holder": "Bank SAS", "iban": "FR76 0000", "bic": "BNPAFRPP"},
    )
    assert refused.status_code == 400 and 'data-testid="form-error"' in refused.text
    added = post_form(
        client,
        "/bank-accounts",
        "/bank-accounts",
        {
            "holder": "Bank SAS",
            "iban": "DE89 3704 0044 0532 0130 00",
            "bic": "COBADEFFXXX",
            "currency": "EUR",
        },
    )
    assert added.status_code == 200 and 'data-status="cooling-off"' in added.text
    activity = client.get("/activity").text  # a new withdrawal destination is a security event
    assert "Bank account added" in activity and "DE89370400440532013000" in activity
    listed = client.get(f"/v1/bank-accounts?investorId={person.investor_id}", headers=person.basic)
    assert_matches(listed, "/bank-accounts/", "get")
    (row,) = listed.json()
    assert row["name"] == "Bank SAS" and row["details"]["accountNumber"] == "DE89370400440532013000"
    too_soon = world.withdraw(person, account, row["id"], {"mode": "total"})
    assert too_soon.status_code == 400
    assert too_soon.json()["customErrorCode"] == "BankAccountCoolingOff"
    with ctx.transaction() as session:  # the cooling-off period passes
        found = bank_accounts.get_bank_account(session, row["id"], person.investor_id)
        found.usable_from = found.created_at - timedelta(seconds=1)
    assert world.withdraw(person, account, row["id"], {"mode": "total"}).status_code == 200
    # A pending withdrawal is to be paid to it: it cannot be removed until that is canceled.
    blocked = post_form(client, "/bank-accounts", "/bank-accounts", {"remove": row["id"]})
    assert blocked.status_code == 400
    pending = client.get(
        f"/v1/withdrawal-orders?investorId={person.investor_id}&status=pending", headers=person.basic
    ).json()
    client.post(f"/v1/withdrawal-orders/{pending[0]['id']}/cancel", headers=person.basic)
    removed = post_form(client, "/bank-accounts", "/bank-accounts", {"remove": row["id"]})
    assert removed.status_code == 200 and 'data-testid="notice"' in removed.text
    assert client.get(f"/v1/bank-accounts?investorId={person.investor_id}", headers=person.basic).json() == []


def test_exports_hold_exactly_what_the_filters_select(client: TestClient, world: World) -> None:
    from openpyxl import load_workbook

    person = world.investor("Export SAS")
    account = invested(world, person, "Main")
    for _ in range(10):
        world.next_day()
    world.deposit(person, account, "2000.00")
    browser(client, person)
    api = client.get(
        f"/v1/account-transactions?accountId={account}&transactionType=yield&limit=1000", headers=person.basic
    ).json()["items"]
    assert len(api) >= 5
    exported = client.get(f"/accounts/{account}/transactions.csv?transactionType=yield")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == [item["id"] for item in api]
    assert [r["amount"] for r in rows] == [item["amount"]["value"] for item in api]
    assert {r["type"] for r in rows} == {"Yield"}
    everything = list(csv.DictReader(io.StringIO(client.get(f"/accounts/{account}/transactions.csv").text)))
    assert len(everything) == len(api) + 2  # and the two deposits
    workbook = load_workbook(
        io.BytesIO(client.get(f"/accounts/{account}/transactions.xlsx?direction=asc").content)
    )
    sheet = list(workbook.active.iter_rows(values_only=True))
    assert sheet[0][0] == "createdAt" and len(sheet) == len(everything) + 1
    assert [row[10] for row in sheet[1:]] == [r["id"] for r in reversed(everything)]
    page = client.get(f"/accounts/{account}?transactionType=yield")
    assert page.status_code == 200 and "transactions.csv?transactionType=yield" in page.text


def test_statements_download_in_every_locale(client: TestClient, world: World) -> None:
    person = world.investor("Statement SAS")
    invested(world, person, "Main")
    for _ in range(3):
        world.next_day()
    browser(client, person)
    assert client.get("/statements").status_code == 200
    for locale in ("fr", "de"):
        pdf = client.get(
            f"/statements/download?shareClass=EUTBL&first={TODAY}&last={world.today}&locale={locale}"
        )
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"


def test_every_page_reaches_only_the_signed_in_investors_data(client: TestClient, world: World) -> None:
    owner = world.investor("Owner SAS")
    account = invested(world, owner, "Owner treasury")
    bank = world.bank(owner)
    quantity = {"mode": "amount", "amount": {"value": "2000.00", "currency": "EUR"}}
    withdrawal = world.withdraw(owner, account, bank, quantity).json()["id"]
    deposit = world.deposit(owner, account, "3000.00").json()["id"]
    intruder = world.investor("Intruder SAS")
    world.account(intruder, name="Intruder account")
    browser(client, intruder)
    dashboard = client.get("/").text
    assert "Owner treasury" not in dashboard and "Intruder account" in dashboard
    for path in (
        f"/accounts/{account}",
        f"/accounts/{account}/transactions.csv",
        f"/accounts/{account}/transactions.xlsx",
        f"/orders/withdrawal/{withdrawal}",
        f"/orders/deposit/{deposit}",
    ):
        assert client.get(path).status_code == 404, path
    assert "Owner treasury" not in client.get("/orders/new?kind=withdrawal").text
    assert withdrawal not in client.get("/orders").text
    assert bank not in client.get("/bank-accounts").text
    for kind, order_id in (("withdrawal", withdrawal), ("deposit", deposit)):
        assert post_form(client, "/orders", f"/orders/{kind}/{order_id}/cancel", {}).status_code == 404
    assert post_form(client, "/bank-accounts", "/bank-accounts", {"remove": bank}).status_code == 400
    statement = client.get(
        f"/statements/download?shareClass=EUTBL&first={TODAY}&last={TODAY}&account={account}"
    )
    assert statement.status_code == 404
    form = client.get("/orders/new?kind=deposit").text
    placed = client.post(
        "/orders/new",
        data={
            "kind": "deposit",
            "account_id": account,
            "amount": "5000.00",
            "step": "confirm",
            "idempotency_key": "intruder-key-1",
            "csrf_token": csrf_token(form),
        },
    )
    assert placed.status_code == 400
    # The owner's orders are untouched.
    assert (
        client.get(f"/v1/withdrawal-orders/{withdrawal}", headers=owner.basic).json()["status"] == "pending"
    )
    assert client.get(f"/v1/deposit-orders/{deposit}", headers=owner.basic).json()["status"] == "pending"
    assert (
        len(client.get(f"/v1/bank-accounts?investorId={owner.investor_id}", headers=owner.basic).json()) == 1
    )
