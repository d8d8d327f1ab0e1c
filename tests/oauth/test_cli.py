"""``spiko oauth-clients`` and ``spiko keys``, as an operator runs them."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tests.oauth.helpers import REDIRECT_URI


@pytest.fixture
def spiko(database_url, tmp_path):  # type: ignore[no-untyped-def]
    def run(*argv: str) -> tuple[int, object, str]:
        done = run_cli(database_url, *argv, cwd=tmp_path)
        return done.returncode, done.json(), done.stderr

    return run


def test_create_list_and_revoke_clients(spiko):
    code, confidential, _ = spiko(
        "oauth-clients", "create", "--name", "Budget Buddy", "--redirect-uri", REDIRECT_URI,
        "--redirect-uri", "https://app.example.com/oauth/callback",
    )  # fmt: skip
    assert code == 0
    assert set(confidential) == {"client_id", "client_secret"}
    assert confidential["client_secret"] and len(confidential["client_secret"]) >= 43
    code, public, _ = spiko(
        "oauth-clients", "create", "--name", "Pocket CLI", "--redirect-uri", REDIRECT_URI, "--public"
    )
    assert code == 0 and public["client_secret"] is None

    code, listed, _ = spiko("oauth-clients", "list")
    assert code == 0
    by_id = {item["client_id"]: item for item in listed}
    assert by_id[confidential["client_id"]]["redirectUris"] == [
        REDIRECT_URI,
        "https://app.example.com/oauth/callback",
    ]
    assert by_id[public["client_id"]]["public"] is True
    assert confidential["client_secret"] not in json.dumps(listed)

    code, out, err = spiko("oauth-clients", "revoke", public["client_id"])
    assert code == 0 and out == {} and "revoked" in err
    _, listed, _ = spiko("oauth-clients", "list")
    assert [item["client_id"] for item in listed] == [confidential["client_id"]]
    _, everything, _ = spiko("oauth-clients", "list", "--all")
    assert len(everything) == 2


def test_unsafe_redirect_uris_are_refused(spiko):
    for uri in (
        "http://app.example.com/cb",
        "/relative",
        "https://app.example.com/cb#fragment",
        "javascript:x",
    ):
        code, out, err = spiko("oauth-clients", "create", "--name", "Bad", "--redirect-uri", uri)
        assert code == 1 and out is None, uri
        assert err.count("\n") == 1 and "error" in err


def test_revoking_an_unknown_client_fails(spiko):
    code, _, err = spiko("oauth-clients", "revoke", "spo_nope")
    assert code == 1 and "spo_nope" in err


def test_keys_rotate_and_list(spiko):
    code, first, _ = spiko("keys", "rotate")
    assert code == 0 and first["retired"] == []
    _, second, _ = spiko("keys", "rotate")
    assert set(second["retired"]) == set(first["kids"]) and first["kid"] in first["kids"]
    _, keys, _ = spiko("keys", "list")
    by_kid = {key["kid"]: key for key in keys}
    assert by_kid[second["kid"]]["signing"] is True
    assert by_kid[first["kid"]]["signing"] is False and by_kid[first["kid"]]["published"] is True
    assert all("d" not in key and "private" not in json.dumps(key).lower() for key in keys)
