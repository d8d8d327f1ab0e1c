"""Authentication of /v1 requests: who the caller is, from a Basic API key, a Bearer or a DPoP token."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from spiko.auth.bearer import authenticate_bearer
from spiko.auth.credentials import AuthFailure, Principal
from spiko.auth.dpop_bearer import authenticate_dpop
from spiko.auth.roles import clamp
from spiko.auth.scopes import permissions
from spiko.core.text import is_clean

if TYPE_CHECKING:
    from spiko.context import AppContext

MAX_AUTHORIZATION_LENGTH = 4096


async def authenticate(ctx: AppContext, authorization: str | None, request: Any = None) -> Principal:
    if not authorization:
        raise AuthFailure("Missing Authorization header: use Basic (API key) or Bearer", "missing")
    if len(authorization) > MAX_AUTHORIZATION_LENGTH:
        raise AuthFailure("Authorization header is too long", "malformed")
    scheme, _, credentials = authorization.strip().partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "basic":
        return await _authenticate_api_key(ctx, credentials)
    if scheme == "bearer":
        return await authenticate_bearer(ctx, credentials)
    if scheme == "dpop":  # RFC 9449: a DPoP-bound token with its proof, which needs the request
        return await authenticate_dpop(ctx, credentials, request)
    raise AuthFailure("Unsupported authorization scheme: use Basic or Bearer", "malformed")


def _decode_basic(credentials: str) -> tuple[str, str]:
    try:
        raw = base64.b64decode(credentials.encode("ascii"), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeError):
        raise AuthFailure("Malformed Basic credentials", "malformed") from None
    client_id, colon, secret = text.partition(":")
    if not colon or not client_id or not secret or not is_clean(text):
        raise AuthFailure("Malformed Basic credentials: expected client_id:client_secret", "malformed")
    return client_id, secret


async def _authenticate_api_key(ctx: AppContext, credentials: str) -> Principal:
    verifier = ctx.api_keys
    digest = verifier.credentials_digest(credentials)
    principal = verifier.verified(digest)  # the same credentials, the same key entry: no new check
    if principal is None:
        client_id, secret = _decode_basic(credentials)
        entry = await verifier.lookup(client_id)
        if not verifier.check(entry, secret):
            raise AuthFailure("Invalid API key credentials", "invalid_credentials")
        # A key stored with scopes is narrowed even if none of them is known any more: to nothing.
        scopes = None if entry.scopes is None else permissions(entry.scopes) or frozenset()
        # Never beyond what its creating member's role allows now (spiko.auth.roles).
        scopes = clamp(scopes, entry.creator_role, has_creator=entry.has_creator)
        principal = Principal(entry.investor_id, "api_key", entry.key_id, client_id, scopes=scopes)
        verifier.remember(digest, client_id, entry, principal)
    verifier.record_use(principal.credential_id)
    return principal
