"""Token introspection in front of the whole application, for the common case.

``IntrospectionFastPath`` is an ASGI layer, so it lives here with the HTTP code; what it answers
is ``spiko.auth.oauth.introspection``'s, from the same caches, as the route would.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InsecureTransportError

from spiko.api.oauth_http import to_response
from spiko.auth.oauth.introspection import answer_of
from spiko.auth.oauth.runtime import oauth_server
from spiko.auth.oauth.tokens import ACCESS_TOKEN_PREFIX, MAX_TOKEN_LENGTH, AccessEntry, hash_token
from spiko.core.edge import replayed
from spiko.core.observability import Metrics, record_request, request_id_of
from spiko.core.text import is_clean
from spiko.core.transport import HSTS

if TYPE_CHECKING:
    from spiko.auth.oauth.clients import Client

PATH = "/oauth2/introspect"
FORM_TYPE = b"application/x-www-form-urlencoded"
# Form values that need no decoding (no percent escape, no "+"), hence hold no control character.
_PLAIN_VALUE = re.compile(rb"[A-Za-z0-9._~-]*")
# What the edge (``spiko.core.edge``) refuses in a header value other than the credentials.
_HEADER_REFUSED = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
MAX_BODY = 2048
MAX_KNOWN = 4096


@dataclass(slots=True)
class _Known:
    """An answer given, valid for the same credentials while both cache entries are the same."""

    credentials: bytes  # SHA-256 of the Authorization header that was checked
    client_id: str
    client: tuple[Client | None]
    entry: AccessEntry
    headers: list[tuple[bytes, bytes]]
    body: bytes


class IntrospectionFastPath:
    """Pure ASGI, in front of the whole application: the common introspection, answered first.

    A ``POST /oauth2/introspect`` with no query, a plain URL-encoded body of ``token`` (and
    ``token_type_hint=access_token``), ``client_secret_basic`` credentials, and the client and
    the token both in the caches (``introspect_cached``), is answered here with the bytes the
    route gives: the same status, body and headers, ``Strict-Transport-Security`` when the
    issuer is https, and the request id; it is counted and logged like any other request
    (``spiko.core.observability.record_request``). Anything else (a header or a body the edge
    would have to judge among them) goes on to ``app`` unchanged, its body replayed.

    The answer is computed once per token, credentials and cache entries: while the token's
    and the client's entries are the very objects it was computed from (a revocation or the
    one-second expiry replaces them) and the token has not expired, the same credentials get
    the same bytes. Only a digest of the credentials is kept, never the secret.
    """

    def __init__(self, app: Any, ctx: Any, metrics: Metrics) -> None:
        self.app = app
        self.ctx = ctx
        self.metrics = metrics
        self.pid = os.getpid()
        issuer: str = ctx.settings.issuer
        self.extra_headers = [HSTS] if issuer.startswith("https://") else []
        try:
            InsecureTransportError.check(issuer + PATH)
            self.enabled = True
        except OAuth2Error:
            self.enabled = False  # every request then gets the full path's refusal
        self._known: dict[str, _Known] = {}

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "POST"
            or scope.get("query_string")
            or not self.enabled
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        body, complete = await _read_body(receive)
        answer = None
        if complete:
            try:
                answer = self.answer(scope["headers"], body)
            except Exception:  # noqa: BLE001 - the full path says what is wrong, in its own words
                answer = None
        if answer is None:
            await self.app(scope, replayed(body, receive), send)
            return
        request_id = request_id_of(scope["headers"])
        headers = [*answer[0], (b"x-request-id", request_id.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer[1]})
        record_request(self.metrics, scope, PATH, 200, time.perf_counter() - started, request_id, self.pid)

    def answer(
        self, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        """The 200's headers (all but the request id) and body, from the caches; None: the request
        is for the full path."""
        authorization = content_type = None
        others = []
        for name, value in headers:
            if name == b"authorization":
                if authorization is None:
                    authorization = value
            else:
                if name == b"content-type" and content_type is None:
                    content_type = value
                others.append(value)
        if content_type != FORM_TYPE or authorization is None or _HEADER_REFUSED.search(b"\t".join(others)):
            return None
        token = hint = None
        for pair in body.split(b"&"):
            name, _, value = pair.partition(b"=")
            if _PLAIN_VALUE.fullmatch(value) is None:
                return None
            if name == b"token" and token is None:
                token = value.decode("ascii")
            elif name == b"token_type_hint" and hint is None:
                hint = value
            else:
                return None  # another parameter (client_id...), or one given twice
        if token is None or len(token) > MAX_TOKEN_LENGTH or not token.startswith(ACCESS_TOKEN_PREFIX):
            return None
        if hint is not None and hint != b"access_token":
            return None
        server = oauth_server(self.ctx)
        token_hash = hash_token(token)
        entry = server.access_tokens.cached(token_hash)
        if entry is None:
            return None
        credentials = hashlib.sha256(authorization).digest()
        known = self._known.get(token_hash)
        if (
            known is not None
            and known.entry is entry
            and hmac.compare_digest(known.credentials, credentials)
            and server.live_clients.cached(known.client_id) is known.client
            and entry.expires_at > time.time()
        ):
            return known.headers, known.body
        basic = _basic(authorization)
        if basic is None:
            return None
        client_id, secret = basic
        client = server.live_clients.cached(client_id)
        if client is None:
            return None
        response = answer_of(server, secret, client[0], entry)
        if response is None:
            return None
        raw = [*to_response(response).raw_headers, *self.extra_headers]
        if len(self._known) >= MAX_KNOWN:
            self._known.clear()
        self._known[token_hash] = _Known(credentials, client_id, client, entry, raw, response.body)
        return raw, response.body


def _basic(authorization: bytes) -> tuple[str, str] | None:
    """``client_secret_basic`` credentials as Authlib reads them, when they need no unquoting."""
    if not authorization.startswith(b"Basic "):
        return None
    try:
        text = base64.b64decode(authorization[6:], validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    client_id, colon, secret = text.partition(":")
    if not colon or not client_id or not secret or "%" in text or not is_clean(text):
        return None
    return client_id, secret


async def _read_body(receive: Any) -> tuple[bytes, bool]:
    """The body, and whether it came whole (no disconnect, not longer than ``MAX_BODY``)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), size <= MAX_BODY
