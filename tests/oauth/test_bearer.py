"""Bearer tokens on /v1: every route, the investor who consented, expiry and revocation."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from spiko.auth.oauth.clients import revoke_client
from spiko.db.models.oauth import OAuthToken
from spiko.db.types import utcnow
from tests.conftest import basic_auth, create_investor
from tests.oauth.helpers import bearer, csrf_token, register_app, sign_in, tokens_for
from tests.spec import assert_matches


@pytest.fixture
def access_token(browser, app_client) -> str:  # type: ignore[no-untyped-def]
    return tokens_for(browser, app_client)["access_token"]


def test_me_and_the_deprecated_list_with_a_bearer_token(client, access_token, investor, other_investor):
    me = client.get("/v1/investors/me", headers=bearer(access_token))
    assert assert_matches(me, "/investors/me")["id"] == investor.investor_id
    listed = client.get("/v1/investors/", headers=bearer(access_token))
    assert [item["id"] for item in assert_matches(listed, "/investors/")] == [investor.investor_id]
    assert client.get("/v1/investors", headers=bearer(access_token)).status_code == 200


def test_a_token_acts_only_for_the_investor_who_consented(app, ctx, client, app_client, investor):
    from fastapi.testclient import TestClient

    someone = create_investor(ctx, name="Bob Ventures")
    with TestClient(app, base_url="http://testserver") as bob_browser:
        sign_in(bob_browser, someone.email, someone.password)
        bob_token = tokens_for(bob_browser, app_client)["access_token"]
    body = client.get("/v1/investors/me", headers=bearer(bob_token)).json()
    assert body["id"] == someone.investor_id
    listed = client.get("/v1/investors", headers=bearer(bob_token)).json()
    assert [item["id"] for item in listed] == [someone.investor_id]
    mine = client.get("/v1/investors/me", headers=investor.basic).json()
    assert mine["id"] == investor.investor_id


def _v1_routes(app, method: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every /v1 operation the application itself declares (from its generated OpenAPI document)."""
    document = app.openapi()
    return sorted(
        path
        for path, operations in document["paths"].items()
        if path.startswith("/v1") and method.lower() in operations
    )


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_v1_route_accepts_bearer_exactly_like_an_api_key(app, client, access_token, investor, method):
    """Walks the app's own routes, so routes added later are covered without touching this test."""
    paths = _v1_routes(app, method)
    assert paths, "no /v1 routes found"
    if method == "GET":
        assert "/v1/investors/me" in paths
    for template in paths:
        path = _concrete(template)
        key = {"Idempotency-Key": f"walk-{uuid.uuid4()}"}
        if method == "GET":
            with_bearer = client.get(path, headers=bearer(access_token))
            with_key = client.get(path, headers=investor.basic)
        else:
            with_bearer = client.post(path, json={}, headers=bearer(access_token) | key)
            key = {"Idempotency-Key": f"walk-{uuid.uuid4()}"}
            with_key = client.post(path, json={}, headers=investor.basic | key)
        assert with_bearer.status_code != 401, (template, with_bearer.text)
        assert with_bearer.status_code < 500, (template, with_bearer.text)
        assert with_bearer.status_code == with_key.status_code, (template, with_bearer.text, with_key.text)
        anonymous = client.request(method, path, headers={"Authorization": "Bearer not-a-valid-token"})
        if with_key.status_code != 200 or template.startswith("/v1/docs"):
            continue
        assert anonymous.status_code == 401, template


def test_an_oauth_clients_credentials_are_not_an_api_key(client, app_client):
    response = client.get(
        "/v1/investors/me", headers=basic_auth(app_client.client_id, app_client.client_secret)
    )
    assert response.status_code == 401
    assert response.json()["_tag"] == "InvestorAuthenticationError"


