"""Scoped credentials on every /v1 operation: reads answer as normal, writes outside the scopes 403.

The walk covers all 35 operations of the reference, with an API key and an OAuth token narrowed
to ``read``, one key per single scope, and a full-access key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from spiko.api.ops import load_spec
from spiko.auth import scopes
from spiko.config import Settings
from spiko.services import identity
from tests.conftest import TEST_SECRET_KEY, InvestorFixture, basic_auth
from tests.oauth.helpers import bearer, register_app, sign_in, tokens_for
from tests.orders.conftest import TODAY, World

PERIOD = {"from": (TODAY - timedelta(days=7)).isoformat(), "to": TODAY.isoformat()}


@pytest.fixture
def settings(database_url: str) -> Settings:
    # OAuth over plain http is allowed on a loopback issuer only (RFC 8252).
    return Settings(database_url=database_url, issuer="http://localhost", secret_key=TEST_SECRET_KEY)


@dataclass(frozen=True)
class Call:
    operation_id: str
    method: str
    path: str
    params: dict[str, str]
    body: dict[str, Any] | None = None


@dataclass
class Holdings:
    """The investor's objects that the walk reads and acts on."""

    account: str
    second: str
    bank: str
    deposit: str
    withdrawal: str
    transfer: str


@pytest.fixture
def holdings(world: World, investor: InvestorFixture) -> Holdings:
    world.publish("EUTBL", TODAY, "1.045300")
    account = world.account(investor)
    second = world.account(investor)
    bank = world.bank_account(investor)
    world.invest(investor, account, "10000.00")
    deposit = world.deposit(investor, account, "1000.00").json()["id"]
    withdrawal = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "500"}).json()["id"]
    transfer = world.transfer(investor, account, second, {"type": "in-shares", "sharesAmount": "100"})
    return Holdings(account, second, bank, deposit, withdrawal, transfer.json()["id"])


def calls(world: World, investor: InvestorFixture, h: Holdings) -> list[Call]:
    """One well-formed request per operation of the reference, on the investor's own objects."""
    me = {"investorId": investor.investor_id}
    eutbl = world.share_classes["EUTBL"]
    amount = {"value": "100.00", "currency": "EUR"}
    order = {"accountId": h.account, "shareClassId": eutbl, "amount": amount}
    debit = {**order, "bankAccountId": h.bank}
    return [
        Call("investors.getInvestors", "GET", "/v1/investors", {}),
        Call("investors.getInvestor", "GET", "/v1/investors/me", {}),
        Call("accounts.getAccounts", "GET", "/v1/accounts", me),
        Call("accounts.getAccount", "GET", f"/v1/accounts/{h.account}", {}),
        Call(
            "accounts.getDepositInstructions",
            "GET",
            f"/v1/accounts/{h.account}/deposit-instructions",
            {"shareClassId": eutbl, "subscriptionCurrency": "EUR"},
        ),
        Call("bankAccounts.getBankAccounts", "GET", "/v1/bank-accounts", me),
        Call("bankAccounts.getBankAccountById", "GET", f"/v1/bank-accounts/{h.bank}", {}),
        Call("depositOrders.getDepositOrders", "GET", "/v1/deposit-orders", me),
        Call("depositOrders.getDepositOrder", "GET", f"/v1/deposit-orders/{h.deposit}", {}),
        Call("subscriptionOrders.getSubscriptionOrders", "GET", "/v1/subscription-orders", me),
        Call("subscriptionOrders.getSubscriptionOrder", "GET", f"/v1/subscription-orders/{h.deposit}", {}),
        Call("withdrawalOrders.getWithdrawalOrders", "GET", "/v1/withdrawal-orders", me),
        Call("withdrawalOrders.getWithdrawalOrder", "GET", f"/v1/withdrawal-orders/{h.withdrawal}", {}),
        Call("redemptionOrders.getRedemptionOrders", "GET", "/v1/redemption-orders", me),
        Call("redemptionOrders.getRedemptionOrder", "GET", f"/v1/redemption-orders/{h.withdrawal}", {}),
        Call("transferOrders.getTransferOrders", "GET", "/v1/transfer-orders", me),
        Call("transferOrders.getTransferOrder", "GET", f"/v1/transfer-orders/{h.transfer}", {}),
        Call(
            "accountTransactions.getAccountTransactions",
            "GET",
            "/v1/account-transactions",
            {"accountId": h.account},
        ),
        Call("portfolio.getPortfolio", "GET", "/v1/portfolio", me),
        Call("portfolio.getPortfolioTotals", "GET", "/v1/portfolio/totals", me),
        Call(
            "accountingPositions.getInvestorAccountingPositionsHistory",
            "GET",
            "/v1/accounting-positions/history",
            {**me, "shareClassId": eutbl, **PERIOD},
        ),
        Call(
            "accountingPositions.getAccountingPositionsHistory",
            "GET",
            "/v1/accounting-positions/account-history",
            {"accountId": h.account, "shareClassId": eutbl, **PERIOD},
        ),
        Call(
            "accountingPositions.downloadAccountStatement",
            "GET",
            "/v1/accounting-positions/account-statement",
            {**me, "shareClassSymbol": "EUTBL", **PERIOD},
        ),
        Call(
            "yields.getYieldHistory",
            "GET",
            "/v1/yields/history",
            {"accountId": h.account, "shareClassId": eutbl, **PERIOD},
        ),
        # Writes.
        Call(
            "accounts.createAccount",
            "POST",
            "/v1/accounts",
            {},
            {"type": "internal", "investorId": investor.investor_id, "shareClassId": eutbl},
        ),
        Call("depositOrders.createDepositOrder", "POST", "/v1/deposit-orders", {}, order),
        Call(
            "depositOrders.createDepositOrderByDirectDebit",
            "POST",
            "/v1/deposit-orders/direct-debit",
            {},
            debit,
        ),
        Call("depositOrders.cancelDepositOrder", "POST", f"/v1/deposit-orders/{h.deposit}/cancel", {}),
        Call("subscriptionOrders.createSubscriptionOrder", "POST", "/v1/subscription-orders", {}, order),
        Call(
            "subscriptionOrders.createSubscriptionOrderByDirectDebit",
            "POST",
            "/v1/subscription-orders/direct-debit",
            {},
            debit,
        ),
        Call(
            "withdrawalOrders.createWithdrawalOrder",
            "POST",
            "/v1/withdrawal-orders",
            {},
            {
                "accountId": h.account,
                "shareClassId": eutbl,
                "destination": {"type": "bank-transfer", "bankAccountId": h.bank},
                "quantity": {"mode": "shares", "shares": "10"},
            },
        ),
        Call(
            "withdrawalOrders.cancelWithdrawalOrder",
            "POST",
            f"/v1/withdrawal-orders/{h.withdrawal}/cancel",
            {},
        ),
        Call("redemptionOrders.createRedemptionOrder", "POST", "/v1/redemption-orders", {}, debit),
        Call(
            "redemptionOrders.createInstantRedemptionOrder",
            "POST",
            "/v1/redemption-orders/instant",
            {},
            debit,
        ),
        Call(
            "transferOrders.createTransferOrder",
            "POST",
            "/v1/transfer-orders",
            {},
            {
                "investorId": investor.investor_id,
                "fromAccountId": h.account,
                "toAccountId": h.second,
                "shareClassId": eutbl,
                "transferAmount": {"type": "in-shares", "sharesAmount": "10"},
            },
        ),
    ]


