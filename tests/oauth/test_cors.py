"""Cross-origin access (``SPIKO_CORS_ALLOWED_ORIGINS``): for browser apps on the listed origins, on
the token endpoint, discovery and the APIs; never on the investor app's pages."""

from __future__ import annotations

import pytest

from spiko.config import Settings
from tests.oauth.helpers import bearer, exchange, obtain_code, pkce_pair, register_app, sign_in

SPA = "https://budget.example"
OTHER_SPA = "http://127.0.0.1:5173"
EVIL = "https://evil.example"


@pytest.fixture
def cors_client(client_with):  # type: ignore[no-untyped-def]
    return client_with(cors_allowed_origins=f"{SPA}, {OTHER_SPA}")


def preflight(client, path: str, origin: str, method: str = "POST", headers: str = "authorization"):  # type: ignore[no-untyped-def]
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_no_cors_headers_anywhere_by_default(client, investor):
    for path in ("/v1/investors/me", "/.well-known/openid-configuration", "/v0/funds"):
        response = client.get(path, headers={"Origin": SPA, **investor.basic})
        assert "access-control-allow-origin" not in response.headers, path
    assert "access-control-allow-origin" not in preflight(client, "/oauth2/token", SPA).headers


def test_a_listed_origin_may_call_the_investor_api_with_a_token(cors_client, investor):
    allowed = preflight(
        cors_client, "/v1/deposit-orders", SPA, headers="authorization, content-type, idempotency-key"
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == SPA
    assert "POST" in allowed.headers["access-control-allow-methods"]
    asked = {h.strip().lower() for h in allowed.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= asked
    assert "access-control-allow-credentials" not in allowed.headers  # never cookies
    answer = cors_client.get("/v1/investors/me", headers={"Origin": OTHER_SPA, **investor.basic})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == OTHER_SPA
    exposed = answer.headers["access-control-expose-headers"].lower()
    assert "retry-after" in exposed and "x-request-id" in exposed


def test_an_unlisted_origin_gets_no_permission(cors_client, investor):
    refused = preflight(cors_client, "/v1/investors/me", EVIL, method="GET")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    answer = cors_client.get("/v1/investors/me", headers={"Origin": EVIL, **investor.basic})
    assert "access-control-allow-origin" not in answer.headers
    # Near misses are other origins.
    for near in (SPA + ":443", SPA.replace("https", "http"), "https://budget.example.evil.example"):
        assert "access-control-allow-origin" not in preflight(cors_client, "/oauth2/token", near).headers, (
            near
        )


def test_a_single_page_app_completes_pkce_from_its_origin(cors_client, investor, ctx):
    spa = register_app(ctx, name="Budget SPA", public=True)
    sign_in(cors_client, investor.email, investor.password)
    verifier, challenge = pkce_pair()
    code = obtain_code(cors_client, spa, code_challenge=challenge, code_challenge_method="S256")
    assert preflight(cors_client, "/oauth2/token", SPA, headers="content-type").status_code == 200
    cors_client.cookies.clear()  # the app's script has none of the investor app's cookies
    answer = exchange(cors_client, spa, code, code_verifier=verifier, headers={"Origin": SPA})
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == SPA
    access = answer.json()["access_token"]
    me = cors_client.get("/v1/investors/me", headers={"Origin": SPA, **bearer(access)})
    assert me.status_code == 200 and me.headers["access-control-allow-origin"] == SPA
    revoked = cors_client.post(
        "/oauth2/revoke", data={"token": access, "client_id": spa.client_id}, headers={"Origin": SPA}
    )
    assert revoked.status_code == 200 and revoked.headers["access-control-allow-origin"] == SPA


def test_discovery_and_public_data_are_readable_cross_origin(cors_client):
    for path in ("/.well-known/openid-configuration", "/.well-known/jwks.json", "/v0/funds"):
        response = cors_client.get(path, headers={"Origin": SPA})
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == SPA, path


def test_the_investor_app_pages_never_answer_cross_origin(cors_client, investor):
    sign_in(cors_client, investor.email, investor.password)
    for path in (
        "/login",
        "/integrations",
        "/authorized-apps",
        "/oauth2/auth",
        "/metrics",
        "/oauth2/introspect",
    ):
        response = cors_client.get(path, headers={"Origin": SPA})
        assert "access-control-allow-origin" not in response.headers, path
        assert "access-control-allow-origin" not in preflight(cors_client, path, SPA).headers, path


@pytest.mark.parametrize(
    "raw",
    [
        "*",
        "https://budget.example/",
        "https://budget.example/app",
        "budget.example",
        "HTTPS://Budget.example",
        "ftp://budget.example",
        "https://user@budget.example",
    ],
)
def test_a_malformed_origin_list_is_refused_at_start(raw):
    with pytest.raises(ValueError, match="SPIKO_CORS_ALLOWED_ORIGINS"):
        Settings(cors_allowed_origins=raw)
