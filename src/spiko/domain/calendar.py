"""Business-day rules of a fund's calendar.

A day is a business day when it is a weekday (Monday to Friday) and not one of the fund's listed
non-operating days (holidays). Weekends are never listed: they are always non-operating.

The listed days come from official calendars, as the ``holidays`` library maintains them (with
the days observed in place of a holiday falling on a weekend, and substitute days), plus what
operators add by hand:

- ``target``: TARGET2, the euro settlement system's closing days (``XECB``);
- ``us``: the US Treasury market's recommended closes of SIFMA (``XSIF``), observed days
  included (2026-07-03 for Independence Day on a Saturday);
- ``uk``: the bank holidays of England and Wales, substitute days included (2026-12-28 for
  Boxing Day on a Saturday).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # imported when a calendar is first listed: it is only needed then
    import holidays as holiday_library

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


def _target(years: list[int]) -> holiday_library.HolidayBase:
    import holidays

    return holidays.financial_holidays("XECB", years=years)


def _us(years: list[int]) -> holiday_library.HolidayBase:
    import holidays

    return holidays.financial_holidays("XSIF", years=years)


def _uk(years: list[int]) -> holiday_library.HolidayBase:
    import holidays

    return holidays.country_holidays("GB", subdiv="ENG", years=years)


OFFICIAL_CALENDARS: Final[dict[str, Callable[[list[int]], holiday_library.HolidayBase]]] = {
    "target": _target,
    "us": _us,
    "uk": _uk,
}


def official_holidays(name: str, years: Iterable[int]) -> dict[date, str]:
    """The weekday closing days of an official calendar over ``years``, with their names."""
    try:
        source = OFFICIAL_CALENDARS[name]
    except KeyError:
        raise CalendarError(
            f"unknown calendar {name!r}; expected one of {', '.join(OFFICIAL_CALENDARS)}"
        ) from None
    days = source(sorted(set(years)))
    return {day: str(label) for day, label in sorted(days.items()) if not is_weekend(day)}
