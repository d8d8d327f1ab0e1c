"""Security events of an investor's account, and the single-use links sent by mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base, uuid_pk
from spiko.db.types import UTCDateTime, utcnow


class SecurityEvent(Base):
    """Something that matters to an account's safety: a sign-in, a key, an app, a member, a factor.

    ``user_id`` is the member it happened to or who did it (NULL once that member is removed, or
    for an operator's action); ``details`` is a JSON object (names, never secrets).
    """

    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_investor_at", "investor_id", "created_at"),)

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text, default="{}")
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MemberToken(Base):
    """A link sent by mail: an invitation, a password reset or an email verification.

    Only the SHA-256 of the link's random token is kept; the link works once (``used_at``) and
    until ``expires_at``. An invitation names the investor, the email and the role it grants; the
    other two name the user they act for.
    """

    __tablename__ = "member_tokens"
    __table_args__ = (Index("ix_member_tokens_investor_purpose", "investor_id", "purpose", "used_at"),)

    id: Mapped[str] = uuid_pk()
    purpose: Mapped[str] = mapped_column(String(24))  # invitation | password_reset | email_verification
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
