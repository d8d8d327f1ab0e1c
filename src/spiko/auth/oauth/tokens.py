"""Grants, access and refresh tokens: storage under SHA-256, revocation, and per-request verification.

Verification cache: an access token's state (investor, grant, expiry, revocation) is cached in
this process under the SHA-256 of the token for at most one second. Any revocation made by this
process clears the cache after its transaction commits, so the revoking process refuses the token
at once; other workers stop accepting it when their entry expires, within that second. Nothing
is written to the database when a token is used.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import TokenMixin
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from spiko.auth.oauth.clients import Client
from spiko.auth.secrets import sha256_hex
from spiko.core.cache import TTLCache
from spiko.db.models.identity import User
from spiko.db.models.oauth import (
    OAuthAuthorizationCode,
    OAuthClient,
    OAuthConsent,
    OAuthGrant,
    OAuthToken,
)
from spiko.db.types import new_id, utcnow
from spiko.outbox import snapshots

if TYPE_CHECKING:
    from spiko.config import Settings

ACCESS_TOKEN_PREFIX = "spa_"  # noqa: S105 - public prefixes, not secrets
REFRESH_TOKEN_PREFIX = "spr_"  # noqa: S105
MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True)
class GrantUser:
    """The signed-in user an app acts for, and the investor they act for."""

    user_id: str
    investor_id: str
    auth_time: datetime | None = field(default=None, compare=False)  # when they signed in


def hash_token(value: str) -> str:
    return sha256_hex(value)


@dataclass
class StoredToken(TokenMixin):  # type: ignore[misc]
    """One row of ``oauth_tokens`` with its grant and client, as Authlib's endpoints see it."""

    id: str
    grant_id: str
    client_pk: str
    client_id: str
    user: GrantUser
    scope: str
    issued_at: datetime
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    access_revoked: bool
    refresh_rotated: bool
    grant_revoked: bool
    client_revoked: bool
    matched: str  # "access_token" or "refresh_token": which of the two was presented
    client: Client | None = None
    refresh_rotated_at: datetime | None = None  # when the refresh token was first exchanged
    dpop_jkt: str | None = None  # the DPoP key both tokens are bound to (RFC 9449)

    def check_client(self, client: Client) -> bool:
        return bool(client.pk == self.client_pk)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.access_expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        now = utcnow()
        if self.matched == "refresh_token":
            return self.refresh_expires_at is None or self.refresh_expires_at <= now
        return self.access_expires_at <= now

    def is_revoked(self) -> bool:
        if self.grant_revoked or self.client_revoked:
            return True
        return self.refresh_rotated if self.matched == "refresh_token" else self.access_revoked

    def get_user(self) -> GrantUser:
        return self.user

    def get_client(self) -> Client | None:
        return self.client


def _token_query() -> Any:
    return (
        select(
            OAuthToken,
            OAuthGrant.client_pk,
            OAuthGrant.user_id,
            OAuthGrant.investor_id,
            OAuthGrant.revoked_at,
            OAuthClient.client_id,
            OAuthClient.revoked_at,
        )
        .join(OAuthGrant, OAuthGrant.id == OAuthToken.grant_id)
        .join(OAuthClient, OAuthClient.id == OAuthGrant.client_pk)
    )


def find_token(session: Session, value: str, kind: str, *, lock: bool = False) -> StoredToken | None:
    """The token whose ``kind`` ("access_token" or "refresh_token") is ``value``, or None."""
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    column = OAuthToken.access_token_hash if kind == "access_token" else OAuthToken.refresh_token_hash
    query = _token_query().where(column == hash_token(value))
    if lock:
        query = query.with_for_update(of=OAuthToken)
    row = session.execute(query).first()
    if row is None:
        return None
    token, client_pk, user_id, investor_id, grant_revoked_at, client_id, client_revoked_at = row
    return StoredToken(
        id=token.id,
        grant_id=token.grant_id,
        client_pk=client_pk,
        client_id=client_id,
        user=GrantUser(user_id, investor_id),
        scope=token.scope,
        issued_at=token.issued_at,
        access_expires_at=token.access_expires_at,
        refresh_expires_at=token.refresh_expires_at,
        access_revoked=token.access_revoked_at is not None,
        refresh_rotated=token.refresh_rotated_at is not None,
        grant_revoked=grant_revoked_at is not None,
        client_revoked=client_revoked_at is not None,
        matched=kind,
        refresh_rotated_at=token.refresh_rotated_at,
        dpop_jkt=token.dpop_jkt,
    )


