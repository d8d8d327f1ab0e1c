"""The grants this server supports, as extensions of Authlib's: authorization code (RFC 6749
section 4.1) with PKCE (RFC 7636) and OpenID Connect ID tokens, and refresh tokens (section 6)
that rotate, with reuse detection."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    grants,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core import grants as oidc_grants
from authlib.oidc.core.models import AuthorizationCodeMixin
from sqlalchemy import select

from spiko.auth import scopes as api_scopes
from spiko.auth.oauth import fapi, tokens
from spiko.auth.oauth.keys import id_token_lifetime
from spiko.auth.oauth.unit import db, note_revocation
from spiko.db.models.oauth import OAuthAuthorizationCode
from spiko.db.types import utcnow

if TYPE_CHECKING:
    from spiko.auth.oauth.server import AuthorizationServer

MIN_STATE_LENGTH = 8
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]


class InvalidStateError(OAuth2Error):  # type: ignore[misc]
    """``state`` is required and must carry enough randomness to protect the client against CSRF."""

    error = "invalid_state"


@dataclass
class StoredCode(AuthorizationCodeMixin):  # type: ignore[misc]
    """An authorization code as ``tokens.find_code`` reads it: its columns, its client's state
    and its user's investor."""

    row: Any

    @property
    def code_challenge(self) -> str | None:
        value: str | None = self.row.code_challenge
        return value

    @property
    def code_challenge_method(self) -> str | None:
        value: str | None = self.row.code_challenge_method
        return value

    def get_redirect_uri(self) -> str | None:
        value: str | None = self.row.redirect_uri
        return value

    def get_scope(self) -> str:
        value: str = self.row.scope
        return value

    def get_nonce(self) -> str | None:
        value: str | None = self.row.nonce
        return value

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    server: AuthorizationServer

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        state = self.request.payload.state
        response_mode = self.request.payload.data.get("response_mode")
        if response_mode is not None and response_mode != "query":
            # Answering in another mode than the client asked for would hand it an answer it
            # does not read (or read one it did not expect): refuse what is not implemented.
            raise InvalidRequestError(
                "Unsupported 'response_mode': only 'query' is supported.",
                redirect_uri=redirect_uri,
                state=state,
            )
        if not state or len(state) < MIN_STATE_LENGTH:
            raise InvalidStateError(
                f"'state' is required and must be at least {MIN_STATE_LENGTH} characters long.",
                redirect_uri=redirect_uri,
                state=state,
            )
        requires_par = self.server.settings.require_pushed_authorization_requests
        fapi.check_authorization_request(self.request, redirect_uri, server_requires_par=requires_par)
        return redirect_uri

    def save_authorization_code(self, code: str, request: Any) -> None:
        user = request.user
        data = request.payload.data
        now = utcnow()
        db().add(
            OAuthAuthorizationCode(
                code_hash=tokens.hash_token(code),
                client_pk=request.client.pk,
                investor_id=user.investor_id,
                user_id=user.user_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope or "",
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                dpop_jkt=data.get("dpop_jkt"),  # RFC 9449 section 10: redeemed only with this key
                auth_time=getattr(user, "auth_time", None) or now,
                expires_at=now + timedelta(seconds=self.server.settings.authorization_code_ttl_seconds),
            )
        )
        db().flush()

    def query_authorization_code(self, code: str, client: Any) -> StoredCode | None:
        if not code or len(code) > tokens.MAX_TOKEN_LENGTH:
            return None
        session = db()
        row = tokens.find_code(session, tokens.hash_token(code))
        if row is None or row.client_pk != client.pk:
            return None
        # A client taken from the cache is confirmed by this read, before anything is written.
        self.server.confirm_client(client, row.client_revoked_at is None, row.client_secret_hash)
        if row.used_at is not None:
            # RFC 6749 section 4.1.2: a replayed code may be in an attacker's hands; so may its tokens.
            if row.grant_id:
                tokens.revoke_grant(session, row.grant_id, "code_replayed")
                note_revocation()
            raise InvalidGrantError(
                "The authorization code was already used; the tokens issued from it are revoked."
            )
        if row.expires_at <= utcnow():
            raise InvalidGrantError("The authorization code has expired.")
        return StoredCode(row)

    def delete_authorization_code(self, authorization_code: StoredCode) -> None:
        # Kept, marked used, so that a replay is recognized and can revoke what the code gave.
        grant_id = getattr(self.request, "grant_id", None)
        tokens.mark_code_used(db(), authorization_code.row.id, grant_id)

    def authenticate_user(self, authorization_code: StoredCode) -> tokens.GrantUser | None:
        row = authorization_code.row  # the user's investor was read with the code
        if row.user_investor_id is None or row.user_investor_id != row.investor_id:
            return None
        return tokens.GrantUser(row.user_id, row.user_investor_id)


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: AuthorizationServer  # rotation: every refresh returns a new refresh token

    def authenticate_refresh_token(self, refresh_token: str) -> tokens.StoredToken | None:
        session = db()
        token = tokens.find_refresh_token(session, refresh_token)
        client = self.request.client
        if token is not None and client is not None and token.client_pk == client.pk:
            # A client taken from the cache is confirmed by this read, before anything is written.
            self.server.confirm_client(client, not token.client_revoked, token.client_secret_hash)
        if token is None or token.grant_revoked or token.client_revoked:
            return None
        if token.refresh_rotated and not self._within_reuse_grace(token):
            # A rotated-out refresh token came back: one of its two holders is not the client.
            tokens.revoke_grant(session, token.grant_id, "refresh_token_reused")
            note_revocation()
            raise InvalidGrantError("The refresh token was already used; the whole grant is revoked.")
        if token.is_expired():
            raise InvalidGrantError("The refresh token has expired.")
        return token

    def _validate_token_scope(self, token: tokens.StoredToken) -> None:
        """RFC 6749 section 6: a refresh may ask for less than the grant, never for more.

        Compared by what the scopes reach, not by name: ``read`` includes ``orders:read``, and
        dropping every investor-API scope of a narrowed grant would be asking for full access.
        """
        requested = self.request.payload.scope
        if requested and not api_scopes.covers(token.get_scope(), requested):
            raise InvalidScopeError("The requested scope reaches more than the grant allows.")

    def _within_reuse_grace(self, token: tokens.StoredToken) -> bool:
        """A client whose refresh answer was lost may present the same token again, briefly.

        Only when the operator set ``SPIKO_REFRESH_TOKEN_REUSE_GRACE_SECONDS`` (0 by default):
        within that many seconds of the token's *first* exchange it is exchanged again for a new
        pair, and the grant stays alive. After it, a reuse revokes the grant as always.
        """
        grace = self.server.settings.refresh_token_reuse_grace_seconds
        if grace <= 0 or token.refresh_rotated_at is None:
            return False
        return utcnow() - token.refresh_rotated_at <= timedelta(seconds=grace)

    def authenticate_user(self, refresh_token: tokens.StoredToken) -> tokens.GrantUser | None:
        if isinstance(refresh_token, tokens.RefreshableToken):  # the user's investor was read with it
            investor_id = refresh_token.user_investor_id
            if investor_id is None or investor_id != refresh_token.user.investor_id:
                return None
            return tokens.GrantUser(refresh_token.user.user_id, investor_id)
        user = tokens.load_user(db(), refresh_token.user.user_id)
        if user is None or user.investor_id != refresh_token.user.investor_id:
            return None
        return user

    def revoke_old_credential(self, refresh_token: tokens.StoredToken) -> None:
        tokens.mark_refresh_rotated(db(), refresh_token.id)


