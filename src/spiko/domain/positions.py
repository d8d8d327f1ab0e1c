"""Daily accounting positions of one account in one share class, from share movements and NAVs.

The rules, in the order they are applied for each calendar day D (midnight to midnight UTC):

* **NAV of the day.** The NAV published for D when there is one (status ``nav``); otherwise the
  last NAV published before D carries over (status ``noNav``: weekends, holidays, days whose
  NAV is not published yet).
* **Holdings** = shares held at the end of D × NAV of the day, rounded **down** to the minor
  unit of the share class's currency: the value of a holding everywhere
  (:func:`spiko.domain.money.value_of`), which a withdrawal of that amount can always pay.
  Holdings are never a running sum, so they never drift from the shares actually held.
* **Movements** of D are counted at their cash amounts: subscriptions (cash paid in),
  redemptions (cash paid out), transfers (cost basis in minus cost basis out between one
  investor's own accounts; value in minus value out between investors). A movement belongs to
  the day it was executed on (the business day whose NAV priced it; a transfer, the day it
  moved). Within a day, incoming movements are applied before outgoing ones.
* **Yield of the day** = holdings(D) − holdings(D−1) − subscriptions + redemptions − transfers.
  Without movements this is ``shares × (NAV(D) − NAV(D−1))`` expressed as the difference of two
  holdings rounded down, so it is never a cent or more away from that product; on a day with
  movements it also absorbs the execution rounding and, on the day shares move between one
  investor's own accounts, the gain they carry with them. That choice makes the accounting
  identity hold to the cent every day: change in holdings = yield + subscriptions + transfers −
  redemptions, and the yields add up to the yield total.
* **Average cost.** Subscriptions add their cash amount to the cost basis. A redemption of
  ``s`` shares out of ``S`` removes ``cost × s / S`` of the cost basis (rounded to the cent half
  up; all of it when every share leaves); realized gain = redemption amount − cost removed.
  Shares moved between one investor's own accounts carry their cost (fixed when they moved and
  recorded with the movement): it leaves one account's cost basis and enters the other's, and
  no gain is realized or transferred. Shares moved to another investor leave at their value:
  transferred gain = transfer value − cost removed, and the receiving investor's cost basis
  starts at that value. Unrealized gain = holdings − remaining cost basis. Together,
  realized + transferred + unrealized = yield total (the total gain), to the cent.
* **Corrections.** The reversal of a subscription takes its shares back and its cash out of the
  subscriptions and the cost basis; the reversal of a redemption gives its shares back, takes its
  cash out of the redemptions and adds it to the cost basis (the gain realized when they left
  stays realized). The new entry is an ordinary subscription or redemption.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from typing import Any

from spiko.domain.money import exact_sum, round_down

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
    """One execution on the share ledger: ``shares`` signed (+ in, − out), ``amount`` positive cash
    (both negative on the reversal of a subscription, the first half of a correction; on the
    reversal of a redemption the shares come back, positive, and the amount is negative);
    ``cost`` the cost basis a transfer between one investor's own accounts carries (None for other
    movements, and for transfers recorded before the cost was kept)."""

    day: date
    kind: MovementKind
    shares: Decimal
    amount: Decimal
    cost: Decimal | None = None


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

    @property
    def total_gain(self) -> Decimal:
        """Realized + transferred + unrealized gain: equal to the yield total, to the cent."""
        return self.realized_gain_total + self.transferred_gain_total + self.unrealized_gain

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
    """Holdings = shares × NAV rounded down to the minor unit (the value of a holding, as
    :func:`spiko.domain.money.value_of`); nothing is worth anything before a NAV."""
    if nav is None:
        return round_money(ZERO, decimals)
    return round_down(shares * nav, decimals)


def cost_removed(cost: Decimal, leaving: Decimal, held: Decimal, decimals: int = 2) -> Decimal:
    """The average cost of ``leaving`` shares out of ``held``: ``cost × leaving / held`` rounded half
    up to the minor unit, or all of it when every share leaves."""
    if leaving == held:
        return cost
    return round_money(cost * leaving / held, decimals)


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
    # Every addition below is exact: far more digits than any amount or share count has.
    with localcontext() as context:
        context.prec = 80
        for position in _roll(state, days, expected, movements_by_day, navs_by_day, currency_decimals):
            positions.append(position)
    return positions


def _roll(
    state: PositionState,
    days: Iterable[date],
    expected: date,
    movements_by_day: Mapping[date, Sequence[Movement]],
    navs_by_day: Mapping[date, Nav],
    currency_decimals: int,
) -> Iterator[DailyPosition]:
    for day in days:
        if day != expected:
            raise ValueError(f"days must be consecutive: expected {expected}, got {day}")
        expected = day + timedelta(days=1)
        position = _roll_one_day(
            state, day, movements_by_day.get(day, ()), navs_by_day.get(day), currency_decimals
        )
        yield position
        state = position.state()


def _day_order(movement: Movement) -> int:
    if movement.kind is MovementKind.REDEMPTION and movement.shares > 0:
        return 0  # the reversal of a redemption gives shares back: with the incoming movements
    if movement.kind in _OUTGOING:
        return 2
    return 1 if movement.shares < 0 else 0


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
    # Reversals (corrections) after the incoming movements, before the outgoing ones.
    for movement in sorted(movements, key=_day_order):
        amount = round_money(movement.amount, decimals)
        carried = None if movement.cost is None else round_money(movement.cost, decimals)
        if movement.kind is MovementKind.SUBSCRIPTION and movement.shares < 0 and amount <= 0:
            # The reversal of a subscription (a correction): it takes back its shares and its cost.
            if -movement.shares > shares:
                raise ValueError(f"a reversal of {-movement.shares} shares exceeds the {shares} held")
            shares += movement.shares
            cost += amount
            subscriptions += amount
            continue
        if movement.kind is MovementKind.REDEMPTION and movement.shares > 0 and amount <= 0:
            # The reversal of a redemption (a correction): its shares come back at the cash they
            # were paid, which becomes their cost; the gain realized when they left stays.
            shares += movement.shares
            cost -= amount
            redemptions += amount
            continue
        if movement.kind in (MovementKind.SUBSCRIPTION, MovementKind.TRANSFER_IN):
            if movement.shares < 0:
                raise ValueError(f"an incoming {movement.kind.value} cannot remove shares")
            shares += movement.shares
            if movement.kind is MovementKind.SUBSCRIPTION:
                cost += amount
                subscriptions += amount
            else:
                booked = amount if carried is None else carried
                cost += booked
                transfers += booked
        else:
            leaving = -movement.shares
            if leaving < 0:
                raise ValueError(f"an outgoing {movement.kind.value} cannot add shares")
            if leaving > shares:
                raise ValueError(f"{movement.kind.value} of {leaving} shares exceeds the {shares} held")
            if movement.kind is MovementKind.TRANSFER_OUT and carried is not None:
                removed = carried
                transfers -= carried
            else:
                removed = cost_removed(cost, leaving, shares, decimals)
                if movement.kind is MovementKind.REDEMPTION:
                    redemptions += amount
                    realized += amount - removed
                else:
                    transfers -= amount
                    transferred += amount - removed
            cost -= removed
            shares -= leaving
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


# The figures of a position that add up across accounts: every field of ``DailyPosition`` but its
# day, status and NAV. The stored table (``daily_positions``) has one column of the same name for each.
ADDITIVE_FIELDS = (
    "shares",
    "holdings",
    "cost_basis",
    "subscriptions",
    "redemptions",
    "transfers",
    "yield_",
    "realized_gain",
    "transferred_gain",
    "subscriptions_total",
    "redemptions_total",
    "transfers_total",
    "yield_total",
    "realized_gain_total",
    "transferred_gain_total",
)


def combine(positions: Sequence[DailyPosition]) -> DailyPosition:
    """The sum of several accounts' positions on the same day (same share class, same NAV)."""
    if not positions:
        raise ValueError("nothing to combine")
    first = positions[0]
    total = first
    for other in positions[1:]:
        if other.day != first.day:
            raise ValueError("positions of different days cannot be combined")
        sums: dict[str, Any] = {
            name: exact_sum((getattr(total, name), getattr(other, name))) for name in ADDITIVE_FIELDS
        }
        total = replace(
            total,
            status=PositionStatus.NAV if PositionStatus.NAV in (total.status, other.status) else total.status,
            nav=total.nav or other.nav,
            **sums,
        )
    return total
