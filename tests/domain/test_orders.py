"""The pure order rules: trade days against cut-offs and timezones, forward pricing, transitions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spiko.domain import orders as rules
from spiko.domain.orders import ExecutionMethod, FundTime, OrderRuleError, OrderStatus

PARIS = FundTime("Europe/Paris", time(16, 0), ExecutionMethod.KNOWN_NAVS)


def weekdays(day: date) -> bool:
    return day.weekday() < 5


def test_before_the_cut_off_an_order_trades_the_same_day_after_it_the_next_business_day():
    monday = date(2025, 3, 3)
    at = datetime(2025, 3, 3, 14, 59, tzinfo=UTC)  # 15:59 in Paris
    assert rules.trade_day(PARIS, at, weekdays) == monday
    assert rules.trade_day(PARIS, at + timedelta(minutes=1), weekdays) == date(2025, 3, 4)
    friday_evening = datetime(2025, 3, 7, 15, 30, tzinfo=UTC)
    assert rules.trade_day(PARIS, friday_evening, weekdays) == date(2025, 3, 10)
    saturday = datetime(2025, 3, 8, 9, 0, tzinfo=UTC)
    assert rules.trade_day(PARIS, saturday, weekdays) == date(2025, 3, 10)
    # Summer time: 16:00 in Paris is 14:00 UTC.
    assert rules.trade_day(PARIS, datetime(2025, 7, 1, 14, 0, tzinfo=UTC), weekdays) == date(2025, 7, 2)
    # The fund's own date, not the UTC one: 23:30 UTC on Monday is Tuesday in Tokyo.
    tokyo = FundTime("Asia/Tokyo", time(15, 0), ExecutionMethod.KNOWN_NAVS)
    assert rules.trade_day(tokyo, datetime(2025, 3, 3, 23, 30, tzinfo=UTC), weekdays) == date(2025, 3, 4)


def test_a_closed_day_and_a_known_nav_push_the_trade_day_on():
    at = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    assert rules.trade_day(PARIS, at, weekdays, closed_through=date(2025, 3, 3)) == date(2025, 3, 4)
    forward = FundTime("Europe/London", time(14, 0), ExecutionMethod.UNKNOWN_NAVS)
    published = {date(2025, 3, 3)}
    assert rules.trade_day(forward, at, weekdays, nav_published=published.__contains__) == date(2025, 3, 4)
    # knownNAVs: the NAV of the day is the one the order knows at the cut-off.
    assert rules.trade_day(PARIS, at, weekdays, nav_published=published.__contains__) == date(2025, 3, 3)


instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from(["Europe/Paris", "Europe/London", "America/New_York", "Asia/Tokyo", "UTC"])
cut_offs = st.times(min_value=time(8, 0), max_value=time(20, 0)).map(
    lambda t: t.replace(second=0, microsecond=0)
)
holidays = st.sets(st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 1, 31)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    instants,
    zones,
    cut_offs,
    st.sampled_from(list(ExecutionMethod)),
    holidays,
    st.sets(st.integers(min_value=-3, max_value=6), max_size=6),
    st.integers(min_value=-5, max_value=3),
)
def test_no_order_ever_trades_at_a_nav_published_before_its_receipt(
    received, zone, cut_off, method, closed_days, published_offsets, closed_offset
):
    """Property: the trade day is a business day on or after the fund's local date of receipt,
    after the last closed day, after the cut-off when received after it, and — under forward
    pricing — a day whose NAV was not published when the order arrived."""
    fund = FundTime(zone, cut_off, method)
    local = fund.local(received)
    business = lambda day: day.weekday() < 5 and day not in closed_days  # noqa: E731
    published = {local.date() + timedelta(days=offset) for offset in published_offsets}
    closed_through = local.date() + timedelta(days=closed_offset)
    day = rules.trade_day(
        fund, received, business, closed_through=closed_through, nav_published=published.__contains__
    )
    assert business(day)
    assert day >= local.date() and day > closed_through
    if local.time() >= cut_off or not business(local.date()):
        assert day > local.date()
    if method is ExecutionMethod.UNKNOWN_NAVS:
        assert day not in published
        # The NAV struck for the trade day comes after the receipt, so it may price the order.
        assert rules.forward_priced(method, received, received + timedelta(microseconds=1))
        assert not rules.forward_priced(method, received, received)
    # The first such day: every business day skipped was closed, published (forward) or past the cut-off.
    probe = local.date()
    while probe < day:
        skipped = (
            not business(probe)
            or probe <= closed_through
            or (probe == local.date() and local.time() >= cut_off)
            or (method is ExecutionMethod.UNKNOWN_NAVS and probe in published)
        )
        assert skipped, probe
        probe += timedelta(days=1)


def test_the_transitions_refuse_what_the_rules_forbid():
    monday, tuesday = date(2025, 3, 3), date(2025, 3, 4)
    with pytest.raises(OrderRuleError, match="before the order existed") as refused:
        rules.check_funding(OrderStatus.PENDING, False, tuesday, monday, None)
    assert refused.value.code == "FundingBeforeOrder"
    with pytest.raises(OrderRuleError, match="already funded"):
        rules.check_funding(OrderStatus.PENDING, True, monday, monday, None)
    with pytest.raises(OrderRuleError) as refused:
        rules.check_funding(OrderStatus.PENDING, False, monday, monday, monday)
    assert refused.value.code == "DayClosed"
    rules.check_funding(OrderStatus.PENDING, False, monday, tuesday, monday)

    at = datetime(2025, 3, 3, 9, tzinfo=UTC)
    common = {"method": ExecutionMethod.UNKNOWN_NAVS, "trade_day": tuesday, "received_at": at}
    with pytest.raises(OrderRuleError) as refused:
        rules.check_execution(
            OrderStatus.PENDING, day=monday, nav_published_at=at, closed_through=None, **common
        )
    assert refused.value.code == "BeforeTradeDay"
    with pytest.raises(OrderRuleError) as refused:
        rules.check_execution(
            OrderStatus.PENDING, day=tuesday, nav_published_at=at, closed_through=None, **common
        )
    assert refused.value.code == "NavKnownAtReceipt"
    with pytest.raises(OrderRuleError) as refused:
        rules.check_execution(
            OrderStatus.EXECUTED, day=tuesday, nav_published_at=at, closed_through=None, **common
        )
    assert refused.value.code == "OrderNotPending"
    rules.check_execution(
        OrderStatus.PENDING,
        day=tuesday,
        nav_published_at=at + timedelta(hours=8),
        closed_through=monday,
        **common,
    )
    with pytest.raises(OrderRuleError):
        rules.check_cancel(OrderStatus.EXECUTED)
    with pytest.raises(OrderRuleError, match="funds of this deposit"):
        rules.check_cancel(OrderStatus.PENDING, funded=True)
    with pytest.raises(OrderRuleError) as refused:
        rules.check_correction(OrderStatus.EXECUTED, monday, monday, monday)
    assert refused.value.code == "DayClosed"
    with pytest.raises(OrderRuleError):
        rules.check_correction(OrderStatus.PENDING, None, tuesday, monday)
    with pytest.raises(OrderRuleError) as refused:
        rules.check_nav_day(tuesday, monday, None)
    assert refused.value.code == "NavInTheFuture"
    with pytest.raises(OrderRuleError, match="HH:MM"):
        rules.parse_cut_off("4pm")
    assert rules.parse_cut_off("09:30") == time(9, 30)
