"""Business-day rules: weekends and listed holidays are closed; next/previous never land on them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spiko.domain import calendar

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 1))
holiday_sets = st.frozensets(days, max_size=40)


def test_weekends_are_never_business_days() -> None:
    saturday, sunday, monday = date(2024, 6, 29), date(2024, 6, 30), date(2024, 7, 1)
    assert not calendar.is_business_day(saturday)
    assert not calendar.is_business_day(sunday)
    assert calendar.is_business_day(monday)
    assert not calendar.is_business_day(monday, {monday})


def test_next_and_previous_skip_a_long_weekend() -> None:
    good_friday, easter_monday = date(2025, 4, 18), date(2025, 4, 21)
    holidays = {good_friday, easter_monday}
    assert calendar.next_business_day(date(2025, 4, 17), holidays) == date(2025, 4, 22)
    assert calendar.previous_business_day(date(2025, 4, 22), holidays) == date(2025, 4, 17)
    assert calendar.add_business_days(date(2025, 4, 17), 2, holidays) == date(2025, 4, 23)
    assert calendar.add_business_days(date(2025, 4, 23), -2, holidays) == date(2025, 4, 17)


def test_a_calendar_without_business_days_is_an_error_not_a_hang() -> None:
    start = date(2024, 1, 1)
    everything = {start + timedelta(days=i) for i in range(-400, 400)}
    with pytest.raises(calendar.CalendarError):
        calendar.next_business_day(start, everything)
    with pytest.raises(calendar.CalendarError):
        calendar.previous_business_day(start, everything)


@given(days, holiday_sets)
def test_next_business_day_is_the_first_open_day_after(day: date, holidays: frozenset[date]) -> None:
    after = calendar.next_business_day(day, holidays)
    assert after > day
    assert calendar.is_business_day(after, holidays)
    assert after.weekday() < 5 and after not in holidays
    gap = day + timedelta(days=1)
    while gap < after:
        assert not calendar.is_business_day(gap, holidays)
        gap += timedelta(days=1)


@given(days, holiday_sets)
def test_previous_business_day_is_the_last_open_day_before(day: date, holidays: frozenset[date]) -> None:
    before = calendar.previous_business_day(day, holidays)
    assert before < day
    assert calendar.is_business_day(before, holidays)
    gap = before + timedelta(days=1)
    while gap < day:
        assert not calendar.is_business_day(gap, holidays)
        gap += timedelta(days=1)


@given(days, holiday_sets)
def test_next_and_previous_are_inverse_on_business_days(day: date, holidays: frozenset[date]) -> None:
    assert calendar.previous_business_day(calendar.next_business_day(day, holidays), holidays) == (
        calendar.on_or_before(day, holidays)
    )
    assert calendar.next_business_day(calendar.previous_business_day(day, holidays), holidays) == (
        calendar.on_or_after(day, holidays)
    )


@given(days, holiday_sets, st.integers(min_value=-30, max_value=30))
def test_adding_business_days_counts_open_days(day: date, holidays: frozenset[date], count: int) -> None:
    moved = calendar.add_business_days(day, count, holidays)
    if count == 0:
        assert moved == day
        return
    assert calendar.is_business_day(moved, holidays)
    low, high = sorted((day, moved))
    opened = list(calendar.business_days(low + timedelta(days=1), high, holidays))
    if count > 0:
        assert len(opened) == count
    else:
        # Going back, the start day is excluded and the landing day included.
        assert len(list(calendar.business_days(low, high - timedelta(days=1), holidays))) == -count


@given(days, holiday_sets)
def test_on_or_before_and_on_or_after_bracket_the_day(day: date, holidays: frozenset[date]) -> None:
    before, after = calendar.on_or_before(day, holidays), calendar.on_or_after(day, holidays)
    assert before <= day <= after
    assert (before == day == after) == calendar.is_business_day(day, holidays)
