"""The sandbox clock moving forward: a whole fund cycle in seconds.

Each step goes to the next business day (of any fund), publishes that day's NAVs grown at the
configured annual rate from the previous ones, lets every pending unfunded deposit arrive in
full (the sandbox's bank pays everything), executes what is executable at the new NAVs, and
sets the clock to that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from spiko.db.models.funds import NetAssetValue, ShareClass
from spiko.db.models.orders import DepositOrder
from spiko.domain import calendar
from spiko.services import clock, deposits, execution, idempotency, reference


def next_business_day(session: Session, day: date) -> date:
    """The first day after ``day`` that is a business day of at least one fund."""
    funds = reference.list_funds(session)
    if not funds:
        return calendar.next_business_day(day)
    return min(reference.next_business_day(session, fund.id, day) for fund in funds)


@dataclass(frozen=True)
class SandboxDay:
    """One step of the sandbox clock: the NAVs it published, the wires it received, what it executed."""

    day: date
    navs: list[tuple[ShareClass, NetAssetValue]]
    funded: list[DepositOrder]
    execution: execution.ExecutionSummary


def advance_one_day(session: Session, annual_rate: Decimal) -> SandboxDay:
    day = next_business_day(session, clock.today(session))
    navs = reference.publish_growth_navs(session, day, annual_rate)
    share_classes = {sc.id: sc for sc in reference.list_share_classes(session)}
    funded = deposits.fund_all_pending(session, day)
    clock.set_today(session, day)
    summary = execution.execute_orders(session, day)
    idempotency.purge_expired(session)
    return SandboxDay(day, [(share_classes[row.share_class_id], row) for row in navs], funded, summary)
