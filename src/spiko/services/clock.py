"""The sandbox clock: the day, and the time of day, the system believes it is.

Unset, it follows the real time. Operators (and ``spiko sandbox advance``) set a day to replay a
fund cycle in seconds: the clock then stands at that day's :data:`DAY_START` (UTC), or at the
time of day given, when it is set, and runs on from there, so a cut-off can be crossed (set a
time after it) and the receipt times of orders keep their order.
Every rule that needs "today" asks :func:`today`, every receipt time :func:`now`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from spiko.db.models.funds import SandboxClock
from spiko.db.types import utcnow

_CLOCK_ID = 1
# A set day starts in the morning, before any fund's cut-off, in every timezone the funds use.
DAY_START = time(9, 0)


def real_today() -> date:
    return datetime.now(UTC).date()


def _row(session: Session) -> SandboxClock | None:
    row = session.get(SandboxClock, _CLOCK_ID)
    return row if row is not None and row.today is not None else None


def sandbox_day(session: Session) -> date | None:
    """The day the sandbox clock is set to, or None when it follows the real date."""
    row = _row(session)
    if row is None:
        return None
    return now(session).date() if row.moment is not None else row.today


def now(session: Session) -> datetime:
    """The current instant (UTC): the sandbox's when it is set, else the real one."""
    real = utcnow()
    row = _row(session)
    if row is None or row.today is None:
        return real
    if row.moment is not None:
        return row.moment + (real - row.updated_at)
    return datetime.combine(row.today, real.timetz())


def today(session: Session) -> date:
    """The sandbox day when one is set, else the real UTC date."""
    return sandbox_day(session) or real_today()


def set_today(session: Session, day: date | None, at: time | None = None) -> date:
    """Set the sandbox day (``None`` goes back to the real time), at a UTC time of day if given."""
    row = session.get(SandboxClock, _CLOCK_ID)
    moment = datetime.combine(day, (at or DAY_START).replace(tzinfo=UTC)) if day is not None else None
    if row is None:
        row = SandboxClock(id=_CLOCK_ID, today=day, moment=moment, updated_at=utcnow())
        session.add(row)
    else:
        row.today = day
        row.moment = moment
        row.updated_at = utcnow()
    session.flush()
    return day or real_today()
