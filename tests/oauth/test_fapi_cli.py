"""``spiko oauth-clients create`` registering FAPI 2.0 clients: keys, profile, PAR and DPoP flags."""

from __future__ import annotations

import json

from tests.oauth.fapi_helpers import client_key, public_jwks
from tests.oauth.helpers import REDIRECT_URI
from tests.oauth.test_cli import spiko  # noqa: F401 - the fixture


def test_a_fapi_client_is_registered_with_its_keys(spiko, tmp_path):  # noqa: F811
    jwks_file = tmp_path / "app-jwks.json"
    jwks_file.write_text(json.dumps(public_jwks(client_key())))
    code, created, _ = spiko(
        "oauth-clients", "create", "--name", "Open Finance Co", "--redirect-uri", REDIRECT_URI,
        "--jwks", str(jwks_file), "--fapi",
    )  # fmt: skip
    assert code == 0 and set(created) == {"client_id", "client_secret"}
    assert created["client_secret"] is None  # it authenticates with its key
    _, listed, _ = spiko("oauth-clients", "list")
    (shown,) = [client for client in listed if client["client_id"] == created["client_id"]]
    assert shown["profile"] == "fapi2" and shown["tokenEndpointAuthMethod"] == "private_key_jwt"
    assert shown["requirePushedAuthorizationRequests"] and shown["dpopBoundAccessTokens"]
    assert shown["idTokenSignedResponseAlg"] == "ES256"


def test_a_fapi_client_can_register_ps256_id_tokens(spiko, tmp_path):  # noqa: F811
    jwks_file = tmp_path / "app-jwks.json"
    jwks_file.write_text(json.dumps(public_jwks(client_key())))
    base = ["oauth-clients", "create", "--redirect-uri", REDIRECT_URI, "--jwks", str(jwks_file), "--fapi"]
    code, created, _ = spiko(*base, "--name", "PSS Bank", "--id-token-alg", "PS256")
    assert code == 0
    code, _, refused = spiko(*base, "--name", "Old Bank", "--id-token-alg", "RS256")
    assert code != 0 and "ES256 or PS256" in refused
    _, listed, _ = spiko("oauth-clients", "list")
    algorithms = {client["name"]: client["idTokenSignedResponseAlg"] for client in listed}
    assert algorithms == {"PSS Bank": "PS256"}


def test_each_part_can_be_asked_for_alone(spiko):  # noqa: F811
    code, created, _ = spiko(
        "oauth-clients", "create", "--name", "Careful App", "--redirect-uri", REDIRECT_URI,
        "--jwks-uri", "https://app.example.com/jwks.json", "--dpop-only", "--require-par",
    )  # fmt: skip
    assert code == 0 and created["client_secret"] is None
    code, secret_app, _ = spiko(
        "oauth-clients", "create", "--name", "Secret App", "--redirect-uri", REDIRECT_URI, "--dpop-only"
    )
    assert code == 0 and secret_app["client_secret"]
    _, listed, _ = spiko("oauth-clients", "list")
    by_id = {client["client_id"]: client for client in listed}
    careful = by_id[created["client_id"]]
    assert careful["jwksUri"] == "https://app.example.com/jwks.json" and careful["profile"] is None
    assert careful["requirePushedAuthorizationRequests"] and careful["dpopBoundAccessTokens"]
    assert by_id[secret_app["client_id"]]["tokenEndpointAuthMethod"] == "client_secret_basic"


def test_bad_registrations_fail_with_one_line(spiko, tmp_path):  # noqa: F811
    private = tmp_path / "private.json"
    private.write_text(json.dumps({"keys": [client_key().as_dict(private=True)]}))
    not_json = tmp_path / "not.json"
    not_json.write_text("{")
    for extra in (
        ["--fapi"],  # no keys
        ["--jwks", str(private)],  # a private key
        ["--jwks", str(not_json)],
        ["--jwks", str(tmp_path / "missing.json")],
        ["--jwks-uri", "http://app.example.com/jwks.json"],  # plain http off loopback
        ["--public", "--fapi"],
    ):
        code, out, err = spiko(
            "oauth-clients", "create", "--name", "Bad", "--redirect-uri", REDIRECT_URI, *extra
        )
        assert code == 1 and out is None, extra
        assert err.count("\n") == 1 and "error" in err, (extra, err)
