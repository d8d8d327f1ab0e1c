"""Withdrawal orders: shares out, paid to one of the investor's bank accounts.

At creation the request is checked against the account's *available* balance (holding minus
the shares reserved by its other pending withdrawals) under a row lock on the account, and the
order reserves what it needs: the shares asked for, every available share (``total``), or the
shares worth the amount at the latest NAV, rounded up. Execution prices it at the NAV of the
execution day (``services.execution``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import Account, WithdrawalOrder
from spiko.domain.money import (
    amount_for_shares,
    decimals_of,
    format_amount,
    minor_units,
    shares_to_withdraw,
)
from spiko.errors import (
    ApplicationError,
    BadRequestError,
    ForbiddenError,
    InsufficientBalanceError,
    NotFoundError,
    ServiceUnavailableError,
)
from spiko.outbox import snapshots
from spiko.services import bank_accounts, orders, reference, register

WITHDRAWAL_STATUSES = ("pending", "executed", "canceled")
QUANTITY_MODES = ("amount", "shares", "total")
DESTINATION_TYPES = ("bank-transfer", "instant-bank-transfer")


def create_withdrawal(
    session: Session,
    *,
    investor_id: str,
    account_id: str,
    share_class_id: str,
    bank_account_id: str,
    mode: str,
    amount: Decimal | None = None,
    currency: str | None = None,
    shares: Decimal | None = None,
    destination_type: str = "bank-transfer",
    origin: str = "withdrawal",
    day: date | None = None,
) -> WithdrawalOrder:
    account = orders.owned(session, Account, account_id, investor_id, "Account")
    share_class = orders.share_class(session, share_class_id)
    bank_accounts.withdrawal_destination(session, bank_account_id, investor_id)
    if mode not in QUANTITY_MODES:
        raise BadRequestError(f"unknown quantity mode {mode!r}")
    if destination_type not in DESTINATION_TYPES:
        raise BadRequestError(f"withdrawals cannot be paid by {destination_type}")
    today = day or orders.today(session)
    received_at = orders.received_at(session, today)
    orders.lock_accounts(session, account.id)
    available = orders.available(session, account.id, share_class.id)
    latest = reference.latest_nav(session, share_class.id, on_or_before=today)
    requested_amount: Decimal | None = None
    requested_shares: Decimal | None = None
    if mode == "amount":
        if amount is None or currency is None:
            raise BadRequestError("a withdrawal by amount needs an amount and its currency")
        requested_amount = amount
        reserve = _reserve_for_amount(
            share_class, available, latest.value if latest else None, amount, currency
        )
    elif mode == "shares":
        if shares is None:
            raise BadRequestError("a withdrawal by shares needs a number of shares")
        requested_shares = shares
        reserve = _reserve_for_shares(share_class, available, latest.value if latest else None, shares)
    else:
        if available <= 0:
            raise InsufficientBalanceError.empty_account()
        reserve = available
    order = WithdrawalOrder(
        investor_id=investor_id,
        account_id=account.id,
        share_class_id=share_class.id,
        bank_account_id=bank_account_id,
        destination_type=destination_type,
        origin=origin,
        quantity_mode=mode,
        requested_amount=requested_amount,
        requested_shares=requested_shares,
        currency=share_class.currency,
        reserved_shares=reserve,
        status="pending",
        created_at=received_at,
        created_day=today,
        trade_day=register.trade_day(session, share_class, received_at),
    )
    session.add(order)
    session.flush()
    snapshots.withdrawal_order(session, "created", order)
    return order


def _reserve_for_amount(
    share_class: ShareClass, available: Decimal, nav: Decimal | None, amount: Decimal, currency: str
) -> Decimal:
    if currency != share_class.currency:
        raise ApplicationError(
            f"{share_class.symbol} pays withdrawals in {share_class.currency}, not {currency}",
            "CurrencyNotSupported",
        )
    if decimals_of(amount) > minor_units(currency):
        raise BadRequestError(f"a {currency} amount has at most {minor_units(currency)} decimals")
    if amount <= 0:
        raise BadRequestError("the amount to withdraw must be positive")
    if available <= 0:
        raise InsufficientBalanceError.empty_account()
    if nav is None:
        raise ServiceUnavailableError(f"no NAV of {share_class.symbol} is published yet; retry later")
    worth = amount_for_shares(available, nav, currency)
    if amount > worth:
        raise InsufficientBalanceError.amount(amount, worth, currency)
    if amount < share_class.minimum_withdrawal and amount != worth:
        raise BadRequestError(
            f"a withdrawal from {share_class.symbol} is at least "
            f"{format_amount(share_class.minimum_withdrawal, currency)} {currency} (or everything)"
        )
    return shares_to_withdraw(amount, nav, available, share_class.share_decimals, currency)


def _reserve_for_shares(
    share_class: ShareClass, available: Decimal, nav: Decimal | None, shares: Decimal
) -> Decimal:
    decimals = share_class.share_decimals
    if decimals_of(shares) > decimals:
        raise BadRequestError(f"{share_class.symbol} shares have at most {decimals} decimals")
    if shares <= 0:
        raise BadRequestError("the number of shares to withdraw must be positive")
    if available <= 0:
        raise InsufficientBalanceError.empty_account()
    if shares > available:
        raise InsufficientBalanceError.shares(shares, available, decimals)
    if nav is not None and shares != available:
        worth = amount_for_shares(shares, nav, share_class.currency)
        if worth < share_class.minimum_withdrawal:
            raise BadRequestError(
                f"a withdrawal from {share_class.symbol} is worth at least "
                f"{format_amount(share_class.minimum_withdrawal, share_class.currency)} "
                f"{share_class.currency} (or everything); these shares are worth {worth}"
            )
    return shares


def create_instant_redemption(
    session: Session,
    *,
    investor_id: str,
    investor_type: str,
    account_id: str,
    share_class_id: str,
    bank_account_id: str,
    amount: Decimal,
    currency: str,
) -> WithdrawalOrder:
    """An amount paid at once, priced at the latest published NAV (organizations only), booked on
    the day it happens (the next business day once that day is closed)."""
    from spiko.services import execution

    if investor_type != "organization":
        raise ForbiddenError("instant redemptions are available to organizations only")
    order = create_withdrawal(
        session,
        investor_id=investor_id,
        account_id=account_id,
        share_class_id=share_class_id,
        bank_account_id=bank_account_id,
        mode="amount",
        amount=amount,
        currency=currency,
        destination_type="instant-bank-transfer",
        origin="instant-redemption",
    )
    share_class = orders.share_class(session, order.share_class_id)
    booked_on = register.booking_day(session, share_class.fund_id, order.created_day)
    latest = reference.latest_nav(session, order.share_class_id, on_or_before=booked_on)
    if latest is None:
        raise ServiceUnavailableError("no NAV is published yet; retry later")
    order.trade_day = booked_on
    execution.execute_withdrawal(session, order, latest.value, booked_on, executed_at=order.created_at)
    return order


def list_withdrawals(
    session: Session, investor_id: str, status: str | None = None, *, origins: tuple[str, ...] | None = None
) -> list[WithdrawalOrder]:
    query = select(WithdrawalOrder).where(WithdrawalOrder.investor_id == investor_id)
    if status is not None:
        query = query.where(WithdrawalOrder.status == status)
    if origins is not None:
        query = query.where(WithdrawalOrder.origin.in_(origins))
    return list(session.scalars(query.order_by(WithdrawalOrder.created_at.desc(), WithdrawalOrder.id)))


def get_withdrawal(session: Session, withdrawal_id: str, investor_id: str) -> WithdrawalOrder:
    return orders.owned(session, WithdrawalOrder, withdrawal_id, investor_id, "Withdrawal order")


def cancel_withdrawal(session: Session, withdrawal_id: str, investor_id: str) -> WithdrawalOrder:
    get_withdrawal(session, withdrawal_id, investor_id)
    # Row-locked and re-read: an execution may have changed it while this request waited.
    order = session.scalar(
        select(WithdrawalOrder)
        .where(WithdrawalOrder.id == withdrawal_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFoundError("Withdrawal order not found")
    if order.status != "pending":
        raise BadRequestError(f"the withdrawal order is {order.status}; only pending orders can be canceled")
    order.status = "canceled"
    order.canceled_at = orders.received_at(session)
    session.flush()
    snapshots.withdrawal_order(session, "canceled", order)
    return order
