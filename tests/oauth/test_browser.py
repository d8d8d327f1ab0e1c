"""Headless Chromium: an app sends the investor to sign in and consent, and gets its code back."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from spiko.config import Settings
from spiko.context import AppContext
from tests.chromium import chromium
from tests.conftest import TEST_SECRET_KEY, create_investor
from tests.oauth.helpers import bearer, new_state, pkce_pair, register_app


class Callback:
    """A tiny app backend on loopback that receives the redirect."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                parts = urlsplit(self.path)
                if parts.path == "/callback":  # not the browser's favicon request
                    query = parse_qs(parts.query)
                    outer.received.append({key: values[0] for key, values in query.items()})
                body = b"<!doctype html><title>Back in the app</title><h1 id=done>Back in the app</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Callback:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.browser
@pytest.mark.server
def test_sign_in_consent_and_redirect_in_chromium(live_server, database_url, tmp_path):
    with Callback() as callback:
        ctx = AppContext(
            Settings(database_url=database_url, secret_key=TEST_SECRET_KEY, issuer=live_server.url)
        )
        try:
            person = create_investor(ctx, name="Chromium Treasury SAS")
            app = register_app(ctx, name="Chromium Budget App", redirect_uris=[callback.url])
            denied_app = register_app(ctx, name="Denied App", redirect_uris=[callback.url])
        finally:
            ctx.close()
        state = new_state()
        verifier, challenge = pkce_pair()
        query = {
            "client_id": app.client_id,
            "redirect_uri": callback.url,
            "response_type": "code",
            "scope": "offline",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        authorization_url = f"{live_server.url}/oauth2/auth?{urlencode(query)}"

        deny_state = new_state()
        deny_query = {**query, "client_id": denied_app.client_id, "state": deny_state}
        deny_query.pop("code_challenge")
        deny_query.pop("code_challenge_method")

        with chromium() as browser:
            page = browser.new_context().new_page()
            page.set_default_timeout(20_000)
            page.goto(authorization_url)
            assert "/login" in page.url  # signed out: first sign in
            page.fill("input[name=email]", person.email)
            page.fill("input[name=password]", person.password)
            page.click("main button[type=submit]")
            page.wait_for_selector("[data-testid=consent]")  # back at the request, asked to consent
            assert page.inner_text("[data-testid=client-name]") == "Chromium Budget App"
            assert "offline" in page.inner_text("[data-testid=consent]")
            page.click("button[name=decision][value=allow]")
            page.wait_for_selector("#done")
            final = urlsplit(page.url)
            assert f"{final.scheme}://{final.netloc}{final.path}" == callback.url

            # A returning investor is not asked again.
            second_state = new_state()
            page.goto(authorization_url.replace(state, second_state))
            page.wait_for_selector("#done")

            # Another app, declined: it gets access_denied and no code.
            page.goto(f"{live_server.url}/oauth2/auth?{urlencode(deny_query)}")
            assert page.inner_text("[data-testid=client-name]") == "Denied App"
            page.click("button[name=decision][value=deny]")
            page.wait_for_selector("#done")

    first, second, declined = callback.received
    assert declined["error"] == "access_denied" and declined["state"] == deny_state
    assert "code" not in declined
    assert first["state"] == state and "code" in first
    assert second["state"] == second_state and "code" in second
    token = httpx.post(
        f"{live_server.url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": first["code"],
            "redirect_uri": callback.url,
            "code_verifier": verifier,
        },
        auth=(app.client_id, app.client_secret or ""),
        timeout=10,
    )
    assert token.status_code == 200, token.text
    me = httpx.get(
        f"{live_server.url}/v1/investors/me", headers=bearer(token.json()["access_token"]), timeout=10
    )
    assert me.json()["name"] == "Chromium Treasury SAS"
