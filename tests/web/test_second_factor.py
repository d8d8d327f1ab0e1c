"""A second factor at sign-in: an authenticator app (TOTP), recovery codes, and the operator's rule."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from spiko.db.models.factors import RecoveryCode, TotpFactor
from spiko.db.models.identity import WebSession
from spiko.db.types import utcnow
from tests.conftest import run_cli
from tests.web.conftest import sign_in
from tests.web.factors_world import Clock, code, turn_on_totp, verify
from tests.world import csrf_token


@pytest.fixture
def clock(ctx) -> Clock:  # type: ignore[no-untyped-def]
    ticking = Clock()
    ctx.factor_clock = ticking
    return ticking


@pytest.fixture
def with_totp(signed_in_client, clock, investor):  # type: ignore[no-untyped-def]
    """The investor's user with an authenticator app on, signed out again: (client, secret, codes)."""
    secret, codes = turn_on_totp(signed_in_client, clock)
    signed_in_client.cookies.delete("spiko_session")
    return signed_in_client, secret, codes


def test_setting_up_an_app_shows_a_local_qr_code_and_ten_recovery_codes(signed_in_client, clock, ctx):
    page = signed_in_client.get("/settings/security")
    started = signed_in_client.post("/settings/security/totp", data={"csrf_token": csrf_token(page.text)})
    assert "<svg" in started.text and 'class="segno"' in started.text  # drawn by the server, no third party
    secret, codes = turn_on_totp(signed_in_client, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    with ctx.transaction(write=False) as session:
        stored = session.scalar(select(TotpFactor.secret_ciphertext))
        hashes = list(session.scalars(select(RecoveryCode.code_hash)))
    assert stored and secret not in stored  # encrypted, not the secret
    assert len(hashes) == 10 and not any(c.replace("-", "") in h for c in codes for h in hashes)
    assert 'class="badge">On<' in signed_in_client.get("/settings/security").text


def test_a_wrong_first_code_leaves_the_app_off(signed_in_client, clock):
    page = signed_in_client.get("/settings/security")
    started = signed_in_client.post("/settings/security/totp", data={"csrf_token": csrf_token(page.text)})
    refused = signed_in_client.post(
        "/settings/security/totp/confirm", data={"csrf_token": csrf_token(started.text), "code": "000000"}
    )
    assert refused.status_code == 400
    assert "not the one your app shows" in refused.text
    assert 'class="badge off">Off<' in refused.text


def test_with_an_app_on_the_password_leads_to_the_second_step(with_totp, clock, investor):
    client, secret, _ = with_totp
    answer = sign_in(client, investor.email, investor.password, next_path="/authorized-apps")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login/verify?next=%2Fauthorized-apps")
    # The password alone opens nothing.
    assert client.get("/integrations", follow_redirects=False).headers["location"].startswith("/login")
    page = client.get("/login/verify")
    assert 'name="code"' in page.text
    done = verify(client, code(secret, clock), next_path="/authorized-apps")
    assert done.status_code == 303 and done.headers["location"] == "/authorized-apps"
    assert client.get("/integrations").status_code == 200


def test_a_wrong_reused_or_forged_code_changes_nothing(with_totp, clock, investor):
    client, secret, _ = with_totp
    sign_in(client, investor.email, investor.password)
    pending = client.cookies.get("spiko_session")
    for typed in ("000000", "12345", "<script>", "1" * 64):
        refused = verify(client, typed)
        assert refused.status_code == 400
        assert "That code is not right" in refused.text
        assert client.cookies.get("spiko_session") == pending
    good = code(secret, clock)
    assert verify(client, good).status_code == 303
    # The same code again, in another sign-in within its 30 seconds: refused (it was used).
    client.cookies.delete("spiko_session")
    sign_in(client, investor.email, investor.password)
    assert verify(client, good).status_code == 400
    # An older code of the same app is refused too.
    clock.now -= 30
    assert verify(client, code(secret, clock)).status_code == 400
    clock.now += 60
    assert verify(client, code(secret, clock)).status_code == 303


def test_a_recovery_code_works_once(with_totp, investor):
    client, _, codes = with_totp
    sign_in(client, investor.email, investor.password)
    assert verify(client, codes[0].upper()).status_code == 303  # typed in capitals: same code
    client.cookies.delete("spiko_session")
    sign_in(client, investor.email, investor.password)
    assert verify(client, codes[0]).status_code == 400
    assert verify(client, codes[1]).status_code == 303
    assert "8 of 10 recovery codes left" in client.get("/settings/security").text


def test_an_expired_second_step_gets_a_clear_page_and_signs_nobody_in(with_totp, clock, investor, ctx):
    client, secret, _ = with_totp
    sign_in(client, investor.email, investor.password)
    token = csrf_token(client.get("/login/verify").text)
    with ctx.transaction() as session:
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    answer = client.post("/login/verify", data={"csrf_token": token, "code": code(secret, clock)})
    assert answer.status_code == 400
    assert "This sign-in has expired" in answer.text
    assert client.get("/integrations", follow_redirects=False).status_code == 303
    with ctx.transaction(write=False) as session:
        assert session.scalar(select(TotpFactor.last_used_step)) is not None
        assert session.scalar(select(TotpFactor.last_used_step)) < int(clock.now // 30)  # code not spent


def test_the_second_step_form_needs_its_csrf_token(with_totp, clock, investor):
    client, secret, _ = with_totp
    sign_in(client, investor.email, investor.password)
    answer = client.post("/login/verify", data={"code": code(secret, clock)}, follow_redirects=False)
    assert answer.status_code == 403
    assert verify(client, code(secret, clock)).status_code == 303  # the code was not spent


def test_wrong_codes_slow_down_and_the_right_one_waits_too(with_totp, clock, investor, ctx):
    client, secret, _ = with_totp
    throttle_clock = Clock()
    ctx.sign_in_throttle.clock = throttle_clock
    sign_in(client, investor.email, investor.password)
    statuses = [verify(client, "000000").status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]
    refused = verify(client, code(secret, clock))
    assert refused.status_code == 429 and "Too many wrong codes" in refused.text
    throttle_clock.now += int(refused.headers["retry-after"])
    assert verify(client, code(secret, clock)).status_code == 303


def test_an_operator_can_require_a_second_factor(client, investor, database_url, clock):
    required = run_cli(database_url, "investors", "require-2fa", "--email", investor.email)
    assert required.returncode == 0, required.stderr
    assert required.json() == {"investorId": investor.investor_id, "secondFactorRequired": True}
    answer = sign_in(client, investor.email, investor.password, next_path="/integrations")
    assert answer.headers["location"] == "/login/enroll?next=%2Fintegrations"
    assert client.get("/integrations", follow_redirects=False).status_code == 303  # not signed in yet
    page = client.get("/login/enroll")
    assert "Your organization requires a second factor" in page.text
    started = client.post(
        "/settings/security/totp", data={"csrf_token": csrf_token(page.text), "next": "/integrations"}
    )
    secret = started.text.split('data-testid="totp-secret">')[1].split("<")[0]
    done = client.post(
        "/settings/security/totp/confirm",
        data={"csrf_token": csrf_token(started.text), "code": code(secret, clock), "next": "/integrations"},
    )
    assert done.status_code == 200
    assert done.text.count('data-testid="recovery-code"') == 10
    assert 'href="/integrations"' in done.text
    assert client.get("/integrations").status_code == 200
    # The last factor cannot go while it is required.
    security = client.get("/settings/security")
    refused = client.post("/settings/security/totp/remove", data={"csrf_token": csrf_token(security.text)})
    assert refused.status_code == 400 and "requires a second factor" in refused.text
    assert run_cli(database_url, "investors", "require-2fa", "--email", investor.email, "--off").json() == {
        "investorId": investor.investor_id,
        "secondFactorRequired": False,
    }
    removed = client.post("/settings/security/totp/remove", data={"csrf_token": csrf_token(security.text)})
    assert removed.status_code == 200 and "was removed" in removed.text
    actions = [
        json.loads(line)["action"] for line in run_cli(database_url, "audit", "list").stdout.splitlines()
    ]
    assert actions.count("investor.require_second_factor") == 2  # on, then off


def test_an_operator_can_reset_the_factors_of_a_user_who_lost_them(with_totp, investor, database_url):
    client, _, _ = with_totp
    reset = run_cli(database_url, "investors", "reset-2fa", "--email", investor.email)
    assert reset.returncode == 0, reset.stderr
    assert reset.json()["factorsRemoved"] == 11  # the app and ten recovery codes
    actions = [
        json.loads(line)["action"] for line in run_cli(database_url, "audit", "list").stdout.splitlines()
    ]
    assert "user.reset_second_factors" in actions
    signed = sign_in(client, investor.email, investor.password, next_path="/integrations")
    assert signed.headers["location"] == "/integrations"  # no second step any more


def test_one_code_posted_twice_at_once_signs_in_once(with_totp, clock, investor, client_with, ctx):
    import threading

    _, secret, codes = with_totp
    browsers = [client_with(), client_with()]
    for browser in browsers:
        browser.app.state.ctx.factor_clock = clock
        sign_in(browser, investor.email, investor.password)
    for typed in (code(secret, clock), codes[5]):
        forms = [csrf_token(browser.get("/login/verify").text) for browser in browsers]
        statuses: list[int] = []
        start = threading.Barrier(2)

        def post(browser, token):  # type: ignore[no-untyped-def]
            start.wait()
            answer = browser.post(
                "/login/verify", data={"csrf_token": token, "code": typed}, follow_redirects=False
            )
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=post, args=pair) for pair in zip(browsers, forms, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # One signs in. The other is refused: as a used code (400), or, when it is judged while
        # the first is still in flight after an earlier failure, by the throttle, which counts
        # attempts in flight as failures (429). Either way it is not signed in (checked below).
        assert sorted(statuses)[0] == 303 and sorted(statuses)[1] in (400, 429), (typed, statuses)
        loser = next(b for b in browsers if b.get("/integrations", follow_redirects=False).status_code == 303)
        browsers = [loser, client_with()]  # the one still waiting, and a fresh one at its second step
        browsers[1].app.state.ctx.factor_clock = clock
        sign_in(browsers[1], investor.email, investor.password)
