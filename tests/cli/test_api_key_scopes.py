"""``spiko api-keys create --scope``: keys narrowed from the command line, shown in ``list``."""

from __future__ import annotations

import json

import pytest

from tests.conftest import basic_auth


@pytest.fixture
def spiko(monkeypatch, settings, tmp_path, capsys):  # type: ignore[no-untyped-def]
    """Run ``spiko ...`` in-process on the test database: (exit code, stdout, stderr)."""
    from spiko.cli import main

    monkeypatch.setenv("SPIKO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SPIKO_SECRET_KEY", settings.secret_key)
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_a_read_only_key_from_the_command_line(spiko, client, investor):
    code, out, _ = spiko(
        "api-keys", "create", "--email", investor.email, "--name", "Books", "--scope", "read"
    )
    assert code == 0
    created = json.loads(out)
    assert set(created) == {"client_id", "client_secret"}
    headers = basic_auth(created["client_id"], created["client_secret"])
    assert client.get("/v1/investors/me", headers=headers).status_code == 200
    body = {"type": "internal", "investorId": investor.investor_id, "shareClassId": investor.investor_id}
    assert client.post("/v1/accounts", json=body, headers=headers).status_code == 403

    code, out, _ = spiko("api-keys", "list", "--email", investor.email)
    listed = {key["client_id"]: key["scopes"] for key in json.loads(out)}
    assert listed == {created["client_id"]: ["read"], investor.client_id: None}


def test_a_list_of_scopes_repeated_or_in_one_option(spiko, client, investor):
    code, out, _ = spiko(
        "api-keys",
        "create",
        "--email",
        investor.email,
        "--scope",
        "orders:write",
        "orders:read",
        "--scope",
        "read",
    )
    assert code == 0
    created = json.loads(out)
    code, out, _ = spiko("api-keys", "list", "--email", investor.email)
    listed = {key["client_id"]: key["scopes"] for key in json.loads(out)}
    assert listed[created["client_id"]] == ["read", "orders:read", "orders:write"]


def test_an_unknown_scope_is_one_line_and_creates_nothing(spiko, investor):
    code, out, err = spiko("api-keys", "create", "--email", investor.email, "--scope", "orders:delete")
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "unknown scope 'orders:delete'" in err
    code, out, _ = spiko("api-keys", "list", "--email", investor.email)
    assert [key["client_id"] for key in json.loads(out)] == [investor.client_id]
