"""Investors, the users who sign in for them, their web sessions and their API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spiko.db.base import Base, uuid_pk
from spiko.db.types import UTCDateTime, utcnow


class Investor(Base):
    __tablename__ = "investors"

    id: Mapped[str] = uuid_pk()
    type: Mapped[str] = mapped_column(String(16))  # "individual" | "organization"
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    zip_code: Mapped[str] = mapped_column(String(32), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(2), default="FR")
    registration_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    legal_entity_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tax_identification_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tax_information_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="investor")


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # owner | admin | trader | viewer (spiko.auth.roles); every user from before roles is an owner.
    role: Mapped[str] = mapped_column(String(16), default="owner", server_default="owner")
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    investor: Mapped[Investor] = relationship(back_populates="users")


class WebSession(Base):
    """A signed-in browser; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = uuid_pk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # "signed_in"; or, between the password and the end of sign-in, "second_factor" (a code or a
    # passkey is asked) or "enroll" (the operator requires a factor the user has yet to set up).
    stage: Mapped[str] = mapped_column(String(16), default="signed_in", server_default="signed_in")
    # When the user last proved who they are (password, second factor): step-up asks again after a while.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    address: Mapped[str] = mapped_column(String(64), default="", server_default="")
    device: Mapped[str] = mapped_column(String(200), default="", server_default="")


class ApiKey(Base):
    """An investor's API key; only a keyed hash of its secret is stored."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_investor_live", "investor_id", "revoked_at"),)

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Investor-API scopes, space-separated (spiko.auth.scopes); NULL for full access.
    scopes: Mapped[str | None] = mapped_column(String(300), nullable=True, default=None)
    # The member who created it on the integrations page; NULL for an operator's key (the CLI).
    # The key never reaches beyond that member's role (spiko.auth.roles).
    created_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, default=None
    )
