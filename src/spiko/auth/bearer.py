"""Bearer access tokens on /v1 (RFC 6750), issued by the OAuth 2.0 server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spiko.auth.principal import AuthFailure, Principal

if TYPE_CHECKING:
    from spiko.context import AppContext


async def authenticate_bearer(ctx: AppContext, token: str) -> Principal:
    raise AuthFailure("Bearer tokens are not accepted by this server", "invalid_token", scheme="Bearer")
