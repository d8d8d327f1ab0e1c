"""Reference data: funds, their share classes, calendars, NAVs, exchange rates and the sandbox clock."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spiko.db.base import Base, uuid_pk
from spiko.db.types import ExactDecimal, UTCDateTime, utcnow

# Scales wide enough for any navDecimals/shareDecimals the public spec allows in practice; the
# share class's own decimals are what the rules quantize to.
NAV_SCALE = 12
RATE_SCALE = 12
MONEY_SCALE = 6


class Fund(Base):
    __tablename__ = "funds"

    id: Mapped[str] = uuid_pk()
    slug: Mapped[str] = mapped_column(String(32), unique=True)  # "EUTBL", "USTBL", ...
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    execution_method: Mapped[str] = mapped_column(String(16), default="knownNAVs")  # | "unknownNAVs"
    # "HH:MM" in the fund's own timezone: orders received later trade on the next business day.
    cut_off: Mapped[str] = mapped_column(String(5), default="16:00", server_default="16:00")
    launch_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    share_classes: Mapped[list[ShareClass]] = relationship(
        back_populates="fund", order_by="ShareClass.symbol"
    )


class ShareClass(Base):
    __tablename__ = "share_classes"

    id: Mapped[str] = uuid_pk()
    fund_id: Mapped[str] = mapped_column(ForeignKey("funds.id", ondelete="RESTRICT"), index=True)
    symbol: Mapped[str] = mapped_column(String(32), unique=True)
    isin: Mapped[str] = mapped_column(String(12), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    nav_decimals: Mapped[int] = mapped_column(Integer)
    share_decimals: Mapped[int] = mapped_column(Integer)
    use_of_income: Mapped[str] = mapped_column(String(16), default="accumulating")  # | "distributing"
    # Minimums are amounts in the share class's currency (the public spec's minimumInitialSubscription,
    # minimumSubsequentSubscription and minimumRedemption).
    minimum_initial_deposit: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    minimum_subsequent_deposit: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    minimum_withdrawal: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE))
    # Fees are rates (0.0025 = 0.25 %), as the public spec publishes them.
    subscription_fees: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE), default=Decimal("0"))
    redemption_fees: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE), default=Decimal("0"))
    management_fees: Mapped[Decimal] = mapped_column(ExactDecimal(MONEY_SCALE), default=Decimal("0"))
    # Localized descriptions {"en": {"name", "amfClassification", "referenceIndex"}, "fr": ..., ...}.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tokens: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The fund's collection account that deposits are wired to.
    bank_account_number: Mapped[str] = mapped_column(String(34))
    bank_account_bic: Mapped[str] = mapped_column(String(11))
    bank_account_intermediary_bic: Mapped[str | None] = mapped_column(String(11), nullable=True)
    # False: deposit orders cannot be created through the API; investors wire the money directly.
    api_deposits_allowed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    fund: Mapped[Fund] = relationship(back_populates="share_classes")


class NetAssetValue(Base):
    """The NAV per share of a share class, one per business day, immutable once published."""

    __tablename__ = "net_asset_values"
    __table_args__ = (UniqueConstraint("share_class_id", "day", name="uq_net_asset_values_share_class_day"),)

    id: Mapped[str] = uuid_pk()
    share_class_id: Mapped[str] = mapped_column(ForeignKey("share_classes.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(ExactDecimal(NAV_SCALE))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ExchangeRate(Base):
    """1 unit of ``base_currency`` = ``rate`` units of ``quote_currency`` on ``day``."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        UniqueConstraint(
            "fund_id", "day", "base_currency", "quote_currency", name="uq_exchange_rates_fund_day_pair"
        ),
        Index("ix_exchange_rates_pair_day", "base_currency", "quote_currency", "day"),
    )

    id: Mapped[str] = uuid_pk()
    # NULL: a market rate not tied to a fund (the service refuses duplicates for it too).
    fund_id: Mapped[str | None] = mapped_column(ForeignKey("funds.id", ondelete="CASCADE"), nullable=True)
    day: Mapped[date] = mapped_column(Date)
    base_currency: Mapped[str] = mapped_column(String(3))
    quote_currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(ExactDecimal(RATE_SCALE))
    kind: Mapped[str] = mapped_column(String(16), default="indicative")  # | "execution"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NonOperatingDay(Base):
    """A holiday of a fund's calendar; weekends are always non-operating and are not listed."""

    __tablename__ = "non_operating_days"

    fund_id: Mapped[str] = mapped_column(ForeignKey("funds.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    label: Mapped[str] = mapped_column(String(100), default="")


class SandboxClock(Base):
    """A single row (id 1): the sandbox day (and instant); NULL follows the real time."""

    __tablename__ = "sandbox_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    today: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Set with a time of day: the sandbox instant at ``updated_at``; the clock runs on from it.
    moment: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
