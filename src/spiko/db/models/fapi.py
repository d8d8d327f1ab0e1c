"""Tables of the FAPI 2.0 parts of the authorization server: pushed authorization requests
(RFC 9126) and the single-use identifiers of DPoP proofs and client assertions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base, uuid_pk
from spiko.db.types import UTCDateTime, utcnow


class OAuthPushedRequest(Base):
    """An authorization request a client pushed; the browser brings only its ``request_uri``."""

    __tablename__ = "oauth_pushed_requests"

    id: Mapped[str] = uuid_pk()
    request_uri_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    parameters: Mapped[str] = mapped_column(Text)  # JSON list of [name, value] pairs
    dpop_jkt: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UsedJti(Base):
    """A ``jti`` already seen (a DPoP proof's, a client assertion's), kept until it would be stale
    anyway: the SHA-256 of its purpose, its issuer and the value, and when it may be forgotten."""

    __tablename__ = "oauth_used_jtis"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # epoch seconds
