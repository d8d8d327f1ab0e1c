"""Registered third-party apps (RFC 6749 section 2): registration, listing, revocation, and the
Authlib client model the grants check requests against."""

from __future__ import annotations

import contextlib
import ipaddress
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.auth.oauth.fapi import ClientPolicy
from spiko.auth.oauth.registration import ClientOptions, describe_options
from spiko.auth.oauth.scopes import SUPPORTED_SCOPES
from spiko.auth.secrets import constant_time_equals, random_token, sha256_hex
from spiko.core.cache import TTLCache
from spiko.core.text import is_clean
from spiko.db.models.oauth import OAuthClient
from spiko.db.types import utcnow
from spiko.errors import BadRequestError, NotFoundError

CLIENT_ID_PREFIX = "spo_"
SECRET_PREFIX = "sps_"  # noqa: S105 - a public prefix, not a secret
GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
# Which client authentication each kind of client may use, per endpoint (RFC 7591 names).
CONFIDENTIAL_AUTH_METHODS = frozenset({"client_secret_basic", "client_secret_post"})
PUBLIC_AUTH_METHODS = frozenset({"none"})


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str | None


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    """A snapshot of a live ``oauth_clients`` row, as Authlib's grants and endpoints see it."""

    pk: str
    client_id: str
    name: str
    secret_hash: str | None
    is_public: bool
    redirect_uris: list[str]
    client_metadata: dict[str, Any] = field(default_factory=dict)
    policy: ClientPolicy = field(default_factory=ClientPolicy)

    @classmethod
    def from_row(cls, row: OAuthClient) -> Client:
        uris = json.loads(row.redirect_uris)
        # RP-initiated logout may send the user back to any registered redirect URI.
        return cls(
            row.id,
            row.client_id,
            row.name,
            row.secret_hash,
            row.is_public,
            uris,
            {"post_logout_redirect_uris": uris},
            ClientPolicy.from_row(row),
        )

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Only an unambiguous registration may stand in for a missing redirect_uri.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed: str = list_to_scope([s for s in scope_to_list(scope) if s in SUPPORTED_SCOPES])
        return allowed

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact, character-for-character comparison (RFC 9700 section 4.1.1).
        return any(constant_time_equals(redirect_uri, uri) for uri in self.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_hash is None:
            return False
        return constant_time_equals(sha256_hex(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in self.policy.auth_methods(is_public=self.is_public, has_secret=bool(self.secret_hash))

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


def validate_redirect_uri(uri: str) -> str:
    """Absolute, without fragment; plain http only to a loopback address (RFC 8252 section 7.3)."""
    if not is_clean(uri):  # urlsplit would silently drop CR, LF and tab
        raise BadRequestError(f"a redirect URI must not contain control characters: {uri!r}")
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise BadRequestError(f"invalid redirect URI: {uri!r}") from None
    if not parts.scheme or parts.fragment or "#" in uri or len(uri) > 2000:
        raise BadRequestError(f"a redirect URI must be absolute and have no fragment: {uri!r}")
    if parts.scheme == "http":
        host = parts.hostname or ""
        loopback = host == "localhost"
        with contextlib.suppress(ValueError):
            loopback = loopback or ipaddress.ip_address(host).is_loopback
        if not loopback:
            raise BadRequestError(f"plain http redirect URIs are only allowed on loopback: {uri!r}")
    elif parts.scheme == "https":
        if not parts.hostname:
            raise BadRequestError(f"invalid redirect URI: {uri!r}")
    elif "." not in parts.scheme:
        # Native apps use a private-use scheme in reverse-domain form (RFC 8252 section 7.1).
        raise BadRequestError(f"use https, loopback http or a reverse-domain private scheme: {uri!r}")
    return uri


def register_client(
    session: Session,
    *,
    name: str,
    redirect_uris: list[str],
    public: bool,
    options: ClientOptions | None = None,
) -> RegisteredClient:
    name = name.strip()
    if not name or len(name) > 100 or not is_clean(name):
        raise BadRequestError("a client needs a name of 1 to 100 characters, without control characters")
    if not redirect_uris:
        raise BadRequestError("a client needs at least one redirect URI")
    uris = list(dict.fromkeys(validate_redirect_uri(uri) for uri in redirect_uris))
    options = (options or ClientOptions()).checked(public=public)
    client_id = CLIENT_ID_PREFIX + random_token(12)
    # A client authenticating with its own keys (private_key_jwt) is given no secret.
    secret = None if public or options.has_keys else SECRET_PREFIX + random_token(32)  # 256 bits
    session.add(
        OAuthClient(
            client_id=client_id,
            name=name,
            secret_hash=sha256_hex(secret) if secret else None,
            is_public=public,
            redirect_uris=json.dumps(uris),
            **options.columns(),
        )
    )
    session.flush()
    return RegisteredClient(client_id, secret)


def find_live_client(session: Session, client_id: str) -> Client | None:
    if not client_id or len(client_id) > 64:
        return None
    row = session.scalars(
        select(OAuthClient).where(OAuthClient.client_id == client_id, OAuthClient.revoked_at.is_(None))
    ).first()
    return Client.from_row(row) if row else None


class LiveClients:
    """Live clients by ``client_id``, cached in this process for at most a second (as tokens are).

    Read by the introspection fast path (``spiko.auth.oauth.introspection``) and the token
    endpoint, which confirms a client it took from here against the client's row in its own
    transaction before it answers (``AuthorizationServer.confirm_client``: a revocation is exact
    there). The other endpoints read the client in their own transaction. Cleared with the token
    cache on every revocation (topic ``oauth_tokens``, which ``spiko oauth-clients revoke``
    publishes).
    """

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        # One-element tuples, so that "unknown or revoked" (None) is cached too.
        self._cache: TTLCache[tuple[Client | None]] = TTLCache(
            min(1.0, ctx.settings.api_key_cache_ttl_seconds)
        )
        ctx.invalidations.on("oauth_tokens", lambda _key: self._cache.clear(), self._cache.clear)

    def cached(self, client_id: str) -> tuple[Client | None] | None:
        """None when not cached; else the client, or None when it is unknown or revoked."""
        return self._cache.get(client_id)

    async def get(self, client_id: str) -> Client | None:
        """From the cache, else one read in the thread pool shared by concurrent requests."""
        if len(client_id) > 64:
            return None
        return (await self._cache.get_or_load(client_id, lambda: (self._read(client_id),)))[0]

    def load(self, session: Session, client_id: str) -> Client | None:
        """The client read in ``session`` now, stored for the next requests."""
        ticket = self._cache.ticket()
        client = find_live_client(session, client_id)
        if len(client_id) <= 64:
            self._cache.set_if_current(client_id, (client,), ticket)
        return client

    def forget(self, client_id: str) -> None:
        self._cache.invalidate(client_id)

    def _read(self, client_id: str) -> Client | None:
        with self._ctx.transaction(write=False) as session:
            return find_live_client(session, client_id)


def list_clients(session: Session, *, include_revoked: bool = False) -> list[dict[str, Any]]:
    query = select(OAuthClient).order_by(OAuthClient.created_at)
    if not include_revoked:
        query = query.where(OAuthClient.revoked_at.is_(None))
    return [_describe(row) for row in session.scalars(query)]


def _describe(row: OAuthClient) -> dict[str, Any]:
    created: datetime = row.created_at
    return {
        "client_id": row.client_id,
        "name": row.name,
        "public": row.is_public,
        "redirectUris": json.loads(row.redirect_uris),
        **describe_options(row),
        "createdAt": created,
        "revokedAt": row.revoked_at,
    }


def revoke_client(session: Session, client_id: str) -> None:
    """Refuse the client from now on; its tokens stop working with it (the Bearer check joins it)."""
    row = session.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).first()
    if row is None:
        raise NotFoundError(f"no OAuth client {client_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
