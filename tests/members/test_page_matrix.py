"""The role matrix on the investor app's pages: every page declares what it needs, and each role
gets exactly the pages and forms its permission allows (403 otherwise, with nothing changed)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from spiko import app as app_module
from spiko.auth import roles
from spiko.auth.passwords import hash_password
from spiko.context import AppContext
from spiko.db.models.identity import ApiKey, User
from spiko.db.models.members import MemberToken
from spiko.web import docs as web_docs
from tests.world import csrf_token, sign_in

PASSWORD = "member passphrase 1"


def page_routes() -> list[tuple[str, str]]:
    """(method, path) of every route of the investor app's page routers."""
    found = []
    for router in (*app_module.PAGE_ROUTERS, web_docs.router):
        for route in router.routes:
            if isinstance(route, APIRoute):
                found += [(method, route.path) for method in sorted(route.methods - {"HEAD"})]
    return found


def test_every_page_declares_the_permission_it_needs() -> None:
    undeclared = [
        f"{method} {path}" for method, path in page_routes() if (method, path) not in roles.PAGE_PERMISSIONS
    ]
    assert not undeclared, "pages without a permission in spiko.auth.roles.PAGE_PERMISSIONS: " + ", ".join(
        undeclared
    )
    assert set(roles.PAGE_PERMISSIONS.values()) <= set(roles.PERMISSIONS)


def test_an_undeclared_page_is_for_owners_only() -> None:
    assert roles.holds(roles.OWNER, roles.PAGE_PERMISSIONS.get(("GET", "/not-declared"), roles.MEMBERS))
    assert not roles.holds(roles.ADMIN, roles.PAGE_PERMISSIONS.get(("GET", "/not-declared"), roles.MEMBERS))


def test_each_role_holds_the_permissions_below_it() -> None:
    table = {role: [p for p in roles.PERMISSIONS if roles.holds(role, p)] for role in roles.ROLES}
    assert table == {
        "owner": ["public", "member", "orders", "manage", "members"],
        "admin": ["public", "member", "orders", "manage"],
        "trader": ["public", "member", "orders"],
        "viewer": ["public", "member"],
    }


def _member(ctx: AppContext, investor_id: str, role: str) -> str:
    email = f"{role}-{investor_id[:8]}@example.com"
    with ctx.transaction() as session:
        session.add(
            User(investor_id=investor_id, email=email, password_hash=hash_password(PASSWORD), role=role)
        )
    return email


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "0" * 36, path)


def _state(ctx: AppContext) -> tuple[Any, ...]:
    with ctx.transaction(write=False) as session:
        return (
            session.scalar(select(func.count()).select_from(User)),
            session.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None))),
            session.scalar(select(func.count()).select_from(MemberToken)),
            tuple(session.scalars(select(User.role).order_by(User.email))),
        )


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_gets_exactly_the_pages_and_forms_it_may_use(
    client: TestClient, investor: Any, ctx: AppContext, role: str
) -> None:
    email = _member(ctx, investor.investor_id, role)
    assert sign_in(client, email, PASSWORD).status_code == 303
    form = csrf_token(client.get("/settings/members").text)
    checked = 0
    for method, path in page_routes():
        permission = roles.PAGE_PERMISSIONS[(method, path)]
        # Signing out (here, or everywhere) would end the walk's own session.
        if permission == roles.PUBLIC or path in ("/logout", "/settings/security/sessions/end-all"):
            continue
        before = _state(ctx)
        if method == "GET":
            response = client.get(_filled(path), follow_redirects=False)
        else:
            # A real form post with the member's CSRF token; the fields a refused role would send.
            data = {
                "csrf_token": form,
                "action": "invite",
                "email": f"new-{role}@example.com",
                "role": "owner",
            }
            data |= {"name": f"{role} key", "access": "full"}
            response = client.post(_filled(path), data=data, follow_redirects=False)
        if roles.holds(role, permission):
            assert response.status_code != 403, (role, method, path, response.text[:300])
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
            assert "Not allowed" in response.text and f"Your role ({role})" in response.text
            assert _state(ctx) == before, (role, method, path)
        checked += 1
    assert checked >= 8


@pytest.mark.parametrize(
    ("role", "access", "allowed"),
    [
        ("viewer", "read", True),
        ("viewer", "full", False),
        ("trader", "full", False),
        ("admin", "full", True),
    ],
)
def test_a_member_creates_keys_only_within_their_role(
    client: TestClient, investor: Any, ctx: AppContext, role: str, access: str, allowed: bool
) -> None:
    email = _member(ctx, investor.investor_id, role)
    sign_in(client, email, PASSWORD)
    token = csrf_token(client.get("/integrations").text)
    response = client.post("/integrations", data={"name": "desk", "access": access, "csrf_token": token})
    if allowed:
        assert response.status_code == 200 and 'data-testid="client-secret"' in response.text
    else:
        assert response.status_code == 400 and "within your role" in response.text
        assert 'data-testid="client-secret"' not in response.text


def test_a_trader_may_give_a_key_the_order_scopes_and_revokes_only_their_own(
    client: TestClient, investor: Any, ctx: AppContext
) -> None:
    email = _member(ctx, investor.investor_id, "trader")
    sign_in(client, email, PASSWORD)
    token = csrf_token(client.get("/integrations").text)
    made = client.post(
        "/integrations",
        data={
            "name": "bot",
            "access": "custom",
            "scope": ["orders:read", "orders:write"],
            "csrf_token": token,
        },
    )
    assert made.status_code == 200 and 'data-testid="client-secret"' in made.text
    owners_key = client.post("/integrations", data={"revoke": investor.client_id, "csrf_token": token})
    assert owners_key.status_code == 404
    assert client.get("/v1/investors/me", headers=investor.basic).status_code == 200
