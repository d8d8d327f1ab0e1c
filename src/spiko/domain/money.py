"""Money rules of orders: currency minor units and the roundings between cash and shares.

Every rounding favours the fund, that is the investors who stay in it, never the one whose
order is being executed, so that no order can create value out of rounding:

- a deposit buys ``shares = amount / NAV`` rounded **down** to the share class's
  ``shareDecimals``; the cash that buys no share (less than one share quantum times the NAV)
  stays in the fund;
- a withdrawal of shares pays ``amount = shares x NAV`` rounded **down** to the currency's minor
  unit;
- a withdrawal of an amount redeems ``shares = amount / NAV`` rounded **up** to ``shareDecimals``
  and then pays ``shares x NAV`` rounded down, which is never less than the amount asked for; an
  amount equal to the whole value of the shares available redeems all of them;
- the **value of a holding**, wherever it is shown (portfolio, positions, totals, statements),
  is what withdrawing every share would pay: ``shares x NAV`` rounded **down**, so a holding's
  shown value is always withdrawable in full by amount;
- the **estimate of a pending withdrawal** is what it would pay at the NAV it was created under,
  by the same rules as its execution.

Sums of amounts or shares are exact (:func:`exact_sum`): never a float, never a SQL aggregate over
decimal text.

Only ``Decimal`` arithmetic is used, in a local context wide enough that the one inexact step
(a division) is truncated in the direction of the final rounding, so the result is the exact
floor or ceiling of the true quotient.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Decimal,
    Inexact,
    InvalidOperation,
    localcontext,
)
from typing import Final, Literal, get_args

# The currencies the APIs know (the wire's enum), and their ISO 4217 minor units.
Currency = Literal["EUR", "USD", "GBP", "CHF", "JPY", "SGD"]
CURRENCIES: Final[tuple[str, ...]] = get_args(Currency)
MINOR_UNITS: Final[dict[str, int]] = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "SGD": 2}

# Far beyond any amount (< 10^18) times any quantum (>= 10^-18): divisions and products of such
# numbers are exact up to the digit that decides the rounding.
_PRECISION: Final[int] = 80
MAX_DECIMALS: Final[int] = 18


class MoneyError(ValueError):
    """A value the money rules refuse (negative, not finite, too precise, unknown currency)."""


def minor_units(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r}") from None


def quantum(decimals: int) -> Decimal:
    """``10 ** -decimals`` as an exact Decimal (0.01 for 2)."""
    if not 0 <= decimals <= MAX_DECIMALS:
        raise MoneyError(f"decimals must be between 0 and {MAX_DECIMALS}")
    return Decimal(1).scaleb(-decimals)


def round_down(value: Decimal, decimals: int) -> Decimal:
    """The largest multiple of ``10 ** -decimals`` that is <= ``value``."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return value.quantize(quantum(decimals), rounding=ROUND_FLOOR)


