"""Corrections: an executed order repriced by a dated reversal plus a new entry, never a rewrite.

A correction books, on an open day (today, or the next business day once today is closed), two
ledger rows carrying the correction's id: the reversal of the order's current entry (its shares
and amount, negated) and the new entry at the corrected NAV. The order keeps what it was
executed at; ``order_corrections`` records what it became. Subscriptions (executed deposits) can
be corrected; the account must still hold the shares a downward correction takes back.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.orders import DepositOrder
from spiko.db.models.register import OrderCorrection
from spiko.domain import nav as nav_rules
from spiko.domain import orders as rules
from spiko.domain.money import shares_for_amount
from spiko.errors import ApplicationError, InsufficientBalanceError, NotFoundError
from spiko.services import orders, register
from spiko.services.execution import record_movement

MAX_REASON = 500


def current_entry(session: Session, order: DepositOrder) -> tuple[Decimal, Decimal, Decimal]:
    """(shares, amount, NAV) of the order as corrected so far (as executed when never corrected)."""
    latest = session.scalar(
        select(OrderCorrection)
        .where(OrderCorrection.order_id == order.id)
        .order_by(OrderCorrection.created_at.desc(), OrderCorrection.id.desc())
        .limit(1)
    )
    if latest is not None:
        return latest.new_shares, latest.new_amount, latest.new_nav
    if order.shares is None or order.nav is None:
        raise NotFoundError("the order has no execution to correct")
    return order.shares, order.amount, order.nav


def correct_deposit(session: Session, order_id: str, *, nav: Decimal, reason: str) -> OrderCorrection:
    """Reprice an executed deposit at ``nav``: its amount buys ``floor(amount / nav)`` shares."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ApplicationError(f"a correction states its reason (1 to {MAX_REASON} characters)")
    order = (
        session.scalar(select(DepositOrder).where(DepositOrder.id == order_id).with_for_update())
        if orders.looks_like_id(order_id)
        else None
    )
    if order is None:
        raise NotFoundError(f"no deposit order {order_id}")
    share_class = orders.share_class(session, order.share_class_id)
    day = register.booking_day(session, share_class.fund_id)
    with register.enforced():
        rules.check_correction(
            rules.OrderStatus(order.status),
            order.execution_day,
            day,
            register.closed_through(session, share_class.fund_id),
        )
    try:
        new_nav = nav_rules.check_nav_value(nav, share_class.nav_decimals)
    except nav_rules.InvalidValueError as error:
        raise ApplicationError(str(error), "InvalidNetAssetValue") from error
    old_shares, old_amount, old_nav = current_entry(session, order)
    if new_nav == old_nav:
        raise ApplicationError(f"the order is already priced at {old_nav.normalize()}", "NothingToCorrect")
    new_shares = shares_for_amount(order.amount, new_nav, share_class.share_decimals)
    orders.lock_accounts(session, order.account_id)
    left = orders.available(session, order.account_id, order.share_class_id)
    if left + new_shares - old_shares < 0:
        raise InsufficientBalanceError.shares(old_shares - new_shares, left, share_class.share_decimals)
    at = orders.received_at(session, day)
    correction = OrderCorrection(
        order_id=order.id,
        order_kind="deposit",
        share_class_id=share_class.id,
        day=day,
        reason=reason,
        old_nav=old_nav,
        new_nav=new_nav,
        old_shares=old_shares,
        new_shares=new_shares,
        old_amount=old_amount,
        new_amount=order.amount,
        created_at=at,
    )
    session.add(correction)
    session.flush()
    for shares, amount, priced in ((-old_shares, -old_amount, old_nav), (new_shares, order.amount, new_nav)):
        row = record_movement(
            session,
            investor_id=order.investor_id,
            account_id=order.account_id,
            share_class=share_class,
            kind="subscription",
            order_id=order.id,
            day=day,
            executed_at=at,
            shares=shares,
            amount=amount,
            nav=priced,
        )
        row.correction_id = correction.id
    session.flush()
    return correction


def list_corrections(session: Session, order_id: str | None = None) -> list[OrderCorrection]:
    query = select(OrderCorrection).order_by(OrderCorrection.created_at, OrderCorrection.id)
    if order_id is not None:
        query = query.where(OrderCorrection.order_id == order_id)
    return list(session.scalars(query))
