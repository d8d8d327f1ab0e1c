"""When a pending order is expected to trade, and at which NAV: what the investor app shows.

The engine executes an order at the NAV of the first business day of its fund on which the
order is executable and whose NAV is not yet published when the order arrives: the day it was
placed (or funded, for a deposit) if that day's NAV is still to come, else the next business
day. Until that NAV is published the amount is an estimate at the latest one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import Account, DepositOrder, WithdrawalOrder
from spiko.domain.money import withdrawal_estimate
from spiko.services import clock, orders, reference


def trade_day(session: Session, share_class: ShareClass, arrival_day: date) -> date:
    """The day whose NAV prices an order that becomes executable on ``arrival_day``."""
    if reference.is_business_day(session, share_class.fund_id, arrival_day) and (
        reference.nav_on(session, share_class.id, arrival_day) is None
    ):
        return arrival_day
    return reference.next_business_day(session, share_class.fund_id, arrival_day)


@dataclass(frozen=True)
class Estimate:
    """A pending order's expected trade day, the NAV known today and what it would be worth at it.

    ``trade_day`` is None for a deposit whose wire has not arrived (it trades once funded).
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
    day = trade_day(session, share_class, order.funded_day) if order.funded_day else None
    return Estimate(day, nav, nav_day, order.amount)


def withdrawal(session: Session, order: WithdrawalOrder) -> Estimate:
    share_class = orders.share_class(session, order.share_class_id)
    nav, nav_day = _latest(session, share_class)
    day = trade_day(session, share_class, max(order.created_day, clock.today(session)))
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
    day = trade_day(session, share_class, clock.today(session))
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