def send(client: TestClient, call: Call, headers: dict[str, str]) -> Any:
    return client.request(call.method, call.path, params=call.params, json=call.body, headers=headers)


def same_answer(response: Any, expected: Any) -> bool:
    if response.status_code != expected.status_code:
        return False
    if response.headers.get("content-type", "").startswith("application/json"):
        return bool(response.json() == expected.json())
    return bool(response.headers.get("content-type") == expected.headers.get("content-type"))


def scoped_key(world: World, investor: InvestorFixture, *names: str) -> dict[str, str]:
    with world.ctx.transaction() as session:
        key = identity.create_api_key(
            session,
            world.ctx.api_keys,
            investor_id=investor.investor_id,
            name=" ".join(names),
            max_live_keys=50,
            scopes=list(names),
        )
    return basic_auth(key.client_id, key.client_secret)


def read_only_token(world: World, investor: InvestorFixture, scope: str = "offline read") -> dict[str, Any]:
    app = register_app(world.ctx, name="Ledger Sync")
    with TestClient(world.client.app, raise_server_exceptions=False, base_url="http://testserver") as browser:
        sign_in(browser, investor.email, investor.password)
        return tokens_for(browser, app, scope=scope)


def snapshot(world: World, investor: InvestorFixture) -> list[Any]:
    """What writes would change, as the full-access key sees it."""
    me = {"investorId": investor.investor_id}
    paths = ["/v1/accounts", "/v1/deposit-orders", "/v1/withdrawal-orders", "/v1/transfer-orders"]
    return [world.client.get(path, params=me, headers=investor.basic).json() for path in paths]


def test_the_walk_covers_every_operation_of_the_reference(world, investor, holdings):
    document = load_spec("investor")
    reference = {
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }
    walked = [call.operation_id for call in calls(world, investor, holdings)]
    assert len(walked) == len(set(walked)) == 35
    assert set(walked) == reference


