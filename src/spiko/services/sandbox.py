"""The sandbox clock moving forward: a whole fund cycle in seconds.

Each step sets the clock to the next business day (of any fund), publishes that day's NAVs grown
at the configured annual rate from the previous ones and that day's exchange rates, lets every
pending unfunded deposit arrive in full (the sandbox's bank pays everything), and runs the daily
close of every fund whose business day it is (``services.close``: the day's orders execute, every
account's positions are booked, the day is closed). Near the end of a year it lists the
official closing days of the years ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.funds import NetAssetValue, ShareClass
from spiko.db.models.orders import DepositOrder
from spiko.domain import calendar
from spiko.services import clock, close, deposits, execution, idempotency, reference, register, seed


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
    rates_published: int = 0


def advance_one_day(session: Session, annual_rate: Decimal) -> SandboxDay:
    previous = clock.today(session)
    if previous.year != (previous + timedelta(days=7)).year:
        seed.extend_official_holidays(session, previous.year + 2)
    day = next_business_day(session, previous)
    clock.set_today(session, day)
    navs = reference.publish_growth_navs(session, day, annual_rate)
    rates = seed.publish_demo_rates(session, day)
    share_classes = {sc.id: sc for sc in reference.list_share_classes(session)}
    funded = deposits.fund_all_pending(session, day)
    summary = execution.ExecutionSummary(day)
    for fund in reference.list_funds(session):
        if not reference.is_business_day(session, fund.id, day) or register.is_closed(session, fund.id, day):
            continue
        if close.ready_to_close(session, fund, day):
            close.close_fund_day(session, fund, day, summary)
        else:  # a share class without any NAV yet: nothing can execute, the day stays open
            for share_class in fund.share_classes:
                execution.execute_share_class(session, share_class, day, summary)
    book_yields(session, previous + timedelta(days=1), day)
    book_statements(session, previous, day)
    idempotency.purge_expired(session)
    return SandboxDay(day, [(share_classes[row.share_class_id], row) for row in navs], funded, summary, rates)


def ended_months(previous: date, today: date) -> list[tuple[date, date]]:
    """(first day, last day) of each month that ended as the clock moved from ``previous`` to
    ``today``: its last day is ``previous`` or later, and before ``today``."""
    months: list[tuple[date, date]] = []
    start = previous.replace(day=1)
    while True:
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        end = following - timedelta(days=1)
        if end >= today:
            return months
        if end >= previous:
            months.append((start, end))
        start = following


def book_statements(session: Session, previous: date, today: date) -> int:
    """Record a ``statement.available`` event for every account and share class with shares
    booked by the end of each month that has just ended (once each, however often this runs)."""
    from spiko.db.models.ledger import ShareMovement
    from spiko.outbox import snapshots

    share_classes = {sc.id: sc for sc in reference.list_share_classes(session)}
    told = 0
    for first, last in ended_months(previous, today):
        holders = session.execute(
            select(ShareMovement.investor_id, ShareMovement.account_id, ShareMovement.share_class_id)
            .where(ShareMovement.day <= last)
            .distinct()
            .order_by(ShareMovement.investor_id, ShareMovement.account_id, ShareMovement.share_class_id)
        ).all()
        for investor_id, account_id, share_class_id in holders:
            share_class = share_classes[share_class_id]
            event = snapshots.statement_available(session, investor_id, account_id, share_class, first, last)
            told += event is not None
    return told


def book_yields(session: Session, first: date, last: date) -> int:
    """Record a ``yield.booked`` event for every account's accruing day from ``first`` to ``last``
    (once per account, share class and day, however often this runs); returns how many."""
    from spiko.db.models.ledger import ShareMovement
    from spiko.outbox import snapshots
    from spiko.services.reporting import positions

    pairs = session.execute(
        select(ShareMovement.investor_id, ShareMovement.account_id, ShareMovement.share_class_id)
        .where(ShareMovement.day <= last)
        .distinct()
    ).all()
    share_classes = {sc.id: sc for sc in reference.list_share_classes(session)}
    booked = 0
    for investor_id, account_id, share_class_id in pairs:
        share_class = share_classes[share_class_id]
        for entry in positions.account_positions(session, account_id, share_class, first, last):
            if not entry.accrues or entry.position.nav is None or entry.position.nav.nav_id is None:
                continue
            booked += snapshots.yield_booked(session, investor_id, share_class, entry) is not None
    return booked
