"""Passkeys over HTTP, from a software authenticator: registration, passwordless sign-in, the
second step, and every forged answer refused (origin, RP id, challenge, replay, sign counter)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from spiko.db.models.factors import Passkey
from tests.web.authenticator import SoftAuthenticator, passkey_options
from tests.web.conftest import sign_in
from tests.world import csrf_token


def register(client, authenticator: SoftAuthenticator, name: str = "Laptop", **forge):  # type: ignore[no-untyped-def]
    page = client.get("/settings/security")
    answer = authenticator.create(passkey_options(page.text, "passkey-register"), **forge)
    return client.post(
        "/settings/security/passkeys",
        data={"csrf_token": csrf_token(page.text), "credential": answer, "name": name},
    )


def passwordless(client, authenticator: SoftAuthenticator, **forge):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    answer = authenticator.get(passkey_options(page.text, "passkey-form"), **forge)
    data = {"csrf_token": csrf_token(page.text), "credential": answer, "next": "/authorized-apps"}
    return client.post("/login/passkey", data=data, follow_redirects=False)


@pytest.fixture
def authenticator(signed_in_client):  # type: ignore[no-untyped-def]
    """A passkey registered by the investor's user, who is then signed out."""
    device = SoftAuthenticator()
    added = register(signed_in_client, device)
    assert added.status_code == 200, added.text
    signed_in_client.cookies.delete("spiko_session")
    return device


def test_registering_a_passkey_lists_it_and_gives_recovery_codes(signed_in_client, ctx):
    device = SoftAuthenticator()
    added = register(signed_in_client, device, name="Work laptop")
    assert added.status_code == 200
    assert "Second factor added." in added.text
    assert added.text.count('data-testid="recovery-code"') == 10
    assert "Work laptop" in signed_in_client.get("/settings/security").text
    with ctx.transaction(write=False) as session:
        assert session.scalar(select(Passkey.name)) == "Work laptop"


def test_a_registration_from_another_origin_or_rp_is_refused(signed_in_client, ctx):
    for forge in ({"origin": "https://evil.example"}, {"rp_id": "evil.example"}):
        refused = register(signed_in_client, SoftAuthenticator(), **forge)
        assert refused.status_code == 400
        assert "could not be registered" in refused.text
    with ctx.transaction(write=False) as session:
        assert session.scalar(select(Passkey.id)) is None


def test_a_passkey_signs_in_without_a_password(client, authenticator):
    answer = passwordless(client, authenticator)
    assert answer.status_code == 303 and answer.headers["location"] == "/authorized-apps"
    assert client.get("/integrations").status_code == 200


def test_passwordless_sign_in_needs_user_verification(client, authenticator):
    refused = passwordless(client, authenticator, user_verified=False)
    assert refused.status_code == 400
    assert client.get("/integrations", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "forge",
    [{"origin": "https://evil.example"}, {"origin": "http://testserver:8443"}, {"rp_id": "evil.example"}],
    ids=["other-origin", "other-port", "other-rp-id"],
)
def test_answers_for_another_origin_or_rp_are_refused(client, authenticator, forge):
    refused = passwordless(client, authenticator, **forge)
    assert refused.status_code == 400
    assert "did not confirm this sign-in" in refused.text
    assert client.get("/integrations", follow_redirects=False).status_code == 303


def test_a_challenge_not_issued_here_or_answered_before_is_refused(client, authenticator):
    made_up = "A" * 75  # base64url of 56 bytes: the right size, no valid signature
    assert passwordless(client, authenticator, challenge=made_up).status_code == 400
    page = client.get("/login")
    answer = authenticator.get(passkey_options(page.text, "passkey-form"))
    data = {"csrf_token": csrf_token(page.text), "credential": answer}
    assert client.post("/login/passkey", data=data, follow_redirects=False).status_code == 303
    client.cookies.delete("spiko_session")
    data["csrf_token"] = csrf_token(client.get("/login").text)
    replayed = client.post("/login/passkey", data=data, follow_redirects=False)
    assert replayed.status_code == 400
    assert client.get("/integrations", follow_redirects=False).status_code == 303


