"""Bank accounts: added by operators (``spiko bank-accounts add``), read by investors."""

from __future__ import annotations

import pytest

from tests.orders.conftest import random_id
from tests.spec import assert_matches


def test_operator_adds_a_bank_account_and_the_investor_reads_it(world, investor, other_investor, cli):
    code, created, _ = cli(
        "bank-accounts", "add", "--email", investor.email, "--iban", "fr14 2004 1010 0505 0001 3m02 606",
        "--bic", "psstfrppxxx", "--name", "Operating account",
    )  # fmt: skip
    assert code == 0
    assert created["details"] == {
        "currency": "EUR",
        "accountNumber": "FR1420041010050500013M02606",
        "bic": "PSSTFRPPXXX",
    }
    assert created["investorId"] == investor.investor_id
    one = world.client.get(f"/v1/bank-accounts/{created['id']}", headers=investor.basic)
    assert assert_matches(one, "/bank-accounts/{bankAccountId}") == created
    listed = world.client.get(
        "/v1/bank-accounts", params={"investorId": investor.investor_id}, headers=investor.basic
    )
    assert assert_matches(listed, "/bank-accounts/") == [created]

    # Isolation: someone else's id is not found, someone else's investorId is forbidden.
    assert (
        world.client.get(f"/v1/bank-accounts/{created['id']}", headers=other_investor.basic).status_code
        == 404
    )
    forbidden = world.client.get(
        "/v1/bank-accounts", params={"investorId": investor.investor_id}, headers=other_investor.basic
    )
    assert forbidden.status_code == 403
    assert world.client.get(f"/v1/bank-accounts/{random_id()}", headers=investor.basic).status_code == 404


@pytest.mark.parametrize(
    ("iban", "bic", "message"),
    [
        ("FR1420041010050500013M02607", "PSSTFRPPXXX", "check digits"),
        ("FR14200410100505", "PSSTFRPPXXX", "27 characters"),
        ("FR1420041010050500013M02606", "PSST", "BIC"),
    ],
)
def test_invalid_iban_or_bic_is_refused_in_one_line(world, investor, cli, iban, bic, message):
    code, out, err = cli("bank-accounts", "add", "--email", investor.email, "--iban", iban, "--bic", bic)
    assert code == 1
    assert out is None
    assert message in err and len(err.strip().splitlines()) == 1
    listed = world.client.get(
        "/v1/bank-accounts", params={"investorId": investor.investor_id}, headers=investor.basic
    )
    assert listed.json() == []


def test_unknown_email_and_duplicates(world, investor, cli):
    code, _, err = cli("bank-accounts", "add", "--email", "nobody@example.com", "--iban",
                       "DE89370400440532013000", "--bic", "DEUTDEFF")  # fmt: skip
    assert code == 1 and "no user" in err
    assert cli("bank-accounts", "add", "--email", investor.email, "--iban", "DE89370400440532013000",
               "--bic", "DEUTDEFF")[0] == 0  # fmt: skip
    code, _, err = cli("bank-accounts", "add", "--email", investor.email, "--iban", "DE89370400440532013000",
                       "--bic", "DEUTDEFF")  # fmt: skip
    assert code == 1 and "already" in err
    code, listed, _ = cli("bank-accounts", "list", "--email", investor.email)
    assert code == 0 and len(listed) == 1 and listed[0]["name"] is None
