"""GET /v1/investors/me and the deprecated GET /v1/investors/, with API keys."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import basic_auth, create_investor
from tests.spec import assert_matches


def test_me_returns_the_callers_investor_and_matches_the_spec(client, investor):
    response = client.get("/v1/investors/me", headers=investor.basic)
    assert response.status_code == 200
    body = assert_matches(response, "/investors/me")
    assert body["id"] == investor.investor_id
    assert body["name"] == "Alice Treasury SAS"
    assert body["type"] == "organization"
    assert body["nationality"] is None


def test_individual_investor_shape_matches_the_spec(client, ctx):
    person = create_investor(ctx, name="Jeanne Martin", investor_type="individual")
    response = client.get("/v1/investors/me", headers=person.basic)
    body = assert_matches(response, "/investors/me")
    assert body["type"] == "individual"
    assert (
        body["taxInformationByCountryOfResidence"][0]["taxInformation"]["taxIdentificationNumber"] == "FR123"
    )


@pytest.mark.parametrize("path", ["/v1/investors/", "/v1/investors"])
def test_deprecated_list_holds_only_the_caller(client, investor, other_investor, path):
    response = client.get(path, headers=investor.basic)
    body = assert_matches(response, "/investors/")
    assert [item["id"] for item in body] == [investor.investor_id]


def test_each_key_reaches_its_own_investor_only(client, investor, other_investor):
    mine = client.get("/v1/investors/me", headers=investor.basic).json()
    theirs = client.get("/v1/investors/me", headers=other_investor.basic).json()
    assert mine["id"] == investor.investor_id
    assert theirs["id"] == other_investor.investor_id


def test_trailing_slash_is_optional(client, investor):
    assert client.get("/v1/investors/me/", headers=investor.basic).status_code == 200


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


MALFORMED = {
    "missing": None,
    "empty": "",
    "unknown scheme": "Digest abc",
    "bad base64": "Basic !!!not-base64!!!",
    "no colon": "Basic " + _b64(b"justaclientid"),
    "empty secret": "Basic " + _b64(b"spk_x:"),
    "non utf-8": "Basic " + _b64(b"\xff\xfe:\xfa\xfb"),
    "huge header": "Basic " + "A" * 10_000,
    "scheme only": "Basic",
    "empty bearer": "Bearer ",
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_authorization_gets_tagged_401(client, name):
    value = MALFORMED[name]
    headers = {} if value is None else {"Authorization": value}
    response = client.get("/v1/investors/me", headers=headers)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    body = assert_matches(response, "/investors/me")
    assert body["_tag"] == "InvestorAuthenticationError"
    assert body["reason"]


def test_raw_non_latin1_header_bytes_get_401(app):
    """Bytes that are not even valid Latin-1 text arrive as-is from a raw socket."""
    import asyncio

    messages = []

    async def run():
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "path": "/v1/investors/me",
            "raw_path": b"/v1/investors/me",
            "query_string": b"",
            "root_path": "",
            "scheme": "http",
            "headers": [(b"authorization", b"Basic \xff\xfe\x00\x81")],
            "client": ("127.0.0.1", 1),
            "server": ("testserver", 80),
        }

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            messages.append(message)

        await app(scope, receive, send)

    asyncio.run(run())
    assert messages[0]["status"] == 401


def test_wrong_secret_and_unknown_client_are_refused_alike(client, investor):
    wrong = client.get("/v1/investors/me", headers=basic_auth(investor.client_id, "sks_wrong"))
    unknown = client.get("/v1/investors/me", headers=basic_auth("spk_unknown", investor.client_secret))
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_unknown_v1_route_is_a_tagged_404(client, investor):
    response = client.get("/v1/nope", headers=investor.basic)
    assert response.status_code == 404
    assert response.json()["_tag"] == "NotFoundError"
