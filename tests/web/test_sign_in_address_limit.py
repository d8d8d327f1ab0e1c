"""The per-address sign-in limit counts failures only: people who share an address (an office, a
developer testing OAuth locally) are never locked out by signing in successfully."""

from __future__ import annotations

import pytest

from tests.web.conftest import sign_in


@pytest.mark.parametrize("store", ["database", "redis"])
def test_successful_sign_ins_do_not_count_against_the_address_limit(store, client_with, investor, request):
    overrides = {"redis_url": request.getfixturevalue("redis_url")} if store == "redis" else {}
    client = client_with(login_attempts_per_account=100, login_attempts_per_address=3, **overrides)
    for _ in range(3 * 3):
        assert sign_in(client, investor.email, investor.password).status_code == 303

    # Failures still count, successes in between take nothing back from them.
    assert sign_in(client, investor.email, "wrong password").status_code == 400
    assert sign_in(client, investor.email, investor.password).status_code == 303
    assert sign_in(client, investor.email, "wrong password").status_code == 400
    assert sign_in(client, investor.email, "wrong password").status_code == 400
    refused = sign_in(client, investor.email, investor.password)  # the fourth attempt after 3 failures
    assert refused.status_code == 429
    assert "Too many sign-in attempts" in refused.text
