"""Attacks on the authorization server that are refused: weak PKCE, unsupported response modes,
codes outliving a revocation, logout with someone else's ID token, token endpoint lock-outs."""

from __future__ import annotations

from tests.oauth.helpers import authorize_path, obtain_code, pkce_pair, redirect_params


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
