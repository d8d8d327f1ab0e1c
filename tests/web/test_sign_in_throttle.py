"""Sign-in throttling: failed guesses slow the guesser down and never lock the owner out.

The throttle's clock is injected: the tests move time forward instead of waiting, and assert the
order of events (refused, then served once the announced time has come), never a duration.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from spiko.app import create_app
from spiko.context import AppContext
from tests.conftest import InvestorFixture, create_investor
from tests.web.conftest import sign_in


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def throttled(settings) -> Iterator[tuple[AppContext, Clock, Any]]:  # type: ignore[no-untyped-def]
    """An app with 3 free failures per account and address, 10 per address; a fake clock; and a
    factory of browsers, each from the address it is given."""
    ctx = AppContext(
        settings.with_overrides(
            login_attempts_per_account=3,
            login_attempts_per_address=10,
            login_delay_seconds=60,
            login_max_delay_seconds=900,
        )
    )
    clock = Clock()
    ctx.sign_in_throttle.clock = clock
    app = create_app(ctx=ctx)
    opened: list[TestClient] = []

    def browser(address: str) -> TestClient:
        client = TestClient(app, base_url="http://testserver", client=(address, 40000))
        client.__enter__()
        opened.append(client)
        return client

    yield ctx, clock, browser
    for client in opened:
        client.__exit__(None, None, None)
    ctx.close()


def _fail(browser: TestClient, person: InvestorFixture, times: int) -> list[int]:
    return [sign_in(browser, person.email, "wrong password").status_code for _ in range(times)]


def test_failures_delay_the_next_attempt_longer_each_time(throttled, investor) -> None:  # type: ignore[no-untyped-def]
    _, clock, browser = throttled
    guesser = browser("203.0.113.9")
    assert _fail(guesser, investor, 3) == [400, 400, 400]
    first = sign_in(guesser, investor.email, investor.password)  # even the right password waits
    assert first.status_code == 429
    assert "Try again after" in first.text
    first_wait = int(first.headers["retry-after"])
    assert first_wait >= 1
    clock.now += first_wait - 1
    assert sign_in(guesser, investor.email, "another guess").status_code == 429  # not yet
    clock.now += 1
    assert _fail(guesser, investor, 1) == [400]  # its time came: judged, and failed again
    second = sign_in(guesser, investor.email, investor.password)
    assert second.status_code == 429
    second_wait = int(second.headers["retry-after"])
    assert second_wait > first_wait  # progressive
    clock.now += second_wait
    assert sign_in(guesser, investor.email, investor.password).status_code == 303


def test_refused_attempts_do_not_lengthen_the_wait(throttled, investor) -> None:  # type: ignore[no-untyped-def]
    _, clock, browser = throttled
    guesser = browser("203.0.113.9")
    _fail(guesser, investor, 3)
    waits = [int(sign_in(guesser, investor.email, "x").headers["retry-after"]) for _ in range(5)]
    assert waits == [waits[0]] * 5
    clock.now += waits[0]
    assert sign_in(guesser, investor.email, investor.password).status_code == 303


def test_a_stranger_cannot_lock_the_owner_out(throttled, investor) -> None:  # type: ignore[no-untyped-def]
    _, _, browser = throttled
    stranger = browser("203.0.113.66")
    assert _fail(stranger, investor, 6) == [400, 400, 400, 429, 429, 429]
    # The owner, from their own address, signs in at once.
    owner = browser("198.51.100.7")
    assert sign_in(owner, investor.email, investor.password).status_code == 303


def test_a_known_device_gets_in_from_the_guessers_network(throttled, investor) -> None:  # type: ignore[no-untyped-def]
    _, _, browser = throttled
    laptop = browser("192.0.2.10")  # the office's one public address
    assert sign_in(laptop, investor.email, investor.password).status_code == 303  # known from now on
    laptop.cookies.delete("spiko_session")
    intruder = browser("192.0.2.10")  # same network, no cookie of the account
    assert _fail(intruder, investor, 12)[-1] == 429
    assert sign_in(intruder, investor.email, investor.password).status_code == 429
    assert sign_in(laptop, investor.email, investor.password).status_code == 303


def test_a_device_cookie_of_another_account_is_no_pass(throttled, investor, ctx) -> None:  # type: ignore[no-untyped-def]
    _, _, browser = throttled
    own = create_investor(ctx)
    guesser = browser("203.0.113.9")
    assert sign_in(guesser, own.email, own.password).status_code == 303  # the guesser's own account
    guesser.cookies.delete("spiko_session")
    assert _fail(guesser, investor, 4) == [400, 400, 400, 429]


def test_successful_sign_ins_do_not_count_against_the_address(throttled, ctx) -> None:  # type: ignore[no-untyped-def]
    _, _, browser = throttled
    office = browser("192.0.2.10")
    people = [create_investor(ctx) for _ in range(12)]
    for person in people:  # more than the address's 10 free failures, all successful
        response = sign_in(office, person.email, person.password)
        assert response.status_code == 303
        office.cookies.delete("spiko_session")


def test_parallel_guesses_cannot_slip_past_the_count(throttled, investor) -> None:  # type: ignore[no-untyped-def]
    _, _, browser = throttled
    guessers = [browser("203.0.113.9") for _ in range(8)]
    statuses: list[int] = []
    lock = threading.Lock()

    def guess(client: TestClient) -> None:
        status = sign_in(client, investor.email, "wrong password").status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=guess, args=(client,)) for client in guessers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [400, 400, 400] + [429] * 5


def test_a_strangers_wrong_passwords_do_not_keep_the_owners_passkey_out(throttled, investor) -> None:  # type: ignore[no-untyped-def]
    from tests.web.authenticator import SoftAuthenticator, passkey_options
    from tests.world import csrf_token

    _, _, browser = throttled
    owner = browser("192.0.2.10")  # the office's one public address
    assert sign_in(owner, investor.email, investor.password).status_code == 303
    device = SoftAuthenticator()
    page = owner.get("/settings/security")
    owner.post(
        "/settings/security/passkeys",
        data={
            "csrf_token": csrf_token(page.text),
            "credential": device.create(passkey_options(page.text, "passkey-register")),
            "name": "Laptop",
        },
    )
    owner.cookies.delete("spiko_session")
    intruder = browser("192.0.2.10")  # same network
    assert _fail(intruder, investor, 12)[-1] == 429
    login = owner.get("/login")
    answer = owner.post(
        "/login/passkey",
        data={
            "csrf_token": csrf_token(login.text),
            "credential": device.get(passkey_options(login.text, "passkey-form")),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
