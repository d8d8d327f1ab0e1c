"""Report periods are bounded: days far beyond today, and spans the API does not serve, are refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from spiko.services.reporting.history import FUTURE_MARGIN_DAYS
from tests.conftest import InvestorFixture
from tests.reporting.test_reporting_api import get, known_history
from tests.world import World

ROUTES = ("/accounting-positions/account-history", "/yields/history")


def _refused(response: Any) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["_tag"] == "BadRequestError"
    reason: str = body["reason"]
    return reason


def test_a_period_centuries_ahead_is_refused_at_once(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    ids = known_history(ledger, investor)
    sc = ledger.share_classes["EUTBL"]
    far = {"from": "9998-01-01", "to": "9998-01-05"}
    for route in ROUTES:
        assert "after" in _refused(get(client, investor, route, accountId=ids["a"], shareClassId=sc, **far))
    assert "after" in _refused(
        get(
            client,
            investor,
            "/accounting-positions/history",
            investorId=investor.investor_id,
            shareClassId=sc,
            **far,
        )
    )
    statement = get(
        client,
        investor,
        "/accounting-positions/account-statement",
        investorId=investor.investor_id,
        shareClassSymbol="EUTBL",
        **far,
    )
    assert "after" in _refused(statement)


def test_the_margin_after_today_is_served_and_the_day_after_it_is_not(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    ids = known_history(ledger, investor)
    sc = ledger.share_classes["EUTBL"]
    last_served = ledger.today + timedelta(days=FUTURE_MARGIN_DAYS)
    served = {"from": ledger.today.isoformat(), "to": last_served.isoformat()}
    beyond = {"from": ledger.today.isoformat(), "to": (last_served + timedelta(days=1)).isoformat()}
    for route in ROUTES:
        assert get(client, investor, route, accountId=ids["a"], shareClassId=sc, **served).status_code == 200
        _refused(get(client, investor, route, accountId=ids["a"], shareClassId=sc, **beyond))


def test_a_span_longer_than_served_is_refused(
    ledger: World, investor: InvestorFixture, client: TestClient
) -> None:
    ids = known_history(ledger, investor)
    sc = ledger.share_classes["EUTBL"]
    ancient = {"from": "0001-01-01", "to": ledger.today.isoformat()}
    for route in ROUTES:
        assert "at most" in _refused(
            get(client, investor, route, accountId=ids["a"], shareClassId=sc, **ancient)
        )
