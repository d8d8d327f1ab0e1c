"""The audit log: one row per operator action, appended in the action's transaction, never changed.

Rows are only inserted. Database triggers (migration ``0014``) refuse any UPDATE or DELETE of
the table (and TRUNCATE on PostgreSQL), so not even a bug or a hand-typed statement can rewrite
what an operator did. ``id`` numbers the rows in the order they were recorded (two operators'
concurrent transactions may commit in the other order).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base
from spiko.db.types import UTCDateTime, utcnow


class AuditRecord(Base):
    """Who (``actor``) did what (``action``, e.g. ``nav.publish``) to what (``subject``, e.g.
    ``share_class:EUTBL``), when (``at``), with the action's parameters in ``details``."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
