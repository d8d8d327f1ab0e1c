"""The events outbox: every change writes its event in its own transaction; /v1/events reads them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from spiko.db.models.webhooks import Event
from spiko.services import deposits, identity
from tests.orders.conftest import World


def events_of(client: Any, investor: Any, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/events", params={"direction": "asc", **params}, headers=investor.basic)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def test_a_deposit_lifecycle_writes_its_events_in_order(world: World, investor: Any) -> None:
    account = world.account(investor)
    created = world.deposit(investor, account, "1000.00").json()
    world.fund(created["wireInstructions"]["reference"])
    world.publish("EUTBL", world.today, "1.046000")
    world.execute()
    deposit_events = [e for e in events_of(world.client, investor) if e["type"].startswith("deposit_order.")]
    assert [e["type"] for e in deposit_events] == [
        "deposit_order.created",
        "deposit_order.funded",
        "deposit_order.executed",
    ]
    assert {e["data"]["id"] for e in deposit_events} == {created["id"]}
    # data is the order as GET /v1/deposit-orders/{id} shows it at that moment
    assert deposit_events[0]["data"]["status"] == "pending" and deposit_events[0]["data"]["fundedAt"] is None
    assert deposit_events[1]["data"]["fundedAt"] is not None
    executed = deposit_events[2]["data"]
    assert executed == world.client.get(f"/v1/deposit-orders/{created['id']}", headers=investor.basic).json()
    everything = events_of(world.client, investor)
    assert [e["sequence"] for e in everything] == list(range(1, len(everything) + 1))


def test_cancel_withdraw_and_transfer_write_their_events(world: World, investor: Any) -> None:
    account = world.account(investor)
    other_account = world.account(investor)
    canceled = world.deposit(investor, account, "1000.00").json()
    assert world.client.post(
        f"/v1/deposit-orders/{canceled['id']}/cancel", headers=investor.basic
    ).status_code in (200, 204)
    world.publish("EUTBL", world.today, "1.046000")
    world.invest(investor, account, "2000.00")
    bank = world.bank_account(investor)
    withdrawal = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "100"})
    assert withdrawal.status_code == 200, withdrawal.text
    canceled_withdrawal = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "100"}).json()
    cancel = world.client.post(
        f"/v1/withdrawal-orders/{canceled_withdrawal['id']}/cancel", headers=investor.basic
    )
    assert cancel.status_code == 200, cancel.text
    moved = world.transfer(investor, account, other_account, {"type": "in-shares", "sharesAmount": "100"})
    assert moved.status_code == 200, moved.text
    types = [e["type"] for e in events_of(world.client, investor)]
    for expected in (
        "deposit_order.canceled",
        "withdrawal_order.created",
        "withdrawal_order.canceled",
        "transfer_order.created",
        "transfer_order.executed",
    ):
        assert expected in types
    assert types.index("transfer_order.created") < types.index("transfer_order.executed")


def test_a_refused_change_writes_no_event_and_a_rolled_back_one_leaves_none(
    world: World, investor: Any, ctx: Any
) -> None:
    account = world.account(investor)
    before = len(events_of(world.client, investor))
    refused = world.client.post(
        "/v1/deposit-orders",
        json={
            "accountId": account,
            "shareClassId": world.share_classes["EUTBL"],
            "amount": {"value": "0.01", "currency": "EUR"},
        },
        headers=investor.basic,
    )
    assert refused.status_code == 400
    with pytest.raises(RuntimeError), ctx.transaction() as session:
        deposits.create_deposit(
            session,
            investor_id=investor.investor_id,
            account_id=account,
            share_class_id=world.share_classes["EUTBL"],
            amount=world_amount(),
            currency="EUR",
        )
        raise RuntimeError("the change fails after its event was written")
    assert len(events_of(world.client, investor)) == before


def world_amount() -> Any:
    from decimal import Decimal

    return Decimal("1000.00")


def test_nav_published_reaches_every_investor(world: World, investor: Any, other_investor: Any) -> None:
    world.publish("EUTBL", world.today, "1.046000")
    for who in (investor, other_investor):
        navs = events_of(world.client, who, type="nav.published")
        assert len(navs) == 1 and navs[0]["data"]["shareClassId"] == world.share_classes["EUTBL"]


def test_api_keys_and_yields_write_events(world: World, investor: Any, ctx: Any) -> None:
    with ctx.transaction() as session:
        key = identity.create_api_key(
            session, ctx.api_keys, investor_id=investor.investor_id, name="ci", max_live_keys=20
        )
    with ctx.transaction() as session:
        identity.revoke_api_key(session, client_id=key.client_id, investor_id=investor.investor_id)
    created, revoked = [
        e
        for e in events_of(world.client, investor, type=["api_key.created", "api_key.revoked"])
        if e["data"]["clientId"] == key.client_id
    ]
    assert created["type"] == "api_key.created" and revoked["type"] == "api_key.revoked"
    assert created["data"]["clientId"] == key.client_id and "secret" not in str(created["data"]).lower()
    assert key.client_secret not in str(created) + str(revoked)
    account = world.account(investor)
    world.publish("EUTBL", world.today, "1.046000")
    world.invest(investor, account, "5000.00")
    for _ in range(2):
        response = world.client.post("/sandbox/advance", json={"days": 1}, headers=investor.basic)
        assert response.status_code == 200, response.text
    yields = events_of(world.client, investor, type="yield.booked")
    assert yields, "a day of holding shares at a higher NAV books a yield"
    assert len({(e["data"]["accountId"], e["data"]["day"]) for e in yields}) == len(yields)
    with ctx.transaction() as session:
        from datetime import timedelta

        from spiko.services import sandbox

        walked = world.today + timedelta(days=1)  # the days the two steps walked
        again = sandbox.book_yields(session, walked, walked.replace(year=walked.year + 1))
    assert again == 0  # a day's yield is booked once


def test_paging_filters_and_get(world: World, investor: Any) -> None:
    account = world.account(investor)
    ids = [world.deposit(investor, account, "1000.00").json()["id"] for _ in range(5)]
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "type": "deposit_order.created"}
        if cursor:
            params["cursor"] = cursor
        page = world.client.get("/v1/events", params=params, headers=investor.basic).json()
        seen += page["data"]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert [e["data"]["id"] for e in seen] == list(reversed(ids))  # newest first
    one = world.client.get(f"/v1/events/{seen[0]['id']}", headers=investor.basic)
    assert one.status_code == 200 and one.json() == seen[0]
    later = world.client.get(
        "/v1/events", params={"createdAfter": seen[0]["createdAt"]}, headers=investor.basic
    ).json()["data"]
    assert [e["id"] for e in later] == [seen[0]["id"]]
    assert (
        world.client.get("/v1/events", params={"type": "nope.nope"}, headers=investor.basic).status_code
        == 400
    )
    tampered = world.client.get("/v1/events", params={"cursor": "abc"}, headers=investor.basic)
    assert tampered.status_code == 400 and tampered.json()["_tag"] == "HttpApiDecodeError"


def test_an_investor_never_sees_another_investors_events(
    world: World, investor: Any, other_investor: Any, ctx: Any
) -> None:
    account = world.account(investor)
    world.deposit(investor, account, "1000.00")
    mine = events_of(world.client, investor)
    assert mine
    theirs = events_of(world.client, other_investor)
    assert not {e["id"] for e in mine} & {e["id"] for e in theirs}
    assert {e["data"].get("clientId") for e in theirs} == {other_investor.client_id}
    response = world.client.get(f"/v1/events/{mine[0]['id']}", headers=other_investor.basic)
    assert response.status_code == 404 and response.json()["_tag"] == "NotFoundError"
    assert world.client.get("/v1/events").status_code == 401
    with ctx.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Event)) == len(mine) + len(theirs)


def test_the_extensions_are_in_openapi_json_only(client: Any) -> None:
    ours = client.get("/openapi.json").json()["paths"]
    reference = client.get("/v1/docs/openapi.json").json()["paths"]
    for path in ("/v1/events", "/v1/events/{eventId}", "/v1/webhook-endpoints"):
        assert path in ours
        assert path.removeprefix("/v1") not in reference and path not in reference


def test_concurrent_writers_number_an_investors_events_without_gaps(
    world: World, investor: Any, ctx: Any
) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from decimal import Decimal

    account = world.account(investor)
    world.publish("EUTBL", world.today, "1.046000")

    def create(_: int) -> None:
        with ctx.transaction() as session:
            deposits.create_deposit(
                session,
                investor_id=investor.investor_id,
                account_id=account,
                share_class_id=world.share_classes["EUTBL"],
                amount=Decimal("1000.00"),
                currency="EUR",
            )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, range(12)))
    everything = events_of(world.client, investor)
    assert [e["sequence"] for e in everything] == list(range(1, len(everything) + 1))
    assert len([e for e in everything if e["type"] == "deposit_order.created"]) == 12


def test_a_statement_is_available_once_its_month_has_ended(
    world: World, investor: Any, other_investor: Any
) -> None:
    from datetime import date, timedelta

    account = world.account(investor)
    world.publish("EUTBL", world.today, "1.046000")
    world.invest(investor, account, "5000.00")
    month = world.today.replace(day=1)
    statements: list[dict[str, Any]] = []
    for _ in range(40):  # business days, one at a time, until the month has ended
        response = world.client.post("/sandbox/advance", json={"days": 1}, headers=investor.basic)
        assert response.status_code == 200, response.text
        statements = events_of(world.client, investor, type="statement.available")
        if statements:
            break
    (told,) = statements
    data = told["data"]
    last = date.fromisoformat(data["to"])
    assert data["from"] == month.isoformat() and last.month == month.month
    assert (last.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1) == last
    assert data["accountId"] == account and data["shareClassSymbol"] == "EUTBL"
    pdf = world.client.get(data["path"], headers=investor.basic)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert events_of(world.client, other_investor, type="statement.available") == [], "no shares, none"
    world.client.post("/sandbox/advance", json={"days": 1}, headers=investor.basic)
    assert len(events_of(world.client, investor, type="statement.available")) == 1, "told once"


@pytest.mark.parametrize(
    ("previous", "today", "ended"),
    [
        ("2026-01-30", "2026-02-02", ["2026-01"]),
        ("2026-01-31", "2026-02-01", ["2026-01"]),
        ("2026-02-01", "2026-02-02", []),
        ("2026-01-15", "2026-01-31", []),
        ("2025-12-31", "2026-03-02", ["2025-12", "2026-01", "2026-02"]),
    ],
)
def test_the_months_that_end_as_the_clock_moves(previous: str, today: str, ended: list[str]) -> None:
    from datetime import date

    from spiko.services.sandbox import ended_months

    months = ended_months(date.fromisoformat(previous), date.fromisoformat(today))
    assert [f"{first:%Y-%m}" for first, _ in months] == ended
    assert all(last.month == first.month and (last.day >= 28) for first, last in months)
