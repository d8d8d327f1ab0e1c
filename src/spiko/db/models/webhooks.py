"""Events (the outbox written with every change) and the webhook endpoints they are delivered to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base, uuid_pk
from spiko.db.types import UTCDateTime, utcnow


class Event(Base):
    """A state change an investor's integrations care about, written in the change's transaction.

    ``sequence`` counts the investor's events from 1 without gaps (see ``EventCounter``);
    ``dedupe_key`` makes an event that could be recorded twice (a day's yield) recorded once.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("investor_id", "sequence", name="uq_events_investor_sequence"),
        UniqueConstraint("investor_id", "dedupe_key", name="uq_events_investor_dedupe_key"),
        Index("ix_events_investor_created", "investor_id", "created_at", "id"),
    )

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EventCounter(Base):
    """The last sequence number given to an investor's events; its row lock orders concurrent writers."""

    __tablename__ = "event_counters"

    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class WebhookEndpoint(Base):
    """An investor's receiver of events. Secrets are stored encrypted (``services.webhooks``)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(500), default="")
    # None: every event type, including types added later.
    event_types: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    secret_encrypted: Mapped[str] = mapped_column(String(500))
    # After a rotation the previous secret still signs until it expires.
    previous_secret_encrypted: Mapped[str | None] = mapped_column(String(500), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookDelivery(Base):
    """One event to one endpoint: pending until a 2xx (``succeeded``) or out of attempts (``failed``).

    A worker claims a due delivery by setting ``lease_expires_at``; a worker that dies leaves the
    lease to expire and another worker takes the delivery again (at-least-once).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at", "id"),
    )

    id: Mapped[str] = uuid_pk()
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery: the delivery log."""

    __tablename__ = "webhook_attempts"

    id: Mapped[str] = uuid_pk()
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
