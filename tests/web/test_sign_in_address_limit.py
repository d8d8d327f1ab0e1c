"""The per-address sign-in limit counts failures only: people who share an address (an office, a
developer testing OAuth locally) are never locked out by signing in successfully."""

from __future__ import annotations

import uuid

import pytest

from tests.web.conftest import sign_in


@pytest.mark.parametrize("store", ["database", "redis"])
def test_successful_sign_ins_do_not_count_against_the_address_limit(store, client_with, investor, request):
    overrides: dict[str, object] = {
        "login_attempts_per_account": 100,
        "login_attempts_per_address": 3,
    }
    if store == "redis":  # under a prefix of its own: tests running at the same time share Redis
        overrides["redis_url"] = request.getfixturevalue("redis_url")
        overrides["redis_prefix"] = f"spiko-test:{uuid.uuid4().hex}:"
    owner = client_with(**overrides)
    for _ in range(3 * 3):
        assert sign_in(owner, investor.email, investor.password).status_code == 303

    # Failures from a browser the account never signed in from still count against the address:
    # the nine successes above took nothing from the limit, so exactly three failures are allowed.
    stranger = client_with(**overrides)
    for _ in range(3):
        assert sign_in(stranger, investor.email, "wrong password").status_code == 400
    refused = sign_in(stranger, investor.email, investor.password)
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.text
    assert refused.headers["retry-after"].isdigit()

    # The owner's own browser, known from its earlier sign-ins, still gets in from that address.
    assert sign_in(owner, investor.email, investor.password).status_code == 303
