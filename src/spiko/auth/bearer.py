"""Bearer access tokens on /v1 (RFC 6750), issued by the OAuth 2.0 server.

The hot path: the SHA-256 of the presented token is looked up in a per-process cache that lives
at most one second (see ``spiko.auth.oauth.tokens``); on a miss, one indexed read in the thread
pool. Nothing is written per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from spiko.auth.credentials import AuthFailure, Principal
from spiko.auth.oauth.runtime import oauth_server
from spiko.auth.oauth.tokens import MAX_TOKEN_LENGTH, AccessEntry, hash_token
from spiko.auth.roles import clamp
from spiko.auth.scopes import permissions

if TYPE_CHECKING:
    from spiko.context import AppContext


def _refused(reason: str, reason_code: str) -> AuthFailure:
    return AuthFailure(reason, reason_code, scheme="Bearer", error="invalid_token")


async def live_entry(ctx: AppContext, token: str, refuse: Callable[[str, str], AuthFailure]) -> AccessEntry:
    """The token's state, cached for at most a second; refused when unknown, revoked or expired.

    Shared by Bearer and DPoP tokens: ``refuse`` makes the failure in the caller's scheme.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise refuse("Malformed access token", "malformed")
    verifier = oauth_server(ctx).access_tokens
    token_hash = hash_token(token)
    entry = await verifier.entry(token_hash)
    if not entry.known:
        raise refuse("Invalid access token", "invalid_token")
    if not entry.live:
        raise refuse("The access token has been revoked", "revoked_token")
    if entry.expires_at <= time.time():
        raise refuse("The access token has expired", "expired_token")
    return entry


async def authenticate_bearer(ctx: AppContext, token: str) -> Principal:
    if not token:
        raise AuthFailure("Missing bearer token", "malformed", scheme="Bearer")
    entry = await live_entry(ctx, token, _refused)
    if entry.jkt:  # RFC 9449 section 7.2: a bound token is no bearer token
        raise _refused("This access token is DPoP-bound: use Authorization: DPoP with a proof", "dpop_bound")
    scopes = clamp(permissions(entry.scope), entry.role, has_creator=True)
    return Principal(entry.investor_id, "oauth", entry.grant_id, entry.client_id, scopes=scopes)
