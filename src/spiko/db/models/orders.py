"""Investors' accounts and bank accounts, and their deposit, withdrawal and transfer orders."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base, uuid_pk
from spiko.db.types import ExactDecimal, UTCDateTime, utcnow

SHARES_SCALE = 12
AMOUNT_SCALE = 6
NAV_SCALE = 12


class Account(Base):
    """An internal account of an investor; it holds shares and has its own virtual IBAN."""

    __tablename__ = "accounts"

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="RESTRICT"), index=True)
    # The share class the account was opened for (the account may hold others too).
    share_class_id: Mapped[str] = mapped_column(ForeignKey("share_classes.id", ondelete="RESTRICT"))
    type: Mapped[str] = mapped_column(String(16), default="internal")
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    network: Mapped[str] = mapped_column(String(32))
    blockchain_address: Mapped[str] = mapped_column(String(80))
    virtual_iban: Mapped[str] = mapped_column(String(34), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BankAccount(Base):
    """An investor's own bank account, where withdrawals are paid.

    Operators add them (usable at once); investors add their own in the investor app, usable
    from ``usable_from`` (the operator's cooling-off period). A removed one keeps its row
    (``removed_at``): past withdrawals name it.
    """

    __tablename__ = "bank_accounts"
    __table_args__ = (UniqueConstraint("investor_id", "iban", name="uq_bank_accounts_investor_iban"),)

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by: Mapped[str] = mapped_column(String(16), default="operator", server_default="operator")
    usable_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DepositOrder(Base):
    """Cash in: created -> funded (the wire arrived) -> executed at the NAV of the execution day.

    ``status`` is ``pending`` until executed or canceled; ``funded_at`` tells a funded pending
    order from an unfunded one. ``method`` is ``wire`` or ``direct-debit``.
    """

    __tablename__ = "deposit_orders"
    __table_args__ = (
        Index("ix_deposit_orders_investor_status", "investor_id", "status"),
        Index("ix_deposit_orders_status_funded_day", "status", "funded_day"),
        # Keyset pages of an account's transactions (created by migration 0005_reporting).
        Index("ix_deposit_orders_account_created", "account_id", "created_at", "id"),
        Index("ix_deposit_orders_class_status_trade_day", "share_class_id", "status", "trade_day"),
    )

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="RESTRICT"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    share_class_id: Mapped[str] = mapped_column(ForeignKey("share_classes.id", ondelete="RESTRICT"))
    method: Mapped[str] = mapped_column(String(16), default="wire")
    bank_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("bank_accounts.id", ondelete="RESTRICT"), nullable=True
    )
    amount: Mapped[Decimal] = mapped_column(ExactDecimal(AMOUNT_SCALE))
    currency: Mapped[str] = mapped_column(String(3))
    wire_reference: Mapped[str] = mapped_column(String(15), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The sandbox-clock day the order was created on.
    created_day: Mapped[date] = mapped_column(Date)
    # The fund's business day the order trades on (receipt time against the fund's cut-off).
    trade_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Direct debits: the day the bank is asked to collect.
    scheduled_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    funded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    funded_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    execution_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    shares: Mapped[Decimal | None] = mapped_column(ExactDecimal(SHARES_SCALE), nullable=True)
    nav: Mapped[Decimal | None] = mapped_column(ExactDecimal(NAV_SCALE), nullable=True)


class WithdrawalOrder(Base):
    """Shares out, paid to one of the investor's bank accounts at the NAV of the execution day.

    ``quantity_mode`` is ``amount``, ``shares`` or ``total``; ``reserved_shares`` is what the
    pending order holds back from the account's available balance.
    """

    __tablename__ = "withdrawal_orders"
    __table_args__ = (
        Index("ix_withdrawal_orders_investor_status", "investor_id", "status"),
        Index("ix_withdrawal_orders_account_status", "account_id", "share_class_id", "status"),
        Index("ix_withdrawal_orders_account_created", "account_id", "created_at", "id"),
        Index("ix_withdrawal_orders_class_status_trade_day", "share_class_id", "status", "trade_day"),
    )

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="RESTRICT"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    share_class_id: Mapped[str] = mapped_column(ForeignKey("share_classes.id", ondelete="RESTRICT"))
    bank_account_id: Mapped[str] = mapped_column(ForeignKey("bank_accounts.id", ondelete="RESTRICT"))
    destination_type: Mapped[str] = mapped_column(String(32), default="bank-transfer")
    # "withdrawal", or the deprecated "redemption" / "instant-redemption" routes that created it.
    origin: Mapped[str] = mapped_column(String(32), default="withdrawal")
    quantity_mode: Mapped[str] = mapped_column(String(16))
    requested_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal(AMOUNT_SCALE), nullable=True)
    requested_shares: Mapped[Decimal | None] = mapped_column(ExactDecimal(SHARES_SCALE), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    reserved_shares: Mapped[Decimal] = mapped_column(ExactDecimal(SHARES_SCALE))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_day: Mapped[date] = mapped_column(Date)
    trade_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    execution_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    shares: Mapped[Decimal | None] = mapped_column(ExactDecimal(SHARES_SCALE), nullable=True)
    amount: Mapped[Decimal | None] = mapped_column(ExactDecimal(AMOUNT_SCALE), nullable=True)
    nav: Mapped[Decimal | None] = mapped_column(ExactDecimal(NAV_SCALE), nullable=True)


class TransferOrder(Base):
    """Shares moved at once between two accounts of the same investor, valued at the latest NAV."""

    __tablename__ = "transfer_orders"
    __table_args__ = (
        Index("ix_transfer_orders_investor_status", "investor_id", "status"),
        Index("ix_transfer_orders_from_account_created", "from_account_id", "created_at", "id"),
        Index("ix_transfer_orders_to_account_created", "to_account_id", "created_at", "id"),
    )

    id: Mapped[str] = uuid_pk()
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id", ondelete="RESTRICT"))
    from_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    to_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    share_class_id: Mapped[str] = mapped_column(ForeignKey("share_classes.id", ondelete="RESTRICT"))
    quantity_mode: Mapped[str] = mapped_column(String(16))  # "total" | "in-shares" | "in-amount"
    shares: Mapped[Decimal] = mapped_column(ExactDecimal(SHARES_SCALE))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal(AMOUNT_SCALE))
    currency: Mapped[str] = mapped_column(String(3))
    nav: Mapped[Decimal] = mapped_column(ExactDecimal(NAV_SCALE))
    nav_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="executed")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    day: Mapped[date] = mapped_column(Date)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
