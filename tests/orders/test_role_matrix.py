"""The role matrix on /v1: a credential never reaches beyond the role its creating member holds now.

Every operation of the reference, for a key whose creator is an owner, an admin, a trader or a
viewer (the key itself made with full access), and for OAuth tokens an app got from a trader
and from a viewer: operations outside the role answer 403 ``ForbiddenError`` and change nothing.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from spiko.auth import roles
from spiko.auth.passwords import hash_password
from spiko.auth.scopes import OPERATION_SCOPES
from spiko.db.models.identity import User
from spiko.services import identity
from tests.conftest import InvestorFixture, basic_auth
from tests.oauth.helpers import bearer, register_app, sign_in, tokens_for
from tests.orders.conftest import TODAY, World
from tests.orders.test_scopes import (
    Holdings,
    calls,
    send,
    settings,  # noqa: F401 - a loopback issuer, for OAuth over http
    snapshot,
)

MEMBER_PASSWORD = "member passphrase 1"


@pytest.fixture
def objects(world: World, investor: InvestorFixture) -> Holdings:
    """The investor's objects the walk reads and acts on (as in tests/orders/test_scopes.py)."""
    world.publish("EUTBL", TODAY, "1.045300")
    account = world.account(investor)
    second = world.account(investor)
    bank = world.bank_account(investor)
    world.invest(investor, account, "10000.00")
    deposit = world.deposit(investor, account, "1000.00").json()["id"]
    withdrawal = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "500"}).json()["id"]
    transfer = world.transfer(investor, account, second, {"type": "in-shares", "sharesAmount": "100"})
    return Holdings(account, second, bank, deposit, withdrawal, transfer.json()["id"])


def member_with_full_key(
    world: World, investor: InvestorFixture, role: str
) -> tuple[str, dict[str, str], str]:
    """A member of ``investor`` who made a full-access key as an owner and now holds ``role``."""
    email = f"{role}-{investor.investor_id[:8]}@example.com"
    with world.ctx.transaction() as session:
        user = User(
            investor_id=investor.investor_id,
            email=email,
            password_hash=hash_password(MEMBER_PASSWORD),
            role="owner",
        )
        session.add(user)
        session.flush()
        key = identity.create_api_key(
            session,
            world.ctx.api_keys,
            investor_id=investor.investor_id,
            name=f"{role}'s key",
            max_live_keys=50,
            created_by_user_id=user.id,
            creator_role="owner",
        )
        user.role = role
    return email, basic_auth(key.client_id, key.client_secret), key.client_id


def walk(world: World, investor: InvestorFixture, h: Holdings, role: str, headers: dict[str, str]) -> None:
    reach = roles.reach(role)
    for call in calls(world, investor, h):
        allowed = reach is None or OPERATION_SCOPES[call.operation_id] in reach
        before = None if allowed else snapshot(world, investor)
        response = send(world.client, call, headers)
        if allowed:
            assert response.status_code not in (401, 403), (role, call.operation_id, response.text)
        else:
            assert response.status_code == 403, (role, call.operation_id, response.status_code, response.text)
            assert response.json()["_tag"] == "ForbiddenError"
            assert snapshot(world, investor) == before, (role, call.operation_id)


@pytest.mark.parametrize("role", roles.ROLES)
def test_an_api_key_reaches_what_its_creator_s_role_allows(world, investor, objects, role):
    _, headers, _ = member_with_full_key(world, investor, role)
    walk(world, investor, objects, role, headers)


@pytest.mark.parametrize("role", [roles.TRADER, roles.VIEWER])
def test_an_app_authorized_by_a_member_reaches_what_their_role_allows(world, investor, objects, role):
    email, _, _ = member_with_full_key(world, investor, role)
    app = register_app(world.ctx, name=f"Desk app for a {role}")
    with TestClient(world.client.app, raise_server_exceptions=False, base_url="http://testserver") as browser:
        sign_in(browser, email, MEMBER_PASSWORD)
        token = tokens_for(browser, app, scope="offline")  # asks for full access
    walk(world, investor, objects, role, bearer(token["access_token"]))


def test_lowering_a_role_narrows_the_member_s_existing_key(world, investor, objects):
    _, headers, client_id = member_with_full_key(world, investor, roles.ADMIN)
    open_account = next(
        call for call in calls(world, investor, objects) if call.operation_id == "accounts.createAccount"
    )
    assert send(world.client, open_account, headers).status_code in (200, 201)
    with world.ctx.transaction() as session:
        session.query(User).filter(User.email.startswith("admin-")).update({"role": roles.VIEWER})
    world.ctx.api_keys.invalidate(client_id)  # the cache's one second, without waiting for it
    assert send(world.client, open_account, headers).status_code == 403
