"""The operator command line: investors, API keys and migrations, per the contract."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import create_engine, inspect

from spiko.config import normalize_database_url
from spiko.services import identity
from tests.conftest import CliRun, basic_auth, run_cli, run_process


def one_json_object(result: CliRun) -> dict:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    value = json.loads(lines[0])
    assert isinstance(value, dict)
    return value


def assert_one_line_error(result: CliRun, *fragments: str) -> None:
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_investors_create_prints_one_json_object(database_url, ctx, tmp_path):
    result = run_cli(
        database_url,
        "investors",
        "create",
        "--name",
        "Acme SAS",
        "--email",
        "Treasurer@Acme.example",
        "--password",
        "long enough password",
        "--type",
        "organization",
        "--country",
        "fr",
        cwd=tmp_path,
    )
    created = one_json_object(result)
    assert set(created) == {"investorId", "email"}
    assert created["email"] == "treasurer@acme.example"
    with ctx.transaction(write=False) as session:
        investor = identity.get_investor(session, created["investorId"])
        assert investor.name == "Acme SAS" and investor.country == "FR" and investor.type == "organization"
        user = identity.authenticate_user(session, "treasurer@acme.example", "long enough password")
        assert user is not None and user.password_hash.startswith("$argon2id$")


def test_investors_create_refuses_a_duplicate_email_in_one_line(database_url, investor, tmp_path):
    result = run_cli(
        database_url,
        "investors",
        "create",
        "--name",
        "Again",
        "--email",
        investor.email,
        "--password",
        "long enough password",
        cwd=tmp_path,
    )
    assert_one_line_error(result, "spiko investors create: error:", "already exists")


def test_investors_create_validates_its_input(database_url, tmp_path):
    result = run_cli(
        database_url,
        "investors",
        "create",
        "--name",
        "X",
        "--email",
        "not-an-email",
        "--password",
        "long enough",
        cwd=tmp_path,
    )
    assert_one_line_error(result, "email")
    result = run_cli(
        database_url,
        "investors",
        "create",
        "--name",
        "X",
        "--email",
        "x@y.example",
        "--password",
        "short",
        cwd=tmp_path,
    )
    assert_one_line_error(result, "at least 8 characters")


def test_api_keys_create_list_revoke(database_url, client, investor, tmp_path):
    created = one_json_object(
        run_cli(database_url, "api-keys", "create", "--email", investor.email, "--name", "ERP", cwd=tmp_path)
    )
    assert set(created) == {"client_id", "client_secret"}
    headers = basic_auth(created["client_id"], created["client_secret"])
    assert client.get("/v1/investors/me", headers=headers).json()["id"] == investor.investor_id

    listed = run_cli(database_url, "api-keys", "list", "--email", investor.email, cwd=tmp_path)
    assert listed.returncode == 0
    keys = json.loads(listed.stdout)
    assert isinstance(keys, list) and len(listed.stdout.splitlines()) == 1
    assert {key["client_id"] for key in keys} == {investor.client_id, created["client_id"]}
    fields = {"client_id", "name", "scopes", "created_at", "last_used_at", "revoked_at"}
    assert all(set(key) == fields and key["scopes"] is None for key in keys)  # full access
    assert created["client_secret"] not in listed.stdout and investor.client_secret not in listed.stdout

    revoked = run_cli(database_url, "api-keys", "revoke", created["client_id"], cwd=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout == "{}\n"
    revoked_at = time.monotonic()  # after the command committed
    while True:
        # A server caches a key a second at most: a request begun a second after the revocation is refused.
        began = time.monotonic() - revoked_at
        if client.get("/v1/investors/me", headers=headers).status_code == 401:
            break
        assert began < 1.0, f"a request begun {began:.3f} s after the revocation was let in"
        time.sleep(0.02)
    active = json.loads(
        run_cli(database_url, "api-keys", "list", "--email", investor.email, cwd=tmp_path).stdout
    )
    assert [key["client_id"] for key in active] == [investor.client_id]


def test_api_keys_errors_are_one_line(database_url, investor, tmp_path):
    assert_one_line_error(
        run_cli(database_url, "api-keys", "revoke", "spk_nope", cwd=tmp_path), "API key not found"
    )
    assert_one_line_error(
        run_cli(database_url, "api-keys", "create", "--email", "nobody@example.com", cwd=tmp_path),
        "no user with email",
    )
    assert_one_line_error(
        run_cli(database_url, "api-keys", "list", "--email", "nobody@example.com", cwd=tmp_path), "no user"
    )


def test_api_keys_create_stops_at_20_live_keys(database_url, ctx, investor, tmp_path):
    with ctx.transaction() as session:
        for index in range(19):
            identity.create_api_key(
                session, ctx.api_keys, investor_id=investor.investor_id, name=f"k{index}", max_live_keys=20
            )
    result = run_cli(database_url, "api-keys", "create", "--email", investor.email, cwd=tmp_path)
    assert_one_line_error(result, "You already have 20 active API keys, the maximum")


def test_usage_errors_are_one_line_and_exit_2(database_url, tmp_path):
    result = run_cli(database_url, "investors", "create", "--name", "X", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--email" in result.stderr
    result = run_cli(database_url, "no-such-command", cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_an_unreachable_database_is_a_one_line_error(databases, tmp_path):
    url = (
        "postgresql://postgres@127.0.0.1:1/nowhere"
        if databases.is_postgres
        else f"sqlite:///{tmp_path}/missing-dir/x/spiko.db"
    )
    assert_one_line_error(run_cli(url, "api-keys", "list", "--email", "a@b.example", cwd=tmp_path), "error:")


def test_db_upgrade_migrates_an_empty_database(databases, tmp_path):
    # The installed command in a process of its own, as an operator runs it before starting servers.
    url = databases.empty()
    try:
        result = run_process(url, "db", "upgrade", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "{}\n"
        engine = create_engine(normalize_database_url(url))
        try:
            tables = set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
        assert {"investors", "users", "web_sessions", "api_keys", "alembic_version"} <= tables
        again = run_cli(url, "db", "upgrade", cwd=tmp_path)  # idempotent
        assert again.returncode == 0
    finally:
        databases.drop(url)


@pytest.mark.parametrize("flag", ["--help"])
def test_help_lists_the_contract_commands(flag, database_url, tmp_path):
    out = run_cli(database_url, flag, cwd=tmp_path).stdout
    for name in ("serve", "db", "investors", "api-keys"):
        assert name in out