@pytest.mark.parametrize("credential", ["api_key", "oauth"])
def test_read_only_credentials_read_everything_and_write_nothing(world, investor, holdings, credential):
    if credential == "api_key":
        headers = scoped_key(world, investor, "read")
    else:
        headers = bearer(read_only_token(world, investor)["access_token"])
    before = snapshot(world, investor)
    for call in calls(world, investor, holdings):
        response = send(world.client, call, headers)
        if call.method == "GET":
            expected = send(world.client, call, investor.basic)
            assert expected.status_code == 200, (call.operation_id, expected.text)
            assert same_answer(response, expected), (call.operation_id, response.status_code, response.text)
        else:
            assert response.status_code == 403, (call.operation_id, response.status_code, response.text)
            body = response.json()
            assert body["_tag"] == "ForbiddenError", call.operation_id
            assert scopes.OPERATION_SCOPES[call.operation_id] in body["message"]
    assert snapshot(world, investor) == before  # nothing was written


def test_a_full_access_key_still_reaches_every_operation(world, investor, holdings):
    for call in calls(world, investor, holdings):
        response = send(world.client, call, investor.basic)
        assert response.status_code != 403, (call.operation_id, response.text)
        assert response.status_code < 500, (call.operation_id, response.text)
        if call.method == "GET":
            assert response.status_code == 200, (call.operation_id, response.text)


EXTENSION_FAMILIES = {"events:read", "webhooks:read", "webhooks:write"}
REFERENCE_FAMILIES = sorted(set(scopes.OPERATION_SCOPES.values()) - EXTENSION_FAMILIES)


@pytest.mark.parametrize("scope", REFERENCE_FAMILIES)
def test_a_key_with_one_scope_reaches_that_family_only(world, investor, holdings, scope):
    headers = scoped_key(world, investor, scope)
    reached = set()
    for call in calls(world, investor, holdings):
        response = send(world.client, call, headers)
        if scopes.OPERATION_SCOPES[call.operation_id] == scope:
            reached.add(call.operation_id)
            assert response.status_code != 403, (call.operation_id, response.text)
            assert response.status_code < 500, (call.operation_id, response.text)
            if call.method == "GET":
                assert same_answer(response, send(world.client, call, investor.basic)), call.operation_id
        else:
            assert response.status_code == 403, (call.operation_id, response.status_code, response.text)
            assert response.json()["_tag"] == "ForbiddenError"
    reference = {call.operation_id for call in calls(world, investor, holdings)}
    assert reached == {op for op, needed in scopes.OPERATION_SCOPES.items() if needed == scope} & reference
    assert reached


EXTENSION_CALLS = {
    "events:read": [("GET", "/v1/events", None)],
    "webhooks:read": [("GET", "/v1/webhook-endpoints", None)],
    "webhooks:write": [("POST", "/v1/webhook-endpoints", {"url": "https://hooks.example.com/spiko"})],
}


@pytest.mark.parametrize("scope", sorted(EXTENSION_FAMILIES))
def test_the_extensions_need_their_own_scopes(world, investor, scope):
    """Events and webhook endpoints (beyond the reference) are reached by their scope and no other."""
    headers = scoped_key(world, investor, scope)
    read_only = scoped_key(world, investor, "read")
    for needed, requests in EXTENSION_CALLS.items():
        for method, path, body in requests:
            response = world.client.request(method, path, json=body, headers=headers)
            if needed == scope:
                assert response.status_code == 200, (path, response.text)
            else:
                assert response.status_code == 403, (path, response.text)
                assert response.json()["_tag"] == "ForbiddenError"
            by_read = world.client.request(method, path, json=body, headers=read_only)
            assert by_read.status_code == (200 if needed.endswith(":read") else 403), (path, by_read.text)


def test_a_token_with_one_write_scope_places_orders_but_reads_nothing(world, investor, holdings):
    token = read_only_token(world, investor, scope="offline orders:write")
    headers = bearer(token["access_token"])
    for call in calls(world, investor, holdings):
        response = send(world.client, call, headers)
        if scopes.OPERATION_SCOPES[call.operation_id] == "orders:write":
            assert response.status_code not in (401, 403) and response.status_code < 500, call.operation_id
        else:
            assert response.status_code == 403, (call.operation_id, response.text)


def test_scopes_never_reach_another_investor(world, investor, other_investor, holdings):
    """A read-only key of another investor: 404 on the investor's objects, 403 on its investorId."""
    headers = scoped_key(world, other_investor, "read")
    for call in calls(world, investor, holdings):
        if call.method != "GET" or call.operation_id.startswith("investors."):
            continue
        response = send(world.client, call, headers)
        assert response.status_code in (403, 404), (call.operation_id, response.status_code)
        if response.status_code == 403:
            assert "investorId" in call.params
    mine = world.client.get("/v1/investors/me", headers=headers).json()
    assert mine["id"] == other_investor.investor_id


def test_a_scoped_key_is_refused_on_every_write_with_any_body(world, investor, holdings):
    """The scope is checked before the body is judged: a bad body still answers 403, not 400."""
    headers = scoped_key(world, investor, "orders:read")
    for call in calls(world, investor, holdings):
        if call.method == "POST":
            response = world.client.post(call.path, json={"unexpected": True}, headers=headers)
            assert response.status_code == 403, (call.operation_id, response.text)
