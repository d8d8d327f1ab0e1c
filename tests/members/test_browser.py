"""In Chromium: an owner invites a trader who joins from the mailed link; the trader is refused
the members form; a forgotten password is reset from the mailed link. Mail goes through a real
SMTP server in the test process; the app is a real `spiko serve`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chromium import chromium
from tests.conftest import LiveServer, create_investor, start_server, stop_server
from tests.mailserver import MailServer

pytestmark = [pytest.mark.browser, pytest.mark.server]

PASSWORD = "trader passphrase 1"


@pytest.fixture
def mailing_server(database_url: str, tmp_path, smtp: MailServer) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    server = start_server(database_url, tmp_path, extra_env={"SPIKO_SMTP_URL": smtp.url})
    yield server
    stop_server(server)


def test_invite_join_and_reset_a_password_in_a_browser(
    mailing_server: LiveServer, smtp: MailServer, ctx
) -> None:  # type: ignore[no-untyped-def]
    base = mailing_server.url
    owner = create_investor(ctx, name="Browser Holdings SA")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(base + "/settings/members")
        page.fill("input[name=email]", owner.email)
        page.fill("input[name=password]", owner.password)
        page.click('form[action="/login"] button[type=submit]')
        page.wait_for_url(base + "/settings/members")

        page.fill("#invite-email", "desk@browser.example")
        page.check("input[name=role][value=trader]")
        page.click("text=Send invitation")
        assert "An invitation was sent to desk@browser.example" in page.get_by_test_id("notice").inner_text()
        [invitation] = smtp.wait_for("desk@browser.example", subject="invited you")

        joiner = browser.new_context().new_page()
        joiner.goto(base + invitation.link("/invitations/"))
        joiner.fill("#password", PASSWORD)
        joiner.fill("#password_again", PASSWORD)
        joiner.click("text=Accept the invitation")
        joiner.goto(base + "/settings/members")
        assert "Your role is trader" in joiner.content()
        assert joiner.locator("form[data-testid=invite]").count() == 0  # only owners invite

        # The owner sees the new member, and what happened, on the activity page.
        page.reload()
        assert (
            page.locator('tr[data-member="desk@browser.example"] [data-testid=member-role]').inner_text()
            == "trader"
        )
        page.goto(base + "/activity")
        assert page.locator("tr[data-kind=member_joined]").count() == 1

        # The trader forgot the password: a reset link by mail, a new password, signed in again.
        stranger = browser.new_context().new_page()
        stranger.goto(base + "/login")
        stranger.click("[data-testid=forgot-password]")
        stranger.fill("input[name=email]", "desk@browser.example")
        stranger.click("text=Send the link")
        assert "If an account uses this address" in stranger.get_by_test_id("notice").inner_text()
        [reset] = smtp.wait_for("desk@browser.example", subject="Reset your Spiko password")
        stranger.goto(base + reset.link("/password-reset/"))
        stranger.fill("#password", "a fresh passphrase 2")
        stranger.fill("#password_again", "a fresh passphrase 2")
        stranger.click("text=Change the password")
        assert "Your password was changed" in stranger.get_by_test_id("notice").inner_text()
        # The trader's browser that joined earlier was signed out by the reset.
        joiner.goto(base + "/settings/members")
        assert "/login" in joiner.url
        stranger.fill("input[name=email]", "desk@browser.example")
        stranger.fill("input[name=password]", "a fresh passphrase 2")
        stranger.click('form[action="/login"] button[type=submit]')
        stranger.wait_for_url(lambda url: "/login" not in url and "/password-reset" not in url)
        # The link was used: opening it again says so.
        stranger.goto(base + reset.link("/password-reset/"))
        assert "already used" in stranger.content()
