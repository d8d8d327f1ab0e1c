"""An independent OAuth client implementation (Authlib's httpx ``OAuth2Client``) against a real server."""

from __future__ import annotations

import time
import warnings

import httpx
import pytest

from spiko.config import Settings
from spiko.context import AppContext
from tests.conftest import TEST_SECRET_KEY, create_investor
from tests.oauth.helpers import csrf_token, register_app, sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import OAuth2Client


@pytest.fixture
def world(live_server, database_url):  # type: ignore[no-untyped-def]
    ctx = AppContext(Settings(database_url=database_url, secret_key=TEST_SECRET_KEY, issuer=live_server.url))
    try:
        person = create_investor(ctx, name="Library Test SAS")
        confidential = register_app(ctx, name="Library Confidential")
        public = register_app(ctx, name="Library Public", public=True)
    finally:
        ctx.close()
    return live_server, person, confidential, public


def _consent(server_url: str, person, authorization_url: str) -> str:  # type: ignore[no-untyped-def]
    """What the user's browser does: sign in, allow, and land on the redirect URI."""
    with httpx.Client(base_url=server_url, timeout=10) as browser:
        sign_in(browser, person.email, person.password)
        page = browser.get(authorization_url)
        if page.status_code == 302:  # consent already given: straight back to the app
            return page.headers["location"]
        assert page.status_code == 200, page.text
        answer = browser.post(
            authorization_url, data={"csrf_token": csrf_token(page.text), "decision": "allow"}
        )
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]


def _flow(server_url: str, person, app, kind: str) -> None:  # type: ignore[no-untyped-def]
    metadata = httpx.get(server_url + "/.well-known/openid-configuration", timeout=10).json()
    saved: list[dict] = []

    def update_token(token, refresh_token=None, access_token=None):  # type: ignore[no-untyped-def]
        saved.append(dict(token))

    client = OAuth2Client(
        client_id=app.client_id,
        client_secret=app.client_secret,
        token_endpoint_auth_method="none" if kind == "public" else "client_secret_basic",
        scope="offline openid",
        redirect_uri=app.redirect_uri,
        code_challenge_method="S256",
        token_endpoint=metadata["token_endpoint"],
        update_token=update_token,
        timeout=10,
    )
    with client:
        verifier = generate_token(48)
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier
        )
        assert "code_challenge=" in url and len(state) >= 8
        callback = _consent(server_url, person, url)
        token = client.fetch_token(
            metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state
        )
        assert token["token_type"] == "Bearer" and token["refresh_token"] and token["id_token"]
        me = client.get(server_url + "/v1/investors/me")
        assert me.status_code == 200 and me.json()["id"] == person.investor_id

        first_refresh = token["refresh_token"]
        client.token["expires_at"] = int(time.time()) - 10  # the library refreshes before the call
        again = client.get(server_url + "/v1/investors/")
        assert again.status_code == 200
        assert saved and saved[-1]["refresh_token"] != first_refresh
        assert client.token["access_token"] != token["access_token"]

        revoked = client.revoke_token(metadata["revocation_endpoint"], token=client.token["refresh_token"],
                                      token_type_hint="refresh_token")  # fmt: skip
        assert revoked.status_code == 200
        assert client.get(server_url + "/v1/investors/me").status_code == 401


@pytest.mark.server
def test_authlib_client_completes_the_flow_with_pkce_and_refreshes(world):
    server, person, confidential, public = world
    _flow(server.url, person, public, "public")
    _flow(server.url, person, confidential, "confidential")

    # The library, not only this server, refuses a callback whose state it did not issue.
    client = OAuth2Client(
        client_id=confidential.client_id,
        client_secret=confidential.client_secret,
        scope="offline",
        redirect_uri=confidential.redirect_uri,
        timeout=10,
    )
    with client:
        url, _ = client.create_authorization_url(server.url + "/oauth2/auth")
        callback = _consent(server.url, person, url)
        with pytest.raises(Exception, match="[Ss]tate"):
            client.fetch_token(
                server.url + "/oauth2/token", authorization_response=callback, state="forged-state"
            )
