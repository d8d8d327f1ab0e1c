"""The getting-started guide's OAuth requests, reproduced as written (curl-equivalent form posts)."""

from __future__ import annotations

import base64

from tests.oauth.helpers import REDIRECT_URI, bearer, decide, new_state, redirect_params
from tests.spec import assert_matches


def _basic(app) -> str:  # type: ignore[no-untyped-def]
    return "Basic " + base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()


def test_the_guides_flow_works_as_written(browser, client, app_client, investor):
    state = new_state()
    # "redirecting to the given URL"
    url = (
        f"/oauth2/auth?client_id={app_client.client_id}&redirect_uri={REDIRECT_URI}"
        f"&response_type=code&scope=offline&state={state}"
    )
    answer = redirect_params(decide(browser, url))
    assert answer["state"] == state
    code = answer["code"]

    # curl -X POST -H "Content-Type: application/x-www-form-urlencoded" -H "Authorization: Basic ..."
    #   -d "grant_type=authorization_code&code=CODE&redirect_uri=REDIRECT_URI" .../oauth2/token
    response = client.post(
        "/oauth2/token",
        content=f"grant_type=authorization_code&code={code}&redirect_uri={REDIRECT_URI}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": _basic(app_client)},
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == "offline"
    assert tokens["access_token"] and tokens["refresh_token"]

    # curl -X GET -H 'Authorization: Bearer ACCESS_TOKEN' .../v1/investors/
    listed = client.get("/v1/investors/", headers=bearer(tokens["access_token"]))
    assert [item["id"] for item in assert_matches(listed, "/investors/")] == [investor.investor_id]

    # -d "grant_type=refresh_token&refresh_token=REFRESH_TOKEN&redirect_uri=REDIRECT_URI"
    refreshed = client.post(
        "/oauth2/token",
        content=f"grant_type=refresh_token&refresh_token={tokens['refresh_token']}&redirect_uri={REDIRECT_URI}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": _basic(app_client)},
    )
    assert refreshed.status_code == 200, refreshed.text
    renewed = refreshed.json()
    assert renewed["access_token"] != tokens["access_token"]
    assert renewed["refresh_token"] != tokens["refresh_token"]
    me = client.get("/v1/investors/me", headers=bearer(renewed["access_token"]))
    assert assert_matches(me, "/investors/me")["id"] == investor.investor_id
