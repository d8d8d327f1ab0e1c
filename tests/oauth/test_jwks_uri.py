"""``private_key_jwt`` with keys a client publishes at its ``jwks_uri`` (RFC 7523, OpenID Connect
Core 10.1.1): fetched from a real local HTTP server, refetched when the client rotates its keys,
and any failure to read them answered with ``invalid_client``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from spiko.auth.oauth import client_auth
from tests.oauth.fapi_helpers import KeyedApp, authorization_params, client_key, public_jwks, push
from tests.oauth.helpers import REDIRECT_URI


class KeyServer:
    """A client's web server publishing its JWK Set; ``answer`` is what it serves next."""

    def __init__(self) -> None:
        self.answer: tuple[int, bytes] = (404, b"")
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                owner.fetches += 1
                status, body = owner.answer
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, *keys: Any) -> None:
        documents = [public_jwks(key)["keys"][0] for key in keys]
        self.answer = (200, json.dumps({"keys": documents}).encode())

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.stop()


def _register(ctx: Any, jwks_uri: str) -> KeyedApp:
    from spiko.auth.oauth.clients import register_client
    from spiko.auth.oauth.registration import ClientOptions

    with ctx.transaction() as session:
        created = register_client(
            session,
            name="Remote Keys Co",
            redirect_uris=[REDIRECT_URI],
            public=False,
            options=ClientOptions(jwks_uri=jwks_uri),
        )
    return KeyedApp(created.client_id, REDIRECT_URI, client_key(), ctx.settings.issuer)


def _push(client: Any, app: KeyedApp) -> Any:
    return push(client, authorization_params(app)[0], app.auth_form())


def test_the_keys_are_fetched_from_the_jwks_uri_and_cached(ctx, client, key_server):
    app = _register(ctx, key_server.url)
    key_server.publish(app.key)
    assert _push(client, app).status_code == 201
    assert _push(client, app).status_code == 201
    assert key_server.fetches == 1, "kept in this process between assertions"
    unpublished = KeyedApp(app.client_id, REDIRECT_URI, client_key(), app.issuer)
    refused = _push(client, unpublished)
    assert refused.status_code in (400, 401) and refused.json()["error"] == "invalid_client"


def test_a_rotated_key_is_picked_up_and_the_retired_one_refused(ctx, client, key_server, monkeypatch):
    # Shortened from 10 s: how soon an unknown kid may cause another fetch.
    monkeypatch.setattr(client_auth, "JWKS_URI_REFETCH_SECONDS", 0.0)
    app = _register(ctx, key_server.url)
    old_key = app.key
    key_server.publish(old_key)
    assert _push(client, app).status_code == 201
    new_key = client_key()
    key_server.publish(new_key, old_key)  # the client rotates: both published for a while
    app.key = new_key
    assert _push(client, app).status_code == 201, "an unknown kid fetches the document again at once"
    assert key_server.fetches == 2
    key_server.publish(new_key)  # the old key is withdrawn
    retired = KeyedApp(app.client_id, REDIRECT_URI, old_key, app.issuer)
    assert _push(client, retired).status_code == 201, "still cached: the document is kept for a while"
    unknown = KeyedApp(app.client_id, REDIRECT_URI, client_key(), app.issuer)
    assert _push(client, unknown).json()["error"] == "invalid_client"
    assert key_server.fetches == 3
    assert _push(client, retired).json()["error"] == "invalid_client", "the refetched set has no old key"


def test_an_unknown_kid_does_not_refetch_within_the_interval(ctx, client, key_server):
    app = _register(ctx, key_server.url)
    key_server.publish(app.key)
    assert _push(client, app).status_code == 201
    for _ in range(3):
        intruder = KeyedApp(app.client_id, REDIRECT_URI, client_key(), app.issuer)
        assert _push(client, intruder).json()["error"] == "invalid_client"
    assert key_server.fetches == 1, "assertions with made-up kids cannot make the server fetch"


@pytest.mark.parametrize(
    "answer",
    [
        (500, b"oops"),
        (200, b"not json"),
        (200, b'{"keys": []}'),
        (200, b'{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}'),
        (302, b""),
        None,  # nobody listening
    ],
    ids=["server error", "not json", "empty set", "a secret key", "redirect", "unreachable"],
)
def test_a_jwks_uri_that_cannot_be_read_means_invalid_client(ctx, client, key_server, answer):
    app = _register(ctx, key_server.url)
    if answer is None:
        key_server.stop()
        key_server.stop = lambda: None  # type: ignore[method-assign]
    else:
        key_server.answer = answer
    refused = _push(client, app)
    assert refused.status_code in (400, 401), refused.text
    assert refused.json()["error"] == "invalid_client"
    assert "jwks_uri" in refused.json()["error_description"]
