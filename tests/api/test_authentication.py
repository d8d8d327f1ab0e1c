"""Authentication on /v1 with API keys: the challenge, revoked keys, other credentials, caching."""

from __future__ import annotations

import json
import time

from sqlalchemy import update

from spiko.db.models.identity import Investor
from spiko.services import identity
from tests.conftest import basic_auth, run_cli
from tests.spec import assert_matches


def test_a_refusal_carries_a_basic_challenge(client):
    response = client.get("/v1/investors/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    assert response.json()["_tag"] == "InvestorAuthenticationError"


def test_a_revoked_key_is_refused_like_a_wrong_one(client, ctx, investor):
    with ctx.transaction() as session:
        identity.revoke_api_key(session, client_id=investor.client_id)
    ctx.api_keys.invalidate(investor.client_id)
    revoked = client.get("/v1/investors/me", headers=investor.basic)
    wrong = client.get("/v1/investors/me", headers=basic_auth(investor.client_id, "sks_" + "x" * 43))
    assert revoked.status_code == wrong.status_code == 401
    assert revoked.json() == wrong.json()
    assert_matches(revoked, "/investors/me")


def test_the_secret_of_another_key_does_not_open_this_one(client, investor, other_investor):
    response = client.get(
        "/v1/investors/me", headers=basic_auth(investor.client_id, other_investor.client_secret)
    )
    assert response.status_code == 401


def test_oauth_client_credentials_are_not_an_api_key(client, database_url, tmp_path):
    created = run_cli(
        database_url,
        "oauth-clients",
        "create",
        "--name",
        "Some App",
        "--redirect-uri",
        "https://app.example/callback",
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    oauth_client = json.loads(created.stdout)
    response = client.get(
        "/v1/investors/me", headers=basic_auth(oauth_client["client_id"], oauth_client["client_secret"])
    )
    assert response.status_code == 401
    assert response.json()["_tag"] == "InvestorAuthenticationError"


def test_a_change_to_the_investor_shows_within_a_second(client, ctx, investor):
    assert client.get("/v1/investors/me", headers=investor.basic).json()["name"] == "Alice Treasury SAS"
    with ctx.transaction() as session:
        session.execute(
            update(Investor).where(Investor.id == investor.investor_id).values(name="Alice Renamed")
        )
    changed_at = time.monotonic()  # after the commit
    while True:
        # The bound holds for requests that *begin* a second or more after the change, however
        # long each takes on a loaded machine.
        began = time.monotonic() - changed_at
        if client.get("/v1/investors/me", headers=investor.basic).json()["name"] == "Alice Renamed":
            break
        assert began < 1.0, f"a request begun {began:.3f} s after the change saw the old name"
        time.sleep(0.02)


def test_scheme_names_are_case_insensitive(client, investor):
    token = investor.basic["Authorization"].split()[1]
    for scheme in ("basic", "BASIC", "Basic"):
        assert (
            client.get("/v1/investors/me", headers={"Authorization": f"{scheme} {token}"}).status_code == 200
        )
