"""The share ledger: every movement of shares in or out of an account, signed, one row each.

An account's holding of a share class is the sum of ``shares`` over its rows; nothing else
stores a balance. Rows are only ever inserted, never updated, so reporting can rebuild any
day's position from them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base, uuid_pk
from spiko.db.types import ExactDecimal, UTCDateTime, utcnow

SHARES_SCALE = 12
AMOUNT_SCALE = 6
NAV_SCALE = 12

MOVEMENT_KINDS = ("subscription", "redemption", "transfer_in", "transfer_out")


class ShareMovement(Base):
    """Shares in (+) or out (-) of an account, with the cash value and the NAV that priced them.

    ``day`` is the business day whose NAV priced the movement (for transfers, the day the shares
    moved, valued at the latest NAV published on or before it); ``executed_at`` always falls on
    ``day`` (UTC). ``amount`` is the cash value, positive: what the investor paid for a
    subscription, what was paid out for a redemption, the value of the shares for a transfer.
    ``cost`` is the cost basis a transfer between one investor's own accounts carries, the same
    on both of its rows (NULL otherwise).
    """

    __tablename__ = "share_movements"
    __table_args__ = (
        Index("ix_share_movements_account_class_day", "account_id", "share_class_id", "day"),
        Index("ix_share_movements_investor_day", "investor_id", "day"),
        # The entries of corrections, as an account's transactions list them (a few rows).
        Index(
            "ix_share_movements_corrections",
            "account_id",
            "executed_at",
            "id",
            postgresql_where=text("correction_id IS NOT NULL"),
            sqlite_where=text("correction_id IS NOT NULL"),
        ),
        CheckConstraint("kind IN ('subscription', 'redemption', 'transfer_in', 'transfer_out')", name="kind"),
    )

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="RESTRICT"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    share_class_id: Mapped[str] = mapped_column(ForeignKey("share_classes.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    # The deposit, withdrawal or transfer order behind the movement.
    order_id: Mapped[str] = mapped_column(String(36), index=True)
    day: Mapped[date] = mapped_column(Date)
    executed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    shares: Mapped[Decimal] = mapped_column(ExactDecimal(SHARES_SCALE))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal(AMOUNT_SCALE))
    nav: Mapped[Decimal] = mapped_column(ExactDecimal(NAV_SCALE))
    cost: Mapped[Decimal | None] = mapped_column(ExactDecimal(AMOUNT_SCALE), nullable=True, default=None)
    currency: Mapped[str] = mapped_column(String(3))
    # Set on the two rows of a correction: the reversal of the original entry and the new entry.
    correction_id: Mapped[str | None] = mapped_column(String(36), nullable=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