@dataclass
class RefreshableToken(StoredToken):
    """A refresh token read by the token endpoint, with what the refresh grant checks besides:
    its client's stored secret digest (to confirm a cached client, ``server.confirm_client``) and
    the investor its user acts for now (None: the user is gone)."""

    client_secret_hash: str | None = None
    user_investor_id: str | None = None


def find_refresh_token(session: Session, value: str) -> RefreshableToken | None:
    """``find_token(session, value, "refresh_token", lock=True)``, with the client's secret digest
    and the user's investor, in one statement built once (the refresh grant's one read)."""
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    row = session.connection().execute(_statements().refresh, {"hash": hash_token(value)}).first()
    if row is None:
        return None
    return RefreshableToken(
        id=row.id,
        grant_id=row.grant_id,
        client_pk=row.client_pk,
        client_id=row.client_id,
        user=GrantUser(row.user_id, row.investor_id),
        scope=row.scope,
        issued_at=row.issued_at,
        access_expires_at=row.access_expires_at,
        refresh_expires_at=row.refresh_expires_at,
        access_revoked=row.access_revoked_at is not None,
        refresh_rotated=row.refresh_rotated_at is not None,
        grant_revoked=row.grant_revoked_at is not None,
        client_revoked=row.client_revoked_at is not None,
        matched="refresh_token",
        refresh_rotated_at=row.refresh_rotated_at,
        dpop_jkt=row.dpop_jkt,
        client_secret_hash=row.client_secret_hash,
        user_investor_id=row.user_investor_id,
    )


@dataclass(frozen=True)
class _Statements:
    """The token endpoint's statements on the tables themselves (not through the ORM's unit of
    work: nothing is loaded into the session, nothing is flushed), built once."""

    refresh: Any  # the refresh token, its grant, client and user, locked
    code: Any  # the authorization code, its client's state and user, locked
    use_code: Any  # mark a code used, with the grant it gave
    insert_grant: Any
    insert_token: Any
    rotate: Any  # mark_refresh_rotated


@functools.cache
def _statements() -> _Statements:
    tokens_t = _table(OAuthToken)
    grants_t = _table(OAuthGrant)
    clients_t = _table(OAuthClient)
    codes_t = _table(OAuthAuthorizationCode)
    users_t = _table(User)
    refresh = (
        select(
            tokens_t.c.id,
            tokens_t.c.grant_id,
            tokens_t.c.scope,
            tokens_t.c.issued_at,
            tokens_t.c.access_expires_at,
            tokens_t.c.refresh_expires_at,
            tokens_t.c.access_revoked_at,
            tokens_t.c.refresh_rotated_at,
            tokens_t.c.dpop_jkt,
            grants_t.c.client_pk,
            grants_t.c.user_id,
            grants_t.c.investor_id,
            grants_t.c.revoked_at.label("grant_revoked_at"),
            clients_t.c.client_id,
            clients_t.c.revoked_at.label("client_revoked_at"),
            clients_t.c.secret_hash.label("client_secret_hash"),
            users_t.c.investor_id.label("user_investor_id"),
        )
        .select_from(tokens_t)
        .join(grants_t, grants_t.c.id == tokens_t.c.grant_id)
        .join(clients_t, clients_t.c.id == grants_t.c.client_pk)
        .outerjoin(users_t, users_t.c.id == grants_t.c.user_id)
        .where(tokens_t.c.refresh_token_hash == bindparam("hash"))
        .with_for_update(of=tokens_t)
    )
    code = (
        select(
            *codes_t.c,
            clients_t.c.revoked_at.label("client_revoked_at"),
            clients_t.c.secret_hash.label("client_secret_hash"),
            users_t.c.investor_id.label("user_investor_id"),
        )
        .select_from(codes_t)
        .join(clients_t, clients_t.c.id == codes_t.c.client_pk)
        .outerjoin(users_t, users_t.c.id == codes_t.c.user_id)
        .where(codes_t.c.code_hash == bindparam("hash"))
        .with_for_update(of=codes_t)
    )
    use_code = (
        update(codes_t)
        .where(codes_t.c.id == bindparam("code_id"))
        .values(used_at=bindparam("used_at"), grant_id=bindparam("grant_id"))
    )
    insert_grant = insert(grants_t).values(
        id=bindparam("id"),
        client_pk=bindparam("client_pk"),
        investor_id=bindparam("investor_id"),
        user_id=bindparam("user_id"),
        scope=bindparam("scope"),
        created_at=bindparam("created_at"),
    )
    insert_token = insert(tokens_t).values(
        id=bindparam("id"),
        grant_id=bindparam("grant_id"),
        access_token_hash=bindparam("access_token_hash"),
        refresh_token_hash=bindparam("refresh_token_hash"),
        scope=bindparam("scope"),
        issued_at=bindparam("issued_at"),
        access_expires_at=bindparam("access_expires_at"),
        refresh_expires_at=bindparam("refresh_expires_at"),
        dpop_jkt=bindparam("dpop_jkt"),
    )
    rotate = (
        update(tokens_t)
        .where(tokens_t.c.id == bindparam("token_id"), tokens_t.c.refresh_rotated_at.is_(None))
        .values(refresh_rotated_at=bindparam("now"))
    )
    return _Statements(refresh, code, use_code, insert_grant, insert_token, rotate)


