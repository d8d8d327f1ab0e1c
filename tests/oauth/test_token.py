"""The token endpoint: code exchange, client authentication, refresh rotation, replay and reuse."""

from __future__ import annotations

import base64
import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from spiko.db.models.oauth import OAuthAuthorizationCode, OAuthGrant, OAuthToken
from spiko.db.types import utcnow
from tests.oauth.helpers import (
    bearer,
    exchange,
    obtain_code,
    pkce_pair,
    refresh,
    register_app,
    tokens_for,
)


def _me(client, access_token):  # type: ignore[no-untyped-def]
    return client.get("/v1/investors/me", headers=bearer(access_token))


def test_client_secret_post_is_accepted(browser, client, app_client):
    code = obtain_code(browser, app_client)
    response = client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app_client.redirect_uri,
            "client_id": app_client.client_id,
            "client_secret": app_client.client_secret,
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


def test_bad_client_authentication_is_invalid_client(ctx, browser, client, app_client):
    code = obtain_code(browser, app_client)
    other = register_app(ctx, name="Other")
    attempts = {
        "wrong secret": (app_client.client_id, "sps_wrong"),
        "unknown client": ("spo_unknown", app_client.client_secret),
        "no credentials": None,
        "other client's secret": (app_client.client_id, other.client_secret),
    }
    for how, credentials in attempts.items():
        headers = {}
        if credentials:
            headers["Authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
        response = client.post(
            "/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": app_client.redirect_uri},
            headers=headers,
        )
        assert response.status_code in (400, 401), how
        assert response.json()["error"] == "invalid_client", how
        assert response.headers["cache-control"] == "no-store"
    # The code is still good for its rightful client.
    assert exchange(client, app_client, code).status_code == 200


MALFORMED_BASIC = [
    "Basic !!!",
    "Basic " + base64.b64encode(b"\xff\xfe:\xfa").decode(),
    "Basic " + "A" * 5000,
    "Basic",
]


def test_malformed_basic_credentials_get_401_never_500(client):
    for header in MALFORMED_BASIC:
        response = client.post(
            "/oauth2/token",
            data={"grant_type": "authorization_code", "code": "x"},
            headers={"Authorization": header},
        )
        assert response.status_code in (400, 401), header[:20]
        assert response.json()["error"] == "invalid_client"


def test_a_confidential_client_cannot_pretend_to_be_public(browser, client, app_client):
    code = obtain_code(browser, app_client)
    response = client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app_client.redirect_uri,
            "client_id": app_client.client_id,
        },
    )
    assert response.json()["error"] == "invalid_client"


