"""When a pending order is expected to trade, and at which NAV: what the investor app shows.

The trade day is the engine's (``services.register.trade_day``: the fund's cut-off, timezone,
calendar, closed days and execution method), stored on each order when it is received; a new
order's is what the engine would give it if it were received now. Until that day's NAV is
published, the amount is an estimate at the latest one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import Account, DepositOrder, WithdrawalOrder
from spiko.domain.money import withdrawal_estimate
from spiko.services import clock, orders, reference, register


def trade_day_now(session: Session, share_class: ShareClass) -> date:
    """The day an order of this share class received now would trade on."""
    return register.trade_day(session, share_class, orders.received_at(session))


@dataclass(frozen=True)
class Estimate:
    """A pending order's expected trade day, the NAV known today and what it would be worth at it.

    ``trade_day`` is the day the order trades on (a deposit: if its wire has arrived by then; it
    trades on the first later business day its wire has arrived by, otherwise).
    """

    trade_day: date | None
    nav: Decimal | None
    nav_day: date | None
    amount: Decimal | None


def _latest(session: Session, share_class: ShareClass) -> tuple[Decimal | None, date | None]:
    latest = reference.latest_nav(session, share_class.id, on_or_before=clock.today(session))
    return (latest.value, latest.day) if latest else (None, None)


def deposit(session: Session, order: DepositOrder) -> Estimate:
    share_class = orders.share_class(session, order.share_class_id)
    nav, nav_day = _latest(session, share_class)
    return Estimate(order.trade_day or order.created_day, nav, nav_day, order.amount)


def withdrawal(session: Session, order: WithdrawalOrder) -> Estimate:
    share_class = orders.share_class(session, order.share_class_id)
    nav, nav_day = _latest(session, share_class)
    day = order.trade_day or order.created_day
    amount = None
    if nav is not None:
        reserved = order.requested_shares if order.requested_shares is not None else order.reserved_shares
        amount = withdrawal_estimate(
            order.quantity_mode,
            nav,
            order.currency,
            share_class.share_decimals,
            amount=order.requested_amount,
            shares=reserved,
        )
    return Estimate(day, nav, nav_day, amount)


def new_withdrawal(
    session: Session,
    *,
    account_id: str,
    investor_id: str,
    share_class: ShareClass,
    mode: str,
    amount: Decimal | None,
    shares: Decimal | None,
) -> Estimate:
    """What a withdrawal placed now would trade at (before it is placed: its confirmation step)."""
    orders.owned(session, Account, account_id, investor_id, "Account")
    nav, nav_day = _latest(session, share_class)
    day = trade_day_now(session, share_class)
    available = orders.available(session, account_id, share_class.id)
    if nav is None:
        return Estimate(day, None, None, None)
    if mode == "amount" and amount is not None:
        return Estimate(day, nav, nav_day, amount)
    wanted = shares if mode == "shares" and shares is not None else available
    value = withdrawal_estimate(
        "shares", nav, share_class.currency, share_class.share_decimals, amount=None, shares=wanted
    )
    return Estimate(day, nav, nav_day, value)
