"""An independent OAuth client implementation (Authlib's httpx ``OAuth2Client``) against the app."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import httpx
import pytest

from tests.app_transport import AppTransport
from tests.conftest import create_investor
from tests.oauth.conftest import ISSUER
from tests.oauth.helpers import csrf_token, register_app, sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import OAuth2Client


@dataclass
class Server:
    url: str
    transport: AppTransport


@pytest.fixture
def world(ctx, app_transport):  # type: ignore[no-untyped-def]
    person = create_investor(ctx, name="Library Test SAS")
    confidential = register_app(ctx, name="Library Confidential")
    public = register_app(ctx, name="Library Public", public=True)
    return Server(ISSUER, app_transport), person, confidential, public


def _consent(server: Server, person, authorization_url: str) -> str:  # type: ignore[no-untyped-def]
    """What the user's browser does: sign in, allow, and land on the redirect URI."""
    with httpx.Client(base_url=server.url, timeout=10, transport=server.transport) as browser:
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


def _flow(server: Server, person, app, kind: str) -> None:  # type: ignore[no-untyped-def]
    server_url = server.url
    with httpx.Client(transport=server.transport) as http:
        metadata = http.get(server_url + "/.well-known/openid-configuration", timeout=10).json()
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
        transport=server.transport,
    )
    with client:
        verifier = generate_token(48)
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier
        )
        assert "code_challenge=" in url and len(state) >= 8
        callback = _consent(server, person, url)
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


def test_authlib_client_completes_the_flow_with_pkce_and_refreshes(world):
    server, person, confidential, public = world
    _flow(server, person, public, "public")
    _flow(server, person, confidential, "confidential")

    # The library, not only this server, refuses a callback whose state it did not issue.
    client = OAuth2Client(
        client_id=confidential.client_id,
        client_secret=confidential.client_secret,
        scope="offline",
        redirect_uri=confidential.redirect_uri,
        timeout=10,
        transport=server.transport,
    )
    with client:
        url, _ = client.create_authorization_url(server.url + "/oauth2/auth")
        callback = _consent(server, person, url)
        with pytest.raises(Exception, match="[Ss]tate"):
            client.fetch_token(
                server.url + "/oauth2/token", authorization_response=callback, state="forged-state"
            )