def _table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def find_code(session: Session, code_hash: str) -> Any:
    """The authorization code stored under ``code_hash`` (locked until the transaction ends),
    with its client's ``client_revoked_at`` and ``client_secret_hash`` and its user's investor
    (``user_investor_id``, None when the user is gone): one row, or None."""
    return session.connection().execute(_statements().code, {"hash": code_hash}).first()


def mark_code_used(session: Session, code_id: str, grant_id: str | None) -> None:
    session.connection().execute(
        _statements().use_code, {"code_id": code_id, "used_at": utcnow(), "grant_id": grant_id}
    )


def create_grant(session: Session, *, client: Client, user: GrantUser, scope: str) -> str:
    grant_id = new_id()
    session.connection().execute(
        _statements().insert_grant,
        {
            "id": grant_id,
            "client_pk": client.pk,
            "investor_id": user.investor_id,
            "user_id": user.user_id,
            "scope": scope,
            "created_at": utcnow(),
        },
    )
    return grant_id


def store_token(
    session: Session, settings: Settings, *, grant_id: str, token: dict[str, Any], dpop_jkt: str | None = None
) -> None:
    now = utcnow()
    refresh = token.get("refresh_token")
    refresh_ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)
    session.connection().execute(
        _statements().insert_token,
        {
            "id": new_id(),
            "grant_id": grant_id,
            "access_token_hash": hash_token(token["access_token"]),
            "refresh_token_hash": hash_token(refresh) if refresh else None,
            "scope": token.get("scope") or "",
            "issued_at": now,
            "access_expires_at": now + timedelta(seconds=int(token["expires_in"])),
            "refresh_expires_at": now + refresh_ttl if refresh else None,
            "dpop_jkt": dpop_jkt,
        },
    )


