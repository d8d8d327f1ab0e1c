"""The daily close of a fund: confirm the day's NAVs, execute the day's orders, book every
account's positions, reconcile, and mark the day closed — all in one transaction.

A close that fails or is interrupted (the process killed midway) commits nothing: the day stays
open and the close re-runs from the start. A day already closed is reported as such and left
alone. Days close in order: a fund never closes a day before its latest closed day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from spiko.db.models.funds import Fund
from spiko.db.models.register import FundClose
from spiko.errors import ApplicationError
from spiko.services import clock, execution, reconcile, reference, register
from spiko.services.reporting import positions as position_store


@dataclass
class FundCloseResult:
    """What the close did for one fund (``status``: closed, alreadyClosed, notBusinessDay)."""

    fund: str
    day: date
    status: str
    navs: dict[str, str] = field(default_factory=dict)
    deposits_executed: int = 0
    withdrawals_executed: int = 0
    positions_booked: int = 0
    reconciliation: list[Any] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "fund": self.fund,
            "day": self.day.isoformat(),
            "status": self.status,
            "navs": self.navs,
            "depositsExecuted": self.deposits_executed,
            "withdrawalsExecuted": self.withdrawals_executed,
            "positionsBooked": self.positions_booked,
            "reconciliation": self.reconciliation,
        }


@dataclass
class CloseSummary:
    day: date
    funds: list[FundCloseResult] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "funds": [result.as_json() for result in self.funds]}


def close_day(session: Session, day: date | None = None, *, fund_slug: str | None = None) -> CloseSummary:
    """Close ``day`` (default: today) for every fund whose business day it is (or for one fund)."""
    today = clock.today(session)
    day = day or today
    if day > today:
        raise ApplicationError(
            f"{day.isoformat()} has not come yet (today is {today.isoformat()}); only a past or "
            "present day can be closed",
            "DayInTheFuture",
        )
    funds = [reference.get_fund_by_slug(session, fund_slug)] if fund_slug else reference.list_funds(session)
    summary = CloseSummary(day)
    for fund in funds:
        summary.funds.append(close_fund_day(session, fund, day))
    return summary


def close_fund_day(
    session: Session, fund: Fund, day: date, run: execution.ExecutionSummary | None = None
) -> FundCloseResult:
    """Close one fund's day; what it executes is also added to ``run`` when given."""
    # The fund's row lock serializes two closes of one fund (SQLite: BEGIN IMMEDIATE already does).
    session.execute(select(Fund.id).where(Fund.id == fund.id).with_for_update())
    if not reference.is_business_day(session, fund.id, day):
        return FundCloseResult(fund.slug, day, "notBusinessDay")
    last = register.closed_through(session, fund.id)
    if last is not None and day <= last:
        if session.get(FundClose, (fund.id, day)) is not None:
            return FundCloseResult(fund.slug, day, "alreadyClosed")
        raise ApplicationError(
            f"{fund.slug} is closed through {last.isoformat()}; {day.isoformat()} can no longer be closed",
            "DayClosed",
        )
    _lock_share_classes(session, fund)
    result = FundCloseResult(fund.slug, day, "closed")
    run = run if run is not None else execution.ExecutionSummary(day)
    executed_before = (len(run.deposits), len(run.withdrawals))
    for share_class in fund.share_classes:
        nav = reference.nav_on(session, share_class.id, day)
        if nav is None:
            raise ApplicationError(
                f"no NAV of {share_class.symbol} for {day.isoformat()}: publish it "
                "(spiko nav publish) before closing the day",
                "NavMissing",
            )
        result.navs[share_class.symbol] = format(nav.value.normalize(), "f")
        execution.execute_share_class(session, share_class, day, run)
    result.deposits_executed = len(run.deposits) - executed_before[0]
    result.withdrawals_executed = len(run.withdrawals) - executed_before[1]
    session.flush()
    for share_class in fund.share_classes:
        result.positions_booked += position_store.book_day(session, share_class, day, last)
    result.reconciliation = _reconcile(session, fund, day)
    session.add(FundClose(fund_id=fund.id, day=day, closed_at=clock.now(session), summary=result.as_json()))
    session.flush()
    return result


def _lock_share_classes(session: Session, fund: Fund) -> None:
    """On PostgreSQL, hold each share class's NAV lock exclusively for the close (every refill of
    stored positions takes it shared), so the ledger trigger can skip its per-account lock: a close
    writes thousands of movements, and one lock each would exhaust the lock table."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite serializes write transactions (BEGIN IMMEDIATE).
    for share_class in fund.share_classes:
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended("nav/" + share_class.id, 0))))
    session.execute(text("SET LOCAL spiko.bulk_movements = 'on'"))
    # The close joins and sorts a row per account (the carry's hash join, the reconciliation's
    # grouped sums): room to do it in memory rather than in batches spilled to disk.
    session.execute(text("SET LOCAL work_mem = '64MB'"))


def ready_to_close(session: Session, fund: Fund, day: date) -> bool:
    """Whether every share class of the fund has its NAV for ``day`` (the close needs them all)."""
    return all(
        reference.nav_on(session, share_class.id, day) is not None for share_class in fund.share_classes
    )


def _reconcile(session: Session, fund: Fund, day: date) -> list[dict[str, Any]]:
    """The reconciliation of the fund's share classes on ``day``; a difference refuses the close."""
    results = reconcile.reconcile(session, day, fund_id=fund.id)
    unbalanced = [result for result in results if not result.balanced]
    if unbalanced:
        differences = "; ".join(
            f"{result.share_class.symbol}: {'; '.join(result.differences)}" for result in unbalanced
        )
        raise ApplicationError(
            f"{fund.slug} does not reconcile on {day.isoformat()}, so the day stays open: {differences}",
            "ReconciliationFailed",
        )
    return [result.summary() for result in results]
