"""Isolation, route by route: another investor's object id answers 404, another investorId 403.

Every refusal is checked to have changed nothing, and the owner still sees its objects.
"""

from __future__ import annotations

import pytest

from tests.orders.conftest import TODAY
from tests.spec import assert_matches


@pytest.fixture
def owned(world, investor):
    """Investor A's account, second account, bank account and one order of each kind."""
    world.publish("EUTBL", TODAY, "1.045300")
    account = world.account(investor)
    second = world.account(investor)
    bank = world.bank_account(investor)
    world.invest(investor, account, "10000.00")
    deposit = world.deposit(investor, account, "1000.00").json()["id"]
    withdrawal = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "500"}).json()["id"]
    transfer = world.transfer(investor, account, second, {"type": "in-shares", "sharesAmount": "100"}).json()[
        "id"
    ]
    return {
        "account": account,
        "second": second,
        "bank": bank,
        "deposit": deposit,
        "withdrawal": withdrawal,
        "transfer": transfer,
    }


GETS_BY_ID = [
    ("/v1/accounts/{account}", "/accounts/{accountId}"),
    ("/v1/bank-accounts/{bank}", "/bank-accounts/{bankAccountId}"),
    ("/v1/deposit-orders/{deposit}", "/deposit-orders/{depositOrderId}"),
    ("/v1/subscription-orders/{deposit}", "/subscription-orders/{subscriptionOrderId}"),
    ("/v1/withdrawal-orders/{withdrawal}", "/withdrawal-orders/{withdrawalOrderId}"),
    ("/v1/redemption-orders/{withdrawal}", "/redemption-orders/{redemptionOrderId}"),
    ("/v1/transfer-orders/{transfer}", "/transfer-orders/{transferOrderId}"),
]

LISTS = [
    ("/v1/accounts", "/accounts/"),
    ("/v1/bank-accounts", "/bank-accounts/"),
    ("/v1/deposit-orders", "/deposit-orders/"),
    ("/v1/subscription-orders", "/subscription-orders/"),
    ("/v1/withdrawal-orders", "/withdrawal-orders/"),
    ("/v1/redemption-orders", "/redemption-orders/"),
    ("/v1/transfer-orders", "/transfer-orders/"),
]


def test_get_by_id_of_someone_else_is_not_found(world, investor, other_investor, owned):
    """Each route in GETS_BY_ID, in turn."""
    for template, spec_path in GETS_BY_ID:
        path = template.format(**owned)
        refused = world.client.get(path, headers=other_investor.basic)
        assert refused.status_code == 404, path
        assert refused.json()["_tag"] == "NotFoundError", path
        mine = world.client.get(path, headers=investor.basic)
        assert mine.status_code == 200, path
        assert_matches(mine, spec_path)


def test_deposit_instructions_of_someone_else_are_not_found(world, investor, other_investor, owned):
    path = f"/v1/accounts/{owned['account']}/deposit-instructions"
    params = {"shareClassId": world.share_classes["EUTBL"], "subscriptionCurrency": "EUR"}
    assert world.client.get(path, params=params, headers=other_investor.basic).status_code == 404
    assert world.client.get(path, params=params, headers=investor.basic).status_code == 200


def test_lists_with_someone_elses_investor_id_are_forbidden(world, investor, other_investor, owned):
    """Each route in LISTS, in turn."""
    for path, spec_path in LISTS:
        params = {"investorId": investor.investor_id}
        forbidden = world.client.get(path, params=params, headers=other_investor.basic)
        assert forbidden.status_code == 403, path
        assert forbidden.json()["_tag"] == "ForbiddenError", path
        theirs = {"investorId": other_investor.investor_id}
        own = world.client.get(path, params=theirs, headers=other_investor.basic)
        assert assert_matches(own, spec_path) == [], path
        mine = world.client.get(path, params=params, headers=investor.basic)
        assert len(assert_matches(mine, spec_path)) >= 1, path


def test_cancels_of_someone_elses_orders_are_not_found(world, investor, other_investor, owned):
    for path in (
        f"/v1/deposit-orders/{owned['deposit']}/cancel",
        f"/v1/withdrawal-orders/{owned['withdrawal']}/cancel",
    ):
        assert world.client.post(path, headers=other_investor.basic).status_code == 404
    assert world.client.get(f"/v1/deposit-orders/{owned['deposit']}", headers=investor.basic).json()[
        "status"
    ] == ("pending")
    withdrawal = world.client.get(
        f"/v1/withdrawal-orders/{owned['withdrawal']}", headers=investor.basic
    ).json()
    assert withdrawal["status"] == "pending"


def test_creates_against_someone_elses_objects(world, investor, other_investor, owned):
    """Orders naming another investor's account or bank account are not found; naming another
    investorId in the body is forbidden. Nothing is created either way."""
    eutbl = world.share_classes["EUTBL"]
    their_account = world.account(other_investor)
    their_bank = world.bank_account(other_investor)
    eur = {"value": "1000.00", "currency": "EUR"}
    not_found = [
        ("/v1/deposit-orders", {"accountId": owned["account"], "shareClassId": eutbl, "amount": eur}),
        ("/v1/subscription-orders", {"accountId": owned["account"], "shareClassId": eutbl, "amount": eur}),
        (
            "/v1/deposit-orders/direct-debit",
            {
                "accountId": their_account,
                "shareClassId": eutbl,
                "amount": eur,
                "bankAccountId": owned["bank"],
            },
        ),
        (
            "/v1/subscription-orders/direct-debit",
            {
                "accountId": their_account,
                "shareClassId": eutbl,
                "amount": eur,
                "bankAccountId": owned["bank"],
            },
        ),
        (
            "/v1/withdrawal-orders",
            {
                "accountId": owned["account"],
                "shareClassId": eutbl,
                "destination": {"type": "bank-transfer", "bankAccountId": their_bank},
                "quantity": {"mode": "total"},
            },
        ),
        (
            "/v1/redemption-orders",
            {
                "accountId": owned["account"],
                "shareClassId": eutbl,
                "amount": eur,
                "bankAccountId": their_bank,
            },
        ),
        (
            "/v1/redemption-orders/instant",
            {
                "accountId": owned["account"],
                "shareClassId": eutbl,
                "amount": eur,
                "bankAccountId": their_bank,
            },
        ),
        (
            "/v1/transfer-orders",
            {
                "investorId": other_investor.investor_id,
                "fromAccountId": owned["account"],
                "toAccountId": their_account,
                "shareClassId": eutbl,
                "transferAmount": {"type": "total"},
            },
        ),
    ]
    for path, body in not_found:
        response = world.client.post(path, json=body, headers=other_investor.basic)
        assert response.status_code == 404, (path, response.text)
    forbidden = [
        ("/v1/accounts", {"type": "internal", "investorId": investor.investor_id, "shareClassId": eutbl}),
        (
            "/v1/transfer-orders",
            {
                "investorId": investor.investor_id,
                "fromAccountId": owned["account"],
                "toAccountId": owned["second"],
                "shareClassId": eutbl,
                "transferAmount": {"type": "total"},
            },
        ),
    ]
    for path, body in forbidden:
        response = world.client.post(path, json=body, headers=other_investor.basic)
        assert response.status_code == 403, (path, response.text)
    for path, _ in LISTS:
        theirs = world.client.get(
            path, params={"investorId": other_investor.investor_id}, headers=other_investor.basic
        ).json()
        expected = {"/v1/accounts": 1, "/v1/bank-accounts": 1}.get(path, 0)
        assert len(theirs) == expected, path
    assert world.holdings(owned["account"]) > 0
