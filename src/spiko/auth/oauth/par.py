"""Pushed authorization requests, RFC 9126: the client sends its authorization request straight
to the server (authenticated), and the browser carries only ``client_id`` and the ``request_uri``
it got back, so nothing of the request can be read or changed on the way.

A ``request_uri`` is short-lived (``SPIKO_PAR_REQUEST_URI_TTL_SECONDS``, 60 by default) until the
browser first opens it; from then the investor has as long as an authorization code lives to
sign in and consent (the request is reloaded on each step). It is single-use: once an
authorization response (a code or an error) has been sent back for it, it is refused.

The endpoint is rate-limited like the token endpoint (``spiko.auth.oauth.limits``), and pushed
requests that can no longer be used are deleted as it goes: at most once every
``PURGE_EVERY_SECONDS`` per process, a push also deletes every request whose ``request_uri``
expired unopened, or which was opened longer ago than an authorization code lives.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from spiko.auth.oauth import limits
from spiko.auth.oauth.dpop import DPoPProofError
from spiko.auth.oauth.requests import (
    NO_STORE,
    HttpRequest,
    OAuthResponse,
    basic_credentials_are_readable,
    first_values,
    json_response,
)
from spiko.auth.oauth.unit import UnitOfWork
from spiko.auth.secrets import random_token, sha256_hex
from spiko.db.models.fapi import OAuthPushedRequest
from spiko.db.models.oauth import OAuthClient
from spiko.db.types import utcnow

if TYPE_CHECKING:
    from spiko.auth.oauth.server import AuthorizationServer

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
PAR_PATH = "/oauth2/par"
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
# Client authentication travels with the pushed request; it is not part of the authorization request.
NOT_STORED = frozenset({"client_secret", "client_assertion", "client_assertion_type", "request_uri"})
PURGE_EVERY_SECONDS = 60.0


class InvalidRequestUriError(OAuth2Error):  # type: ignore[misc]
    """RFC 9101 section 6.2: the request_uri is unknown, expired, used, or not this client's."""

    error = "invalid_request_uri"


def _json_error(error: OAuth2Error, headers: dict[str, str] | None = None) -> OAuthResponse:
    body = {"error": error.error, "error_description": error.get_error_description()}
    merged = {**NO_STORE, **dict(error.get_headers()), **(headers or {})}
    merged.pop("Content-Type", None)
    return json_response(body, error.status_code or 400, merged)