def round_up(value: Decimal, decimals: int) -> Decimal:
    """The smallest multiple of ``10 ** -decimals`` that is >= ``value``."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return value.quantize(quantum(decimals), rounding=ROUND_CEILING)


def decimals_of(value: Decimal) -> int:
    """How many decimals ``value`` needs once trailing zeros are dropped (1.2300 needs 2)."""
    exponent = value.normalize().as_tuple().exponent
    if not isinstance(exponent, int):
        raise MoneyError("not a finite number")
    return max(0, -exponent)


def parse_non_negative(text: str, *, max_decimals: int, what: str = "value") -> Decimal:
    """Parse a decimal string of the wire ("10000", "0.00", "3420.92") strictly.

    Refuses exponents, signs other than a plain number, NaN/Infinity, negative values and more
    than ``max_decimals`` significant decimals.
    """
    stripped = text.strip()
    if not stripped or any(c not in "0123456789." for c in stripped) or stripped.count(".") > 1:
        raise MoneyError(f"{what} must be a non-negative decimal number written like 1234.56")
    if stripped.startswith(".") or stripped.endswith("."):
        raise MoneyError(f"{what} must be a non-negative decimal number written like 1234.56")
    try:
        value = Decimal(stripped)
    except InvalidOperation:
        raise MoneyError(f"{what} is not a decimal number") from None
    if decimals_of(value) > max_decimals:
        raise MoneyError(f"{what} has more than {max_decimals} decimals")
    if value.adjusted() >= 18:
        raise MoneyError(f"{what} is too large")
    return value


def _divide(numerator: Decimal, denominator: Decimal, rounding: str) -> Decimal:
    if denominator <= 0:
        raise MoneyError("a NAV must be positive")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.rounding = rounding
        return numerator / denominator


def _multiply(left: Decimal, right: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return left * right


def shares_for_amount(amount: Decimal, nav: Decimal, share_decimals: int) -> Decimal:
    """Shares a deposit of ``amount`` buys at ``nav``: ``floor(amount / nav)`` to ``share_decimals``.

    Postcondition: ``shares * nav <= amount < (shares + quantum) * nav``.
    """
    if amount < 0:
        raise MoneyError("an amount must not be negative")
    return round_down(_divide(amount, nav, ROUND_FLOOR), share_decimals)


def shares_to_raise(amount: Decimal, nav: Decimal, share_decimals: int) -> Decimal:
    """Shares to redeem so that they are worth at least ``amount``: ``ceil(amount / nav)``.

    Postcondition: ``(shares - quantum) * nav < amount <= shares * nav``.
    """
    if amount < 0:
        raise MoneyError("an amount must not be negative")
    return round_up(_divide(amount, nav, ROUND_CEILING), share_decimals)


def shares_to_withdraw(
    amount: Decimal, nav: Decimal, held: Decimal, share_decimals: int, currency: str
) -> Decimal:
    """Shares a withdrawal of ``amount`` redeems out of ``held``: ``ceil(amount / NAV)``, capped at
    ``held``; and every share when ``amount`` is their whole value (the value shown for a holding
    is withdrawable in full, leaving no fraction of a share behind)."""
    if amount >= amount_for_shares(held, nav, currency):
        return held
    return min(shares_to_raise(amount, nav, share_decimals), held)


def amount_for_shares(shares: Decimal, nav: Decimal, currency: str) -> Decimal:
    """Cash paid for ``shares`` at ``nav``: ``floor(shares * nav)`` to the currency's minor unit.

    Postcondition: ``amount <= shares * nav < amount + minor unit``.
    """
    if shares < 0:
        raise MoneyError("shares must not be negative")
    if nav <= 0:
        raise MoneyError("a NAV must be positive")
    return round_down(_multiply(shares, nav), minor_units(currency))


def value_of(shares: Decimal, nav: Decimal | None, currency: str) -> Decimal:
    """The value of a holding, as shown everywhere: what withdrawing all of it pays (the floor of
    :func:`amount_for_shares`); nothing is worth anything before a NAV."""
    if nav is None:
        return round_down(Decimal(0), minor_units(currency))
    return amount_for_shares(shares, nav, currency)


def withdrawal_estimate(
    mode: str, nav: Decimal, currency: str, share_decimals: int, *, amount: Decimal | None, shares: Decimal
) -> Decimal:
    """What a pending withdrawal would pay at ``nav``, by the rule it executes by.

    ``amount`` orders redeem :func:`shares_to_withdraw` out of ``shares`` (the shares the order
    reserved); ``shares`` and ``total`` orders redeem ``shares``; either way the payment is
    ``floor(shares x NAV)``.
    """
    redeemed = shares
    if mode == "amount" and amount is not None:
        redeemed = shares_to_withdraw(amount, nav, shares, share_decimals, currency)
    return amount_for_shares(redeemed, nav, currency)


def convert(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """An amount converted at ``rate`` into ``currency``: rounded half up to its minor unit (an
    indication of value, never a payment)."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return (amount * rate).quantize(quantum(minor_units(currency)), rounding=ROUND_HALF_UP)


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The exact sum of Decimals (a context wide enough for any sum of amounts or shares; an
    inexact step would raise rather than round)."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.traps[Inexact] = True
        total = Decimal(0)
        for value in values:
            if not isinstance(value, Decimal):
                raise MoneyError(f"only Decimals are added exactly, not {type(value).__name__}")
            total += value
        return total


def deposit_residue(amount: Decimal, shares: Decimal, nav: Decimal) -> Decimal:
    """Cash of a deposit that bought no share and stays in the fund: ``amount - shares * nav``."""
    return amount - _multiply(shares, nav)


def redemption_residue(shares: Decimal, nav: Decimal, paid: Decimal) -> Decimal:
    """Value of redeemed shares that was not paid out and stays in the fund: ``shares * nav - paid``."""
    return _multiply(shares, nav) - paid


def format_decimal(value: Decimal, decimals: int) -> str:
    """The wire form: plain notation with exactly ``decimals`` decimals (the value must fit)."""
    quantized = value.quantize(quantum(decimals))
    if quantized != value:
        raise MoneyError(f"{value} does not fit in {decimals} decimals")
    return format(quantized, "f")


def format_amount(value: Decimal, currency: str) -> str:
    """An amount with the currency's minor-unit decimals ("1000.00" EUR, "1000" JPY)."""
    return format_decimal(value, minor_units(currency))
