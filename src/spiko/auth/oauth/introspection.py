"""Token introspection (RFC 7662) without a thread hop or a transaction, for the common case.

A resource server introspects the same live access tokens again and again with the same
credentials. When the client (``client_secret_basic``) and the token are both in this process's
one-second caches (``clients.LiveClients``, ``tokens.AccessTokenVerifier``: the ones Bearer
requests on ``/v1`` use), the answer is made on the event loop from them: the same body, the
same headers as ``endpoints.IntrospectionEndpoint`` gives. Anything else (a miss, another
authentication method, a refresh token, an inactive, expired or foreign token, any error) takes
the full path through Authlib in a transaction, which then fills the caches.

The common case is answered even earlier, in front of the whole application, by
``spiko.api.introspection_fast_path`` (with ``answer_of``): the same answer, byte for byte.

Staleness is that of the Bearer path: a revocation made by this process clears both caches after
its commit; one made by another process reaches this one through Redis when it is configured,
and within one second without it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from authlib.oauth2.rfc6749.util import extract_basic_authorization

from spiko.auth.oauth import flows
from spiko.auth.oauth.dpop_tokens import TOKEN_TYPE as DPOP_TOKEN_TYPE
from spiko.auth.oauth.requests import HttpRequest, OAuthResponse, basic_credentials_are_readable, first_values
from spiko.auth.oauth.tokens import ACCESS_TOKEN_PREFIX, MAX_TOKEN_LENGTH, AccessEntry, hash_token

if TYPE_CHECKING:
    from spiko.auth.oauth.clients import Client
    from spiko.auth.oauth.server import AuthorizationServer

ENDPOINT = "introspection"
METHOD = "client_secret_basic"


def _eligible(http: HttpRequest) -> tuple[str, str, str] | None:
    """(client_id, client_secret, token) when the request is of the kind the fast path answers."""
    if http.method != "POST" or not basic_credentials_are_readable(http.headers):
        return None
    try:
        InsecureTransportError.check(http.uri)
    except OAuth2Error:
        return None
    client_id, secret = extract_basic_authorization(http.headers)
    form = first_values(http.form)
    token = form.get("token")
    hint = form.get("token_type_hint")
    if not client_id or not secret or "client_id" in form or "client_secret" in form:
        return None
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.startswith(ACCESS_TOKEN_PREFIX):
        return None
    if hint not in (None, "access_token"):
        return None
    return client_id, secret, token


def _authenticated(client: Client | None, secret: str) -> bool:
    return (
        client is not None
        and client.check_client_secret(secret)
        and client.check_endpoint_auth_method(METHOD, ENDPOINT)
    )


def _active(entry: AccessEntry, client: Client) -> bool:
    return (
        entry.known and entry.live and entry.client_id == client.client_id and entry.expires_at > time.time()
    )


def body_of(entry: AccessEntry, issuer: str) -> dict[str, Any]:
    """``endpoints.IntrospectionEndpoint.introspect_token`` of an active access token, key for key."""
    body: dict[str, Any] = {
        "active": True,
        "client_id": entry.client_id,
        "scope": entry.scope,
        "sub": entry.user_id,
        "aud": entry.client_id,
        "iss": issuer,
        "iat": int(entry.issued_at),
        "exp": int(entry.expires_at),
        "investor_id": entry.investor_id,
        "token_type": "Bearer",
    }
    if entry.jkt:
        body["cnf"] = {"jkt": entry.jkt}
        body["token_type"] = DPOP_TOKEN_TYPE
    return body


def answer_of(
    server: AuthorizationServer, secret: str, client: Client | None, entry: AccessEntry
) -> OAuthResponse | None:
    if client is None or not _authenticated(client, secret) or not _active(entry, client):
        return None
    answer: OAuthResponse = server.handle_response(
        200, body_of(entry, server.settings.issuer), default_json_headers
    )
    return answer


def introspect_cached(server: AuthorizationServer, http: HttpRequest) -> OAuthResponse | None:
    """The answer from the caches, without I/O; None: take ``introspect_loaded``."""
    request = _eligible(http)
    if request is None:
        return None
    client_id, secret, token = request
    client = server.live_clients.cached(client_id)
    entry = server.access_tokens.cached(hash_token(token))
    if client is None or entry is None:
        return None
    return answer_of(server, secret, client[0], entry)


async def introspect_loaded(server: AuthorizationServer, http: HttpRequest) -> OAuthResponse | None:
    """The answer from the client and the token read now, each once for every request waiting
    on it (so an expired entry under load costs one read, not one per request), which also
    refills the caches; None: take ``introspect``."""
    request = _eligible(http)
    if request is None:
        return None
    client_id, secret, token = request
    client = await server.live_clients.get(client_id)
    entry = await server.access_tokens.entry(hash_token(token))
    return answer_of(server, secret, client, entry)


def introspect(server: AuthorizationServer, http: HttpRequest) -> OAuthResponse:
    """The full path, in a transaction (in the thread pool)."""
    return flows.endpoint(server, ENDPOINT, http, write=False)