def revoke_grant(session: Session, grant_id: str, reason: str) -> None:
    session.execute(
        update(OAuthGrant)
        .where(OAuthGrant.id == grant_id, OAuthGrant.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def revoke_access_token(session: Session, token_id: str) -> None:
    session.execute(
        update(OAuthToken)
        .where(OAuthToken.id == token_id, OAuthToken.access_revoked_at.is_(None))
        .values(access_revoked_at=utcnow())
    )


def mark_refresh_rotated(session: Session, token_id: str) -> None:
    """Record the first exchange only: a reuse within the grace period does not extend it."""
    session.connection().execute(_statements().rotate, {"token_id": token_id, "now": utcnow()})


def load_user(session: Session, user_id: str) -> GrantUser | None:
    row = session.execute(select(User.id, User.investor_id).where(User.id == user_id)).first()
    return GrantUser(row[0], row[1]) if row else None


def revoke_app_access(session: Session, *, investor_id: str, client_pk: str) -> int:
    """Withdraw an investor's consent to an app and revoke every grant it holds for that investor.

    Codes not yet redeemed go first: one redeemed meanwhile has its grant committed by the time
    the grants are revoked (a code being redeemed is locked until then), and none redeemed later
    can bring the app back.
    """
    now = utcnow()
    session.execute(
        delete(OAuthAuthorizationCode).where(
            OAuthAuthorizationCode.investor_id == investor_id,
            OAuthAuthorizationCode.client_pk == client_pk,
            OAuthAuthorizationCode.used_at.is_(None),
        )
    )
    session.execute(
        update(OAuthConsent)
        .where(
            OAuthConsent.investor_id == investor_id,
            OAuthConsent.client_pk == client_pk,
            OAuthConsent.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    result = session.execute(
        update(OAuthGrant)
        .where(
            OAuthGrant.investor_id == investor_id,
            OAuthGrant.client_pk == client_pk,
            OAuthGrant.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoked_reason="revoked_by_investor")
    )
    client = session.get(OAuthClient, client_pk)
    if client is not None:
        name = client.name
        snapshots.app(session, "revoked", investor_id, client_id=client.client_id, name=name, scope=None)
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class AccessEntry:
    """What a Bearer request needs to know about its token, cached for at most a second."""

    investor_id: str
    grant_id: str
    client_id: str
    scope: str
    expires_at: float  # epoch seconds
    live: bool  # not revoked, grant and client not revoked
    known: bool
    jkt: str | None = None  # bound to this DPoP key: usable only with a proof of it
    role: str | None = None  # the role of the member who authorized the app, now (spiko.auth.roles)
    user_id: str = ""  # the grant's user (``sub`` in introspection)
    issued_at: float = 0.0  # epoch seconds


UNKNOWN = AccessEntry("", "", "", "", 0.0, False, False)


class AccessTokenVerifier:
    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        self._cache: TTLCache[AccessEntry] = TTLCache(min(1.0, ctx.settings.api_key_cache_ttl_seconds))
        ctx.invalidations.on("oauth_tokens", lambda _key: self._cache.clear(), self._cache.clear)

    def cached(self, token_hash: str) -> AccessEntry | None:
        return self._cache.get(token_hash)

    async def entry(self, token_hash: str) -> AccessEntry:
        """From the cache on the event loop, else one read in the thread pool shared by every
        request for the same token meanwhile (when an entry expires under load, one query
        refills it instead of one per waiting request)."""
        return await self._cache.get_or_load(token_hash, lambda: self.read(token_hash))

    def read(self, token_hash: str) -> AccessEntry:
        """The token's state in the database (``entry`` caches it, found or not).

        The entry's one-second life counts from before the read, and a ``clear`` made while the
        read was in flight keeps it out of the cache (see ``TTLCache.get_or_load``).
        """
        with self._ctx.transaction(write=False) as session:
            row = session.execute(
                select(
                    OAuthToken.access_expires_at,
                    OAuthToken.access_revoked_at,
                    OAuthToken.scope,
                    OAuthGrant.id,
                    OAuthGrant.investor_id,
                    OAuthGrant.revoked_at,
                    OAuthClient.client_id,
                    OAuthClient.revoked_at,
                    OAuthToken.dpop_jkt,
                    User.role,
                    OAuthGrant.user_id,
                    OAuthToken.issued_at,
                )
                .join(OAuthGrant, OAuthGrant.id == OAuthToken.grant_id)
                .join(OAuthClient, OAuthClient.id == OAuthGrant.client_pk)
                .outerjoin(User, User.id == OAuthGrant.user_id)
                .where(OAuthToken.access_token_hash == token_hash)
            ).first()
        if row is None:
            entry = UNKNOWN
        else:
            expires, revoked, scope, grant_id, investor_id, grant_revoked, client_id, client_revoked = row[:8]
            live = revoked is None and grant_revoked is None and client_revoked is None
            expires_at = expires.timestamp()
            entry = AccessEntry(
                investor_id,
                grant_id,
                client_id,
                scope,
                expires_at,
                live,
                True,
                row[8],
                role=row[9],
                user_id=row[10],
                issued_at=row[11].timestamp(),
            )
        return entry

    def clear(self) -> None:
        """Forget every cached token: called after this process revokes anything.

        Here at once, and in every server process listening through Redis.
        """
        self._ctx.invalidations.publish("oauth_tokens")
