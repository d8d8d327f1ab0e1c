"""Every accounts and orders operation answers its refusals in the reference's shapes.

(The successes and rule errors are validated where each behaviour is tested; this file covers the
generic answers every operation gives: 401 without credentials, 400 for an undecodable request.)
"""

from __future__ import annotations

from tests.orders.conftest import random_id
from tests.spec import assert_matches

ID = "3f2b3f5e-8a41-4c1e-9d55-0c6f3b0b2a11"

OPERATIONS = [
    ("post", "/v1/accounts", "/accounts/"),
    ("get", "/v1/accounts?investorId=" + ID, "/accounts/"),
    ("get", f"/v1/accounts/{ID}", "/accounts/{accountId}"),
    ("get", f"/v1/accounts/{ID}/deposit-instructions", "/accounts/{accountId}/deposit-instructions"),
    ("get", f"/v1/bank-accounts/{ID}", "/bank-accounts/{bankAccountId}"),
    ("get", "/v1/bank-accounts?investorId=" + ID, "/bank-accounts/"),
    ("post", "/v1/deposit-orders", "/deposit-orders/"),
    ("get", "/v1/deposit-orders?investorId=" + ID, "/deposit-orders/"),
    ("post", f"/v1/deposit-orders/{ID}/cancel", "/deposit-orders/{depositOrderId}/cancel"),
    ("get", f"/v1/deposit-orders/{ID}", "/deposit-orders/{depositOrderId}"),
    ("post", "/v1/deposit-orders/direct-debit", "/deposit-orders/direct-debit/"),
    ("post", "/v1/subscription-orders", "/subscription-orders/"),
    ("get", "/v1/subscription-orders?investorId=" + ID, "/subscription-orders/"),
    ("post", "/v1/subscription-orders/direct-debit", "/subscription-orders/direct-debit/"),
    ("get", f"/v1/subscription-orders/{ID}", "/subscription-orders/{subscriptionOrderId}"),
    ("post", "/v1/withdrawal-orders", "/withdrawal-orders/"),
    ("get", "/v1/withdrawal-orders?investorId=" + ID, "/withdrawal-orders/"),
    ("post", f"/v1/withdrawal-orders/{ID}/cancel", "/withdrawal-orders/{withdrawalOrderId}/cancel"),
    ("get", f"/v1/withdrawal-orders/{ID}", "/withdrawal-orders/{withdrawalOrderId}"),
    ("post", "/v1/redemption-orders", "/redemption-orders/"),
    ("get", "/v1/redemption-orders?investorId=" + ID, "/redemption-orders/"),
    ("post", "/v1/redemption-orders/instant", "/redemption-orders/instant"),
    ("get", f"/v1/redemption-orders/{ID}", "/redemption-orders/{redemptionOrderId}"),
    ("post", "/v1/transfer-orders", "/transfer-orders/"),
    ("get", "/v1/transfer-orders?investorId=" + ID, "/transfer-orders/"),
    ("get", f"/v1/transfer-orders/{ID}", "/transfer-orders/{transferOrderId}"),
]


def test_without_credentials_every_operation_answers_the_tagged_401(client):
    for method, url, spec_path in OPERATIONS:
        response = client.request(method.upper(), url, json={} if method == "post" else None)
        assert response.status_code == 401, url
        assert response.headers["WWW-Authenticate"].startswith("Basic"), url
        assert assert_matches(response, spec_path, method)["_tag"] == "InvestorAuthenticationError"


CREATES = [
    (method, url, spec) for method, url, spec in OPERATIONS if method == "post" and "cancel" not in url
]


def test_undecodable_bodies_answer_http_api_decode_error(client, investor):
    for method, url, spec_path in CREATES:
        for body in ({}, {"unexpected": True}, [], "not json"):
            if body == "not json":
                headers = {**investor.basic, "Content-Type": "application/json"}
                response = client.post(url, content=b"{not json", headers=headers)
            else:
                response = client.post(url, json=body, headers=investor.basic)
            assert response.status_code == 400, (url, body)
            decoded = assert_matches(response, spec_path, method)
            assert decoded["_tag"] == "HttpApiDecodeError" and decoded["issues"], (url, body)


def test_lists_need_a_uuid_investor_id(client, investor):
    for _, url, spec_path in OPERATIONS:
        if "investorId" not in url:
            continue
        path = url.split("?")[0]
        for params in ({}, {"investorId": "not-a-uuid"}):
            response = client.get(path, params=params, headers=investor.basic)
            assert response.status_code == 400, (path, params)
            assert assert_matches(response, spec_path)["_tag"] == "HttpApiDecodeError"
        assert client.get(path, params={"investorId": random_id()}, headers=investor.basic).status_code == 403


def test_malformed_ids_in_paths_answer_404_not_500(client, investor):
    for method, url, _ in OPERATIONS:
        if ID not in url or "investorId" in url:
            continue
        for bad in ("%00abc", "a%00b", "x" * 300, "not-a-uuid", "%F0%9F%92%A5"):
            params = {"shareClassId": ID, "subscriptionCurrency": "EUR"} if "instructions" in url else None
            response = client.request(
                method.upper(), url.replace(ID, bad), params=params, headers=investor.basic
            )
            assert response.status_code == 404, (url, bad, response.text)
            assert response.json()["_tag"] == "NotFoundError"
