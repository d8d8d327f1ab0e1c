"""A rate for any pair of currencies from the published ones: direct, inverted, or crossed through a
third currency (``spiko fx show``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal

from sqlalchemy.orm import Session

from spiko.db.models.funds import ExchangeRate
from spiko.services import reference

# Derived rates are shown like published ones: at most 12 decimals (rounded half-even).
DERIVED_RATE_QUANTUM = Decimal("1e-12")
_EXACT = Context(prec=34)
PIVOTS = ("EUR", "USD", "GBP", "CHF", "JPY", "SGD")


@dataclass(frozen=True)
class Leg:
    """One published rate used, and whether it was inverted."""

    rate: ExchangeRate
    inverted: bool

    @property
    def value(self) -> Decimal:
        return _EXACT.divide(Decimal(1), self.rate.rate) if self.inverted else self.rate.rate


@dataclass(frozen=True)
class DerivedRate:
    """``1 base = rate quote``, as of ``day`` (the oldest of the published rates it comes from)."""

    base: str
    quote: str
    rate: Decimal
    day: date
    derivation: str  # "published" | "inverse" | "cross"
    legs: tuple[Leg, ...]


def _leg(session: Session, base: str, quote: str, day: date | None, fund_id: str | None) -> Leg | None:
    found = reference.published_pair(session, base, quote, day, fund_id)
    return Leg(*found) if found is not None else None


def derive_rate(
    session: Session, base: str, quote: str, day: date | None = None, *, fund_id: str | None = None
) -> DerivedRate | None:
    """The rate on or before ``day`` (any day when None): published, else the inverse of the
    opposite rate, else crossed through the first of ``PIVOTS`` that has rates with both."""
    if base == quote:
        raise ValueError("base and quote must differ")
    single = _leg(session, base, quote, day, fund_id)
    if single is not None:
        if not single.inverted:
            return DerivedRate(base, quote, single.rate.rate, single.rate.day, "published", (single,))
        return DerivedRate(base, quote, _rounded(single.value), single.rate.day, "inverse", (single,))
    for pivot in PIVOTS:
        if pivot in (base, quote):
            continue
        first = _leg(session, base, pivot, day, fund_id)
        second = _leg(session, pivot, quote, day, fund_id) if first is not None else None
        if first is not None and second is not None:
            value = _EXACT.multiply(first.value, second.value)
            oldest = min(first.rate.day, second.rate.day)
            return DerivedRate(base, quote, _rounded(value), oldest, "cross", (first, second))
    return None


def _rounded(value: Decimal) -> Decimal:
    return value.quantize(DERIVED_RATE_QUANTUM, rounding=ROUND_HALF_EVEN)
