"""Rate limits of the token and pushed authorization request endpoints (RFC 6749 section 10.10
asks for guessing to be made hard; RFC 9126 section 7.5 for the PAR endpoint not to be a way to
fill the server's storage).

Three counters, none of which a stranger can use to lock a client out:
- per address, before anything is checked: one address cannot flood the endpoint;
- failed client authentications per (claimed client, address): guessing a secret gets slow from
  the guesser's address only, never from the client's own;
- per authenticated client, after its credentials are checked: a client that is who it claims
  may not flood either, and requests naming it without its secret do not count.
Counters live in the shared rate limiter (Redis or the database), so every worker applies them.
Each endpoint has its own counters; the failures per (client, address) and the window are the
token endpoint's settings for both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749.util import extract_basic_authorization

from spiko.auth.oauth.requests import HttpRequest, first_values
from spiko.auth.oauth.unit import UnitOfWork

if TYPE_CHECKING:
    from spiko.auth.oauth.server import AuthorizationServer


LIMITED_ENDPOINTS = ("token", "par")


class TooManyTokenRequests(OAuth2Error):  # type: ignore[misc]
    error = "temporarily_unavailable"
    status_code = 429

    def __init__(self, retry_after: int, endpoint: str = "token") -> None:
        what = "token requests" if endpoint == "token" else "pushed authorization requests"
        super().__init__(f"Too many {what}; retry in {retry_after} seconds.")
        self.retry_after = retry_after

    def get_headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = super().get_headers()
        return [*headers, ("Retry-After", str(self.retry_after))]


def claimed_client_id(http: HttpRequest) -> str:
    """The client a request names, before anything proves it (Basic first, then the form)."""
    claimed, _ = extract_basic_authorization(http.headers)
    return (claimed or first_values(http.form).get("client_id") or "-")[:64]


def _failures_key(endpoint: str, client_id: str, address: str) -> str:
    return f"oauth:{endpoint}:failures:{client_id}:{address}"


def _client_key(endpoint: str, client_id: str) -> str:
    return f"oauth:{endpoint}:client:{client_id}"


def _per_address_and_client(server: AuthorizationServer, endpoint: str) -> tuple[int, int]:
    settings = server.settings
    if endpoint == "par":
        return settings.par_requests_per_address, settings.par_requests_per_client
    return settings.token_requests_per_address, settings.token_requests_per_client


def check_before_authentication(
    server: AuthorizationServer, http: HttpRequest, endpoint: str = "token", session: Any = None
) -> None:
    """Counted: the address's request. Peeked: its failed authentications as the claimed client,
    and the claimed client's authenticated requests (only the client itself adds to those)."""
    settings = server.settings
    limiter = server.ctx.rate_limiter
    window = settings.token_window_seconds
    per_address, per_client = _per_address_and_client(server, endpoint)
    claimed = claimed_client_id(http)
    verdict = limiter.hit(f"oauth:{endpoint}:address:{http.client_host}", per_address, window, session)
    if verdict.allowed:
        failures = _failures_key(endpoint, claimed, http.client_host)
        checks = [
            (failures, settings.token_failures_per_client_and_address),
            (_client_key(endpoint, claimed), per_client),
        ]
        verdict = limiter.peek_all(checks, window, session)
    if not verdict.allowed:
        raise TooManyTokenRequests(verdict.retry_after, endpoint)


def count_outcome(
    server: AuthorizationServer,
    http: HttpRequest,
    unit: UnitOfWork,
    endpoint: str = "token",
    session: Any = None,
) -> None:
    """After the request's transaction (the counters may live in the same database), or at its
    end in ``session``: a failed client authentication counts for (claimed client, address), a
    passed one for the client."""
    settings = server.settings
    limiter = server.ctx.rate_limiter
    window = settings.token_window_seconds
    _, per_client = _per_address_and_client(server, endpoint)
    if unit.authenticated_client_id is not None:
        limiter.hit(_client_key(endpoint, unit.authenticated_client_id), per_client, window, session)
    elif unit.client_authentication_failed:
        failures = _failures_key(endpoint, claimed_client_id(http), http.client_host)
        limiter.hit(failures, settings.token_failures_per_client_and_address, window, session)
