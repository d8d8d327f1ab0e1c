"""Scopes from the SDK: plain strings the integrator passes; refusals raise ``ForbiddenError``."""

from __future__ import annotations

import pytest

from spiko.client import ApiKeyAuth, ForbiddenError, OAuth2Session, SpikoClient, SpikoError
from tests.client.test_oauth import REDIRECT_URI, register_app


def test_a_read_only_key_reads_and_a_write_raises_forbidden(server, investor):
    created = server.cli("api-keys", "create", "--email", investor.email, "--scope", "read")
    auth = ApiKeyAuth(created["client_id"], created["client_secret"])
    with SpikoClient(server.url, auth=auth, transport=server.transport) as client:
        assert client.investors.me().name == "Alice Treasury SAS"
        assert client.accounts.list() == []
        with pytest.raises(ForbiddenError) as refused:
            client.accounts.create("00000000-0000-4000-8000-000000000000", name="Not allowed")
    assert isinstance(refused.value, SpikoError)
    assert refused.value.status == 403 and refused.value.tag == "ForbiddenError"
    assert "accounts:write" in refused.value.message


def test_an_oauth_session_asks_for_the_scopes_it_is_given(server, investor):
    app = register_app(server)
    session = OAuth2Session(
        issuer=server.url,
        transport=server.transport,
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        redirect_uri=REDIRECT_URI,
        scope="offline investors:read",
    )
    browser = server.browser()
    try:
        browser.sign_in(investor.email, investor.password)
        token = session.exchange(browser.authorize(session.authorization_url()))
    finally:
        browser.close()
    assert set(token["scope"].split()) == {"offline", "investors:read"}
    with SpikoClient(server.url, auth=session, transport=server.transport) as client:
        assert client.investors.me().name == "Alice Treasury SAS"
        with pytest.raises(ForbiddenError):
            client.accounts.list()
        session.refresh()  # the refreshed token keeps the scope
        assert set(session.token["scope"].split()) == {"offline", "investors:read"}
        with pytest.raises(ForbiddenError):
            client.accounts.list()
