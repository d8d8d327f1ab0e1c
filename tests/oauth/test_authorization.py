"""The authorization endpoint: validation order, state, scopes, PKCE, sign-in, consent."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from spiko.auth.oauth.clients import revoke_client
from tests.oauth.helpers import (
    REDIRECT_URI,
    authorize_path,
    csrf_token,
    decide,
    new_state,
    obtain_code,
    pkce_pair,
    redirect_params,
    register_app,
    sign_in_from,
)


def _is_error_page(response) -> bool:  # type: ignore[no-untyped-def]
    return (
        response.status_code == 400 and "location" not in response.headers and "oauth-error" in response.text
    )


WRONG_CLIENT_OR_REDIRECT = [
    {"client_id": "spo_unknown"},
    {"client_id": None},
    {"redirect_uri": "http://127.0.0.1:8765/callback/"},  # one character more
    {"redirect_uri": "http://127.0.0.1:8765/Callback"},  # case differs
    {"redirect_uri": "https://attacker.example/callback"},
    {"redirect_uri": "http://127.0.0.1:8765/callback?x=1"},
]


def test_a_wrong_client_or_redirect_uri_shows_an_error_page_and_never_redirects(browser, app_client):
    for params in WRONG_CLIENT_OR_REDIRECT:
        response = browser.get(authorize_path(app_client, **params), follow_redirects=False)
        assert _is_error_page(response), (params, response.status_code, response.headers)


def test_an_invalid_redirect_uri_wins_over_every_other_error(browser, app_client):
    path = authorize_path(
        app_client,
        redirect_uri="https://attacker.example/cb",
        state="short",
        scope="admin",
        response_type="token",
    )
    assert _is_error_page(browser.get(path, follow_redirects=False))


def test_a_missing_redirect_uri_is_fine_with_one_registered_and_refused_with_several(ctx, browser):
    single = register_app(ctx)
    answer = redirect_params(decide(browser, authorize_path(single, redirect_uri=None)))
    assert "code" in answer
    several = register_app(ctx, redirect_uris=[REDIRECT_URI, "http://127.0.0.1:8765/other"])
    assert _is_error_page(browser.get(authorize_path(several, redirect_uri=None), follow_redirects=False))


def test_a_revoked_client_gets_the_error_page(ctx, browser, app_client):
    with ctx.transaction() as session:
        revoke_client(session, app_client.client_id)
    assert _is_error_page(browser.get(authorize_path(app_client), follow_redirects=False))


def test_a_missing_or_short_state_is_sent_back_as_invalid_state(browser, app_client):
    for state in (None, "", "1234567"):
        response = browser.get(authorize_path(app_client, state=state), follow_redirects=False)
        assert response.headers["location"].startswith(REDIRECT_URI + "?")
        answer = redirect_params(response)
        assert answer["error"] == "invalid_state", state
        assert "code" not in answer


def test_a_state_of_eight_characters_is_enough(browser, app_client):
    answer = redirect_params(decide(browser, authorize_path(app_client, state="12345678")))
    assert answer["state"] == "12345678"
    assert "code" in answer


def test_only_the_code_response_type_is_supported(browser, app_client):
    for response_type in ("token", "id_token", "code token", "nonsense"):
        state = new_state()
        path = authorize_path(app_client, response_type=response_type, state=state)
        answer = redirect_params(browser.get(path, follow_redirects=False))
        assert answer["error"] == "unsupported_response_type", response_type
        assert answer["state"] == state


def test_unknown_scopes_are_refused_with_invalid_scope(browser, app_client):
    for scope in ("admin", "offline write", "email", "openid profile"):
        state = new_state()
        path = authorize_path(app_client, scope=scope, state=state)
        answer = redirect_params(browser.get(path, follow_redirects=False))
        assert answer["error"] == "invalid_scope", scope
        assert answer["state"] == state
        assert set(answer) <= {"error", "error_description", "state", "iss"}  # RFC 9207


def test_supported_scopes_are_granted(browser, app_client):
    for scope in ("offline", "offline_access", "openid", "openid offline_access", ""):
        assert "code" in redirect_params(decide(browser, authorize_path(app_client, scope=scope))), scope


def test_a_signed_out_investor_signs_in_and_comes_back_to_the_request(app, investor, app_client):
    with TestClient(app, raise_server_exceptions=False, base_url="http://testserver") as browser:
        state = new_state()
        path = authorize_path(app_client, state=state)
        first = browser.get(path, follow_redirects=False)
        assert first.status_code == 303
        login_url = first.headers["location"]
        assert login_url.startswith("/login?next=")
        page = browser.get(login_url)
        assert f'value="{path}"'.replace("&", "&amp;") in page.text
        assert sign_in_from(browser, login_url, investor) == path
        answer = redirect_params(decide(browser, path))
        assert answer["state"] == state and "code" in answer


def test_the_consent_page_names_the_app_and_the_scopes_and_carries_the_form(browser, app_client):
    page = browser.get(authorize_path(app_client, scope="offline openid"), follow_redirects=False)
    assert page.status_code == 200
    assert "Budget Buddy" in page.text
    assert 'data-scope="offline"' in page.text and 'data-scope="openid"' in page.text
    assert "refresh tokens" in page.text
    assert 'name="csrf_token"' in page.text
    assert 'name="decision" value="allow"' in page.text
    assert 'name="decision" value="deny"' in page.text
    assert page.headers["x-frame-options"] == "DENY"  # no clickjacking of the consent


def test_deny_sends_access_denied_with_the_state(browser, app_client):
    state = new_state()
    answer = redirect_params(decide(browser, authorize_path(app_client, state=state), decision="deny"))
    assert answer["error"] == "access_denied"
    assert answer["state"] == state
    assert "code" not in answer


def test_a_consent_without_a_valid_csrf_token_is_refused(browser, app_client):
    path = authorize_path(app_client)
    browser.get(path)
    for token in (None, "forged"):
        data = {"decision": "allow"} | ({"csrf_token": token} if token else {})
        response = browser.post(path, data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "location" not in response.headers


def test_consent_is_remembered_per_investor_client_and_scopes(ctx, app, browser, app_client, investor):
    decide(browser, authorize_path(app_client, scope="offline"))
    again = browser.get(authorize_path(app_client, scope="offline"), follow_redirects=False)
    assert "code" in redirect_params(again), "a returning investor is not asked again"
    broader = browser.get(authorize_path(app_client, scope="offline openid"), follow_redirects=False)
    assert broader.status_code == 200 and 'name="decision"' in broader.text, "new scopes need a new consent"
    other_app = register_app(ctx, name="Other App")
    assert browser.get(authorize_path(other_app), follow_redirects=False).status_code == 200
    forced = browser.get(authorize_path(app_client, prompt="consent"), follow_redirects=False)
    assert forced.status_code == 200, "prompt=consent asks again"


def test_a_revoked_app_must_ask_again(browser, app_client):
    decide(browser, authorize_path(app_client))
    page = browser.get("/authorized-apps")
    browser.post(
        "/authorized-apps", data={"client_id": app_client.client_id, "csrf_token": csrf_token(page.text)}
    )
    assert browser.get(authorize_path(app_client), follow_redirects=False).status_code == 200


def test_prompt_none_without_consent_is_consent_required(browser, app_client):
    answer = redirect_params(browser.get(authorize_path(app_client, prompt="none"), follow_redirects=False))
    assert answer["error"] == "consent_required"


def test_prompt_none_signed_out_is_login_required(client, app_client):
    answer = redirect_params(client.get(authorize_path(app_client, prompt="none"), follow_redirects=False))
    assert answer["error"] == "login_required"


def test_a_public_client_must_use_pkce(browser, public_app):
    answer = redirect_params(browser.get(authorize_path(public_app), follow_redirects=False))
    assert answer["error"] == "invalid_request"
    assert "code_challenge" in answer["error_description"]
    _, challenge = pkce_pair()
    assert obtain_code(browser, public_app, code_challenge=challenge, code_challenge_method="S256")


MALFORMED_PKCE = [
    ("too-short", "S256"),
    ("x" * 43, "S512"),
    ("bad challenge with spaces and more than 43 chars", "plain"),
]


def test_malformed_pkce_parameters_are_refused(browser, public_app):
    for challenge, method in MALFORMED_PKCE:
        path = authorize_path(public_app, code_challenge=challenge, code_challenge_method=method)
        answer = redirect_params(browser.get(path, follow_redirects=False))
        assert answer["error"] == "invalid_request", (challenge, method)


def test_repeated_parameters_are_refused(browser, app_client):
    path = authorize_path(app_client) + "&state=another-state-value"
    response = browser.get(path, follow_redirects=False)
    assert response.status_code == 400 and "location" not in response.headers


# -- prompt=login and max_age (OpenID Connect Core 3.1.2.1) -----------------------------------------


def _session_cookie(browser) -> str | None:  # type: ignore[no-untyped-def]
    return browser.cookies.get("spiko_session")


def _backdate_sessions(ctx, investor, seconds: int) -> None:  # type: ignore[no-untyped-def]
    """As if the investor had signed in ``seconds`` ago."""
    from datetime import timedelta

    from sqlalchemy import select

    from spiko.db.models.identity import User, WebSession

    with ctx.transaction() as session:
        users = select(User.id).where(User.investor_id == investor.investor_id)
        rows = session.scalars(select(WebSession).where(WebSession.user_id.in_(users))).all()
        assert rows
        for row in rows:
            row.created_at = row.created_at - timedelta(seconds=seconds)


def test_prompt_login_asks_a_signed_in_investor_to_sign_in_again(browser, app_client, investor):
    decide(browser, authorize_path(app_client))  # consent given once, remembered
    before = _session_cookie(browser)
    path = authorize_path(app_client, prompt="login consent")
    response = browser.get(path, follow_redirects=False)
    assert response.status_code == 303
    target = sign_in_from(browser, response.headers["location"], investor)
    query = parse_qs(urlsplit(target).query)
    assert query["prompt"] == ["consent"], "only 'login' is taken out of the prompt"
    assert query["state"] == parse_qs(urlsplit(path).query)["state"]
    assert _session_cookie(browser) != before, "a new session was made"
    # Back at the authorization request: the consent asked for shows, and no sign-in loop.
    answer = redirect_params(decide(browser, target))
    assert "code" in answer


def test_prompt_login_with_nothing_else_goes_straight_on_after_signing_in(browser, app_client, investor):
    decide(browser, authorize_path(app_client))
    response = browser.get(authorize_path(app_client, prompt="login"), follow_redirects=False)
    target = sign_in_from(browser, response.headers["location"], investor)
    assert "prompt" not in parse_qs(urlsplit(target).query)
    assert "code" in redirect_params(browser.get(target, follow_redirects=False))


def test_the_id_token_auth_time_is_the_new_sign_in(ctx, browser, app_client, investor):
    import time

    from joserfc import jwt
    from joserfc.jwk import KeySet

    from tests.oauth.helpers import exchange

    decide(browser, authorize_path(app_client, scope="openid offline"))
    _backdate_sessions(ctx, investor, 7200)
    signed_in_from = int(time.time())
    response = browser.get(
        authorize_path(app_client, scope="openid offline", max_age="3600"), follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/login?")
    target = sign_in_from(browser, response.headers["location"], investor)
    assert "max_age" not in parse_qs(urlsplit(target).query)
    code = redirect_params(browser.get(target, follow_redirects=False))["code"]
    tokens = exchange(browser, app_client, code).json()
    claims = jwt.decode(
        tokens["id_token"], KeySet.import_key_set(browser.get("/.well-known/jwks.json").json())
    ).claims
    assert claims["auth_time"] >= signed_in_from - 1


def test_a_recent_sign_in_satisfies_max_age(ctx, browser, app_client, investor):
    decide(browser, authorize_path(app_client))
    _backdate_sessions(ctx, investor, 600)
    assert "code" in redirect_params(
        browser.get(authorize_path(app_client, max_age="3600"), follow_redirects=False)
    )
    response = browser.get(authorize_path(app_client, max_age="599"), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?")


def test_prompt_none_with_an_old_sign_in_is_login_required(ctx, browser, app_client, investor):
    decide(browser, authorize_path(app_client))
    _backdate_sessions(ctx, investor, 600)
    answer = redirect_params(
        browser.get(authorize_path(app_client, prompt="none", max_age="60"), follow_redirects=False)
    )
    assert answer["error"] == "login_required"


def test_prompt_none_cannot_be_combined(browser, app_client):
    answer = redirect_params(
        browser.get(authorize_path(app_client, prompt="none login"), follow_redirects=False)
    )
    assert answer["error"] == "invalid_request"


def test_a_malformed_max_age_is_invalid_request(browser, app_client):
    for bad in ("-1", "soon", "1.5", "9" * 20):
        answer = redirect_params(browser.get(authorize_path(app_client, max_age=bad), follow_redirects=False))
        assert answer["error"] == "invalid_request", bad
        assert "max_age" in answer["error_description"]
