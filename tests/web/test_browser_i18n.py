"""Chromium: switching the language (remembered across pages and visits, on a phone too), using the
app with the keyboard only, and the copy buttons of a new API key's credentials."""

from __future__ import annotations

import httpx
import pytest

from spiko.config import Settings
from spiko.context import AppContext
from tests.chromium import chromium
from tests.conftest import TEST_SECRET_KEY, basic_auth, create_investor, start_server, stop_server
from tests.web.a11y import PHONE, sideways_overflow

pytestmark = [pytest.mark.browser, pytest.mark.server]

HEADINGS = {
    "en": ("Sign in", "Integrations", "Authorized apps"),
    "fr": ("Se connecter", "Intégrations", "Applications autorisées"),
    "es": ("Iniciar sesión", "Integraciones", "Aplicaciones autorizadas"),
    "it": ("Accedi", "Integrazioni", "App autorizzate"),
    "de": ("Anmelden", "Integrationen", "Autorisierte Apps"),
}


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    """One server for the module's tests, and an investor on it."""
    url = databases.fresh()
    live = start_server(url, tmp_path_factory.mktemp("browser-i18n"))
    ctx = AppContext(Settings(database_url=url, secret_key=TEST_SECRET_KEY, issuer=live.url))
    try:
        yield live, ctx
    finally:
        stop_server(live)
        ctx.close()
        databases.drop(url)


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def _heading(page) -> str:
    return page.inner_text("main h1").strip()


@pytest.mark.parametrize("locale", ["fr", "es", "it", "de"])
def test_switching_the_language_is_remembered(server, browser, locale):
    live, ctx = server
    person = create_investor(ctx)
    # A phone whose browser asks for English: the switch wins, on every page, after signing in too.
    context = browser.new_context(
        viewport=PHONE, locale="en-GB", extra_http_headers={"Accept-Language": "en-GB"}
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(live.url + "/integrations")
    assert page.get_attribute("html", "lang") == "en" and _heading(page) == "Sign in"
    page.select_option("#locale-select", locale)
    page.click("[data-testid=locale-switch] button[type=submit]")
    page.wait_for_function(f"document.documentElement.lang === '{locale}'")
    assert "/login" in page.url and "next=" in page.url  # back on the same page
    sign_in_heading, integrations_heading, apps_link = HEADINGS[locale]
    assert _heading(page) == sign_in_heading
    assert page.input_value("#locale-select") == locale
    assert sideways_overflow(page) == 0

    page.fill("input[name=email]", person.email)
    page.fill("input[name=password]", person.password)
    page.click("main button[type=submit]")
    page.wait_for_url(live.url + "/integrations")
    assert _heading(page) == integrations_heading
    page.click(f"nav >> text={apps_link}")
    page.wait_for_url(live.url + "/authorized-apps")
    assert _heading(page) == apps_link and sideways_overflow(page) == 0

    # A later visit in the same browser (a new tab) keeps the language.
    later = context.new_page()
    later.goto(live.url + "/integrations")
    assert later.get_attribute("html", "lang") == locale and _heading(later) == integrations_heading

    # And back to English with the same switch.
    later.select_option("#locale-select", "en")
    later.click("[data-testid=locale-switch] button[type=submit]")
    later.wait_for_function("document.documentElement.lang === 'en'")
    assert _heading(later) == "Integrations"
    context.close()


def _tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_keyboard_only_sign_in_create_a_key_and_copy_its_secret(server, browser, viewport):
    live, ctx = server
    person = create_investor(ctx, name="Keyboard Treasury SAS")
    context = browser.new_context(viewport=viewport)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(live.url + "/login")

    # The first Tab reaches the skip link, shown when focused; Enter moves the focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = page.locator(".skip-link").bounding_box()
    assert box is not None and box["y"] >= 0  # visible on screen once focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    _tab_to(page, "#email")
    page.keyboard.type(person.email)
    page.keyboard.press("Tab")
    page.keyboard.type(person.password)
    page.keyboard.press("Enter")
    page.wait_for_url(live.url + "/integrations")

    _tab_to(page, "#name")
    page.keyboard.type("Keyboard key")
    _tab_to(page, "input[name=access][value=full]")  # Tab reaches the checked radio button...
    page.keyboard.press("ArrowDown")  # ...and the arrow keys move the choice
    assert page.is_checked("input[name=access][value=read]")
    _tab_to(page, "main button.primary")
    page.keyboard.press("Enter")
    page.get_by_test_id("client-secret").wait_for()
    secret = page.get_by_test_id("client-secret").inner_text().strip()
    client_id = page.get_by_test_id("client-id").inner_text().strip()
    assert page.get_by_test_id("new-key-access").inner_text() == "Read only"

    # The copy buttons, reached and pressed with the keyboard, put each credential on the clipboard.
    _tab_to(page, "button[data-copy=new-client-secret]")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('button[data-copy=new-client-secret]').hasAttribute('data-copied')"
    )
    assert page.evaluate("navigator.clipboard.readText()") == secret
    status = page.locator("button[data-copy=new-client-secret] + [data-copy-status]")
    assert status.inner_text() == "Copied" and status.get_attribute("role") == "status"
    page.click("button[data-copy=new-client-id]")
    page.wait_for_function(
        "document.querySelector('button[data-copy=new-client-id]').hasAttribute('data-copied')"
    )
    assert page.evaluate("navigator.clipboard.readText()") == client_id
    answer = httpx.get(live.url + "/v1/investors/me", headers=basic_auth(client_id, secret))
    assert answer.status_code == 200 and answer.json()["name"] == "Keyboard Treasury SAS"

    # Every focused control shows where the focus is (an outline, not the browser's nothing).
    _tab_to(page, "nav a[href='/authorized-apps']")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    page.keyboard.press("Enter")
    page.wait_for_url(live.url + "/authorized-apps")
    assert sideways_overflow(page) == 0
    context.close()
