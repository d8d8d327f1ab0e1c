"""The server's JSON endpoints as plain functions: an ``HttpRequest`` in, an ``OAuthResponse`` out.

Each runs Authlib's synchronous API inside one database transaction
(``AuthorizationServer.run``); ``spiko.api.oauth`` reads the request on the event loop and calls
these in the thread pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import OAuth2Error

from spiko.auth.oauth import limits
from spiko.auth.oauth.requests import HttpRequest, OAuthResponse, basic_credentials_are_readable, oauth_error
from spiko.auth.oauth.server import StaleClient
from spiko.auth.oauth.unit import UnitOfWork
from spiko.core.ratelimit import DatabaseRateLimiter

if TYPE_CHECKING:
    from spiko.auth.oauth.server import AuthorizationServer


def unreadable_credentials() -> OAuthResponse:
    return oauth_error(
        401,
        "invalid_client",
        "Malformed Basic credentials.",
        {"WWW-Authenticate": 'Basic error="invalid_client"'},
    )


def _rate_limited(
    server: AuthorizationServer, http: HttpRequest, session: Any = None
) -> OAuthResponse | None:
    """Token requests are limited per address, per client and per failing (client, address)."""
    try:
        limits.check_before_authentication(server, http, session=session)
    except limits.TooManyTokenRequests as refused:
        retry = {"Retry-After": str(refused.retry_after)}
        return oauth_error(429, refused.error, refused.get_error_description(), retry)
    return None


def _counters_in_the_request(server: AuthorizationServer) -> bool:
    """On SQLite, the database counters are written in the request's own transaction.

    Writers take turns on SQLite whatever happens: one write transaction per token request
    instead of three (count the address, the request, count the client) is what the profile
    asked for. On PostgreSQL each counter stays a transaction of its own, so that the row lock
    on a busy address's counter is held for a moment, not for a whole token request.
    """
    return (
        isinstance(server.ctx.rate_limiter, DatabaseRateLimiter)
        and server.ctx.engine.dialect.name == "sqlite"
    )


def token(server: AuthorizationServer, http: HttpRequest) -> OAuthResponse:
    """The token endpoint (RFC 6749 section 3.2): every grant registered on the server.

    Clients are taken from the server's one-second cache and confirmed against their rows in the
    request's transaction (the code or refresh token read joins them; a refusal that read
    neither reads the client's row). When the cache was behind (the client revoked, or given a
    new secret, by another process), that transaction is rolled back and the request answered
    again without the cache: the answer is always the one the database gives.
    """
    if not basic_credentials_are_readable(http.headers):
        return unreadable_credentials()
    folded = _counters_in_the_request(server)
    if not folded:
        refused = _rate_limited(server, http)
        if refused is not None:
            return refused
    server.keys.ensure_signing_key(server.ctx)  # an ID token may be signed in this request
    units: list[UnitOfWork] = []
    cache = True

    def action(unit: UnitOfWork) -> OAuthResponse:
        units.append(unit)
        unit.client_cache = cache
        if folded:
            refused = _rate_limited(server, http, unit.session)
            if refused is not None:
                return refused
        try:
            response: OAuthResponse = server.create_token_response(http)
        except OAuth2Error as error:  # raised before Authlib's own handling, e.g. insecure transport
            response = oauth_error(error.status_code or 400, error.error, error.get_error_description())
        else:
            if "dpop" in http.headers:  # the nonce the next proof will need (RFC 9449 section 8)
                response.set_header_default("DPoP-Nonce", server.dpop.nonces.current())
        server.confirm_clients(unit)
        if folded:
            limits.count_outcome(server, http, unit, session=unit.session)
        return response

    try:
        answer = server.run(http, action)
    except StaleClient as stale:  # rolled back: nothing it did stands
        server.live_clients.forget(stale.client_id)
        cache = False
        answer = server.run(http, action)
    if not folded:
        limits.count_outcome(server, http, units[-1])
    return answer


def endpoint(
    server: AuthorizationServer, name: str, http: HttpRequest, *, write: bool = True
) -> OAuthResponse:
    """One of the registered endpoints: ``revocation``, ``introspection`` or ``userinfo``."""
    if not basic_credentials_are_readable(http.headers):
        return unreadable_credentials()

    def action(unit: UnitOfWork) -> OAuthResponse:
        try:
            response: OAuthResponse = server.create_endpoint_response(name, http)
        except OAuth2Error as error:
            return oauth_error(error.status_code or 400, error.error, error.get_error_description())
        return response

    return server.run(http, action, write=write)


def revoke(server: AuthorizationServer, http: HttpRequest) -> OAuthResponse:
    return endpoint(server, "revocation", http)


def userinfo(server: AuthorizationServer, http: HttpRequest) -> OAuthResponse:
    return endpoint(server, "userinfo", http, write=False)


def jwks(server: AuthorizationServer) -> dict[str, Any]:
    """The public signing keys, created on first use."""
    server.keys.ensure_signing_key(server.ctx)
    with server.ctx.transaction(write=False) as session:
        return server.keys.jwks(session)
