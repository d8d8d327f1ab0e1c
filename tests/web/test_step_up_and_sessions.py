"""Step-up before sensitive changes, and the sessions listed on /settings/security."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from spiko.db.models.identity import WebSession
from spiko.db.types import utcnow
from tests.web.authenticator import SoftAuthenticator, passkey_options
from tests.web.conftest import create_key_on_page, sign_in
from tests.web.factors_world import Clock, code, turn_on_totp
from tests.world import csrf_token


def minutes_pass(ctx, minutes: int = 6) -> None:  # type: ignore[no-untyped-def]
    """The sessions' last proof of identity moves into the past, as if the user had been idle."""
    with ctx.transaction() as session:
        session.execute(update(WebSession).values(verified_at=utcnow() - timedelta(minutes=minutes)))


def create_key(client, name: str = "Reporting"):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/integrations").text)
    return client.post("/integrations", data={"name": name, "csrf_token": token}, follow_redirects=False)


@pytest.fixture
def clock(ctx) -> Clock:  # type: ignore[no-untyped-def]
    ticking = Clock()
    ctx.factor_clock = ticking
    return ticking


def test_a_fresh_sign_in_creates_a_key_without_asking_again(signed_in_client):
    create_key_on_page(signed_in_client, "Fresh")


def test_an_old_check_asks_for_the_second_factor_before_a_new_key(signed_in_client, ctx, clock):
    secret, _ = turn_on_totp(signed_in_client, clock)
    minutes_pass(ctx)
    asked = create_key(signed_in_client)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login/step-up?next=%2Fintegrations"
    assert 'data-testid="client-secret"' not in signed_in_client.get("/integrations").text
    page = signed_in_client.get("/login/step-up?next=%2Fintegrations")
    assert 'name="code"' in page.text and 'name="password"' not in page.text
    wrong = signed_in_client.post(
        "/login/step-up",
        data={"csrf_token": csrf_token(page.text), "code": "000000", "next": "/integrations"},
    )
    assert wrong.status_code == 400
    confirmed = signed_in_client.post(
        "/login/step-up",
        data={"csrf_token": csrf_token(page.text), "code": code(secret, clock), "next": "/integrations"},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/integrations"
    create_key_on_page(signed_in_client, "After step-up")


def test_without_a_second_factor_step_up_asks_for_the_password(signed_in_client, ctx, investor):
    minutes_pass(ctx)
    assert create_key(signed_in_client).headers["location"].startswith("/login/step-up")
    page = signed_in_client.get("/login/step-up?next=%2Fintegrations")
    assert 'name="password"' in page.text
    wrong = signed_in_client.post(
        "/login/step-up",
        data={"csrf_token": csrf_token(page.text), "password": "nope", "next": "/integrations"},
    )
    assert wrong.status_code == 400
    right = signed_in_client.post(
        "/login/step-up",
        data={"csrf_token": csrf_token(page.text), "password": investor.password, "next": "/integrations"},
        follow_redirects=False,
    )
    assert right.status_code == 303
    create_key_on_page(signed_in_client, "After password")


def test_step_up_with_a_passkey(signed_in_client, ctx):
    device = SoftAuthenticator()
    page = signed_in_client.get("/settings/security")
    answer = device.create(passkey_options(page.text, "passkey-register"))
    signed_in_client.post(
        "/settings/security/passkeys",
        data={"csrf_token": csrf_token(page.text), "credential": answer, "name": "Key"},
    )
    minutes_pass(ctx)
    step = signed_in_client.get("/login/step-up?next=%2Fintegrations")
    data = {
        "csrf_token": csrf_token(step.text),
        "credential": device.get(passkey_options(step.text, "passkey-form")),
        "next": "/integrations",
    }
    assert signed_in_client.post("/login/step-up", data=data, follow_redirects=False).status_code == 303
    create_key_on_page(signed_in_client, "After passkey")


def test_changing_security_settings_asks_again_too(signed_in_client, ctx):
    minutes_pass(ctx)
    page = signed_in_client.get("/settings/security")
    asked = signed_in_client.post(
        "/settings/security/totp", data={"csrf_token": csrf_token(page.text)}, follow_redirects=False
    )
    assert asked.headers["location"] == "/login/step-up?next=%2Fsettings%2Fsecurity"


def test_the_security_page_lists_sessions_and_signs_one_out(client_with, investor):
    laptop, phone = client_with(), client_with()
    laptop.headers["user-agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"
    phone.headers["user-agent"] = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Safari/605.1"
    )
    assert sign_in(laptop, investor.email, investor.password).status_code == 303
    assert sign_in(phone, investor.email, investor.password).status_code == 303
    page = laptop.get("/settings/security")
    rows = re.findall(r'<tr data-session-id="([^"]+)">(.*?)</tr>', page.text, re.S)
    assert len(rows) == 2
    devices = {row_id: text for row_id, text in rows}
    phone_session = next(row_id for row_id, text in rows if "Safari on iOS" in text)
    laptop_row = next(text for _, text in rows if "Chrome on Linux" in text)
    assert "This browser" in laptop_row and "This browser" not in devices[phone_session]
    assert "testclient" in laptop_row  # the address it signed in from
    ended = laptop.post(
        "/settings/security/sessions/end",
        data={"csrf_token": csrf_token(page.text), "session_id": phone_session},
    )
    assert ended.status_code == 200 and "The session was signed out." in ended.text
    assert phone.get("/integrations", follow_redirects=False).status_code == 303
    assert laptop.get("/integrations").status_code == 200


def test_sign_out_everywhere_ends_every_session(client_with, investor):
    first, second = client_with(), client_with()
    sign_in(first, investor.email, investor.password)
    sign_in(second, investor.email, investor.password)
    page = first.get("/settings/security")
    answer = first.post(
        "/settings/security/sessions/end-all",
        data={"csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    for browser in (first, second):
        assert browser.get("/integrations", follow_redirects=False).status_code == 303


def test_a_session_of_another_user_cannot_be_ended(client_with, investor, other_investor):
    mine, theirs = client_with(), client_with()
    sign_in(mine, investor.email, investor.password)
    sign_in(theirs, other_investor.email, other_investor.password)
    their_id = theirs.get("/settings/security").text.split('data-session-id="')[1].split('"')[0]
    page = mine.get("/settings/security")
    refused = mine.post(
        "/settings/security/sessions/end", data={"csrf_token": csrf_token(page.text), "session_id": their_id}
    )
    assert refused.status_code == 404
    assert theirs.get("/integrations").status_code == 200


def test_session_forms_need_their_csrf_token(signed_in_client):
    refused = signed_in_client.post("/settings/security/sessions/end-all", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert signed_in_client.get("/integrations").status_code == 200


def test_changing_members_asks_again_too(signed_in_client, ctx):
    minutes_pass(ctx)
    page = signed_in_client.get("/settings/members")
    asked = signed_in_client.post(
        "/settings/members",
        data={
            "csrf_token": csrf_token(page.text),
            "action": "invite",
            "email": "cfo@example.com",
            "role": "admin",
        },
        follow_redirects=False,
    )
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login/step-up?next=%2Fsettings%2Fmembers"
    assert "cfo@example.com" not in signed_in_client.get("/settings/members").text
