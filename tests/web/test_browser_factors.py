"""Chromium signs in with a second factor: an authenticator app (codes computed from the shared
secret) and passkeys (Chromium's virtual authenticator, over CDP) — both as the second step and
without a password."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import update

from spiko.db.models.identity import WebSession
from spiko.db.types import utcnow
from tests.chromium import chromium
from tests.conftest import LiveServer, create_investor, start_server, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture
def server(database_url, tmp_path) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """Served as http://localhost:PORT: a passkey's relying party is a host name, never an IP."""
    live = start_server(database_url, tmp_path, host_name="localhost")
    yield live
    stop_server(live)


def sign_in_with_password(page, url: str, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/login?next=%2Fintegrations")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")


def sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.click("header button:has-text('Sign out')")
    page.wait_for_url("**/login")


def test_an_authenticator_app_in_chromium(server, ctx):
    person = create_investor(ctx, name="App Factor SAS")
    with chromium() as browser:
        page = browser.new_page()
        sign_in_with_password(page, server.url, person.email, person.password)
        page.wait_for_url("**/integrations")
        page.goto(server.url + "/settings/security")
        page.click("[data-testid=totp-start]")
        assert page.locator("[data-testid=totp-setup] svg").count() == 1  # the QR code, drawn by the server
        secret = page.get_by_test_id("totp-secret").inner_text().strip()
        page.fill("#totp-code", pyotp.TOTP(secret).now())
        page.click("text=Turn on")
        codes = [c.strip() for c in page.get_by_test_id("recovery-code").all_inner_texts()]
        assert len(codes) == 10
        sign_out(page)

        sign_in_with_password(page, server.url, person.email, person.password)
        page.wait_for_url("**/login/verify**")
        page.fill("input[name=code]", "000000")
        page.click("form[action='/login/verify'] button[type=submit]")
        assert "That code is not right" in page.get_by_test_id("form-error").inner_text()
        # The code of the next 30 seconds: the current one may be the one that turned the app on.
        page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))
        page.click("form[action='/login/verify'] button[type=submit]")
        page.wait_for_url("**/integrations")
        sign_out(page)

        sign_in_with_password(page, server.url, person.email, person.password)
        page.wait_for_url("**/login/verify**")
        page.fill("input[name=code]", codes[0])
        page.click("form[action='/login/verify'] button[type=submit]")
        page.wait_for_url("**/integrations")
        page.goto(server.url + "/settings/security")
        assert "9 of 10 recovery codes left" in page.get_by_test_id("recovery-left").inner_text()


def test_passkeys_in_chromium(server, ctx, tmp_path):
    import os

    person = create_investor(ctx, name="Passkey Holdings")
    with chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        authenticator = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )["authenticatorId"]

        sign_in_with_password(page, server.url, person.email, person.password)
        page.wait_for_url("**/integrations")
        page.goto(server.url + "/settings/security")
        page.fill("#passkey-name", "Chromium's authenticator")
        page.click("text=Add a passkey")
        page.get_by_test_id("notice").wait_for()
        assert "Second factor added." in page.get_by_test_id("notice").inner_text()
        assert page.get_by_test_id("recovery-code").count() == 10
        assert "Chromium's authenticator" in page.get_by_test_id("passkeys").inner_text()
        credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        assert len(credentials) == 1 and credentials[0]["isResidentCredential"]
        shots = os.environ.get("SPIKO_SCREENSHOT_DIR") or str(tmp_path)
        page.screenshot(path=os.path.join(shots, "security.png"), full_page=True)
        sign_out(page)

        # Without a password: the passkey alone (its user verified by the authenticator).
        page.click("text=Sign in with a passkey")
        page.wait_for_url(server.url + "/")  # the dashboard, signed in
        sign_out(page)

        # As the second step after the password.
        sign_in_with_password(page, server.url, person.email, person.password)
        page.wait_for_url("**/login/verify**")
        page.click("text=Use a passkey")
        page.wait_for_url("**/integrations")
        used = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"][0]
        assert used["signCount"] >= 2  # each use counted, and checked by the server

        # Step-up: five minutes later, a new API key asks for the passkey again first.
        with ctx.transaction() as session:
            session.execute(update(WebSession).values(verified_at=utcnow() - timedelta(minutes=6)))
        page.goto(server.url + "/integrations")
        page.fill("input[name=name]", "After step-up")
        page.click("text=Create API key")
        page.wait_for_url("**/login/step-up**")
        page.click("text=Confirm with a passkey")
        page.wait_for_url("**/integrations")
        page.fill("input[name=name]", "After step-up")
        page.click("text=Create API key")
        assert page.get_by_test_id("client-secret").inner_text().startswith("sks_")

        # An authenticator without the passkey: the prompt fails and nobody is signed in.
        sign_out(page)
        cdp.send("WebAuthn.clearCredentials", {"authenticatorId": authenticator})
        page.click("text=Sign in with a passkey")
        page.locator("[data-passkey-status]").first.wait_for()
        assert page.url.endswith("/login")
