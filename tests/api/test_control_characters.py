"""Control characters are refused at the edge, with a tagged 4xx, on every surface (both databases).

Each case is an attack that answered 500 on PostgreSQL before: NUL cannot be stored in text there.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from spiko.core.text import TextKind, control_character, is_clean
from spiko.db.models.orders import Account
from tests.conftest import InvestorFixture
from tests.oauth.helpers import REDIRECT_URI, csrf_token, register_app
from tests.orders.conftest import World, world  # noqa: F401 - the fixture


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _decode_error(response: Any, *path: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["_tag"] == "HttpApiDecodeError", body
    assert body["issues"][0]["path"] == list(path)
    assert "control character" in body["message"]


def _oauth_error(response: Any) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"


def test_the_one_rule_for_ids_emails_and_free_text() -> None:
    for character in ("\x00", "\r", "\n", "\x1b", "\x7f", "\x85", "\x9f"):
        assert control_character(f"abc{character}def") == character
        assert not is_clean(f"a{character}@example.com", TextKind.EMAIL)
    for allowed in ("\t", "\n", "\r\n"):
        assert is_clean(f"first line{allowed}second line", TextKind.FREE_TEXT)
    for refused in ("\x00", "\x0b", "\x1f", "\x7f", "\x9b"):
        assert not is_clean(f"text{refused}", TextKind.FREE_TEXT)
    assert is_clean("Trésorerie — compte « courant » ¤ ½ 日本")


def test_a_nul_in_basic_credentials_on_v1_is_malformed_credentials(
    client: TestClient, investor: InvestorFixture
) -> None:
    for headers in (
        _basic("spk_\x00x", "secret"),
        _basic(investor.client_id, "s\x00"),
        _basic("spk_\r\n", "s"),
    ):
        response = client.get("/v1/investors/me", headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["_tag"] == "InvestorAuthenticationError"
        assert "Malformed" in response.json()["reason"]


def test_a_nul_in_a_search_parameter_is_refused(world: World, investor: InvestorFixture) -> None:  # noqa: F811
    account = world.account(investor)
    response = world.client.get(
        "/v1/account-transactions",
        params={"accountId": account, "search": "wire\x00"},
        headers=investor.basic,
    )
    _decode_error(response, "query", "search")


def test_a_limit_that_is_a_digit_but_no_number_is_refused(world: World, investor: InvestorFixture) -> None:  # noqa: F811
    account = world.account(investor)
    for limit in ("²", "٣", "1\x00"):
        response = world.client.get(
            "/v1/account-transactions", params={"accountId": account, "limit": limit}, headers=investor.basic
        )
        assert response.status_code == 400, (limit, response.text)
        assert response.json()["_tag"] == "HttpApiDecodeError"


def test_a_nul_in_a_json_body_writes_nothing(world: World, investor: InvestorFixture) -> None:  # noqa: F811
    body = {
        "type": "internal",
        "investorId": investor.investor_id,
        "shareClassId": world.share_classes["EUTBL"],
    }
    response = world.client.post("/v1/accounts", json={**body, "name": "Ops\x00"}, headers=investor.basic)
    _decode_error(response, "body", "name")
    raw = json.dumps({**body, "name": "Ops\u0000"})  # no content type: FastAPI reads it as JSON
    _decode_error(world.client.post("/v1/accounts", content=raw, headers=investor.basic), "body", "name")
    with world.ctx.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0
    assert (
        world.client.post("/v1/accounts", json={**body, "name": "Ops"}, headers=investor.basic).status_code
        == 200
    )


@pytest.fixture
def oauth_app(ctx):  # type: ignore[no-untyped-def]
    return register_app(ctx)


def test_a_nul_in_an_oauth_client_id_is_refused(client: TestClient, oauth_app: Any) -> None:
    query = (
        f"client_id={quote(oauth_app.client_id)}%00&redirect_uri={quote(REDIRECT_URI)}"
        "&response_type=code&state=abcdefgh12"
    )
    _oauth_error(client.get("/oauth2/auth?" + query, follow_redirects=False))
    form = {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "spo_\x00"}
    _oauth_error(client.post("/oauth2/token", data=form))
    refresh = {"grant_type": "refresh_token", "refresh_token": "x"}
    for path, data in (("/oauth2/token", refresh), ("/oauth2/introspect", {"token": "x"})):
        response = client.post(path, data=data, headers=_basic("spo_\x00", "secret"))
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"


def test_a_line_break_in_a_redirect_uri_is_refused(client: TestClient, oauth_app: Any) -> None:
    for injected in ("%0d%0aSet-Cookie:%20x=1", "%0a", "%00"):
        query = (
            f"client_id={oauth_app.client_id}&redirect_uri={quote(REDIRECT_URI)}{injected}"
            "&response_type=code&state=abcdefgh12"
        )
        response = client.get("/oauth2/auth?" + query, follow_redirects=False)
        _oauth_error(response)
        assert "location" not in response.headers and "set-cookie" not in response.headers


def test_a_nul_in_the_sign_in_email_is_refused(client: TestClient, investor: InvestorFixture) -> None:
    token = csrf_token(client.get("/login").text)
    response = client.post(
        "/login", data={"email": investor.email + "\x00", "password": investor.password, "csrf_token": token}
    )
    assert response.status_code == 400
    assert "control character" in response.text and "text/html" in response.headers["content-type"]
    # Multipart forms are read alike.
    multipart = client.post(
        "/login",
        files={"email": (None, "x\x00@example.com"), "password": (None, "pw"), "csrf_token": (None, token)},
    )
    assert multipart.status_code == 400


def test_control_characters_in_other_forms_are_refused(client: TestClient, investor: InvestorFixture) -> None:
    token = csrf_token(client.get("/login").text)
    signed_in = client.post(
        "/login",
        data={"email": investor.email, "password": investor.password, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    token = csrf_token(client.get("/integrations").text)
    for path, data in (
        ("/integrations", {"name": "key\x00", "csrf_token": token}),
        ("/integrations", {"name": "key\r\nX-Injected: 1", "csrf_token": token}),
        ("/authorized-apps", {"client_id": "spo_\x00", "csrf_token": token}),
    ):
        response = client.post(path, data=data)
        assert response.status_code == 400, (path, response.text)
    assert "key" not in client.get("/integrations").text.split("test key")[-1]


def test_a_path_with_a_control_character_is_not_found(client: TestClient, investor: InvestorFixture) -> None:
    for path in ("/v1/deposit-orders/abc%00def", "/v0/share-classes/EUTBL%00", "/v1/accounts/%0d%0a"):
        response = client.get(path, headers=investor.basic)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["_tag"] == "NotFoundError"
    assert client.get("/integrations%00").status_code == 404


def test_operator_inputs_follow_the_same_rule(ctx, investor: InvestorFixture) -> None:  # type: ignore[no-untyped-def]
    """What the CLI hands the services (investors, API keys, OAuth clients) is judged alike."""
    from spiko.auth.oauth.clients import register_client
    from spiko.errors import ApiError
    from spiko.services import identity

    attempts = [
        lambda s: identity.create_investor(
            s, name="Nul SAS", email="nul\x00@example.com", password="long password 1"
        ),
        lambda s: identity.create_investor(
            s, name="Line\nBreak SAS", email="lb@example.com", password="long password 1"
        ),
        lambda s: identity.create_api_key(
            s, ctx.api_keys, investor_id=investor.investor_id, name="key\x00", max_live_keys=20
        ),
        lambda s: register_client(
            s, name="App", redirect_uris=["https://app.example/cb\r\nX: 1"], public=False
        ),
        lambda s: register_client(s, name="App\x00", redirect_uris=["https://app.example/cb"], public=False),
    ]
    for attempt in attempts:
        with pytest.raises(ApiError) as refused, ctx.transaction() as session:
            attempt(session)
        assert refused.value.status == 400
        assert "control characters" in str(refused.value)
