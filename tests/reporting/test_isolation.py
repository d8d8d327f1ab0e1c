"""Isolation: an investor's credentials reach only that investor's reporting data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from tests.conftest import InvestorFixture
from tests.spec import assert_matches
from tests.world import World

PERIOD = {"from": "2025-01-06", "to": "2025-01-08"}


@pytest.fixture
def victim_account(ledger: World, investor: InvestorFixture) -> str:
    account = ledger.open_account(investor, name="Victim")
    ledger.next_day()
    ledger.book_deposit(investor, account, "5000.00")
    ledger.execute()
    ledger.next_day()
    return account


def _routes(ledger: World, owner: InvestorFixture, account: str) -> dict[str, tuple[str, dict[str, str]]]:
    sc = ledger.share_classes["EUTBL"]
    return {
        "account-transactions": ("/account-transactions/", {"accountId": account}),
        "account-history": (
            "/accounting-positions/account-history",
            {"accountId": account, "shareClassId": sc, **PERIOD},
        ),
        "yields": ("/yields/history", {"accountId": account, "shareClassId": sc, **PERIOD}),
        "statement": (
            "/accounting-positions/account-statement",
            {"accountId": account, "shareClassSymbol": "EUTBL", **PERIOD},
        ),
    }


@pytest.mark.parametrize("route", ["account-transactions", "account-history", "yields", "statement"])
def test_someone_elses_account_is_not_found(
    route: str,
    ledger: World,
    investor: InvestorFixture,
    other_investor: InvestorFixture,
    victim_account: str,
    client: TestClient,
) -> None:
    spec_path, params = _routes(ledger, investor, victim_account)[route]
    if route == "statement":
        params = {**params, "investorId": other_investor.investor_id}
    response = client.get("/v1" + spec_path.rstrip("/"), params=params, headers=other_investor.basic)
    assert response.status_code == 404, response.text
    assert response.json()["_tag"] == "NotFoundError"
    assert_matches(response, spec_path)
    # The owner reads the same thing.
    if route == "statement":
        params = {**params, "investorId": investor.investor_id}
    assert client.get("/v1" + spec_path.rstrip("/"), params=params, headers=investor.basic).status_code == 200


@pytest.mark.parametrize(
    ("spec_path", "extra"),
    [
        ("/portfolio/", {}),
        ("/portfolio/totals", {}),
        ("/accounting-positions/history", {"shareClassId": "SC", **PERIOD}),
        ("/accounting-positions/account-statement", {"shareClassSymbol": "EUTBL", **PERIOD}),
    ],
)
def test_another_investor_id_is_forbidden(
    spec_path: str,
    extra: dict[str, str],
    ledger: World,
    investor: InvestorFixture,
    other_investor: InvestorFixture,
    victim_account: str,
    client: TestClient,
) -> None:
    params = {k: ledger.share_classes["EUTBL"] if v == "SC" else v for k, v in extra.items()}
    response = client.get(
        "/v1" + spec_path.rstrip("/"),
        params={"investorId": investor.investor_id, **params},
        headers=other_investor.basic,
    )
    assert response.status_code == 403, response.text
    assert response.json()["_tag"] == "ForbiddenError"
    own = client.get(
        "/v1" + spec_path.rstrip("/"),
        params={"investorId": other_investor.investor_id, **params},
        headers=other_investor.basic,
    )
    assert own.status_code == 200
    if spec_path == "/portfolio/":
        assert assert_matches(own, spec_path) == {"investorId": other_investor.investor_id, "items": []}
    elif spec_path == "/portfolio/totals":
        assert assert_matches(own, spec_path) == []
    elif spec_path == "/accounting-positions/history":
        assert assert_matches(own, spec_path) == []  # no account, no position
        ledger.open_account(other_investor)
        days = assert_matches(client.get(own.request.url, headers=other_investor.basic), spec_path)
        assert [d["holdings"]["value"] for d in days] == ["0.00"] * 3


@pytest.mark.parametrize(
    "path",
    [
        "/v1/account-transactions",
        "/v1/portfolio",
        "/v1/portfolio/totals",
        "/v1/accounting-positions/history",
        "/v1/accounting-positions/account-history",
        "/v1/accounting-positions/account-statement",
        "/v1/yields/history",
    ],
)
def test_every_route_needs_credentials(path: str, client: TestClient) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.json()["_tag"] == "InvestorAuthenticationError"


def test_the_investor_history_never_includes_other_investors(
    ledger: World,
    investor: InvestorFixture,
    other_investor: InvestorFixture,
    victim_account: str,
    client: TestClient,
) -> None:
    mine = ledger.open_account(other_investor)
    ledger.book_deposit(other_investor, mine, "2000.00")
    ledger.execute()
    days = client.get(
        "/v1/accounting-positions/history",
        params={
            "investorId": other_investor.investor_id,
            "shareClassId": ledger.share_classes["EUTBL"],
            **PERIOD,
        },
        headers=other_investor.basic,
    ).json()
    assert all(d["accountIds"] == [mine] for d in days if d["accountIds"])
    assert Decimal(days[-1]["subscriptions"]["total"]["value"]) == Decimal("2000.00")
