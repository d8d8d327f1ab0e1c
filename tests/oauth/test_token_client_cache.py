"""The token endpoint's client cache: clients come from the server's one-second cache
(``LiveClients``) and are confirmed against their rows in the request's transaction, so a client
revoked, or given a new secret, by another process (one whose invalidation does not reach this
one) is refused at once, and nothing it asked for is done."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select, update

from spiko.auth.oauth.runtime import oauth_server
from spiko.auth.secrets import sha256_hex
from spiko.db.models.oauth import OAuthAuthorizationCode, OAuthClient, OAuthGrant, OAuthToken
from tests.oauth.helpers import RegisteredApp, exchange, obtain_code, refresh, tokens_for


@pytest.fixture
def cache(ctx):  # type: ignore[no-untyped-def]
    """The server's client cache, its entries kept for a minute: the stale entries these tests
    need do not expire under them on a slow machine."""
    live_clients = oauth_server(ctx).live_clients
    live_clients._cache.ttl = 60.0
    return live_clients


def _revoke_elsewhere(ctx, app: RegisteredApp) -> None:  # type: ignore[no-untyped-def]
    """As another process without Redis would: the row changes, nothing is published here."""
    from spiko.auth.oauth.clients import revoke_client

    with ctx.transaction() as session:
        revoke_client(session, app.client_id)


def _code_used(ctx, code: str) -> bool:  # type: ignore[no-untyped-def]
    with ctx.transaction(write=False) as session:
        used = session.scalar(
            select(OAuthAuthorizationCode.used_at).where(OAuthAuthorizationCode.code_hash == sha256_hex(code))
        )
    return used is not None


def test_the_token_endpoint_fills_the_cache_and_serves_from_it(ctx, cache, browser, client, app_client):
    assert cache.cached(app_client.client_id) is None
    first = exchange(client, app_client, obtain_code(browser, app_client))
    assert first.status_code == 200, first.text
    entry = cache.cached(app_client.client_id)
    assert entry is not None and entry[0] is not None and entry[0].client_id == app_client.client_id
    second = exchange(client, app_client, obtain_code(browser, app_client))
    assert second.status_code == 200, second.text
    assert cache.cached(app_client.client_id) is entry  # answered from it, not read again
    renewed = refresh(client, app_client, second.json()["refresh_token"])
    assert renewed.status_code == 200, renewed.text


def test_a_cached_client_with_a_wrong_secret_is_refused(cache, browser, client, app_client):
    assert exchange(client, app_client, obtain_code(browser, app_client)).status_code == 200
    assert cache.cached(app_client.client_id) is not None
    code = obtain_code(browser, app_client)
    wrong = RegisteredApp(app_client.client_id, "sps_" + "x" * 43, app_client.redirect_uri)
    refused = exchange(client, wrong, code)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert refused.headers["cache-control"] == "no-store"
    assert exchange(client, app_client, code).status_code == 200  # the code is still good


def test_a_client_revoked_elsewhere_cannot_exchange_a_code(ctx, cache, browser, client, app_client):
    assert exchange(client, app_client, obtain_code(browser, app_client)).status_code == 200
    code = obtain_code(browser, app_client)
    _revoke_elsewhere(ctx, app_client)
    assert cache.cached(app_client.client_id)[0] is not None  # the cache is behind
    refused = exchange(client, app_client, code)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "invalid_client"
    assert not _code_used(ctx, code), "the refused request changed nothing"
    assert cache.cached(app_client.client_id) in (None, (None,))


def test_a_client_revoked_elsewhere_cannot_refresh(ctx, cache, browser, client, app_client):
    tokens = tokens_for(browser, app_client)
    assert refresh(client, app_client, tokens["refresh_token"]).status_code == 200
    other = tokens_for(browser, app_client)
    _revoke_elsewhere(ctx, app_client)
    refused = refresh(client, app_client, other["refresh_token"])
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    with ctx.transaction(write=False) as session:
        rotated = session.scalar(
            select(OAuthToken.refresh_rotated_at).where(
                OAuthToken.refresh_token_hash == sha256_hex(other["refresh_token"])
            )
        )
    assert rotated is None, "the refused request rotated nothing"


def test_a_client_revoked_elsewhere_gets_invalid_client_not_invalid_grant(
    ctx, cache, browser, client, app_client
):
    """A refusal that reads no code of the client (an unknown code) confirms the client too."""
    assert exchange(client, app_client, obtain_code(browser, app_client)).status_code == 200
    _revoke_elsewhere(ctx, app_client)
    refused = exchange(client, app_client, "not-a-code")
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    garbage = refresh(client, app_client, "spr_not-a-token")
    assert garbage.status_code == 401 and garbage.json()["error"] == "invalid_client"


def test_a_new_secret_set_elsewhere_applies_at_once(ctx, cache, browser, client, app_client):
    tokens = tokens_for(browser, app_client)
    assert refresh(client, app_client, tokens["refresh_token"]).status_code == 200
    new_secret = "sps_" + base64.urlsafe_b64encode(b"n" * 32).decode().rstrip("=")
    with ctx.transaction() as session:
        session.execute(
            update(OAuthClient)
            .where(OAuthClient.client_id == app_client.client_id)
            .values(secret_hash=sha256_hex(new_secret))
        )
    code = obtain_code(browser, app_client)
    old = exchange(client, app_client, code)
    assert old.status_code == 401 and old.json()["error"] == "invalid_client"
    assert not _code_used(ctx, code)
    renewed = RegisteredApp(app_client.client_id, new_secret, app_client.redirect_uri)
    assert exchange(client, renewed, code).status_code == 200


def test_a_replayed_code_of_a_client_revoked_elsewhere_revokes_nothing_more(
    ctx, cache, browser, client, app_client
):
    """The client is confirmed before a replay is acted on: the answer is invalid_client, and the
    grant (already dead with its client) is left as it was."""
    code = obtain_code(browser, app_client)
    assert exchange(client, app_client, code).status_code == 200
    _revoke_elsewhere(ctx, app_client)
    refused = exchange(client, app_client, code)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    with ctx.transaction(write=False) as session:
        reasons = session.scalars(select(OAuthGrant.revoked_reason)).all()
    assert reasons == [None]
