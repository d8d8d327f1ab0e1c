"""The wire forms of timestamps, money and shares: one formatter each, on the domain's minor-unit table."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import TypedDict, overload

from spiko.domain.money import minor_units, quantum


class Money(TypedDict):
    """The reference's ``Amount``: a decimal string with the currency's minor-unit decimals."""

    value: str
    currency: str


@overload
def timestamp(moment: datetime) -> str: ...
@overload
def timestamp(moment: None) -> None: ...
def timestamp(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds, as the reference emits (``2024-04-30T17:00:00.000Z``)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_seconds(moment: datetime) -> str:
    """Whole seconds since the Unix epoch, as a string (the reference's timestamps of days)."""
    return str(int(moment.timestamp()))


def day_start_epoch(day: date) -> str:
    """The epoch seconds of midnight UTC starting ``day``."""
    return epoch_seconds(datetime.combine(day, time(0, 0), tzinfo=UTC))


def decimal_text(value: Decimal, decimals: int) -> str:
    """Plain notation with exactly ``decimals`` decimals, rounded half-even when ``value`` has more."""
    return format(value.quantize(quantum(decimals), rounding=ROUND_HALF_EVEN), "f")


def plain_decimal(value: Decimal) -> str:
    """Plain notation without needless trailing zeros (``"1000"``, ``"0.0025"``)."""
    return format(value.normalize(), "f")


def amount_text(value: Decimal, currency: str) -> str:
    """An amount with its currency's minor-unit decimals (``"1000.00"`` EUR, ``"1000"`` JPY)."""
    return decimal_text(value, minor_units(currency))


def money(value: Decimal, currency: str) -> Money:
    return {"value": amount_text(value, currency), "currency": currency}


@overload
def shares_text(shares: Decimal, share_decimals: int) -> str: ...
@overload
def shares_text(shares: None, share_decimals: int) -> None: ...
def shares_text(shares: Decimal | None, share_decimals: int) -> str | None:
    """A number of shares with the share class's ``shareDecimals``."""
    if shares is None:
        return None
    return decimal_text(shares, share_decimals)


def share_units(shares: Decimal, share_decimals: int) -> str:
    """Shares as a count of the smallest share unit (10^-shareDecimals): the reference's bigint."""
    return str(int(shares.scaleb(share_decimals).to_integral_value(rounding=ROUND_DOWN)))