def test_a_challenge_of_another_ceremony_is_refused(signed_in_client):
    # A registration challenge is no sign-in challenge.
    authenticator = SoftAuthenticator()
    register(signed_in_client, authenticator)
    page = signed_in_client.get("/settings/security")
    registration = json.loads(passkey_options(page.text, "passkey-register"))
    signed_in_client.cookies.delete("spiko_session")
    refused = passwordless(signed_in_client, authenticator, challenge=registration["challenge"])
    assert refused.status_code == 400


def test_a_sign_counter_that_goes_back_is_refused(client, authenticator, ctx):
    assert passwordless(client, authenticator).status_code == 303
    client.cookies.delete("spiko_session")
    with ctx.transaction() as session:
        session.execute(update(Passkey).values(sign_count=50))  # as if a copy had signed 50 times
    cloned = passwordless(client, authenticator, sign_count=7)
    assert cloned.status_code == 400
    assert passwordless(client, authenticator, sign_count=51).status_code == 303


def test_a_passkey_serves_as_the_second_step_after_the_password(client, authenticator, investor):
    answer = sign_in(client, investor.email, investor.password)
    assert answer.headers["location"].startswith("/login/verify")
    page = client.get("/login/verify")
    options = passkey_options(page.text, "passkey-form")
    assert json.loads(options)["allowCredentials"]  # the user's own passkeys
    data = {
        "csrf_token": csrf_token(page.text),
        "credential": authenticator.get(options),
        "next": "/integrations",
    }
    done = client.post("/login/verify/passkey", data=data, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/integrations"
    assert client.get("/integrations").status_code == 200


def test_a_second_step_challenge_is_bound_to_its_sign_in(client, authenticator, investor, client_with):
    sign_in(client, investor.email, investor.password)
    options = passkey_options(client.get("/login/verify").text, "passkey-form")
    # Another browser in its own second step cannot use the first one's challenge.
    other = client_with()
    sign_in(other, investor.email, investor.password)
    data = {
        "csrf_token": csrf_token(other.get("/login/verify").text),
        "credential": authenticator.get(options),
    }
    assert other.post("/login/verify/passkey", data=data, follow_redirects=False).status_code == 400


def test_the_passkey_of_another_user_is_no_second_step(client, authenticator, other_investor):
    sign_in(client, other_investor.email, other_investor.password)
    register(client, SoftAuthenticator())  # the other user's own passkey
    client.cookies.delete("spiko_session")
    sign_in(client, other_investor.email, other_investor.password)
    page = client.get("/login/verify")
    # Alice's passkey answers the other user's second step: not theirs, refused.
    answer = authenticator.get(passkey_options(page.text, "passkey-form"))
    data = {"csrf_token": csrf_token(page.text), "credential": answer}
    refused = client.post("/login/verify/passkey", data=data, follow_redirects=False)
    assert refused.status_code == 400 and "not registered here" in refused.text
    assert client.get("/integrations", follow_redirects=False).status_code == 303


def test_removing_a_passkey(signed_in_client, ctx):
    register(signed_in_client, SoftAuthenticator())
    with ctx.transaction(write=False) as session:
        passkey_id = session.scalar(select(Passkey.id))
    page = signed_in_client.get("/settings/security")
    removed = signed_in_client.post(
        "/settings/security/passkeys/remove",
        data={"csrf_token": csrf_token(page.text), "passkey_id": passkey_id},
    )
    assert removed.status_code == 200 and "was removed" in removed.text
    with ctx.transaction(write=False) as session:
        assert session.scalar(select(Passkey.id)) is None


def test_a_required_factor_can_be_a_passkey_set_up_at_sign_in(client, investor, database_url):
    from tests.conftest import run_cli

    assert run_cli(database_url, "investors", "require-2fa", "--email", investor.email).returncode == 0
    answer = sign_in(client, investor.email, investor.password)
    assert answer.headers["location"].startswith("/login/enroll")
    page = client.get("/login/enroll")
    device = SoftAuthenticator()
    done = client.post(
        "/settings/security/passkeys",
        data={
            "csrf_token": csrf_token(page.text),
            "credential": device.create(passkey_options(page.text, "passkey-register")),
            "name": "Phone",
            "next": "/authorized-apps",
        },
    )
    assert done.status_code == 200
    assert done.text.count('data-testid="recovery-code"') == 10
    assert 'href="/authorized-apps"' in done.text
    assert client.get("/integrations").status_code == 200
    # From now on that passkey signs in on its own.
    client.cookies.delete("spiko_session")
    assert passwordless(client, device).status_code == 303
