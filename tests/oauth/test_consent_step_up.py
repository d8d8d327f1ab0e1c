"""Authorizing an app is a sensitive change: an old check of the user asks again (step-up)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.oauth.helpers import authorize_path, redirect_params
from tests.web.test_step_up_and_sessions import minutes_pass
from tests.world import csrf_token


def test_authorizing_an_app_asks_again_when_the_check_is_old(browser, ctx, investor, app_client):
    path = authorize_path(app_client, state="state-of-the-app")
    minutes_pass(ctx)
    asked = browser.get(path, follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"].startswith("/login/step-up?next=%2Foauth2%2Fauth%3F")
    step = browser.get(asked.headers["location"])
    confirmed = browser.post(
        "/login/step-up",
        data={
            "csrf_token": csrf_token(step.text),
            "password": investor.password,
            "next": parse_qs(urlsplit(asked.headers["location"]).query)["next"][0],
        },
        follow_redirects=False,
    )
    assert confirmed.headers["location"] == path
    consent = browser.get(path)
    assert 'name="decision"' in consent.text
    allowed = browser.post(
        path, data={"csrf_token": csrf_token(consent.text), "decision": "allow"}, follow_redirects=False
    )
    assert "code" in redirect_params(allowed)


def test_an_allow_posted_after_the_check_got_old_asks_again(browser, ctx, app_client):
    path = authorize_path(app_client)
    consent = browser.get(path)
    minutes_pass(ctx)
    asked = browser.post(
        path, data={"csrf_token": csrf_token(consent.text), "decision": "allow"}, follow_redirects=False
    )
    assert asked.status_code == 303 and asked.headers["location"].startswith("/login/step-up")
