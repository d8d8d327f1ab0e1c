"""Signing in and out of the investor app: cookies, rotation, CSRF, rate limits, no email oracle."""

from __future__ import annotations

import re
import uuid

import pytest

from spiko.db.models.identity import WebSession
from spiko.web.routes import safe_next
from tests.conftest import create_investor
from tests.web.conftest import csrf_from, replace_cookie, sign_in

SESSION = "spiko_session"
CSRF = "spiko_csrf"


def set_cookie_headers(response) -> dict[str, str]:
    """Set-Cookie header values by cookie name."""
    return {value.split("=", 1)[0]: value for value in response.headers.get_list("set-cookie")}


def test_login_page_has_the_contract_form(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="email"' in page.text and 'name="password"' in page.text
    assert csrf_from(page.text)
    assert 'method="post"' in page.text


def test_integrations_needs_a_signed_in_user(client):
    response = client.get("/integrations", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fintegrations"


def test_sign_in_sets_a_session_cookie_httponly_lax_and_reaches_the_dashboard(client, investor):
    response = sign_in(client, investor.email, investor.password)
    assert response.status_code == 303
    assert response.headers["location"] == "/"  # the dashboard
    cookie = set_cookie_headers(response)[SESSION].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http issuer
    assert "path=/" in cookie
    page = client.get("/integrations")
    assert page.status_code == 200
    assert investor.email in page.text


def test_session_cookie_is_secure_under_an_https_issuer(client_with, investor):
    client = client_with(base_url="https://testserver", issuer="https://invest.example")
    response = sign_in(client, investor.email, investor.password)
    assert response.status_code == 303
    cookies = set_cookie_headers(response)
    for name in (SESSION, CSRF):
        assert "secure" in cookies[name].lower(), cookies[name]
        assert "httponly" in cookies[name].lower()
    assert client.get("/integrations").status_code == 200


def test_session_token_is_stored_hashed_only(client, ctx, investor):
    response = sign_in(client, investor.email, investor.password)
    token = client.cookies.get(SESSION)
    assert token and len(token) >= 43  # 256 bits, URL-safe base64
    with ctx.transaction(write=False) as session:
        hashes = [row.token_hash for row in session.query(WebSession).all()]
    assert hashes and token not in hashes
    assert response.status_code == 303


def test_sign_in_rotates_the_session_and_the_old_cookie_stops_working(client, investor):
    sign_in(client, investor.email, investor.password)
    first = client.cookies.get(SESSION)
    first_csrf = client.cookies.get(CSRF)
    assert client.get("/integrations", follow_redirects=False).status_code == 200
    sign_in(client, investor.email, investor.password)
    second = client.cookies.get(SESSION)
    assert second and second != first
    assert client.cookies.get(CSRF) != first_csrf
    replace_cookie(client, SESSION, first)
    assert client.get("/integrations", follow_redirects=False).status_code == 303


def test_a_cookie_planted_before_sign_in_is_replaced(client, investor):
    replace_cookie(client, SESSION, "planted-by-an-attacker-" + "x" * 30)
    sign_in(client, investor.email, investor.password)
    assert client.cookies.get(SESSION) != "planted-by-an-attacker-" + "x" * 30
    assert client.get("/integrations", follow_redirects=False).status_code == 200


def test_sign_out_ends_the_session_on_the_server(client, investor):
    sign_in(client, investor.email, investor.password)
    token = client.cookies.get(SESSION)
    page = client.get("/integrations")
    response = client.post("/logout", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.get("/integrations", follow_redirects=False).status_code == 303
    replace_cookie(client, SESSION, token)  # a copy of the cookie kept from before is dead too
    assert client.get("/integrations", follow_redirects=False).status_code == 303


def test_next_is_followed_only_within_the_site(client, investor):
    response = sign_in(client, investor.email, investor.password, next_path="/authorized-apps?x=1")
    assert response.headers["location"] == "/authorized-apps?x=1"
    response = sign_in(client, investor.email, investor.password, next_path="https://evil.example/")
    assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example", "https://evil.example", ""],
)
def test_safe_next_refuses_other_sites(target):
    assert safe_next(target) == "/"


# --- CSRF ------------------------------------------------------------------------------------


def test_login_without_a_valid_csrf_token_is_refused(client, investor):
    client.get("/login")
    for token in (None, "", "forged", "0" * 64):
        data = {"email": investor.email, "password": investor.password}
        if token is not None:
            data["csrf_token"] = token
        response = client.post("/login", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert SESSION not in client.cookies


def test_csrf_token_of_another_browser_is_refused(client_with, client, investor):
    other = client_with()
    foreign_token = csrf_from(other.get("/login").text)
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": investor.email, "password": investor.password, "csrf_token": foreign_token},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_csrf_token_is_bound_to_the_session(client_with, signed_in_client, investor):
    """A seed and token copied into another signed-in browser do not work there."""
    page = signed_in_client.get("/integrations")
    token = csrf_from(page.text)
    attacker = client_with()
    assert sign_in(attacker, investor.email, investor.password).status_code == 303
    replace_cookie(attacker, CSRF, signed_in_client.cookies.get(CSRF))
    response = attacker.post("/integrations", data={"name": "planted", "csrf_token": token})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "form",
    [
        {"name": "no token"},
        {"revoke": "spk_whatever"},
    ],
)
def test_integrations_forms_without_csrf_are_refused(signed_in_client, investor, form):
    response = signed_in_client.post("/integrations", data=form)
    assert response.status_code == 403
    response = signed_in_client.post("/integrations", data={**form, "csrf_token": "x" * 64})
    assert response.status_code == 403
    page = signed_in_client.get("/integrations").text
    assert "no token" not in page  # nothing was created


def test_logout_without_csrf_is_refused_and_keeps_the_session(signed_in_client):
    response = signed_in_client.post("/logout", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert signed_in_client.get("/integrations", follow_redirects=False).status_code == 200


def test_every_form_on_the_pages_carries_a_csrf_token(signed_in_client):
    for path in ("/login", "/integrations"):
        page = signed_in_client.get(path).text
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", page, flags=re.S)
        assert forms
        for form in forms:
            assert 'name="csrf_token"' in form


# --- credentials and rate limits -------------------------------------------------------------


def test_unknown_email_and_wrong_password_get_the_same_answer(client, investor):
    wrong = sign_in(client, investor.email, "not the password")
    unknown = sign_in(client, "nobody-" + investor.email, "not the password")
    assert wrong.status_code == unknown.status_code == 400
    message = "Invalid email or password."
    assert message in wrong.text and message in unknown.text

    def strip(page: str) -> str:
        page = re.sub(r'name="csrf_token" value="[^"]+"', "", page)
        page = re.sub(r'data-passkey-options="[^"]+"', "", page)  # a fresh challenge on every page
        return re.sub(r'name="email"[^>]*value="[^"]*"', "", page)

    assert strip(wrong.text) == strip(unknown.text)
    assert SESSION not in client.cookies


def test_sign_in_is_limited_per_account(client_with, investor):
    client = client_with(login_attempts_per_account=3, login_attempts_per_address=100)
    for _ in range(3):
        assert sign_in(client, investor.email, "wrong password").status_code == 400
    refused = sign_in(client, investor.email, investor.password)  # even the right password
    assert refused.status_code == 429
    assert "Too many failed sign-ins. Try again after" in refused.text
    assert int(refused.headers["retry-after"]) > 0
    assert SESSION not in client.cookies
    # The limit is per account: another investor signs in from the same address.
    other = create_investor(client.app.state.ctx)
    assert sign_in(client, other.email, other.password).status_code == 303


def test_account_limit_applies_to_unknown_emails_alike(client_with):
    client = client_with(login_attempts_per_account=2, login_attempts_per_address=100)
    for _ in range(2):
        assert sign_in(client, "ghost@example.com", "whatever-password").status_code == 400
    assert sign_in(client, "ghost@example.com", "whatever-password").status_code == 429


def test_sign_in_is_limited_per_client_address(client_with, ctx):
    client = client_with(login_attempts_per_account=100, login_attempts_per_address=4)
    people = [create_investor(ctx) for _ in range(2)]
    for attempt in range(4):
        assert sign_in(client, people[attempt % 2].email, "wrong password").status_code == 400
    refused = sign_in(client, people[0].email, people[0].password)
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.text


def test_a_successful_sign_in_clears_the_account_counter(client_with, investor):
    client = client_with(login_attempts_per_account=3, login_attempts_per_address=100)
    for _ in range(2):
        sign_in(client, investor.email, "wrong password")
    assert sign_in(client, investor.email, investor.password).status_code == 303
    for _ in range(2):
        assert sign_in(client, investor.email, "wrong password").status_code == 400


def test_rate_limits_are_shared_through_redis(client_with, investor, redis_url):
    """With SPIKO_REDIS_URL, two processes (here two apps) count the same attempts."""
    # A prefix of this test's own: tests running at the same time share Redis and the address.
    shared = {"redis_url": redis_url, "redis_prefix": f"spiko-test:{uuid.uuid4().hex}:"}
    first = client_with(**shared, login_attempts_per_account=2, login_attempts_per_address=100)
    second = client_with(**shared, login_attempts_per_account=2, login_attempts_per_address=100)
    assert sign_in(first, investor.email, "wrong password").status_code == 400
    assert sign_in(second, investor.email, "wrong password").status_code == 400
    assert sign_in(first, investor.email, investor.password).status_code == 429


def test_rate_limits_are_shared_through_the_database_without_redis(client_with, investor):
    """Without Redis, two processes (here two apps) on one database count the same attempts."""
    first = client_with(login_attempts_per_account=2, login_attempts_per_address=100)
    second = client_with(login_attempts_per_account=2, login_attempts_per_address=100)
    assert sign_in(first, investor.email, "wrong password").status_code == 400
    assert sign_in(second, investor.email, "wrong password").status_code == 400
    assert sign_in(first, investor.email, investor.password).status_code == 429
