"""The sandbox clock: the day the system believes it is.

Unset, it follows the real UTC date. Operators (and ``spiko sandbox advance``) set it to replay a
fund cycle in seconds; every rule that needs "today" asks :func:`today`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from spiko.db.models.funds import SandboxClock
from spiko.db.types import utcnow

_CLOCK_ID = 1


def real_today() -> date:
    return datetime.now(UTC).date()


def sandbox_day(session: Session) -> date | None:
    """The day the sandbox clock is set to, or None when it follows the real date."""
    row = session.get(SandboxClock, _CLOCK_ID)
    return row.today if row is not None else None


def today(session: Session) -> date:
    """The sandbox day when one is set, else the real UTC date."""
    return sandbox_day(session) or real_today()


def set_today(session: Session, day: date | None) -> date:
    """Set the sandbox day (``None`` goes back to the real UTC date); returns the resulting today."""
    row = session.get(SandboxClock, _CLOCK_ID)
    if row is None:
        row = SandboxClock(id=_CLOCK_ID, today=day, updated_at=utcnow())
        session.add(row)
    else:
        row.today = day
        row.updated_at = utcnow()
    session.flush()
    return day or real_today()
