"""An independent FAPI 2.0 client, panva's openid-client for Node (tests/node), against a real
server: PAR, private_key_jwt, DPoP-bound code exchange, the iss check, DPoP on /v1, a token refused
without its proof, DPoP-bound refresh, and a refresh with another key refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from spiko.config import Settings
from spiko.context import AppContext
from tests.conftest import TEST_SECRET_KEY, create_investor
from tests.oauth.fapi_helpers import register_keyed_app
from tests.oauth.helpers import csrf_token, sign_in

NODE_PROJECT = Path(__file__).resolve().parent.parent / "node"
EXPECTED_CHECKS = {
    "discovery",
    "par",
    "iss in the response",
    "code exchange",
    "id token",
    "dpop call on /v1",
    "the token refused as a bearer token",
    "the token refused without its proof",
    "dpop-bound refresh",
    "the refreshed token works with the same key",
    "refresh with another key refused",
}


@pytest.fixture(scope="session")
def node_client() -> Path:
    """The pinned openid-client, installed from package-lock.json when it is not yet."""
    node = shutil.which("node")
    assert node, "Node.js 20 or later is needed for the independent FAPI client (see .ci/run)"
    if not (NODE_PROJECT / "node_modules" / "openid-client").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_PROJECT, check=True, timeout=300)
    return Path(node)


def _consent(server_url: str, email: str, password: str, authorization_url: str) -> str:
    with httpx.Client(base_url=server_url, timeout=10) as browser:
        sign_in(browser, email, password)
        page = browser.get(authorization_url)
        assert page.status_code == 200 and 'name="decision"' in page.text, page.text[:300]
        answer = browser.post(
            authorization_url, data={"csrf_token": csrf_token(page.text), "decision": "allow"}
        )
        assert answer.status_code == 302, answer.text
        return str(answer.headers["location"])


@pytest.mark.parametrize("id_token_alg", ["ES256", "PS256"])
def test_openid_client_runs_the_whole_fapi_flow(node_client, live_server, database_url, id_token_alg):
    """The client expects ID tokens signed with the algorithm it registered, and checks it."""
    ctx = AppContext(Settings(database_url=database_url, secret_key=TEST_SECRET_KEY, issuer=live_server.url))
    try:
        person = create_investor(ctx, name="Node Client SAS")
        app = register_keyed_app(ctx, fapi=True, id_token_alg=id_token_alg)
    finally:
        ctx.close()
    private_jwk = {**app.key.as_dict(private=True), "kid": app.key.kid}
    env = {
        **os.environ,
        "SPIKO_ISSUER": live_server.url,
        "FAPI_CLIENT_ID": app.client_id,
        "FAPI_CLIENT_JWK": json.dumps(private_jwk),
        "FAPI_REDIRECT_URI": app.redirect_uri,
        "FAPI_ID_TOKEN_ALG": id_token_alg,
    }
    process = subprocess.Popen(
        [str(node_client), "fapi_flow.mjs"],
        cwd=NODE_PROJECT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    checks: dict[str, dict] = {}
    try:
        assert process.stdout is not None and process.stdin is not None
        for line in process.stdout:
            if line.startswith("CHECK "):
                check = json.loads(line[len("CHECK ") :])
                checks[check["name"]] = check
            elif line.startswith("AUTHORIZE "):
                callback = _consent(
                    live_server.url, person.email, person.password, line[len("AUTHORIZE ") :].strip()
                )
                process.stdin.write(callback + "\n")
                process.stdin.flush()
            elif line.strip() == "DONE":
                break
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    errors = process.stderr.read() if process.stderr else ""
    assert process.returncode == 0, errors
    assert set(checks) == EXPECTED_CHECKS, (checks, errors)
    failed = {name: check for name, check in checks.items() if not check["ok"]}
    assert failed == {}, (failed, live_server.log()[-3000:])
    assert checks["dpop call on /v1"]["investor"] == person.investor_id
    assert checks["id token"]["alg"] == id_token_alg
