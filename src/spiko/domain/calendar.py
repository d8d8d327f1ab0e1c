"""Business-day rules of a fund's calendar.

A day is a business day when it is a weekday (Monday to Friday) and not one of the fund's listed
non-operating days (holidays). Weekends are never listed: they are always non-operating.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date, timedelta

_ONE_DAY = timedelta(days=1)
# More consecutive non-operating days than any real calendar has; guards against a calendar
# that lists every day (which would otherwise loop forever).
MAX_SEARCH_DAYS = 366


class CalendarError(ValueError):
    """No business day could be found within the search window."""


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def is_business_day(day: date, holidays: Collection[date] = ()) -> bool:
    return not is_weekend(day) and day not in holidays


def next_business_day(day: date, holidays: Collection[date] = ()) -> date:
    """The first business day strictly after ``day``."""
    candidate = day
    for _ in range(MAX_SEARCH_DAYS):
        candidate += _ONE_DAY
        if is_business_day(candidate, holidays):
            return candidate
    raise CalendarError(f"no business day within {MAX_SEARCH_DAYS} days after {day.isoformat()}")


def previous_business_day(day: date, holidays: Collection[date] = ()) -> date:
    """The last business day strictly before ``day``."""
    candidate = day
    for _ in range(MAX_SEARCH_DAYS):
        candidate -= _ONE_DAY
        if is_business_day(candidate, holidays):
            return candidate
    raise CalendarError(f"no business day within {MAX_SEARCH_DAYS} days before {day.isoformat()}")


def on_or_after(day: date, holidays: Collection[date] = ()) -> date:
    """``day`` itself when it is a business day, else the next one."""
    return day if is_business_day(day, holidays) else next_business_day(day, holidays)


def on_or_before(day: date, holidays: Collection[date] = ()) -> date:
    """``day`` itself when it is a business day, else the previous one."""
    return day if is_business_day(day, holidays) else previous_business_day(day, holidays)


def add_business_days(day: date, count: int, holidays: Collection[date] = ()) -> date:
    """Move ``count`` business days forward (or backward when negative) from ``day``."""
    step = next_business_day if count >= 0 else previous_business_day
    for _ in range(abs(count)):
        day = step(day, holidays)
    return day


def business_days(start: date, end: date, holidays: Collection[date] = ()) -> Iterator[date]:
    """Every business day from ``start`` to ``end``, both included."""
    day = start
    while day <= end:
        if is_business_day(day, holidays):
            yield day
        day += _ONE_DAY