def test_unknown_or_malformed_tokens_get_the_tagged_401(client):
    for token in ("nope", "spa_" + "A" * 43, "x" * 600, "two words"):
        response = client.get("/v1/investors/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token[:20]
        assert response.json()["_tag"] == "InvestorAuthenticationError"
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge


def test_an_expired_token_gets_the_tagged_401(ctx, client, access_token):
    with ctx.transaction() as session:
        session.execute(update(OAuthToken).values(access_expires_at=utcnow() - timedelta(seconds=1)))
    time.sleep(1.05)  # past the one-second verification cache
    response = client.get("/v1/investors/me", headers=bearer(access_token))
    assert response.status_code == 401
    body = assert_matches(response, "/investors/me")
    assert body == {"_tag": "InvestorAuthenticationError", "reason": "The access token has expired"}
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_revoking_the_app_on_the_authorized_apps_page_stops_its_tokens_at_once(
    browser, client, app_client, access_token
):
    assert client.get("/v1/investors/me", headers=bearer(access_token)).status_code == 200  # cached now
    page = browser.get("/authorized-apps")
    assert app_client.client_id in page.text
    done = browser.post(
        "/authorized-apps", data={"client_id": app_client.client_id, "csrf_token": csrf_token(page.text)}
    )
    assert done.status_code == 200
    response = client.get("/v1/investors/me", headers=bearer(access_token))
    assert response.status_code == 401
    assert response.json()["reason"] == "The access token has been revoked"


def test_a_revocation_made_elsewhere_is_seen_within_a_second(ctx, client, app_client, access_token):
    """Another process (the CLI, another worker) revokes: this process's cache lives at most 1 s."""
    assert client.get("/v1/investors/me", headers=bearer(access_token)).status_code == 200
    with ctx.transaction() as session:  # not through the server: its cache is not told
        revoke_client(session, app_client.client_id)
    time.sleep(1.05)
    assert client.get("/v1/investors/me", headers=bearer(access_token)).status_code == 401


def test_no_database_write_per_bearer_request(ctx, client, access_token):
    from sqlalchemy import event

    writes: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    event.listen(ctx.engine, "before_cursor_execute", record)
    try:
        for _ in range(5):
            assert client.get("/v1/investors/me", headers=bearer(access_token)).status_code == 200
    finally:
        event.remove(ctx.engine, "before_cursor_execute", record)
    assert writes == []


def test_other_investors_cannot_revoke_my_apps(app, ctx, browser, client, app_client, access_token):
    from fastapi.testclient import TestClient

    intruder = create_investor(ctx, name="Intruder")
    with TestClient(app, base_url="http://testserver") as other_browser:
        sign_in(other_browser, intruder.email, intruder.password)
        page = other_browser.get("/authorized-apps")
        assert app_client.client_id not in page.text
        refused = other_browser.post(
            "/authorized-apps", data={"client_id": app_client.client_id, "csrf_token": csrf_token(page.text)}
        )
        assert refused.status_code == 404
    assert client.get("/v1/investors/me", headers=bearer(access_token)).status_code == 200


def test_authorized_apps_page_lists_and_needs_csrf_and_sign_in(
    ctx, app, browser, app_client, access_token, client
):
    page = browser.get("/authorized-apps")
    assert page.status_code == 200
    assert "Budget Buddy" in page.text and "refresh tokens" in page.text
    refused = browser.post("/authorized-apps", data={"client_id": app_client.client_id})
    assert refused.status_code == 403
    assert client.get("/v1/investors/me", headers=bearer(access_token)).status_code == 200
    signed_out = client.get("/authorized-apps", follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login?next=")
    unknown = browser.post(
        "/authorized-apps", data={"client_id": "spo_nope", "csrf_token": csrf_token(page.text)}
    )
    assert unknown.status_code == 404
    unused = register_app(ctx, name="Never Used")
    assert unused.client_id not in browser.get("/authorized-apps").text


@pytest.mark.server
def test_with_several_workers_a_revocation_holds_everywhere_within_a_second(database_url, tmp_path):
    import httpx

    from spiko.config import Settings
    from spiko.context import AppContext
    from tests.conftest import TEST_SECRET_KEY, start_server, stop_server

    server = start_server(database_url, tmp_path, workers=2)
    try:
        ctx = AppContext(Settings(database_url=database_url, secret_key=TEST_SECRET_KEY, issuer=server.url))
        try:
            person = create_investor(ctx)
            app = register_app(ctx)
        finally:
            ctx.close()
        with httpx.Client(base_url=server.url, timeout=10) as http:
            sign_in(http, person.email, person.password)
            tokens = tokens_for(http, app)
            headers = bearer(tokens["access_token"])
            # Many connections, so both workers serve (and cache) the token.
            for _ in range(20):
                with httpx.Client(base_url=server.url, timeout=10) as fresh:
                    assert fresh.get("/v1/investors/me", headers=headers).status_code == 200
            revoked = http.post(
                "/oauth2/revoke",
                data={"token": tokens["access_token"]},
                auth=(app.client_id, app.client_secret or ""),
            )
            assert revoked.status_code == 200
            time.sleep(1.1)
            for _ in range(20):
                with httpx.Client(base_url=server.url, timeout=10) as fresh:
                    assert fresh.get("/v1/investors/me", headers=headers).status_code == 401
    finally:
        stop_server(server)
    serving = set()
    for line in server.log().splitlines():
        if line.startswith("{") and '"/v1/investors/me"' in line:
            entry = json.loads(line)
            serving.add((entry.get("pid"), entry.get("status")))
    pids = {pid for pid, _ in serving}
    assert len(pids) == 2, serving  # both workers answered, before and after the revocation
    assert {status for _, status in serving} == {200, 401}
