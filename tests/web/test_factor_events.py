"""Second factors and sessions leave security events, and the owners hear of what they should."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from spiko.config import Settings
from spiko.db.models.members import SecurityEvent
from tests.conftest import TEST_SECRET_KEY
from tests.mailserver import MailServer, running_mail_server
from tests.web.conftest import sign_in
from tests.web.factors_world import Clock, code, turn_on_totp, verify
from tests.world import csrf_token


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with running_mail_server() as server:
        yield server


@pytest.fixture
def settings(database_url: str, smtp: MailServer) -> Settings:
    return Settings(
        database_url=database_url, issuer="http://testserver", secret_key=TEST_SECRET_KEY, smtp_url=smtp.url
    )


@pytest.fixture
def clock(ctx) -> Clock:  # type: ignore[no-untyped-def]
    ticking = Clock()
    ctx.factor_clock = ticking
    return ticking


def events(ctx) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    with ctx.transaction(write=False) as session:
        rows = session.scalars(select(SecurityEvent).order_by(SecurityEvent.created_at, SecurityEvent.id))
        return [(row.kind, json.loads(row.details)) for row in rows]


def test_adding_and_removing_a_factor_is_recorded_and_the_removal_mailed(
    signed_in_client, ctx, clock, smtp, investor
):
    turn_on_totp(signed_in_client, clock)
    page = signed_in_client.get("/settings/security")
    signed_in_client.post("/settings/security/totp/remove", data={"csrf_token": csrf_token(page.text)})
    kinds = [kind for kind, _ in events(ctx)]
    assert kinds[-2:] == ["factor_added", "factor_removed"]
    [mail] = smtp.wait_for(investor.email, subject="second factor removed")
    assert "authenticator app" in mail.text
    assert "Second factor removed" in signed_in_client.get("/activity").text


def test_a_sign_in_counts_once_its_second_step_is_done(
    signed_in_client, ctx, clock, smtp, investor, client_with
):
    secret, _ = turn_on_totp(signed_in_client, clock)
    before = len(events(ctx))
    browser = client_with()
    browser.app.state.ctx.factor_clock = clock
    sign_in(browser, investor.email, investor.password)
    assert events(ctx)[before:] == []  # the password alone is no sign-in
    assert verify(browser, "000000").status_code == 400
    assert verify(browser, code(secret, clock)).status_code == 303
    assert events(ctx)[before:] == [
        ("sign_in_failed", {"step": "code"}),
        ("sign_in", {"method": "totp", "new_device": True}),
    ]
    # A new device: the owners are told (as of the first browser's own sign-in before).
    *_, told = smtp.wait_for(investor.email, count=2, subject="signed in")
    assert "device not seen before" in told.text
    # The same browser again: a known device now.
    browser.cookies.delete("spiko_session")
    clock.next_step()
    sign_in(browser, investor.email, investor.password)
    assert verify(browser, code(secret, clock)).status_code == 303
    assert events(ctx)[-1] == ("sign_in", {"method": "totp", "new_device": False})


def test_signing_out_everywhere_is_recorded(signed_in_client, ctx):
    page = signed_in_client.get("/settings/security")
    signed_in_client.post("/settings/security/sessions/end-all", data={"csrf_token": csrf_token(page.text)})
    kind, details = events(ctx)[-1]
    assert kind == "sessions_ended" and details["everywhere"] is True
