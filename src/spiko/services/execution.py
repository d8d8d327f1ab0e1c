"""Execution of orders at a day's NAV, and the share ledger rows it writes.

Cut-off rule: ``execute_orders(day)`` executes, at the NAV published for ``day``, every pending
deposit funded on or before ``day`` and every pending withdrawal created on or before ``day``.
An order is therefore priced at the NAV of the first execution day on or after the day it
became executable (funded, for a deposit; created, for a withdrawal) — never at a NAV older
than that day. A share class without a NAV for ``day`` executes nothing; its orders wait.
Deposits execute before withdrawals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.funds import ShareClass
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import DepositOrder, WithdrawalOrder
from spiko.domain.money import (
    amount_for_shares,
    shares_for_amount,
    shares_to_withdraw,
)
from spiko.errors import ApplicationError, InvariantError
from spiko.outbox import snapshots
from spiko.services import orders, reference


@dataclass(frozen=True)
class ExecutedDeposit:
    order: DepositOrder
    share_class: ShareClass
    nav: Decimal


@dataclass(frozen=True)
class ExecutedWithdrawal:
    order: WithdrawalOrder
    share_class: ShareClass
    nav: Decimal


@dataclass
class ExecutionSummary:
    """What one execution run did (``presenters.operations`` shapes it for the CLI)."""

    day: date
    deposits: list[ExecutedDeposit] = field(default_factory=list)
    withdrawals: list[ExecutedWithdrawal] = field(default_factory=list)
    waiting_for_nav: list[str] = field(default_factory=list)


def record_movement(
    session: Session,
    *,
    investor_id: str,
    account_id: str,
    share_class: ShareClass,
    kind: str,
    order_id: str,
    day: date,
    executed_at: datetime,
    shares: Decimal,
    amount: Decimal,
    nav: Decimal,
    cost: Decimal | None = None,
) -> ShareMovement:
    row = ShareMovement(
        investor_id=investor_id,
        account_id=account_id,
        share_class_id=share_class.id,
        kind=kind,
        order_id=order_id,
        day=day,
        executed_at=executed_at,
        shares=shares,
        amount=amount,
        nav=nav,
        cost=cost,
        currency=share_class.currency,
    )
    session.add(row)
    return row


def execute_deposit(
    session: Session, order: DepositOrder, nav: Decimal, day: date, *, executed_at: datetime | None = None
) -> ShareMovement:
    """Buy ``floor(amount / NAV)`` shares; the cash left (under one share quantum) stays in the fund."""
    share_class = orders.share_class(session, order.share_class_id)
    shares = shares_for_amount(order.amount, nav, share_class.share_decimals)
    when = executed_at or orders.executed_at_for(day)
    order.status = "executed"
    order.shares = shares
    order.nav = nav
    order.execution_day = day
    order.executed_at = when
    snapshots.deposit_order(session, "executed", order)
    return record_movement(
        session,
        investor_id=order.investor_id,
        account_id=order.account_id,
        share_class=share_class,
        kind="subscription",
        order_id=order.id,
        day=day,
        executed_at=when,
        shares=shares,
        amount=order.amount,
        nav=nav,
    )


def execute_withdrawal(
    session: Session, order: WithdrawalOrder, nav: Decimal, day: date, *, executed_at: datetime | None = None
) -> ShareMovement | None:
    """Redeem the order's shares and pay ``floor(shares x NAV)`` to the cent.

    ``amount`` orders redeem ``ceil(amount / NAV)`` shares (so the payment is never below the
    amount asked for; all of them when the amount is their whole value), ``total`` orders
    everything not reserved by other pending withdrawals; both are capped at what the account
    has left, so an account never goes below zero.
    """
    share_class = orders.share_class(session, order.share_class_id)
    orders.lock_accounts(session, order.account_id)
    left = orders.available(session, order.account_id, order.share_class_id, excluding=order.id)
    if order.quantity_mode == "shares":
        if order.requested_shares is None:
            raise InvariantError(f"withdrawal order {order.id} by shares has no shares")
        shares = order.requested_shares
    elif order.quantity_mode == "amount":
        if order.requested_amount is None:
            raise InvariantError(f"withdrawal order {order.id} by amount has no amount")
        shares = shares_to_withdraw(
            order.requested_amount, nav, left, share_class.share_decimals, share_class.currency
        )
    else:
        shares = left
    shares = max(Decimal(0), min(shares, left))
    paid = amount_for_shares(shares, nav, share_class.currency)
    when = executed_at or orders.executed_at_for(day)
    order.status = "executed"
    order.shares = shares
    order.amount = paid
    order.nav = nav
    order.execution_day = day
    order.executed_at = when
    snapshots.withdrawal_order(session, "executed", order)
    if shares == 0:
        return None
    return record_movement(
        session,
        investor_id=order.investor_id,
        account_id=order.account_id,
        share_class=share_class,
        kind="redemption",
        order_id=order.id,
        day=day,
        executed_at=when,
        shares=-shares,
        amount=paid,
        nav=nav,
    )


def execute_orders(session: Session, day: date | None = None) -> ExecutionSummary:
    """Execute what is executable on ``day`` (default: today) at that day's NAVs."""
    today = orders.today(session)
    day = day or today
    if day > today:
        raise ApplicationError(
            f"{day.isoformat()} is after today ({today.isoformat()}); orders execute on past days only",
            "OrderInTheFuture",
        )
    summary = ExecutionSummary(day)
    for share_class in reference.list_share_classes(session):
        nav_row = reference.nav_on(session, share_class.id, day)
        has_work = _has_pending(session, share_class.id, day)
        if nav_row is None:
            if has_work:
                summary.waiting_for_nav.append(share_class.symbol)
            continue
        if not has_work:
            continue
        nav = nav_row.value
        deposits = session.scalars(
            select(DepositOrder)
            .where(
                DepositOrder.share_class_id == share_class.id,
                DepositOrder.status == "pending",
                DepositOrder.funded_day <= day,
            )
            .order_by(DepositOrder.funded_at, DepositOrder.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        for deposit in deposits:
            execute_deposit(session, deposit, nav, day)
            summary.deposits.append(ExecutedDeposit(deposit, share_class, nav))
        session.flush()
        withdrawals = session.scalars(
            select(WithdrawalOrder)
            .where(
                WithdrawalOrder.share_class_id == share_class.id,
                WithdrawalOrder.status == "pending",
                WithdrawalOrder.created_day <= day,
            )
            .order_by(WithdrawalOrder.created_at, WithdrawalOrder.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        for withdrawal in withdrawals:
            execute_withdrawal(session, withdrawal, nav, day)
            session.flush()
            summary.withdrawals.append(ExecutedWithdrawal(withdrawal, share_class, nav))
    session.flush()
    return summary


def _has_pending(session: Session, share_class_id: str, day: date) -> bool:
    deposit = session.scalar(
        select(DepositOrder.id)
        .where(
            DepositOrder.share_class_id == share_class_id,
            DepositOrder.status == "pending",
            DepositOrder.funded_day <= day,
        )
        .limit(1)
    )
    if deposit is not None:
        return True
    withdrawal = session.scalar(
        select(WithdrawalOrder.id)
        .where(
            WithdrawalOrder.share_class_id == share_class_id,
            WithdrawalOrder.status == "pending",
            WithdrawalOrder.created_day <= day,
        )
        .limit(1)
    )
    return withdrawal is not None
