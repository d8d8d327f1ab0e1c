"""Members: invitations by mail, roles, removal, and the last owner who cannot leave."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from spiko.context import AppContext
from spiko.db.models.identity import User, WebSession
from spiko.db.models.members import MemberToken
from spiko.db.types import utcnow
from tests.mailserver import MailServer
from tests.web.conftest import create_key_on_page
from tests.world import basic_auth, csrf_token, sign_in

PASSWORD = "a new member's passphrase"


def new_browser(client: TestClient) -> TestClient:
    return TestClient(client.app, raise_server_exceptions=False, base_url="http://testserver")


def post_members(client: TestClient, **data: str) -> Any:
    token = csrf_token(client.get("/settings/members").text)
    return client.post("/settings/members", data={**data, "csrf_token": token}, follow_redirects=False)


def invite_and_join(client: TestClient, smtp: MailServer, email: str, role: str) -> TestClient:
    """Invite ``email`` as ``role`` from ``client`` (an owner), accept in a new browser, signed in."""
    answer = post_members(client, action="invite", email=email, role=role)
    assert answer.status_code == 200, answer.text
    [mail] = smtp.wait_for(email, subject="invited you")
    link = mail.link("/invitations/")
    browser = new_browser(client)
    page = browser.get(link)
    assert page.status_code == 200 and role in page.text
    joined = browser.post(
        link,
        data={"password": PASSWORD, "password_again": PASSWORD, "csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert joined.status_code == 303, joined.text
    return browser


def member_id(ctx: AppContext, email: str) -> str:
    with ctx.transaction(write=False) as session:
        found = session.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


def test_an_invited_member_joins_with_the_role_the_owner_chose(
    client: TestClient, investor: Any, smtp: MailServer, ctx: AppContext
) -> None:
    sign_in(client, investor.email, investor.password)
    answer = post_members(client, action="invite", email="Trader@Acme.example", role="trader")
    assert "An invitation was sent to trader@acme.example" in answer.text
    assert 'data-invitation="trader@acme.example"' in answer.text
    [mail] = smtp.wait_for("trader@acme.example", subject="invited you")
    assert mail.message["From"] == "Spiko <security@spiko.test>"
    assert "as trader" in mail.text
    link = mail.link("/invitations/")

    browser = new_browser(client)
    page = browser.get(link)
    joined = browser.post(
        link,
        data={"password": PASSWORD, "password_again": PASSWORD, "csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert joined.status_code == 303
    members_page = browser.get("/settings/members").text
    assert 'data-member="trader@acme.example"' in members_page
    assert "Your role is trader" in members_page
    with ctx.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.email == "trader@acme.example"))
        assert user is not None and user.role == "trader" and user.email_verified_at is not None
        stored = session.scalars(select(MemberToken.token_hash)).all()
    token = link.rsplit("/", 1)[1]
    assert token not in stored  # only its hash is kept

    # The link worked once: used again, it changes nothing and says why.
    again = new_browser(client).get(link)
    assert again.status_code == 400 and "already used" in again.text


def test_forged_expired_and_mismatched_invitation_links_change_nothing(
    client: TestClient, investor: Any, smtp: MailServer, ctx: AppContext
) -> None:
    sign_in(client, investor.email, investor.password)
    post_members(client, action="invite", email="late@acme.example", role="viewer")
    link = smtp.wait_for("late@acme.example")[0].link("/invitations/")
    browser = new_browser(client)
    form = csrf_token(browser.get(link).text)

    forged = browser.post(
        "/invitations/" + "A" * 43,
        data={"password": PASSWORD, "password_again": PASSWORD, "csrf_token": form},
    )
    assert forged.status_code == 400 and "not valid" in forged.text

    differ = browser.post(
        link, data={"password": PASSWORD, "password_again": PASSWORD + "!", "csrf_token": form}
    )
    assert differ.status_code == 400 and "differ" in differ.text
    no_csrf = browser.post(link, data={"password": PASSWORD, "password_again": PASSWORD})
    assert no_csrf.status_code == 403

    with ctx.transaction() as session:
        session.execute(update(MemberToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = browser.post(link, data={"password": PASSWORD, "password_again": PASSWORD, "csrf_token": form})
    assert expired.status_code == 400 and "expired" in expired.text
    with ctx.transaction(write=False) as session:
        assert session.scalar(select(User.id).where(User.email == "late@acme.example")) is None


def test_inviting_an_address_that_has_an_account_elsewhere_tells_the_inviter_nothing(
    client: TestClient, investor: Any, smtp: MailServer, ctx: AppContext
) -> None:
    from tests.world import create_investor

    elsewhere = create_investor(ctx)
    sign_in(client, investor.email, investor.password)
    answer = post_members(client, action="invite", email=elsewhere.email, role="admin")
    assert answer.status_code == 200
    assert f"An invitation was sent to {elsewhere.email}" in answer.text
    [mail] = smtp.wait_for(elsewhere.email)
    assert "already signs in to Spiko" in mail.text
    assert "/invitations/" not in mail.text


def test_removing_a_member_ends_their_sessions_and_keys_at_once(
    client: TestClient, investor: Any, smtp: MailServer, ctx: AppContext
) -> None:
    sign_in(client, investor.email, investor.password)
    admin = invite_and_join(client, smtp, "admin@acme.example", "admin")
    client_id, secret, _ = create_key_on_page(admin, "admin's ERP")
    assert admin.get("/v1/investors/me", headers=basic_auth(client_id, secret)).status_code == 200

    answer = post_members(client, action="remove", member_id=member_id(ctx, "admin@acme.example"))
    assert (
        "admin@acme.example was removed" in answer.text
        and "1 API key they created was revoked." in answer.text
    )
    # Their open browser is signed out, and their key refused, on the very next request.
    assert admin.get("/integrations", follow_redirects=False).status_code == 303
    assert admin.get("/v1/investors/me", headers=basic_auth(client_id, secret)).status_code == 401
    with ctx.transaction(write=False) as session:
        assert session.scalar(select(User.id).where(User.email == "admin@acme.example")) is None
        assert session.scalars(select(WebSession)).all() != []  # the owner's own session is untouched
    activity = client.get("/activity").text
    assert 'data-kind="member_removed"' in activity and 'data-kind="api_key_revoked"' in activity


def test_an_organization_always_keeps_an_owner(
    client: TestClient, investor: Any, smtp: MailServer, ctx: AppContext
) -> None:
    sign_in(client, investor.email, investor.password)
    me = member_id(ctx, investor.email)
    demoted = post_members(client, action="role", member_id=me, role="admin")
    assert demoted.status_code == 400 and "at least one owner" in demoted.text
    removed = post_members(client, action="remove", member_id=me)
    assert removed.status_code == 400 and "at least one owner" in removed.text

    second = invite_and_join(client, smtp, "second-owner@acme.example", "owner")
    answer = post_members(client, action="role", member_id=me, role="viewer")
    assert f"{investor.email} is now viewer" in answer.text
    # Now a viewer, the former owner can no longer change members.
    assert post_members(client, action="role", member_id=me, role="owner").status_code == 403
    assert "Your role is viewer" in client.get("/settings/members").text
    assert 'data-kind="member_role_changed"' in second.get("/activity").text


def test_a_member_cannot_change_another_investor_s_members(
    client: TestClient, investor: Any, smtp: MailServer, ctx: AppContext
) -> None:
    from tests.world import create_investor

    other = create_investor(ctx)
    sign_in(client, investor.email, investor.password)
    answer = post_members(client, action="remove", member_id=member_id(ctx, other.email))
    assert answer.status_code == 404
    assert member_id(ctx, other.email)


def test_the_members_page_shows_roles_and_unverified_addresses(
    client: TestClient, investor: Any, smtp: MailServer
) -> None:
    sign_in(client, investor.email, investor.password)
    page = client.get("/settings/members").text
    assert re.search(r'data-member="' + re.escape(investor.email) + r'"', page)
    assert 'data-testid="verify-email"' in page  # an operator-made user has not confirmed the address
