"""Figures an auditor signs, through the API on the real database: one value of a holding, pending
estimates by the rule of execution, exact totals, the cost basis of transfers, amount precision."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from tests.conftest import InvestorFixture
from tests.orders.conftest import TODAY, World
from tests.spec import assert_matches


def _portfolio(world: World, investor: InvestorFixture) -> dict[str, Any]:
    response = world.client.get(
        "/v1/portfolio", params={"investorId": investor.investor_id}, headers=investor.basic
    )
    return assert_matches(response, "/portfolio/")  # type: ignore[no-any-return]


def _position(world: World, investor: InvestorFixture, account: str) -> dict[str, Any]:
    response = world.client.get(
        "/v1/accounting-positions/account-history",
        params={
            "accountId": account,
            "shareClassId": world.share_classes["EUTBL"],
            "from": TODAY.isoformat(),
            "to": TODAY.isoformat(),
        },
        headers=investor.basic,
    )
    (day,) = assert_matches(response, "/accounting-positions/account-history")
    return day  # type: ignore[no-any-return]


def _statement_text(world: World, investor: InvestorFixture, account: str | None = None) -> str:
    params = {
        "investorId": investor.investor_id,
        "shareClassSymbol": "EUTBL",
        "from": (TODAY - timedelta(days=3)).isoformat(),
        "to": TODAY.isoformat(),
    }
    if account:
        params["accountId"] = account
    response = world.client.get(
        "/v1/accounting-positions/account-statement", params=params, headers=investor.basic
    )
    assert response.status_code == 200, response.text
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


@pytest.fixture
def today_nav(world: World) -> Decimal:
    world.publish("EUTBL", TODAY, "1.045000")
    return Decimal("1.045000")


def test_the_value_of_a_holding_is_one_number_everywhere_and_withdrawable_in_full(
    world: World, investor: InvestorFixture, today_nav: Decimal
) -> None:
    account = world.account(investor)
    bank = world.bank_account(investor)
    # 1234.69 / 1.045 buys 1181.52153 shares, worth 1234.68999885: 1234.68 rounded down (half up
    # would show 1234.69, which no withdrawal could pay).
    world.invest(investor, account, "1234.69")
    assert world.holdings(account) == Decimal("1181.52153")

    (line,) = _portfolio(world, investor)["items"]
    assert line["totalSharesAmount"] == {"value": "1234.68", "currency": "EUR"}
    assert _position(world, investor, account)["holdings"] == {"value": "1234.68", "currency": "EUR"}
    totals = world.client.get(
        "/v1/portfolio/totals", params={"investorId": investor.investor_id}, headers=investor.basic
    )
    (total,) = assert_matches(totals, "/portfolio/totals")
    assert total["totalBalance"] == {"value": "1234.68", "currency": "EUR"}
    assert total["breakdown"] == [{"value": "1234.68", "currency": "EUR"}]
    assert "1,234.68" in _statement_text(world, investor, account)

    # One cent more is refused, naming the same figure as available...
    more = world.withdraw(
        investor, account, bank, {"mode": "amount", "amount": {"value": "1234.69", "currency": "EUR"}}
    )
    assert more.status_code == 400
    assert more.json()["payload"]["available"] == {"value": "1234.68", "currency": "EUR"}
    # ... and the figure shown is withdrawable in full, by amount.
    everything = world.withdraw(
        investor, account, bank, {"mode": "amount", "amount": {"value": "1234.68", "currency": "EUR"}}
    )
    assert everything.status_code == 200, everything.text
    world.execute()
    listed = world.client.get(
        "/v1/account-transactions", params={"accountId": account}, headers=investor.basic
    )
    (paid,) = [
        item
        for item in assert_matches(listed, "/account-transactions/")["items"]
        if item["id"] == everything.json()["id"]
    ]
    assert paid["status"] == "executed" and paid["amount"] == {"value": "1234.68", "currency": "EUR"}
    assert world.holdings(account) == 0


def test_a_pending_withdrawal_is_estimated_by_the_rule_it_executes_by(
    world: World, investor: InvestorFixture, today_nav: Decimal
) -> None:
    account = world.account(investor)
    bank = world.bank_account(investor)
    world.invest(investor, account, "10000.00")
    # 100.00479 shares x 1.045 = 104.50500555: the execution pays 104.50 (rounded down).
    by_shares = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "100.00479"})
    by_amount = world.withdraw(
        investor, account, bank, {"mode": "amount", "amount": {"value": "1000.00", "currency": "EUR"}}
    )
    assert by_shares.status_code == by_amount.status_code == 200

    def listed() -> dict[str, Any]:
        response = world.client.get(
            "/v1/account-transactions", params={"accountId": account}, headers=investor.basic
        )
        body = assert_matches(response, "/account-transactions/")
        return {item["id"]: item for item in body["items"]}

    pending = listed()
    assert pending[by_shares.json()["id"]]["status"] == "pending-execution"
    assert pending[by_shares.json()["id"]]["amount"]["value"] == "104.50"
    # 1000.00 / 1.045 redeems 956.93780 shares (rounded up), which pay 1000.00 (rounded down).
    assert pending[by_amount.json()["id"]]["amount"]["value"] == "1000.00"
    assert pending[by_amount.json()["id"]]["sharesAmount"] == "956.93780"

    world.execute()
    executed = listed()
    for order in (by_shares, by_amount):
        item = executed[order.json()["id"]]
        assert item["status"] == "executed"
        assert item["amount"] == pending[order.json()["id"]]["amount"]


def test_transfers_between_ones_own_accounts_carry_the_average_cost(
    world: World, investor: InvestorFixture
) -> None:
    source = world.account(investor, name="Operating")
    target = world.account(investor, name="Reserve")
    world.publish("EUTBL", TODAY, "1.000000")
    world.invest(investor, source, "10000.00")  # 10000 shares at 1.000000
    tomorrow = TODAY + timedelta(days=1)
    world.set_today(tomorrow)
    world.publish("EUTBL", tomorrow, "1.100000")
    moved = world.transfer(investor, source, target, {"type": "in-shares", "sharesAmount": "4000"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["amount"]["value"] == "4400.00"  # the order shows the shares' value

    def history(path: str, **params: str) -> dict[str, Any]:
        response = world.client.get(
            f"/v1/accounting-positions/{path}",
            params={
                "shareClassId": world.share_classes["EUTBL"],
                "from": TODAY.isoformat(),
                "to": tomorrow.isoformat(),
                **params,
            },
            headers=investor.basic,
        )
        return assert_matches(response, f"/accounting-positions/{path}")[-1]  # type: ignore[no-any-return]

    def money(amount: dict[str, str]) -> Decimal:
        return Decimal(amount["value"])

    out = history("account-history", accountId=source)
    into = history("account-history", accountId=target)
    both = history("history", investorId=investor.investor_id)
    # 4000 of 10000 shares carry 4000.00 of the 10000.00 cost; nothing is realized or transferred.
    assert money(out["transfers"]["ofDay"]) == Decimal("-4000.00")
    assert money(into["transfers"]["ofDay"]) == Decimal("4000.00")
    assert money(out["totalUnrealizedGain"]) == Decimal("600.00")  # 6600.00 - 6000.00
    assert money(into["totalUnrealizedGain"]) == Decimal("400.00")  # 4400.00 - 4000.00: carried
    for position in (out, into, both):
        assert money(position["realizedGain"]["total"]) == 0
        assert money(position["transferredGain"]["total"]) == 0
        # realized + transferred + unrealized = total gain (the yield total), on every history.
        assert money(position["realizedGain"]["total"]) + money(position["transferredGain"]["total"]) + money(
            position["totalUnrealizedGain"]
        ) == money(position["yield"]["total"])
    assert money(both["yield"]["total"]) == Decimal("1000.00")
    assert money(both["transfers"]["total"]) == 0

    # The receiving account redeems at its carried cost: the gain realized is the one the shares
    # earned since they were bought, wherever they were held.
    bank = world.bank_account(investor)
    sold = world.withdraw(investor, target, bank, {"mode": "shares", "shares": "4000"})
    assert sold.status_code == 200
    world.execute()
    into = history("account-history", accountId=target)
    assert money(into["realizedGain"]["total"]) == Decimal("400.00")
    assert money(into["realizedGain"]["total"]) + money(into["totalUnrealizedGain"]) == money(
        into["yield"]["total"]
    )

    # The statement shows every line of the identity.
    text = _statement_text(world, investor)
    for label in (
        "Realized gain",
        "Gain transferred to other investors",
        "Unrealized gain",
        "Less unrealized gain at opening",
        "Total gain for the period",
    ):
        assert label in text


ORDER_ROUTES = [
    ("/v1/deposit-orders", ["amount", "value"]),
    ("/v1/deposit-orders/direct-debit", ["amount", "value"]),
    ("/v1/subscription-orders", ["amount", "value"]),
    ("/v1/subscription-orders/direct-debit", ["amount", "value"]),
    ("/v1/withdrawal-orders", ["quantity", "amount", "value"]),
    ("/v1/redemption-orders", ["amount", "value"]),
    ("/v1/redemption-orders/instant", ["amount", "value"]),
    ("/v1/transfer-orders", ["transferAmount", "amount", "value"]),
]


@pytest.mark.parametrize(("route", "path"), ORDER_ROUTES)
def test_amounts_with_more_decimals_than_their_currency_are_refused_on_every_order_type(
    world: World, investor: InvestorFixture, today_nav: Decimal, route: str, path: list[str]
) -> None:
    account = world.account(investor)
    other = world.account(investor)
    bank = world.bank_account(investor)
    world.invest(investor, account, "5000.00")
    eutbl = world.share_classes["EUTBL"]
    precise = {"value": "1000.001", "currency": "EUR"}
    bodies: dict[str, dict[str, Any]] = {
        "/v1/deposit-orders": {"accountId": account, "shareClassId": eutbl, "amount": precise},
        "/v1/deposit-orders/direct-debit": {
            "accountId": account,
            "shareClassId": eutbl,
            "bankAccountId": bank,
            "amount": precise,
        },
        "/v1/withdrawal-orders": {
            "accountId": account,
            "shareClassId": eutbl,
            "destination": {"type": "bank-transfer", "bankAccountId": bank},
            "quantity": {"mode": "amount", "amount": precise},
        },
        "/v1/redemption-orders": {
            "accountId": account,
            "shareClassId": eutbl,
            "bankAccountId": bank,
            "amount": precise,
        },
        "/v1/transfer-orders": {
            "investorId": investor.investor_id,
            "fromAccountId": account,
            "toAccountId": other,
            "shareClassId": eutbl,
            "transferAmount": {"type": "in-amount", "amount": precise},
        },
    }
    bodies["/v1/subscription-orders"] = bodies["/v1/deposit-orders"]
    bodies["/v1/subscription-orders/direct-debit"] = bodies["/v1/deposit-orders/direct-debit"]
    bodies["/v1/redemption-orders/instant"] = bodies["/v1/redemption-orders"]
    before = world.holdings(account)
    response = world.client.post(route, json=bodies[route], headers=investor.basic)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["_tag"] == "HttpApiDecodeError"
    assert [issue["path"] for issue in body["issues"]] == [path]
    assert "2 decimals" in body["issues"][0]["message"]
    assert world.holdings(account) == before and world.holdings(other) == 0


def test_a_transfer_worth_nothing_is_refused(
    world: World, investor: InvestorFixture, today_nav: Decimal
) -> None:
    account = world.account(investor)
    other = world.account(investor)
    world.invest(investor, account, "5000.00")
    # 0.00001 share x 1.045 = 0.00001045: worth 0.00 EUR.
    dust = world.transfer(investor, account, other, {"type": "in-shares", "sharesAmount": "0.00001"})
    assert dust.status_code == 400
    assert dust.json()["_tag"] == "BadRequestError" and "0.01 EUR" in dust.json()["reason"]
    assert world.holdings(other) == 0
    # Nine hundred and fifty-seven of them are worth a cent, and move.
    cent = world.transfer(investor, account, other, {"type": "in-shares", "sharesAmount": "0.00957"})
    assert cent.status_code == 200, cent.text
    assert cent.json()["amount"] == {"value": "0.01", "currency": "EUR"}


@pytest.mark.parametrize(
    "route",
    ["/v1/deposit-orders/direct-debit", "/v1/subscription-orders/direct-debit", "/v1/transfer-orders"],
)
@pytest.mark.parametrize("body", [b"not json", b"{", b"[1, 2]", b'"text"', b"null", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_a_decode_error(
    world: World, investor: InvestorFixture, route: str, body: bytes
) -> None:
    response = world.client.post(
        route, content=body, headers={**investor.basic, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    decoded = response.json()
    assert decoded["_tag"] == "HttpApiDecodeError"
    assert decoded["issues"] and all(issue["path"] == [] for issue in decoded["issues"])
