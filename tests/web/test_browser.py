"""Chromium signs in, creates an API key, reads its secret once, reloads and no longer sees it."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.chromium import chromium
from tests.conftest import basic_auth, create_investor

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_create_a_key_and_see_its_secret_once(live_server, ctx, tmp_path):
    person = create_investor(ctx, name="Browser Treasury SAS")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(live_server.url + "/integrations")
        assert page.url.startswith(live_server.url + "/login")
        page.fill("input[name=email]", person.email)
        page.fill("input[name=password]", person.password)
        page.click("main button[type=submit]")
        page.wait_for_url(live_server.url + "/integrations")

        page.fill("input[name=name]", "Treasury reporting")
        page.click("text=Create API key")
        secret = page.get_by_test_id("client-secret").inner_text().strip()
        client_id = page.get_by_test_id("client-id").inner_text().strip()
        assert secret.startswith("sks_") and client_id.startswith("spk_")
        response = httpx.get(live_server.url + "/v1/investors/me", headers=basic_auth(client_id, secret))
        assert response.json()["name"] == "Browser Treasury SAS"

        shots = os.environ.get("SPIKO_SCREENSHOT_DIR") or str(tmp_path)
        page.screenshot(path=os.path.join(shots, "integrations.png"), full_page=True)

        page.reload()
        assert page.get_by_test_id("client-secret").count() == 0
        assert secret not in page.content()
        rows = page.locator("tr[data-client-id]")
        assert rows.count() == 2  # the fixture's key and the new one: reloading created nothing
        assert page.locator(f'tr[data-client-id="{client_id}"]').count() == 1

        page.goto(live_server.url + "/integrations")
        assert secret not in page.content()

        # Revoke from the page: the key stops working.
        page.locator(f'tr[data-client-id="{client_id}"] button:has-text("Revoke")').click()
        page.get_by_test_id("notice").wait_for()
        assert page.locator(f'tr[data-client-id="{client_id}"]').count() == 0
        refused = httpx.get(live_server.url + "/v1/investors/me", headers=basic_auth(client_id, secret))
        assert refused.status_code == 401
