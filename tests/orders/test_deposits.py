"""Deposit orders: creation rules, wire references, listing, cancellation, funding and execution."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from spiko.errors import ApplicationError
from spiko.services import deposits
from tests.orders.conftest import PREVIOUS, TODAY, assert_component, random_id
from tests.spec import assert_matches

WIRE_REFERENCE = re.compile(r"^[0-9A-Z]{5,15}$")


def test_a_deposit_gets_wire_instructions_with_a_unique_reference(world, investor):
    account = world.account(investor)
    references = set()
    for _ in range(3):
        created = world.deposit(investor, account, "1500.00")
        body = created.json()
        assert created.status_code == 200
        assert body["status"] == "created"
        instructions = body["wireInstructions"]
        assert WIRE_REFERENCE.match(instructions["reference"])
        assert instructions["currency"] == "EUR"
        assert instructions["iban"] == "FR7630004000031234567890143"
        references.add(instructions["reference"])
    assert len(references) == 3
    listed = world.client.get(
        "/v1/deposit-orders", params={"investorId": investor.investor_id}, headers=investor.basic
    )
    items = assert_matches(listed, "/deposit-orders/")
    assert {item["wireReference"] for item in items} == references
    assert all(item["status"] == "pending" and item["fundedAt"] is None for item in items)
    assert all(item["amount"] == {"value": "1500.00", "currency": "EUR"} for item in items)


def test_minimums_initial_then_subsequent(world, investor):
    account = world.account(investor)
    too_low = world.deposit(investor, account, "999.99")
    assert too_low.status_code == 400
    assert too_low.json()["customErrorCode"] == "InitialDepositTooLow"
    # Subsequent minimum applies only once the investor holds shares of the class.
    assert world.deposit(investor, account, "150.00").json()["customErrorCode"] == "InitialDepositTooLow"
    world.publish("EUTBL", TODAY, "1.045100")
    world.invest(investor, account, "1000.00")
    low = world.deposit(investor, account, "99.99")
    assert low.json()["customErrorCode"] == "SubsequentDepositTooLow"
    assert world.deposit(investor, account, "100.00").status_code == 200


def test_currency_and_decimals_are_checked(world, investor):
    account = world.account(investor)
    wrong = world.deposit(investor, account, "5000.00", currency="USD")
    assert wrong.status_code == 400
    assert wrong.json() == {
        "_tag": "ApplicationError",
        "reason": "EUTBL takes deposits in EUR, not USD",
        "customErrorCode": "CurrencyNotSupported",
    }
    assert world.deposit(investor, account, "5000.001").status_code == 400
    for value in ("-5000", "1e4", "abc", ""):
        response = world.deposit(investor, account, value)
        assert response.json()["_tag"] == "HttpApiDecodeError", value
    usd_account = world.account(investor, "USTBL")
    assert world.deposit(investor, usd_account, "5000", symbol="USTBL", currency="USD").status_code == 200


def test_unknown_or_foreign_account_and_share_class(world, investor, other_investor):
    mine = world.account(investor)
    theirs = world.account(other_investor)
    assert world.deposit(investor, theirs, "5000").status_code == 404
    assert world.deposit(investor, random_id(), "5000").status_code == 404
    response = world.client.post(
        "/v1/deposit-orders",
        json={"accountId": mine, "shareClassId": random_id(), "amount": {"value": "5000", "currency": "EUR"}},
        headers=investor.basic,
    )
    assert response.status_code == 404
    assert (
        world.client.get(
            "/v1/deposit-orders", params={"investorId": investor.investor_id}, headers=investor.basic
        ).json()
        == []
    )


def test_cancel_only_while_pending_and_unfunded(world, investor):
    account = world.account(investor)
    first = world.deposit(investor, account, "2000").json()
    canceled = world.client.post(f"/v1/deposit-orders/{first['id']}/cancel", headers=investor.basic)
    body = assert_matches(canceled, "/deposit-orders/{depositOrderId}/cancel", "post")
    assert body["status"] == "canceled" and body["canceledAt"] is not None
    again = world.client.post(f"/v1/deposit-orders/{first['id']}/cancel", headers=investor.basic)
    assert again.status_code == 409
    assert assert_matches(again, "/deposit-orders/{depositOrderId}/cancel", "post")["_tag"] == (
        "CollectionNotCancelableError"
    )

    funded = world.deposit(investor, account, "2000").json()
    world.fund(funded["wireInstructions"]["reference"])
    refused = world.client.post(f"/v1/deposit-orders/{funded['id']}/cancel", headers=investor.basic)
    assert refused.status_code == 409
    assert "received" in assert_matches(refused, "/deposit-orders/{depositOrderId}/cancel", "post")["message"]

    def with_status(status):
        params = {"investorId": investor.investor_id, "status": status}
        return [
            o["id"]
            for o in world.client.get("/v1/deposit-orders", params=params, headers=investor.basic).json()
        ]

    status = {s: with_status(s) for s in ("pending", "executed", "canceled")}
    assert status == {"pending": [funded["id"]], "executed": [], "canceled": [first["id"]]}
    bad_filter = world.client.get(
        "/v1/deposit-orders",
        params={"investorId": investor.investor_id, "status": "funded"},
        headers=investor.basic,
    )
    assert assert_matches(bad_filter, "/deposit-orders/")["_tag"] == "HttpApiDecodeError"


def test_execution_at_the_nav_of_the_execution_day_rounds_shares_down(world, investor):
    account = world.account(investor)
    created = world.deposit(investor, account, "10000.00").json()
    world.fund(created["wireInstructions"]["reference"])
    # Funded today, but today's NAV is not published yet: nothing executes, the order waits.
    summary = world.execute()
    assert summary["depositsExecuted"] == 0 and summary["waitingForNav"] == ["EUTBL"]
    # Yesterday's NAV does not price an order funded today.
    assert world.execute(PREVIOUS)["depositsExecuted"] == 0
    world.publish("EUTBL", TODAY, "1.045300")
    summary = world.execute()
    assert summary["depositsExecuted"] == 1
    (executed,) = summary["deposits"]
    assert executed["nav"] == "1.045300"
    # 10000 / 1.0453 = 9566.6315890174...: rounded down to 5 decimals.
    assert executed["shares"] == "9566.63158"
    assert world.holdings(account) == Decimal("9566.63158")
    order = world.client.get(f"/v1/deposit-orders/{created['id']}", headers=investor.basic)
    body = assert_matches(order, "/deposit-orders/{depositOrderId}")
    assert body["status"] == "executed" and body["executedAt"].startswith(TODAY.isoformat())
    # Executing again does nothing more.
    assert world.execute()["depositsExecuted"] == 0
    assert world.holdings(account) == Decimal("9566.63158")


def test_unfunded_deposits_do_not_execute_and_future_days_are_refused(world, investor, capsys):
    account = world.account(investor)
    world.deposit(investor, account, "3000")
    world.publish("EUTBL", TODAY, "1.045300")
    assert world.execute()["depositsExecuted"] == 0
    assert world.holdings(account) == 0
    with pytest.raises(ApplicationError) as refused:
        world.execute(TODAY + timedelta(days=1))
    assert refused.value.fields["customErrorCode"] == "OrderInTheFuture"


def test_funding_checks_reference_amount_and_state(world, investor):
    account = world.account(investor)
    created = world.deposit(investor, account, "2500.00").json()
    reference = created["wireInstructions"]["reference"]

    def fund(text, amount=None):
        with world.ctx.transaction() as session:
            return deposits.fund_deposit(session, reference_text=text, amount=amount)

    for text, amount, code in (
        ("NOSUCHREF1", None, "IncomingBankTransferNotFound"),
        (reference, Decimal("2400"), "IncomingBankTransferAmountMismatch"),
    ):
        with pytest.raises(ApplicationError) as error:
            fund(text, amount)
        assert error.value.fields["customErrorCode"] == code
    order = fund(reference.lower(), Decimal("2500"))
    assert order.funded_day == TODAY
    with pytest.raises(ApplicationError) as error:
        fund(reference)
    assert error.value.fields["customErrorCode"] == "IncomingBankTransferAlreadyHandled"


def test_direct_debit_deposits(world, investor, other_investor):
    account = world.account(investor)
    bank = world.bank_account(investor)
    body = {
        "amount": {"value": "5000.00", "currency": "EUR"},
        "shareClassId": world.share_classes["EUTBL"],
        "accountId": account,
        "bankAccountId": bank,
    }
    response = world.client.post("/v1/deposit-orders/direct-debit", json=body, headers=investor.basic)
    created = assert_matches(response, "/deposit-orders/direct-debit/", "post")
    assert created["status"] == "pending"
    assert created["scheduledDate"] == (TODAY + timedelta(days=1)).isoformat()
    assert created["bankAccountId"] == bank

    too_low = world.client.post(
        "/v1/deposit-orders/direct-debit",
        json={**body, "amount": {"value": "10", "currency": "EUR"}},
        headers=investor.basic,
    )
    assert too_low.status_code == 400
    assert assert_matches(too_low, "/deposit-orders/direct-debit/", "post")["_tag"] == "HttpApiDecodeError"
    usd_account = world.account(investor, "USTBL")
    usd = world.client.post(
        "/v1/deposit-orders/direct-debit",
        json={**body, "accountId": usd_account, "shareClassId": world.share_classes["USTBL"],
              "amount": {"value": "5000", "currency": "USD"}},
        headers=investor.basic,
    )  # fmt: skip
    assert assert_matches(usd, "/deposit-orders/direct-debit/", "post")["_tag"] == "HttpApiDecodeError"
    other_bank = world.bank_account(other_investor)
    foreign = world.client.post(
        "/v1/deposit-orders/direct-debit", json={**body, "bankAccountId": other_bank}, headers=investor.basic
    )
    assert foreign.status_code == 404

    # A direct debit is a deposit order like any other: listed, funded as the bank collects it.
    listed = world.client.get(
        "/v1/deposit-orders", params={"investorId": investor.investor_id}, headers=investor.basic
    ).json()
    assert len(listed) == 1 and listed[0]["amount"]["value"] == "5000.00"


def test_a_share_class_closed_to_api_deposits_refuses_them_and_writes_nothing(world, investor, cli):
    account = world.account(investor)
    bank = world.bank_account(investor)
    eutbl = world.share_classes["EUTBL"]
    code, closed, err = cli("share-classes", "api-deposits", "EUTBL", "off")
    assert code == 0, err
    assert closed["symbol"] == "EUTBL" and closed["apiDepositsAllowed"] is False
    expected = {"_tag": "DepositNotAllowedError", "shareClassId": eutbl, "shareClassSymbol": "EUTBL"}

    body = {"amount": {"value": "5000.00", "currency": "EUR"}, "shareClassId": eutbl, "accountId": account}
    # 400, the status the reference lists this body under.
    by_wire = world.client.post("/v1/deposit-orders", json=body, headers=investor.basic)
    assert by_wire.status_code == 400
    assert assert_component(by_wire, "DepositNotAllowedError") == expected
    by_debit = world.client.post(
        "/v1/deposit-orders/direct-debit", json={**body, "bankAccountId": bank}, headers=investor.basic
    )
    assert by_debit.status_code == 400
    assert assert_component(by_debit, "DepositNotAllowedError") == expected
    deprecated = world.client.post("/v1/subscription-orders", json=body, headers=investor.basic)
    assert deprecated.status_code == 400
    assert assert_component(deprecated, "SubscriptionNotAllowedError") == {
        **expected,
        "_tag": "SubscriptionNotAllowedError",
    }
    listed = world.client.get(
        "/v1/deposit-orders", params={"investorId": investor.investor_id}, headers=investor.basic
    )
    assert listed.json() == []  # nothing half-written

    # Other share classes are untouched, and the class can be opened again.
    usd_account = world.account(investor, "USTBL")
    assert world.deposit(investor, usd_account, "5000.00", "USTBL", "USD").status_code == 200
    code, opened, _ = cli("share-classes", "api-deposits", "EUTBL", "on")
    assert code == 0 and opened["apiDepositsAllowed"] is True
    assert world.deposit(investor, account, "1500.00").status_code == 200
    listed_classes = {sc["symbol"]: sc["apiDepositsAllowed"] for sc in cli("share-classes", "list")[1]}
    assert listed_classes == {"EUTBL": True, "UKTBL": True, "USTBL": True}


def test_the_api_deposits_command_refuses_unknown_classes_and_states(cli):
    code, out, err = cli("share-classes", "api-deposits", "NOPE", "off")
    assert code == 1 and out is None and "NOPE" in err
    code, out, err = cli("share-classes", "api-deposits", "EUTBL", "maybe")
    assert code == 2 and out is None and "maybe" in err  # a usage error
