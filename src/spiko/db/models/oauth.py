"""Tables of the OAuth 2.0 authorization server: clients, consents, grants, codes, tokens, signing keys.

Codes, access tokens, refresh tokens and client secrets are stored only as SHA-256 digests of
high-entropy random values; the private half of a signing key only encrypted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base, uuid_pk
from spiko.db.types import UTCDateTime, utcnow


class OAuthClient(Base):
    """A third-party app registered by an operator; public clients have no secret and must use PKCE."""

    __tablename__ = "oauth_clients"

    id: Mapped[str] = uuid_pk()
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    redirect_uris: Mapped[str] = mapped_column(Text)  # JSON array, matched character for character
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # FAPI 2.0 and its parts (see spiko.auth.oauth.fapi): keys for private_key_jwt, PAR, DPoP.
    jwks: Mapped[str | None] = mapped_column(Text, nullable=True)  # public JWK Set, JSON
    jwks_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    profile: Mapped[str | None] = mapped_column(String(16), nullable=True)  # "fapi2" or None
    require_par: Mapped[bool] = mapped_column(Boolean, default=False)
    dpop_bound: Mapped[bool] = mapped_column(Boolean, default=False)
    # RS256, PS256 or ES256; None: the profile's default (spiko.auth.oauth.fapi).
    id_token_signed_response_alg: Mapped[str | None] = mapped_column(String(8), nullable=True)


class OAuthConsent(Base):
    """What an investor allowed an app to do; remembered so a returning investor is not asked again."""

    __tablename__ = "oauth_consents"
    __table_args__ = (Index("ix_oauth_consents_investor_client", "investor_id", "client_pk", "revoked_at"),)

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_pk: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(200))  # sorted, space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OAuthGrant(Base):
    """Everything issued from one authorization code: its access and refresh tokens live and die together."""

    __tablename__ = "oauth_grants"
    __table_args__ = (Index("ix_oauth_grants_investor_client", "investor_id", "client_pk", "revoked_at"),)

    id: Mapped[str] = uuid_pk()
    client_pk: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)


class OAuthAuthorizationCode(Base):
    __tablename__ = "oauth_authorization_codes"
    __table_args__ = (Index("ix_oauth_authorization_codes_client_nonce", "client_pk", "nonce"),)

    id: Mapped[str] = uuid_pk()
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str | None] = mapped_column(Text, nullable=True)  # as sent in the request
    scope: Mapped[str] = mapped_column(String(200))
    nonce: Mapped[str | None] = mapped_column(String(255), nullable=True)
    code_challenge: Mapped[str | None] = mapped_column(String(128), nullable=True)
    code_challenge_method: Mapped[str | None] = mapped_column(String(10), nullable=True)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    grant_id: Mapped[str | None] = mapped_column(
        ForeignKey("oauth_grants.id", ondelete="SET NULL"), nullable=True
    )
    dpop_jkt: Mapped[str | None] = mapped_column(String(64), nullable=True)  # RFC 9449 section 10


class OAuthToken(Base):
    """One token response: an access token and, when offline access was granted, a refresh token."""

    __tablename__ = "oauth_tokens"

    id: Mapped[str] = uuid_pk()
    grant_id: Mapped[str] = mapped_column(ForeignKey("oauth_grants.id", ondelete="CASCADE"), index=True)
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    scope: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    access_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    refresh_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    dpop_jkt: Mapped[str | None] = mapped_column(String(64), nullable=True)  # both tokens bound to it


class OAuthSigningKey(Base):
    """An RSA key signing ID tokens; the private JWK is stored encrypted under a key derived from the
    server secret. A retired key signs nothing but stays published until its tokens have expired."""

    __tablename__ = "oauth_signing_keys"

    id: Mapped[str] = uuid_pk()
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    algorithm: Mapped[str] = mapped_column(String(16), default="RS256")
    public_jwk: Mapped[str] = mapped_column(Text)
    private_jwk_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
