"""Narrowed OAuth grants: the consent page names the scopes, tokens carry them, refreshes keep them."""

from __future__ import annotations

import re

from spiko.auth import scopes
from tests.oauth.helpers import (
    authorize_path,
    bearer,
    decide,
    redirect_params,
    refresh,
    tokens_for,
)


def _introspect(client, app_client, token: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.post("/oauth2/introspect", data={"token": token}, headers=app_client.basic)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_consent_page_lists_exactly_the_requested_scopes_in_words(browser, app_client):
    page = browser.get(authorize_path(app_client, scope="offline orders:read reports:read"))
    assert page.status_code == 200
    listed = re.findall(r'<li data-testid="access">(.*?)</li>', page.text)
    assert listed == [scopes.FAMILIES["orders:read"], scopes.FAMILIES["reports:read"]]
    assert 'data-testid="full-access"' not in page.text
    named = set(re.findall(r'data-scope="([^"]+)"', page.text))
    assert named == {"offline", "orders:read", "reports:read"}


def test_asking_only_offline_still_shows_and_gives_full_access(browser, app_client, client, investor):
    page = browser.get(authorize_path(app_client, scope="offline openid"))
    assert 'data-testid="full-access"' in page.text
    assert 'data-testid="access"' not in page.text
    token = tokens_for(browser, app_client, scope="offline openid")
    created = client.post(
        "/v1/accounts",
        json={"type": "internal", "investorId": investor.investor_id, "shareClassId": investor.investor_id},
        headers=bearer(token["access_token"]),
    )
    assert created.status_code != 403  # refused for its body (no such share class), not for scope


def test_a_narrowed_token_carries_its_scope_and_is_refused_outside_it(browser, app_client, client, investor):
    token = tokens_for(browser, app_client, scope="offline investors:read")
    assert set(token["scope"].split()) == {"offline", "investors:read"}
    assert _introspect(client, app_client, token["access_token"])["scope"] == token["scope"]
    headers = bearer(token["access_token"])
    assert client.get("/v1/investors/me", headers=headers).json()["id"] == investor.investor_id
    refused = client.get("/v1/accounts", params={"investorId": investor.investor_id}, headers=headers)
    assert refused.status_code == 403
    assert refused.json() == {
        "_tag": "ForbiddenError",
        "message": "This credential's scopes do not allow this operation; it needs the scope 'accounts:read'",
    }


def test_a_refresh_keeps_the_scope_and_may_narrow_it(browser, app_client, client):
    token = tokens_for(browser, app_client, scope="offline investors:read accounts:read")
    renewed = refresh(client, app_client, token["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    assert set(renewed.json()["scope"].split()) == {"offline", "investors:read", "accounts:read"}
    assert _introspect(client, app_client, renewed.json()["access_token"])["scope"] == renewed.json()["scope"]
    narrowed = refresh(client, app_client, renewed.json()["refresh_token"], scope="offline investors:read")
    assert narrowed.status_code == 200, narrowed.text
    assert set(narrowed.json()["scope"].split()) == {"offline", "investors:read"}
    refused = client.get("/v1/accounts/x", headers=bearer(narrowed.json()["access_token"]))
    assert refused.status_code == 403


def test_a_refresh_may_narrow_a_shorthand_to_one_of_its_scopes(browser, app_client, client, investor):
    token = tokens_for(browser, app_client, scope="offline read")
    narrowed = refresh(client, app_client, token["refresh_token"], scope="offline orders:read")
    assert narrowed.status_code == 200, narrowed.text
    headers = bearer(narrowed.json()["access_token"])
    me = {"investorId": investor.investor_id}
    assert client.get("/v1/deposit-orders", params=me, headers=headers).status_code == 200
    assert client.get("/v1/accounts", params=me, headers=headers).status_code == 403
    # And back up to ``read`` is wider than what the new refresh token holds.
    wider = refresh(client, app_client, narrowed.json()["refresh_token"], scope="offline read")
    assert wider.json()["error"] == "invalid_scope"


def test_a_refresh_may_not_widen_the_scope(browser, app_client, client, investor):
    token = tokens_for(browser, app_client, scope="offline investors:read")
    for wider in ("offline", "offline investors:read orders:write", "offline read", "offline openid"):
        answer = refresh(client, app_client, token["refresh_token"], scope=wider)
        assert answer.status_code == 400, (wider, answer.text)
        assert answer.json()["error"] == "invalid_scope", wider
    # The refused attempts consumed nothing: the refresh token still works, with the same scope.
    kept = refresh(client, app_client, token["refresh_token"])
    assert kept.status_code == 200, kept.text
    assert set(kept.json()["scope"].split()) == {"offline", "investors:read"}
    headers = bearer(kept.json()["access_token"])
    assert (
        client.get("/v1/accounts", params={"investorId": investor.investor_id}, headers=headers).status_code
        == 403
    )


def test_a_narrowed_consent_is_not_remembered_for_full_access(browser, app_client):
    tokens_for(browser, app_client, scope="offline orders:read")
    # The same narrowed request again: remembered, no consent page.
    again = browser.get(authorize_path(app_client, scope="offline orders:read"), follow_redirects=False)
    assert "code" in redirect_params(again)
    # Full access was never allowed: the investor is asked.
    wider = browser.get(authorize_path(app_client, scope="offline"), follow_redirects=False)
    assert wider.status_code == 200 and 'data-testid="full-access"' in wider.text
    # After allowing full access, a narrower request is covered without asking.
    decide(browser, authorize_path(app_client, scope="offline"))
    narrower = browser.get(authorize_path(app_client, scope="offline reports:read"), follow_redirects=False)
    assert "code" in redirect_params(narrower)


def test_unknown_scopes_are_refused(browser, app_client):
    response = browser.get(authorize_path(app_client, scope="offline orders:delete"), follow_redirects=False)
    assert redirect_params(response)["error"] == "invalid_scope"


def test_the_authorized_apps_page_shows_the_narrowed_access(browser, app_client):
    tokens_for(browser, app_client, scope="offline read")
    page = browser.get("/authorized-apps").text
    assert scopes.SHORTHAND_DESCRIPTIONS["read"] in page
    assert "(full access)" not in page