class ProofKeyForCodeExchange(CodeChallenge):  # type: ignore[misc]
    """RFC 7636; a public client must use it, with ``S256`` (RFC 9700 section 2.1.1)."""

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        super().validate_code_challenge(grant, redirect_uri)
        client = grant.request.client
        if client is None or not client.is_public:
            return
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Public clients must send a 'code_challenge' (PKCE with S256).")
        # An omitted method means ``plain`` (RFC 7636 section 4.3): refused alike.
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Public clients must use code_challenge_method=S256.")


class OpenIDCode(oidc_grants.OpenIDCode):  # type: ignore[misc]
    """OpenID Connect Core 1.0 section 3.1: an ID token when ``openid`` was granted, signed with
    the client's algorithm (RS256 by default, ES256 or PS256 for FAPI 2.0 clients)."""

    def __init__(self, server: AuthorizationServer) -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        client = request.client
        query = select(OAuthAuthorizationCode.id).where(OAuthAuthorizationCode.nonce == nonce)
        if client is not None:
            query = query.where(OAuthAuthorizationCode.client_pk == client.pk)
        return db().scalar(query.limit(1)) is not None

    def resolve_client_private_key(self, client: Any) -> Any:
        return self.server.keys.signing_key(db(), self.get_client_algorithm(client))

    def get_client_algorithm(self, client: Any) -> str:
        return fapi.policy_of(client).id_token_algorithm  # as registered, or the profile's default

    def get_encode_header(self, client: Any) -> dict[str, str]:
        algorithm = self.get_client_algorithm(client)
        kid = self.server.keys.signing_key(db(), algorithm).kid or ""
        return {"alg": algorithm, "kid": kid, "typ": "JWT"}

    def get_client_claims(self, client: Any) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.server.settings.issuer,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + id_token_lifetime(self.server.settings),
        }

    def generate_user_info(self, user: tokens.GrantUser, scope: str) -> UserInfo:
        return UserInfo(sub=user.user_id)
