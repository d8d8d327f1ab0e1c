"""Accounts: opening, listing, reading, deposit instructions with a virtual IBAN; isolation and shapes."""

from __future__ import annotations

import re

import pytest

from spiko.domain.iban import is_valid_iban
from tests.orders.conftest import random_id
from tests.spec import assert_matches


def test_open_an_account_and_read_it_back(world, investor):
    response = world.client.post(
        "/v1/accounts",
        json={
            "type": "internal",
            "investorId": investor.investor_id,
            "shareClassId": world.share_classes["EUTBL"],
            "name": "Treasury",
        },
        headers=investor.basic,
    )
    body = assert_matches(response, "/accounts/", "post")
    assert response.status_code == 200
    assert body["investorId"] == investor.investor_id
    assert body["type"] == "internal"
    assert body["name"] == "Treasury"
    assert re.fullmatch(r"0x[0-9a-f]{40}", body["blockchainAccount"]["address"])
    assert body["blockchainAccount"]["network"] == "Ethereum"

    one = world.client.get(f"/v1/accounts/{body['id']}", headers=investor.basic)
    assert assert_matches(one, "/accounts/{accountId}") == body
    listed = world.client.get(
        "/v1/accounts", params={"investorId": investor.investor_id}, headers=investor.basic
    )
    assert assert_matches(listed, "/accounts/") == [body]


@pytest.mark.parametrize("network", ["Polygon", "Starknet", "StellarTestnet"])
def test_accounts_on_other_networks_have_addresses_of_their_format(world, investor, network):
    response = world.client.post(
        "/v1/accounts",
        json={
            "type": "internal",
            "investorId": investor.investor_id,
            "shareClassId": world.share_classes["USTBL"],
            "network": network,
        },
        headers=investor.basic,
    )
    body = assert_matches(response, "/accounts/", "post")
    assert body["blockchainAccount"]["network"] == network
    assert body["name"] is None


def test_refusals_when_opening_an_account(world, investor, other_investor):
    base = {
        "type": "internal",
        "investorId": investor.investor_id,
        "shareClassId": world.share_classes["EUTBL"],
    }
    cases = [
        ({**base, "investorId": other_investor.investor_id}, 403, None),
        ({**base, "shareClassId": random_id()}, 400, "BadRequestError"),
        ({**base, "network": "Solana"}, 400, "BadRequestError"),
        ({**base, "type": "external"}, 400, "HttpApiDecodeError"),
        ({**base, "extra": 1}, 400, "HttpApiDecodeError"),
        ({**base, "name": " padded "}, 400, "HttpApiDecodeError"),
        ({**base, "name": "nul\u0000byte"}, 400, "HttpApiDecodeError"),  # refused at the edge
        ({**base, "name": "x" * 256}, 400, "BadRequestError"),
        ({k: v for k, v in base.items() if k != "shareClassId"}, 400, "HttpApiDecodeError"),
    ]
    for body, status, tag in cases:
        response = world.client.post("/v1/accounts", json=body, headers=investor.basic)
        assert response.status_code == status, (body, response.text)
        answer = assert_matches(response, "/accounts/", "post")
        if tag:
            assert answer["_tag"] == tag
    listed = world.client.get(
        "/v1/accounts", params={"investorId": investor.investor_id}, headers=investor.basic
    )
    assert listed.json() == []


def test_deposit_instructions_give_the_accounts_own_virtual_iban(world, investor):
    first = world.account(investor)
    second = world.account(investor)
    ibans = []
    for account in (first, second):
        response = world.client.get(
            f"/v1/accounts/{account}/deposit-instructions",
            params={"shareClassId": world.share_classes["EUTBL"], "subscriptionCurrency": "EUR"},
            headers=investor.basic,
        )
        body = assert_matches(response, "/accounts/{accountId}/deposit-instructions")
        assert body["shareClassCurrency"] == "EUR"
        (entry,) = body["accounts"]
        assert entry["rails"] == ["SCT", "SCT Instant"]
        ibans.append(entry["accountDetails"]["iban"])
    assert all(is_valid_iban(value) and value.startswith("FR") for value in ibans)
    assert ibans[0] != ibans[1]

    # Another currency than the share class's: no virtual account provisioned.
    other = world.client.get(
        f"/v1/accounts/{first}/deposit-instructions",
        params={"shareClassId": world.share_classes["EUTBL"], "subscriptionCurrency": "USD"},
        headers=investor.basic,
    )
    assert assert_matches(other, "/accounts/{accountId}/deposit-instructions")["accounts"] == []


def test_account_isolation(world, investor, other_investor):
    mine = world.account(investor)
    world.account(other_investor)
    for path, params in (
        (f"/v1/accounts/{mine}", {}),
        (
            f"/v1/accounts/{mine}/deposit-instructions",
            {"shareClassId": world.share_classes["EUTBL"], "subscriptionCurrency": "EUR"},
        ),
    ):
        response = world.client.get(path, params=params, headers=other_investor.basic)
        assert response.status_code == 404
        assert response.json()["_tag"] == "NotFoundError"
    forbidden = world.client.get(
        "/v1/accounts", params={"investorId": investor.investor_id}, headers=other_investor.basic
    )
    assert forbidden.status_code == 403
    assert forbidden.json()["_tag"] == "ForbiddenError"
    theirs = world.client.get(
        "/v1/accounts", params={"investorId": other_investor.investor_id}, headers=other_investor.basic
    )
    assert [a["id"] for a in theirs.json()] != [mine] and len(theirs.json()) == 1


def test_unknown_ids_and_missing_parameters(world, investor):
    assert world.client.get(f"/v1/accounts/{random_id()}", headers=investor.basic).status_code == 404
    assert world.client.get("/v1/accounts/not-a-uuid", headers=investor.basic).status_code == 404
    missing = world.client.get("/v1/accounts", headers=investor.basic)
    assert assert_matches(missing, "/accounts/")["_tag"] == "HttpApiDecodeError"
    unauthenticated = world.client.get("/v1/accounts", params={"investorId": investor.investor_id})
    assert assert_matches(unauthenticated, "/accounts/")["_tag"] == "InvestorAuthenticationError"
