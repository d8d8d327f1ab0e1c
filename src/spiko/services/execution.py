"""Execution of orders at a day's NAV, and the share ledger rows it writes.

``execute_orders(day)`` executes, at the NAV published for ``day``, every pending order whose
trade day (``domain.orders.trade_day``) is ``day`` or earlier, deposits once funded on or before
``day``. Under ``unknownNAVs`` an order received after that NAV was published waits for the next
one (forward pricing). A share class without a NAV for ``day`` executes nothing; a closed day
executes nothing either. The loop runs over the registered order kinds (``ORDER_KINDS``):
deposits, then withdrawals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from spiko.db.models.funds import ShareClass
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import DepositOrder, WithdrawalOrder
from spiko.db.types import new_id, utcnow
from spiko.domain.money import (
    amount_for_shares,
    shares_for_amount,
    shares_to_withdraw,
)
from spiko.domain.orders import ExecutionMethod, OrderStatus, forward_priced
from spiko.errors import ApplicationError, InvariantError
from spiko.outbox import snapshots
from spiko.services import orders, reference, register, sums


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


def deposit_shares(order: DepositOrder, nav: Decimal, share_class: ShareClass) -> Decimal:
    """The shares a deposit buys at ``nav``: ``floor(amount / NAV)`` to the share quantum."""
    return shares_for_amount(order.amount, nav, share_class.share_decimals)


def withdrawal_shares(
    order: WithdrawalOrder, nav: Decimal, left: Decimal, share_class: ShareClass
) -> tuple[Decimal, Decimal]:
    """The shares a withdrawal redeems at ``nav`` from an account with ``left`` shares available,
    and what they pay (see :func:`execute_withdrawal`)."""
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
    return shares, amount_for_shares(shares, nav, share_class.currency)


def execute_deposit(
    session: Session, order: DepositOrder, nav: Decimal, day: date, *, executed_at: datetime | None = None
) -> ShareMovement:
    """Buy ``floor(amount / NAV)`` shares; the cash left (under one share quantum) stays in the fund."""
    share_class = orders.share_class(session, order.share_class_id)
    shares = deposit_shares(order, nav, share_class)
    when = executed_at or orders.executed_at_for(session, day)
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
    session: Session,
    order: WithdrawalOrder,
    nav: Decimal,
    day: date,
    *,
    executed_at: datetime | None = None,
    left: Decimal | None = None,
) -> ShareMovement | None:
    """Redeem the order's shares and pay ``floor(shares x NAV)`` to the cent.

    ``amount`` orders redeem ``ceil(amount / NAV)`` shares (so the payment is never below the
    amount asked for; all of them when the amount is their whole value), ``total`` orders
    everything not reserved by other pending withdrawals; both are capped at what the account
    has left, so an account never goes below zero. ``left`` is that balance when the caller
    (the batch below) already holds the account's lock and knows it.
    """
    share_class = orders.share_class(session, order.share_class_id)
    if left is None:
        orders.lock_accounts(session, order.account_id)
        left = orders.available(session, order.account_id, order.share_class_id, excluding=order.id)
    shares, paid = withdrawal_shares(order, nav, left, share_class)
    when = executed_at or orders.executed_at_for(session, day)
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


# --- the execution loop over registered order kinds ----------------------------------------------


@dataclass(frozen=True)
class OrderKind:
    """One kind of order the loop executes: which of its orders are executable on a day, and how
    one executes. A new kind registers here and nowhere else in the execution path."""

    name: str
    model: type[DepositOrder] | type[WithdrawalOrder]
    executable: Callable[[str, date], Select[Any]]
    # Runs a day's batch of the kind's orders at one NAV (one share class).
    execute_batch: Callable[[Session, Sequence[Any], Decimal, date], None]
    record: Callable[[ExecutionSummary, Any, ShareClass, Decimal], None]


ORDER_KINDS: list[OrderKind] = []


def register_kind(kind: OrderKind) -> None:
    """Add an order kind to the loop; kinds execute in the order registered."""
    ORDER_KINDS.append(kind)


def _executable_deposits(share_class_id: str, day: date) -> Select[Any]:
    return (
        select(DepositOrder)
        .where(
            DepositOrder.share_class_id == share_class_id,
            DepositOrder.status == OrderStatus.PENDING.value,
            DepositOrder.funded_day <= day,
            func.coalesce(DepositOrder.trade_day, DepositOrder.created_day) <= day,
        )
        .order_by(DepositOrder.funded_at, DepositOrder.id)
    )


def _executable_withdrawals(share_class_id: str, day: date) -> Select[Any]:
    return (
        select(WithdrawalOrder)
        .where(
            WithdrawalOrder.share_class_id == share_class_id,
            WithdrawalOrder.status == OrderStatus.PENDING.value,
            func.coalesce(WithdrawalOrder.trade_day, WithdrawalOrder.created_day) <= day,
        )
        .order_by(WithdrawalOrder.created_at, WithdrawalOrder.id)
    )


class _BatchWriter:
    """The rows a batch of executions writes, written set-wise when the batch ends.

    Each order's outcome is set on the loaded order as its database state (nothing is left for
    the session to flush) and the batch writes the orders' new state in one statement and the
    ledger rows by ``COPY`` (PostgreSQL) or ``executemany`` (SQLite), instead of one ORM object
    per movement and per-object flush bookkeeping, which grew with the session.
    """

    def __init__(self, session: Session, model: type[DepositOrder] | type[WithdrawalOrder]) -> None:
        self.session = session
        self.model = model
        self.orders: list[dict[str, Any]] = []
        self.movements: list[dict[str, Any]] = []
        self.created_at = utcnow()

    def executed(
        self,
        order: DepositOrder | WithdrawalOrder,
        *,
        shares: Decimal,
        amount: Decimal,
        nav: Decimal,
        day: date,
        when: datetime,
    ) -> None:
        values = {
            "status": OrderStatus.EXECUTED.value,
            "shares": shares,
            "amount": amount,
            "nav": nav,
            "execution_day": day,
            "executed_at": when,
        }
        for name, value in values.items():
            set_committed_value(order, name, value)
        self.orders.append({"id": order.id, **values})

    def movement(
        self,
        order: DepositOrder | WithdrawalOrder,
        share_class: ShareClass,
        *,
        kind: str,
        day: date,
        when: datetime,
        shares: Decimal,
        amount: Decimal,
        nav: Decimal,
    ) -> None:
        self.movements.append(
            {
                "id": new_id(),
                "investor_id": order.investor_id,
                "account_id": order.account_id,
                "share_class_id": share_class.id,
                "kind": kind,
                "order_id": order.id,
                "day": day,
                "executed_at": when,
                "shares": shares,
                "amount": amount,
                "nav": nav,
                "cost": None,
                "currency": share_class.currency,
                "correction_id": None,
                "created_at": self.created_at,
            }
        )

    def write(self) -> None:
        if self.orders:
            _update_orders(self.session, self.model, self.orders)
        if self.movements:
            _insert_movements(self.session, self.movements)
        self.orders, self.movements = [], []


_ORDER_UPDATE = """
    UPDATE {table} AS o SET status = u.status, shares = u.shares, amount = u.amount, nav = u.nav,
        execution_day = u.execution_day, executed_at = u.executed_at
    FROM unnest(CAST(:id AS varchar[]), CAST(:status AS varchar[]), CAST(:shares AS numeric[]),
        CAST(:amount AS numeric[]), CAST(:nav AS numeric[]), CAST(:execution_day AS date[]),
        CAST(:executed_at AS timestamptz[]))
        AS u(id, status, shares, amount, nav, execution_day, executed_at)
    WHERE o.id = u.id
