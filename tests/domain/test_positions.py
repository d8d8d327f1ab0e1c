"""Property tests of the daily position rules: the accounting identity holds to the cent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spiko.domain.positions import (
    DailyPosition,
    Movement,
    MovementKind,
    Nav,
    PositionState,
    PositionStatus,
    combine,
    cost_removed,
    days_between,
    holdings_value,
    roll_positions,
    round_money,
    shares_in_units,
)

START = date(2025, 1, 6)  # a Monday
SHARE_DECIMALS = 5
CENT = Decimal("0.01")


def _navs(count: int, daily_steps: list[int]) -> dict[date, Nav]:
    """Business-day NAVs from 1.000000, moving by whole millionths; weekends carry over."""
    navs: dict[date, Nav] = {}
    value = Decimal("1.000000")
    for index, day in enumerate(days_between(START, START + timedelta(days=count - 1))):
        if day.weekday() >= 5:
            continue
        value += Decimal(daily_steps[index % len(daily_steps)]) / Decimal(1_000_000)
        navs[day] = Nav(day, value, f"nav-{day}")
    return navs


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[date], dict[date, list[Movement]], dict[date, Nav]]:
    count = draw(st.integers(min_value=1, max_value=40))
    steps = draw(st.lists(st.integers(min_value=-50, max_value=400), min_size=1, max_size=10))
    navs = _navs(count, steps)
    days = days_between(START, START + timedelta(days=count - 1))
    movements: dict[date, list[Movement]] = {}
    shares = Decimal(0)
    for day in days:
        if day not in navs:
            continue
        nav = navs[day].value
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            kind = draw(st.sampled_from(list(MovementKind)))
            if kind in (MovementKind.SUBSCRIPTION, MovementKind.TRANSFER_IN):
                cents = draw(st.integers(min_value=1, max_value=10_000_000))
                amount = Decimal(cents) / 100
                moved = (amount / nav).quantize(Decimal(1).scaleb(-SHARE_DECIMALS), rounding=ROUND_DOWN)
                if moved <= 0:
                    continue
                if kind is MovementKind.TRANSFER_IN:
                    amount = (moved * nav).quantize(CENT, rounding=ROUND_DOWN)
                movements.setdefault(day, []).append(Movement(day, kind, moved, amount))
                shares += moved
            elif shares > 0:
                units = shares_in_units(shares, SHARE_DECIMALS)
                moved = Decimal(draw(st.integers(min_value=1, max_value=units))).scaleb(-SHARE_DECIMALS)
                amount = (moved * nav).quantize(CENT, rounding=ROUND_DOWN)
                movements.setdefault(day, []).append(Movement(day, kind, -moved, amount))
                shares -= moved
    return days, movements, navs


@settings(max_examples=200, deadline=None)
@given(histories())
def test_accounting_identity_holds_to_the_cent_every_day(
    history: tuple[list[date], dict[date, list[Movement]], dict[date, Nav]],
) -> None:
    days, movements, navs = history
    positions = roll_positions(PositionState.empty_before(days[0]), days, movements, navs)
    previous_holdings = Decimal("0.00")
    previous_nav: Decimal | None = None
    for position in positions:
        nav = position.nav.value if position.nav else None
        # Holdings are shares x NAV rounded to the cent, never a drifting running sum.
        assert position.holdings == holdings_value(position.shares, nav)
        change = position.holdings - previous_holdings
        assert change == position.yield_ + position.subscriptions + position.transfers - position.redemptions
        # Gains split the yield exactly.
        assert (
            position.realized_gain_total + position.transferred_gain_total + position.unrealized_gain
            == position.yield_total
        )
        assert position.status is (PositionStatus.NAV if position.day in navs else PositionStatus.NO_NAV)
        # Without movements the yield is shares held x NAV change, within the cent of rounding.
        if not movements.get(position.day) and nav is not None and previous_nav is not None:
            exact = position.shares * (nav - previous_nav)
            assert abs(position.yield_ - exact) <= CENT
        previous_holdings = position.holdings
        previous_nav = nav
    assert sum((p.yield_ for p in positions), Decimal(0)) == positions[-1].yield_total
    assert sum((p.subscriptions for p in positions), Decimal(0)) == positions[-1].subscriptions_total
    assert sum((p.redemptions for p in positions), Decimal(0)) == positions[-1].redemptions_total
    assert sum((p.transfers for p in positions), Decimal(0)) == positions[-1].transfers_total
    assert sum((p.realized_gain for p in positions), Decimal(0)) == positions[-1].realized_gain_total


@settings(max_examples=100, deadline=None)
@given(histories(), st.data())
def test_rolling_from_a_saved_state_equals_rolling_from_scratch(
    history: tuple[list[date], dict[date, list[Movement]], dict[date, Nav]], data: st.DataObject
) -> None:
    """What materialization relies on: a stored end-of-day state continues exactly like a full replay."""
    days, movements, navs = history
    full = roll_positions(PositionState.empty_before(days[0]), days, movements, navs)
    cut = data.draw(st.integers(min_value=0, max_value=len(days) - 1))
    head = full[:cut]
    start = head[-1].state() if head else PositionState.empty_before(days[0])
    tail = roll_positions(start, days[cut:], movements, navs)
    assert head + tail == full


def test_average_cost_realized_gain_worked_example() -> None:
    monday, tuesday, wednesday = date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 8)
    navs = {
        monday: Nav(monday, Decimal("1.000000")),
        tuesday: Nav(tuesday, Decimal("1.100000")),
        wednesday: Nav(wednesday, Decimal("1.200000")),
    }
    movements = {
        monday: [Movement(monday, MovementKind.SUBSCRIPTION, Decimal("100"), Decimal("100.00"))],
        tuesday: [Movement(tuesday, MovementKind.SUBSCRIPTION, Decimal("100"), Decimal("110.00"))],
        # Average cost is 210 / 200 = 1.05 a share: selling 50 at 1.20 realizes 60 - 52.50.
        wednesday: [Movement(wednesday, MovementKind.REDEMPTION, Decimal("-50"), Decimal("60.00"))],
    }
    days = [monday, tuesday, wednesday]
    positions = roll_positions(PositionState.empty_before(monday), days, movements, navs)
    last = positions[-1]
    assert last.shares == Decimal("150")
    assert last.holdings == Decimal("180.00")
    assert last.realized_gain == Decimal("7.50")
    assert last.cost_basis == Decimal("157.50")
    assert last.unrealized_gain == Decimal("22.50")
    assert [p.yield_ for p in positions] == [Decimal("0.00"), Decimal("10.00"), Decimal("20.00")]
    assert last.yield_total == Decimal("30.00") == last.realized_gain_total + last.unrealized_gain


def test_transfer_out_carries_its_gain_and_the_rest_stays_unrealized() -> None:
    monday, tuesday = date(2025, 1, 6), date(2025, 1, 7)
    navs = {monday: Nav(monday, Decimal("1.000000")), tuesday: Nav(tuesday, Decimal("1.010000"))}
    movements = {
        monday: [Movement(monday, MovementKind.SUBSCRIPTION, Decimal("1000"), Decimal("1000.00"))],
        tuesday: [Movement(tuesday, MovementKind.TRANSFER_OUT, Decimal("-1000"), Decimal("1010.00"))],
    }
    positions = roll_positions(PositionState.empty_before(monday), [monday, tuesday], movements, navs)
    last = positions[-1]
    assert last.holdings == Decimal("0.00")
    assert last.transfers == Decimal("-1010.00")
    assert last.transferred_gain == Decimal("10.00")
    assert last.yield_ == Decimal("10.00")
    assert last.cost_basis == Decimal("0.00")


def test_weekend_carries_the_nav_over_with_no_yield() -> None:
    friday, saturday, sunday, monday = (date(2025, 1, 10) + timedelta(days=i) for i in range(4))
    navs = {friday: Nav(friday, Decimal("1.000000"), "f"), monday: Nav(monday, Decimal("1.000300"), "m")}
    movements = {friday: [Movement(friday, MovementKind.SUBSCRIPTION, Decimal("10000"), Decimal("10000"))]}
    positions = roll_positions(
        PositionState.empty_before(friday), [friday, saturday, sunday, monday], movements, navs
    )
    assert [p.status for p in positions] == [
        PositionStatus.NAV,
        PositionStatus.NO_NAV,
        PositionStatus.NO_NAV,
        PositionStatus.NAV,
    ]
    assert [p.yield_ for p in positions] == [
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("3.00"),
    ]
    assert positions[1].nav == navs[friday]


def test_refuses_overdrafts_and_gaps() -> None:
    monday = date(2025, 1, 6)
    navs = {monday: Nav(monday, Decimal("1"))}
    with pytest.raises(ValueError, match="exceeds"):
        roll_positions(
            PositionState.empty_before(monday),
            [monday],
            {monday: [Movement(monday, MovementKind.REDEMPTION, Decimal("-1"), Decimal("1"))]},
            navs,
        )
    with pytest.raises(ValueError, match="consecutive"):
        roll_positions(PositionState.empty_before(monday), [monday + timedelta(days=1)], {}, navs)


def test_cost_rounding_is_half_up_to_the_cent_and_shares_units_are_exact() -> None:
    """round_money allocates a cost basis (half up); the value of a holding is rounded down."""
    assert holdings_value(Decimal("1181.52153"), Decimal("1.045")) == Decimal("1234.68")
    assert round_money(Decimal("0.005")) == Decimal("0.01")
    assert round_money(Decimal("-0.005")) == Decimal("-0.01")
    assert round_money(Decimal("2.675")) == Decimal("2.68")
    assert shares_in_units(Decimal("12.34567"), 5) == 1234567
    with pytest.raises(ValueError):
        shares_in_units(Decimal("1.000001"), 5)


def test_combine_adds_accounts_of_the_same_day() -> None:
    monday = date(2025, 1, 6)
    navs = {monday: Nav(monday, Decimal("1.5"))}
    one = roll_positions(
        PositionState.empty_before(monday),
        [monday],
        {monday: [Movement(monday, MovementKind.SUBSCRIPTION, Decimal("10"), Decimal("15"))]},
        navs,
    )[0]
    two = roll_positions(
        PositionState.empty_before(monday),
        [monday],
        {monday: [Movement(monday, MovementKind.SUBSCRIPTION, Decimal("20"), Decimal("30"))]},
        navs,
    )[0]
    both: DailyPosition = combine([one, two])
    assert both.shares == Decimal("30") and both.holdings == Decimal("45.00")
    assert both.subscriptions_total == Decimal("45.00")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(min_value=-50, max_value=400), min_size=1, max_size=10),
    st.lists(
        st.tuples(st.sampled_from(["buy", "sell", "move"]), st.integers(0, 1), st.integers(1, 10**7)),
        min_size=1,
        max_size=25,
    ),
)
def test_moves_between_ones_own_accounts_carry_the_cost_and_realize_nothing(
    steps: list[int], actions: list[tuple[str, int, int]]
) -> None:
    """Two accounts of one investor, buying, selling and moving shares between them (the move
    carrying the average cost it had in the sending account): no gain is ever transferred, each
    account's gains add up to its yield, and the cost basis moves without being created."""
    navs = _navs(30, steps)
    business = sorted(navs)
    books: list[dict[date, list[Movement]]] = [{}, {}]
    states = [PositionState.empty_before(START), PositionState.empty_before(START)]
    for index, (kind, book, size) in enumerate(actions):
        day = business[index * len(business) // len(actions)]  # days in order, never back
        nav = navs[day].value
        # Bring both accounts to the end of the day before (their state is what a move carries).
        for which in (0, 1):
            if states[which].day < day - timedelta(days=1):
                days = days_between(states[which].day + timedelta(days=1), day - timedelta(days=1))
                states[which] = roll_positions(states[which], days, books[which], navs)[-1].state()
        held = states[book].shares + sum((m.shares for m in books[book].get(day, [])), Decimal(0))
        if kind == "buy":
            amount = Decimal(size) / 100
            moved = (amount / nav).quantize(Decimal(1).scaleb(-SHARE_DECIMALS), rounding=ROUND_DOWN)
            if moved > 0:
                books[book].setdefault(day, []).append(
                    Movement(day, MovementKind.SUBSCRIPTION, moved, amount)
                )
            continue
        if held <= 0 or books[book].get(day):
            continue  # one movement a day per account keeps the carried cost simple to state
        leaving = min(held, Decimal(size).scaleb(-SHARE_DECIMALS))
        value = (leaving * nav).quantize(CENT, rounding=ROUND_DOWN)
        if kind == "sell":
            books[book].setdefault(day, []).append(Movement(day, MovementKind.REDEMPTION, -leaving, value))
            continue
        if books[1 - book].get(day):
            continue
        carried = cost_removed(states[book].cost_basis, leaving, held)
        books[book].setdefault(day, []).append(
            Movement(day, MovementKind.TRANSFER_OUT, -leaving, value, carried)
        )
        books[1 - book].setdefault(day, []).append(
            Movement(day, MovementKind.TRANSFER_IN, leaving, value, carried)
        )
    days = days_between(START, business[-1])
    rolled = [roll_positions(PositionState.empty_before(START), days, books[which], navs) for which in (0, 1)]
    for series in rolled:
        for position in series:
            assert position.transferred_gain_total == 0
            assert position.total_gain == position.yield_total
            assert position.cost_basis >= 0 or position.shares == 0
    for first, second in zip(*rolled, strict=True):
        both = combine([first, second])
        assert both.transfers_total == 0  # what leaves one account enters the other, at cost
        assert both.total_gain == both.yield_total


def test_a_corrected_redemption_gives_its_shares_back_and_redeems_again() -> None:
    """The reversal of a redemption (shares back, amount negative) is applied before the day's
    outgoing movements; the gain it realized stays realized, and the identity still holds."""
    monday, tuesday, wednesday = date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 8)
    navs = {
        monday: Nav(monday, Decimal("1.000000")),
        tuesday: Nav(tuesday, Decimal("1.100000")),
        wednesday: Nav(wednesday, Decimal("1.100000")),
    }
    movements = {
        monday: [Movement(monday, MovementKind.SUBSCRIPTION, Decimal("100"), Decimal("100.00"))],
        # Every share redeemed at 1.10 (realizing 10.00) ...
        tuesday: [Movement(tuesday, MovementKind.REDEMPTION, Decimal("-100"), Decimal("110.00"))],
        # ... corrected on Wednesday to 1.05: the new entry listed first, still applied after.
        wednesday: [
            Movement(wednesday, MovementKind.REDEMPTION, Decimal("-100"), Decimal("105.00")),
            Movement(wednesday, MovementKind.REDEMPTION, Decimal("100"), Decimal("-110.00")),
        ],
    }
    days = [monday, tuesday, wednesday]
    positions = roll_positions(PositionState.empty_before(monday), days, movements, navs)
    last = positions[-1]
    assert last.shares == 0 and last.holdings == 0 and last.cost_basis == 0
    assert last.redemptions == Decimal("-5.00") and last.redemptions_total == Decimal("105.00")
    # Realized: 10.00 when they left, then 105.00 - 110.00 when they left again at their new cost.
    assert last.realized_gain_total == Decimal("5.00")
    assert last.yield_total == last.realized_gain_total + last.unrealized_gain == Decimal("5.00")
