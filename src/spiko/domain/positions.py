"""Daily accounting positions of one account in one share class, from share movements and NAVs.

The rules, in the order they are applied for each calendar day D (midnight to midnight UTC):

* **NAV of the day.** The NAV published for D when there is one (status ``nav``); otherwise the
  last NAV published before D carries over (status ``noNav``: weekends, holidays, days whose
  NAV is not published yet).
* **Holdings** = shares held at the end of D × NAV of the day, rounded to the cent (the minor
  unit of the share class's currency) half up. Holdings are never a running sum, so they never
  drift from the shares actually held.
* **Movements** of D are counted at their cash amounts: subscriptions (cash paid in),
  redemptions (cash paid out), transfers (value in minus value out). A movement belongs to the
  day it was executed on (the business day whose NAV priced it; a transfer, the day it moved).
  Within a day, incoming movements are applied before outgoing ones.
* **Yield of the day** = holdings(D) − holdings(D−1) − subscriptions + redemptions − transfers.
  Without movements this is the exact ``shares × (NAV(D) − NAV(D−1))`` expressed as the
  difference of two holdings rounded to the cent, so it is never more than one cent away from
  that product rounded on its own; on a day with movements it also absorbs the execution
  rounding (the fraction of a share or of a cent an order leaves behind). That choice makes the
  accounting identity hold to the cent every day: change in holdings = yield + subscriptions +
  transfers − redemptions, and the yields add up to the yield total.
* **Average cost.** Subscriptions and incoming transfers add their cash amount to the cost
  basis. A redemption or an outgoing transfer of ``s`` shares out of ``S`` removes
  ``cost × s / S`` of the cost basis (rounded to the cent half up; all of it when every share
  leaves). Realized gain = redemption amount − cost removed; transferred gain = transfer value −
  cost removed. Unrealized gain = holdings − remaining cost basis. Together,
  realized + transferred + unrealized = yield total, to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

ZERO = Decimal(0)


class MovementKind(StrEnum):
    SUBSCRIPTION = "subscription"
    REDEMPTION = "redemption"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"


_OUTGOING = (MovementKind.REDEMPTION, MovementKind.TRANSFER_OUT)


class PositionStatus(StrEnum):
    NAV = "nav"
    NO_NAV = "noNav"


@dataclass(frozen=True)
class Movement:
    """One execution on the share ledger: ``shares`` signed (+ in, − out), ``amount`` positive cash."""

    day: date
    kind: MovementKind
    shares: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Nav:
    """A published NAV: the value of one share on a business day."""

    day: date
    value: Decimal
    nav_id: str | None = None


@dataclass(frozen=True)
class PositionState:
    """Everything needed to carry positions on to the next day: the state at the end of ``day``."""

    day: date
    shares: Decimal = ZERO
    holdings: Decimal = ZERO
    cost_basis: Decimal = ZERO
    nav: Nav | None = None
    subscriptions_total: Decimal = ZERO
    redemptions_total: Decimal = ZERO
    transfers_total: Decimal = ZERO
    yield_total: Decimal = ZERO
    realized_gain_total: Decimal = ZERO
    transferred_gain_total: Decimal = ZERO

    @property
    def unrealized_gain(self) -> Decimal:
        return self.holdings - self.cost_basis

    @classmethod
    def empty_before(cls, day: date) -> PositionState:
        """The state of an account that held nothing until the end of the day before ``day``."""
        return cls(day=day - timedelta(days=1))


@dataclass(frozen=True)
class DailyPosition:
    """The position at the end of one calendar day, with the flows of that day and running totals."""

    day: date
    status: PositionStatus
    nav: Nav | None
    shares: Decimal
    holdings: Decimal
    cost_basis: Decimal
    subscriptions: Decimal
    redemptions: Decimal
    transfers: Decimal
    yield_: Decimal
    realized_gain: Decimal
    transferred_gain: Decimal
    subscriptions_total: Decimal
    redemptions_total: Decimal
    transfers_total: Decimal
    yield_total: Decimal
    realized_gain_total: Decimal
    transferred_gain_total: Decimal

    @property
    def unrealized_gain(self) -> Decimal:
        return self.holdings - self.cost_basis

    def state(self) -> PositionState:
        return PositionState(
            day=self.day,
            shares=self.shares,
            holdings=self.holdings,
            cost_basis=self.cost_basis,
            nav=self.nav,
            subscriptions_total=self.subscriptions_total,
            redemptions_total=self.redemptions_total,
            transfers_total=self.transfers_total,
            yield_total=self.yield_total,
            realized_gain_total=self.realized_gain_total,
            transferred_gain_total=self.transferred_gain_total,
        )


def minor_unit(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


def round_money(value: Decimal, decimals: int = 2) -> Decimal:
    """Round a cash value to the currency's minor unit, half up (the statement's rounding rule)."""
    return value.quantize(minor_unit(decimals), rounding=ROUND_HALF_UP)


def holdings_value(shares: Decimal, nav: Decimal | None, decimals: int = 2) -> Decimal:
    """Holdings = shares × NAV rounded to the minor unit; nothing is worth anything before a NAV."""
    if nav is None:
        return round_money(ZERO, decimals)
    return round_money(shares * nav, decimals)


def shares_in_units(shares: Decimal, share_decimals: int) -> int:
    """Shares as an integer count of the smallest share unit (10^-share_decimals), like a token amount."""
    scaled = shares.scaleb(share_decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{shares} has more than {share_decimals} decimals")
    return int(scaled)


def days_between(first: date, last: date) -> list[date]:
    """Every calendar day from ``first`` to ``last`` included (empty when ``last`` is before ``first``)."""
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def roll_positions(
    start: PositionState,
    days: Iterable[date],
    movements_by_day: Mapping[date, Sequence[Movement]],
    navs_by_day: Mapping[date, Nav],
    currency_decimals: int = 2,
) -> list[DailyPosition]:
    """Carry ``start`` forward over ``days`` (consecutive, each after ``start.day``).

    ``navs_by_day`` holds the NAVs published on the days asked for; a day without one carries
    the previous NAV over. Movements of one day are applied in the order given.
    """
    state = start
    positions: list[DailyPosition] = []
    expected = start.day + timedelta(days=1)
    for day in days:
        if day != expected:
            raise ValueError(f"days must be consecutive: expected {expected}, got {day}")
        expected = day + timedelta(days=1)
        position = _roll_one_day(
            state, day, movements_by_day.get(day, ()), navs_by_day.get(day), currency_decimals
        )
        positions.append(position)
        state = position.state()
    return positions


def _roll_one_day(
    state: PositionState,
    day: date,
    movements: Sequence[Movement],
    published: Nav | None,
    decimals: int,
) -> DailyPosition:
    nav = published if published is not None else state.nav
    shares = state.shares
    cost = state.cost_basis
    subscriptions = redemptions = transfers = realized = transferred = round_money(ZERO, decimals)
    # Incoming movements first: a day's movements share one NAV, so only the average cost sees
    # their order, and this order can never take the balance below zero within the day.
    for movement in sorted(movements, key=lambda m: m.kind in _OUTGOING):
        amount = round_money(movement.amount, decimals)
        if movement.kind in (MovementKind.SUBSCRIPTION, MovementKind.TRANSFER_IN):
            if movement.shares < 0:
                raise ValueError(f"an incoming {movement.kind.value} cannot remove shares")
            cost += amount
            shares += movement.shares
            if movement.kind is MovementKind.SUBSCRIPTION:
                subscriptions += amount
            else:
                transfers += amount
        else:
            leaving = -movement.shares
            if leaving < 0:
                raise ValueError(f"an outgoing {movement.kind.value} cannot add shares")
            if leaving > shares:
                raise ValueError(f"{movement.kind.value} of {leaving} shares exceeds the {shares} held")
            removed_cost = cost if leaving == shares else round_money(cost * leaving / shares, decimals)
            cost -= removed_cost
            shares -= leaving
            if movement.kind is MovementKind.REDEMPTION:
                redemptions += amount
                realized += amount - removed_cost
            else:
                transfers -= amount
                transferred += amount - removed_cost
    holdings = holdings_value(shares, nav.value if nav else None, decimals)
    yield_of_day = holdings - state.holdings - subscriptions + redemptions - transfers
    return DailyPosition(
        day=day,
        status=PositionStatus.NAV if published is not None else PositionStatus.NO_NAV,
        nav=nav,
        shares=shares,
        holdings=holdings,
        cost_basis=cost,
        subscriptions=subscriptions,
        redemptions=redemptions,
        transfers=transfers,
        yield_=yield_of_day,
        realized_gain=realized,
        transferred_gain=transferred,
        subscriptions_total=state.subscriptions_total + subscriptions,
        redemptions_total=state.redemptions_total + redemptions,
        transfers_total=state.transfers_total + transfers,
        yield_total=state.yield_total + yield_of_day,
        realized_gain_total=state.realized_gain_total + realized,
        transferred_gain_total=state.transferred_gain_total + transferred,
    )


def daily_yield_product(shares_held: Decimal, nav: Decimal, previous_nav: Decimal | None) -> Decimal:
    """The textbook daily yield: shares held at the start of the day × the NAV's change (unrounded)."""
    if previous_nav is None:
        return ZERO
    return shares_held * (nav - previous_nav)


