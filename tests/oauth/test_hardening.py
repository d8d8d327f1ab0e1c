"""Attacks on the authorization server that are refused: weak PKCE, unsupported response modes,
codes outliving a revocation, logout with someone else's ID token, token endpoint lock-outs."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient

from spiko.app import create_app
from spiko.context import AppContext
from tests.conftest import create_investor
from tests.oauth.helpers import (
    authorize_path,
    csrf_token,
    exchange,
    obtain_code,
    pkce_pair,
    redirect_params,
    register_app,
    sign_in,
    tokens_for,
)


def test_a_public_client_may_not_use_plain_pkce(browser, public_app):
    verifier = "v" * 50
    path = authorize_path(public_app, code_challenge=verifier, code_challenge_method="plain")
    answer = redirect_params(browser.get(path, follow_redirects=False))
    assert answer["error"] == "invalid_request"
    assert "S256" in answer["error_description"]


def test_a_public_client_omitting_the_method_is_not_assumed_plain(browser, public_app):
    verifier = "v" * 50
    answer = redirect_params(
        browser.get(authorize_path(public_app, code_challenge=verifier), follow_redirects=False)
    )
    assert answer["error"] == "invalid_request"
    assert "S256" in answer["error_description"]
    assert "code" not in answer


def test_unsupported_response_modes_are_refused(browser, app_client, public_app):
    _, challenge = pkce_pair()
    for mode in ("fragment", "form_post", "query.jwt", "nonsense"):
        for app, extra in (
            (app_client, {}),
            (public_app, {"code_challenge": challenge, "code_challenge_method": "S256"}),
        ):
            path = authorize_path(app, response_mode=mode, **extra)
            response = browser.get(path, follow_redirects=False)
            answer = redirect_params(response)
            assert answer["error"] == "invalid_request", (mode, answer)
            assert "response_mode" in answer["error_description"]
            assert "#" not in response.headers["location"]
    # The one mode implemented, named explicitly, works as the default does.
    assert obtain_code(browser, app_client, response_mode="query")


def test_revoking_an_app_kills_the_codes_it_has_not_redeemed_yet(browser, client, app_client):
    code = obtain_code(browser, app_client)  # consented and issued, not redeemed yet
    page = browser.get("/authorized-apps")
    assert app_client.client_id in page.text
    revoked = browser.post(
        "/authorized-apps", data={"client_id": app_client.client_id, "csrf_token": csrf_token(page.text)}
    )
    assert revoked.status_code == 200
    late = exchange(client, app_client, code)
    assert late.status_code == 400, late.text
    assert late.json()["error"] == "invalid_grant"
    # The app did not come back: no access listed, and its next request asks for consent again.
    assert app_client.client_id not in browser.get("/authorized-apps").text
    again = browser.get(authorize_path(app_client), follow_redirects=False)
    assert again.status_code == 200 and 'name="decision"' in again.text


def test_logout_with_another_investors_id_token_asks_first(app, ctx, browser, app_client, client):
    intruder = create_investor(ctx, name="Intruder")
    with TestClient(app, base_url="http://testserver") as intruder_browser:
        sign_in(intruder_browser, intruder.email, intruder.password)
        foreign = tokens_for(intruder_browser, app_client, scope="openid offline", nonce="intruder-nonce")
    response = browser.get(
        "/oauth2/sessions/logout",
        params={"id_token_hint": foreign["id_token"], "post_logout_redirect_uri": app_client.redirect_uri},
        follow_redirects=False,
    )
    assert response.status_code == 200, response.text
    assert 'action="/oauth2/sessions/logout"' in response.text  # the confirmation form
    assert browser.get("/integrations", follow_redirects=False).status_code == 200  # still signed in
    # The investor's own ID token signs out without a question.
    own = tokens_for(browser, app_client, scope="openid offline", nonce="own-nonce")
    done = browser.get(
        "/oauth2/sessions/logout", params={"id_token_hint": own["id_token"]}, follow_redirects=False
    )
    assert "signed-out" in done.text
    assert browser.get("/integrations", follow_redirects=False).status_code == 303


# -- the token endpoint's limits --------------------------------------------------------------------


def _refresh_attempt(http, app, secret=None):  # type: ignore[no-untyped-def]
    """A token request naming ``app`` (its refresh token is invalid: an authenticated one gets 400)."""
    data = {"grant_type": "refresh_token", "refresh_token": "not-a-refresh-token"}
    raw = f"{app.client_id}:{secret or app.client_secret}".encode()
    return http.post(
        "/oauth2/token", data=data, headers={"Authorization": "Basic " + base64.b64encode(raw).decode()}
    )


def _from(app, address):  # type: ignore[no-untyped-def]
    return TestClient(app, base_url="http://testserver", client=(address, 40000))


def test_a_stranger_naming_a_client_cannot_lock_it_out(settings):  # type: ignore[no-untyped-def]
    ctx = AppContext(
        settings.with_overrides(token_requests_per_client=5, token_failures_per_client_and_address=3)
    )
    try:
        target = register_app(ctx)
        application = create_app(ctx=ctx)
        with _from(application, "203.0.113.66") as stranger, _from(application, "198.51.100.7") as owner:
            guesses = [_refresh_attempt(stranger, target, secret=f"guess-{n}").status_code for n in range(8)]
            # The guesses slow down the guesser, from its own address only.
            assert guesses == [401, 401, 401] + [429] * 5
            refused = _refresh_attempt(stranger, target, secret="guess-9")
            assert (
                refused.json()["error"] == "temporarily_unavailable"
                and int(refused.headers["retry-after"]) >= 1
            )
            # Even the right secret from the guesser's address waits: it cannot tell a hit from a miss.
            assert _refresh_attempt(stranger, target).status_code == 429
            # The client itself, from its own address, is served: its limit counts its own requests.
            assert [_refresh_attempt(owner, target).status_code for _ in range(5)] == [400] * 5
            assert _refresh_attempt(owner, target).status_code == 429
    finally:
        ctx.close()


def test_unauthenticated_requests_do_not_count_against_the_client(settings):  # type: ignore[no-untyped-def]
    ctx = AppContext(settings.with_overrides(token_requests_per_client=3))
    try:
        target = register_app(ctx)
        application = create_app(ctx=ctx)
        for n in range(6):  # strangers from six addresses, one wrong secret each
            with _from(application, f"203.0.113.{n + 1}") as stranger:
                assert _refresh_attempt(stranger, target, secret="wrong").status_code == 401
        with _from(application, "198.51.100.7") as owner:
            assert [_refresh_attempt(owner, target).status_code for _ in range(4)] == [400, 400, 400, 429]
    finally:
        ctx.close()
