"""Idempotency-Key on every POST: replayed, never acted on twice, scoped per investor, 24 hours."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from spiko.db.models.idempotency import IdempotencyKey
from spiko.db.models.orders import Account, DepositOrder
from spiko.db.types import utcnow
from tests.orders.conftest import TODAY
from tests.spec import assert_matches


def count(world, model):
    with world.ctx.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(model))


def post(world, investor, path, body, key):
    headers = {**investor.basic, "Idempotency-Key": key} if key else investor.basic
    return world.client.post(path, json=body, headers=headers)


def test_same_key_same_body_replays_without_acting_twice(world, investor):
    account = world.account(investor)
    body = {"accountId": account, "shareClassId": world.share_classes["EUTBL"],
            "amount": {"value": "5000.00", "currency": "EUR"}}  # fmt: skip
    first = post(world, investor, "/v1/deposit-orders", body, "deposit-0001")
    second = post(world, investor, "/v1/deposit-orders/", body, "deposit-0001")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert assert_matches(second, "/deposit-orders/", "post")["wireInstructions"]["reference"]
    assert count(world, DepositOrder) == 1
    # Without a key, each request acts.
    post(world, investor, "/v1/deposit-orders", body, None)
    post(world, investor, "/v1/deposit-orders", body, None)
    assert count(world, DepositOrder) == 3


def test_same_key_with_another_body_is_a_conflict(world, investor):
    account = world.account(investor)
    body = {"accountId": account, "shareClassId": world.share_classes["EUTBL"],
            "amount": {"value": "5000.00", "currency": "EUR"}}  # fmt: skip
    assert post(world, investor, "/v1/deposit-orders", body, "key-for-one-thing").status_code == 200
    changed = {**body, "amount": {"value": "6000", "currency": "EUR"}}
    other = post(world, investor, "/v1/deposit-orders", changed, "key-for-one-thing")
    assert other.status_code == 409
    assert other.json()["_tag"] == "ConflictError" and "Idempotency-Key" in other.json()["message"]
    # Another route with the same key is another request too.
    elsewhere = post(world, investor, "/v1/accounts",
                     {"type": "internal", "investorId": investor.investor_id,
                      "shareClassId": world.share_classes["EUTBL"]}, "key-for-one-thing")  # fmt: skip
    assert elsewhere.status_code == 409
    assert count(world, DepositOrder) == 1


def test_keys_are_scoped_per_investor(world, investor, other_investor):
    body = {"type": "internal", "shareClassId": world.share_classes["EUTBL"]}
    mine = post(world, investor, "/v1/accounts", {**body, "investorId": investor.investor_id}, "shared-key-1")
    theirs = post(world, other_investor, "/v1/accounts", {**body, "investorId": other_investor.investor_id},
                  "shared-key-1")  # fmt: skip
    assert mine.status_code == theirs.status_code == 200
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["investorId"] == other_investor.investor_id
    assert count(world, Account) == 2


def test_keys_expire_after_24_hours(world, investor):
    body = {
        "type": "internal",
        "investorId": investor.investor_id,
        "shareClassId": world.share_classes["EUTBL"],
    }
    first = post(world, investor, "/v1/accounts", body, "expiring-key")
    with world.ctx.transaction() as session:
        row = session.scalar(select(IdempotencyKey))
        assert timedelta(hours=23, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=24)
        session.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    again = post(world, investor, "/v1/accounts", body, "expiring-key")
    assert again.status_code == 200 and again.json()["id"] != first.json()["id"]
    assert count(world, Account) == 2
    assert count(world, IdempotencyKey) == 1


def test_errors_are_not_stored(world, investor):
    account = world.account(investor)
    body = {"accountId": account, "shareClassId": world.share_classes["EUTBL"],
            "amount": {"value": "10.00", "currency": "EUR"}}  # fmt: skip
    for _ in range(2):
        response = post(world, investor, "/v1/deposit-orders", body, "failing-key")
        assert response.status_code == 400 and "Idempotent-Replayed" not in response.headers
    assert count(world, IdempotencyKey) == 0


@pytest.mark.parametrize("key", ["short", "x" * 256])
def test_key_length_is_checked(world, investor, key):
    body = {
        "type": "internal",
        "investorId": investor.investor_id,
        "shareClassId": world.share_classes["EUTBL"],
    }
    response = post(world, investor, "/v1/accounts", body, key)
    assert response.status_code == 400
    assert assert_matches(response, "/accounts/", "post")["_tag"] == "HttpApiDecodeError"
    assert count(world, Account) == 0


def test_every_post_route_honours_the_key(world, investor):
    world.publish("EUTBL", TODAY, "1.045300")
    eutbl = world.share_classes["EUTBL"]
    account = world.account(investor)
    second = world.account(investor)
    bank = world.bank_account(investor)
    world.invest(investor, account, "20000.00")
    deposit = world.deposit(investor, account, "1000").json()["id"]
    withdrawal = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "200"}).json()["id"]
    eur = {"value": "500.00", "currency": "EUR"}
    order = {"accountId": account, "shareClassId": eutbl}
    redemption = {**order, "amount": eur, "bankAccountId": bank}
    routes = [
        ("/v1/accounts", {"type": "internal", "investorId": investor.investor_id, "shareClassId": eutbl}),
        ("/v1/deposit-orders", {**order, "amount": eur}),
        ("/v1/deposit-orders/direct-debit", redemption),
        (f"/v1/deposit-orders/{deposit}/cancel", None),
        ("/v1/subscription-orders", {**order, "amount": eur}),
        ("/v1/subscription-orders/direct-debit", redemption),
        (
            "/v1/withdrawal-orders",
            {
                **order,
                "destination": {"type": "bank-transfer", "bankAccountId": bank},
                "quantity": {"mode": "amount", "amount": eur},
            },
        ),
        (f"/v1/withdrawal-orders/{withdrawal}/cancel", None),
        ("/v1/redemption-orders", redemption),
        ("/v1/redemption-orders/instant", redemption),
        (
            "/v1/transfer-orders",
            {
                "investorId": investor.investor_id,
                "fromAccountId": account,
                "toAccountId": second,
                "shareClassId": eutbl,
                "transferAmount": {"type": "in-shares", "sharesAmount": "1"},
            },
        ),
    ]
    for index, (path, body) in enumerate(routes):
        key = f"route-key-{index:04d}"
        first = world.client.post(path, json=body, headers={**investor.basic, "Idempotency-Key": key})
        assert first.status_code == 200, (path, first.text)
        holdings = (world.holdings(account), world.holdings(second))
        replay = world.client.post(
            path, json=body, headers={**investor.basic, "Idempotent-Key": "", "Idempotency-Key": key}
        )
        assert replay.status_code == 200 and replay.json() == first.json(), path
        assert replay.headers.get("Idempotent-Replayed") == "true", path
        assert (world.holdings(account), world.holdings(second)) == holdings, path
    assert count(world, IdempotencyKey) == len(routes)


def test_expired_keys_are_purged(world, investor):
    from spiko.services import idempotency

    body = {
        "type": "internal",
        "investorId": investor.investor_id,
        "shareClassId": world.share_classes["EUTBL"],
    }
    post(world, investor, "/v1/accounts", body, "kept-key-0001")
    post(world, investor, "/v1/accounts", body, "old-key-00001")
    with world.ctx.transaction() as session:
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == "old-key-00001")
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    with world.ctx.transaction() as session:
        assert idempotency.purge_expired(session) == 1
    with world.ctx.transaction(write=False) as session:
        assert list(session.scalars(select(IdempotencyKey.key))) == ["kept-key-0001"]


def test_the_header_is_documented_on_every_post(client):
    document = client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        operation = operations.get("post")
        if operation is None or not path.startswith(
            (
                "/v1/accounts",
                "/v1/deposit",
                "/v1/subscription",
                "/v1/withdrawal",
                "/v1/redemption",
                "/v1/transfer",
            )
        ):
            continue
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        assert [h["name"] for h in headers] == ["Idempotency-Key"], path
        assert headers[0]["schema"]["anyOf"][0]["minLength"] == 8, path
