"""Corrections: an executed order repriced by a dated reversal plus a new entry, never a rewrite.

A correction books, on an open day (today, or the next business day once today is closed), two
ledger rows carrying the correction's id: the reversal of the order's current entry (its shares
and amount, negated) and the new entry at the corrected NAV. The order keeps what it was
executed at; ``order_corrections`` records what it became.

* A **deposit** (subscription) keeps its amount: it buys ``floor(amount / NAV)`` shares at the
  corrected NAV. The account must still hold the shares a downward correction takes back.
* A **withdrawal** (redemption) is repriced by the rule it executed by
  (``services.execution.execute_withdrawal``): one by shares, or of the whole holding, keeps
  its shares and is paid ``floor(shares x NAV)``; one by amount redeems ``ceil(amount / NAV)``
  shares, capped at what the account holds when the correction is booked (its available shares
  plus those the reversal gives back), and is paid ``floor(shares x NAV)`` for them.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import DepositOrder, WithdrawalOrder
from spiko.db.models.register import OrderCorrection
from spiko.domain import nav as nav_rules
from spiko.domain import orders as rules
from spiko.domain.money import amount_for_shares, shares_for_amount, shares_to_withdraw
from spiko.errors import ApplicationError, InsufficientBalanceError, NotFoundError
from spiko.services import orders, register
from spiko.services.execution import record_movement

MAX_REASON = 500

Order = DepositOrder | WithdrawalOrder


def latest_correction(session: Session, order_id: str) -> OrderCorrection | None:
    """The order's last correction (the highest ``sequence``), None when it was never corrected."""
    return session.scalar(
        select(OrderCorrection)
        .where(OrderCorrection.order_id == order_id)
        .order_by(OrderCorrection.sequence.desc())
        .limit(1)
    )


def current_entry(session: Session, order: Order) -> tuple[Decimal, Decimal, Decimal]:
    """(shares, amount, NAV) of the order as corrected so far (as executed when never corrected)."""
    latest = latest_correction(session, order.id)
    if latest is not None:
        return latest.new_shares, latest.new_amount, latest.new_nav
    if order.shares is None or order.nav is None or order.amount is None:
        raise NotFoundError("the order has no execution to correct")
    return order.shares, order.amount, order.nav


def _find(session: Session, order_id: str) -> Order:
    if orders.looks_like_id(order_id):
        deposit = session.scalar(select(DepositOrder).where(DepositOrder.id == order_id).with_for_update())
        if deposit is not None:
            return deposit
        withdrawal = session.scalar(
            select(WithdrawalOrder).where(WithdrawalOrder.id == order_id).with_for_update()
        )
        if withdrawal is not None:
            return withdrawal
    raise NotFoundError(f"no deposit or withdrawal order {order_id}")


def correct_order(session: Session, order_id: str, *, nav: Decimal, reason: str) -> OrderCorrection:
    """Reprice an executed deposit or withdrawal at ``nav`` (see the module's rules)."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ApplicationError(f"a correction states its reason (1 to {MAX_REASON} characters)")
    order = _find(session, order_id)
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
    orders.lock_accounts(session, order.account_id)
    if isinstance(order, DepositOrder):
        kind = "deposit"
        new_shares = shares_for_amount(order.amount, new_nav, share_class.share_decimals)
        new_amount = order.amount
        left = orders.available(session, order.account_id, order.share_class_id)
        if left + new_shares - old_shares < 0:
            raise InsufficientBalanceError.shares(old_shares - new_shares, left, share_class.share_decimals)
    else:
        kind = "withdrawal"
        if old_shares == 0:
            raise ApplicationError(
                "the withdrawal redeemed no shares: nothing to correct", "NothingToCorrect"
            )
        new_shares = _withdrawal_shares(session, order, share_class, new_nav, old_shares)
        new_amount = amount_for_shares(new_shares, new_nav, share_class.currency)
    at = orders.received_at(session, day)
    previous = latest_correction(session, order.id)
    correction = OrderCorrection(
        order_id=order.id,
        order_kind=kind,
        sequence=previous.sequence + 1 if previous is not None else 1,
        share_class_id=share_class.id,
        day=day,
        reason=reason,
        old_nav=old_nav,
        new_nav=new_nav,
        old_shares=old_shares,
        new_shares=new_shares,
        old_amount=old_amount,
        new_amount=new_amount,
        created_at=at,
    )
    session.add(correction)
    session.flush()
    # Ledger signs: a subscription adds its shares, a redemption removes them; amounts are the
    # cash of the entry, positive, and negated on the reversal.
    sign = 1 if kind == "deposit" else -1
    entries = (
        (-sign * old_shares, -old_amount, old_nav),  # the reversal of the current entry
        (sign * new_shares, new_amount, new_nav),  # the new entry
    )
    for shares, amount, priced in entries:
        row = record_movement(
            session,
            investor_id=order.investor_id,
            account_id=order.account_id,
            share_class=share_class,
            kind="subscription" if kind == "deposit" else "redemption",
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


def _withdrawal_shares(
    session: Session, order: WithdrawalOrder, share_class: ShareClass, nav: Decimal, old_shares: Decimal
) -> Decimal:
    """The shares a withdrawal redeems at the corrected NAV: the same ones, unless it was by amount."""
    if order.quantity_mode != "amount" or order.requested_amount is None:
        return old_shares
    # What the account holds once the reversal gives the redeemed shares back.
    held = orders.available(session, order.account_id, order.share_class_id) + old_shares
    shares = shares_to_withdraw(
        order.requested_amount, nav, held, share_class.share_decimals, share_class.currency
    )
    return max(Decimal(0), min(shares, held))


def list_corrections(session: Session, order_id: str | None = None) -> list[OrderCorrection]:
    query = select(OrderCorrection).order_by(
        OrderCorrection.created_at, OrderCorrection.order_id, OrderCorrection.sequence
    )
    if order_id is not None:
        query = query.where(OrderCorrection.order_id == order_id)
    return list(session.scalars(query))