"""


def _update_orders(
    session: Session, model: type[DepositOrder] | type[WithdrawalOrder], rows: list[dict[str, Any]]
) -> None:
    """Write the executed orders' new state: one statement over arrays on PostgreSQL, an
    ``executemany`` by primary key on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        columns = ("id", "status", "shares", "amount", "nav", "execution_day", "executed_at")
        session.execute(
            text(_ORDER_UPDATE.format(table=model.__tablename__)),
            {name: [row[name] for row in rows] for name in columns},
        )
        return
    statement = (
        update(model)
        .where(model.id == bindparam("order_id"))
        .values({name: bindparam(name) for name in rows[0] if name != "id"})
    )
    session.connection().execute(statement, [{**row, "order_id": row["id"]} for row in rows])


def _insert_movements(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert ledger rows: by COPY on PostgreSQL (the ledger trigger runs for each, as for an
    INSERT), by ``executemany`` on SQLite."""
    if session.get_bind().dialect.name != "postgresql":
        session.connection().execute(insert(ShareMovement), rows)
        return
    names = list(rows[0])
    table_columns = ShareMovement.__mapper__.columns
    columns = ", ".join(f'"{table_columns[name].name}"' for name in names)
    raw: Any = session.connection().connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {ShareMovement.__tablename__} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row[name] for name in names])


def _deposit_batch(session: Session, batch: Sequence[Any], nav: Decimal, day: date) -> None:
    """Execute a day's deposits at one NAV; their rows are written set-wise (``_BatchWriter``)."""
    if not batch:
        return
    when = orders.executed_at_for(session, day)  # one execution time for the batch
    writer = _BatchWriter(session, DepositOrder)
    for order in batch:
        share_class = orders.share_class(session, order.share_class_id)
        shares = deposit_shares(order, nav, share_class)
        writer.executed(order, shares=shares, amount=order.amount, nav=nav, day=day, when=when)
        snapshots.deposit_order(session, "executed", order)
        writer.movement(
            order,
            share_class,
            kind="subscription",
            day=day,
            when=when,
            shares=shares,
            amount=order.amount,
            nav=nav,
        )
    writer.write()


def _withdrawal_batch(session: Session, batch: Sequence[Any], nav: Decimal, day: date) -> None:
    """Lock the batch's accounts once and keep their balances as the orders execute, instead of
    a lock and two sums per order; the rows are written set-wise (``_BatchWriter``)."""
    if not batch:
        return
    share_class_id = batch[0].share_class_id
    account_ids = sorted({order.account_id for order in batch})
    orders.lock_accounts(session, *account_ids)
    session.flush()
    held: dict[str, Decimal] = {}
    reserved: dict[str, Decimal] = {}
    for start in range(0, len(account_ids), 500):
        chunk = account_ids[start : start + 500]
        for (account_id,), (total,) in sums.grouped_sums(
            session,
            [ShareMovement.account_id],
            [ShareMovement.shares],
            ShareMovement.account_id.in_(chunk),
            ShareMovement.share_class_id == share_class_id,
        ):
            held[account_id] = total
        for (account_id,), (total,) in sums.grouped_sums(
            session,
            [WithdrawalOrder.account_id],
            [WithdrawalOrder.reserved_shares],
            WithdrawalOrder.account_id.in_(chunk),
            WithdrawalOrder.share_class_id == share_class_id,
            WithdrawalOrder.status == OrderStatus.PENDING.value,
        ):
            reserved[account_id] = total
    zero = Decimal(0)
    when = orders.executed_at_for(session, day)
    writer = _BatchWriter(session, WithdrawalOrder)
    for order in batch:
        share_class = orders.share_class(session, order.share_class_id)
        account = order.account_id
        left = held.get(account, zero) - (reserved.get(account, zero) - order.reserved_shares)
        shares, paid = withdrawal_shares(order, nav, left, share_class)
        writer.executed(order, shares=shares, amount=paid, nav=nav, day=day, when=when)
        snapshots.withdrawal_order(session, "executed", order)
        if shares != 0:
            writer.movement(
                order,
                share_class,
                kind="redemption",
                day=day,
                when=when,
                shares=-shares,
                amount=paid,
                nav=nav,
            )
        held[account] = held.get(account, zero) - shares
        reserved[account] = reserved.get(account, zero) - order.reserved_shares
    writer.write()


# Deposits execute before withdrawals, so that a day's subscription can be redeemed the same day.
register_kind(
    OrderKind(
        "deposit",
        DepositOrder,
        _executable_deposits,
        _deposit_batch,
        lambda summary, order, share_class, nav: summary.deposits.append(
            ExecutedDeposit(order, share_class, nav)
        ),
    )
)
register_kind(
    OrderKind(
        "withdrawal",
        WithdrawalOrder,
        _executable_withdrawals,
        _withdrawal_batch,
        lambda summary, order, share_class, nav: summary.withdrawals.append(
            ExecutedWithdrawal(order, share_class, nav)
        ),
    )
)


def execute_share_class(
    session: Session, share_class: ShareClass, day: date, summary: ExecutionSummary
) -> int:
    """Execute, at the NAV of ``day``, every order of the share class executable on ``day``."""
    nav_row = reference.nav_on(session, share_class.id, day)
    has_work = any(
        session.scalar(kind.executable(share_class.id, day).with_only_columns(kind.model.id).limit(1))
        for kind in ORDER_KINDS
    )
    if not has_work:
        return 0
    if nav_row is None:
        summary.waiting_for_nav.append(share_class.symbol)
        return 0
    register.check_open(session, share_class.fund_id, day, "an execution")
    method = ExecutionMethod(share_class.fund.execution_method)
    executed = 0
    for kind in ORDER_KINDS:
        pending = session.scalars(
            kind.executable(share_class.id, day).with_for_update().execution_options(populate_existing=True)
        ).all()
        # Under unknownNAVs an order received after the NAV was published waits for the next one.
        batch = [order for order in pending if forward_priced(method, order.created_at, nav_row.created_at)]
        kind.execute_batch(session, batch, nav_row.value, day)
        for order in batch:
            kind.record(summary, order, share_class, nav_row.value)
        executed += len(batch)
        session.flush()
    return executed


def execute_orders(session: Session, day: date | None = None) -> ExecutionSummary:
    """Execute what is executable on ``day`` (default: today) at that day's NAVs."""
    today = orders.today(session)
    day = day or today
    if day > today:
        raise ApplicationError(
            f"{day.isoformat()} is after today ({today.isoformat()}); orders execute on past days only",
            "OrderInTheFuture",
        )
    for fund in reference.list_funds(session):
        register.check_open(session, fund.id, day, f"an execution of {fund.slug}")
    summary = ExecutionSummary(day)
    for share_class in reference.list_share_classes(session):
        execute_share_class(session, share_class, day, summary)
    session.flush()
    return summary
