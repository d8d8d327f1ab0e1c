"""Second factors of the users who sign in: TOTP, passkeys, recovery codes; and the operator's rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base, uuid_pk
from spiko.db.types import UTCDateTime, utcnow


class TotpFactor(Base):
    """A user's authenticator app (RFC 6238). The shared secret must be readable by the server to
    check codes, so it is stored encrypted (AES-GCM under a subkey of SPIKO_SECRET_KEY), never clear."""

    __tablename__ = "totp_factors"

    id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret_ciphertext: Mapped[str] = mapped_column(String(200))
    # NULL while being set up: the factor counts once a first code from the app confirms it.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The time step of the last code accepted: a code (or an earlier one) is never accepted twice.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Passkey(Base):
    """A WebAuthn credential registered by a user; the authenticator keeps the private key."""

    __tablename__ = "passkeys"

    id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(LargeBinary())  # COSE
    sign_count: Mapped[int] = mapped_column(BigInteger(), default=0)
    name: Mapped[str] = mapped_column(String(100))
    transports: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RecoveryCode(Base):
    """A single-use recovery code; only a keyed hash of it is stored."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash", name="uq_recovery_codes_user_code"),)

    id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UsedWebAuthnChallenge(Base):
    """A WebAuthn challenge already answered (challenges are signed, not stored when issued); kept
    until it would have expired anyway, so each is accepted once."""

    __tablename__ = "webauthn_used_challenges"

    challenge_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SecondFactorPolicy(Base):
    """An operator's rule for an investor: its users must sign in with a second factor."""

    __tablename__ = "second_factor_policies"

    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"), primary_key=True)
    required: Mapped[bool] = mapped_column(Boolean(), default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
