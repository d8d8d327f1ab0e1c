"""The SDK's FAPI 2.0 flags against a real server: ``OAuth2Session(..., dpop=True, par=True)`` with
``private_key_jwt``, a token bound to a key kept with it, DPoP proofs and nonces on /v1."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc.jwk import ECKey

from spiko.client import InvestorAuthenticationError, OAuth2Error, OAuth2Session, SpikoClient
from tests.client.conftest import Server
from tests.conftest import InvestorFixture

REDIRECT_URI = "http://127.0.0.1:8765/callback"


def register_fapi_app(server: Server, tmp_path: Any) -> tuple[str, dict[str, Any]]:
    """A FAPI 2.0 app with its key pair: the private JWK stays with the app, the public is registered."""
    generated = ECKey.generate_key("P-256", private=True)
    private = {**generated.as_dict(private=True), "kid": generated.thumbprint()}
    public = {key: value for key, value in private.items() if key != "d"}
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [public]}))
    created = server.cli(
        "oauth-clients", "create", "--name", "Open Finance Co", "--redirect-uri", REDIRECT_URI,
        "--jwks", str(jwks), "--fapi",
    )  # fmt: skip
    return created["client_id"], private


def fapi_session(server: Server, client_id: str, private: dict[str, Any], **options: Any) -> OAuth2Session:
    return OAuth2Session(
        issuer=server.url,
        transport=server.transport,
        client_id=client_id,
        redirect_uri=REDIRECT_URI,
        scope="offline openid",
        client_jwk=private,
        dpop=True,
        par=True,
        **options,
    )


def consent(server: Server, investor: InvestorFixture, url: str) -> str:
    browser = server.browser()
    try:
        browser.sign_in(investor.email, investor.password)
        return browser.authorize(url)
    finally:
        browser.close()


def test_one_flag_gives_fapi_and_a_saved_token_keeps_working(server, investor, tmp_path):
    client_id, private = register_fapi_app(server, tmp_path)
    saved: list[dict[str, Any]] = []
    session = fapi_session(server, client_id, private, on_token=saved.append)
    url = session.authorization_url()
    assert set(parse_qs(urlsplit(url).query)) == {"client_id", "request_uri"}  # pushed, nothing else
    token = session.exchange(consent(server, investor, url))
    assert token["token_type"] == "DPoP" and token["dpop_jwk"]["d"]
    with SpikoClient(server.url, auth=session, transport=server.transport) as client:
        assert client.investors.me().id == investor.investor_id
    with server.http() as http:
        plain = http.get("/v1/investors/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert plain.status_code == 401  # a stolen token is useless without the key

    restored = fapi_session(server, client_id, private, token=saved[-1], on_token=saved.append)
    with SpikoClient(server.url, auth=restored, transport=server.transport) as client:
        assert client.investors.me().id == investor.investor_id
        restored.refresh()
        assert client.investors.me().id == investor.investor_id
    assert saved[-1]["dpop_jwk"] == token["dpop_jwk"] and saved[-1]["refresh_token"] != token["refresh_token"]


def test_an_authorization_response_from_another_issuer_is_refused(server, tmp_path):
    client_id, private = register_fapi_app(server, tmp_path)
    session = fapi_session(server, client_id, private)
    state = parse_qs(urlsplit(session.authorization_url()).query)  # pushed; state is inside
    assert "request_uri" in state
    pending_state = session._pending[0] if session._pending else ""
    forged = (
        REDIRECT_URI + "?" + urlencode({"code": "x", "state": pending_state, "iss": "https://evil.example"})
    )
    with pytest.raises(OAuth2Error) as refused:
        session.exchange(forged)
    assert refused.value.tag == "invalid_issuer"


def test_without_dpop_a_fapi_client_is_refused(server, investor, tmp_path):
    client_id, private = register_fapi_app(server, tmp_path)
    session = OAuth2Session(
        issuer=server.url,
        client_id=client_id,
        redirect_uri=REDIRECT_URI,
        client_jwk=private,
        par=True,
        transport=server.transport,
    )
    url = session.authorization_url()
    with pytest.raises(OAuth2Error) as refused:
        session.exchange(consent(server, investor, url))
    assert refused.value.tag == "invalid_request"
    assert not isinstance(refused.value, InvestorAuthenticationError)
