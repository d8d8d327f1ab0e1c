"""Every page of the investor app, on a desktop and on a 360 px phone: axe-core (npm, pinned in
tests/node) finds no serious or critical violation, and nothing scrolls sideways. Pages are the
fixed ones below plus every same-site page linked from a signed-in page (so new pages linked from
the navigation are checked too); each is visited in the state that shows the most (a new secret,
a form error, a listed app)."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode, urlsplit

import pytest

from tests.chromium import chromium
from tests.conftest import start_server, stop_server
from tests.oauth.helpers import new_state, pkce_pair, register_app
from tests.oauth.test_browser import Callback
from tests.web.a11y import DESKTOP, PHONE, axe_violations, describe, sideways_overflow
from tests.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.server]

# Links not to follow: they change state, download a file, or leave the investor app.
SKIPPED_PREFIXES = ("/logout", "/docs/assets", "/static", "/v1", "/v0", "/oauth2", "/.well-known", "/openapi")
SKIPPED_SUFFIXES = (".csv", ".xlsx", ".pdf", ".json")
MAX_CRAWLED = 40
TODAY = date(2025, 3, 3)  # a Monday
PREVIOUS = date(2025, 2, 28)


def _same_site_links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base or not parts.path:
            continue
        if parts.path.startswith(SKIPPED_PREFIXES) or parts.path.endswith(SKIPPED_SUFFIXES):
            continue
        found.append(parts.path)
    return found


class Checker:
    def __init__(self, shots: str | None) -> None:
        self.failures: list[str] = []
        self.checked: list[str] = []
        self.shots = shots

    def check(self, page, label: str) -> None:
        page.wait_for_load_state("load")
        width = page.viewport_size["width"]
        name = f"{label} @{width}px"
        self.checked.append(name)
        violations = axe_violations(page)
        if violations:
            self.failures.append(f"{name}: {describe(violations)}")
        overflow = sideways_overflow(page)
        if overflow > 0:
            self.failures.append(f"{name}: {overflow}px wider than the screen")
        if self.shots:
            safe = label.strip("/").replace("/", "_").replace("?", "_") or "root"
            page.screenshot(path=os.path.join(self.shots, f"{safe}-{width}.png"), full_page=True)


@pytest.fixture
def live_server(database_url, tmp_path):
    """The server, accepting a webhook endpoint on loopback (the test's own receiver)."""
    server = start_server(
        database_url,
        tmp_path,
        extra_env={
            "SPIKO_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
            "SPIKO_BANK_ACCOUNT_COOLING_OFF_HOURS": "0",
        },
    )
    yield server
    stop_server(server)


def test_every_page_passes_axe_and_fits_a_phone(live_server, ctx, tmp_path):
    shots = os.environ.get("SPIKO_SCREENSHOT_DIR")
    with Callback() as callback:
        # An investor with holdings, history and a pending withdrawal, so every page has rows to show.
        world = build_world(
            ctx, TODAY, until_year=2026, navs=[("EUTBL", PREVIOUS, "1.045000"), ("EUTBL", TODAY, "1.045100")]
        )
        person = world.investor("Axe Treasury SAS")
        account = world.open_account(person, name="Treasury")
        world.book_deposit(person, account, "100000.00")
        world.execute()
        world.book_withdrawal(person, account, mode="amount", amount=Decimal("1000.00"))
        # One app per viewport: an app already allowed is not asked about again.
        apps = [register_app(ctx, name=f"Axe Budget App {n}", redirect_uris=[callback.url]) for n in (1, 2)]
        verifier, challenge = pkce_pair()
        authorize = [
            f"{live_server.url}/oauth2/auth?"
            + urlencode(
                {
                    "client_id": app.client_id,
                    "redirect_uri": callback.url,
                    "response_type": "code",
                    "scope": "offline accounts:read",
                    "state": new_state(),
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                }
            )
            for app in apps
        ]
        checker = Checker(shots)
        base = live_server.url
        with chromium() as browser:
            for viewport, authorization_url in zip((DESKTOP, PHONE), authorize, strict=True):
                context = browser.new_context(viewport=viewport, bypass_csp=True)
                page = context.new_page()
                page.set_default_timeout(20_000)
                # Signed out: sign-in (with its error), errors, the API reference.
                page.goto(base + "/login")
                checker.check(page, "/login")
                page.fill("input[name=email]", person.email)
                page.fill("input[name=password]", "not the password")
                page.click("main button[type=submit]")
                page.get_by_test_id("login-error").wait_for()
                checker.check(page, "/login (error)")
                page.goto(base + "/no-such-page")
                checker.check(page, "/no-such-page")
                page.goto(base + "/oauth2/auth?client_id=nobody&response_type=code")
                checker.check(page, "/oauth2/auth (error)")
                page.goto(base + "/docs")
                page.locator("#swagger-ui .opblock-summary-control").first.click()  # one operation open
                page.locator("#swagger-ui .opblock-body").first.wait_for()
                checker.check(page, "/docs")

                # Sign in through an app's authorization request: consent, then back in the app.
                page.goto(authorization_url)
                page.fill("input[name=email]", person.email)
                page.fill("input[name=password]", person.password)
                page.click("main button[type=submit]")
                page.get_by_test_id("consent").wait_for()
                checker.check(page, "/oauth2/auth (consent)")
                page.click("button[value=allow]")
                page.wait_for_url(callback.url + "*")

                # The investor app, each page showing what it can.
                page.goto(base + "/integrations")
                page.fill("input[name=name]", "Axe reporting")
                page.click("text=Create API key")
                page.get_by_test_id("client-secret").wait_for()
                checker.check(page, "/integrations (new key)")
                page.goto(base + "/authorized-apps")
                checker.check(page, "/authorized-apps")
                page.goto(base + "/settings/webhooks")
                page.fill("input[name=url]", "not a url")
                page.evaluate("document.querySelector('input[name=url]').type = 'text'")
                page.click("[data-testid=create-endpoint] button[type=submit]")
                page.get_by_test_id("form-error").wait_for()
                checker.check(page, "/settings/webhooks (error)")
                page.fill("input[name=url]", f"http://127.0.0.1:{urlsplit(callback.url).port}/hook")
                page.click("[data-testid=create-endpoint] button[type=submit]")
                page.get_by_test_id("new-secret").wait_for()
                checker.check(page, "/settings/webhooks (new secret)")

                seen = {"/login", "/integrations", "/authorized-apps", "/settings/webhooks", "/docs"}
                queue = [base + "/"]
                crawled = 0
                while queue and crawled < MAX_CRAWLED:
                    url = queue.pop(0)
                    response = page.goto(url)
                    crawled += 1
                    path = urlsplit(page.url).path
                    if response is not None and "text/html" in (response.headers.get("content-type") or ""):
                        if path not in seen or url == base + "/":
                            seen.add(path)
                            checker.check(page, path)
                        for link in _same_site_links(page, base):
                            if link not in seen and base + link not in queue:
                                queue.append(base + link)

                page.goto(base + "/oauth2/sessions/logout")
                checker.check(page, "/oauth2/sessions/logout")
                context.close()
    assert len(checker.checked) >= 24, checker.checked
    assert not checker.failures, "\n".join(checker.failures)
