"""The register's time: fund configuration, closed days, trade days and booking days.

A fund's days up to its latest close are closed: nothing dated on them changes any more (NAVs,
funding, execution, movements). Orders received after a close trade on a later day; what is
booked at once (transfers, instant redemptions) is booked on the day it happens, or on the next
business day when that day is already closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spiko.db.models.funds import Fund, ShareClass
from spiko.db.models.register import FundClose
from spiko.domain import orders as rules
from spiko.errors import ApplicationError
from spiko.services import clock, reference


@contextmanager
def enforced() -> Iterator[None]:
    """Turn the domain's refusals into the API's tagged 400 (and the CLI's one-line error)."""
    try:
        yield
    except rules.OrderRuleError as error:
        raise ApplicationError(error.reason, error.code) from error


def fund_time(fund: Fund) -> rules.FundTime:
    return rules.FundTime(
        timezone=fund.timezone,
        cut_off=rules.parse_cut_off(fund.cut_off),
        execution_method=rules.ExecutionMethod(fund.execution_method),
    )


def closed_through(session: Session, fund_id: str) -> date | None:
    """The fund's last closed day (every day up to it is closed), or None before its first close."""
    return session.scalar(select(func.max(FundClose.day)).where(FundClose.fund_id == fund_id))


def is_closed(session: Session, fund_id: str, day: date) -> bool:
    last = closed_through(session, fund_id)
    return last is not None and day <= last


def trade_day(session: Session, share_class: ShareClass, received_at: datetime) -> date:
    """The business day an order of this share class received at ``received_at`` trades on."""
    fund = share_class.fund
    with enforced():
        return rules.trade_day(
            fund_time(fund),
            received_at,
            lambda day: reference.is_business_day(session, fund.id, day),
            closed_through=closed_through(session, fund.id),
            nav_published=lambda day: reference.nav_on(session, share_class.id, day) is not None,
        )


def booking_day(session: Session, fund_id: str, day: date | None = None) -> date:
    """The day something happening now is booked on: today, or the next business day once today
    is closed."""
    today = day or clock.today(session)
    last = closed_through(session, fund_id)
    if last is None or today > last:
        return today
    return reference.next_business_day(session, fund_id, last)


def check_open(session: Session, fund_id: str, day: date, what: str) -> None:
    last = closed_through(session, fund_id)
    if last is not None and day <= last:
        raise ApplicationError(
            f"{day.isoformat()} is closed (closed through {last.isoformat()}): {what} cannot be dated on it",
            "DayClosed",
        )


def configure_fund(
    session: Session, slug: str, *, execution_method: str | None = None, cut_off: str | None = None
) -> Fund:
    """Change a fund's execution method or cut-off; orders already received keep their trade day."""
    fund = session.scalar(select(Fund).where(Fund.slug == slug).with_for_update())
    if fund is None:
        raise LookupError(f"no fund {slug}")
    with enforced():
        if execution_method is not None:
            try:
                fund.execution_method = rules.ExecutionMethod(execution_method).value
            except ValueError:
                raise rules.OrderRuleError(
                    f"an execution method is knownNAVs or unknownNAVs, not {execution_method!r}",
                    "InvalidExecutionMethod",
                ) from None
        if cut_off is not None:
            fund.cut_off = rules.parse_cut_off(cut_off).strftime("%H:%M")
    session.flush()
    return fund
