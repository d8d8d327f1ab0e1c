"""Password reset and email verification: single-use, expiring links by mail; nothing tells who exists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from spiko.context import AppContext
from spiko.db.models.identity import User
from spiko.db.models.members import MemberToken
from spiko.db.types import utcnow
from tests.mailserver import MailServer
from tests.world import csrf_token, sign_in

NEW_PASSWORD = "a brand new passphrase"


def ask_reset(client: TestClient, email: str) -> Any:
    token = csrf_token(client.get("/password-reset").text)
    return client.post("/password-reset", data={"email": email, "csrf_token": token})


def choose(client: TestClient, link: str, password: str = NEW_PASSWORD, again: str | None = None) -> Any:
    page = client.get(link)
    token = csrf_token(page.text) if page.status_code == 200 else csrf_token(client.get("/login").text)
    return client.post(
        link, data={"password": password, "password_again": again or password, "csrf_token": token}
    )


def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(
    client: TestClient, investor: Any, smtp: MailServer
) -> None:
    unknown = ask_reset(client, "nobody@nowhere.example")
    known = ask_reset(client, investor.email)
    assert unknown.status_code == known.status_code == 200
    strip = lambda text: text.replace(investor.email, "").replace("nobody@nowhere.example", "")  # noqa: E731
    assert (
        strip(unknown.text).split('name="csrf_token"')[0] == strip(known.text).split('name="csrf_token"')[0]
    )
    assert smtp.wait_for(investor.email, subject="Reset") and smtp.to("nobody@nowhere.example") == []


def test_a_reset_link_changes_the_password_once_and_signs_out_every_browser(
    client: TestClient, investor: Any, smtp: MailServer, ctx: AppContext
) -> None:
    elsewhere = TestClient(client.app, raise_server_exceptions=False, base_url="http://testserver")
    assert sign_in(elsewhere, investor.email, investor.password).status_code == 303

    ask_reset(client, investor.email.upper())
    [mail] = smtp.wait_for(investor.email, subject="Reset your Spiko password")
    link = mail.link("/password-reset/")
    differ = choose(client, link, NEW_PASSWORD, NEW_PASSWORD + "?")
    assert differ.status_code == 400 and "differ" in differ.text
    short = choose(client, link, "short")
    assert short.status_code == 400 and "at least" in short.text

    done = choose(client, link)
    assert done.status_code == 200 and "Your password was changed" in done.text
    assert elsewhere.get("/integrations", follow_redirects=False).status_code == 303  # signed out
    assert sign_in(client, investor.email, investor.password).status_code == 400
    assert sign_in(client, investor.email, NEW_PASSWORD).status_code == 303
    # The user is told, and the link is used up.
    assert smtp.wait_for(investor.email, subject="Your Spiko password was changed")
    reused = choose(TestClient(client.app, raise_server_exceptions=False, base_url="http://testserver"), link)
    assert reused.status_code == 400 and "already used" in reused.text
    with ctx.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.email == investor.email))
        assert user is not None and user.email_verified_at is not None  # the link reached the mailbox
    assert 'data-kind="password_changed"' in client.get("/activity").text


def test_only_the_newest_reset_link_works_and_an_expired_one_changes_nothing(
    client: TestClient, investor: Any, smtp: MailServer, ctx: AppContext
) -> None:
    ask_reset(client, investor.email)
    ask_reset(client, investor.email)
    first, second = (
        mail.link("/password-reset/") for mail in smtp.wait_for(investor.email, 2, subject="Reset")
    )
    assert choose(client, first).status_code == 400
    with ctx.transaction() as session:
        session.execute(update(MemberToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = choose(client, second)
    assert expired.status_code == 400 and "expired" in expired.text
    assert sign_in(client, investor.email, investor.password).status_code == 303  # unchanged


def test_a_member_confirms_their_address_with_a_link(
    client: TestClient, investor: Any, smtp: MailServer, ctx: AppContext
) -> None:
    sign_in(client, investor.email, investor.password)
    token = csrf_token(client.get("/settings/members").text)
    sent = client.post("/settings/members/verify-email", data={"csrf_token": token})
    assert f"A confirmation link was sent to {investor.email}" in sent.text
    link = smtp.wait_for(investor.email, subject="Confirm")[0].link("/verify-email/")
    page = client.get(link)
    assert page.status_code == 200  # opening the link (as a mail scanner would) confirms nothing yet
    with ctx.transaction(write=False) as session:
        assert session.scalar(select(User.email_verified_at).where(User.email == investor.email)) is None
    confirmed = client.post(link, data={"csrf_token": csrf_token(page.text)})
    assert "is confirmed" in confirmed.text
    assert 'data-testid="verify-email"' not in client.get("/settings/members").text
    assert client.post(link, data={"csrf_token": csrf_token(page.text)}).status_code == 400