def combine(positions: Sequence[DailyPosition]) -> DailyPosition:
    """The sum of several accounts' positions on the same day (same share class, same NAV)."""
    if not positions:
        raise ValueError("nothing to combine")
    first = positions[0]
    total = first
    for other in positions[1:]:
        if other.day != first.day:
            raise ValueError("positions of different days cannot be combined")
        total = replace(
            total,
            status=PositionStatus.NAV if PositionStatus.NAV in (total.status, other.status) else total.status,
            nav=total.nav or other.nav,
            shares=total.shares + other.shares,
            holdings=total.holdings + other.holdings,
            cost_basis=total.cost_basis + other.cost_basis,
            subscriptions=total.subscriptions + other.subscriptions,
            redemptions=total.redemptions + other.redemptions,
            transfers=total.transfers + other.transfers,
            yield_=total.yield_ + other.yield_,
            realized_gain=total.realized_gain + other.realized_gain,
            transferred_gain=total.transferred_gain + other.transferred_gain,
            subscriptions_total=total.subscriptions_total + other.subscriptions_total,
            redemptions_total=total.redemptions_total + other.redemptions_total,
            transfers_total=total.transfers_total + other.transfers_total,
            yield_total=total.yield_total + other.yield_total,
            realized_gain_total=total.realized_gain_total + other.realized_gain_total,
            transferred_gain_total=total.transferred_gain_total + other.transferred_gain_total,
        )
    return total
