"""The register's time: the days each fund has closed, and the corrections booked since."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base, uuid_pk
from spiko.db.types import ExactDecimal, UTCDateTime, utcnow


class FundClose(Base):
    """A closed day of a fund: its NAV, orders, movements and positions no longer change."""

    __tablename__ = "fund_closes"

    fund_id: Mapped[str] = mapped_column(ForeignKey("funds.id", ondelete="RESTRICT"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OrderCorrection(Base):
    """A dated correction of an executed order: a reversal of its ledger entry plus a new entry.

    Both rows are booked on ``day`` (an open day) and carry ``correction_id``; the order keeps
    what it was executed at, and this row says what it became.
    """

    __tablename__ = "order_corrections"
    __table_args__ = (
        Index("ix_order_corrections_order", "order_id"),
        UniqueConstraint("order_id", "sequence"),
    )

    id: Mapped[str] = uuid_pk()
    order_id: Mapped[str] = mapped_column(String(36))
    order_kind: Mapped[str] = mapped_column(String(16))  # "deposit" | "withdrawal"
    # 1 for an order's first correction, 2 for the next: its last one says what the order is now.
    sequence: Mapped[int] = mapped_column(Integer)
    share_class_id: Mapped[str] = mapped_column(ForeignKey("share_classes.id", ondelete="RESTRICT"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    old_nav: Mapped[Decimal] = mapped_column(ExactDecimal(12))
    new_nav: Mapped[Decimal] = mapped_column(ExactDecimal(12))
    old_shares: Mapped[Decimal] = mapped_column(ExactDecimal(12))
    new_shares: Mapped[Decimal] = mapped_column(ExactDecimal(12))
    old_amount: Mapped[Decimal] = mapped_column(ExactDecimal(6))
    new_amount: Mapped[Decimal] = mapped_column(ExactDecimal(6))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
