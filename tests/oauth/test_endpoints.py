"""Revocation, introspection, discovery, JWKS and ID tokens, UserInfo, RP-initiated logout, key rotation."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import update

from spiko.auth.oauth.keys import KeyRing
from spiko.auth.oauth.metadata import authorization_server_metadata, openid_configuration
from spiko.db.models.oauth import OAuthSigningKey
from spiko.db.types import utcnow
from tests.oauth.conftest import ISSUER
from tests.oauth.helpers import bearer, refresh, register_app, tokens_for


def _me(client, token):  # type: ignore[no-untyped-def]
    return client.get("/v1/investors/me", headers=bearer(token))


class TestRevocation:
    def test_revoking_an_access_token_stops_it_at_once(self, browser, client, app_client):
        tokens = tokens_for(browser, app_client)
        assert _me(client, tokens["access_token"]).status_code == 200  # now cached in this process
        response = client.post(
            "/oauth2/revoke", data={"token": tokens["access_token"]}, headers=app_client.basic
        )
        assert response.status_code == 200
        assert _me(client, tokens["access_token"]).status_code == 401
        # The refresh token of the same response still works: only the access token was revoked.
        assert refresh(client, app_client, tokens["refresh_token"]).status_code == 200

    def test_revoking_a_refresh_token_revokes_its_grant(self, browser, client, app_client):
        tokens = tokens_for(browser, app_client)
        response = client.post(
            "/oauth2/revoke",
            data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
            headers=app_client.basic,
        )
        assert response.status_code == 200
        assert _me(client, tokens["access_token"]).status_code == 401
        assert refresh(client, app_client, tokens["refresh_token"]).json()["error"] == "invalid_grant"

    def test_an_unknown_token_is_answered_200(self, client, app_client):
        response = client.post("/oauth2/revoke", data={"token": "not-a-token"}, headers=app_client.basic)
        assert response.status_code == 200

    def test_a_client_cannot_revoke_another_clients_token(self, ctx, browser, client, app_client):
        tokens = tokens_for(browser, app_client)
        other = register_app(ctx, name="Other")
        response = client.post("/oauth2/revoke", data={"token": tokens["access_token"]}, headers=other.basic)
        assert response.status_code == 400
        assert _me(client, tokens["access_token"]).status_code == 200

    def test_revocation_requires_client_authentication(self, browser, client, app_client):
        tokens = tokens_for(browser, app_client)
        response = client.post("/oauth2/revoke", data={"token": tokens["access_token"]})
        assert response.json()["error"] == "invalid_client"
        wrong = base64.b64encode(f"{app_client.client_id}:nope".encode()).decode()
        response = client.post(
            "/oauth2/revoke",
            data={"token": tokens["access_token"]},
            headers={"Authorization": f"Basic {wrong}"},
        )
        assert response.status_code == 401
        assert _me(client, tokens["access_token"]).status_code == 200

    def test_a_public_client_revokes_with_its_client_id(self, browser, client, public_app):
        from tests.oauth.helpers import exchange, obtain_code, pkce_pair

        verifier, challenge = pkce_pair()
        code = obtain_code(browser, public_app, code_challenge=challenge, code_challenge_method="S256")
        tokens = exchange(client, public_app, code, code_verifier=verifier).json()
        response = client.post(
            "/oauth2/revoke", data={"token": tokens["refresh_token"], "client_id": public_app.client_id}
        )
        assert response.status_code == 200
        assert _me(client, tokens["access_token"]).status_code == 401


class TestIntrospection:
    def test_an_active_access_token(self, browser, client, app_client, investor):
        tokens = tokens_for(browser, app_client)
        response = client.post(
            "/oauth2/introspect", data={"token": tokens["access_token"]}, headers=app_client.basic
        )
        assert response.status_code == 200
        body = response.json()
        assert body["active"] is True
        assert body["client_id"] == app_client.client_id
        assert body["token_type"] == "Bearer"
        assert body["scope"] == "offline"
        assert body["iss"] == ISSUER
        assert body["investor_id"] == investor.investor_id
        assert body["exp"] - body["iat"] == 3600

    def test_a_refresh_token_and_revoked_tokens(self, browser, client, app_client):
        tokens = tokens_for(browser, app_client)
        body = client.post(
            "/oauth2/introspect", data={"token": tokens["refresh_token"]}, headers=app_client.basic
        ).json()
        assert body["active"] is True and "token_type" not in body
        client.post("/oauth2/revoke", data={"token": tokens["refresh_token"]}, headers=app_client.basic)
        for value in (tokens["access_token"], tokens["refresh_token"], "unknown"):
            answer = client.post("/oauth2/introspect", data={"token": value}, headers=app_client.basic)
            assert answer.json() == {"active": False}

    def test_only_the_tokens_own_authenticated_client_may_introspect(
        self, ctx, browser, client, app_client, public_app
    ):
        tokens = tokens_for(browser, app_client)
        other = register_app(ctx, name="Other")
        answer = client.post(
            "/oauth2/introspect", data={"token": tokens["access_token"]}, headers=other.basic
        )
        assert answer.json() == {"active": False}
        anonymous = client.post("/oauth2/introspect", data={"token": tokens["access_token"]})
        assert anonymous.json()["error"] == "invalid_client"
        public = client.post(
            "/oauth2/introspect", data={"token": tokens["access_token"], "client_id": public_app.client_id}
        )
        assert public.json()["error"] == "invalid_client"


class TestIntrospectionFromTheCaches:
    """Repeated introspections are answered from the one-second caches (``oauth.introspection``):
    the same answer as the full path, and never after a revocation made by this process."""

    def _introspect(self, client, app_client, token, **extra):  # type: ignore[no-untyped-def]
        return client.post("/oauth2/introspect", data={"token": token, **extra}, headers=app_client.basic)

    def test_the_cached_answer_is_the_full_answer(self, ctx, browser, client, app_client):
        from spiko.auth.oauth.runtime import oauth_server

        tokens = tokens_for(browser, app_client)
        first = self._introspect(client, app_client, tokens["access_token"])
        server = oauth_server(ctx)
        assert server.live_clients.cached(app_client.client_id) is not None  # filled by the full path
        second = self._introspect(client, app_client, tokens["access_token"])
        third = self._introspect(client, app_client, tokens["access_token"], token_type_hint="access_token")
        assert first.json()["active"] is True
        assert second.json() == first.json() == third.json()
        assert second.headers["cache-control"] == first.headers["cache-control"] == "no-store"
        assert second.headers["content-type"] == first.headers["content-type"]

    def test_a_wrong_secret_or_another_client_is_refused_even_when_cached(
        self, ctx, browser, client, app_client
    ):
        tokens = tokens_for(browser, app_client)
        assert self._introspect(client, app_client, tokens["access_token"]).json()["active"] is True
        wrong = base64.b64encode(f"{app_client.client_id}:sps_wrong".encode()).decode()
        refused = client.post(
            "/oauth2/introspect",
            data={"token": tokens["access_token"]},
            headers={"Authorization": f"Basic {wrong}"},
        )
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
        other = register_app(ctx, name="Other")
        for _ in range(2):  # the second time with the other client cached too
            assert self._introspect(client, other, tokens["access_token"]).json() == {"active": False}

    def test_revocation_is_seen_at_once(self, browser, client, app_client):
        tokens = tokens_for(browser, app_client)
        for _ in range(2):
            assert self._introspect(client, app_client, tokens["access_token"]).json()["active"] is True
        client.post("/oauth2/revoke", data={"token": tokens["access_token"]}, headers=app_client.basic)
        assert self._introspect(client, app_client, tokens["access_token"]).json() == {"active": False}

    def test_a_revoked_client_is_refused_at_once(self, ctx, browser, client, app_client):
        from spiko.auth.oauth.clients import revoke_client

        tokens = tokens_for(browser, app_client)
        for _ in range(2):
            assert self._introspect(client, app_client, tokens["access_token"]).json()["active"] is True
        with ctx.transaction() as session:
            revoke_client(session, app_client.client_id)
        ctx.invalidations.publish("oauth_tokens")  # as `spiko oauth-clients revoke` does
        assert (
            self._introspect(client, app_client, tokens["access_token"]).json()["error"] == "invalid_client"
        )


class TestDiscovery:
    @pytest.mark.parametrize(
        "path", ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]
    )
    def test_documents_advertise_what_is_implemented(self, client, path):
        response = client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert body["issuer"] == ISSUER
        assert body["authorization_endpoint"] == f"{ISSUER}/oauth2/auth"
        assert body["token_endpoint"] == f"{ISSUER}/oauth2/token"
        assert body["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
        assert body["revocation_endpoint"] == f"{ISSUER}/oauth2/revoke"
        assert body["introspection_endpoint"] == f"{ISSUER}/oauth2/introspect"
        assert body["response_types_supported"] == ["code"]
        assert body["grant_types_supported"] == ["authorization_code", "refresh_token"]
        assert set(body["scopes_supported"]) == {
            "offline",
            "offline_access",
            "openid",
            "read",
            "investors:read",
            "accounts:read",
            "accounts:write",
            "bank-accounts:read",
            "orders:read",
            "orders:write",
            "reports:read",
            "events:read",
            "webhooks:read",
            "webhooks:write",
        }
        assert set(body["token_endpoint_auth_methods_supported"]) == {
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        }
        assert body["code_challenge_methods_supported"] == ["plain", "S256"]
        for absent in (
            "device_authorization_endpoint",
            "registration_endpoint",
            "request_object_signing_alg_values_supported",
        ):
            assert absent not in body
        if path.endswith("openid-configuration"):
            assert body["userinfo_endpoint"] == f"{ISSUER}/userinfo"
            assert body["end_session_endpoint"] == f"{ISSUER}/oauth2/sessions/logout"
            assert body["id_token_signing_alg_values_supported"] == ["RS256", "ES256", "PS256"]
            assert body["subject_types_supported"] == ["public"]

    def test_every_advertised_endpoint_exists(self, client):
        body = client.get("/.well-known/openid-configuration").json()
        for key, value in body.items():
            if key.endswith("_endpoint") or key == "jwks_uri":
                path = value.removeprefix(ISSUER)
                response = (
                    client.post(path)
                    if key in ("token_endpoint", "revocation_endpoint", "introspection_endpoint")
                    else client.get(path, follow_redirects=False)
                )
                assert response.status_code != 404, key

    def test_documents_validate_with_authlib_under_an_https_issuer(self):
        authorization_server_metadata("https://auth.example.com").validate()
        openid_configuration("https://auth.example.com").validate()

    def test_issuer_follows_the_settings(self, client):
        assert client.get("/.well-known/openid-configuration").json()["issuer"] == ISSUER


def _openid_tokens(browser, app_client, nonce):  # type: ignore[no-untyped-def]
    return tokens_for(browser, app_client, scope="openid offline", nonce=nonce)


class TestIdTokens:
    def test_openid_yields_an_rs256_id_token_verifiable_with_the_jwks(
        self, browser, client, app_client, investor
    ):
        nonce = secrets.token_urlsafe(12)
        tokens = _openid_tokens(browser, app_client, nonce)
        jwks = client.get("/.well-known/jwks.json").json()
        assert any(key["kty"] == "RSA" for key in jwks["keys"])
        assert all("d" not in key for key in jwks["keys"])
        decoded = jwt.decode(tokens["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
        assert decoded.header["alg"] == "RS256"
        assert decoded.header["kid"] in {key["kid"] for key in jwks["keys"]}
        claims = decoded.claims
        assert claims["iss"] == ISSUER
        assert claims["aud"] == app_client.client_id
        assert claims["nonce"] == nonce
        assert claims["sub"]
        assert claims["exp"] - claims["iat"] == 3600
        assert "auth_time" in claims and "at_hash" in claims
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": ISSUER}).validate(claims)

    def test_no_id_token_without_openid(self, browser, app_client):
        assert "id_token" not in tokens_for(browser, app_client, scope="offline")

    def test_a_nonce_cannot_be_replayed(self, browser, app_client):
        from tests.oauth.helpers import authorize_path, decide, redirect_params

        nonce = secrets.token_urlsafe(12)
        _openid_tokens(browser, app_client, nonce)
        answer = redirect_params(
            decide(browser, authorize_path(app_client, scope="openid offline", nonce=nonce))
        )
        assert answer["error"] == "invalid_request"

    def test_rotation_signs_with_the_new_key_and_keeps_the_old_one_published(
        self, ctx, browser, client, app_client
    ):
        before = _openid_tokens(browser, app_client, "n-one-aaaa")
        old_kid = jwt.decode(
            before["id_token"], KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
        ).header["kid"]
        with ctx.transaction() as session:
            rotated = KeyRing(ctx.settings).rotate(session)
        assert old_kid in rotated["retired"]  # with the ES256 key of FAPI 2.0 clients
        from spiko.auth.oauth.runtime import oauth_server

        oauth_server(ctx).keys.invalidate()  # as the cache would after a few seconds
        after = _openid_tokens(browser, app_client, "n-two-bbbb")
        jwks = client.get("/.well-known/jwks.json").json()
        kids = {key["kid"] for key in jwks["keys"]}
        assert {old_kid, rotated["kid"]} <= kids
        key_set = KeySet.import_key_set(jwks)
        assert jwt.decode(after["id_token"], key_set).header["kid"] == rotated["kid"]
        assert jwt.decode(before["id_token"], key_set).claims["nonce"] == "n-one-aaaa"
        # Once every token the old key signed has expired, it leaves the JWKS.
        with ctx.transaction() as session:
            session.execute(
                update(OAuthSigningKey)
                .where(OAuthSigningKey.kid == old_kid)
                .values(retired_at=utcnow() - timedelta(seconds=3600 + 301))
            )
        oauth_server(ctx).keys.invalidate()
        assert {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]} >= {rotated["kid"]}
        assert old_kid not in {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]}

    def test_private_keys_are_stored_encrypted(self, ctx, client):
        client.get("/.well-known/jwks.json")
        with ctx.transaction(write=False) as session:
            row = session.query(OAuthSigningKey).filter_by(algorithm="RS256").one()
        assert '"d"' not in row.private_jwk_encrypted and row.private_jwk_encrypted.count(".") == 4
        wrong = KeyRing(ctx.settings.with_overrides(secret_key="another-secret-key-" + "y" * 30))
        with ctx.transaction() as session:
            assert wrong.load(session).signing is None  # unreadable without the server secret
            assert wrong.signing_key(session).kid != row.kid  # so a new key is made, not a crash


class TestUserInfo:
    def test_userinfo_with_an_openid_token(self, browser, client, app_client):
        tokens = _openid_tokens(browser, app_client, "nonce-userinfo")
        claims = jwt.decode(
            tokens["id_token"], KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
        ).claims
        response = client.get("/userinfo", headers=bearer(tokens["access_token"]))
        assert response.status_code == 200
        assert response.json() == {"sub": claims["sub"]}

    def test_userinfo_refusals(self, browser, client, app_client):
        assert client.get("/userinfo").status_code in (401, 403)
        bad = client.get("/userinfo", headers=bearer("nope"))
        assert bad.status_code == 401
        assert 'error="invalid_token"' in bad.headers["www-authenticate"]
        no_openid = tokens_for(browser, app_client, scope="offline")
        assert client.get("/userinfo", headers=bearer(no_openid["access_token"])).status_code == 403


class TestLogout:
    def test_with_an_id_token_hint_it_signs_out_and_redirects(self, browser, app_client):
        tokens = _openid_tokens(browser, app_client, "nonce-logout")
        response = browser.get(
            "/oauth2/sessions/logout",
            params={
                "id_token_hint": tokens["id_token"],
                "post_logout_redirect_uri": app_client.redirect_uri,
                "state": "after-logout",
            },
            follow_redirects=False,
        )
        assert response.status_code == 302
        assert response.headers["location"] == app_client.redirect_uri + "?state=after-logout"
        assert browser.get("/integrations", follow_redirects=False).headers["location"].startswith("/login")

    def test_an_unregistered_post_logout_uri_is_not_followed(self, browser, app_client):
        tokens = _openid_tokens(browser, app_client, "nonce-logout2")
        response = browser.get(
            "/oauth2/sessions/logout",
            params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
            follow_redirects=False,
        )
        assert response.status_code == 200 and "signed-out" in response.text

    def test_without_a_hint_the_user_confirms(self, browser):
        from tests.oauth.helpers import csrf_token

        page = browser.get("/oauth2/sessions/logout", follow_redirects=False)
        assert page.status_code == 200 and 'action="/oauth2/sessions/logout"' in page.text
        assert browser.get("/integrations", follow_redirects=False).status_code == 200  # still signed in
        refused = browser.post("/oauth2/sessions/logout", data={"csrf_token": "forged"})
        assert refused.status_code == 403
        done = browser.post("/oauth2/sessions/logout", data={"csrf_token": csrf_token(page.text)})
        assert "signed-out" in done.text
        assert browser.get("/integrations", follow_redirects=False).status_code == 303

    def test_a_forged_hint_is_an_error_page(self, browser):
        response = browser.get(
            "/oauth2/sessions/logout", params={"id_token_hint": "a.b.c"}, follow_redirects=False
        )
        assert response.status_code == 400


def test_a_plain_http_issuer_off_loopback_is_refused(settings):
    """OAuth over plain http is only for development on loopback (Authlib's transport rule)."""
    from fastapi.testclient import TestClient

    from spiko.app import create_app
    from spiko.context import AppContext
    from tests.oauth.helpers import authorize_path

    ctx = AppContext(settings.with_overrides(issuer="http://spiko.example"))
    try:
        app = register_app(ctx)
        with TestClient(create_app(ctx=ctx), base_url="http://testserver") as client:
            page = client.get(authorize_path(app), follow_redirects=False)
            assert page.status_code == 400 and "location" not in page.headers
            assert "insecure_transport" in page.text
            token = client.post("/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": "x"})
            assert token.status_code == 400
            assert token.json()["error"] == "insecure_transport"
    finally:
        ctx.close()