def test_a_replayed_code_is_refused_and_revokes_what_it_gave(browser, client, app_client):
    code = obtain_code(browser, app_client)
    first = exchange(client, app_client, code)
    assert first.status_code == 200
    tokens = first.json()
    assert _me(client, tokens["access_token"]).status_code == 200
    replay = exchange(client, app_client, code)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    denied = _me(client, tokens["access_token"])
    assert denied.status_code == 401, "the access token issued from the replayed code is revoked at once"
    assert refresh(client, app_client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_an_expired_code_is_refused(ctx, browser, client, app_client):
    code = obtain_code(browser, app_client)
    with ctx.transaction() as session:
        session.execute(update(OAuthAuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = exchange(client, app_client, code)
    assert response.json()["error"] == "invalid_grant"


def test_codes_live_ten_minutes_and_are_stored_hashed(ctx, browser, app_client):
    code = obtain_code(browser, app_client)
    with ctx.transaction(write=False) as session:
        row = session.scalars(select(OAuthAuthorizationCode)).one()
    lifetime = (row.expires_at - row.created_at).total_seconds()
    assert 599 <= lifetime <= 601
    assert code not in (row.code_hash, row.id)
    assert len(row.code_hash) == 64


def test_the_redirect_uri_must_match_the_authorization_request(browser, client, app_client):
    code = obtain_code(browser, app_client)
    for redirect_uri in (None, "http://127.0.0.1:8765/other", "http://127.0.0.1:8765/callback/"):
        data = {"grant_type": "authorization_code", "code": code}
        if redirect_uri:
            data["redirect_uri"] = redirect_uri
        response = client.post("/oauth2/token", data=data, headers=app_client.basic)
        assert response.json()["error"] == "invalid_grant", redirect_uri
    assert exchange(client, app_client, code).status_code == 200  # the code was not spent


def test_a_code_issued_to_another_client_is_refused(ctx, browser, client, app_client):
    code = obtain_code(browser, app_client)
    thief = register_app(ctx, name="Thief")
    assert exchange(client, thief, code).json()["error"] == "invalid_grant"
    assert exchange(client, app_client, code).status_code == 200


def test_unknown_and_missing_grant_types(client, app_client):
    for data in (
        {"grant_type": "password", "username": "a", "password": "b"},
        {"grant_type": "client_credentials"},
        {},
    ):
        response = client.post("/oauth2/token", data=data, headers=app_client.basic)
        assert response.status_code == 400
        assert response.json()["error"] == "unsupported_grant_type"


def test_no_refresh_token_without_offline_scope(browser, client, app_client):
    for scope in ("openid", ""):
        tokens = tokens_for(browser, app_client, scope=scope)
        assert "refresh_token" not in tokens
        assert _me(client, tokens["access_token"]).status_code == 200
    assert "refresh_token" in tokens_for(browser, app_client, scope="offline_access")


def test_refresh_tokens_rotate_and_reuse_revokes_the_whole_grant(browser, client, app_client):
    first = tokens_for(browser, app_client)
    second = refresh(client, app_client, first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["expires_in"] == 3600
    assert _me(client, second["access_token"]).status_code == 200

    reused = refresh(client, app_client, first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    # Every token of the grant dies, the newest included.
    assert _me(client, second["access_token"]).status_code == 401
    assert _me(client, first["access_token"]).status_code == 401
    assert refresh(client, app_client, second["refresh_token"]).json()["error"] == "invalid_grant"


def test_with_a_reuse_grace_a_lost_refresh_answer_can_be_asked_for_again(
    client_with, app_client, investor, ctx
):
    """``SPIKO_REFRESH_TOKEN_REUSE_GRACE_SECONDS``: the same refresh token exchanged again soon
    after its first exchange gets a new pair, and the grant lives on; once the grace period
    (counted from the first exchange) is over, a reuse revokes the grant as without it."""
    from tests.oauth.helpers import sign_in

    graced = client_with(refresh_token_reuse_grace_seconds=60)
    sign_in(graced, investor.email, investor.password)
    first = tokens_for(graced, app_client)
    lost = refresh(graced, app_client, first["refresh_token"]).json()  # the answer the client never saw
    first_exchange = _rotated_at(ctx, first["access_token"])
    again = refresh(graced, app_client, first["refresh_token"])
    assert again.status_code == 200, again.text
    again = again.json()
    assert again["refresh_token"] not in (lost["refresh_token"], first["refresh_token"])
    for tokens in (lost, again):
        assert _me(graced, tokens["access_token"]).status_code == 200
    # The grace period runs from the first exchange; reuses inside it do not extend it.
    rotated_at = _rotated_at(ctx, first["access_token"])
    assert rotated_at == first_exchange
    with ctx.transaction() as session:
        session.execute(
            update(OAuthToken)
            .where(OAuthToken.access_token_hash == _hash(first["access_token"]))
            .values(refresh_rotated_at=rotated_at - timedelta(seconds=61))
        )
    late = refresh(graced, app_client, first["refresh_token"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    for tokens in (lost, again):
        assert _me(graced, tokens["access_token"]).status_code == 401  # the whole grant revoked


def test_the_reuse_grace_is_bounded():
    import pytest

    from spiko.config import Settings

    for bad in (-1, 301):
        with pytest.raises(ValueError, match="REFRESH_TOKEN_REUSE_GRACE_SECONDS"):
            Settings(refresh_token_reuse_grace_seconds=bad)
    assert Settings(refresh_token_reuse_grace_seconds=300).refresh_token_reuse_grace_seconds == 300


def _rotated_at(ctx, access_token: str):  # type: ignore[no-untyped-def]
    with ctx.transaction(write=False) as session:
        return session.scalar(
            select(OAuthToken.refresh_rotated_at).where(OAuthToken.access_token_hash == _hash(access_token))
        )


def _hash(token: str) -> str:
    from spiko.auth.oauth.tokens import hash_token

    return hash_token(token)


def test_a_refresh_may_carry_the_redirect_uri_and_a_narrower_scope(browser, client, app_client):
    tokens = tokens_for(browser, app_client, scope="offline openid")
    response = refresh(client, app_client, tokens["refresh_token"], redirect_uri=app_client.redirect_uri)
    assert response.status_code == 200, response.text
    narrower = refresh(client, app_client, response.json()["refresh_token"], scope="offline")
    assert narrower.json()["scope"] == "offline"
    wider = refresh(client, app_client, narrower.json()["refresh_token"], scope="offline openid")
    assert wider.json()["error"] == "invalid_scope"


def test_a_refresh_token_belongs_to_its_client(ctx, browser, client, app_client):
    tokens = tokens_for(browser, app_client)
    other = register_app(ctx, name="Other")
    assert refresh(client, other, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert refresh(client, app_client, tokens["refresh_token"]).status_code == 200


def test_garbage_refresh_tokens_are_invalid_grant(client, app_client):
    for value in ("nope", "spr_" + "a" * 43, "x" * 5000):
        assert refresh(client, app_client, value).json()["error"] == "invalid_grant"


def test_an_expired_refresh_token_is_refused(ctx, browser, client, app_client):
    tokens = tokens_for(browser, app_client)
    with ctx.transaction() as session:
        session.execute(update(OAuthToken).values(refresh_expires_at=utcnow() - timedelta(seconds=1)))
    assert refresh(client, app_client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_tokens_are_stored_only_as_sha256(ctx, browser, app_client):
    tokens = tokens_for(browser, app_client)
    with ctx.transaction(write=False) as session:
        row = session.scalars(select(OAuthToken)).one()
    stored = {value for value in vars(row).values() if isinstance(value, str)}
    assert tokens["access_token"] not in stored and tokens["refresh_token"] not in stored
    import hashlib

    assert row.access_token_hash == hashlib.sha256(tokens["access_token"].encode()).hexdigest()


class TestPublicClients:
    def test_pkce_s256_code_exchange_and_refresh_without_a_secret(self, browser, client, public_app):
        verifier, challenge = pkce_pair()
        code = obtain_code(browser, public_app, code_challenge=challenge, code_challenge_method="S256")
        response = exchange(client, public_app, code, code_verifier=verifier)
        assert response.status_code == 200, response.text
        tokens = response.json()
        assert _me(client, tokens["access_token"]).status_code == 200
        renewed = refresh(client, public_app, tokens["refresh_token"])
        assert renewed.status_code == 200, renewed.text

    def test_plain_pkce_works_for_a_confidential_client(self, browser, client, app_client):
        verifier = "v" * 50
        code = obtain_code(browser, app_client, code_challenge=verifier, code_challenge_method="plain")
        assert exchange(client, app_client, code, code_verifier=verifier).status_code == 200

    def test_a_missing_or_wrong_verifier_is_refused(self, browser, client, public_app):
        _, challenge = pkce_pair()
        code = obtain_code(browser, public_app, code_challenge=challenge, code_challenge_method="S256")
        missing = exchange(client, public_app, code)
        assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
        wrong = exchange(client, public_app, code, code_verifier="w" * 50)
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"

    def test_a_confidential_client_using_pkce_must_send_the_verifier(self, browser, client, app_client):
        verifier, challenge = pkce_pair()
        code = obtain_code(browser, app_client, code_challenge=challenge, code_challenge_method="S256")
        assert exchange(client, app_client, code).json()["error"] == "invalid_request"
        assert exchange(client, app_client, code, code_verifier=verifier).status_code == 200


def test_access_token_lifetime_comes_from_settings(settings, ctx, investor):  # type: ignore[no-untyped-def]
    from spiko.app import create_app
    from spiko.context import AppContext
    from tests.oauth.helpers import sign_in

    short = AppContext(settings.with_overrides(access_token_ttl_seconds=120))
    try:
        app = register_app(short)
        with TestClient(create_app(ctx=short), base_url="http://testserver") as browser:
            sign_in(browser, investor.email, investor.password)
            tokens = tokens_for(browser, app)
            assert tokens["expires_in"] == 120
            with short.transaction(write=False) as session:
                row = session.scalars(select(OAuthToken)).one()
            assert abs((row.access_expires_at - row.issued_at).total_seconds() - 120) < 1
    finally:
        short.close()


def test_concurrent_redemptions_of_one_code_issue_tokens_once(app, browser, app_client):
    code = obtain_code(browser, app_client)
    results: list[int] = []

    def redeem() -> None:
        with TestClient(app, raise_server_exceptions=False, base_url="http://testserver") as own:
            results.append(exchange(own, app_client, code).status_code)

    threads = [threading.Thread(target=redeem) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results.count(200) == 1
    assert len(results) == 4


def test_grant_revocation_reason_is_recorded(ctx, browser, client, app_client):
    code = obtain_code(browser, app_client)
    exchange(client, app_client, code)
    exchange(client, app_client, code)
    with ctx.transaction(write=False) as session:
        grant = session.scalars(select(OAuthGrant)).one()
    assert grant.revoked_reason == "code_replayed"
