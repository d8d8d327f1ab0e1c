"""Rules for net asset values and exchange rates: precision, validation and growth.

NAVs are quoted with the share class's ``navDecimals``; a published value must be positive and
must not carry more decimals than that (trailing zeros are fine). Growth NAVs, used by the sandbox
to simulate a fund's performance, compound an annual rate over the calendar days elapsed and are
rounded half-even to ``navDecimals``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext

from spiko.domain.money import decimals_of, quantum

DAYS_PER_YEAR = 365
# Precision of intermediate results: far more than any quoted NAV needs, fixed so that the
# outcome does not depend on the caller's decimal context.
_PRECISION = 34
MAX_RATE_DECIMALS = 12


class InvalidValueError(ValueError):
    """A NAV or exchange rate that the rules refuse."""


def check_nav_value(value: Decimal, nav_decimals: int) -> Decimal:
    """The value quantized to ``nav_decimals``; refuses non-finite, non-positive or over-precise values."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidValueError("a NAV must be a finite decimal number")
    if value <= 0:
        raise InvalidValueError("a NAV must be positive")
    if decimals_of(value) > nav_decimals:
        raise InvalidValueError(f"a NAV of this share class has at most {nav_decimals} decimals, got {value}")
    try:
        return value.quantize(quantum(nav_decimals), context=Context(prec=_PRECISION))
    except InvalidOperation as error:
        raise InvalidValueError(f"a NAV of {value} is out of range") from error


def check_fx_rate(rate: Decimal) -> Decimal:
    """A positive rate with at most ``MAX_RATE_DECIMALS`` decimals, returned normalized."""
    if not isinstance(rate, Decimal) or not rate.is_finite():
        raise InvalidValueError("an exchange rate must be a finite decimal number")
    if rate <= 0:
        raise InvalidValueError("an exchange rate must be positive")
    if decimals_of(rate) > MAX_RATE_DECIMALS:
        raise InvalidValueError(f"an exchange rate has at most {MAX_RATE_DECIMALS} decimals, got {rate}")
    if rate.adjusted() >= 12:
        raise InvalidValueError(f"an exchange rate of {rate} is out of range")
    return rate


def grow_nav(previous: Decimal, annual_rate: Decimal, days: int, nav_decimals: int) -> Decimal:
    """``previous × (1 + annual_rate) ^ (days / 365)``, rounded half-even to ``nav_decimals``.

    Compounding over calendar days means a weekend's growth lands on the Monday NAV, as it
    does for a real money-market fund whose assets accrue every calendar day.
    """
    if days < 0:
        raise InvalidValueError("growth cannot go back in time")
    if annual_rate <= -1:
        raise InvalidValueError("an annual rate must be greater than -100 %")
    with localcontext(Context(prec=_PRECISION, rounding=ROUND_HALF_EVEN)):
        factor = (Decimal(1) + annual_rate) ** (Decimal(days) / Decimal(DAYS_PER_YEAR))
        grown = previous * factor
        return grown.quantize(quantum(nav_decimals), rounding=ROUND_HALF_EVEN)


def annualized_return(start: Decimal, end: Decimal, days: int) -> Decimal:
    """Simple annualized return between two NAVs ``days`` calendar days apart: (end/start − 1) × 365/days."""
    if days <= 0:
        raise InvalidValueError("a return needs a positive number of days")
    with localcontext(Context(prec=_PRECISION, rounding=ROUND_HALF_EVEN)):
        return (end / start - 1) * Decimal(DAYS_PER_YEAR) / Decimal(days)