class Purge:
    """When this process last deleted unusable pushed requests (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = float("-inf")

    def due(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._last < PURGE_EVERY_SECONDS:
                return False
            self._last = now
            return True


def purge_unusable(session: Session, code_ttl_seconds: int) -> int:
    """Delete the pushed requests that ``resolve`` would refuse as expired; returns how many."""
    now = utcnow()
    result = session.execute(
        delete(OAuthPushedRequest)
        .where(
            or_(
                OAuthPushedRequest.opened_at.is_(None) & (OAuthPushedRequest.expires_at <= now),
                OAuthPushedRequest.opened_at <= now - timedelta(seconds=code_ttl_seconds),
            )
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def push(server: AuthorizationServer, http: HttpRequest) -> OAuthResponse:
    """The PAR endpoint: an authenticated, checked authorization request stored for its browser."""
    if not basic_credentials_are_readable(http.headers):
        return _json_error(InvalidRequestError("Malformed Basic credentials."))
    try:
        limits.check_before_authentication(server, http, "par")
    except limits.TooManyTokenRequests as refused:
        return _json_error(refused)
    settings = server.settings
    units: list[UnitOfWork] = []

    def action(unit: UnitOfWork) -> OAuthResponse:
        units.append(unit)
        form = first_values(http.form)
        try:
            if "request_uri" in form:
                raise InvalidRequestError("A pushed authorization request cannot carry a request_uri.")
            oauth_request = server.create_oauth2_request(http)
            client = server.authenticate_client(oauth_request, AUTH_METHODS, endpoint="par")
            if form.get("client_id", client.client_id) != client.client_id:
                raise InvalidRequestError("client_id does not match the authenticated client.")
            jkt = _pushed_key(server, http, form, unit)
            stored = [
                (k, v) for k, v in http.form if k not in NOT_STORED and k not in ("client_id", "dpop_jkt")
            ]
            stored = [("client_id", client.client_id), *stored]
            if jkt is not None:
                stored.append(("dpop_jkt", jkt))
            unit.pushing = True
            checked = server.create_oauth2_request(dataclasses.replace(http, params=stored, query=stored))
            server.get_consent_grant(checked, end_user=None)
        except OAuth2Error as error:
            return _json_error(error)
        except DPoPProofError as refused:
            as_oauth = OAuth2Error(refused.description, error=refused.error, status_code=400)
            nonce = {"DPoP-Nonce": refused.nonce} if refused.nonce else None
            return _json_error(as_oauth, nonce)
        request_uri = REQUEST_URI_PREFIX + random_token(32)
        ttl = settings.par_request_uri_ttl_seconds
        unit.session.add(
            OAuthPushedRequest(
                request_uri_hash=sha256_hex(request_uri),
                client_pk=client.pk,
                parameters=json.dumps(stored),
                dpop_jkt=jkt,
                expires_at=utcnow() + timedelta(seconds=ttl),
            )
        )
        unit.session.flush()
        if server.par_purge.due():
            purge_unusable(unit.session, settings.authorization_code_ttl_seconds)
        return json_response({"request_uri": request_uri, "expires_in": ttl}, 201, NO_STORE)

    answer = server.run(http, action)
    limits.count_outcome(server, http, units[0], "par")
    return answer


def _pushed_key(
    server: AuthorizationServer, http: HttpRequest, form: dict[str, str], unit: UnitOfWork
) -> Any:
    """The DPoP key the code will be bound to: a proof sent with the push (RFC 9449 section 10.1),
    or the ``dpop_jkt`` parameter (section 10); both must agree."""
    requested = form.get("dpop_jkt")
    proofs = http.headers.getlist("dpop")
    if not proofs:
        return requested
    if len(proofs) > 1:
        raise DPoPProofError("Send exactly one DPoP header.")
    proof = server.dpop.verify(
        proofs[0], method="POST", url=server.settings.issuer + PAR_PATH, session=unit.session
    )
    if requested is not None and requested != proof.jkt:
        raise InvalidRequestError("dpop_jkt does not match the key of the DPoP proof.")
    return proof.jkt


def resolve(unit: UnitOfWork, http: HttpRequest, code_ttl_seconds: int) -> HttpRequest:
    """The authorization request a ``request_uri`` stands for, or ``http`` itself without one."""
    params = first_values(http.params)
    request_uri = params.get("request_uri")
    if request_uri is None:
        return http
    if not request_uri.startswith(REQUEST_URI_PREFIX) or len(request_uri) > 200:
        raise InvalidRequestUriError("The request_uri was not issued by this server.")
    row = unit.session.scalars(
        select(OAuthPushedRequest)
        .where(OAuthPushedRequest.request_uri_hash == sha256_hex(request_uri))
        .with_for_update()
    ).first()
    client_id = (
        unit.session.scalar(select(OAuthClient.client_id).where(OAuthClient.id == row.client_pk))
        if row
        else None
    )
    if row is None or client_id is None or params.get("client_id") != client_id:
        raise InvalidRequestUriError("The request_uri is unknown, or was pushed by another client.")
    if row.used_at is not None:
        raise InvalidRequestUriError("The request_uri was already used: push the request again.")
    now = utcnow()
    if row.opened_at is None:
        if row.expires_at <= now:
            raise InvalidRequestUriError("The request_uri has expired: push the request again.")
        row.opened_at = now
    elif row.opened_at + timedelta(seconds=code_ttl_seconds) <= now:
        raise InvalidRequestUriError("The request_uri has expired: push the request again.")
    unit.pushed_request = row
    pushed = [(str(key), str(value)) for key, value in json.loads(row.parameters)]
    return dataclasses.replace(http, params=pushed, query=pushed)


def mark_used(unit: UnitOfWork) -> None:
    """An authorization response was sent for the pushed request: it cannot be used again."""
    row = unit.pushed_request
    if isinstance(row, OAuthPushedRequest) and row.used_at is None:
        row.used_at = utcnow()
        unit.session.flush()
