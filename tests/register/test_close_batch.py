"""The close executes a day's orders as batches (set-wise writes); one order at a time gives the same.

The reference is the per-order path (``execute_deposit`` / ``execute_withdrawal``, each locking
its account and summing its balance from the ledger), run on the same pending orders in a
transaction that is rolled back; the close then executes them as batches. Orders, ledger rows,
events and stored positions must agree (execution times aside: each run takes the clock's now).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import DepositOrder, WithdrawalOrder
from spiko.db.models.reporting import DailyPosition
from spiko.db.models.webhooks import Event
from spiko.domain.orders import ExecutionMethod, forward_priced
from spiko.services import execution, orders, reference
from spiko.services.reporting import positions as store
from tests.orders.conftest import TODAY

ORDER_FIELDS = ("status", "shares", "amount", "nav", "execution_day")
TIMES = {"executedAt", "fundedAt", "createdAt"}


def _orders_state(session, ids: set[str]) -> dict[str, tuple[Any, ...]]:
    state = {}
    for model in (DepositOrder, WithdrawalOrder):
        for order in session.scalars(select(model).where(model.id.in_(ids))):
            state[order.id] = tuple(getattr(order, name) for name in ORDER_FIELDS)
    return state


def _ledger(session, ids: set[str]) -> list[tuple[Any, ...]]:
    rows = session.scalars(select(ShareMovement).where(ShareMovement.order_id.in_(ids)))
    return sorted(
        (row.order_id, row.investor_id, row.account_id, row.kind, row.day, row.shares, row.amount, row.nav)
        for row in rows
    )


def _without_times(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in TIMES}


def _per_order(world) -> tuple[dict[str, Any], list[Any], list[Any]]:
    """Execute today's EUTBL orders one at a time; return what it wrote, then roll it back."""
    with world.ctx.transaction() as session:
        share_class = reference.get_share_class(session, world.id("EUTBL"))
        nav = reference.nav_on(session, share_class.id, TODAY)
        method = ExecutionMethod(share_class.fund.execution_method)
        when = orders.executed_at_for(session, TODAY)
        ids: set[str] = set()
        for kind in execution.ORDER_KINDS:
            for order in session.scalars(kind.executable(share_class.id, TODAY)).all():
                assert forward_priced(method, order.created_at, nav.created_at)
                ids.add(order.id)
                if kind.model is DepositOrder:
                    execution.execute_deposit(session, order, nav.value, TODAY, executed_at=when)
                else:
                    execution.execute_withdrawal(session, order, nav.value, TODAY, executed_at=when)
                session.flush()  # the next order's balance sees this one's
        pending = session.info.get("spiko.pending_events", [])
        events = sorted((e.investor_id, e.type, repr(_without_times(e.data))) for e in pending)
        result = (_orders_state(session, ids), _ledger(session, ids), events)
        session.rollback()
    return result


def test_the_close_executes_a_batch_as_one_order_at_a_time_would(world, investor, cli):
    other = world.investor()
    first, second, third, fourth = (world.account(investor) for _ in range(4))
    elsewhere = world.account(other)
    bank, other_bank = world.bank_account(investor), world.bank_account(other)
    world.publish("EUTBL", TODAY, "1.045300")
    for account, value in ((first, "10000.00"), (second, "5000.00"), (third, "3000.00")):
        world.invest(investor, account, value)
    world.invest(other, elsewhere, "7000.00")
    # Today's pending orders: deposits on a new and a holding account; two withdrawals of one
    # account (the second sees what the first left), one of everything, one of a whole value,
    # and one of another investor.
    for account, value in ((fourth, "2000.00"), (first, "1500.00")):
        created = world.deposit(investor, account, value).json()
        world.fund(created["wireInstructions"]["reference"])
    withdrawals = [
        (investor, first, bank, {"mode": "shares", "shares": "100"}),
        (investor, first, bank, {"mode": "amount", "amount": {"value": "500.00", "currency": "EUR"}}),
        (investor, second, bank, {"mode": "total"}),
        (investor, third, bank, {"mode": "amount", "amount": {"value": "2999.99", "currency": "EUR"}}),
        (other, elsewhere, other_bank, {"mode": "shares", "shares": "1234.56789"}),
    ]
    for who, account, to, quantity in withdrawals:
        response = world.withdraw(who, account, to, quantity)
        assert response.status_code == 200, response.text
    world.publish("USTBL", TODAY, "1.062100")
    world.publish("UKTBL", TODAY, "1.000000")

    expected_orders, expected_ledger, expected_events = _per_order(world)
    assert len(expected_orders) == 7 and len(expected_ledger) == 7

    code, summary, err = cli("close-day")
    assert code == 0, err
    eutbl = next(f for f in summary["funds"] if f["fund"] == "EUTBL")
    assert eutbl["depositsExecuted"] == 2 and eutbl["withdrawalsExecuted"] == 5
    with world.ctx.transaction(write=False) as session:
        ids = set(expected_orders)
        assert _orders_state(session, ids) == expected_orders
        assert _ledger(session, ids) == expected_ledger
        # The orders' events, with the bodies the per-order path gave them (times aside).
        rows = session.scalars(
            select(Event).where(Event.type.in_(("deposit_order.executed", "withdrawal_order.executed")))
        )
        executed = sorted(
            (e.investor_id, e.type, repr(_without_times(e.data))) for e in rows if e.data["id"] in ids
        )
        assert executed == expected_events
        # Each investor's events are numbered 1, 2, ... without gaps.
        for who in (investor, other):
            query = select(Event.sequence).where(Event.investor_id == who.investor_id)
            numbers = sorted(session.scalars(query))
            assert numbers == list(range(1, len(numbers) + 1))
        # The withdrawals of everything emptied their accounts.
        for account in (second, third):
            assert orders.holdings(session, account, world.id("EUTBL")) == Decimal(0)
    # The positions the close stored equal the ledger rolled forward.
    columns = [attr.key for attr in DailyPosition.__mapper__.column_attrs]
    with world.ctx.transaction() as session:
        share_class = reference.get_share_class(session, world.id("EUTBL"))
        for account in (first, second, third, fourth, elsewhere):
            query = select(DailyPosition).where(DailyPosition.account_id == account)
            booked = {row.day: {c: getattr(row, c) for c in columns} for row in session.scalars(query)}
            assert max(booked) == TODAY
            store.invalidate(session, account, share_class.id, TODAY - timedelta(days=30))
            store.materialize(session, account, share_class, through=TODAY)
            rolled = {row.day: {c: getattr(row, c) for c in columns} for row in session.scalars(query)}
            assert booked == rolled
        session.rollback()
    assert date.fromisoformat(summary["day"]) == TODAY
