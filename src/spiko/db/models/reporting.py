"""Tables of the reporting area: materialized daily positions and their indexes.

``daily_positions`` holds, for each account and share class, the end-of-day position of every
calendar day from the first movement to the last day with a published NAV — the output of
:func:`spiko.domain.positions.roll_positions`, stored so that a year of positions (or the first
page of an account's yield accruals) is an index range read, whatever the length of the ledger.

What invalidates it: database triggers (migration ``0005``) delete the rows of a day and every
later day of the same account and share class whenever a share movement on that day is
inserted, changed or deleted, and the rows of a share class from the day of any NAV inserted,
changed or deleted. Readers refill the missing days lazily (``services/reporting/positions``).
Days after the latest published NAV are never stored: a NAV may still come for them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base
from spiko.db.types import ExactDecimal, UTCDateTime

SHARES_SCALE = 12
MONEY_SCALE = 6
NAV_SCALE = 12


class DailyPosition(Base):
    __tablename__ = "daily_positions"
    __table_args__ = (
        UniqueConstraint("account_id", "share_class_id", "day", name="uq_daily_positions_account_class_day"),
        # The NAV trigger deletes a share class's rows from a day on (usually none: a new NAV is
        # for a day not stored yet). Day first, so that no planner ever prefers it to the unique
        # (account, share class, day) index for an account's range of days.
        Index("ix_daily_positions_day_share_class", "day", "share_class_id"),
        # Keyset pages of yield accruals, newest or oldest first.
        Index("ix_daily_positions_account_accrual", "account_id", "accrual_at", "id"),
    )

    # A name-based UUID of (account, share class, day): stable across refills.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    share_class_id: Mapped[str] = mapped_column(ForeignKey("share_classes.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))  # "nav" | "noNav"
    nav_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    nav_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    nav: Mapped[Decimal | None] = mapped_column(ExactDecimal(NAV_SCALE), nullable=True)
    shares: Mapped[Decimal] = mapped_column(ExactDecimal(SHARES_SCALE))
    holdings: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    cost_basis: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    subscriptions: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    redemptions: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    transfers: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    yield_: Mapped[Decimal] = mapped_column("yield", ExactDecimal(MONEY_SCALE))
    realized_gain: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    transferred_gain: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    subscriptions_total: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    redemptions_total: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    transfers_total: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    yield_total: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    realized_gain_total: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    transferred_gain_total: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    # When the day's yield accrual is listed among the account's transactions (the end of a day
    # with a NAV on which shares were held); NULL when there is no accrual to list.
    accrual_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
