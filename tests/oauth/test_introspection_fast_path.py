"""The introspection fast path (``api.introspection_fast_path``): in front of the
whole application, it answers the common case with the very bytes of the full path, and hands
everything else to the application unchanged."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from spiko.api.introspection_fast_path import IntrospectionFastPath
from spiko.app import create_app
from spiko.config import Settings
from spiko.context import AppContext
from spiko.core.observability import Metrics
from tests.conftest import TEST_SECRET_KEY
from tests.oauth.helpers import RegisteredApp, register_app, tokens_for

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
REQUEST_ID = "fastpath-0123456789"


def _post(client: TestClient, app_client: RegisteredApp, body: str, **headers: str) -> Any:
    sent = {**app_client.basic, **FORM, "X-Request-ID": REQUEST_ID, **headers}
    return client.post("/oauth2/introspect", content=body, headers=sent)


def _same_answer(fast: Any, full: Any) -> None:
    assert fast.status_code == full.status_code == 200
    assert fast.content == full.content  # the JSON, byte for byte
    assert fast.headers.raw == full.headers.raw  # every header, in the same order


def test_the_fast_answer_is_the_full_answer_byte_for_byte(app, client, browser, app_client) -> None:  # type: ignore[no-untyped-def]
    tokens = tokens_for(browser, app_client)
    body = "token=" + tokens["access_token"]
    first = _post(client, app_client, body)  # a miss: the full path, which fills the caches
    full = TestClient(app.handle, base_url="http://testserver")  # the application without the fast path
    for variant in (body, body + "&token_type_hint=access_token"):
        _same_answer(_post(client, app_client, variant), _post(full, app_client, variant))
    assert first.json()["active"] is True and first.content == _post(client, app_client, body).content
    assert first.headers["x-request-id"] == REQUEST_ID


def test_over_https_the_same_bytes_with_strict_transport_security(database_url, browser, app_client) -> None:  # type: ignore[no-untyped-def]
    tokens = tokens_for(browser, app_client)
    settings = Settings(database_url=database_url, issuer="https://auth.example", secret_key=TEST_SECRET_KEY)
    ctx = AppContext(settings)
    try:
        app = create_app(ctx=ctx)
        with TestClient(app, base_url="https://auth.example") as client:
            body = "token=" + tokens["access_token"]
            _post(client, app_client, body)  # fills this process's caches
            fast = _post(client, app_client, body)
            full = _post(TestClient(app.handle, base_url="https://auth.example"), app_client, body)
            _same_answer(fast, full)
            assert fast.headers["strict-transport-security"] == "max-age=31536000"
            assert fast.json()["iss"] == "https://auth.example"
    finally:
        ctx.close()


class _Application:
    """Stands for the rest of the application: records what reaches it, answers 418."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def warm(client, browser, app_client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A live access token and refresh token, introspected once so both caches hold them."""
    tokens = tokens_for(browser, app_client)
    assert _post(client, app_client, "token=" + tokens["access_token"]).json()["active"] is True
    return tokens


def test_the_common_case_never_reaches_the_application(ctx, warm, app_client) -> None:  # type: ignore[no-untyped-def]
    rest, metrics = _Application(), Metrics()
    fast = TestClient(IntrospectionFastPath(rest, ctx=ctx, metrics=metrics), base_url="http://testserver")
    answer = _post(fast, app_client, "token=" + warm["access_token"])
    assert answer.status_code == 200 and answer.json()["active"] is True
    assert answer.headers["x-request-id"] == REQUEST_ID
    assert rest.bodies == []
    labels = {"method": "POST", "route": "/oauth2/introspect", "status": "200"}
    assert metrics.registry.get_sample_value("spiko_http_requests_total", labels) == 1


def test_everything_else_reaches_the_application_unchanged(ctx, warm, app_client) -> None:  # type: ignore[no-untyped-def]
    rest = _Application()
    fast = TestClient(IntrospectionFastPath(rest, ctx=ctx, metrics=Metrics()), base_url="http://testserver")
    access, refresh = warm["access_token"], warm["refresh_token"]
    other = register_app(ctx, name="Other")
    wrong = base64.b64encode(f"{app_client.client_id}:sps_wrong".encode()).decode()
    cases: list[tuple[str, str, dict[str, str]]] = [
        ("/oauth2/introspect?x=1", f"token={access}", {}),  # a query
        ("/oauth2/introspect/", f"token={access}", {}),  # another path
        ("/oauth2/introspect", f"token={access}&client_id={app_client.client_id}", {}),  # another parameter
        ("/oauth2/introspect", f"token={access}&token={access}", {}),  # a parameter twice
        ("/oauth2/introspect", f"token={access[:8]}%5F{access[9:]}", {}),  # an escape to decode
        ("/oauth2/introspect", f"token={access}&token_type_hint=refresh_token", {}),
        ("/oauth2/introspect", f"token={refresh}", {}),  # a refresh token
        ("/oauth2/introspect", "token=spa_unknown", {}),  # not in the cache
        ("/oauth2/introspect", f"token={access}", {"Authorization": f"Basic {wrong}"}),  # a wrong secret
        ("/oauth2/introspect", f"token={access}", other.basic),  # another client: not cached
        ("/oauth2/introspect", f"token={access}", {"Authorization": "Bearer x"}),
        ("/oauth2/introspect", f"token={access}", {"Content-Type": "application/x-www-form-urlencoded; x=1"}),
        ("/oauth2/introspect", f"token={access}", {"Content-Type": "application/json"}),
    ]
    for path, body, headers in cases:
        sent = {**app_client.basic, **FORM, **headers}
        assert fast.post(path, content=body, headers=sent).status_code == 418, (path, body, headers)
        assert rest.bodies[-1] == body.encode()
    assert fast.get("/oauth2/introspect").status_code == 418
    assert len(rest.bodies) == len(cases) + 1


def test_a_control_character_in_a_header_is_refused_by_the_edge(app, warm, app_client) -> None:  # type: ignore[no-untyped-def]
    """The fast path leaves such a request to the edge (``core.edge``), which refuses it."""
    body = ("token=" + warm["access_token"]).encode()
    headers = [
        (b"host", b"testserver"),
        (b"authorization", app_client.basic["Authorization"].encode()),
        (b"content-type", FORM["Content-Type"].encode()),
        (b"x-note", b"a\x01b"),
    ]
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/oauth2/introspect",
        "raw_path": b"/oauth2/introspect",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 400
    assert b'"error": "invalid_request"' in sent[1]["body"] and b"x-note" in sent[1]["body"]
