"""Stored responses of POST requests, keyed by the investor's Idempotency-Key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base, uuid_pk
from spiko.db.types import UTCDateTime, utcnow


class IdempotencyKey(Base):
    """One key per investor; the unique constraint is what makes concurrent retries act once."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("investor_id", "key", name="uq_idempotency_keys_investor_key"),)

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, the path and the canonical JSON body.
    request_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(300))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
